// End to end (a): real Chromium → gateway → echo line (*43) → back. The fake microphone plays a
// 1 kHz sine; the remote audio must carry it back, and RTP must flow both ways.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import { callState, dial, e2eConfig, hangUp, openPage, signIn, startGateway, waitForPackets, waitForTone } from './helpers.js';

declare const window: any; // page.evaluate() code runs in Chromium (no DOM lib in this project)
declare const document: any;

describe('e2e: browser echo test', () => {
  let dir: string;
  let gateway: Gateway;
  let browser: BrowserHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-echo-'));
    const wav = writeSineWav({ freqHz: 1000, seconds: 20, sampleRate: 48000, amplitude: 0.5 }, dir);
    gateway = await startGateway(await e2eConfig());
    browser = await launchBrowser({ fakeAudioWav: wav });
    await openPage(browser.page, gateway.httpUrl);
    expect(await browser.page.evaluate(() => window.softphone.state())).toBe('signed-out');
    await signIn(browser.page, 'alice', 'alice');
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in, dials *43, hears its own 1 kHz tone, hangs up cleanly', async () => {
    const { page } = browser;
    expect(await page.textContent('#reg-state')).toBe('Registered as alice@127.0.0.1');

    expect(await dial(page, '*43')).toBe('in-call');
    await expect(page.textContent('#call-state')).resolves.toContain('In call');

    const stats = await waitForPackets(page, 100);
    expect(stats.packetsSent).toBeGreaterThanOrEqual(100);
    expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);

    const tone = await waitForTone(page, 1000, 3300);
    expect(tone.level).toBeGreaterThan(5 * tone.other);

    // The timer runs while in call.
    await page.waitForFunction(() => /\d+:\d\d/.test(document.getElementById('call-timer')?.textContent ?? ''));

    expect(await hangUp(page)).toBe('Hung up');
    expect(await callState(page)).toEqual({ state: 'ended', reason: 'Hung up' });
    await expect(page.textContent('#call-state')).resolves.toContain('Call ended: Hung up');
    await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });

  it('shows the reason when the gateway has no route for the number', async () => {
    const { page } = browser;
    // The default dial plan routes only *43 / echo: anything else must fail with 404.
    expect(await dial(page, '5550000', 'ended')).toBe('ended No route (404)');
    // In people's words; the SIP code only in the details line (web/words.js).
    await expect(page.textContent('#call-state')).resolves.toBe('Number not in service');
    await expect(page.textContent('#call-detail')).resolves.toBe('SIP 404 No Route');
  });

  it('shows why sign-in failed when the password is wrong', async () => {
    const page = await browser.context.newPage();
    try {
      await openPage(page, gateway.httpUrl);
      await expect(signIn(page, 'bob', 'not-bobs-password')).rejects.toThrow(/sign-in failed: /);
      expect(await page.textContent('#reg-state')).toMatch(/^Registration failed: (Wrong user or password|Forbidden) \(40[13]\)$/);
      expect(await page.isVisible('#signin')).toBe(true);
    } finally {
      await page.close();
    }
  });
});
