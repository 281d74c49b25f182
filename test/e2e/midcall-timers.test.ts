// End to end (issue 7): RFC 4028 session timers with a short interval (4 s, set on the parsed config: a
// config file cannot go below 90 s), in real Chromium through the gateway to baresip (midcall-rig.ts).
// Timers on both kinds of leg (calls.sessionTimers trunks and users); neither sip.js nor baresip does
// timers, so the gateway is the refresher wherever it answers the INVITE: a call to baresip refreshes the
// page's leg, a call from baresip refreshes baresip's. Each call must outlast two intervals with audio both
// ways, every refresh answered 200, no BYE. (Such a peer's 2xx to a refresh carries no Session-Expires,
// which RFC 4028 §7.2 reads as "no session expiration": one refresh per leg is what the wire shows.)
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BaresipHandle } from '../support/baresip.js';
import { STEP_TIMEOUT, defaultUsers, dial, hangUp, resetPage, sipUdpPort, waitForIncoming, withDiagnostics, type Hook } from './helpers.js';
import { NUMBER, counts, requestsToFar, startRig, waitFlowing, type MidcallRig } from './midcall-rig.js';

const DID = '5550001'; // alice's DID: baresip calls in on it
const SESSION_INTERVAL_S = 4;

declare const window: { softphone: Hook };

describe('e2e: session timers with a short interval', () => {
  let rig: MidcallRig;
  let baresip: BaresipHandle;
  let page: Page;

  beforeAll(async () => {
    rig = await startRig({
      patch: { users: defaultUsers({ alice: [DID] }) },
      adjust: (config) => {
        config.calls.sessionTimers = { ...config.calls.sessionTimers, interval: SESSION_INTERVAL_S, minSE: SESSION_INTERVAL_S, users: true, trunks: true };
      },
    });
    ({ baresip, page } = rig);
  });

  afterEach(async () => {
    if (page && !page.isClosed()) await resetPage(page).catch(() => undefined);
  });

  afterAll(async () => {
    await rig?.stop();
  });

  /** The in-dialog INVITE/UPDATE requests the gateway sent on flows named `flow…` since log line `from`
   *  (the call came in on the other leg, so none of them is an initial INVITE), each with whether the
   *  peer answered it 200 — as logged on the wire ("sip out" / "sip in"). */
  function refreshesSent(flow: 'ws#' | 'udp#', from: number): Array<{ cseq: string; answered: boolean }> {
    const wire = rig.gatewayLog
      .slice(from)
      .map((l) => JSON.parse(l) as { msg?: string; flow?: string; summary?: string; cseq?: string })
      .filter((l) => l.flow?.startsWith(flow));
    return wire
      .filter((l) => l.msg === 'sip out' && /^(INVITE|UPDATE) /.test(l.summary ?? ''))
      .map((l) => ({ cseq: l.cseq!, answered: wire.some((r) => r.msg === 'sip in' && r.cseq === l.cseq && r.summary?.startsWith('200')) }));
  }

  /** Waits until the call has lasted more than two session intervals and a refresh has been answered;
   *  then every refresh sent must have been answered 200, and the call must still carry audio both ways. */
  async function outlastTwoIntervals(start: number, refreshes: () => Array<{ answered: boolean }>): Promise<void> {
    await vi.waitFor(
      () => {
        expect(Date.now() - start).toBeGreaterThan(2 * SESSION_INTERVAL_S * 1000);
        expect(refreshes().filter((r) => r.answered).length).toBeGreaterThanOrEqual(1);
      },
      { timeout: 2 * SESSION_INTERVAL_S * 1000 + STEP_TIMEOUT, interval: 250 },
    );
    expect(refreshes().every((r) => r.answered), JSON.stringify(refreshes())).toBe(true);
    await waitFlowing(page, baresip, await counts(page, baresip));
    expect(await page.evaluate(() => window.softphone.callState())).toBe('in-call');
  }

  it('a call to baresip outlasts two session intervals: the gateway refreshes the page, audio both ways', async () => {
    await withDiagnostics(rig.diagnostics, async () => {
      const from = baresip.events.length;
      const logAt = rig.gatewayLog.length;
      expect(await dial(page, NUMBER)).toBe('in-call');
      const start = Date.now();
      await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
      await waitFlowing(page, baresip);

      // Our 2xx named us refresher (sip.js asked for no timer): a re-INVITE (sip.js allows no UPDATE)
      // over the WebSocket at half the interval, which the page answers 200.
      await outlastTwoIntervals(start, () => refreshesSent('ws#', logAt));
      expect(baresip.events.slice(from).map((e) => e.type)).not.toContain('CALL_CLOSED');
      expect(await hangUp(page)).toBe('Hung up');
      await baresip.waitForEvent('CALL_CLOSED', { from });
    });
  });

  it('a call from baresip outlasts two session intervals: baresip receives and answers the refreshes', async () => {
    await withDiagnostics(rig.diagnostics, async () => {
      const from = baresip.events.length;
      const logAt = rig.gatewayLog.length;
      const outputAt = baresip.output().length;
      await baresip.dial(`sip:${DID}@127.0.0.1:${sipUdpPort(rig.config)}`);
      await waitForIncoming(page);
      await page.evaluate(() => window.softphone.accept());
      await baresip.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
      const start = Date.now();
      await waitFlowing(page, baresip);

      // baresip asked for no timer: our 2xx named us refresher (trunks: true), so the gateway refreshes it.
      await outlastTwoIntervals(start, () => refreshesSent('udp#', logAt));
      const atFar = requestsToFar(baresip, outputAt).filter((r) => ['INVITE', 'UPDATE'].includes(r.method));
      expect(atFar.length).toBeGreaterThanOrEqual(1);
      for (const r of atFar) expect(r.text).toMatch(/^Session-Expires: *\d+/im);
      expect(baresip.events.slice(from).map((e) => e.type)).not.toContain('CALL_CLOSED');
      await baresip.hangup();
      await page.waitForFunction(() => window.softphone.callState() === 'ended', null, { timeout: STEP_TIMEOUT });
    });
  });
});
