// End to end (issue 9 item 5): several lines in real Chromium. alice (1000 Hz microphone) calls baresip
// "far" (auto-answer, 440 Hz) through the trunk; while that call is up, baresip "carrier" (660 Hz) calls
// alice's DID. The page lists both calls and plays the short waiting tone (not the ring); Accept holds
// the first call (re-INVITE: far answers recvonly and stops sending) and answers the second; Swap holds
// the second and resumes the first. Audio is counted at each far end (baresip's own RTP counters) and in
// the page (getStats of each call's peer connection), and the page hears the tone of the call that is
// current only. Hanging up one call leaves the other; do-not-disturb answers a new call 486; a user with
// users[].callWaiting: false (bob) in a call gets 486 from the gateway itself, their page never rung.
// Addresses: 127.0.0.1 throughout (baresip's RTP leaves from it whatever its SIP address), which the
// private network namespace of the run keeps to this file.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { BaresipHandle } from '../support/baresip.js';
import type { BrowserHandle } from '../support/browser.js';
import { STEP_TIMEOUT, defaultUsers, dial, openPage, signIn, sipUdpPort, waitForTone, withDiagnostics } from './helpers.js';
import { FLOWING, counts, growth, waitFlowing } from './midcall-rig.js';
import { startTwoFarRig, waitDir as waitFarDir, type TwoFarRig } from './two-far-rig.js';

const FAR_NUMBER = '5551234';
const DID = '5550001';
const CALLER = '5557777';
const BOB_DID = '5550002';
/** The measured window of a held call, and what may still arrive in it (packets in flight when the hold
 *  took effect). Not a sleep standing in for a condition: the window IS the check. */
const HELD_WINDOW_MS = 2000;
const HELD_SLACK = 5;

interface View { id: number; peer: string; state: string; hold: string; current: boolean; waiting: boolean; label: string }
declare const window: {
  softphone: {
    calls(): View[];
    lineStats(id: number): Promise<{ packetsReceived: number; packetsSent: number }>;
    waitingTone(): boolean;
    ringing(): boolean;
    dnd(): boolean;
    remoteStats(): Promise<{ packetsReceived: number; packetsSent: number }>;
    remoteToneLevel(f: number): number;
    callState(): string;
    holdState(): string;
    callStatus(): string;
  };
};

async function waitPage(page: Page, what: string, test: (arg: string) => boolean, arg = ''): Promise<void> {
  await page.waitForFunction(test, arg, { timeout: STEP_TIMEOUT }).catch((err: Error) => {
    throw new Error(`page never showed ${what}: ${err.message}`);
  });
}

/** Over HELD_WINDOW_MS: what the held far end sent, and what the page received on that call. */
async function heldWindow(page: Page, far: BaresipHandle, line: number): Promise<{ farSent: number; farReceived: number; pageReceived: number }> {
  const stats = () => page.evaluate((id) => window.softphone.lineStats(id), line);
  const [f0, p0] = await Promise.all([far.liveAudio(), stats()]);
  await new Promise((resolve) => setTimeout(resolve, HELD_WINDOW_MS)); // the measurement window itself
  const [f1, p1] = await Promise.all([far.liveAudio(), stats()]);
  return { farSent: f1.txPackets - f0.txPackets, farReceived: f1.rxPackets - f0.rxPackets, pageReceived: p1.packetsReceived - p0.packetsReceived };
}

