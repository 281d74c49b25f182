// Receive statistics of one RTP source (pure): RFC 3550 appendix A.1 (sequence number bookkeeping:
// probation, wrap, reorder, duplicates, restarts), A.3 (expected / lost, cumulative and per report
// interval) and A.8 (interarrival jitter). Per-packet cost: a few integer operations, no allocation.

/** RFC 3550 A.1 constants. */
const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;

/** What update() made of a packet: not counted (probation, a jump being checked), counted and the new
 *  highest, or counted behind the highest (a duplicate or a late one). */
export const NOT_COUNTED = 0;
export const IN_ORDER = 1;
export const LATE = 2;
export type SeqVerdict = typeof NOT_COUNTED | typeof IN_ORDER | typeof LATE;

/** One report interval's figures (A.3), as an RR block carries them. */
export interface IntervalLoss {
  expected: number;
  lost: number;
  /** lost/expected as RFC 3550 §6.4.1's 8-bit fixed-point fraction (0..255); 0 when none lost or duplicates outnumber losses. */
  fraction: number;
}

export class SourceStats {
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private probation = MIN_SEQUENTIAL;
  /** Packets counted by A.1 (duplicates included, packets in probation not). */
  received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** A.8 jitter estimate in timestamp units (floating point; RR blocks carry it truncated). */
  jitter = 0;
  private lastTransit: number | undefined;
  /** Every packet seen from the source, in probation or not (the leg's "packets in" figure). */
  packets = 0;

  constructor(
    readonly ssrc: number,
    firstSeq: number,
  ) {
    // A.1: "s->max_seq = seq - 1; s->probation = MIN_SEQUENTIAL" for a newly heard source
    this.initSeq(firstSeq);
    this.maxSeq = (firstSeq - 1) & 0xffff;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** A.1 update_seq: whether the packet counts, and whether it advanced the highest sequence number (only
   *  those are jitter samples). */
  update(seq: number): SeqVerdict {
    this.packets++;
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation) {
      // A.1: "packet is in sequence" while on probation
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.received++;
          return IN_ORDER;
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return NOT_COUNTED;
    }
    if (udelta < MAX_DROPOUT) {
      if (udelta === 0) {
        this.received++; // A.1: a duplicate is counted ("lost" may go negative)
        return LATE;
      }
      // in order, with permissible gap; A.1: "Sequence number wrapped - count another 64K cycle."
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
      this.received++;
      return IN_ORDER;
    }
    if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A.1: "the sequence number made a very large jump": two sequential packets restart the count
      if (seq === this.badSeq) {
        this.initSeq(seq);
        this.received++;
        return IN_ORDER;
      }
      this.badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
      return NOT_COUNTED;
    }
    // A.1: "duplicate or reordered packet"
    this.received++;
    return LATE;
  }

  /** A.8: one packet's contribution to the jitter estimate. `arrival` and `timestamp` in the same
   *  timestamp units (arrival = wall time × clock rate). */
  jitterSample(arrival: number, timestamp: number): void {
    // the RTP timestamp is modulo 2^32: keep the transit difference in a signed 32-bit range
    const transit = arrival - timestamp;
    if (this.lastTransit !== undefined) {
      let d = transit - this.lastTransit;
      d = ((d % 2 ** 32) + 2 ** 32) % 2 ** 32;
      if (d >= 2 ** 31) d -= 2 ** 32;
      // A.8: "J(i) = J(i-1) + (|D(i-1,i)| - J(i-1))/16"
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  /** The jitter reference restarts (a new talkspurt timing base, e.g. after the sender switched clocks). */
  resetJitterReference(): void {
    this.lastTransit = undefined;
  }

  /** A.3: "extended_max = s->cycles + s->max_seq". */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** A.3: "expected = s->extended_max - s->base_seq + 1"; 0 while on probation. */
  get expected(): number {
    return this.probation ? 0 : this.extendedMax - this.baseSeq + 1;
  }

  /** A.3: cumulative lost = expected − received (negative with duplicates). */
  get lost(): number {
    return this.expected - this.received;
  }

  /** RFC 3550 §6.4.1: cumulative lost clamped to the 24-bit signed field of an RR block. */
  get lostClamped(): number {
    return Math.max(-0x800000, Math.min(0x7fffff, this.lost));
  }

  /** A.3: the interval since the previous call — what the next report block says about it. */
  interval(): IntervalLoss {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    return { expected: expectedInterval, lost: lostInterval, fraction };
  }
}
