// The calls the HTTP API lists (GET /api/calls): a call observer (call/observer.ts) that keeps, per call
// in progress, who is on each side as the call layer announced it, when it started and when it was
// answered. A call leaves the book when it ends (its record is the CDR's, gateway/cdr).
import type { Call, CallObserver, CallStart } from '../../call/index.js';

export interface BookedCall {
  call: Call;
  start: CallStart;
  /** Epoch ms. */
  startedAt: number;
  answeredAt?: number;
}

export class CallBook implements CallObserver {
  private readonly calls = new Map<string, BookedCall>();

  constructor(private readonly now: () => number = Date.now) {}

  callStarted(call: Call, start: CallStart): void {
    const entry: BookedCall = { call, start, startedAt: this.now() };
    this.calls.set(call.id, entry);
    const stop = call.onChange(({ to }) => {
      if (to === 'answered') entry.answeredAt ??= this.now();
      if (to !== 'ended') return;
      this.calls.delete(call.id);
      stop();
    });
  }

  /** Oldest first. */
  list(): BookedCall[] {
    return [...this.calls.values()];
  }

  get(id: string): BookedCall | undefined {
    return this.calls.get(id);
  }
}
