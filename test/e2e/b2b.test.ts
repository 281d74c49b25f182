// End to end (issue 3): browser to browser through the gateway. Alice (one Chromium, its fake
// microphone a 1000 Hz tone) dials bob's extension; bob (another Chromium, 600 Hz) rings, sees
// alice calling and accepts. Each hears the other's tone over the gateway's relay (both legs
// WebRTC); alice's hang-up ends bob's call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import {
  STEP_TIMEOUT,
  dial,
  e2eConfig,
  hangUp,
  openPage,
  signIn,
  startGateway,
  waitForEnded,
  waitForIncoming,
  waitForPackets,
  waitForTone,
} from './helpers.js';

const BOB_EXTENSION = '1002'; // sip-config/gateway.yaml: alice 1001, bob 1002

describe('e2e: browser to browser', () => {
  let dir: string;
  let gateway: Gateway;
  let alice: BrowserHandle;
  let bob: BrowserHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-b2b-'));
    const aliceMic = writeSineWav({ freqHz: 1000, seconds: 20, sampleRate: 48000, amplitude: 0.5 }, dir);
    const bobMic = writeSineWav({ freqHz: 600, seconds: 20, sampleRate: 48000, amplitude: 0.5 }, dir);
    gateway = await startGateway(await e2eConfig());
    [alice, bob] = await Promise.all([launchBrowser({ fakeAudioWav: aliceMic }), launchBrowser({ fakeAudioWav: bobMic })]);
    for (const [handle, user] of [[alice, 'alice'], [bob, 'bob']] as const) {
      await openPage(handle.page, gateway.httpUrl);
      await signIn(handle.page, user, user);
    }
  });

  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('alice dials bob’s extension; bob rings, accepts; each hears the other; alice’s hang-up ends bob', async () => {
    expect(await dial(alice.page, BOB_EXTENSION, 'ringing')).toBe('ringing');
    const ring = await waitForIncoming(bob.page);
    // Caller ID of a user-to-user call: the caller's extension, her name as the display name.
    expect(ring).toMatchObject({ from: '1001', displayName: 'alice', ringing: true });

    await bob.page.click('#accept-btn');
    for (const { page } of [alice, bob]) {
      await page.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });
    }
    for (const { page } of [alice, bob]) {
      const stats = await waitForPackets(page, 100);
      expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);
      expect(stats.packetsSent).toBeGreaterThanOrEqual(100);
    }
    const heardByAlice = await waitForTone(alice.page, 600, 1000);
    expect(heardByAlice.level).toBeGreaterThan(5 * heardByAlice.other);
    const heardByBob = await waitForTone(bob.page, 1000, 600);
    expect(heardByBob.level).toBeGreaterThan(5 * heardByBob.other);

    expect(await hangUp(alice.page)).toBe('Hung up');
    expect(await waitForEnded(bob.page)).toBe('Remote party hung up');
    expect(await bob.page.evaluate(() => window.softphone.lastIncomingEnd())).toBe('ended');
    await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });
});

declare const window: { softphone: { callState(): string; lastIncomingEnd(): string | null } };
