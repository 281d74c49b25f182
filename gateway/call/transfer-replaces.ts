// An INVITE with Replaces (RFC 3891) from a trunk or a phone takes over one side of a call in progress
// (B2BUA policy; the header and the recipient's rules are sip/ua/replaces.ts):
//  - the named dialog is looked up among our calls' dialogs (§3: 481 when none, 603 when it ended, 481
//    for an early one, 486 for a confirmed one with early-only) and the new caller must be party to that
//    call — the same user (authenticated as usual: another of their phones picks the call up) or the same
//    trunk (by its address: e.g. the carrier's attended transfer) — else 403 (§3: "MUST verify that the
//    initiator of the new INVITE is authorized to replace the matched dialog");
//  - the new caller's offer is answered for the party that stays (its SDP as it is), the engine splices
//    the kept party's leg onto the new caller's (no re-INVITE of the kept party, unless we held it:
//    transfer-resume.ts), our 200 goes to the new caller and the replaced party gets BYE (§3: "shuts down
//    the replaced dialog by sending a BYE").
import sdpTransform from 'sdp-transform';
import type { Logger } from '../log.js';
import { parseAudioSdp } from '../media/sdp/model.js';
import type { MediaEngine } from '../media/types.js';
import { getFrom } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import type { DialogRegistry } from '../sip/ua/dialogs.js';
import { InviteServer } from '../sip/ua/invite-server.js';
import { replacedDialogId, replacesOf, replacesVerdict, ReplacesError, type ReplacedState, type Replaces } from '../sip/ua/replaces.js';
import { reply } from '../sip/ua/uas.js';
import { TRUNK_CODECS, type Call, type CallSide, type Party } from './call.js';
import { allowedMethods, sessionLeg } from './session-legs.js';
import { other } from './transfer.js';
import { joinedSession, offerCodecs, spliceLegs } from './transfer-media.js';
import { resumeKept } from './transfer-resume.js';
import { STAND_IN_TAG } from './transfer-target.js';

export interface ReplacesDeps {
  registry: DialogRegistry;
  media: MediaEngine;
  logger: Logger;
  /** The call and side owning a dialog (TransferService.locate). */
  locate(id: ReturnType<typeof replacedDialogId>): { call: Call; side: CallSide } | undefined;
}

let branches = 0;

/** Whether `by` may replace a dialog of `call`: the same user or the same trunk is in the call. */
export function mayReplace(call: Pick<Call, 'parties'>, by: Party): boolean {
  return Object.values(call.parties).some((p) =>
    by.kind === 'user' ? p?.kind === 'user' && p.user.name === by.user.name : p?.kind === 'trunk' && p.trunk.name === by.trunk.name,
  );
}

/** The state of the dialog a Replaces names, as RFC 3891 §3 distinguishes it. */
function stateOf(d: ReplacesDeps, r: Replaces): ReplacedState {
  const hit = d.registry.find(replacedDialogId(r));
  if (!hit) return { kind: 'none' };
  if (hit.dialog.state === 'terminated') return { kind: 'terminated' };
  return hit.dialog.state === 'early' ? { kind: 'early', ours: !(hit.owner instanceof InviteServer) } : { kind: 'confirmed' };
}

/** Takes the INVITE with Replaces in `tx` from `by` (authenticated user or ACL-matched trunk). */
export function takeOver(d: ReplacesDeps, req: SipRequest, tx: ServerTransaction, by: Party): void {
  let r: Replaces;
  try {
    r = replacesOf(req)!;
  } catch (err) {
    if (!(err instanceof ReplacesError)) throw err;
    return reply(tx, 400, `Bad Request: ${err.message}`);
  }
  const verdict = replacesVerdict(r, stateOf(d, r));
  if (verdict) {
    d.logger.info({ status: verdict.status }, 'INVITE with Replaces refused');
    return reply(tx, verdict.status, verdict.reason);
  }
  const found = d.locate(replacedDialogId(r));
  if (!found || !found.call.is('answered') || !found.call.session) return reply(tx, 481, 'Call/Transaction Does Not Exist');
  if (!mayReplace(found.call, by)) {
    found.call.log.info({ by: by.kind === 'user' ? by.user.name : by.trunk.name }, 'INVITE with Replaces: not party to the call (403)');
    return reply(tx, 403, 'Forbidden');
  }
  if (req.body.length === 0) return reply(tx, 488, 'Not Acceptable Here: SDP Offer Required');
  const { call, side } = found;
  replace(d, call, side, req, tx, by).catch((err: Error) => {
    call.log.info({ err: err.message }, 'INVITE with Replaces: cannot join');
    if (tx.state === 'proceeding' || tx.state === 'trying') reply(tx, 488, 'Not Acceptable Here');
  });
}

/** The kept party's own SDP as the stand-in's answer to the new caller's offer (sendrecv; an actpass
 *  offer's a=setup made a definite role, which an answer must have). */
function standInAnswer(sdp: string): string {
  const parsed = sdpTransform.parse(sdp);
  for (const m of parsed.media) {
    m.direction = 'sendrecv';
    if (m.setup === 'actpass') m.setup = 'active';
  }
  delete parsed.direction;
  return sdpTransform.write(parsed);
}

async function replace(d: ReplacesDeps, call: Call, side: CallSide, req: SipRequest, tx: ServerTransaction, by: Party): Promise<void> {
  const session = call.session!;
  const kept = session[other(side)];
  const offer = req.body.toString('utf8');
  const tag = getFrom(req).params.tag ?? '';
  const peerAddress = tx.flow.remote.address;
  const keptProfile = parseAudioSdp(kept.remoteSdp).profile;
  const newProfile = parseAudioSdp(offer).profile;
  const media = call.openMedia(2000 + ++branches);
  await media.offer({ fromTag: tag, sdp: offer, toProfile: keptProfile, codecs: offerCodecs(kept, newProfile === 'rtp' ? TRUNK_CODECS : undefined), peerAddress });
  const answer = await media.answer({ fromTag: tag, toTag: STAND_IN_TAG, sdp: standInAnswer(kept.remoteSdp), peerAddress: kept.peerAddress });
  const current = call.session;
  if (!current || call.ended || current[other(side)] !== kept) throw new Error('the call changed meanwhile');
  const server = new InviteServer(tx, call.uaContext, {
    onHangup: () => call.end(),
    onAckTimeout: () => call.end(),
    onCancel: () => call.end(),
    session: call.sessionHooks(side),
  });
  const incoming = sessionLeg({ usage: server, tag, peerAddress, ownsCallId: false, allows: allowedMethods(req), remoteSdp: offer, localSdp: answer.sdp });
  await spliceLegs(d.media, { media: current.media, leg: kept }, { media, leg: incoming });
  server.accept(answer.sdp);
  const joined = joinedSession(media, side, incoming, kept);
  // §3: the replaced dialog is shut down with BYE (handOver); the new caller's ends with the call.
  call.handOver(side, { end: (headers) => server.hangup(480, 'Temporarily Unavailable', headers) }, joined, by);
  call.watchConnection(side, tx.flow, (flow) => server.moveTo(flow));
  call.log.info({ side, by: by.kind }, 'call taken over (INVITE with Replaces)');
  await resumeKept(d.media, joined, other(side), call.log);
}
