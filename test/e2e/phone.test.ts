// End to end (b): real Chromium → gateway → SIP trunk → baresip, a real SIP phone that answers at
// once and plays a 440 Hz tone. RTP is counted on both far ends: the browser's getStats and
// baresip's own rtp_stats; hang-up is tried from each side.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import type { BaresipHandle } from '../support/baresip.js';
import type { BrowserHandle } from '../support/browser.js';
import { STEP_TIMEOUT, dial, hangUp, waitForEnded, waitForPackets, waitForTone } from './helpers.js';
import { NUMBER, startRig, type MidcallRig } from './midcall-rig.js';

describe('e2e: browser calls a real SIP phone through the trunk', () => {
  let rig: MidcallRig;
  let baresip: BaresipHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;

  beforeAll(async () => {
    // baresip answers INVITEs whose Request-URI user is its account user, NUMBER (midcall-rig.ts).
    rig = await startRig();
    ({ baresip, gateway, browser } = rig);
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('connects, carries ≥ 100 packets each way and the far 440 Hz tone; browser hang-up ends both legs', async () => {
    const { page } = browser;
    expect(await dial(page, NUMBER)).toBe('in-call');
    await baresip.waitForEvent('CALL_ESTABLISHED');

    const stats = await waitForPackets(page, 150);
    expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);
    expect(stats.packetsSent).toBeGreaterThanOrEqual(100);
    const tone = await waitForTone(page, 440, 3300);
    expect(tone.level).toBeGreaterThan(5 * tone.other);

    expect(await hangUp(page)).toBe('Hung up');
    // baresip saw the BYE: the peer reset the session.
    const closed = await baresip.waitForEvent('CALL_CLOSED');
    expect(closed.param).toBe('Connection reset by peer');
    const far = await baresip.waitForCallStats(0);
    expect(far.rxPackets).toBeGreaterThanOrEqual(100);
    expect(far.txPackets).toBeGreaterThanOrEqual(100);
    await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });

  it('sends keypad presses as RFC 4733 telephone-events that reach the far end', async () => {
    const { page } = browser;
    const from = baresip.events.length;
    expect(await dial(page, NUMBER)).toBe('in-call');
    await baresip.waitForEvent('CALL_ESTABLISHED', { from });
    await waitForPackets(page, 25);
    // In a call the dial pad is behind the Keypad button of the in-call view.
    await page.getByRole('button', { name: 'Keypad', exact: true }).click();
    await page.click('#keypad button[data-key="5"]');
    await baresip.waitForOutput(/received event: '5'/, STEP_TIMEOUT);
    // During a call the keypad sends DTMF instead of typing into the number field.
    expect(await page.inputValue('#number')).toBe(NUMBER);
    expect(await hangUp(page)).toBe('Hung up');
  });

  it('shows the call ended when the far end hangs up', async () => {
    const { page } = browser;
    const from = baresip.events.length;
    expect(await dial(page, NUMBER)).toBe('in-call');
    await baresip.waitForEvent('CALL_ESTABLISHED', { from });
    await waitForPackets(page, 50);
    await baresip.hangup();
    expect(await waitForEnded(page)).toBe('Remote party hung up');
    const closed = await baresip.waitForEvent('CALL_CLOSED', { from });
    expect(closed.param).toBe('Connection reset by user');
    await vi.waitFor(() => expect(gateway.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });
});
