// The C load generator (bench/loadgen-c/*.c, one thread, its own process) behind the shape the SRTP⇄RTP
// bench drives (SrtpLoadGenerator). The SDP stays here: the C program gets, per call, the engine's
// addresses, ICE credentials, DTLS role and fingerprint, and answers with its ports and ICE credentials;
// a run's counts and latency histograms come back as one JSON line (main.c describes the protocol).
// Built by build.sh when a source is newer than the binary; a build that fails throws (no fallback).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Histogram, type SideResult } from '../loadgen/common.js';
import type { RunResult, SrtpLoadGenerator } from '../loadgen/index.js';
import { browserOffer, parseEngineAnswer, parseEngineOffer, trunkAnswer } from '../loadgen/sdp.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const binary = path.join(here, 'build', 'loadgen');
const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** Builds the generator if a source is newer than the binary; throws with the compiler's output. */
export function buildLoadgen(): string {
  const newest = Math.max(...readdirSync(here).filter((f) => /\.(c|h|sh)$/.test(f)).map((f) => statSync(path.join(here, f)).mtimeMs));
  if (existsSync(binary) && statSync(binary).mtimeMs >= newest) return binary;
  try {
    execFileSync('bash', [path.join(here, 'build.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(
      `the C load generator did not build (bench/loadgen-c/build.sh; \`bash .ci/install-peers\` installs gcc, pkg-config and ` +
        `libssl-dev): ${e.stderr?.toString().trim() || e.message}`,
    );
  }
  return binary;
}

interface CSide {
  sent: number;
  received: number;
  sendErrors: number;
  bad: number;
  dropped: number;
  latency: { max: number; buckets: Array<[number, number]> };
}

interface Reply {
  id: number;
  error?: string;
  port?: number;
  ufrag?: string;
  pwd?: string;
  ssrc?: number;
  fingerprint?: string;
  sched?: string;
  cpuMs?: number;
  wallMs?: number;
  lateP99Ms?: number;
  lateMaxMs?: number;
  browser?: CSide;
  trunk?: CSide;
}

function sideResult(s: CSide, reply: Reply): SideResult {
  const latency = new Histogram();
  for (const [bucket, count] of s.latency.buckets) latency.counts[bucket] = count;
  latency.max = s.latency.max;
  return { sent: s.sent, received: s.received, latency, lateP99Ms: reply.lateP99Ms!, lateMaxMs: reply.lateMaxMs!, dropped: s.dropped };
}

export class CLoadGenerator implements SrtpLoadGenerator {
  kind = 'C, one thread, one UDP socket per side (bench/loadgen-c)';
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private readonly started: Promise<void>;
  private nextId = 0;
  private fingerprint = '';
  /** The generator's own account of its last measured phase (its CPU and wall time). */
  lastRun: { cpuMs: number; wallMs: number } | undefined;

  constructor(private readonly address = process.env.BENCH_ADDRESS ?? '127.0.0.1') {
    this.child = spawn(buildLoadgen(), [address], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.child.stdout! });
    this.started = new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        const reply = JSON.parse(line) as Reply;
        if (reply.id === 0) {
          this.fingerprint = reply.fingerprint!;
          this.kind = `C, one thread (${reply.sched}), one UDP socket per side (bench/loadgen-c)`;
          return resolve();
        }
        const p = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (reply.error) p?.reject(new Error(reply.error));
        else p?.resolve(reply);
      });
      this.child.once('exit', (code, signal) => {
        const err = new Error(`the C load generator exited (${code ?? signal})`);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
    this.started.catch(() => undefined); // reported by ready()
  }

  ready(): Promise<void> {
    return this.started;
  }

  private request(op: string, ...args: Array<string | number>): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${[op, id, ...args].join(' ')}\n`);
    });
  }

  async offer(call: number): Promise<string> {
    const r = await this.request('open', call);
    return browserOffer({ call, address: this.address, port: r.port!, ufrag: r.ufrag!, pwd: r.pwd!, fingerprint: this.fingerprint, ssrc: r.ssrc! });
  }

  async answer(call: number, sdp: string): Promise<string> {
    const to = parseEngineOffer(sdp, this.address);
    const r = await this.request('trunk', call, to.address, to.port);
    return trunkAnswer(call, this.address, r.port!);
  }

  async connect(call: number, sdp: string): Promise<void> {
    const a = parseEngineAnswer(sdp, this.address);
    await this.request('connect', call, a.address, a.port, a.role, a.ufrag, a.pwd, a.fingerprint);
  }

  async run(warmupMs: number, measureMs: number): Promise<RunResult> {
    const r = await this.request('run', warmupMs, measureMs);
    this.lastRun = { cpuMs: r.cpuMs!, wallMs: r.wallMs! };
    return { browser: sideResult(r.browser!, r), trunk: sideResult(r.trunk!, r) };
  }

  async drop(call: number): Promise<void> {
    await this.request('drop', call);
  }

  async closeCalls(): Promise<void> {
    await this.request('close');
  }

  /** utime + stime of the generator's process, from /proc. */
  cpuMs(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end(); // the generator exits when its stdin closes
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
