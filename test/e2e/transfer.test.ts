// End to end (issue 9 items 1 + 6): call transfer from the page in real Chromium. alice (1000 Hz
// microphone) calls baresip "far" (440 Hz) through a trunk; a second baresip "target" (660 Hz) is reached
// through another trunk. The page's transfer control (web/transfer.js, web/transfer-view.js), clicked as a
// user does — Transfer, the number, "Transfer call", or "Transfer to <party>" — sends sip.js's REFER:
//  - blind: the page holds the call (far answers recvonly), REFERs to the target's number; the gateway
//    dials it, joins far's leg to it, NOTIFYs 200 and hangs up the page; far is taken off hold by the
//    gateway (re-INVITE sendrecv, call/transfer-resume.ts) and far ⇄ target carry audio both ways,
//    counted at both baresips (their own RTP counters); the page says "Transferred";
//  - a failed blind transfer (no route, sipfrag 404): "Transfer failed: Number not in service" (details
//    line "SIP 404 No route"), the call is
//    taken off hold again and far ⇄ page audio flows again;
//  - attended: alice calls far, then target (far held by the page), and joins them — REFER in the
//    consultation call with Replaces naming the first (sip.js builds it); both page calls end, far is
//    taken off hold, far ⇄ target audio both ways.
// Addresses: 127.0.0.1 throughout (two-far-rig.ts), private network namespace per run.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { BaresipHandle, LiveAudio } from '../support/baresip.js';
import type { BrowserHandle } from '../support/browser.js';
import { STEP_TIMEOUT, dial, openPage, signIn, waitForIncoming, waitForTone, withDiagnostics } from './helpers.js';
import { FLOWING, counts, waitFlowing } from './midcall-rig.js';
import { startTwoFarRig, waitDir, type TwoFarRig } from './two-far-rig.js';

const FAR = '5551234';
const TARGET = '5552222';

interface View { id: number; peer: string; state: string; hold: string; current: boolean }
declare const window: {
  softphone: {
    calls(): View[]; callState(): string; callReason(): string; holdState(): string; accept(): Promise<void>;
    incoming(): { from: string; displayName: string } | null; remoteStats(): Promise<{ packetsReceived: number; packetsSent: number }>;
  };
};

/** Waits until both baresips sent and received FLOWING more packets than at `a0` / `b0`: far ⇄ target. */
async function waitBetween(a: BaresipHandle, a0: LiveAudio, b: BaresipHandle, b0: LiveAudio): Promise<void> {
  await vi.waitFor(
    async () => {
      const [a1, b1] = await Promise.all([a.liveAudio(), b.liveAudio()]);
      const d = { aSent: a1.txPackets - a0.txPackets, aReceived: a1.rxPackets - a0.rxPackets, bSent: b1.txPackets - b0.txPackets, bReceived: b1.rxPackets - b0.rxPackets };
      expect(Math.min(d.aSent, d.aReceived, d.bSent, d.bReceived), JSON.stringify(d)).toBeGreaterThanOrEqual(FLOWING);
    },
    { timeout: STEP_TIMEOUT, interval: 250 },
  );
}

/** Opens the page's transfer panel (the in-call "Transfer" button) unless it is open. */
async function openTransfer(page: Page): Promise<void> {
  if (await page.locator('#transfer').isHidden()) await page.getByRole('button', { name: 'Transfer', exact: true }).click();
}

/** Blind transfer as a user does it: Transfer, the number, "Transfer call". */
async function transferTo(page: Page, number: string): Promise<void> {
  await openTransfer(page);
  await page.getByLabel('Transfer to number').fill(number);
  await page.getByRole('button', { name: 'Transfer call' }).click();
}

/** Waits for the transfer line under the call to say `text`. */
async function transferStatus(page: Page, text: string): Promise<void> {
  await expect.poll(() => page.textContent('#transfer-status'), { timeout: STEP_TIMEOUT, interval: 100 }).toBe(text);
}

async function waitNoCalls(page: Page, gateway: Gateway): Promise<void> {
  await page.waitForFunction(() => window.softphone.calls().length === 0, null, { timeout: STEP_TIMEOUT });
  await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
}

