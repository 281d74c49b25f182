// Concurrent calls and calls per hour, counted in memory per key (a user's or a trunk's name). A call takes
// a Lease; releasing it (idempotent) gives the slot back. The hourly window slides: the admitted calls of
// the last 3600 s count (Asterisk's GROUP_COUNT and Kamailio's pike/ratelimit in spirit).

const HOUR_MS = 3_600_000;

/** A slot held by a call; release() is idempotent. */
export interface Lease {
  release(): void;
  readonly released: boolean;
}

export interface Limits {
  /** Concurrent calls; 0 or undefined: no limit. */
  maxCalls?: number;
  /** Calls admitted within the last hour; 0 or undefined: no limit. */
  callsPerHour?: number;
}

export type Take = { ok: true; lease: Lease } | { ok: false; limit: 'maxCalls' | 'callsPerHour'; value: number };

interface Slot {
  active: number;
  /** Admission times (ms) within the last hour, oldest first; kept only for keys with an hourly limit. */
  starts: number[];
}

export class LimitCounter {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A lease for `key` unless it is at a limit; `force` (emergency calls, inbound trunk calls) takes one
   *  whatever the limits (it still counts); `hourly: false` does not count toward callsPerHour. */
  take(key: string, limits: Limits, opts: { force?: boolean; hourly?: boolean } = {}): Take {
    const slot = this.slot(key);
    const hourly = opts.hourly !== false && (limits.callsPerHour ?? 0) > 0;
    if (hourly) this.prune(slot);
    if (!opts.force) {
      if (limits.maxCalls && slot.active >= limits.maxCalls) return { ok: false, limit: 'maxCalls', value: limits.maxCalls };
      if (hourly && slot.starts.length >= limits.callsPerHour!) return { ok: false, limit: 'callsPerHour', value: limits.callsPerHour! };
    }
    slot.active++;
    if (hourly) slot.starts.push(this.now());
    let released = false;
    return {
      ok: true,
      lease: {
        release: () => {
          if (released) return;
          released = true;
          slot.active--;
          if (slot.active === 0 && slot.starts.length === 0) this.slots.delete(key);
        },
        get released() {
          return released;
        },
      },
    };
  }

  /** Calls `key` holds now. */
  active(key: string): number {
    return this.slots.get(key)?.active ?? 0;
  }

  /** Calls of `key` admitted within the last hour (keys with an hourly limit only). */
  lastHour(key: string): number {
    const slot = this.slots.get(key);
    if (!slot) return 0;
    this.prune(slot);
    return slot.starts.length;
  }

  /** { key: active calls } for every key holding one. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, slot] of this.slots) if (slot.active > 0) out[key] = slot.active;
    return out;
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, starts: [] };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private prune(slot: Slot): void {
    const since = this.now() - HOUR_MS;
    let drop = 0;
    while (drop < slot.starts.length && slot.starts[drop]! <= since) drop++;
    if (drop > 0) slot.starts.splice(0, drop);
  }
}
