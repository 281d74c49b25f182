// End to end (issue 10 items 4, 5, 7): the page as `npm run build` makes it, in real Chromium. The first
// load is counted on the wire (requests, encoded bytes, cache headers); the page at 360 px and in dark
// mode; focus after sign-in and when a call rings; keyboard dialling; `?call=` dialling after sign-in; an
// incoming call raising a notification (through the service worker, Accept / Decline actions) in a page
// that is not in front; call history surviving a reload, and redial from it. Alice and bob are two tabs
// of one browser (one origin: the storage is shared, the history is kept per user).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/app.js';
import { IMMUTABLE, NO_CACHE } from '../../gateway/http/web-bundle.js';
import { buildWebBundle } from '../../gateway/http/web-build.js';
import { buildGateway } from '../../gateway/app.js';
import { createLogger } from '../../gateway/log.js';
import { freePort } from '../support/baresip.js';
import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { STEP_TIMEOUT, e2eConfig, openPage, signIn, waitForEnded, waitForIncoming } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.90.1'; // this lane's block; loopback, so a secure context (service worker, notifications)
const BOB = '1002'; // sip-config/gateway.yaml: alice 1001, bob 1002

declare const window: { softphone: { state(): string; stateReason(): string; callState(): string; incomingState(): string; recentCalls(): Array<{ direction: string; from: string; outcome: string }>; missedCalls(): Array<{ from: string }> }; __notes: Note[] };
type Note = { via: 'sw' | 'page'; title: string; tag?: string; actions?: string[] };
// Browser globals inside page.evaluate()/init scripts (the tests compile without the DOM lib).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const navigator: { serviceWorker: { ready: Promise<unknown> } };
declare const localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } & Record<string, unknown>;
declare function getComputedStyle(el: unknown): { backgroundColor: string };
declare class ServiceWorkerRegistration { showNotification(title: string, options?: NotificationOptions): Promise<void> }
declare class Notification { constructor(title: string, options?: NotificationOptions) }
type NotificationOptions = { tag?: string; body?: string; actions?: Array<{ action: string; title: string }> };

/** Records every notification the page raises, through the service worker or the constructor. */
function hookNotifications(): void {
  const w = window as unknown as { __notes: Note[]; Notification: typeof Notification };
  w.__notes = [];
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title: string, options?: NotificationOptions) {
    w.__notes.push({ via: 'sw', title, tag: options?.tag, actions: options?.actions?.map((a) => a.action) });
    return show.call(this, title, options);
  };
  const Plain = w.Notification;
  w.Notification = class extends Plain {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.__notes.push({ via: 'page', title, tag: options?.tag });
    }
  } as typeof Notification;
}

/** Real focus: with Playwright's focus emulation off, only the tab brought to front has it. */
async function realFocus(browser: BrowserHandle, page: Page): Promise<void> {
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
}

async function noHorizontalScroll(page: Page): Promise<{ scroll: number; client: number }> {
  return page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
}

