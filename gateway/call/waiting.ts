// Call waiting (several lines per user): a call to a user who is already in a call rings that user's
// devices like any other — the page shows it as a waiting call, or answers 486 itself under
// do-not-disturb — unless the user's config turns call waiting off (users[].callWaiting: false) or the
// user has reached their concurrent-call limit (users[].maxCalls, the call-policy lane's key, when set).
// Then the gateway answers 486 Busy Here without ringing anything. Policy only: the calls each user is
// in are counted here; the SIP answer is the caller side's.
import type { UserConfig } from '../config/schema.js';
import type { CallerFinal } from './responses.js';

/** RFC 3261 §21.4.24: 486 Busy Here — "the callee's end system was contacted successfully, but the
 *  callee is currently not willing or able to take additional calls at this end system". */
export const BUSY_HERE: CallerFinal = { status: 486, reason: 'Busy Here' };

export type WaitingDecision =
  | { ring: true; waiting: boolean }
  | { ring: false; final: CallerFinal; why: 'call waiting off' | 'call limit' };

/** The user's concurrent-call limit (users[].maxCalls, when the config schema has it), else none. */
function maxCallsOf(user: UserConfig): number | undefined {
  const max = (user as { maxCalls?: unknown }).maxCalls;
  return typeof max === 'number' && max > 0 ? max : undefined;
}

/** What a new call to `user`, who is in `inCalls` calls already (ringing or answered), does. */
export function waitingDecision(user: UserConfig, inCalls: number): WaitingDecision {
  const max = maxCallsOf(user);
  if (max !== undefined && inCalls >= max) return { ring: false, final: BUSY_HERE, why: 'call limit' };
  if (inCalls === 0) return { ring: true, waiting: false };
  if ((user as { callWaiting?: boolean }).callWaiting === false) return { ring: false, final: BUSY_HERE, why: 'call waiting off' };
  return { ring: true, waiting: true };
}

/** Which users each call in progress involves (its caller if a user, the user it rings or dials for). */
export class UserLines<K = unknown> {
  private readonly byCall = new Map<K, string[]>();
  private readonly counts = new Map<string, number>();

  /** `call` involves `users` until released (a user named twice — calling oneself — counts once). */
  hold(call: K, users: readonly string[]): void {
    if (this.byCall.has(call)) return;
    const distinct = [...new Set(users)];
    this.byCall.set(call, distinct);
    for (const u of distinct) this.counts.set(u, (this.counts.get(u) ?? 0) + 1);
  }

  /** The call ended (idempotent). */
  release(call: K): void {
    const users = this.byCall.get(call);
    if (!users) return;
    this.byCall.delete(call);
    for (const u of users) {
      const n = (this.counts.get(u) ?? 1) - 1;
      if (n > 0) this.counts.set(u, n);
      else this.counts.delete(u);
    }
  }

  /** How many calls in progress involve `user`. */
  count(user: string): number {
    return this.counts.get(user) ?? 0;
  }
}
