// Shared steps of the end-to-end tests: a gateway on free loopback ports, and the page actions a
// person takes (sign in, dial, hang up), each waiting on a condition, never on a fixed sleep.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { pino } from 'pino';
import { buildGateway, type Gateway } from '../../gateway/app.js';
import { loadConfigFile, parseConfig, parseSipListen } from '../../gateway/config/load.js';
import type { GatewayConfig } from '../../gateway/config/schema.js';
import { createLogger } from '../../gateway/log.js';
import { freePort } from '../support/baresip.js';

export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../sip-config/gateway.yaml', import.meta.url));

/** Generous: Chromium, the gateway and baresip share 2 busy cores. */
export const STEP_TIMEOUT = 30_000;

/** The embedded default config with every listening port made free, plus `patch` on top. */
export async function e2eConfig(patch: Partial<Record<keyof GatewayConfig, unknown>> = {}): Promise<GatewayConfig> {
  const base = loadConfigFile(DEFAULT_CONFIG_FILE);
  const sipPort = await freePort();
  return parseConfig(
    {
      ...base,
      http: { listen: '127.0.0.1:0' },
      sip: { ...base.sip, listen: [`udp:127.0.0.1:${sipPort}`, `tcp:127.0.0.1:${sipPort}`] },
      // Inside the test's own network namespace nothing else uses these.
      media: { ...base.media, address: '127.0.0.1', rtpPorts: '40000-40999' },
      log: { level: process.env.E2E_LOG_LEVEL ?? 'silent' },
      ...patch,
    },
    'e2e config',
  );
}

/** The embedded default config's users (alice 1001, bob 1002), with `dids` added to some of them. */
export function defaultUsers(dids: Record<string, string[]> = {}): GatewayConfig['users'] {
  return loadConfigFile(DEFAULT_CONFIG_FILE).users.map((u) => ({ ...u, dids: dids[u.name] ?? u.dids }));
}

/** The gateway's UDP SIP port in `config` (where a trunk sends its calls). */
export function sipUdpPort(config: GatewayConfig): number {
  const udp = config.sip.listen.map(parseSipListen).find((l) => l.transport === 'udp');
  if (!udp) throw new Error('e2e config: no udp listen address');
  return udp.port;
}

/** Starts a gateway on `config`; with `logLines`, its debug log is kept there (one JSON line each),
 *  for a failing test's diagnostics. */
export async function startGateway(config: GatewayConfig, logLines?: string[]): Promise<Gateway> {
  const logger = logLines
    ? pino({ level: 'debug', base: undefined }, { write: (line: string) => void logLines.push(line.trimEnd()) })
    : createLogger(config.log.level);
  const gateway = await buildGateway(config, { logger });
  await gateway.start();
  return gateway;
}

export type Hook = {
  state(): string;
  stateReason(): string;
  callState(): string;
  callReason(): string;
  remoteStats(): Promise<{ packetsReceived: number; packetsSent: number }>;
  remoteToneLevel(freqHz: number): number;
  incoming(): { from: string; displayName: string } | null;
  accept(): Promise<void>;
  decline(): Promise<void>;
  incomingState(): string;
  lastIncomingEnd(): 'answered-elsewhere' | 'missed' | 'declined' | 'ended' | null;
  missedCalls(): Array<{ from: string; displayName: string; reason: string }>;
  recentCalls(): Array<{ direction: 'in' | 'out'; from: string; displayName: string; outcome: string; durationMs: number | null; reason: string }>;
  ringing(): boolean;
  callStatus(): string;
  holdState(): 'active' | 'holding' | 'held' | 'resuming';
  heldByOther(): boolean;
  linkState(): 'up' | 'reconnecting' | 'restarting';
  hold(): Promise<void>;
  resume(): Promise<void>;
  restartIce(): Promise<boolean>;
  dropConnection(): boolean;
};
declare const window: { softphone: Hook };

export async function openPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => typeof window.softphone === 'object', null, { timeout: STEP_TIMEOUT });
}

/** Signs in through the form; resolves once registered (rejects with the page's reason if it fails). */
export async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('#signin-btn');
  await page.waitForFunction(() => ['registered', 'failed'].includes(window.softphone.state()), null, {
    timeout: STEP_TIMEOUT,
  });
  const state = await page.evaluate(() => window.softphone.state());
  if (state !== 'registered') {
    throw new Error(`sign-in failed: ${await page.evaluate(() => window.softphone.stateReason())}`);
  }
}

/** Types the number, clicks Call; resolves when the call state reaches `until` (or ended). */
export async function dial(page: Page, number: string, until = 'in-call'): Promise<string> {
  await page.fill('#number', number);
  await page.click('#call-btn');
  await page.waitForFunction((s) => [s, 'ended'].includes(window.softphone.callState()), until, {
    timeout: STEP_TIMEOUT,
  });
  return page.evaluate(() => `${window.softphone.callState()} ${window.softphone.callReason()}`.trim());
}

export async function callState(page: Page): Promise<{ state: string; reason: string }> {
  return page.evaluate(() => ({ state: window.softphone.callState(), reason: window.softphone.callReason() }));
}

