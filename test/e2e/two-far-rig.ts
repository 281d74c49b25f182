// The test bed of the end-to-end tests with two far ends (lines-waiting.test.ts, transfer.test.ts):
// baresip "far" (auto-answer, 440 Hz) and a second baresip (660 Hz) each behind a trunk of its own, a
// gateway with its debug log kept for diagnostics, and Chromium (1000 Hz microphone) signed in as alice.
// Addresses: 127.0.0.1 throughout (baresip's RTP leaves from it), private network namespace per run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { GatewayConfig } from '../../gateway/config/schema.js';
import { startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import { STEP_TIMEOUT, e2eConfig, openPage, signIn, startGateway } from './helpers.js';

export interface TwoFarRig {
  /** baresip at 440 Hz, RTP ports 31000-31499. */
  far: BaresipHandle;
  /** baresip at 660 Hz, RTP ports 31500-31999. */
  second: BaresipHandle;
  gateway: Gateway;
  config: GatewayConfig;
  browser: BrowserHandle;
  /** alice's page, signed in. */
  page: Page;
  /** The gateway's debug log, one JSON line each. */
  gatewayLog: string[];
  /** Gateway log, both baresips' output and page console tails, for a failing step's message. */
  diagnostics(): string;
  stop(): Promise<void>;
}

export interface TwoFarOptions {
  /** Prefix of the temporary folder holding the tones. */
  tmpPrefix: string;
  far: { user: string };
  /** `label` names it in the diagnostics. */
  second: { user: string; label: string; displayName?: string };
  /** Config on top of e2eConfig's (trunks, routes, users), given both baresips. */
  patch(far: BaresipHandle, second: BaresipHandle): Partial<Record<keyof GatewayConfig, unknown>>;
}

export async function startTwoFarRig(opts: TwoFarOptions): Promise<TwoFarRig> {
  const dir = mkdtempSync(join(tmpdir(), opts.tmpPrefix));
  const gatewayLog: string[] = [];
  const parts: Partial<Pick<TwoFarRig, 'far' | 'second' | 'gateway' | 'browser'>> = {};
  const stop = async (): Promise<void> => {
    // Each step runs even when an earlier one throws: no peer may outlive the file.
    const steps = [() => parts.browser?.close(), () => parts.gateway?.stop(), () => parts.far?.stop(), () => parts.second?.stop()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const farTone = writeSineWav({ freqHz: 440, seconds: 120, sampleRate: 8000, amplitude: 0.5 }, dir);
    const secondTone = writeSineWav({ freqHz: 660, seconds: 120, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: 1000, seconds: 60, sampleRate: 48000, amplitude: 0.5 }, dir);
    const far = (parts.far = await startBaresip({ sourceWav: farTone, user: opts.far.user, rtpPorts: [31000, 31499] }));
    const { user, displayName } = opts.second;
    const second = (parts.second = await startBaresip({ sourceWav: secondTone, user, ...(displayName ? { displayName } : {}), rtpPorts: [31500, 31999] }));
    const config = await e2eConfig(opts.patch(far, second));
    const gateway = (parts.gateway = await startGateway(config, gatewayLog));
    const browser = (parts.browser = await launchBrowser({ fakeAudioWav: micTone }));
    const page = browser.page;
    await openPage(page, gateway.httpUrl);
    await signIn(page, 'alice', 'alice');
    const diagnostics = (): string =>
      ['--- gateway log (tail) ---', ...gatewayLog.slice(-80), '--- far ---', far.output().slice(-3000), `--- ${opts.second.label} ---`, second.output().slice(-3000),
        '--- page console ---', ...browser.consoleLines.slice(-40)].join('\n');
    return { far, second, gateway, config, browser, page, gatewayLog, diagnostics, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until baresip applies the media direction `dir` (sendrecv, recvonly, ...). */
export async function waitDir(b: BaresipHandle, dir: string): Promise<void> {
  await vi.waitFor(async () => expect((await b.liveAudio()).dir).toBe(dir), { timeout: STEP_TIMEOUT, interval: 200 });
}
