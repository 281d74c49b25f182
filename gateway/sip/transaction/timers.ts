// Timer values (RFC 3261 §17.1.1.1, Table 4) and a small named-timer set owned by one transaction.
import type { TimerValues } from './types.js';

/** RFC 3261 §17.1.1.1: "T1 ... 500 ms default", "T2 ... 4 s", "T4 ... 5 s". */
export const DEFAULT_TIMERS: Readonly<TimerValues> = { t1: 500, t2: 4000, t4: 5000 };

/** RFC 3261 §17.1.1.2: "Timer D ... MUST be set to a value of at least 32 seconds for unreliable transports". */
export const TIMER_D_UNRELIABLE_MS = 32_000;

/** RFC 3261 §17.2.1: a 100 (Trying) is sent "if the TU will not generate a provisional or final response
 *  within 200 ms". */
export const TRYING_DELAY_MS = 200;

export function resolveTimers(partial: Partial<TimerValues> | undefined): TimerValues {
  const values = { ...DEFAULT_TIMERS, ...partial };
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`timer ${name} must be a positive number of ms, got ${v}`);
  }
  return values;
}

/** Doubling retransmit interval: "starts at T1 and doubles ... until it reaches T2" (§17.1.2.2, §17.2.1). */
export function nextInterval(current: number, cap: number = Number.POSITIVE_INFINITY): number {
  return Math.min(current * 2, cap);
}

/** The named timers of one transaction. Starting a running timer restarts it; stopAll() leaves none pending. */
export class TimerSet<N extends string> {
  private readonly handles = new Map<N, ReturnType<typeof setTimeout>>();

  start(name: N, ms: number, fire: () => void): void {
    this.stop(name);
    const handle = setTimeout(() => {
      this.handles.delete(name);
      fire();
    }, ms);
    this.handles.set(name, handle);
  }

  stop(name: N): void {
    const handle = this.handles.get(name);
    if (handle !== undefined) clearTimeout(handle);
    this.handles.delete(name);
  }

  running(name: N): boolean {
    return this.handles.has(name);
  }

  stopAll(): void {
    for (const handle of this.handles.values()) clearTimeout(handle);
    this.handles.clear();
  }
}
