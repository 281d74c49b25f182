// A real SIP phone for end-to-end tests: Debian's baresip 1.0 on 127.0.0.1 (or on a test-bed host's
// address inside its network namespace), auto-answering, playing a WAV file (aufile), controlled and
// observed through its ctrl_tcp module.
//
// Findings about baresip 1.0 that shape this file:
// - libre skips loopback addresses when it looks for a local address, so without
//   `net_interface 127.0.0.1` baresip has no SIP transport at all (in a namespace: the host's address).
// - An incoming INVITE is matched to an account by the Request-URI user (404 otherwise), so the
//   account's user must be the number the gateway dials (sip:<user>@127.0.0.1:<port>).
// - With `rtp_stats yes` baresip prints, when a call ends, "packets: <tx> <rx>" under
//   "audio  Transmit: Receive:" on stdout: that is the far end's own RTP count.
// - ctrl_tcp speaks netstrings ("<len>:<json>,") carrying {"command","params","token"} requests,
//   {"response":true,"ok",...} replies and {"event":true,"type":"CALL_ESTABLISHED",...} events.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardToUnix, type UnixForward } from './netbed/forward.js';

export interface BaresipOptions {
  /** WAV file played to the caller (mono 16-bit PCM, 8 kHz best). */
  sourceWav: string;
  /** Account user: must equal the Request-URI user of the INVITEs it is to answer; also the user
   *  part of the From of the calls it places (`dial`). */
  user?: string;
  /** Display name of the account: sent in the From of the calls it places (caller ID). */
  displayName?: string;
  /** SIP port on `address` (UDP and TCP); default: a free one. */
  sipPort?: number;
  /** Address SIP and RTP use (default 127.0.0.1); inside `netns`, one of that namespace's addresses. */
  address?: string;
  /** Run inside this network namespace (a test-bed host, test/support/netbed); ctrl_tcp is then
   *  reached through a Unix-socket relay, since the test process is in no namespace of the bed. */
  netns?: string;
  /** RTP port range, default [31000, 31999]; keep it clear of the gateway's range. */
  rtpPorts?: [number, number];
  /** Print baresip's SIP trace into `output` too (default true). */
  sipTrace?: boolean;
  /** How long to wait for "baresip is ready." (default 15 s). */
  startTimeoutMs?: number;
}

export interface BaresipEvent {
  type: string;
  class?: string;
  param?: string;
  peeruri?: string;
  id?: string;
  [key: string]: unknown;
}

export interface CallStats {
  txPackets: number;
  rxPackets: number;
}

/** The current call's audio stream as baresip's `audio_debug` shows it while the call is up. */
export interface LiveAudio extends CallStats {
  /** The stream's direction as baresip applies it: sendrecv, sendonly, recvonly or inactive. */
  dir: string;
}

export interface BaresipHandle {
  pid: number;
  sipPort: number;
  ctrlPort: number;
  /** sip:<address>:<port> — the trunk URI a gateway should use. */
  trunkUri: string;
  user: string;
  events: BaresipEvent[];
  /** RTP statistics of every call that has ended so far, in order. */
  callStats: CallStats[];
  /** Everything baresip printed (stdout + stderr). */
  output(): string;
  /** Resolves with the first event (past or future) of `type` after index `from`. */
  waitForEvent(type: string, opts?: { from?: number; timeoutMs?: number }): Promise<BaresipEvent>;
  /** Resolves with the stats of the `index`-th ended call (0-based). */
  waitForCallStats(index: number, timeoutMs?: number): Promise<CallStats>;
  /** Resolves with the first match of `re` in baresip's output (e.g. /received event: '5'/). */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a ctrl_tcp command (e.g. "hangup", "callstat") and resolves with its reply data. */
  command(command: string, params?: string): Promise<string>;
  /** The current call's live RTP counts and direction (ctrl_tcp "audio_debug"). */
  liveAudio(): Promise<LiveAudio>;
  /** Places a call (ctrl_tcp "dial") to a SIP URI, e.g. sip:5550001@127.0.0.1:5060. */
  dial(uri: string): Promise<void>;
  /** Hangs up the current call: BYE once answered, CANCEL while it is still ringing out. */
  hangup(): Promise<void>;
  stop(): Promise<void>;
}

