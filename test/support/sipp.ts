// SIPp harness: run /usr/bin/sipp (3.6.1) in the foreground as a child process on 127.0.0.1, read back
// the messages it exchanged from its -trace_msg file. Scenarios live in test/support/sipp/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extendHandle, startProcess, type ProcessHandle } from './process.js';
import { computeDigestResponse, normalizeAlgorithm, parseCredentials, type DigestCredentials } from '../../gateway/sip/auth/index.js';
import type { SipMessage } from '../../gateway/sip/message/types.js';
import { parseSippTrace, traceHeader, type SippTraceEntry } from './sipp-trace.js';

export const SIPP_BIN = '/usr/bin/sipp';
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sipp');

/** A fresh directory for SIPp's traces and working directory, with pcap/ (the sip-tester package's
 *  g711a.pcap …) linked in: scenarios that play_pcap_audio "pcap/g711a.pcap" run with cwd = it. */
export function sippWorkDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  symlinkSync('/usr/share/sip-tester', join(dir, 'pcap'));
  return dir;
}

/** Scenario files in test/support/sipp/ (trunk side uas-*, test callers uac-*). */
export type SippScenario =
  | 'uas-answer' | 'uas-busy' | 'uas-auth' | 'uas-auth-www' | 'uas-ring-cancel' | 'uas-silent' | 'uas-echo' | 'uas-options'
  | 'uas-hold' | 'uas-modify' | 'uas-reinvite' | 'uas-reject' | 'uas-glare' | 'uac-hold' | 'uac-trunk-hold'
  | 'uac-call' | 'uac-busy' | 'uac-auth' | 'uac-cancel' | 'uac-silent';

export interface SippOptions {
  /** One of our scenarios, a scenario file path, or a SIPp built-in (-sn). Exactly one. */
  scenario?: SippScenario;
  scenarioFile?: string;
  builtin?: 'uac' | 'uas' | 'uac_pcap';
  /** SIP port SIPp binds on 127.0.0.1 (or localIp). */
  localPort: number;
  /** Address SIPp binds for SIP and media (-i / -mi); default 127.0.0.1 (a lane's own 127.0.N.x block). */
  localIp?: string;
  /** RTP port (-mp): [media_port] in SDP, and the echo port with rtpEcho. */
  mediaPort?: number;
  /** 'host:port' to call (UAC scenarios). */
  remote?: string;
  transport?: 'udp' | 'tcp';
  rtpEcho?: boolean;
  /** -m: SIPp exits after this many calls. Default 1. */
  calls?: number;
  /** Directory for the message/error/screen traces (created if missing). */
  traceDir: string;
  /** -set name value (scenario globals such as hangup_ms, cancel_ms, silent_ms). */
  set?: Record<string, string | number>;
  /** -key name value (keywords such as auth_realm, auth_user, auth_pass). */
  keys?: Record<string, string>;
  /** -s: user part of the Request-URI (UAC scenarios). */
  service?: string;
  /** -au / -ap: credentials SIPp answers challenges with. */
  auth?: { username: string; password: string };
  /** Global safety limit (-timeout) in seconds. Default 300. */
  timeoutS?: number;
  /** Extra raw arguments, appended before the remote host. */
  args?: string[];
  cwd?: string;
}

export interface SippHandle extends ProcessHandle {
  readonly args: readonly string[];
  readonly messageFile: string;
  readonly errorFile: string;
  /** Resolves once SIPp has bound its SIP port (and, with rtpEcho, its media port); rejects if it exits
   *  first or has not within 5 s. */
  readonly ready: Promise<void>;
  /** Messages SIPp sent/received so far, in order, parsed. */
  messages(): SippTraceEntry[];
  /** SIPp's error log (unexpected messages, failed checks); '' when none. */
  errors(): string;
}

let seq = 0;

function scenarioArgs(o: SippOptions): string[] {
  const chosen = [o.scenario, o.scenarioFile, o.builtin].filter((x) => x !== undefined);
  if (chosen.length !== 1) throw new Error('startSipp: give exactly one of scenario, scenarioFile, builtin');
  if (o.builtin) return ['-sn', o.builtin];
  const file = o.scenarioFile ? resolve(o.scenarioFile) : join(SCENARIO_DIR, `${o.scenario}.xml`);
  if (!existsSync(file)) throw new Error(`startSipp: no scenario file ${file}`);
  return ['-sf', file];
}

