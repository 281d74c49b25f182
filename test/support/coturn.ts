// Debian's coturn (/usr/bin/turnserver) for tests: the example sip-config/turnserver.conf with the test's
// address, ports, secret and realm put in place of its own, logging to a file in a temp dir. Runs in the
// foreground in its own process group; stop() ends it by PID (support/process.ts) and removes the temp dir.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeSipPort } from './ports.js';
import { startProcess, type ProcessHandle } from './process.js';

export const TURNSERVER_BIN = '/usr/bin/turnserver';
export const EXAMPLE_CONF = resolve(import.meta.dirname, '..', '..', 'sip-config', 'turnserver.conf');

export interface CoturnOptions {
  /** static-auth-secret: the gateway's turn.secret. */
  secret: string;
  realm?: string;
  /** Listening and relay address (default 127.0.0.1). */
  address?: string;
  /** UDP+TCP port (default: one free for both). */
  port?: number;
  /** Relay range "min-max" (default 46000-46099). */
  relayPorts?: string;
  startTimeoutMs?: number;
  /** Run inside this network namespace (a test-bed host, test/support/netbed); `address` is then one of its addresses. */
  netns?: string;
  /** More configuration lines after the test's own, e.g. `allow-loopback-peers` when the peer the relays
   *  send to is on 127.x (the example configuration denies loopback peers). */
  extraLines?: string[];
}

export interface CoturnHandle {
  readonly address: string;
  readonly port: number;
  readonly realm: string;
  readonly process: ProcessHandle;
  /** The generated configuration file's text. */
  readonly config: string;
  /** coturn's log file. */
  log(): string;
  stop(): Promise<void>;
}

/** Keys the test sets itself: the example's lines for them are dropped (static-auth-secret may repeat in
 *  coturn, so the placeholder would otherwise stay valid too). */
const OVERRIDDEN = ['listening-port', 'listening-ip', 'relay-ip', 'external-ip', 'min-port', 'max-port', 'static-auth-secret', 'realm', 'log-file', 'userdb', 'pidfile'];

/** The example configuration with the test's values. */
export function coturnConfig(example: string, o: Required<Omit<CoturnOptions, 'startTimeoutMs' | 'netns' | 'extraLines'>> & Pick<CoturnOptions, 'extraLines'>, dir: string): string {
  const [min, max] = o.relayPorts.split('-');
  const kept = example.split('\n').filter((line) => !OVERRIDDEN.includes(line.split('=')[0]!.trim()));
  return [
    ...kept,
    '# --- test overrides',
    `listening-ip=${o.address}`,
    `relay-ip=${o.address}`,
    `listening-port=${o.port}`,
    `min-port=${min}`,
    `max-port=${max}`,
    `static-auth-secret=${o.secret}`,
    `realm=${o.realm}`,
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    `log-file=${join(dir, 'turnserver.log')}`,
    'simple-log',
    // Verbose: coturn then logs each listener it opens (the readiness signal below) and each session.
    'verbose',
    ...(o.extraLines ?? []),
    '',
  ].join('\n');
}

function readLog(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

async function waitListening(proc: ProcessHandle, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readLog(logFile);
    if (/UDP listener opened/.test(log) && /TCP listener opened/.test(log)) return;
    if (!proc.running) throw new Error(`turnserver exited during start:\n${proc.stderr().slice(-2000)}\n${log.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`turnserver not listening after ${timeoutMs} ms:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50)); // poll interval of the log file, not a race fix
  }
}

export async function startCoturn(o: CoturnOptions): Promise<CoturnHandle> {
  const opts = { secret: o.secret, realm: o.realm ?? 'turn.test', address: o.address ?? '127.0.0.1', port: o.port ?? (await freeSipPort()), relayPorts: o.relayPorts ?? '46000-46099', extraLines: o.extraLines ?? [] };
  const dir = mkdtempSync(join(tmpdir(), 'coturn-'));
  const logFile = join(dir, 'turnserver.log');
  const config = coturnConfig(readFileSync(EXAMPLE_CONF, 'utf8'), opts, dir);
  const file = join(dir, 'turnserver.conf');
  writeFileSync(file, config);
  const args = ['-c', file, '--no-stdout-log'];
  const proc = startProcess(TURNSERVER_BIN, args, { name: 'turnserver', netns: o.netns });
  const stop = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(proc, logFile, o.startTimeoutMs ?? 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: opts.address, port: opts.port, realm: opts.realm, process: proc, config, log: () => readLog(logFile), stop };
}
