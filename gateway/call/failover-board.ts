// Per-trunk state for failover (the gateway's view of each trunk, shared by all calls): whether its OPTIONS
// keep-alive marked it down (gateway/upstream/keepalive.ts) and the counters /api/status shows in
// trunks[].calls. The trunks' limits are the call policy's (gateway/policy takeTrunk, asked per attempt).
import type { TrunkConfig } from '../config/schema.js';

/** A held place on a trunk (one call in progress through it, counted in `current`); release() is idempotent. */
export interface TrunkLease {
  release(): void;
}

/** The keep-alive state of a trunk by name (undefined: no keep-alive, never skipped). */
export type TrunkHealth = (name: string) => 'unknown' | 'up' | 'down' | undefined;

export interface TrunkCounters {
  /** Calls in progress through the trunk (INVITE out, ringing or answered). */
  current: number;
  /** INVITEs sent to it (one per call attempt). */
  attempts: number;
  answered: number;
  /** Attempts that failed over to the next trunk (no response, transport error, a failoverOn code). */
  failovers: number;
  /** Attempts whose failure went to the caller (not a failover code, or no trunk left). */
  failed: number;
  /** Calls that skipped it: marked down by its keep-alive, or at its limit. */
  skippedDown: number;
  skippedLimit: number;
}

export interface TrunkBoardStatus {
  /** 'down' while the keep-alive says so (calls skip it); else 'up' (or 'unknown' before the first probe). */
  health: 'unknown' | 'up' | 'down';
  calls: TrunkCounters;
}

const zero = (): TrunkCounters => ({ current: 0, attempts: 0, answered: 0, failovers: 0, failed: 0, skippedDown: 0, skippedLimit: 0 });

export class TrunkBoard {
  private readonly counters = new Map<string, TrunkCounters>();

  constructor(private readonly o: { health?: TrunkHealth } = {}) {}

  isDown(name: string): boolean {
    return this.o.health?.(name) === 'down';
  }

  /** A call in progress through `trunk` (counted in `current` until released). */
  acquire(trunk: TrunkConfig): TrunkLease {
    const c = this.of(trunk.name);
    c.current += 1;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        c.current -= 1;
      },
    };
  }

  count(name: string, what: Exclude<keyof TrunkCounters, 'current'>): void {
    this.of(name)[what] += 1;
  }

  status(name: string): TrunkBoardStatus {
    const health = this.o.health?.(name) ?? 'up';
    return { health, calls: { ...this.of(name) } };
  }

  private of(name: string): TrunkCounters {
    let c = this.counters.get(name);
    if (!c) {
      c = zero();
      this.counters.set(name, c);
    }
    return c;
  }
}