/** A port free for both UDP and TCP on 127.0.0.1 (the OS picks; a short race remains). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (port > 0 && udpFree) return port;
  }
  throw new Error('freePort: no port free for both UDP and TCP after 20 attempts');
}

function configText(o: { address: string; sipPort: number; ctrlPort: number; wav: string; rtp: [number, number] }): string {
  return [
    'poll_method epoll',
    `sip_listen ${o.address}:${o.sipPort}`,
    // libre ignores loopback when it searches for a local address: name it explicitly.
    `net_interface ${o.address}`,
    'call_local_timeout 120',
    'call_max_calls 4',
    // aubridge with an unused device name is a player that discards audio (no sound card here).
    'audio_player aubridge,nil',
    `audio_source aufile,${o.wav}`,
    'audio_alert aubridge,nil',
    `rtp_ports ${o.rtp[0]}-${o.rtp[1]}`,
    'rtp_stats yes',
    'rtp_timeout 60',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aufile.so',
    'module aubridge.so',
    'module_app account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`,
    '',
  ].join('\n');
}

/** Parses complete netstrings off the front of `buf`; returns the payloads and the rest. */
export function parseNetstrings(buf: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  let rest = buf;
  for (;;) {
    const colon = rest.indexOf(':');
    if (colon < 0) break;
    const lenText = rest.slice(0, colon);
    if (!/^\d+$/.test(lenText)) throw new Error(`netstring: bad length prefix "${lenText.slice(0, 20)}"`);
    const len = Number(lenText);
    if (rest.length < colon + 1 + len + 1) break;
    if (rest[colon + 1 + len] !== ',') throw new Error('netstring: missing trailing ","');
    messages.push(rest.slice(colon + 1, colon + 1 + len));
    rest = rest.slice(colon + 2 + len);
  }
  return { messages, rest };
}

/** Parses "packets: <tx> <rx>" lines of baresip's rtp_stats summary out of its output. */
export function parseCallStats(output: string): CallStats[] {
  const stats: CallStats[] = [];
  const re = /audio\s+Transmit:\s+Receive:\s*\r?\npackets:\s+(\d+)\s+(\d+)/g;
  for (const m of output.matchAll(re)) stats.push({ txPackets: Number(m[1]), rxPackets: Number(m[2]) });
  return stats;
}

/**
 * Parses baresip's `audio_debug` text: "TX: packets=<n>" is what it sent, each RTCP member's
 * "rcvd=<n>" what it received from that source (summed: a re-offer may bring a new SSRC), and
 * "audio dir=<direction>" the direction in force.
 */
