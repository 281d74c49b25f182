// What both sides of the SRTP⇄RTP load generator share: the payload stamp (phase + send time), the
// latency histogram, the 50 pkt/s pacer, and the messages between the bench and its two workers.
// Times are process.hrtime() readings: CLOCK_MONOTONIC, the same clock in every thread of the process,
// so a stamp written by one worker is read against the other worker's clock.

/** G.711 at 20 ms: 160 payload bytes behind a 12-byte RTP header. */
export const PAYLOAD_BYTES = 160;
export const RTP_HEADER_BYTES = 12;
export const PACKET_INTERVAL_MS = 20;

/** Payload layout: [0] phase (0 warm-up, 1 measured), [4..7] seconds, [8..11] nanoseconds. */
export const PHASE_WARMUP = 0;
export const PHASE_MEASURE = 1;

export function stamp(payload: Buffer, at: number, phase: number): void {
  const [s, ns] = process.hrtime();
  payload[at] = phase;
  payload.writeUInt32BE(s >>> 0, at + 4);
  payload.writeUInt32BE(ns, at + 8);
}

/** Microseconds since the stamp at `at`, or -1 for a warm-up packet (not counted). */
export function sinceStampUs(payload: Buffer, at: number): number {
  if (payload[at] !== PHASE_MEASURE) return -1;
  const [s, ns] = process.hrtime();
  return (s - payload.readUInt32BE(at + 4)) * 1e6 + (ns - payload.readUInt32BE(at + 8)) / 1e3;
}

/** Latency histogram: 10 µs buckets up to 200 ms, then one overflow bucket (its max is kept). */
const BUCKET_US = 10;
const BUCKETS = 20_000;

export class Histogram {
  readonly counts = new Uint32Array(BUCKETS + 1);
  max = 0;

  add(us: number): void {
    const b = Math.min(BUCKETS, Math.max(0, Math.floor(us / BUCKET_US)));
    this.counts[b]!++;
    if (us > this.max) this.max = us;
  }

  merge(other: { counts: Uint32Array; max: number }): void {
    for (let i = 0; i <= BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.max = Math.max(this.max, other.max);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /** The q-quantile in ms (upper edge of its bucket; the max for the overflow bucket). */
  quantileMs(q: number): number {
    const total = this.total;
    if (total === 0) return NaN;
    const rank = Math.ceil(q * total);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === BUCKETS ? this.max / 1000 : ((i + 1) * BUCKET_US) / 1000;
    }
    return this.max / 1000;
  }
}

/** What a worker reports after a run. */
export interface SideResult {
  /** Measured-phase packets sent / received on this side. */
  sent: number;
  received: number;
  /** Latency of the packets received here (sent by the other side). */
  latency: { counts: Uint32Array; max: number };
  /** How late the pacer sent (ms): p99 and max, to tell a generator that fell behind. */
  lateP99Ms: number;
  lateMaxMs: number;
  /** Datagrams this side's own socket dropped (receive queue full): loss the relay did not cause. */
  dropped?: number;
}

export type Sender = { send(phase: number): void };

/**
 * Sends one packet per endpoint every 20 ms, the endpoints' phases spread evenly over the interval
 * (as independent calls are), from a 1 ms tick. Warm-up first, then the measured phase; resolves when
 * both are over.
 */
export function pace(endpoints: readonly Sender[], warmupMs: number, measureMs: number): Promise<{ lateP99Ms: number; lateMaxMs: number }> {
  const n = endpoints.length;
  const t0 = performance.now() + 5;
  const next = new Float64Array(n);
  for (let i = 0; i < n; i++) next[i] = t0 + (i * PACKET_INTERVAL_MS) / Math.max(n, 1);
  const measureAt = t0 + warmupMs;
  const endAt = measureAt + measureMs;
  const late = new Histogram();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= endAt) {
        clearInterval(timer);
        resolve({ lateP99Ms: late.quantileMs(0.99), lateMaxMs: late.max / 1000 });
        return;
      }
      const phase = now >= measureAt ? PHASE_MEASURE : PHASE_WARMUP;
      for (let i = 0; i < n; i++) {
        if (next[i]! > now) continue;
        if (phase === PHASE_MEASURE) late.add((now - next[i]!) * 1000);
        endpoints[i]!.send(phase);
        next[i]! += PACKET_INTERVAL_MS;
        if (next[i]! <= now) next[i] = now + PACKET_INTERVAL_MS; // fell a whole interval behind: skip, do not burst
      }
    }, 1);
  });
}

/** Requests from the bench to a worker; every reply carries the request's id. */
export type WorkerRequest =
  | { id: number; op: 'open'; call: number }
  | { id: number; op: 'answer'; call: number; sdp: string }
  | { id: number; op: 'connect'; call: number; sdp: string }
  | { id: number; op: 'run'; warmupMs: number; measureMs: number }
  | { id: number; op: 'drop'; call: number }
  | { id: number; op: 'close' };

export type WorkerReply = { id: number; sdp?: string; result?: SideResult; error?: string };
