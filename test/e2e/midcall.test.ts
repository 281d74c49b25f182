// End to end (issue 7): the call survives what happens mid-call, in real Chromium through the gateway to
// baresip (a real SIP phone as the trunk's far end, playing 440 Hz; the page's fake microphone plays
// 1000 Hz). Media is counted at both ends while the call is up: the page's getStats (remoteStats) and
// baresip's own RTP counters (ctrl_tcp audio_debug: packets sent, packets received, direction in force).
//  - hold / resume from the page (the Hold button) and from baresip (its hold / resume commands);
//  - an ICE restart from the page (new ICE credentials on both sides, a new candidate pair, no BYE);
//  - the WebSocket lost: not back within calls.reconnectGrace → both legs end (baresip gets a BYE)
//    within the grace + 2 s; back within it → the same call goes on (no BYE, no new INVITE at baresip);
//  - session timers with a short interval (4 s, set on the parsed config): the call outlives two intervals
//    with audio both ways, the gateway (refresher: neither sip.js nor baresip does timers) refreshing the
//    page's leg or baresip's, every refresh answered 200, no BYE. (Such a peer's 2xx carries no
//    Session-Expires, which RFC 4028 §7.2 reads as "no session expiration": one refresh per leg is seen.)
// One baresip and one Chromium serve every case; each case makes its own call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse as parseSdp } from 'sdp-transform';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { GatewayConfig } from '../../gateway/config/schema.js';
import { startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import {
  STEP_TIMEOUT,
  defaultUsers,
  dial,
  e2eConfig,
  hangUp,
  openPage,
  resetPage,
  signIn,
  sipUdpPort,
  startGateway,
  waitForIncoming,
  waitForTone,
  withDiagnostics,
  type Hook,
} from './helpers.js';

const NUMBER = '5551234'; // baresip's account: it answers INVITEs to this user
const DID = '5550001'; // alice's DID on the session-timer gateway (baresip calls in)
/** calls.reconnectGrace of the main gateway, seconds (short: the no-reconnect case waits it out). */
const GRACE_S = 5;
/** calls.sessionTimers interval of the second gateway, seconds: refreshes every GRACE/2. */
const SESSION_INTERVAL_S = 4;
/** The measured window of a held direction, and what may still arrive in it (packets in flight when
 *  the hold took effect: 5 × 20 ms). Not a sleep standing in for a condition: the window IS the check. */
const HELD_WINDOW_MS = 2000;
const HELD_SLACK = 5;
/** Growth each counter must show for audio to count as flowing again (1 s of 20 ms packets). */
const FLOWING = 50;

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

interface Counts {
  pageSent: number;
  pageReceived: number;
  farSent: number;
  farReceived: number;
  farDir: string;
}

async function counts(page: Page, far: BaresipHandle): Promise<Counts> {
  const [p, b] = await Promise.all([page.evaluate(() => window.softphone.remoteStats()), far.liveAudio()]);
  return { pageSent: p.packetsSent, pageReceived: p.packetsReceived, farSent: b.txPackets, farReceived: b.rxPackets, farDir: b.dir };
}

function delta(after: Counts, before: Counts): Omit<Counts, 'farDir'> {
  return {
    pageSent: after.pageSent - before.pageSent,
    pageReceived: after.pageReceived - before.pageReceived,
    farSent: after.farSent - before.farSent,
    farReceived: after.farReceived - before.farReceived,
  };
}

/** Waits until every counter has grown by `min` since `since` (audio both ways, counted at both ends). */
async function waitFlowing(page: Page, far: BaresipHandle, since: Counts, min = FLOWING): Promise<Counts> {
  let last = since;
  await vi.waitFor(
    async () => {
      last = await counts(page, far);
      const d = delta(last, since);
      expect(Math.min(d.pageSent, d.pageReceived, d.farSent, d.farReceived), JSON.stringify(d)).toBeGreaterThanOrEqual(min);
    },
    { timeout: STEP_TIMEOUT, interval: 250 },
  );
  return last;
}

/** The counters' growth over HELD_WINDOW_MS (the measured hold window). */
async function heldWindow(page: Page, far: BaresipHandle): Promise<Omit<Counts, 'farDir'>> {
  const before = await counts(page, far);
  await new Promise((resolve) => setTimeout(resolve, HELD_WINDOW_MS)); // the measurement window itself
  return delta(await counts(page, far), before);
}

async function waitPage(page: Page, what: string, test: () => boolean): Promise<void> {
  await page.waitForFunction(test, null, { timeout: STEP_TIMEOUT }).catch((err: Error) => {
    throw new Error(`page never showed ${what}: ${err.message}`);
  });
}

async function waitFarDir(far: BaresipHandle, dir: string): Promise<void> {
  await vi.waitFor(async () => expect((await far.liveAudio()).dir).toBe(dir), { timeout: STEP_TIMEOUT, interval: 200 });
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

/** SIP requests baresip received (from its SIP trace, -s) after `offset` of its output. */
function requestsToFar(far: BaresipHandle, offset: number): Array<{ method: string; text: string }> {
  const out = far.output().slice(offset);
  const re = new RegExp(`(?:UDP|TCP) \\S+ -> \\S+:${far.sipPort}\\r?\\n([A-Z]+) sip:[^\\r\\n]*\\r?\\n([\\s\\S]*?)\\r?\\n\\r?\\n`, 'g');
  return [...out.matchAll(re)].map((m) => ({ method: m[1]!, text: m[2]! }));
}

describe('e2e: the call survives mid-call changes', () => {
  let dir: string;
  let baresip: BaresipHandle;
  let browser: BrowserHandle;
  let gateway: Gateway;
  const gatewayLog: string[] = [];
  let page: Page;

  const diagnostics = (): string =>
    [
      '--- gateway log (tail) ---',
      ...gatewayLog.slice(-60),
      '--- baresip output (tail) ---',
      baresip?.output().slice(-4000) ?? '',
      '--- page console (tail) ---',
      ...(browser?.consoleLines.slice(-40) ?? []),
    ].join('\n');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-midcall-'));
    const farTone = writeSineWav({ freqHz: 440, seconds: 120, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: 1000, seconds: 30, sampleRate: 48000, amplitude: 0.5 }, dir);
    baresip = await startBaresip({ sourceWav: farTone, user: NUMBER, rtpPorts: [31000, 31999] });
    const config = await e2eConfig({
      trunks: [{ name: 'far', uri: `${baresip.trunkUri};transport=udp`, keepalive: false }],
      routes: [{ match: '^[0-9]{3,15}$', trunk: 'far' }],
      calls: { reconnectGrace: GRACE_S },
    });
    gateway = await startGateway(config, gatewayLog);
    browser = await launchBrowser({ fakeAudioWav: micTone });
    await browser.context.addInitScript(RECORD_PEER_CONNECTIONS);
    page = browser.page;
    await openPage(page, gateway.httpUrl);
    await signIn(page, 'alice', 'alice');
  });

  afterEach(async () => {
    if (page && !page.isClosed()) await resetPage(page).catch(() => undefined);
  });

  afterAll(async () => {
    const steps = [() => browser?.close(), () => gateway?.stop(), () => baresip?.stop()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The Call-ID of baresip's current call (ctrl_tcp callstat: " af=AF_INET id=<Call-ID>"). */
  async function farCallId(): Promise<string> {
    const id = /\bid=(\S+)/.exec(await baresip.command('callstat'))?.[1];
    if (!id) throw new Error('baresip has no current call');
    return id;
  }

  /** Dials baresip from `p`; resolves once audio flows both ways, with the counts at that point. */
  async function callFar(p: Page): Promise<{ from: number; start: Counts }> {
    const from = baresip.events.length;
    expect(await dial(p, NUMBER)).toBe('in-call');
    await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
    const zero = { pageSent: 0, pageReceived: 0, farSent: 0, farReceived: 0, farDir: '' };
    return { from, start: await waitFlowing(p, baresip, zero) };
  }

  it('hold and resume from the page, then from the far end: media stops and resumes as the directions say', async () => {
    await withDiagnostics(diagnostics, async () => {
      const { from } = await callFar(page);
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
    await withDiagnostics(diagnostics, async () => {
      const { from } = await callFar(page);
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
      expect(gateway.status().calls).toBe(1);
      expect(await hangUp(page)).toBe('Hung up');
      await baresip.waitForEvent('CALL_CLOSED', { from });
    });
  });

  it('the WebSocket lost and not back within the grace period: both legs end within the grace + 2 s', async () => {
    // A second tab whose reconnections are refused (Playwright answers its new WebSockets by closing
    // them), so the gateway's grace runs out; it is closed afterwards.
    const lonely = await browser.newPage();
    try {
      await withDiagnostics(diagnostics, async () => {
        await openPage(lonely, gateway.httpUrl);
        await signIn(lonely, 'alice', 'alice');
        const { from } = await callFar(lonely);
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
        await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 2000, interval: 100 });
      });
    } finally {
      await lonely.close();
    }
  });

  it('the WebSocket lost and back within the grace period: the same call goes on, audio both ways', async () => {
    await withDiagnostics(diagnostics, async () => {
      const { from } = await callFar(page);
      const outputAt = baresip.output().length;
      const farCall = await farCallId();
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
      expect(await farCallId()).toBe(farCall);
      expect(gateway.status().calls).toBe(1);

      // Hang-up over the new connection reaches baresip: the dialog follows the new WebSocket.
      expect(await hangUp(page)).toBe('Hung up');
      const closed = await baresip.waitForEvent('CALL_CLOSED', { from });
      expect(closed.param).toBe('Connection reset by peer');
    });
  });

  describe('session timers with a short interval', () => {
    let timed: Gateway;
    const timedLog: string[] = [];
    let timedPage: Page;
    let didUri: string;

    beforeAll(async () => {
      const config: GatewayConfig = await e2eConfig({
        users: defaultUsers({ alice: [DID] }),
        trunks: [{ name: 'far', uri: `${baresip.trunkUri};transport=udp`, keepalive: false }],
        routes: [{ match: '^[0-9]{3,15}$', trunk: 'far' }],
      });
      // Set on the parsed config: a config file cannot go below RFC 4028's 90 s. Timers on both kinds of
      // leg: neither sip.js nor baresip asks for them, so the gateway is the refresher wherever it answers.
      config.calls.sessionTimers = { ...config.calls.sessionTimers, interval: SESSION_INTERVAL_S, minSE: SESSION_INTERVAL_S, users: true, trunks: true };
      didUri = `sip:${DID}@127.0.0.1:${sipUdpPort(config)}`;
      timed = await startGateway(config, timedLog);
      timedPage = await browser.newPage();
      await openPage(timedPage, timed.httpUrl);
      await signIn(timedPage, 'alice', 'alice');
    });

    afterEach(async () => {
      if (timedPage && !timedPage.isClosed()) await resetPage(timedPage).catch(() => undefined);
    });

    afterAll(async () => {
      await timedPage?.close().catch(() => undefined);
      await timed?.stop();
    });

    const timedDiagnostics = (): string => `--- session-timer gateway log (tail) ---\n${timedLog.slice(-60).join('\n')}\n${diagnostics()}`;

    /** The in-dialog INVITE/UPDATE requests the gateway sent on flows named `flow…` since log line `from`
     *  (the call came in on the other leg, so none of them is an initial INVITE), each with whether the
     *  peer answered it 200 — as logged on the wire ("sip out" / "sip in"). */
    const refreshesSent = (flow: 'ws#' | 'udp#', from: number): Array<{ cseq: string; answered: boolean }> => {
      const wire = timedLog
        .slice(from)
        .map((l) => JSON.parse(l) as { msg?: string; flow?: string; summary?: string; cseq?: string })
        .filter((l) => l.flow?.startsWith(flow));
      return wire
        .filter((l) => l.msg === 'sip out' && /^(INVITE|UPDATE) /.test(l.summary ?? ''))
        .map((l) => ({ cseq: l.cseq!, answered: wire.some((r) => r.msg === 'sip in' && r.cseq === l.cseq && r.summary?.startsWith('200')) }));
    };

    /** Waits until the call has lasted more than two session intervals and a refresh has been answered;
     *  then every refresh sent must have been answered 200, and the call must still carry audio both ways. */
    async function outlastTwoIntervals(start: number, refreshes: () => Array<{ answered: boolean }>, p: Page): Promise<void> {
      await vi.waitFor(
        () => {
          expect(Date.now() - start).toBeGreaterThan(2 * SESSION_INTERVAL_S * 1000);
          expect(refreshes().filter((r) => r.answered).length).toBeGreaterThanOrEqual(1);
        },
        { timeout: 2 * SESSION_INTERVAL_S * 1000 + STEP_TIMEOUT, interval: 250 },
      );
      expect(refreshes().every((r) => r.answered), JSON.stringify(refreshes())).toBe(true);
      await waitFlowing(p, baresip, await counts(p, baresip));
      expect(await p.evaluate(() => window.softphone.callState())).toBe('in-call');
    }

    it('a call to baresip outlasts two session intervals: the gateway refreshes the page, audio both ways', async () => {
      await withDiagnostics(timedDiagnostics, async () => {
        const from = baresip.events.length;
        const logAt = timedLog.length;
        expect(await dial(timedPage, NUMBER)).toBe('in-call');
        const start = Date.now();
        await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
        const zero = { pageSent: 0, pageReceived: 0, farSent: 0, farReceived: 0, farDir: '' };
        await waitFlowing(timedPage, baresip, zero);

        // Our 2xx named us refresher (sip.js asked for no timer): a re-INVITE (sip.js allows no UPDATE)
        // over the WebSocket at half the interval, which the page answers 200.
        await outlastTwoIntervals(start, () => refreshesSent('ws#', logAt), timedPage);
        expect(baresip.events.slice(from).map((e) => e.type)).not.toContain('CALL_CLOSED');
        expect(await hangUp(timedPage)).toBe('Hung up');
        await baresip.waitForEvent('CALL_CLOSED', { from });
      });
    });

    it('a call from baresip outlasts two session intervals: baresip receives and answers the refreshes', async () => {
      await withDiagnostics(timedDiagnostics, async () => {
        const from = baresip.events.length;
        const logAt = timedLog.length;
        const outputAt = baresip.output().length;
        await baresip.dial(didUri);
        await waitForIncoming(timedPage);
        await timedPage.evaluate(() => window.softphone.accept());
        await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
        const start = Date.now();
        const zero = { pageSent: 0, pageReceived: 0, farSent: 0, farReceived: 0, farDir: '' };
        await waitFlowing(timedPage, baresip, zero);

        // baresip asked for no timer: our 2xx named us refresher (trunks: true), so the gateway refreshes it.
        await outlastTwoIntervals(start, () => refreshesSent('udp#', logAt), timedPage);
        const atFar = requestsToFar(baresip, outputAt).filter((r) => ['INVITE', 'UPDATE'].includes(r.method));
        expect(atFar.length).toBeGreaterThanOrEqual(1);
        for (const r of atFar) expect(r.text).toMatch(/^Session-Expires: *\d+/im);
        expect(baresip.events.slice(from).map((e) => e.type)).not.toContain('CALL_CLOSED');
        await baresip.hangup();
        await timedPage.waitForFunction(() => window.softphone.callState() === 'ended', null, { timeout: STEP_TIMEOUT });
      });
    });
  });
});
