// The test bed of the end-to-end tests with one far phone (midcall*, phone, dtmf, page-controls ...): baresip as the trunk's far end
// (account NUMBER, auto-answer, 440 Hz), a gateway routing numbers to it with its debug log kept for
// diagnostics, and Chromium (1000 Hz microphone) signed in as alice. Media is counted at both ends while
// the call is up: the page's getStats (remoteStats) and baresip's own RTP counters (ctrl_tcp audio_debug).
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
import { STEP_TIMEOUT, dial, e2eConfig, openPage, signIn, startGateway, type Hook } from './helpers.js';

/** baresip's account: it answers INVITEs to this user. */
export const NUMBER = '5551234';
/** Growth each counter must show for audio to count as flowing (1 s of 20 ms packets). */
export const FLOWING = 50;

declare const window: { softphone: Hook };

export interface Counts {
  pageSent: number;
  pageReceived: number;
  farSent: number;
  farReceived: number;
  /** The direction baresip applies (sendrecv, sendonly, recvonly, inactive). */
  farDir: string;
}
export type Growth = Omit<Counts, 'farDir'>;

const NOTHING: Counts = { pageSent: 0, pageReceived: 0, farSent: 0, farReceived: 0, farDir: '' };

export async function counts(page: Page, far: BaresipHandle): Promise<Counts> {
  const [p, b] = await Promise.all([page.evaluate(() => window.softphone.remoteStats()), far.liveAudio()]);
  return { pageSent: p.packetsSent, pageReceived: p.packetsReceived, farSent: b.txPackets, farReceived: b.rxPackets, farDir: b.dir };
}

export function growth(after: Counts, before: Counts): Growth {
  return {
    pageSent: after.pageSent - before.pageSent,
    pageReceived: after.pageReceived - before.pageReceived,
    farSent: after.farSent - before.farSent,
    farReceived: after.farReceived - before.farReceived,
  };
}

/** Waits until every counter has grown by `min` since `since` (audio both ways, counted at both ends). */
export async function waitFlowing(page: Page, far: BaresipHandle, since: Counts = NOTHING, min = FLOWING): Promise<Counts> {
  let last = since;
  await vi.waitFor(
    async () => {
      last = await counts(page, far);
      const d = growth(last, since);
      expect(Math.min(d.pageSent, d.pageReceived, d.farSent, d.farReceived), JSON.stringify(d)).toBeGreaterThanOrEqual(min);
    },
    { timeout: STEP_TIMEOUT, interval: 250 },
  );
  return last;
}

/** SIP requests baresip received (from its SIP trace, -s) after `offset` of its output: method and
 *  header lines. */
export function requestsToFar(far: BaresipHandle, offset: number): Array<{ method: string; text: string }> {
  const out = far.output().slice(offset);
  const re = new RegExp(`(?:UDP|TCP) \\S+ -> \\S+:${far.sipPort}\\r?\\n([A-Z]+) sip:[^\\r\\n]*\\r?\\n([\\s\\S]*?)\\r?\\n\\r?\\n`, 'g');
  return [...out.matchAll(re)].map((m) => ({ method: m[1]!, text: m[2]! }));
}

export interface MidcallRig {
  baresip: BaresipHandle;
  browser: BrowserHandle;
  gateway: Gateway;
  config: GatewayConfig;
  /** The gateway's debug log, one JSON line each. */
  gatewayLog: string[];
  /** alice's first page, signed in. */
  page: Page;
  /** Gateway log, baresip output and page console tails, for a failing step's message. */
  diagnostics(): string;
  /** Dials baresip from `page`; resolves once audio flows both ways (baresip's event index before). */
  callFar(page: Page): Promise<{ from: number }>;
  stop(): Promise<void>;
}

export interface RigOptions {
  /** Config on top of e2eConfig's and the trunk/route to baresip (validated). */
  patch?: Partial<Record<keyof GatewayConfig, unknown>>;
  /** Changes to the parsed config (values a config file may not hold, e.g. a 4 s session interval). */
  adjust?: (config: GatewayConfig) => void;
  /** A script run in every page before its own (Playwright addInitScript). */
  initScript?: string;
}

export async function startRig(opts: RigOptions = {}): Promise<MidcallRig> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-midcall-'));
  const farTone = writeSineWav({ freqHz: 440, seconds: 120, sampleRate: 8000, amplitude: 0.5 }, dir);
  const micTone = writeSineWav({ freqHz: 1000, seconds: 30, sampleRate: 48000, amplitude: 0.5 }, dir);
  const gatewayLog: string[] = [];
  const parts: Partial<Pick<MidcallRig, 'baresip' | 'browser' | 'gateway'>> = {};
  const stop = async (): Promise<void> => {
    // Each step runs even when an earlier one throws: no peer may outlive the file.
    const steps = [() => parts.browser?.close(), () => parts.gateway?.stop(), () => parts.baresip?.stop()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const baresip = (parts.baresip = await startBaresip({ sourceWav: farTone, user: NUMBER, rtpPorts: [31000, 31999] }));
    const config = await e2eConfig({
      trunks: [{ name: 'far', uri: `${baresip.trunkUri};transport=udp`, keepalive: false }],
      routes: [{ match: '^[0-9]{3,15}$', trunk: 'far' }],
      ...opts.patch,
    });
    opts.adjust?.(config);
    const gateway = (parts.gateway = await startGateway(config, gatewayLog));
    const browser = (parts.browser = await launchBrowser({ fakeAudioWav: micTone }));
    if (opts.initScript) await browser.context.addInitScript(opts.initScript);
    const page = browser.page;
    await openPage(page, gateway.httpUrl);
    await signIn(page, 'alice', 'alice');
    const diagnostics = (): string =>
      [
        '--- gateway log (tail) ---',
        ...gatewayLog.slice(-60),
        '--- baresip output (tail) ---',
        baresip.output().slice(-4000),
        '--- page console (tail) ---',
        ...browser.consoleLines.slice(-40),
      ].join('\n');
    const callFar = async (p: Page): Promise<{ from: number }> => {
      const from = baresip.events.length;
      expect(await dial(p, NUMBER)).toBe('in-call');
      await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
      await waitFlowing(p, baresip);
      return { from };
    };
    return { baresip, browser, gateway, config, gatewayLog, page, diagnostics, callFar, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
