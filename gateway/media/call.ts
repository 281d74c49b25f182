// One call's media state: its legs (keyed by the SIP tag of the side they face) and where it is in
// offer/answer (RFC 3264).
import { randomInt } from 'node:crypto';
import type { DtlsCertificate } from './dtls/certificate.js';
import type { OpenLeg } from './legs/factory.js';
import type { Bridge } from './relay.js';
import type { Origin } from './sdp/build.js';
import type { LocalTransport } from './sdp/convert.js';
import type { AudioDescription, Codec, SetupRole } from './sdp/model.js';
import type { MediaStats } from './types.js';

export type CallState = 'offered' | 'answered' | 'echo' | 'deleted';

const EDGES: Record<CallState, readonly CallState[]> = {
  offered: ['answered', 'deleted'],
  // a repeated answer (183 then 200) updates in place; a re-offer (re-INVITE) reuses the legs
  answered: ['answered', 'offered', 'deleted'],
  echo: ['echo', 'deleted'],
  deleted: [],
};

/** The one transition function: illegal edges throw. */
export function nextCallState(from: CallState, to: CallState): CallState {
  if (!EDGES[from].includes(to)) throw new Error(`media call: illegal transition ${from} → ${to}`);
  return to;
}

/** One side of the call as the engine faces it. */
export interface Side {
  /** SIP tag of the peer on this side; undefined until its answer names it. */
  tag: string | undefined;
  open: OpenLeg;
  origin: Origin;
  /** Our a=setup on this leg (webrtc only). */
  setup: SetupRole;
  /** The SDP in effect from this side (its last offer or answer that was committed). */
  remote?: AudioDescription;
  /** The codecs in use with this side, in its payload type numbers. */
  codecs?: Codec[];
  /** Our last answer to this side and the o= of the offer it answered: an offer with the same o=
   *  (an unchanged session refresh) gets the very same answer (RFC 3264 §8). */
  lastAnswer?: { origin: string; sdp: string };
}

/** A re-offer (RFC 3264 §8) sent on to the other side and not answered yet: it is committed by
 *  answer() and dropped by rollback(); until then the call runs as before. */
export interface PendingOffer {
  offerer: Side;
  answerer: Side;
  offer: AudioDescription;
  sentCodecs: Codec[];
  peerAddress?: string;
}

export interface MediaCall {
  id: string;
  state: CallState;
  offerer: Side;
  /** The offer as the offerer wrote it (its codecs, mid, other m-lines). */
  offer: AudioDescription;
  /** Echo calls have no answerer. */
  answerer?: Side;
  /** Codecs sent to the answerer in the produced offer. */
  sentCodecs: Codec[];
  bridge?: Bridge;
  pending?: PendingOffer;
}

export function moveCall(call: MediaCall, to: CallState): void {
  call.state = nextCallState(call.state, to);
}

export function newSide(tag: string | undefined, open: OpenLeg, setup: SetupRole): Side {
  return { tag, open, setup, origin: { sessionId: String(randomInt(1, 2 ** 47)), version: 0 } };
}

/** Our transport parameters for a side, bumping its o= version (RFC 3264 §8). */
export function localTransport(side: Side, address: string, certificate: DtlsCertificate): LocalTransport {
  side.origin.version++;
  const { open } = side;
  const local: LocalTransport = { profile: open.profile, address, port: open.leg.port, origin: { ...side.origin } };
  if (open.profile === 'webrtc') {
    local.webrtc = {
      iceUfrag: open.ice.localUfrag,
      icePwd: open.ice.localPwd,
      fingerprint: certificate.fingerprint,
      setup: side.setup,
      ssrc: open.leg.ssrc,
      cname: open.leg.cname,
      iceTcp: open.leg.iceTcp,
    };
  }
  return local;
}

export function callStats(call: MediaCall): MediaStats {
  const legs: MediaStats['legs'] = {};
  for (const side of [call.offerer, call.answerer]) {
    if (side?.tag !== undefined) legs[side.tag] = { ...side.open.leg.counters };
  }
  return { legs };
}
