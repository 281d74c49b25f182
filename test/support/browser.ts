// Real Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
// (no browser download, ever). Fake microphone/camera, no permission prompts, autoplay allowed.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface BrowserOptions {
  /** WAV played as the fake microphone (Chromium loops it); default: Chromium's built-in beep. */
  fakeAudioWav?: string;
  /** Extra Chromium switches. */
  args?: string[];
  /** Collect the page's console output and page errors (default true). */
  captureConsole?: boolean;
  /** Run Chromium inside this network namespace (a test-bed host, test/support/netbed): playwright
   *  launches a wrapper script that execs `ip netns exec <netns> chromium`; it talks to Chromium over
   *  a pipe, so no network path to the browser is needed. */
  netns?: string;
}

export interface BrowserHandle {
  context: BrowserContext;
  page: Page;
  /** Opens another page (tab) in the same browser, its console captured too (e.g. a second
   *  softphone: each page runs its own SIP stack, so it is a distinct registration). */
  newPage(): Promise<Page>;
  /** Console lines and uncaught page errors, oldest first ("[type] text"). */
  consoleLines: string[];
  /** Kills the browser and removes its profile directory. Safe to call twice. */
  close(): Promise<void>;
}

export function chromiumArgs(opts: BrowserOptions = {}): string[] {
  return [
    '--no-sandbox',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--allow-loopback-in-peer-connection',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    // Keep WebRTC/timers running at full speed although the page is never "visible".
    '--disable-renderer-backgrounding',
    '--disable-background-timer-throttling',
    '--disable-backgrounding-occluded-windows',
    ...(opts.fakeAudioWav ? [`--use-file-for-fake-audio-capture=${opts.fakeAudioWav}`] : []),
    ...(opts.args ?? []),
  ];
}

/** Launches headless Chromium with a fresh profile dir; the first page is ready to navigate. */
export async function launchBrowser(opts: BrowserOptions = {}): Promise<BrowserHandle> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const wrapperDir = opts.netns ? mkdtempSync(join(tmpdir(), 'chromium-netns-')) : undefined;
  const removeDirs = (): void => {
    rmSync(profile, { recursive: true, force: true });
    if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
  };
  let executablePath = CHROMIUM_PATH;
  if (wrapperDir && opts.netns) {
    if (!/^[A-Za-z0-9._-]+$/.test(opts.netns)) throw new Error(`launchBrowser: unusable netns name "${opts.netns}"`);
    executablePath = join(wrapperDir, 'chromium');
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${opts.netns} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: chromiumArgs(opts),
      permissions: ['microphone'],
      timeout: 60_000,
    });
  } catch (err) {
    removeDirs();
    throw new Error(`launchBrowser: could not start ${executablePath}: ${(err as Error).message}`);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines: string[] = [];
  let pages = 0;
  const capture = (p: Page): Page => {
    const tag = pages++ === 0 ? '' : `page ${pages} `;
    if (opts.captureConsole !== false) {
      p.on('console', (m) => consoleLines.push(`${tag}[${m.type()}] ${m.text()}`));
      p.on('pageerror', (e) => consoleLines.push(`${tag}[pageerror] ${e.message}`));
    }
    return p;
  };
  capture(page);
  let closed = false;
  return {
    context,
    page,
    newPage: async () => capture(await context.newPage()),
    consoleLines,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      removeDirs();
    },
  };
}
