// Digest challenges to unauthenticated requests (RFC 3261 §22.1 401, §22.3 407), the way Kamailio's
// auth_challenge + sl_send_reply answer them: statelessly and once. Whoever sends unauthenticated requests
// (a scanner, a spoofed source) holds no server transaction here and gets no retransmissions, and over UDP
// the answer is never bigger than the request was on the wire (issue 8: no amplification).
import { formatChallenge, parseChallenge } from '../auth/index.js';
import { createResponse, getTo, newTag, serializeMessage } from '../message/index.js';
import type { HeaderField, SipResponse } from '../message/types.js';
import type { ServerTransaction } from '../transaction/types.js';
import { fitsWithin, limitResponseSize, receivedSize } from '../transport/index.js';

export type ChallengeHeader = 'WWW-Authenticate' | 'Proxy-Authenticate';

const REASONS = { 401: 'Unauthorized', 407: 'Proxy Authentication Required' } as const;

/** A response to an unauthenticated request: only what RFC 3261 §8.2.6 requires plus `headers` — no
 *  Server header (fewer bytes, and no product name for a scanner). §8.2.6.2: a To tag unless the request
 *  had one. */
export function bareResponse(tx: ServerTransaction, status: number, reason: string, headers: HeaderField[] = []): SipResponse {
  const toTag = getTo(tx.request).params.tag === undefined ? newTag() : undefined;
  return createResponse(tx.request, status, reason, { toTag, headers });
}

/** The bound on an answer to `tx` over UDP (its request's size on the wire); undefined over TCP/TLS/WS. */
export function udpBudget(tx: ServerTransaction): number | undefined {
  return tx.flow.reliable ? undefined : (receivedSize(tx.request) ?? serializeMessage(tx.request).length);
}

/** The last resort for a tight budget: an MD5 challenge without its optional `algorithm` parameter
 *  (RFC 2617 §3.2.1: "If this is not present it is assumed to be MD5"). Others are left as they are. */
function minimalChallenge(challenge: string): string {
  try {
    const c = parseChallenge(challenge);
    if ((c.algorithm ?? 'MD5').toUpperCase() !== 'MD5') return challenge;
    return formatChallenge({ ...c, algorithm: undefined });
  } catch {
    return challenge;
  }
}

/** The challenge sets to try, largest first: all, then fewer (trailing ones left out), then the preferred
 *  one in its minimal form — made (parsed and formatted again) only when asked for: nearly every request
 *  has room for all of them. */
function* candidates(challenges: string[]): Generator<string[]> {
  for (let i = 0; i < challenges.length; i++) yield challenges.slice(0, challenges.length - i);
  const minimal = minimalChallenge(challenges[0]!);
  if (minimal !== challenges[0]) yield [minimal];
}

/**
 * Answer `tx` with a 401/407 carrying `challenges` (most preferred first, RFC 8760 §2.4), statelessly
 * (ServerTransaction.respondStatelessly). Over UDP, where a source address is not proven, the response must
 * not be bigger than the request was on the wire: trailing challenges are left out, then the preferred one
 * loses its optional parameters, and the transport falls back to compact header names (RFC 3261 §7.3.3);
 * when even that is bigger, nothing is sent (the transport counts it and logs it at debug) — a hand-made
 * minimal request gets no answer, a phone's REGISTER or INVITE (with its Contact, User-Agent, Allow …)
 * does. Over TCP/TLS/WS every challenge goes. Returns the number of challenges sent (0: none fitted).
 */
export function challengeStatelessly(tx: ServerTransaction, status: 401 | 407, header: ChallengeHeader, challenges: string[]): number {
  const build = (values: string[]): SipResponse => bareResponse(tx, status, REASONS[status], values.map((value) => ({ name: header, value })));
  const budget = udpBudget(tx);
  if (budget === undefined || challenges.length === 0) {
    tx.respondStatelessly(build(challenges));
    return challenges.length;
  }
  let fitting: string[] | undefined;
  let smallest: string[] = challenges;
  for (const set of candidates(challenges)) {
    smallest = set;
    if (fitsWithin(build(set), budget)) {
      fitting = set;
      break;
    }
  }
  const response = build(fitting ?? smallest);
  // The transport sends it within the budget (compact if need be) or drops it, counted.
  limitResponseSize(response, budget);
  tx.respondStatelessly(response);
  return fitting?.length ?? 0;
}

/**
 * A final answer to a request not (yet) authenticated — a 403/404 before any digest, a 481 for no dialog,
 * a §8.2 rejection, a 200 to an out-of-dialog OPTIONS — sent statelessly and once (no retransmissions: an
 * INVITE's 4xx would otherwise be resent up to 10 times by Timer G), without a Server header, and over
 * UDP never bigger than the request (compact names if need be, else not sent). `candidates` are the same
 * answer, fullest first (an OPTIONS 200 with Allow, Accept … then a bare one): over UDP the first that
 * fits goes. A 2xx to an INVITE, or an already answered transaction, cannot be stateless: then it is an
 * ordinary (still bounded) answer.
 */
export function answerUnauthenticated(tx: ServerTransaction, ...candidates: [SipResponse, ...SipResponse[]]): void {
  const budget = udpBudget(tx);
  // Over UDP the first of the candidates (fullest first) that fits, else the last, bounded (dropped).
  const response = budget === undefined ? candidates[0] : (candidates.find((c) => fitsWithin(c, budget)) ?? candidates[candidates.length - 1]!);
  if (budget !== undefined) limitResponseSize(response, budget);
  if (response.status >= (tx.request.method === 'INVITE' ? 300 : 200)) {
    try {
      return tx.respondStatelessly(response);
    } catch {
      // Already answered (e.g. an INVITE's 100 Trying went): the ordinary way below.
    }
  }
  tx.respond(response);
}