export function buildSippArgs(o: SippOptions, files: { messages: string; errors: string; screen: string }): string[] {
  const ip = o.localIp ?? '127.0.0.1';
  const args = [...scenarioArgs(o), '-i', ip, '-p', String(o.localPort)];
  if (o.mediaPort !== undefined) args.push('-mi', ip, '-mp', String(o.mediaPort));
  if (o.rtpEcho) args.push('-rtp_echo');
  args.push('-t', o.transport === 'tcp' ? 't1' : 'u1', '-m', String(o.calls ?? 1), '-nostdin');
  args.push('-timeout', `${o.timeoutS ?? 300}s`);
  args.push('-trace_msg', '-message_file', files.messages, '-trace_err', '-error_file', files.errors);
  args.push('-trace_screen', '-screen_file', files.screen);
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('-set', k, String(v));
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, v);
  if (o.service !== undefined) args.push('-s', o.service);
  if (o.auth) args.push('-au', o.auth.username, '-ap', o.auth.password);
  args.push(...(o.args ?? []));
  if (o.remote !== undefined) args.push(o.remote);
  return args;
}

/** Is a local port bound in this network namespace? (/proc/net is per namespace.) */
function portBound(port: number, transport: 'udp' | 'tcp'): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const file of [`/proc/net/${transport}`, `/proc/net/${transport}6`]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (!`${cols[1]} `.includes(hex)) continue;
      if (transport === 'udp' || cols[3] === '0A') return true; // 0A = TCP LISTEN
    }
  }
  return false;
}

function waitBound(handle: ProcessHandle, port: number, transport: 'udp' | 'tcp'): Promise<void> {
  return new Promise((resolveReady, reject) => {
    const deadline = Date.now() + 5000;
    const check = (): void => {
      if (portBound(port, transport)) return resolveReady();
      if (!handle.running) return reject(new Error(`sipp exited before binding port ${port}: ${handle.stderr().slice(-2000)}\n${handle.stdout().slice(-1000)}`));
      if (Date.now() > deadline) return reject(new Error(`sipp did not bind port ${port} within 5 s`));
      setTimeout(check, 20);
    };
    check();
  });
}

export function startSipp(o: SippOptions): SippHandle {
  mkdirSync(o.traceDir, { recursive: true });
  const base = join(o.traceDir, `sipp-${o.scenario ?? o.builtin ?? 'custom'}-${o.localPort}-${process.pid}-${++seq}`);
  const files = { messages: `${base}-messages.log`, errors: `${base}-errors.log`, screen: `${base}-screen.log` };
  const args = buildSippArgs(o, files);
  const proc = startProcess(SIPP_BIN, args, { cwd: o.cwd ?? o.traceDir, name: `sipp ${o.scenario ?? ''}` });
  const ready = waitBound(proc, o.localPort, o.transport ?? 'udp').then(() =>
    o.rtpEcho && o.mediaPort !== undefined ? waitBound(proc, o.mediaPort, 'udp') : undefined,
  );
  ready.catch(() => undefined); // observed by callers who await it; never an unhandled rejection
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return extendHandle(proc, {
    args,
    messageFile: files.messages,
    errorFile: files.errors,
    ready,
    messages: () => parseSippTrace(read(files.messages)),
    errors: () => read(files.errors),
  });
}

/** The SIPp trace of a finished run, read asynchronously. */
export async function readSippMessages(handle: SippHandle): Promise<SippTraceEntry[]> {
  return parseSippTrace(existsSync(handle.messageFile) ? await readFile(handle.messageFile, 'utf8') : '');
}

/** Checks a traced request's digest credentials against `password`, the way a registrar would
 *  (RFC 2617 §3.2.2 / RFC 7616 §3.4.1, using the header's own uri/nonce/cnonce): SIPp 3.6.1's
 *  <verifyauth> cannot read Proxy-Authorization, so uas-auth.xml leaves this check to the test. */
export function checkTraceDigest(
  message: SipMessage,
  password: string,
  headerName: 'Proxy-Authorization' | 'Authorization' = 'Proxy-Authorization',
): { ok: boolean; reason?: string; credentials?: DigestCredentials } {
  if (message.kind !== 'request') return { ok: false, reason: 'not a request' };
  const value = traceHeader(message, headerName);
  if (value === undefined) return { ok: false, reason: `no ${headerName}` };
  let c: DigestCredentials;
  try {
    c = parseCredentials(value);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  const algorithm = normalizeAlgorithm(c.algorithm);
  if (!algorithm) return { ok: false, reason: `unsupported algorithm ${c.algorithm}`, credentials: c };
  const qop = c.qop === undefined ? undefined : c.qop === 'auth-int' ? 'auth-int' : 'auth';
  let expected: string;
  try {
    expected = computeDigestResponse({
      algorithm, username: c.username, realm: c.realm, password, method: message.method, uri: c.uri,
      nonce: c.nonce, qop, nc: c.nc, cnonce: c.cnonce, body: message.body,
    });
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e), credentials: c };
  }
  return expected === c.response.toLowerCase() ? { ok: true, credentials: c } : { ok: false, reason: 'response mismatch', credentials: c };
}
