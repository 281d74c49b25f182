// When to refresh a registration and when to try again after a failure (RFC 3261 §10.2.1, §10.2.4,
// §20.33). Pure functions: the client turns them into setTimeout delays.
import { getHeader } from '../sip/message/index.js';
import type { SipResponse } from '../sip/message/types.js';

export interface BackoffPolicy {
  /** First retry delay, ms. */
  initialMs: number;
  /** Cap, ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5_000, maxMs: 300_000 };

/** Refresh margin: the earlier of half the granted lifetime and 30 s before it ends (never below 1 s).
 *  §10.2.4: "the UA SHOULD refresh the binding before it expires". */
export function refreshDelayMs(grantedSeconds: number): number {
  const s = Math.min(grantedSeconds / 2, grantedSeconds - 30);
  return Math.max(1, s) * 1000;
}

/** Exponential backoff for the n-th consecutive failure (n = 1, 2, …): initial · 2^(n−1), capped. */
export function backoffDelayMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.min(failures, 32));
  return Math.min(policy.maxMs, policy.initialMs * 2 ** (n - 1));
}

/** §20.33 Retry-After: "delta-seconds" optionally followed by a comment and parameters. Undefined when
 *  absent or unreadable. */
export function retryAfterSeconds(res: SipResponse): number | undefined {
  const v = getHeader(res, 'Retry-After');
  const m = v === undefined ? null : /^\s*(\d{1,9})/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/** §20.23 Min-Expires of a 423, if readable. */
export function minExpiresOf(res: SipResponse): number | undefined {
  const v = getHeader(res, 'Min-Expires');
  const m = v === undefined ? null : /^\s*(\d{1,9})\s*$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/** The delay before the next attempt after a failure: Retry-After when the server gave one (capped at
 *  the policy maximum), else the backoff. */
export function retryDelayMs(failures: number, retryAfter: number | undefined, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (retryAfter !== undefined) return Math.min(policy.maxMs, Math.max(1_000, retryAfter * 1000));
  return backoffDelayMs(failures, policy);
}
