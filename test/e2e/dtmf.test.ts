// End to end: DTMF from real Chromium to baresip (a real SIP phone behind the trunk), both ways the page
// can send it: keypad presses (RTCDTMFSender: RFC 4733 relayed by the gateway as they are) and SIP INFO
// application/dtmf-relay from the page's sip.js session (JsSIP's default), which the gateway answers 200
// and turns into RFC 4733 events in its RTP stream toward baresip (call/dtmf.ts). baresip reports every
// RFC 4733 event it receives ("received event: '7' (end=0)" at the start, "(end=1)" at the end) and every
// INFO digit ("call: received DTMF: …"): the INFO must reach it as events, never as an INFO.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaresipHandle } from '../support/baresip.js';
import type { BrowserHandle } from '../support/browser.js';
import { STEP_TIMEOUT, dial, hangUp, waitForPackets } from './helpers.js';
import { NUMBER, startRig, type MidcallRig } from './midcall-rig.js';

/** The RFC 4733 events baresip printed, as "digit:end" in order. */
function eventsAt(baresip: BaresipHandle, from: number): string[] {
  return [...baresip.output().slice(from).matchAll(/received event: '(.)' \(end=(\d)\)/g)].map((m) => `${m[1]}:${m[2]}`);
}

describe('e2e: DTMF from the page to baresip', () => {
  let rig: MidcallRig;
  let baresip: BaresipHandle;
  let browser: BrowserHandle;

  beforeAll(async () => {
    rig = await startRig(); // baresip (NUMBER) behind the trunk, alice signed in (midcall-rig.ts)
    ({ baresip, browser } = rig);
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('keypad 1, #, 9 and an INFO "7" each reach baresip as one RFC 4733 event with its end; the INFO never reaches it as INFO', async () => {
    const { page } = browser;
    const from = baresip.output().length;
    expect(await dial(page, NUMBER)).toBe('in-call');
    await baresip.waitForEvent('CALL_ESTABLISHED');
    await waitForPackets(page, 25);

    // In a call the dial pad is behind the Keypad button of the in-call view.
    await page.getByRole('button', { name: 'Keypad', exact: true }).click();
    for (const key of ['1', '#', '9']) {
      await page.click(`#keypad button[data-key="${key}"]`);
      await baresip.waitForOutput(new RegExp(`received event: '${key}' \\(end=1\\)`), STEP_TIMEOUT);
    }
    // sip.js sends the INFO in the call's dialog; the gateway answers 200 and plays the digit as events
    const status = await page.evaluate(() => window.softphone.infoDtmf('7', 200));
    expect(status).toBe(200);
    await baresip.waitForOutput(/received event: '7' \(end=1\)/, STEP_TIMEOUT);
    const events = eventsAt(baresip, from);
    const digits = events.filter((e) => e.endsWith(':1')).map((e) => e[0]);
    expect(digits).toEqual(['1', '#', '9', '7']);
    expect(events.filter((e) => e.startsWith('7:0'))).toHaveLength(1);
    expect(baresip.output().slice(from)).not.toMatch(/received DTMF/);
    expect(await hangUp(page)).toBe('Hung up');
  });
});

declare const window: { softphone: { infoDtmf(signal: string, durationMs: number): Promise<number> } };
