// End to end (issue 7): the call survives what happens mid-call, in real Chromium through the gateway to
// baresip (midcall-rig.ts: a real SIP phone as the trunk's far end; media counted at both ends).
//  - hold / resume from the page (the Hold button) and from baresip (its hold / resume commands);
//  - an ICE restart from the page (new ICE credentials on both sides, a new candidate pair, no BYE);
//  - the WebSocket lost: not back within calls.reconnectGrace → both legs end (baresip gets a BYE)
//    within the grace + 2 s; back within it → the same call goes on (no BYE, no new INVITE at baresip).
// Session timers: midcall-timers.test.ts. One baresip and one Chromium serve every case; each makes its own call.
import type { Page } from 'playwright-core';
import { parse as parseSdp } from 'sdp-transform';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BaresipHandle } from '../support/baresip.js';
import { STEP_TIMEOUT, hangUp, openPage, resetPage, signIn, waitForTone, withDiagnostics, type Hook } from './helpers.js';
import { FLOWING, NUMBER, counts, growth, requestsToFar, startRig, waitFlowing, type Growth, type MidcallRig } from './midcall-rig.js';

/** calls.reconnectGrace, seconds (short: the no-reconnect case waits it out). */
const GRACE_S = 5;
/** The measured window of a held direction, and what may still arrive in it (packets in flight when
 *  the hold took effect: 5 × 20 ms). Not a sleep standing in for a condition: the window IS the check. */
const HELD_WINDOW_MS = 2000;
const HELD_SLACK = 5;

interface PcProbe {
  connectionState: string;
  localDescription: { sdp: string } | null;
  remoteDescription: { sdp: string } | null;
  getStats(): Promise<{ forEach(cb: (s: Record<string, unknown>) => void): void }>;
}
declare const window: { softphone: Hook; midcallPcs: PcProbe[] };

/** Every RTCPeerConnection the page makes, kept for the test (the page exposes none). */
const RECORD_PEER_CONNECTIONS = `(() => {
  const Original = window.RTCPeerConnection;
  window.midcallPcs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.midcallPcs.push(this); }
  };
})();`;

/** The counters' growth over HELD_WINDOW_MS (the measured hold window). */
async function heldWindow(page: Page, far: BaresipHandle): Promise<Growth> {
  const before = await counts(page, far);
  await new Promise((resolve) => setTimeout(resolve, HELD_WINDOW_MS)); // the measurement window itself
  return growth(await counts(page, far), before);
}

async function waitPage(page: Page, what: string, test: () => boolean): Promise<void> {
  await page.waitForFunction(test, null, { timeout: STEP_TIMEOUT }).catch((err: Error) => {
    throw new Error(`page never showed ${what}: ${err.message}`);
  });
}

async function waitFarDir(far: BaresipHandle, dir: string): Promise<void> {
  await vi.waitFor(async () => expect((await far.liveAudio()).dir).toBe(dir), { timeout: STEP_TIMEOUT, interval: 200 });
}

/** The Call-ID of baresip's current call (ctrl_tcp callstat: " af=AF_INET id=<Call-ID>"). */
async function farCallId(far: BaresipHandle): Promise<string> {
  const id = /\bid=(\S+)/.exec(await far.command('callstat'))?.[1];
  if (!id) throw new Error('baresip has no current call');
  return id;
}

/** The page's current call: both ICE ufrags (ours, the gateway's) and the selected candidate pair. */
async function iceView(page: Page): Promise<{ localUfrag: string; remoteUfrag: string; pair: string }> {
  const raw = await page.evaluate(async () => {
    const pc = [...window.midcallPcs].reverse().find((p) => p.connectionState !== 'closed');
    if (!pc) return null;
    let transport = '';
    const pairs = new Map<string, string>();
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'transport') transport = String(s.selectedCandidatePairId ?? '');
      if (s.type === 'candidate-pair') pairs.set(String(s.id), `${String(s.localCandidateId)}|${String(s.remoteCandidateId)}`);
    });
    return { local: pc.localDescription?.sdp ?? '', remote: pc.remoteDescription?.sdp ?? '', pair: pairs.get(transport) ?? '' };
  });
  if (!raw) throw new Error('the page has no open peer connection');
  const ufrag = (sdp: string): string => {
    const s = parseSdp(sdp);
    return String(s.media[0]?.iceUfrag ?? s.iceUfrag ?? '');
  };
  return { localUfrag: ufrag(raw.local), remoteUfrag: ufrag(raw.remote), pair: raw.pair };
}

