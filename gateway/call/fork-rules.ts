// How a forked call's outcome is told to the caller (pure): RFC 3261 §16.7 response selection,
// simplified for a B2BUA that rings every contact of one user in parallel.
import { finalForOutcome, type CallerFinal, type TrunkOutcome } from './responses.js';

export const NO_CONTACT: CallerFinal = { status: 480, reason: 'Temporarily Unavailable' };
export const BUSY: CallerFinal = { status: 486, reason: 'Busy Here' };
export const RING_TIMEOUT: CallerFinal = { status: 480, reason: 'Temporarily Unavailable' };
export const CANCELLED: CallerFinal = { status: 487, reason: 'Request Terminated' };

/** RFC 3326 §2 Reason for the forks that lost: the page shows "answered elsewhere", not a missed call. */
export const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** One fork's failure as a final response. Our own failures follow §8.1.3.1 (timeout → 408, transport
 *  → 503). A 3xx is not recursed on (§8.1.3.4 lets us ignore it) and a challenge from a contact cannot
 *  be answered (we hold no credentials for it): both count as "unavailable". */
export function forkFinal(o: TrunkOutcome): CallerFinal {
  return finalForOutcome(o, { challenge: () => NO_CONTACT, redirect: NO_CONTACT });
}

const isBusy = (f: CallerFinal): boolean => f.status === 486 || f.status === 600;

/** §16.7 step 6, simplified: no fork at all → 480; every fork busy (486/600) → 486; else a 6xx if any
 *  ("a proxy … SHOULD … forward a 6xx"), else the first final of the lowest class ("the proxy MUST
 *  choose the response with the lowest response class"). */
export function bestFinal(finals: readonly CallerFinal[]): CallerFinal {
  if (finals.length === 0) return NO_CONTACT;
  if (finals.every(isBusy)) return BUSY;
  const global = finals.find((f) => f.status >= 600);
  if (global) return global;
  const classOf = (f: CallerFinal): number => Math.floor(f.status / 100);
  return finals.reduce((best, f) => (classOf(f) < classOf(best) ? f : best));
}
