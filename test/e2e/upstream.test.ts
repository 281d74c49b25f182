// End to end: the browser as an extension of the user's own PBX. Debian Kamailio plays the PBX (digest
// auth on); the gateway registers alice's PBX account (alice1) there while alice's page is signed in;
// baresip, registered on Kamailio as another account (carol), calls alice1; the page rings, the test
// accepts, and audio flows both ways: baresip's 440 Hz tone is heard in the browser, and baresip
// counts the RTP the browser sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { loadConfigFile } from '../../gateway/config/load.js';
import { startBaresip, type BaresipHandle } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startKamailio, type KamailioContact, type KamailioHandle } from '../support/kamailio.js';
import { writeSineWav } from '../support/tone.js';
import { DEFAULT_CONFIG_FILE, STEP_TIMEOUT, e2eConfig, hangUp, openPage, signIn, startGateway, waitForPackets, waitForTone } from './helpers.js';

const PBX_ACCOUNTS = { alice1: 'alice1-pbx-secret', carol: 'carol-pbx-secret' };

type Hook = {
  incoming(): { from: string; displayName: string } | null;
  accept(): Promise<void>;
  callState(): string;
};
declare const window: { softphone: Hook };

/** Polls Kamailio's location table until `test` holds (Kamailio reports no events to wait on). */
async function kamContacts(kam: KamailioHandle, aor: string, test: (c: KamailioContact[]) => boolean): Promise<KamailioContact[]> {
  const deadline = Date.now() + STEP_TIMEOUT;
  for (;;) {
    const contacts = await kam.registeredContacts(aor);
    if (test(contacts)) return contacts;
    if (Date.now() > deadline) throw new Error(`Kamailio location for ${aor}: still ${JSON.stringify(contacts)}`);
    await new Promise((r) => setTimeout(r, 200)); // poll interval, not a race fix
  }
}

/** baresip's second user agent: carol's account on Kamailio (registering, with digest). Made the
 *  current UA so `dial` places calls as carol through Kamailio. */
async function registerCarol(baresip: BaresipHandle, kam: KamailioHandle): Promise<string> {
  const aor = `sip:carol@127.0.0.1:${kam.port}`;
  const from = baresip.events.length;
  await baresip.command('uanew', `<${aor}>;auth_pass=${PBX_ACCOUNTS.carol};regint=300;answermode=manual`);
  await baresip.waitForEvent('REGISTER_OK', { from, timeoutMs: STEP_TIMEOUT });
  await baresip.command('uafind', aor);
  return aor;
}

async function waitForRing(page: Page): Promise<{ from: string; displayName: string }> {
  await page.waitForFunction(() => window.softphone.incoming() !== null, null, { timeout: STEP_TIMEOUT });
  return page.evaluate(() => window.softphone.incoming()!);
}

describe('e2e: a call to the user’s own PBX account rings the browser', () => {
  let dir: string;
  let kam: KamailioHandle | undefined;
  let baresip: BaresipHandle | undefined;
  let gateway: Gateway | undefined;
  let browser: BrowserHandle | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-upstream-'));
    const farTone = writeSineWav({ freqHz: 440, seconds: 60, sampleRate: 8000, amplitude: 0.5 }, dir);
    const micTone = writeSineWav({ freqHz: 1000, seconds: 30, sampleRate: 48000, amplitude: 0.5 }, dir);
    kam = await startKamailio({ accounts: PBX_ACCOUNTS });
    baresip = await startBaresip({ sourceWav: farTone, user: 'carol', rtpPorts: [31000, 31999] });
    await registerCarol(baresip, kam);
    const users = loadConfigFile(DEFAULT_CONFIG_FILE).users.map((u) =>
      u.name === 'alice' ? { ...u, upstream: { registrar: kam!.uri, username: 'alice1', password: PBX_ACCOUNTS.alice1 } } : u,
    );
    gateway = await startGateway(await e2eConfig({ users }));
    browser = await launchBrowser({ fakeAudioWav: micTone });
    await openPage(browser.page, gateway.httpUrl);
  });

  afterAll(async () => {
    // Each step runs even when an earlier one throws: Kamailio and baresip must not outlive the file.
    const steps = [() => browser?.close(), () => gateway?.stop(), () => baresip?.stop(), () => kam?.stop()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("signing in registers alice's PBX account at Kamailio (its location table holds the gateway's contact)", async () => {
    expect(await kam!.registeredContacts('alice1')).toEqual([]);
    await signIn(browser!.page, 'alice', 'alice');
    const [contact] = await kamContacts(kam!, 'alice1', (c) => c.length === 1);
    const udp = gateway!.sipAddress('udp')!;
    expect(contact!.address).toMatch(new RegExp(`^sip:gw[0-9a-f]+@127\\.0\\.0\\.1:${udp.port}$`));
  });

  it('carol calls alice1 on the PBX: the page rings, accepts, audio flows both ways', async () => {
    const { page } = browser!;
    const b = baresip!;
    const from = b.events.length;
    await b.command('dial', `sip:alice1@127.0.0.1:${kam!.port}`);
    const caller = await waitForRing(page);
    expect(`${caller.displayName} ${caller.from}`).toMatch(/carol/);
    await page.evaluate(() => window.softphone.accept());
    await b.waitForEvent('CALL_ESTABLISHED', { from, timeoutMs: STEP_TIMEOUT });
    await page.waitForFunction(() => window.softphone.callState() === 'in-call', null, { timeout: STEP_TIMEOUT });

    const stats = await waitForPackets(page, 150);
    expect(stats.packetsReceived).toBeGreaterThanOrEqual(100);
    const tone = await waitForTone(page, 440, 3300);
    expect(tone.level).toBeGreaterThan(5 * tone.other);

    const calls = b.callStats.length;
    await hangUp(page);
    await b.waitForEvent('CALL_CLOSED', { from, timeoutMs: STEP_TIMEOUT });
    const far = await b.waitForCallStats(calls, STEP_TIMEOUT);
    expect(far.rxPackets).toBeGreaterThanOrEqual(100);
    await vi.waitFor(() => expect(gateway!.status().calls).toBe(0), { timeout: 10_000, interval: 100 });
  });

  it("closing the page unregisters alice's PBX account", async () => {
    await browser!.close();
    browser = undefined;
    await kamContacts(kam!, 'alice1', (c) => c.length === 0);
  });
});