describe('e2e: transfer from the page', () => {
  let rig: TwoFarRig;
  let far: BaresipHandle;
  let target: BaresipHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;
  let page: Page;
  const diagnostics = (): string => rig?.diagnostics() ?? '';

  beforeAll(async () => {
    rig = await startTwoFarRig({
      tmpPrefix: 'e2e-transfer-',
      far: { user: FAR },
      second: { user: TARGET, label: 'target' },
      patch: (f, t) => ({
        trunks: [
          { name: 'far', uri: `${f.trunkUri};transport=udp`, keepalive: false },
          { name: 'target', uri: `${t.trunkUri};transport=udp`, keepalive: false },
        ],
        routes: [
          { match: `^${FAR}$`, trunk: 'far' },
          { match: `^${TARGET}$`, trunk: 'target' },
        ],
      }),
    });
    ({ far, second: target, gateway, browser, page } = rig);
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('blind: a failed target leaves the call on (taken off hold); then the far party lands on the target with audio both ways', async () => {
    await withDiagnostics(diagnostics, async () => {
      const farFrom = far.events.length;
      expect(await dial(page, FAR)).toBe('in-call');
      await far.waitForEvent('CALL_ESTABLISHED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      await waitFlowing(page, far);

      // No route for 5559999: the gateway's NOTIFY says 404; the page had held the call and resumes it.
      await transferTo(page, '5559999');
      // People's words; the SIP code only in the details line under it.
      await transferStatus(page, 'Transfer failed: Number not in service');
      expect(await page.textContent('#transfer-detail')).toBe('SIP 404 No route');
      await page.waitForFunction(() => window.softphone.holdState() === 'active', null, { timeout: STEP_TIMEOUT });
      await waitDir(far, 'sendrecv');
      await waitFlowing(page, far, await counts(page, far));
      await waitForTone(page, 440, 660);

      // The transfer proper: hold (far recvonly), REFER, target rings and answers, NOTIFY 200, BYE to the page.
      const targetFrom = target.events.length;
      await transferTo(page, TARGET);
      await transferStatus(page, 'Transferred');
      await target.waitForEvent('CALL_ESTABLISHED', { from: targetFrom, timeoutMs: STEP_TIMEOUT });
      await page.waitForFunction(() => window.softphone.callState() === 'ended', null, { timeout: STEP_TIMEOUT });
      expect(await page.evaluate(() => window.softphone.callReason())).toBe('Transferred');
      // RFC 3892: the target learns who referred (the signed-in user, not what the page claimed)
      expect(target.output()).toMatch(/Referred-By: <sip:1001@127\.0\.0\.1>/); // alice's extension
      // The gateway took far off hold toward the target (re-INVITE sendrecv), and audio flows both ways.
      await waitDir(far, 'sendrecv');
      const [f0, t0] = await Promise.all([far.liveAudio(), target.liveAudio()]);
      await waitBetween(far, f0, target, t0);
      expect(far.events.slice(farFrom).some((e) => e.type === 'CALL_CLOSED')).toBe(false);

      // far hangs up: the target gets BYE, nothing is left.
      await far.hangup();
      await target.waitForEvent('CALL_CLOSED', { from: targetFrom, timeoutMs: STEP_TIMEOUT });
      await waitNoCalls(page, gateway);
    });
  });

  it('attended: two calls in the page joined (REFER with Replaces); the held first party hears the second', async () => {
    await withDiagnostics(diagnostics, async () => {
      const farFrom = far.events.length;
      const targetFrom = target.events.length;
      expect(await dial(page, FAR)).toBe('in-call');
      await far.waitForEvent('CALL_ESTABLISHED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      // The consultation call: the page holds the first (far recvonly) and calls the target.
      await page.getByRole('button', { name: 'Add call' }).click();
      await page.fill('#number', TARGET);
      await page.click('#call-btn');
      await target.waitForEvent('CALL_ESTABLISHED', { from: targetFrom, timeoutMs: STEP_TIMEOUT });
      await waitDir(far, 'recvonly');
      await page.waitForFunction(() => window.softphone.calls().filter((c) => c.state === 'in-call').length === 2, null, { timeout: STEP_TIMEOUT });
      await waitFlowing(page, target);
      const [first, second] = await page.evaluate(() => window.softphone.calls());
      expect(first).toMatchObject({ peer: FAR, hold: 'held', current: false });
      expect(second).toMatchObject({ peer: TARGET, current: true });
      // the page's transfer control offers the other call (attended) next to a number field (blind)
      await openTransfer(page);
      expect(await page.locator('#transfer-calls button').allTextContents()).toEqual([`Transfer to ${FAR}`]);

      // "Transfer to 5551234" from the consultation call: both page calls end, far and target talk.
      await openTransfer(page);
      await page.getByRole('button', { name: `Transfer to ${FAR}` }).click();
      await transferStatus(page, 'Transferred');
      await waitNoCallsInPage(page);
      await waitDir(far, 'sendrecv');
      const [f0, t0] = await Promise.all([far.liveAudio(), target.liveAudio()]);
      await waitBetween(far, f0, target, t0);
      for (const b of [far, target]) expect(b.events.slice(b === far ? farFrom : targetFrom).some((e) => e.type === 'CALL_CLOSED')).toBe(false);

      await target.hangup();
      await far.waitForEvent('CALL_CLOSED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      await waitNoCalls(page, gateway);
    });
  });

  it('blind to a local user: bob\'s page rings with the far party as caller, answers, and bob and the far party hear each other', async () => {
    await withDiagnostics(diagnostics, async () => {
      const bob = await browser.newPage();
      await openPage(bob, gateway.httpUrl);
      await signIn(bob, 'bob', 'bob');
      const farFrom = far.events.length;
      expect(await dial(page, FAR)).toBe('in-call');
      await far.waitForEvent('CALL_ESTABLISHED', { from: farFrom, timeoutMs: STEP_TIMEOUT });
      await transferTo(page, '1002');
      // bob's page rings with the far party's number as the caller, and answers
      const rings = await waitForIncoming(bob);
      expect(rings.from).toBe(FAR);
      await bob.evaluate(() => window.softphone.accept());
      await transferStatus(page, 'Transferred');
      await page.waitForFunction(() => window.softphone.callState() === 'ended', null, { timeout: STEP_TIMEOUT });
      // far taken off hold; bob hears far's 440 Hz, far receives bob's packets
      await waitDir(far, 'sendrecv');
      await waitFlowing(bob, far);
      await waitForTone(bob, 440, 660);
      await far.hangup();
      await bob.waitForFunction(() => window.softphone.callState() === 'ended', null, { timeout: STEP_TIMEOUT });
      await waitNoCalls(page, gateway);
      await bob.close();
    });
  });
});

async function waitNoCallsInPage(page: Page): Promise<void> {
  await page.waitForFunction(() => window.softphone.calls().length === 0, null, { timeout: STEP_TIMEOUT });
}