export function parseAudioDebug(text: string): LiveAudio {
  const tx = /TX: packets=(\d+)/.exec(text);
  const dir = /audio dir=(\w+)/.exec(text);
  if (!tx || !dir) throw new Error(`baresip audio_debug: no TX packets / dir in:\n${text.slice(0, 600)}`);
  const rx = [...text.matchAll(/\brcvd=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { txPackets: Number(tx[1]), rxPackets: rx, dir: dir[1]! };
}

interface Waiter {
  check: () => boolean;
}

class Baresip implements BaresipHandle {
  readonly events: BaresipEvent[] = [];
  callStats: CallStats[] = [];
  private out = '';
  private ctrl?: Socket;
  private ctrlBuf = '';
  private token = 0;
  private readonly replies = new Map<string, (r: { ok: boolean; data: string }) => void>();
  private readonly waiters = new Set<Waiter>();
  private exited = false;
  /** The Unix-socket relay to ctrl_tcp when baresip runs in a network namespace. */
  relay?: UnixForward;

  constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly sipPort: number,
    readonly ctrlPort: number,
    readonly user: string,
    readonly address: string,
  ) {
    const onData = (chunk: Buffer): void => {
      this.out += chunk.toString('utf8');
      this.callStats = parseCallStats(this.out);
      this.poke();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', () => {
      this.exited = true;
      this.poke();
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get trunkUri(): string {
    return `sip:${this.address}:${this.sipPort}`;
  }

  output(): string {
    return this.out;
  }

  private poke(): void {
    for (const w of [...this.waiters]) if (w.check()) this.waiters.delete(w);
  }

  /** Resolves when `probe` returns a value; rejects after timeoutMs or if baresip exits. */
  private until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`baresip: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const waiter: Waiter = {
        check: () => {
          const v = probe();
          if (v === undefined && !this.exited) return false;
          clearTimeout(timer);
          if (v === undefined) reject(new Error(`baresip exited while waiting for ${what}`));
          else resolve(v);
          return true;
        },
      };
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  waitReady(timeoutMs: number): Promise<true> {
    return this.until('"baresip is ready."', () => (this.out.includes('baresip is ready.') ? true : undefined), timeoutMs);
  }

  waitForEvent(type: string, opts: { from?: number; timeoutMs?: number } = {}): Promise<BaresipEvent> {
    const from = opts.from ?? 0;
    const probe = (): BaresipEvent | undefined => this.events.slice(from).find((e) => e.type === type);
    return this.until(`event ${type}`, probe, opts.timeoutMs ?? 30_000);
  }

  waitForCallStats(index: number, timeoutMs = 30_000): Promise<CallStats> {
    return this.until(`stats of call #${index}`, () => this.callStats[index], timeoutMs);
  }

  waitForOutput(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return this.until(`output ${re}`, () => this.out.match(re) ?? undefined, timeoutMs);
  }

  async connectCtrl(): Promise<void> {
    const sock = new Socket();
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      const connected = (): void => {
        sock.off('error', reject);
        resolve();
      };
      if (this.relay) sock.connect(this.relay.path, connected);
      else sock.connect(this.ctrlPort, '127.0.0.1', connected);
    });
    sock.on('error', () => undefined); // a reset at stop() is expected
    sock.on('data', (chunk) => this.onCtrlData(chunk.toString('utf8')));
    this.ctrl = sock;
  }

  private onCtrlData(text: string): void {
    const { messages, rest } = parseNetstrings(this.ctrlBuf + text);
    this.ctrlBuf = rest;
    for (const m of messages) {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(m) as Record<string, unknown>;
      } catch {
        continue; // not JSON: ignore, the raw text is still in output() via stdout
      }
      if (msg.event === true && typeof msg.type === 'string') {
        this.events.push(msg as BaresipEvent);
      } else if (msg.response === true && typeof msg.token === 'string') {
        this.replies.get(msg.token)?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
        this.replies.delete(msg.token);
      }
    }
    this.poke();
  }

  command(command: string, params = ''): Promise<string> {
    const sock = this.ctrl;
    if (!sock) return Promise.reject(new Error('baresip: ctrl_tcp is not connected'));
    const token = String(++this.token);
    const body = JSON.stringify({ command, params, token });
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(token);
        reject(new Error(`baresip: no reply to "${command}" within 10 s`));
      }, 10_000);
      this.replies.set(token, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r.data);
        else reject(new Error(`baresip: command "${command}" failed: ${r.data}`));
      });
      sock.write(`${Buffer.byteLength(body)}:${body},`);
    });
  }

  async liveAudio(): Promise<LiveAudio> {
    return parseAudioDebug(await this.command('audio_debug'));
  }

  async dial(uri: string): Promise<void> {
    if (!/^sip:[^\s"<>]+$/.test(uri)) throw new Error(`baresip.dial: not a plain sip: URI: ${uri}`);
    await this.command('dial', uri);
  }

  async hangup(): Promise<void> {
    await this.command('hangup');
  }

  async stop(): Promise<void> {
    this.ctrl?.destroy();
    if (!this.exited && this.proc.pid !== undefined) {
      const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    await this.relay?.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The accounts-file line: `"Name" <sip:user@127.0.0.1>;regint=0;answermode=auto`. */
export function accountLine(user: string, displayName = '', address = '127.0.0.1'): string {
  const addr = `<sip:${user}@${address}>`;
  return `${displayName ? `"${displayName}" ${addr}` : addr};regint=0;answermode=auto`;
}

/** Starts baresip with a generated config dir; resolves once it is ready and ctrl_tcp is connected. */
export async function startBaresip(opts: BaresipOptions): Promise<BaresipHandle> {
  const user = opts.user ?? 'baresip';
  if (!/^[A-Za-z0-9._~+*#-]{1,64}$/.test(user)) throw new Error(`startBaresip: unusable account user "${user}"`);
  const name = opts.displayName ?? '';
  if (!/^[A-Za-z0-9 ._~+-]{0,64}$/.test(name)) throw new Error(`startBaresip: unusable display name "${name}"`);
  const sipPort = opts.sipPort ?? (await freePort());
  const ctrlPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  const rtp = opts.rtpPorts ?? [31000, 31999];
  const address = opts.address ?? '127.0.0.1';
  writeFileSync(join(dir, 'config'), configText({ address, sipPort, ctrlPort, wav: opts.sourceWav, rtp }));
  // answermode=auto: answer every INVITE at once; regint=0: never REGISTER anywhere.
  writeFileSync(join(dir, 'accounts'), `${accountLine(user, name, address)}\n`);
  writeFileSync(join(dir, 'contacts'), '');
  const args = ['-f', dir, ...(opts.sipTrace === false ? [] : ['-s'])];
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, '/usr/bin/baresip', ...args]] : ['/usr/bin/baresip', args];
  const proc = spawn(cmd, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
  const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
  spawnError.catch(() => undefined);
  const b = new Baresip(proc, dir, sipPort, ctrlPort, user, address);
  try {
    await Promise.race([b.waitReady(opts.startTimeoutMs ?? 15_000), spawnError]);
    if (opts.netns) b.relay = await forwardToUnix(opts.netns, dir, '127.0.0.1', ctrlPort);
    await b.connectCtrl();
  } catch (err) {
    await b.stop();
    throw new Error(`startBaresip failed: ${(err as Error).message}\n${b.output().slice(-2000)}`);
  }
  return b;
}
