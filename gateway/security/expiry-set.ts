// Keys with an expiry time: banned sources, locked users. Pure: the caller passes the time.

export class ExpirySet {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxKeys = 100_000) {}

  get size(): number {
    return this.until.size;
  }

  add(key: string, untilMs: number): void {
    this.until.delete(key);
    this.until.set(key, untilMs);
    // Bounded: the entry added longest ago goes first (it expires soonest with one duration for all).
    if (this.until.size > this.maxKeys) this.until.delete(this.until.keys().next().value as string);
  }

  has(key: string, nowMs: number): boolean {
    const until = this.until.get(key);
    return until !== undefined && until > nowMs;
  }

  /** Removes and returns the keys whose time is up. */
  expire(nowMs: number): string[] {
    const gone: string[] = [];
    for (const [key, until] of this.until) {
      if (until <= nowMs) {
        this.until.delete(key);
        gone.push(key);
      }
    }
    return gone;
  }
}
