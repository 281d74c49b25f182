// How the trunk leg's outcome is told to the browser (pure). Final responses are relayed with the same
// status and reason, with these exceptions (documented in the README's call section):
// - 401/407 are never relayed: they challenge the gateway, not the browser. The gateway answers the first
//   one with the trunk's credentials (RFC 3261 §22.2). Being challenged again means the trunk rejected
//   them → 403 "Trunk Authentication Failed" (re-authenticating the browser cannot help, §21.4.4). A
//   challenge from a trunk with no credentials configured is a gateway misconfiguration → 503.
// - 3xx: this B2BUA does not recurse on redirects (§8.1.3.4 lets a UAC ignore them) → 480.
// - 6xx and other 4xx/5xx are relayed unchanged (§16.7 lets a proxy relay them too).
// - Our own failures: Timer B/F → 408 (§8.1.3.1), transport error → 503 (§8.1.3.1).
import type { MediaError } from '../media/types.js';
import type { HeaderField } from '../sip/message/types.js';
import type { InviteOutcome } from '../sip/ua/invite-client.js';

export interface CallerFinal {
  status: number;
  reason: string;
  /** Header fields of the final response (a 503's Retry-After). */
  headers?: HeaderField[];
}

/** How the callee side's INVITE failed (the invite client's outcome). */
export type TrunkOutcome = InviteOutcome;

/** What a leg's failure becomes, for a trunk leg and a fork alike: our own failures follow §8.1.3.1 (Timer B/F
 *  → 408, transport → 503); a 3xx is not recursed on (§8.1.3.4) and becomes `rules.redirect`; any other
 *  final is relayed with its status and reason. A challenge we could not answer follows `rules.challenge`. */
export function finalForOutcome(
  o: TrunkOutcome,
  rules: { challenge(kind: 'challenge-without-credentials' | 'challenge-after-credentials'): CallerFinal; redirect: CallerFinal },
): CallerFinal {
  switch (o.kind) {
    case 'timeout':
      return { status: 408, reason: 'Request Timeout' };
    case 'transport-error':
      return { status: 503, reason: 'Service Unavailable' };
    case 'challenge-without-credentials':
    case 'challenge-after-credentials':
      return rules.challenge(o.kind);
    case 'response':
      if (o.status >= 300 && o.status < 400) return rules.redirect;
      return { status: o.status, reason: o.reason || 'Call Failed' };
  }
}

export function callerFinalFor(o: TrunkOutcome): CallerFinal {
  return finalForOutcome(o, {
    challenge: (kind) =>
      kind === 'challenge-without-credentials'
        ? { status: 503, reason: 'Trunk Requires Authentication' }
        : { status: 403, reason: 'Trunk Authentication Failed' },
    redirect: { status: 480, reason: 'Temporarily Unavailable' },
  });
}

/** How a media refusal is logged: an overload refusal at debug, since the engine logs each refusal burst
 *  once at warn (media/admission.ts); any other at info. */
export function mediaRefusalLevel(err: unknown): 'debug' | 'info' {
  return (err as Partial<MediaError> | undefined)?.code === 'overloaded' ? 'debug' : 'info';
}

/** MediaError → final response (media/types.ts): no-common-codec / bad-sdp → 488, no-ports → 503,
 *  overloaded (the engine's admission control) → 503 with Retry-After: `retryAfter` seconds (RFC 3261
 *  §21.5.4, media.admission.retryAfter), unknown-call → 481; anything else → 500. */
export function callerFinalForMedia(err: unknown, retryAfter = 5): CallerFinal {
  const code = (err as Partial<MediaError> | undefined)?.code;
  if (code === 'no-common-codec' || code === 'bad-sdp') return { status: 488, reason: 'Not Acceptable Here' };
  if (code === 'no-ports') return { status: 503, reason: 'Service Unavailable' };
  if (code === 'overloaded') return { status: 503, reason: 'Service Unavailable: Media Overloaded', headers: [{ name: 'Retry-After', value: String(retryAfter) }] };
  if (code === 'unknown-call') return { status: 481, reason: 'Call/Transaction Does Not Exist' };
  return { status: 500, reason: 'Server Internal Error' };
}
