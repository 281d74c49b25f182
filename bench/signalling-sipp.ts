// SIPp runs for bench/signalling.ts: the trunk (uas-answer.xml, answers every call, the caller hangs up),
// a UDP phone placing authenticated calls (uac-auth.xml: INVITE → 407 → INVITE with credentials →
// 100/180/200 → ACK → BYE after hangup_ms) at a fixed rate, and a phone registering (register-auth.xml:
// REGISTER → 401 → REGISTER with credentials → 200). Setup time is SIPp's response-time measure (rtd):
// from the call's first INVITE (the 407 round trip included) to the 200, per call (-trace_rtt).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCENARIO_DIR } from '../test/support/sipp.js';
import { ACCOUNT, PHONE_IP, SYSTEM_IP, TRUNK_IP } from './signalling-targets.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface SippRun {
  attempted: number;
  succeeded: number;
  failed: number;
  retransmissions: number;
  /** Per-call setup (or REGISTER) times, ms, sorted. */
  times: number[];
  /** Failure reasons from SIPp's error log, counted. */
  why: Record<string, number>;
}

/** The trunk: answers every INVITE until stopped. */
export function startTrunk(port: number): { stop: () => Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-sig-trunk-'));
  const child = spawn('/usr/bin/sipp', ['-sf', path.join(SCENARIO_DIR, 'uas-answer.xml'), '-i', TRUNK_IP, '-p', String(port),
    '-t', 'u1', '-nostdin', '-set', 'hangup_ms', '0', '-mi', TRUNK_IP, '-mp', String(port + 2), '-bind_local',
    '-max_socket', '10000'], { cwd: dir, detached: true, stdio: 'ignore' });
  return {
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      await done;
    },
  };
}

/** register-auth.xml with the 200 timed (rtd) — written into the run's directory. */
function registerScenario(dir: string): string {
  const text = readFileSync(path.join(root, 'test/integration/registrar/register-auth.xml'), 'utf8');
  const file = path.join(dir, 'register-rtd.xml');
  writeFileSync(file, text.replace('<recv response="200" />', '<recv response="200" rtd="true" />'));
  return file;
}

function lastStat(dir: string): Record<string, number> {
  const file = readdirSync(dir).find((f) => f.endsWith('.csv') && !f.endsWith('_rtt.csv'));
  if (!file) return {};
  const lines = readFileSync(path.join(dir, file), 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines.at(-1)!.split(';');
  return Object.fromEntries(head.map((h, i) => [h, Number(last[i])]));
}

function rtts(dir: string): number[] {
  const file = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
  if (!file) return [];
  return readFileSync(path.join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(';')[1]))
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
}

/** What the failed calls met, counted: the status line SIPp did not expect ("SIP/2.0 503 …") or its
 *  timeout, from its error log. */
function reasons(dir: string): Record<string, number> {
  const file = readdirSync(dir).find((f) => f.endsWith('_errors.log'));
  const out: Record<string, number> = {};
  if (!file) return out;
  for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(/(SIP\/2\.0 \d{3}[^\r\n]*|[Tt]imeout[^\r\n]{0,40})/g)) {
    const key = m[1]!.slice(0, 48);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Runs a UAC at `rate` per second for `count` calls (or registrations) toward the target; resolves
 *  when SIPp exits (every call ended, or its timeout). */
export function runPhone(o: { kind: 'call' | 'register'; target: number; localPort: number; rate: number; count: number; hangupMs?: number }): Promise<SippRun> {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-sig-${o.kind}-`));
  const scenario = o.kind === 'call' ? path.join(SCENARIO_DIR, 'uac-auth.xml') : registerScenario(dir);
  const args = ['-sf', scenario, '-i', PHONE_IP, '-p', String(o.localPort), '-t', 'u1', '-nostdin',
    '-m', String(o.count), '-r', String(o.rate), '-rp', '1000', '-l', '100000', '-max_socket', '10000',
    '-au', ACCOUNT.name, '-ap', ACCOUNT.password,
    '-trace_stat', '-fd', '1', '-trace_rtt', '-rtt_freq', '1', '-timeout', `${Math.ceil(o.count / o.rate) + 60}s`,
    '-recv_timeout', '10000'];
  // -auth_uri: the digest uri is the Request-URI (RFC 3261 §22.4), which the gateway checks.
  if (o.kind === 'call') args.push('-auth_uri', `5551234@${SYSTEM_IP}:${o.target}`, '-s', '5551234', '-set', 'hangup_ms', String(o.hangupMs ?? 500), '-mi', PHONE_IP, '-mp', String(o.localPort + 2));
  else args.push('-s', ACCOUNT.name, '-set', 'expires', '3600');
  args.push('-trace_err'); // unexpected messages (a 503, a timeout): the step's first failure reasons
  if (process.env.BENCH_SIG_TRACE) args.push('-trace_msg');
  args.push(`${SYSTEM_IP}:${o.target}`);
  const child = spawn('/usr/bin/sipp', args, { cwd: dir, detached: true, stdio: 'ignore' });
  return new Promise((resolve) => {
    child.once('exit', () => {
      const stat = lastStat(dir);
      const succeeded = stat['SuccessfulCall(C)'] ?? 0;
      const failed = stat['FailedCall(C)'] ?? 0;
      resolve({ attempted: o.count, succeeded, failed: o.count - succeeded, retransmissions: stat['Retransmissions(C)'] ?? 0, times: rtts(dir), why: reasons(dir) });
      void failed;
    });
  });
}

/** The p-th percentile (0..100) of sorted values; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
