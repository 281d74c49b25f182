// Media direction of one side of a call (RFC 3264 §5.1, §6.1, §8.4), pure. A direction is written from
// the point of view of the side whose SDP it is: "sendonly" = that side sends and does not receive.
import type { AudioDescription, Direction } from './model.js';

/** RFC 3264 §8.4: "An agent MUST be capable of receiving SDP with a connection address of 0.0.0.0, in
 *  which case it means that neither RTP nor RTCP should be sent to the peer." The IPv6 "::" alike. */
export function isUnspecifiedAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

export function receives(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

function fromFlags(send: boolean, recv: boolean): Direction {
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  return recv ? 'recvonly' : 'inactive';
}

/** What the side really does: its a= direction, minus receiving when its c= is 0.0.0.0 (an RFC 2543
 *  hold from an older phone: c=0.0.0.0 with a=sendrecv means sendonly, with a=recvonly inactive).
 *  Not with ICE: there c=0.0.0.0 only says the addresses are in the a=candidate lines (trickle ICE,
 *  RFC 8840: no default candidate known yet; browsers write it in every offer). */
export function effectiveDirection(desc: Pick<AudioDescription, 'direction' | 'address' | 'iceUfrag'>): Direction {
  if (!isUnspecifiedAddress(desc.address) || desc.iceUfrag !== undefined) return desc.direction;
  return fromFlags(sends(desc.direction), false);
}

/** Both constraints at once: sending only where both allow it, receiving likewise. */
export function intersect(a: Direction, b: Direction): Direction {
  return fromFlags(sends(a) && sends(b), receives(a) && receives(b));
}

/** Whether RTP may go from a side with direction `from` to a side with direction `to` (RFC 3264
 *  §6.1: a sendonly side's peer "MUST NOT" send to it; a recvonly side sends nothing). RTCP is not
 *  subject to this: it "is still sent" in every direction (RFC 3264 §5.1). */
export function flows(from: Direction, to: Direction): boolean {
  return sends(from) && receives(to);
}
