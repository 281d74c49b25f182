// End to end (issue 3): a call in from the trunk rings the browser. baresip stands as the carrier (a
// configured trunk: its source address is the trunk's) and dials alice's DID, playing 440 Hz. Alice
// is signed in on two pages (two tabs of one Chromium, each its own SIP stack and registration):
// both ring with the caller ID; one accepts and hears the tone; the other shows "answered
// elsewhere", not a missed call. When the caller gives up first, both show a missed call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import {
  STEP_TIMEOUT,
  callState,
  defaultUsers,
  e2eConfig,
  hangUp,
  missedCalls,
  openPage,
  resetPage,
  signIn,
  sipUdpPort,
  startGateway,
  waitForIncoming,
  waitForIncomingEnd,
  waitForPackets,
  waitForTone,
} from './helpers.js';

const DID = '5550001';
const CALLER = '5557777';
const CALLER_NAME = 'Carrier Caller';

describe('e2e: a call in from the trunk rings every page of the user', () => {
  let dir: string;
  let baresip: BaresipHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;
  let pages: [Page, Page];
  let didUri: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-inbound-'));
    const farTone = writeSineWav({ freqHz: 440, seconds: 60, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: 1000, seconds: 20, sampleRate: 48000, amplitude: 0.5 }, dir);
    baresip = await startBaresip({ sourceWav: farTone, user: CALLER, displayName: CALLER_NAME, rtpPorts: [31000, 31999] });
    const config = await e2eConfig({
      users: defaultUsers({ alice: [DID] }),
      trunks: [{ name: 'carrier', uri: baresip.trunkUri }],
    });
    didUri = `sip:${DID}@127.0.0.1:${sipUdpPort(config)}`;
    gateway = await startGateway(config);
    browser = await launchBrowser({ fakeAudioWav: micTone });
    pages = [browser.page, await browser.newPage()];
    for (const page of pages) {
      await openPage(page, gateway.httpUrl);
      await signIn(page, 'alice', 'alice');
    }
    await vi.waitFor(() => expect(gateway.status().registrations).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 100 });
  });

  afterEach(async () => {
    for (const page of pages ?? []) await resetPage(page);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await baresip?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both pages ring with the caller ID; the one that accepts hears the caller, the other was answered elsewhere', async () => {
    const [answering, other] = pages;
    const from = baresip.events.length;
    await baresip.dial(didUri);
    for (const page of pages) {
      const ring = await waitForIncoming(page);
      expect(ring).toMatchObject({ from: CALLER, displayName: CALLER_NAME, ringing: true });
      expect(ring.shown).toContain(`${CALLER_NAME} ${CALLER}`);
    }

    await answering.click('#accept-btn');
    await answering.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });
    await waitForIncomingEnd(other, 'answered-elsewhere');
    expect(await missedCalls(other)).toEqual({ missed: [], ringing: false });
    expect(await callState(other)).toEqual({ state: 'ended', reason: 'Answered elsewhere' });
    expect(await answering.evaluate(() => window.softphone.ringing())).toBe(false);
    await baresip.waitForEvent('CALL_ESTABLISHED', { from });

    const stats = await waitForPackets(answering, 100);
    expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);
    expect(stats.packetsSent).toBeGreaterThanOrEqual(100);
    const tone = await waitForTone(answering, 440, 3300);
    expect(tone.level).toBeGreaterThan(5 * tone.other);

    expect(await hangUp(answering)).toBe('Hung up');
    await baresip.waitForEvent('CALL_CLOSED', { from });
    const far = await baresip.waitForCallStats(0);
    expect(far.rxPackets).toBeGreaterThanOrEqual(100);
    expect(await answering.evaluate(() => window.softphone.lastIncomingEnd())).toBe('ended');
    const [recent] = await answering.evaluate(() => window.softphone.recentCalls());
    expect(recent).toMatchObject({ direction: 'in', from: CALLER, outcome: 'answered' });
    await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });

  it('the caller hanging up before anyone answers leaves a missed call on both pages', async () => {
    const from = baresip.events.length;
    await baresip.dial(didUri);
    for (const page of pages) await waitForIncoming(page);
    await baresip.hangup(); // CANCEL toward the gateway
    for (const page of pages) {
      await waitForIncomingEnd(page, 'missed');
      const { missed, ringing } = await missedCalls(page);
      expect(ringing).toBe(false);
      expect(missed[0]).toMatchObject({ from: CALLER, displayName: CALLER_NAME });
      expect(await page.textContent('#missed-list')).toContain(`Missed call from ${CALLER_NAME} (${CALLER})`);
    }
    await baresip.waitForEvent('CALL_CLOSED', { from });
    await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });
});

declare const window: {
  softphone: {
    callState(): string;
    ringing(): boolean;
    lastIncomingEnd(): string | null;
    recentCalls(): Array<{ direction: string; from: string; outcome: string }>;
  };
};
