// Digest challenges to unauthenticated requests (RFC 3261 §22.1 401, §22.3 407), the way Kamailio's
// auth_challenge + sl_send_reply answer them: statelessly and once. Whoever sends unauthenticated requests
// (a scanner, a spoofed source) holds no server transaction here and gets no retransmissions, and over UDP
// the answer carries no more challenges than fit in the request's own size (issue 8: no amplification).
import { createResponse, getTo, newTag, serializeMessage } from '../message/index.js';
import type { SipResponse } from '../message/types.js';
import type { ServerTransaction } from '../transaction/types.js';
import { receivedSize } from '../transport/index.js';

export type ChallengeHeader = 'WWW-Authenticate' | 'Proxy-Authenticate';

const REASONS = { 401: 'Unauthorized', 407: 'Proxy Authentication Required' } as const;

/** The 401/407 with the first `count` challenges. No Server header: fewer bytes, and no product name for
 *  a scanner. §8.2.6.2: a To tag unless the request had one. */
function challengeResponse(tx: ServerTransaction, status: 401 | 407, header: ChallengeHeader, values: string[]): SipResponse {
  const toTag = getTo(tx.request).params.tag === undefined ? newTag() : undefined;
  const headers = values.map((value) => ({ name: header, value }));
  return createResponse(tx.request, status, REASONS[status], { toTag, headers });
}

/**
 * Answer `tx` with a 401/407 carrying `challenges` (most preferred first, RFC 8760 §2.4), statelessly
 * (ServerTransaction.respondStatelessly). Over UDP, where a source address is not proven, trailing
 * challenges are left out while the response would be bigger than the request was on the wire; the most
 * preferred one always goes (a phone's small REGISTER must still be answered), so a hand-made minimal
 * request still gets about 1.8× its size back — once. Over TCP/TLS/WS every challenge goes.
 * Returns the number of challenges sent.
 */
export function challengeStatelessly(tx: ServerTransaction, status: 401 | 407, header: ChallengeHeader, challenges: string[]): number {
  let count = challenges.length;
  let response = challengeResponse(tx, status, header, challenges);
  const limit = tx.flow.reliable ? undefined : (receivedSize(tx.request) ?? serializeMessage(tx.request).length);
  while (limit !== undefined && count > 1 && serializeMessage(response).length > limit) {
    count -= 1;
    response = challengeResponse(tx, status, header, challenges.slice(0, count));
  }
  tx.respondStatelessly(response);
  return count;
}
