// After a transfer joined two kept parties: a kept party that the transferor had put on hold (the browser
// held the call before its REFER, or its other call was held during the consultation) must hear the new
// party. The splice changes no SDP, so such a party still has our sendonly (or inactive) offer and does
// not send: it gets a re-INVITE with a sendrecv offer (RFC 3264 §8.4: "the offerer ... changes the
// direction attribute" to resume). Decided by that leg's negotiated state only:
//  - our last SDP to it does not receive (sendonly/inactive: we held it) → re-INVITE to sendrecv;
//  - it holds itself (its own SDP sendonly, ours recvonly) or it is sendrecv already → nothing to do.
// The engine makes the offer as a re-offer from the other kept party (its current SDP, sendrecv), and the
// answer is applied to that re-offer; the other party hears nothing of it (its media does not change).
import type { Logger } from '../log.js';
import { effectiveDirection, receives } from '../media/sdp/direction.js';
import { parseAudioSdp } from '../media/sdp/model.js';
import type { MediaEngine, ModifiableMediaEngine } from '../media/types.js';
import type { SipResponse } from '../sip/message/types.js';
import { ALLOWED_METHODS } from '../sip/ua/uas.js';
import { TRUNK_CODECS, type CallSide } from './call.js';
import type { CallSession, SessionLeg } from './session-legs.js';
import { offerSource } from './transfer-media.js';

const other = (side: CallSide): CallSide => (side === 'caller' ? 'callee' : 'caller');

/** Whether `leg` is on hold by us: our last SDP to it (offer or answer) does not receive. A party that
 *  put us on hold itself is not "held by us" (its choice stays). */
export function heldByUs(leg: Pick<SessionLeg, 'localSdp' | 'remoteSdp'>): boolean {
  try {
    const ours = effectiveDirection(parseAudioSdp(leg.localSdp));
    const theirs = effectiveDirection(parseAudioSdp(leg.remoteSdp));
    return !receives(ours) && theirs !== 'sendrecv';
  } catch {
    return false;
  }
}

function canReoffer(engine: MediaEngine): engine is ModifiableMediaEngine {
  return typeof (engine as Partial<ModifiableMediaEngine>).rollback === 'function';
}

/** Takes `session[side]` off hold toward the party now on the other side, if we held it. Resolves true
 *  when a re-INVITE was answered (or none was needed), false when it failed (the session stays as it was). */
export async function resumeKept(engine: MediaEngine, session: CallSession, side: CallSide, log: Logger): Promise<boolean> {
  const kept = session[side];
  const peer = session[other(side)];
  if (!heldByUs(kept)) return true;
  if (!canReoffer(engine)) return false;
  const profile = parseAudioSdp(kept.remoteSdp).profile;
  const offer = await session.media.offer({
    fromTag: peer.tag,
    sdp: offerSource(peer.remoteSdp),
    toProfile: profile,
    codecs: profile === 'rtp' ? TRUNK_CODECS : undefined,
    peerAddress: peer.peerAddress,
  });
  const res = await reinvite(kept, offer.sdp);
  const answer = res && res.status < 300 ? res.body.toString('utf8') : '';
  if (answer.length === 0) {
    await engine.rollback({ callId: session.media.key, fromTag: peer.tag });
    log.info({ side, status: res?.status }, 'transfer: the held party was not taken off hold');
    return false;
  }
  try {
    await session.media.answer({ fromTag: peer.tag, toTag: kept.tag, sdp: answer, peerAddress: kept.peerAddress });
  } catch (err) {
    await engine.rollback({ callId: session.media.key, fromTag: peer.tag });
    log.info({ err: (err as Error).message, side }, 'transfer: the held party\'s answer is unusable');
    return false;
  }
  Object.assign(kept, { remoteSdp: answer, localSdp: offer.sdp });
  log.info({ side }, 'transfer: the held party taken off hold (re-INVITE sendrecv)');
  return true;
}

/** One re-INVITE with `sdp` through the leg's usage (its offer/answer state moves with it); resolves
 *  with the final response, undefined on a timeout or transport error. */
function reinvite(leg: SessionLeg, sdp: string): Promise<SipResponse | undefined> {
  if (!leg.oa.canSend('INVITE', true)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const opts = { body: Buffer.from(sdp), contentType: 'application/sdp', headers: [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }] };
    leg.usage
      .sendInDialog('INVITE', opts, {
        onResponse: (res) => res.status >= 200 && resolve(res),
        onTimeout: () => resolve(undefined),
        onTransportError: () => resolve(undefined),
      })
      .catch(() => resolve(undefined));
  });
}
