// The WebSocket client load for bench/ws-register.ts, run as a child process (its CPU read apart from the
// bench's): many SIP-over-WebSocket clients (RFC 7118) in one event loop, each a `ws` connection from its own
// loopback source address (as browsers come from their own addresses), registering as sip.js does — Via
// SIP/2.0/WS <random>.invalid, Contact <sip:<random>@<random>.invalid;transport=ws> with +sip.instance and
// reg-id, Expires 600, no keep-alive of its own — with digest MD5 (REGISTER → 401 → REGISTER with
// credentials → 200, every time: sip.js keeps no nonce between registrations). Commands come over IPC
// (LoadCommand); each is answered with one LoadReply.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { answerChallenge } from '../gateway/sip/auth/index.js';

export type LoadCommand =
  /** shard [k, K]: this process takes the clients i with i % K === k (several load processes share a run). */
  | { type: 'connect'; url: string; domain: string; from: number; to: number; concurrency: number; shard?: [number, number] }
  | { type: 'step'; from: number; to: number; rate: number; seconds: number }
  | { type: 'close'; from: number; to: number };

export interface OpResult {
  attempted: number;
  ok: number;
  failed: number;
  /** Failure reasons (status code, 'timeout', 'closed', 'behind': the client's previous one still running). */
  why: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  /** The completed ones' times, ms, sorted: for merging several load processes' results (then emptied). */
  times: number[];
  ms: number;
  /** REGISTERs answered 503 and sent again a second later (connect only). */
  retries: number;
  /** The generator's own CPU (user + system) over the command, ms, and its event-loop delay p99, ms. */
  cpuMs: number;
  loopP99: number;
}

export type LoadReply = { type: 'done'; result: OpResult } | { type: 'error'; message: string };

/** users and passwords both systems are given: client i is user u<i>. */
export const userName = (i: number): string => `u${i}`;
export const userPassword = (i: number): string => `pw-${i}-bench`;
/** Client i's source address: one per client, 127.152.0.1 … (250 per /24). */
export const sourceAddress = (i: number): string => `127.152.${Math.floor(i / 250)}.${(i % 250) + 1}`;

const OP_TIMEOUT_MS = 5000;
const hex = (n: number): string => randomBytes(n).toString('hex');
const branchPrefix = `z9hG4bK${hex(4)}`;
let branches = 0;

interface Op {
  start: number;
  authorized: boolean;
  timer: NodeJS.Timeout;
  done(status: 'ok' | string, ms: number): void;
}

class Client {
  private readonly host = `${hex(6)}.invalid`;
  private readonly contact: string;
  private readonly callId = hex(12);
  private readonly tag = hex(5);
  private cseq = 0;
  private op: Op | undefined;

  constructor(
    readonly index: number,
    readonly ws: WebSocket,
    private readonly domain: string,
  ) {
    const instance = [hex(4), hex(2), `4${hex(2).slice(1)}`, `8${hex(2).slice(1)}`, hex(6)].join('-');
    this.contact = `<sip:${hex(4)}@${this.host};transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:${instance}>";expires=600`;
    ws.on('message', (data: Buffer) => this.onMessage(data.toString('utf8')));
    ws.on('close', () => this.op?.done('closed', 0));
  }

  get busy(): boolean {
    return this.op !== undefined;
  }

  /** One registration: REGISTER, the 401 answered, until the 200 (or another final answer / timeout). */
  register(done: (status: 'ok' | string, ms: number) => void): void {
    const start = performance.now();
    const timer = setTimeout(() => this.op?.done('timeout', 0), OP_TIMEOUT_MS);
    this.op = {
      start,
      authorized: false,
      timer,
      done: (status, ms) => {
        clearTimeout(timer);
        this.op = undefined;
        done(status, ms);
      },
    };
    this.send();
  }

