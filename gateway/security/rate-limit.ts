// A token bucket per source IP (Kamailio's pike counts requests per source the same way): each message
// takes a token; tokens come back at `perSecond`, at most `burst` are held. Pure: the caller passes the time.

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Most sources tracked at once; beyond it the least recently seen is forgotten (a full bucket). */
  maxSources?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxSources: number;

  constructor(private readonly o: RateLimitOptions) {
    this.maxSources = o.maxSources ?? 100_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for `source`; false when its bucket is empty (the source is over the rate). */
  take(source: string, nowMs: number): boolean {
    const bucket = this.refilled(source, nowMs);
    this.buckets.delete(source); // re-insert: Map order is least recently seen first
    this.buckets.set(source, bucket);
    if (this.buckets.size > this.maxSources) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets every source whose bucket has filled up again (it is as if never seen). */
  sweep(nowMs: number): void {
    for (const [source] of this.buckets) {
      if (this.refilled(source, nowMs).tokens >= this.o.burst) this.buckets.delete(source);
    }
  }

  private refilled(source: string, nowMs: number): Bucket {
    const b = this.buckets.get(source);
    if (!b) return { tokens: this.o.burst, at: nowMs };
    const elapsed = Math.max(0, nowMs - b.at) / 1000;
    return Object.assign(b, { tokens: Math.min(this.o.burst, b.tokens + elapsed * this.o.perSecond), at: nowMs });
  }
}
