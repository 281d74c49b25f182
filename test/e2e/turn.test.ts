// End to end: the page gets its TURN servers from the gateway at sign-in and real Chromium allocates relays
// on Debian's coturn with them, over UDP and over TCP (the credential the gateway minted is what coturn checks).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { startCoturn, type CoturnHandle } from '../support/coturn.js';
import { stopAllProcesses } from '../support/process.js';
import { dial, e2eConfig, hangUp, openPage, signIn, startGateway } from './helpers.js';

const SECRET = 'e2e-turn-secret';

describe('e2e: TURN servers from the gateway', () => {
  let coturn: CoturnHandle;
  let gateway: Gateway;
  let browser: BrowserHandle;

  beforeAll(async () => {
    coturn = await startCoturn({ secret: SECRET, relayPorts: '46100-46199' });
    const host = `${coturn.address}:${coturn.port}`;
    gateway = await startGateway(await e2eConfig({ turn: { urls: [`turn:${host}?transport=udp`, `turn:${host}?transport=tcp`], secret: SECRET, ttl: 600 } }));
    browser = await launchBrowser();
    await openPage(browser.page, gateway.httpUrl);
    await signIn(browser.page, 'alice', 'alice');
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await coturn?.stop();
    await stopAllProcesses();
  });

  it('Chromium allocates relays on coturn over UDP and TCP with the credential it was handed', async () => {
    const { page } = browser;
    expect(await dial(page, '*43')).toBe('in-call');
    // coturn's own log is the ground truth: it accepted allocations for the REST-API username "<expiry>:alice"
    // the gateway minted, one per URL handed out (UDP and TCP), and a TCP client was among them.
    const allocated = /session (\d+): realm <turn\.test> user <\d+:alice>: incoming packet ALLOCATE processed, success/g;
    await vi.waitFor(
      () => {
        const log = coturn.log();
        expect(new Set([...log.matchAll(allocated)].map((m) => m[1])).size, log.slice(-3000)).toBe(2);
        expect(log).toMatch(/tcp or tls connected to: 127\.0\.0\.1:\d+/);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await hangUp(page)).toBe('Hung up');
  });

  it('a wrong password fails the sign-in at the ICE server request, with the registration error', async () => {
    const other = await browser.newPage();
    await openPage(other, gateway.httpUrl);
    const asked = other.waitForResponse((r) => r.url().endsWith('/api/ice-servers'));
    await expect(signIn(other, 'alice', 'wrong')).rejects.toThrow(/Wrong user or password \(401\)/);
    const res = await asked;
    expect(res.status()).toBe(401);
    expect(res.headers()['www-authenticate']).toBeUndefined();
    await other.close();
  });
});
