// End to end: DTMF from real Chromium to baresip (a real SIP phone behind the trunk), both ways the page
// can send it: keypad presses (RTCDTMFSender: RFC 4733 relayed by the gateway as they are) and SIP INFO
// application/dtmf-relay from the page's sip.js session (JsSIP's default), which the gateway answers 200
// and turns into RFC 4733 events in its RTP stream toward baresip (call/dtmf.ts). baresip reports every
// RFC 4733 event it receives ("received event: '7' (end=0)" at the start, "(end=1)" at the end) and every
// INFO digit ("call: received DTMF: …"): the INFO must reach it as events, never as an INFO.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { writeSineWav } from '../support/tone.js';
import { STEP_TIMEOUT, dial, e2eConfig, hangUp, openPage, signIn, startGateway, waitForPackets } from './helpers.js';

const NUMBER = '5557070';

/** The RFC 4733 events baresip printed, as "digit:end" in order. */
function eventsAt(baresip: BaresipHandle, from: number): string[] {
  return [...baresip.output().slice(from).matchAll(/received event: '(.)' \(end=(\d)\)/g)].map((m) => `${m[1]}:${m[2]}`);
}

describe('e2e: DTMF from the page to baresip', () => {
  let dir: string;
  let baresip: BaresipHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-dtmf-'));
    const farTone = writeSineWav({ freqHz: 440, seconds: 60, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: 1000, seconds: 30, sampleRate: 48000, amplitude: 0.5 }, dir);
    baresip = await startBaresip({ sourceWav: farTone, user: NUMBER, rtpPorts: [31000, 31999] });
    const config = await e2eConfig({
      trunks: [{ name: 'far', uri: `${baresip.trunkUri};transport=udp` }],
      routes: [{ match: '^[0-9]{3,15}$', trunk: 'far' }],
    });
    gateway = await startGateway(config);
    browser = await launchBrowser({ fakeAudioWav: micTone });
    await openPage(browser.page, gateway.httpUrl);
    await signIn(browser.page, 'alice', 'alice');
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await baresip?.stop();
    rmSync(dir, { recursive: true, force: true });
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
