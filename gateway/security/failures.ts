// Failures counted per key (a source IP, a user) in a sliding window; `max` of them lock the key for
// `lockoutMs` (fail2ban's maxretry/findtime/bantime). Pure: the caller passes the time.
import { ExpirySet } from './expiry-set.js';

export interface FailureOptions {
  max: number;
  windowMs: number;
  lockoutMs: number;
  maxKeys?: number;
}

export class FailureCounter {
  private readonly recent = new Map<string, number[]>();
  readonly locked: ExpirySet;

  constructor(private readonly o: FailureOptions) {
    this.locked = new ExpirySet(o.maxKeys);
  }

  isLocked(key: string, nowMs: number): boolean {
    return this.locked.has(key, nowMs);
  }

  /** Counts one failure; true when it locks the key (the max-th within the window). */
  record(key: string, nowMs: number): boolean {
    const times = (this.recent.get(key) ?? []).filter((t) => t > nowMs - this.o.windowMs);
    times.push(nowMs);
    this.recent.delete(key);
    if (times.length < this.o.max) {
      this.recent.set(key, times);
      if (this.recent.size > (this.o.maxKeys ?? 100_000)) this.recent.delete(this.recent.keys().next().value as string);
      return false;
    }
    this.locked.add(key, nowMs + this.o.lockoutMs);
    return true;
  }

  /** Drops failures that left the window; returns the keys whose lockout ended. */
  sweep(nowMs: number): string[] {
    for (const [key, times] of this.recent) {
      if (times.every((t) => t <= nowMs - this.o.windowMs)) this.recent.delete(key);
    }
    return this.locked.expire(nowMs);
  }
}