describe('e2e: the page delivered — bundle, first load, accessibility, reach, memory', () => {
  let gateway: Gateway;
  let browser: BrowserHandle;
  let bob: Page;
  let bundleDir: string;

  beforeAll(async () => {
    // The README's build, as `npm ci` runs it (prepare), writes build/web/ …
    const out = execFileSync('npm', ['run', 'build'], { cwd: repo, encoding: 'utf8' });
    expect(out).toMatch(/page bundle in build\/web\//);
    expect(existsSync(path.join(repo, 'build', 'web', 'manifest.json'))).toBe(true);
    // … and the gateway serves the same build from a directory of this test's own (another worker's
    // `npm run build` cannot swap it underneath).
    bundleDir = mkdtempSync(path.join(tmpdir(), 'e2e-bundle-'));
    await buildWebBundle(repo, path.join(bundleDir, 'web'));
    const sipPort = await freePort();
    const config = await e2eConfig({ http: { listen: `${HOST}:0` } });
    const patched = {
      ...config,
      sip: { ...config.sip, listen: [`udp:${HOST}:${sipPort}`, `tcp:${HOST}:${sipPort}`] },
      media: { ...config.media, address: HOST },
      // The default lockout (5 failures per source): this test signs in and out 10 times from one source,
      // so a reload or Sign out counted as a failed authentication would lock it out (a replayed nonce count
      // with a matching digest is answered stale, sip/auth/server.ts).
    };
    gateway = buildGateway(patched, { logger: createLogger(patched.log.level), webBundleDir: path.join(bundleDir, 'web') });
    await gateway.start();
    browser = await launchBrowser();
    await browser.context.grantPermissions(['notifications'], { origin: new URL(gateway.httpUrl).origin });
    await browser.context.addInitScript(hookNotifications);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it('first load: ≤ 5 requests, < 200 kB on the wire, compressed; hashed script immutable, index.html no-cache', async () => {
    const { page, context } = browser;
    const requests: Request[] = [];
    const onRequest = (r: Request): void => void requests.push(r);
    context.on('request', onRequest);
    await page.goto(gateway.httpUrl);
    await page.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.waitForLoadState('networkidle');
    const finished = await Promise.all(requests.map(async (r) => ({ url: r.url(), sizes: await r.sizes(), headers: (await r.response())?.headers() ?? {} })));
    const bytes = finished.reduce((sum, r) => sum + r.sizes.responseBodySize + r.sizes.responseHeadersSize, 0);
    const urls = finished.map((r) => new URL(r.url).pathname);
    console.log(`first load: ${finished.length} requests, ${bytes} bytes: ${urls.join(' ')}`);
    expect(finished.length).toBeLessThanOrEqual(5);
    expect(bytes).toBeLessThan(200_000);
    const script = finished.find((r) => /^\/app-[A-Z0-9]+\.js$/.test(new URL(r.url).pathname));
    expect(script, urls.join(' ')).toBeDefined();
    expect(script!.headers['cache-control']).toBe(IMMUTABLE);
    expect(script!.headers['content-encoding']).toBe('br');
    const index = finished.find((r) => new URL(r.url).pathname === '/')!;
    expect(index.headers['cache-control']).toBe(NO_CACHE);
    expect(index.headers['content-encoding']).toBe('br');
    // The CSS is inside index.html; the hashed name in it is the built one.
    const manifest = JSON.parse(readFileSync(path.join(bundleDir, 'web', 'manifest.json'), 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(manifest.files)).toContain(new URL(script!.url).pathname);
    expect(await page.locator('link[rel="stylesheet"]').count()).toBe(0);
    // A reload revalidates index.html (304) and takes the script from the cache: no request for it.
    requests.length = 0;
    await page.reload();
    await page.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    await page.waitForLoadState('networkidle');
    expect(requests.filter((r) => r.url().includes('/app-')).every((r) => r.redirectedFrom() === null)).toBe(true);
    context.off('request', onRequest);
  });

  it('360 px wide without horizontal scroll, dark mode, labels, focus on the number after sign-in, keyboard dialling', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 360, height: 740 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(dark).toBe('rgb(18, 21, 27)');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(238, 241, 246)');
    let width = await noHorizontalScroll(page);
    expect(width.scroll).toBeLessThanOrEqual(width.client);
    // Named for a screen reader: the form's fields by their labels.
    await expect(page.getByRole('textbox', { name: 'User' }).count()).resolves.toBe(1);
    await expect(page.getByLabel('Password').count()).resolves.toBe(1);

    await signIn(page, 'alice', 'alice');
    await page.waitForFunction(() => document.activeElement?.id === 'number', null, { timeout: STEP_TIMEOUT });
    await page.waitForFunction(() => document.getElementById('announce')?.textContent === 'Signed in as alice', null, { timeout: STEP_TIMEOUT });
    width = await noHorizontalScroll(page);
    expect(width.scroll).toBeLessThanOrEqual(width.client);
    for (const name of ['Number to call', 'Call', 'Sign out', 'Do not disturb']) {
      expect(await page.getByRole(name === 'Number to call' ? 'textbox' : 'button', { name, exact: true }).count(), name).toBe(1);
    }
    expect(await page.getByRole('group', { name: 'Dial pad' }).getByRole('button').count()).toBe(12);

    // Keyboard dialling: digits typed with the focus outside any field go to the number.
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.type('1*0#2+');
    expect(await page.inputValue('#number')).toBe('1*0#2+');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    expect(await page.inputValue('#number')).toBe('1*0#');
    // Inside a field the key is the field's: the user-name field is not the number.
    await page.fill('#number', '');
  });

  it('?call= dials after sign-in; the background tab rings with a notification (Accept / Decline) and focus on Accept', async () => {
    const { page } = browser;
    bob = await browser.newPage();
    await bob.setViewportSize({ width: 360, height: 740 });
    await openPage(bob, gateway.httpUrl);
    await signIn(bob, 'bob', 'bob');
    await realFocus(browser, bob);
    await realFocus(browser, page);
    await page.goto(`${gateway.httpUrl}?call=${BOB}`);
    await page.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    await page.bringToFront();
    expect(await bob.evaluate(() => document.hasFocus())).toBe(false); // bob's tab is in the background
    expect(await page.evaluate(() => window.softphone.callState())).toBe('idle'); // nothing dials before sign-in
    await signIn(page, 'alice', 'alice');
    await page.waitForFunction(() => ['calling', 'ringing'].includes(window.softphone.callState()), null, { timeout: STEP_TIMEOUT });
    expect(new URL(page.url()).searchParams.has('call')).toBe(false); // a reload does not dial again

    const ring = await waitForIncoming(bob);
    expect(ring).toMatchObject({ from: '1001', displayName: 'alice' });
    // At 360 px, neither the ringing page nor the calling one scrolls sideways.
    for (const p of [bob, page]) {
      const width = await noHorizontalScroll(p);
      expect(width.scroll).toBeLessThanOrEqual(width.client);
    }
    await bob.waitForFunction(() => window.__notes.length > 0, null, { timeout: STEP_TIMEOUT });
    const notes = await bob.evaluate(() => window.__notes);
    expect(notes).toEqual([{ via: 'sw', title: 'Incoming call from alice (1001)', tag: 'incoming-call', actions: ['accept', 'decline'] }]);
    expect(await bob.evaluate(() => document.activeElement?.id)).toBe('accept-btn');
    await bob.waitForFunction(() => document.getElementById('announce')?.textContent === 'Incoming call from alice (1001)', null, { timeout: STEP_TIMEOUT });
    // The page in front shows its own panel: alice's tab raised none.
    expect(await page.evaluate(() => window.__notes.length)).toBe(0);

    // Alice gives up: bob's call is missed, its notification closed.
    await page.click('#hangup-btn');
    await waitForEnded(page);
    await bob.waitForFunction(() => window.softphone.missedCalls().length === 1, null, { timeout: STEP_TIMEOUT });
  });

  it('history survives a reload (per user); the missed-call count; redial from history', async () => {
    const { page } = browser;
    await bob.reload();
    await bob.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    // The last user name signed in on this browser (alice, in the other tab) is filled in; never a password.
    expect(await bob.inputValue('#user')).toBe('alice');
    expect(await bob.inputValue('#password')).toBe('');
    await signIn(bob, 'bob', 'bob');
    expect(await bob.evaluate(() => window.softphone.missedCalls())).toEqual([expect.objectContaining({ from: '1001' })]);
    expect(await bob.textContent('#missed-count')).toBe('1');
    expect(await bob.textContent('#missed-list')).toContain('Missed call from alice (1001)');
    // What the browser keeps: these keys only (no credential among them).
    const keys = await bob.evaluate(() => Object.keys(localStorage).sort());
    expect(keys.every((k) => /^webphone\.(lastUser|dnd|history\.(alice|bob)|missedSeen\.(alice|bob))$/.test(k)), keys.join(' ')).toBe(true);

    await page.reload();
    await page.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    await signIn(page, 'alice', 'alice');
    const recent = await page.evaluate(() => window.softphone.recentCalls());
    expect(recent[0]).toMatchObject({ direction: 'out', from: BOB });
    expect(await page.evaluate(() => window.softphone.missedCalls())).toEqual([]); // bob's missed call is his

    const redial = page.getByRole('button', { name: `Call ${BOB}` }).first();
    await redial.click();
    await waitForIncoming(bob);
    await page.click('#hangup-btn');
    await waitForEnded(page);
    await bob.waitForFunction(() => window.softphone.missedCalls().length === 2, null, { timeout: STEP_TIMEOUT });
  });

  it('keep me signed in: a reload signs in with a device token, never the password; Sign out revokes it', async () => {
    const { page } = browser;
    await bob.reload();
    await bob.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
    await bob.check('#keep-signed-in');
    await signIn(bob, 'bob', 'bob');
    await bob.waitForFunction(() => localStorage.getItem('webphone.device') !== null, null, { timeout: STEP_TIMEOUT });
    const kept = JSON.parse((await bob.evaluate(() => localStorage.getItem('webphone.device')))!) as { user: string; username: string; token: string; expiresAt: number };
    expect(Object.keys(kept).sort()).toEqual(['expiresAt', 'token', 'user', 'username']);
    expect(kept.user).toBe('bob');
    expect(kept.username).toMatch(/^bob~[0-9a-f]{16}$/);
    expect(kept.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const basic = `Basic ${Buffer.from(`${kept.username}:${kept.token}`).toString('base64')}`;
    const iceServers = new URL('/api/ice-servers', gateway.httpUrl).toString();
    expect((await fetch(iceServers, { headers: { authorization: basic } })).status).toBe(200);

    // A reload (a closed tab, a restarted browser) signs in again by itself, as bob: calls to bob ring it.
    await bob.reload();
    await bob.waitForFunction(() => typeof window.softphone === 'object' && window.softphone.state() === 'registered', null, { timeout: STEP_TIMEOUT }).catch(async (err: Error) => {
      throw new Error(`${err.message} ${await bob.evaluate(() => JSON.stringify([window.softphone.state(), window.softphone.stateReason(), localStorage.getItem('webphone.device'), document.getElementById('signin-error')?.textContent]))} ${browser.consoleLines.slice(-15).join('\n')}`);
    });
    expect(await bob.inputValue('#password')).toBe('');
    await page.fill('#number', BOB);
    await page.click('#call-btn');
    expect(await waitForIncoming(bob)).toMatchObject({ from: '1001' });
    await page.click('#hangup-btn');
    await waitForEnded(page);

    // Sign out revokes the token at the gateway and forgets it here.
    await bob.click('#signout-btn');
    await bob.waitForFunction(() => localStorage.getItem('webphone.device') === null, null, { timeout: STEP_TIMEOUT });
    await expect.poll(async () => (await fetch(iceServers, { headers: { authorization: basic } })).status, { timeout: STEP_TIMEOUT }).toBe(401);
    // A revoked token put back (a stolen copy) no longer signs in: the page forgets it and asks.
    await bob.evaluate((v) => localStorage.setItem('webphone.device', v), JSON.stringify(kept));
    await bob.reload();
    await bob.waitForFunction(() => typeof window.softphone === 'object' && window.softphone.state() === 'failed', null, { timeout: STEP_TIMEOUT });
    await bob.waitForFunction(() => localStorage.getItem('webphone.device') === null, null, { timeout: STEP_TIMEOUT });
    expect(await bob.textContent('#signin-error')).toBe('Signed out on this device: sign in again');
    expect(await bob.isVisible('#signin')).toBe(true);
  });
});