/**
 * Polls `read` (run in the page) until `done` holds for its value; resolves with that value.
 * For page values behind a Promise (getStats), which page.waitForFunction would not await.
 */
export async function pollPage<T, A>(
  page: Page,
  read: (arg: A) => Promise<T> | T,
  arg: A,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = STEP_TIMEOUT,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await page.evaluate(read as never, arg)) as T; // generic A defeats Unboxed<Arg>
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250)); // poll interval, not a race fix
  }
}

/** Waits until the browser has sent and received at least `min` audio RTP packets. */
export async function waitForPackets(page: Page, min: number): Promise<{ packetsReceived: number; packetsSent: number }> {
  return pollPage(
    page,
    () => window.softphone.remoteStats(),
    null,
    (s) => s.packetsReceived >= min && s.packetsSent >= min,
    `${min} RTP packets each way`,
  );
}

/**
 * Waits until the remote audio holds a tone at `freqHz` that stands `factor` times above the
 * level at `otherHz` and at least `minLevel` above the spectrum's mean; returns both levels.
 */
export async function waitForTone(
  page: Page,
  freqHz: number,
  otherHz: number,
  opts: { minLevel?: number; factor?: number } = {},
): Promise<{ level: number; other: number }> {
  const args = { freqHz, otherHz, minLevel: opts.minLevel ?? 10, factor: opts.factor ?? 5 };
  const read = (a: typeof args): { level: number; other: number } => ({
    level: window.softphone.remoteToneLevel(a.freqHz),
    other: window.softphone.remoteToneLevel(a.otherHz),
  });
  try {
    await page.waitForFunction(
      (a) => {
        const level = window.softphone.remoteToneLevel(a.freqHz);
        return level >= a.minLevel && level >= a.factor * window.softphone.remoteToneLevel(a.otherHz);
      },
      args,
      { timeout: STEP_TIMEOUT, polling: 200 },
    );
  } catch (err) {
    const last = await page.evaluate(read, args);
    throw new Error(`no ${freqHz} Hz tone: level ${last.level.toFixed(2)} vs ${last.other.toFixed(2)} at ${otherHz} Hz (${(err as Error).message})`);
  }
  return page.evaluate(read, args);
}

/** Clicks Hang up; resolves with the reason shown once the call has ended. */
export async function hangUp(page: Page): Promise<string> {
  await page.click('#hangup-btn');
  return waitForEnded(page);
}

export async function waitForEnded(page: Page): Promise<string> {
  await page.waitForFunction(() => window.softphone.callState() === 'ended', null, { timeout: STEP_TIMEOUT });
  return page.evaluate(() => window.softphone.callReason());
}

/** Waits until the page rings; resolves with the caller ID it shows (and whether the tone sounds). */
export async function waitForIncoming(page: Page): Promise<{ from: string; displayName: string; ringing: boolean; shown: string }> {
  await page.waitForFunction(() => window.softphone.incoming() !== null, null, { timeout: STEP_TIMEOUT });
  const id = await page.evaluate(() => ({ ...window.softphone.incoming()!, ringing: window.softphone.ringing() }));
  return { ...id, shown: (await page.textContent('#incoming'))?.replace(/\s+/g, ' ').trim() ?? '' };
}

/** Waits until the page's incoming call has ended; rejects at once, naming the end, if it ended otherwise. */
export async function waitForIncomingEnd(page: Page, end: string): Promise<void> {
  try {
    await page.waitForFunction(() => window.softphone.lastIncomingEnd() !== null, null, { timeout: STEP_TIMEOUT });
  } catch (err) {
    const state = await page.evaluate(() => window.softphone.incomingState());
    throw new Error(`incoming call did not end (state ${state}): ${(err as Error).message}`);
  }
  const actual = await page.evaluate(() => window.softphone.lastIncomingEnd());
  if (actual !== end) throw new Error(`incoming call ended "${actual}", expected "${end}"`);
}

/** Ends whatever the page is doing (hang up, cancel or decline), so one failed test does not leave a
 *  call up that makes the next one fail too. */
export async function resetPage(page: Page): Promise<void> {
  const state = await page.evaluate(() => window.softphone.callState());
  if (!['calling', 'ringing', 'incoming', 'in-call'].includes(state)) return;
  await page.click(state === 'incoming' ? '#decline-btn' : '#hangup-btn');
  await waitForEnded(page);
}

/** The page's missed calls and whether it still rings. */
export async function missedCalls(page: Page): Promise<{ missed: Array<{ from: string; reason: string }>; ringing: boolean }> {
  return page.evaluate(() => ({ missed: window.softphone.missedCalls(), ringing: window.softphone.ringing() }));
}

/** Runs a test step; if it fails, `diagnostics()` (the peers' logs, the page console, captures) is
 *  appended to the error's message, so a failure on the test bed explains itself. */
export async function withDiagnostics(diagnostics: () => string, body: () => Promise<void>): Promise<void> {
  await body().catch((err: unknown) => {
    if (err instanceof Error) err.message += `\n${diagnostics()}`;
    throw err;
  });
}