describe('e2e: the call survives mid-call changes', () => {
  let rig: MidcallRig;
  let baresip: BaresipHandle;
  let page: Page;

  beforeAll(async () => {
    rig = await startRig({ patch: { calls: { reconnectGrace: GRACE_S } }, initScript: RECORD_PEER_CONNECTIONS });
    ({ baresip, page } = rig);
  });

  afterEach(async () => {
    if (page && !page.isClosed()) await resetPage(page).catch(() => undefined);
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('hold and resume from the page, then from the far end: media stops and resumes as the directions say', async () => {
    await withDiagnostics(rig.diagnostics, async () => {
      const { from } = await rig.callFar(page);
      const outputAt = baresip.output().length;

      // The page holds (Hold button): it offers sendonly, baresip answers recvonly and stops sending.
      await page.getByRole('button', { name: 'Hold', exact: true }).click();
      await waitPage(page, 'held', () => window.softphone.holdState() === 'held');
      expect(await page.evaluate(() => window.softphone.callStatus())).toBe('On hold');
      await waitFarDir(baresip, 'recvonly');
      // Carried to the trunk leg as a re-INVITE of the same dialog (To tag) — as baresip's trace shows it.
      expect(requestsToFar(baresip, outputAt)).toContainEqual({ method: 'INVITE', text: expect.stringMatching(/^To: .*;tag=/im) });
      const pageHeld = await heldWindow(page, baresip);
      expect(pageHeld.farSent, `held by the page: ${JSON.stringify(pageHeld)}`).toBeLessThanOrEqual(HELD_SLACK);
      expect(pageHeld.pageReceived, `held by the page: ${JSON.stringify(pageHeld)}`).toBeLessThanOrEqual(HELD_SLACK);
      // sendonly: what the page still sends (its muted track: silence) is carried to baresip.
      expect(pageHeld.farReceived, `the page's sendonly direction: ${JSON.stringify(pageHeld)}`).toBeGreaterThanOrEqual(FLOWING);

      const beforeResume = await counts(page, baresip);
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await waitPage(page, 'resumed', () => window.softphone.holdState() === 'active');
      await waitFarDir(baresip, 'sendrecv');
      await waitFlowing(page, baresip, beforeResume);
      await waitForTone(page, 440, 3300);

      // The far end holds (baresip's hold: re-INVITE sendonly): the page shows it and, answering
      // recvonly, stops sending. (baresip pauses its own source while it holds: nothing comes back either.)
      await baresip.command('hold');
      await waitPage(page, 'held by the other party', () => window.softphone.heldByOther());
      expect(await page.evaluate(() => window.softphone.callStatus())).toBe('On hold by other party');
      await waitFarDir(baresip, 'sendonly');
      const farHeld = await heldWindow(page, baresip);
      expect(farHeld.pageSent, `held by the far end: ${JSON.stringify(farHeld)}`).toBeLessThanOrEqual(HELD_SLACK);
      expect(farHeld.farReceived, `held by the far end: ${JSON.stringify(farHeld)}`).toBeLessThanOrEqual(HELD_SLACK);

      const beforeFarResume = await counts(page, baresip);
      await baresip.command('resume');
      await waitPage(page, 'no longer held', () => !window.softphone.heldByOther());
      expect(await page.evaluate(() => window.softphone.callStatus())).toBe(`In call with ${NUMBER}`);
      await waitFarDir(baresip, 'sendrecv');
      await waitFlowing(page, baresip, beforeFarResume);

      expect(baresip.events.slice(from).map((e) => e.type)).not.toContain('CALL_CLOSED');
      expect(await hangUp(page)).toBe('Hung up');
      await baresip.waitForEvent('CALL_CLOSED', { from });
    });
  });

  it('an ICE restart from the page keeps the call: new credentials and candidate pair, audio both ways, no BYE', async () => {
    await withDiagnostics(rig.diagnostics, async () => {
      const { from } = await rig.callFar(page);
      const before = await iceView(page);
      expect(before.pair).not.toBe('');
      const countsBefore = await counts(page, baresip);
      const outputAt = baresip.output().length;

      expect(await page.evaluate(() => window.softphone.restartIce())).toBe(true);
      expect(await page.evaluate(() => window.softphone.linkState())).toBe('up');
      const after = await iceView(page);
      expect(after.localUfrag).not.toBe(before.localUfrag);
      expect(after.remoteUfrag, 'the gateway answered the restart with new ICE credentials').not.toBe(before.remoteUfrag);
      await vi.waitFor(async () => expect((await iceView(page)).pair).not.toBe(before.pair), { timeout: STEP_TIMEOUT, interval: 250 });
      await waitFlowing(page, baresip, countsBefore);
      await waitForTone(page, 440, 3300);

      expect(baresip.events.slice(from).map((e) => e.type)).not.toContain('CALL_CLOSED');
      // Answered by the gateway alone: the trunk leg is untouched (baresip received no request at all).
      expect(requestsToFar(baresip, outputAt)).toEqual([]);
      expect(rig.gateway.status().calls).toBe(1);
      expect(await hangUp(page)).toBe('Hung up');
      await baresip.waitForEvent('CALL_CLOSED', { from });
    });
  });

  it('the WebSocket lost and not back within the grace period: both legs end within the grace + 2 s', async () => {
    // A second tab whose reconnections are refused (Playwright answers its new WebSockets by closing
    // them), so the gateway's grace runs out; it is closed afterwards.
    const lonely = await rig.browser.newPage();
    try {
      await withDiagnostics(rig.diagnostics, async () => {
        await openPage(lonely, rig.gateway.httpUrl);
        await signIn(lonely, 'alice', 'alice');
        const { from } = await rig.callFar(lonely);
        const outputAt = baresip.output().length;
        await lonely.routeWebSocket(/\/sip$/, (ws) => ws.close({ code: 1011, reason: 'test: no reconnection' }));

        const dropped = Date.now();
        expect(await lonely.evaluate(() => window.softphone.dropConnection())).toBe(true);
        await waitPage(lonely, 'reconnecting', () => window.softphone.callStatus() === 'Reconnecting…');
        const closed = await baresip.waitForEvent('CALL_CLOSED', { from, timeoutMs: (GRACE_S + 10) * 1000 });
        const elapsed = Date.now() - dropped;
        expect(elapsed, 'kept for the grace period').toBeGreaterThanOrEqual(GRACE_S * 1000 - 250);
        expect(elapsed, 'ended within the grace period + 2 s').toBeLessThanOrEqual(GRACE_S * 1000 + 2000);
        expect(closed.param).toBe('Connection reset by peer'); // baresip got a BYE
        const bye = requestsToFar(baresip, outputAt).find((r) => r.method === 'BYE');
        expect(bye?.text, 'the BYE says why').toMatch(/^Reason: SIP ?;.*Connection lost/im);
        await vi.waitFor(() => expect(rig.gateway.status().calls).toBe(0), { timeout: 2000, interval: 100 });
      });
    } finally {
      await lonely.close();
    }
  });

  it('the WebSocket lost and back within the grace period: the same call goes on, audio both ways', async () => {
    await withDiagnostics(rig.diagnostics, async () => {
      const { from } = await rig.callFar(page);
      const outputAt = baresip.output().length;
      const farCall = await farCallId(baresip);
      const countsBefore = await counts(page, baresip);

      const dropped = Date.now();
      expect(await page.evaluate(() => window.softphone.dropConnection())).toBe(true);
      await waitPage(page, 'reconnecting', () => window.softphone.linkState() === 'reconnecting');
      expect(await page.evaluate(() => window.softphone.callStatus())).toBe('Reconnecting…');
      await waitPage(page, 'the link up again', () => window.softphone.linkState() === 'up' && window.softphone.state() === 'registered');
      expect(Date.now() - dropped, 'back within the grace period').toBeLessThan(GRACE_S * 1000);
      expect(await page.evaluate(() => window.softphone.callState())).toBe('in-call');
      await waitFlowing(page, baresip, countsBefore);
      await waitForTone(page, 440, 3300);

      // The same call at baresip: no BYE, no new INVITE — no request at all (the page's ICE-restart
      // re-INVITE over the new connection is answered by the gateway alone) — the same call current.
      const events = baresip.events.slice(from).map((e) => e.type);
      expect(events).not.toContain('CALL_CLOSED');
      expect(events).not.toContain('CALL_INCOMING');
      expect(requestsToFar(baresip, outputAt)).toEqual([]);
      expect(await farCallId(baresip)).toBe(farCall);
      expect(rig.gateway.status().calls).toBe(1);

      // Hang-up over the new connection reaches baresip: the dialog follows the new WebSocket.
      expect(await hangUp(page)).toBe('Hung up');
      const closed = await baresip.waitForEvent('CALL_CLOSED', { from });
      expect(closed.param).toBe('Connection reset by peer');
    });
  });
});