describe('e2e: call waiting and swapping between two calls', () => {
  let rig: TwoFarRig;
  let far: BaresipHandle;
  let carrier: BaresipHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;
  let page: Page;
  let didUri: string;
  let bobDidUri: string;
  let gatewayLog: string[];
  const diagnostics = (): string => rig?.diagnostics() ?? '';

  beforeAll(async () => {
    rig = await startTwoFarRig({
      tmpPrefix: 'e2e-lines-',
      far: { user: FAR_NUMBER },
      second: { user: CALLER, label: 'carrier', displayName: 'Carrier Caller' },
      patch: (f, c) => ({
        users: defaultUsers({ alice: [DID], bob: [BOB_DID] }).map((u) => (u.name === 'bob' ? { ...u, callWaiting: false } : u)),
        trunks: [
          { name: 'far', uri: `${f.trunkUri};transport=udp`, keepalive: false },
          { name: 'carrier', uri: `${c.trunkUri};transport=udp`, keepalive: false },
        ],
        routes: [{ match: `^${FAR_NUMBER}$`, trunk: 'far' }],
      }),
    });
    ({ far, second: carrier, gateway, browser, page, gatewayLog } = rig);
    didUri = `sip:${DID}@127.0.0.1:${sipUdpPort(rig.config)}`;
    bobDidUri = `sip:${BOB_DID}@127.0.0.1:${sipUdpPort(rig.config)}`;
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('a second call rings as waiting; Accept holds the first; Swap goes back; each far end has audio only while current', async () => {
    await withDiagnostics(diagnostics, async () => {
      // Call 1: alice → far, audio both ways, the page hears far's 440 Hz.
      const farFrom = far.events.length;
      expect(await dial(page, FAR_NUMBER)).toBe('in-call');
      await far.waitForEvent('CALL_ESTABLISHED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      await waitFlowing(page, far);
      await waitForTone(page, 440, 660);

      // Call 2: the carrier calls alice's DID while call 1 is up — the gateway rings the page (no 486).
      const carrierFrom = carrier.events.length;
      await carrier.dial(didUri);
      await waitPage(page, 'a waiting call', () => window.softphone.calls().some((c) => c.waiting));
      const listed = await page.evaluate(() => window.softphone.calls().map((c) => ({ peer: c.peer, state: c.state, current: c.current, waiting: c.waiting })));
      expect(listed).toEqual([
        { peer: FAR_NUMBER, state: 'in-call', current: true, waiting: false },
        { peer: `Carrier Caller (${CALLER})`, state: 'incoming', current: false, waiting: true },
      ]);
      await waitPage(page, 'the waiting tone', () => window.softphone.waitingTone());
      // The gateway forked the second call to alice's page (the log line the callWaiting: false case looks for).
      expect(gatewayLog.map((l) => JSON.parse(l) as { msg?: string; callee?: string }).filter((l) => l.callee === 'alice' && l.msg === 'ringing')).toHaveLength(1);
      expect(await page.evaluate(() => window.softphone.ringing())).toBe(false); // not the full ring
      expect(await page.textContent('#incoming-title')).toBe('Call waiting');
      expect(await page.getByRole('list', { name: 'Calls' }).isVisible()).toBe(true);

      // Accept: call 1 is held first (far answers the sendonly offer recvonly), then call 2 answered.
      await page.getByRole('button', { name: 'Accept', exact: true }).click();
      await carrier.waitForEvent('CALL_ESTABLISHED', { from: carrierFrom, timeoutMs: STEP_TIMEOUT });
      await waitFarDir(far, 'recvonly');
      await waitPage(page, 'call 2 current and call 1 held', () => {
        const [one, two] = window.softphone.calls();
        return one?.hold === 'held' && !one.current && two?.current === true && two.state === 'in-call';
      });
      expect(await page.evaluate(() => window.softphone.waitingTone())).toBe(false);
      const [line1, line2] = await page.evaluate(() => window.softphone.calls().map((c) => c.id));
      await waitFlowing(page, carrier);
      await waitForTone(page, 660, 440);
      const held1 = await heldWindow(page, far, line1!);
      expect(held1.farSent, `far while held: ${JSON.stringify(held1)}`).toBeLessThanOrEqual(HELD_SLACK);
      expect(held1.pageReceived, `far while held: ${JSON.stringify(held1)}`).toBeLessThanOrEqual(HELD_SLACK);
      expect(await page.getByRole('button', { name: `Hang up ${FAR_NUMBER}` }).isVisible()).toBe(true);

      // Swap: call 2 held, call 1 resumed — far sends again, the carrier stops.
      const beforeSwap = await counts(page, far);
      await page.getByRole('button', { name: 'Swap', exact: true }).click();
      await waitFarDir(far, 'sendrecv');
      await waitFarDir(carrier, 'recvonly');
      await waitPage(page, 'call 1 current again', () => window.softphone.calls()[0]?.current === true && window.softphone.holdState() === 'active');
      const resumed = growth(await waitFlowing(page, far, beforeSwap), beforeSwap);
      expect(Math.min(resumed.farSent, resumed.farReceived, resumed.pageReceived)).toBeGreaterThanOrEqual(FLOWING);
      await waitForTone(page, 440, 660);
      const held2 = await heldWindow(page, carrier, line2!);
      expect(held2.farSent, `carrier while held: ${JSON.stringify(held2)}`).toBeLessThanOrEqual(HELD_SLACK);
      expect(held2.pageReceived, `carrier while held: ${JSON.stringify(held2)}`).toBeLessThanOrEqual(HELD_SLACK);

      // Hang up call 1 (the current one): call 2 stays, held, and is resumed with the Resume button.
      await page.click('#hangup-btn');
      await far.waitForEvent('CALL_CLOSED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      await waitPage(page, 'call 2 left, on hold', () => window.softphone.callStatus() === 'On hold' && window.softphone.calls().length === 1);
      expect(carrier.events.slice(carrierFrom).some((e) => e.type === 'CALL_CLOSED')).toBe(false);
      const beforeResume = await counts(page, carrier);
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await waitFarDir(carrier, 'sendrecv');
      await waitFlowing(page, carrier, beforeResume);
      await waitForTone(page, 660, 440);
      await page.click('#hangup-btn');
      await carrier.waitForEvent('CALL_CLOSED', { from: carrierFrom, timeoutMs: STEP_TIMEOUT });
      await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
    });
  });

  it('do-not-disturb: the page answers a new call 486 Busy Here itself', async () => {
    await withDiagnostics(diagnostics, async () => {
      await page.getByRole('button', { name: 'Do not disturb' }).click();
      expect(await page.getByRole('button', { name: 'Do not disturb' }).getAttribute('aria-pressed')).toBe('true');
      expect(await page.evaluate(() => window.softphone.dnd())).toBe(true);
      const from = carrier.events.length;
      await carrier.dial(didUri);
      const closed = await carrier.waitForEvent('CALL_CLOSED', { from, timeoutMs: STEP_TIMEOUT });
      expect(`${closed.param ?? ''}`).toMatch(/486/);
      expect(await page.evaluate(() => window.softphone.calls())).toEqual([]);
      await page.getByRole('button', { name: 'Do not disturb' }).click();
      expect(await page.evaluate(() => window.softphone.dnd())).toBe(false);
    });
  });

  it('callWaiting: false — a call to bob while bob is in a call is answered 486 by the gateway, his page never rings', async () => {
    await withDiagnostics(diagnostics, async () => {
      const bob = await browser.newPage();
      await openPage(bob, gateway.httpUrl);
      await signIn(bob, 'bob', 'bob');
      const farFrom = far.events.length;
      expect(await dial(bob, FAR_NUMBER)).toBe('in-call');
      await far.waitForEvent('CALL_ESTABLISHED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      const from = carrier.events.length;
      const logAt = gatewayLog.length;
      await carrier.dial(bobDidUri);
      const closed = await carrier.waitForEvent('CALL_CLOSED', { from, timeoutMs: STEP_TIMEOUT });
      expect(`${closed.param ?? ''}`).toMatch(/486 Busy Here/);
      const lines = gatewayLog.slice(logAt).map((l) => JSON.parse(l) as { msg?: string; why?: string; callee?: string });
      expect(lines.find((l) => l.msg === 'callee busy')).toMatchObject({ callee: 'bob', why: 'call waiting off' });
      // No fork toward bob's page: the gateway never sent it the INVITE.
      expect(lines.filter((l) => l.callee === 'bob' && l.msg === 'ringing')).toEqual([]);
      expect(await bob.evaluate(() => window.softphone.calls().map((c) => c.state))).toEqual(['in-call']);
      await bob.click('#hangup-btn');
      await far.waitForEvent('CALL_CLOSED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      await bob.close();
    });
  });
});
