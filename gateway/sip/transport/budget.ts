// No amplification over UDP (issue 8): an answer to a request whose source is not proven (UDP: anyone can
// write any source address) is never bigger than that request was on the wire, so the gateway cannot be
// used to multiply an attacker's traffic toward a victim. Which responses: every final error (status ≥ 300)
// to a request we received, and any response a caller bounds explicitly (a stateless 200 to OPTIONS, the
// 400 to an unparseable datagram). Such a response goes with its long header names when it fits, else
// with RFC 3261 §7.3.3 compact names ("v:", "f:", "t:", "i:", "l:" …), else not at all (counted, debug log).
// Stream transports (TCP/TLS/WS) proved their source with a handshake: never bounded.
import { requestOf, serializeMessage } from '../message/index.js';
import type { SipMessage, SipResponse } from '../message/types.js';

/** Bytes each delivered message had on the wire. */
const wireSizes = new WeakMap<SipMessage, number>();

/** Noted by the inbound path (./inbound.ts) for every message it delivers. */
export function recordReceivedSize(message: SipMessage, bytes: number): void {
  wireSizes.set(message, bytes);
}

/** How many bytes `message` had on the wire when it arrived; undefined for one we did not receive. */
export function receivedSize(message: SipMessage): number | undefined {
  return wireSizes.get(message);
}

const explicit = new WeakMap<SipResponse, number>();

/** Bound `response` (over UDP) to `bytes`: the size of the request it answers, as received. */
export function limitResponseSize(response: SipResponse, bytes: number): void {
  explicit.set(response, bytes);
}

/** The byte bound of a response over UDP, or undefined (unbounded): the explicit one, else for a final
 *  error the size of the request it was built from (message/build.ts requestOf) when we received it. */
export function responseBudget(response: SipResponse): number | undefined {
  const bound = explicit.get(response);
  if (bound !== undefined) return bound;
  if (response.status < 300) return undefined;
  const request = requestOf(response);
  return request && receivedSize(request);
}

/** The bytes to send for `response` within `budget` (undefined: no bound): long names, else compact names;
 *  undefined when even the compact form is bigger. Throws like serializeMessage on a CR/LF in a value. */
export function encodeWithin(response: SipResponse, budget: number | undefined): Buffer | undefined {
  const data = serializeMessage(response);
  if (budget === undefined || data.length <= budget) return data;
  const compact = serializeMessage(response, { compact: true });
  return compact.length <= budget ? compact : undefined;
}

/** Would `response` go out within `budget` (long or compact)? For a caller choosing among smaller answers. */
export function fitsWithin(response: SipResponse, budget: number): boolean {
  return encodeWithin(response, budget) !== undefined;
}