  private send(authorization?: string): void {
    const uri = `sip:${this.domain}`;
    const user = userName(this.index);
    const lines = [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/WS ${this.host};branch=${branchPrefix}${(branches++).toString(36)}`,
      'Max-Forwards: 70',
      `To: <sip:${user}@${this.domain}>`,
      `From: "${user}" <sip:${user}@${this.domain}>;tag=${this.tag}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${++this.cseq} REGISTER`,
      `Contact: ${this.contact}`,
      'Expires: 600',
      'Allow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER',
      'Supported: path, gruu, outbound',
      'User-Agent: SIP.js/0.21.2',
      ...(authorization ? [`Authorization: ${authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    this.ws.send(lines.join('\r\n'));
  }

  private onMessage(text: string): void {
    const op = this.op;
    const status = /^SIP\/2\.0 (\d{3})/.exec(text);
    if (!op || !status) return; // a request from the server, or a late answer: not ours to count
    const cseq = /\r\nCSeq:\s*(\d+)/i.exec(text);
    if (!cseq || Number(cseq[1]) !== this.cseq) return;
    const code = Number(status[1]);
    if (code < 200) return;
    if (code === 200) return op.done('ok', performance.now() - op.start);
    if (code === 401 && !op.authorized) {
      op.authorized = true;
      return this.answer(text);
    }
    op.done(String(code), 0);
  }

  /** sip.js answers with MD5 (all it knows): the MD5 challenge when several are offered. */
  private answer(text: string): void {
    const challenges = [...text.matchAll(/\r\nWWW-Authenticate:\s*([^\r\n]+)/gi)].map((m) => m[1]!);
    const md5 = challenges.find((c) => !/algorithm=/i.test(c) || /algorithm="?MD5"?(,|\s|$)/i.test(c));
    if (!md5) return this.op?.done('no MD5 challenge', 0);
    const i = this.index;
    this.send(answerChallenge({ challenge: md5, username: userName(i), password: userPassword(i), method: 'REGISTER', uri: `sip:${this.domain}` }));
  }
}

const clients = new Map<number, Client>();

export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Counts outcomes of operations; result() once all are in. */
class Tally {
  attempted = 0;
  ok = 0;
  failed = 0;
  retries = 0;
  readonly why: Record<string, number> = {};
  readonly times: number[] = [];
  private readonly cpu = process.cpuUsage();
  private readonly t0 = performance.now();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
  }

  record(status: 'ok' | string, ms: number): void {
    if (status === 'ok') {
      this.ok++;
      this.times.push(ms);
    } else {
      this.failed++;
      this.why[status] = (this.why[status] ?? 0) + 1;
    }
  }

  get settled(): boolean {
    return this.ok + this.failed === this.attempted;
  }

  result(): OpResult {
    this.loop.disable();
    const cpu = process.cpuUsage(this.cpu);
    const sorted = this.times.sort((a, b) => a - b);
    return {
      attempted: this.attempted, ok: this.ok, failed: this.failed, why: this.why, retries: this.retries,
      p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN, times: sorted,
      ms: performance.now() - this.t0, cpuMs: (cpu.user + cpu.system) / 1000, loopP99: this.loop.percentile(99) / 1e6,
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function whenSettled(t: Tally): Promise<void> {
  while (!t.settled) await sleep(20);
}

function open(url: string, i: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'sip', { localAddress: sourceAddress(i), perMessageDeflate: false, handshakeTimeout: OP_TIMEOUT_MS });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Clients from..to-1 (of this shard) connect and register, `concurrency` at a time. */
async function connect(c: Extract<LoadCommand, { type: 'connect' }>): Promise<OpResult> {
  const t = new Tally();
  const [k, of] = c.shard ?? [0, 1];
  let next = c.from + ((k - (c.from % of) + of) % of);
  const lane = async (): Promise<void> => {
    while (next < c.to) {
      const i = next;
      next += of;
      t.attempted++;
      try {
        const ws = await open(c.url, i);
        ws.on('error', () => undefined);
        const client = new Client(i, ws, c.domain);
        clients.set(i, client);
        // A 503 (the registrar shedding load, RFC 3261 §21.5.4) is retried a second later, as a page would.
        for (let attempt = 1; ; attempt++) {
          const [status, ms] = await new Promise<[string, number]>((r) => client.register((s, ms) => r([s, ms])));
          if (status !== '503' || attempt === 10) {
            t.record(status, ms);
            break;
          }
          t.retries++;
          await sleep(1000);
        }
      } catch (err) {
        t.record(`connect: ${(err as Error).message.slice(0, 40)}`, 0);
      }
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, lane));
  return t.result();
}

/** Re-registrations at `rate` per second for `seconds`, round-robin over clients from..to-1. */
async function step(c: Extract<LoadCommand, { type: 'step' }>): Promise<OpResult> {
  const t = new Tally();
  const ids = [...clients.keys()].filter((i) => i >= c.from && i < c.to);
  const total = Math.round(c.rate * c.seconds);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * c.rate));
    for (; sent < due; sent++) {
      const client = clients.get(ids[sent % ids.length]!)!;
      t.attempted++;
      if (client.busy) t.record('behind', 0);
      else client.register((s, ms) => t.record(s, ms));
    }
    await sleep(5);
  }
  await whenSettled(t);
  return t.result();
}

function close(c: Extract<LoadCommand, { type: 'close' }>): OpResult {
  const t = new Tally();
  for (const [i, client] of clients) {
    if (i < c.from || i >= c.to) continue;
    client.ws.terminate();
    clients.delete(i);
  }
  return t.result();
}

async function run(c: LoadCommand): Promise<OpResult> {
  if (c.type === 'connect') return connect(c);
  if (c.type === 'step') return step(c);
  return close(c);
}

// Only as the forked load process (the bench's targets import the user names from here).
if (process.send && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.on('message', (c: LoadCommand) => {
    run(c).then(
      (result) => process.send!({ type: 'done', result } satisfies LoadReply),
      (err: Error) => process.send!({ type: 'error', message: err.stack ?? err.message } satisfies LoadReply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
