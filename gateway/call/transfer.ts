// Call transfer, B2BUA policy (the protocol is sip/ua/refer.ts and replaces.ts). A REFER received in one of
// a call's dialogs is handled here, never passed on (a B2BUA keeps its legs apart):
//  - who may: a user always; a trunk only with trunks[].refer: honour (default refuse → 403);
//  - blind (Refer-To without Replaces): 202, NOTIFY 100, the target dialled through the dial plan under
//    the transferring user's rights (a trunk's REFER: the user on the other side), Referred-By on the
//    INVITE (RFC 3892); answered → the remaining party's leg is spliced onto the target's, NOTIFY 200, BYE
//    to the transferor. Failed → NOTIFY with its status; the original call goes on as it was;
//  - attended (Refer-To with Replaces naming the transferor's dialog in another of its calls): the two
//    remote parties are spliced together, NOTIFY 200, both of the transferor's legs get BYE.
import type { UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/types.js';
import type { Dialog } from '../sip/dialog/index.js';
import { formatNameAddr, getFrom, getTo, parseUri } from '../sip/message/index.js';
import type { HeaderField, SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import type { DialogRegistry } from '../sip/ua/dialogs.js';
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { acceptRefer, parseRefer, ReferError, ReferNotifier, type Referral } from '../sip/ua/refer.js';
import { replacedDialogId } from '../sip/ua/replaces.js';
import { reply } from '../sip/ua/uas.js';
import type { Call, CallSide, Party, ReferHandler } from './call.js';
import { dialledOf } from './dispatch.js';
import { allowedMethods, sessionLeg, type CallSession } from './session-legs.js';
import { joinedSession, spliceLegs } from './transfer-media.js';
import { resumeKept } from './transfer-resume.js';
import type { TransferRoute } from './transfer-route.js';
import { TransferTarget, type TargetAnswer, type TargetEvents } from './transfer-target.js';
import { UserTarget } from './transfer-user.js';
import type { CallerId } from './invite-builder.js';
import type { ContactRoute } from '../registrar/index.js';

export const other = (side: CallSide): CallSide => (side === 'caller' ? 'callee' : 'caller');

export interface TransferDeps {
  registry: DialogRegistry;
  media: MediaEngine;
  logger: Logger;
  /** The calls in progress (to find the one a Replaces names). */
  calls(): readonly Call[];
  /** The target's route under `user`'s rights (transfer-route.ts). */
  route(user: UserConfig, dialled: string): TransferRoute | Promise<TransferRoute>;
  /** Our SIP domain (Referred-By of a user's transfer). */
  domain?: string;
  /** A user as a transfer target: their contacts to ring, or why not (busy: users[].callWaiting, maxCalls). */
  ringTargets?(user: UserConfig): { contacts: readonly ContactRoute[] } | { status: number; reason: string };
  /** A transfer put another party on a side of `call` (call.parties): the calls each user is in follow. */
  handedOver?(call: Call): void;
}

/** Whose rights a REFER from `side` is dialled under, or why it is refused (RFC 3515 §2.4.2: 403). */
export function referRights(call: Pick<Call, 'parties'>, side: CallSide): { user: UserConfig } | { status: number; reason: string } {
  const from = call.parties[side];
  if (from?.kind === 'user') return { user: from.user };
  if (from?.kind === 'trunk' && from.trunk.refer !== 'honour') return { status: 403, reason: 'Forbidden: REFER Not Honoured From This Trunk' };
  const stays = call.parties[other(side)];
  if (from?.kind === 'trunk' && stays?.kind === 'user') return { user: stays.user };
  return { status: 403, reason: 'Forbidden' };
}

export class TransferService implements ReferHandler {
  /** Calls with a transfer under way: a second REFER gets 491 meanwhile. */
  private readonly busy = new WeakSet<Call>();

  constructor(private readonly d: TransferDeps) {}

  onRefer(call: Call, side: CallSide, req: SipRequest, tx: ServerTransaction, dialog: Dialog): void {
    const session = call.session;
    if (!session || !call.is('answered')) return reply(tx, 491, 'Request Pending: call not established');
    if (this.busy.has(call)) return reply(tx, 491, 'Request Pending: a transfer is under way');
    const rights = referRights(call, side);
    if ('status' in rights) {
      call.log.info({ side, status: rights.status }, 'REFER refused');
      return reply(tx, rights.status, rights.reason);
    }
    let referral: Referral;
    try {
      referral = parseRefer(req);
    } catch (err) {
      if (!(err instanceof ReferError)) throw err;
      return reply(tx, err.status, err.reason);
    }
    acceptRefer(tx, referral, dialog.localContact);
    const usage = session[side].dialogUsage ?? session[side].usage;
    const notifier = new ReferNotifier(usage, referral);
    void notifier.progress(100, 'Trying');
    this.busy.add(call);
    const done = (): void => void this.busy.delete(call);
    const run = referral.replaces ? this.attended(call, side, referral, notifier) : this.blind(call, side, rights.user, referral, notifier, dialog);
    run.catch((err: Error) => {
      call.log.warn({ err: err.message }, 'transfer failed');
      void notifier.done(500, 'Server Internal Error');
    }).finally(done);
  }

  /** RFC 3892: who referred — the authenticated user (never what a browser claims), or a trunk's own
   *  Referred-By (else its identity in the dialog). */
  private referredBy(call: Call, side: CallSide, referral: Referral, dialog: Dialog): string {
    const party = call.parties[side];
    if (party?.kind === 'user') {
      const host = this.d.domain ?? parseUri(dialog.localUri).host;
      return formatNameAddr({ uri: { scheme: 'sip', user: party.user.extension ?? party.user.name, host, params: {}, headers: {} }, params: {} });
    }
    return referral.referredBy ?? dialog.remoteUri;
  }

  private async blind(call: Call, side: CallSide, user: UserConfig, referral: Referral, notifier: ReferNotifier, dialog: Dialog): Promise<void> {
    const number = dialledOf(formatUriOnly(referral));
    const route = await this.d.route(user, number);
    if (route.kind === 'refuse') {
      call.log.info({ number, status: route.status }, 'transfer target refused by the dial plan');
      return notifier.done(route.status, route.reason);
    }
    const slots = route.kind === 'user' ? undefined : route.slots;
    let joined = false;
    try {
      joined = await this.blindTo(call, side, route, referral, notifier, dialog);
    } finally {
      // The outside leg's policy slots (transfer-route.ts) are held while the transferred call runs.
      if (joined) releaseWhenEnded(call, slots);
      else slots?.release();
    }
  }

  /** The target rung and, once it answered, joined to the party that stays; true when joined. */
  private async blindTo(call: Call, side: CallSide, route: Exclude<TransferRoute, { kind: 'refuse' }>, referral: Referral, notifier: ReferNotifier, dialog: Dialog): Promise<boolean> {
    const session = call.session;
    if (!session || !call.is('answered')) return notifier.done(487, 'Request Terminated').then(() => false);
    const headers: HeaderField[] = [{ name: 'Referred-By', value: this.referredBy(call, side, referral, dialog) }];
    const joined = { ready: false };
    const placed = this.place(call, side, route, headers, notifier, joined);
    if ('status' in placed) return notifier.done(placed.status, placed.reason).then(() => false);
    const { target } = placed;
    const outcome = await placed.settled;
    if ('status' in outcome) return notifier.done(outcome.status, outcome.reason).then(() => false);
    const current = call.session;
    if (!current || call.ended) return (target.end(), false);
    const incoming = sessionLeg({
      usage: outcome.usage,
      tag: outcome.tag,
      peerAddress: outcome.peerAddress,
      ownsCallId: true,
      allows: allowedMethods(outcome.res),
      remoteSdp: outcome.sdp,
      localSdp: outcome.offerSent,
    });
    try {
      await spliceLegs(this.d.media, { media: current.media, leg: current[other(side)] }, { media: outcome.media, leg: incoming });
    } catch (err) {
      call.log.info({ err: (err as Error).message }, 'transfer: the target cannot be joined');
      target.end();
      return notifier.done(488, 'Not Acceptable Here').then(() => false);
    }
    // RFC 3515 §2.4.5: the final NOTIFY goes out before the transferor's dialog ends.
    await notifier.done(200, 'OK');
    joined.ready = true;
    const party: Party | undefined = route.kind === 'user' ? { kind: 'user', user: route.user } : outcome.trunk ? { kind: 'trunk', trunk: outcome.trunk } : undefined;
    const joinedNow = joinedSession(outcome.media, side, incoming, current[other(side)]);
    call.handOver(side, target, joinedNow, party);
    this.d.handedOver?.(call);
    // A user's browser answered: its connection is the side's to watch now (connection.ts).
    const winner = target instanceof UserTarget ? target.winnerFlow : undefined;
    if (winner) call.watchConnection(side, winner.flow, winner.moveTo);
    call.log.info({ number: route.number }, 'blind transfer completed');
    // A party the transferor held before its REFER is taken off hold toward the target (transfer-resume.ts).
    await this.resume([[joinedNow, other(side)]], call);
    return true;
  }

  /** Starts the triggered INVITE (RFC 3515 §2.4.3): a trunk/PBX target or a user's phones; `settled` gives
   *  its outcome. A user who cannot take the call (busy, users[].callWaiting) is refused at once. */
  private place(call: Call, side: CallSide, route: Exclude<TransferRoute, { kind: 'refuse' }>, headers: HeaderField[], notifier: ReferNotifier, joined: { ready: boolean }):
    | { target: TransferTarget | UserTarget; settled: Promise<TargetAnswer | { status: number; reason: string }> }
    | { status: number; reason: string } {
    const ringing = route.kind === 'user' ? this.d.ringTargets?.(route.user) ?? { status: 480, reason: 'Temporarily Unavailable' } : undefined;
    if (ringing && 'status' in ringing) return ringing;
    const stays = call.session![other(side)];
    let settle: (o: TargetAnswer | { status: number; reason: string }) => void = () => undefined;
    const settled = new Promise<TargetAnswer | { status: number; reason: string }>((resolve) => (settle = resolve));
    const events: TargetEvents = {
      progress: (status, reason) => void notifier.progress(status, reason),
      answered: (a) => settle(a),
      failed: (final) => settle(final),
      hungUp: () => call.end(),
      session: gated(call.sessionHooks(side), joined),
    };
    const target = route.kind === 'user' ? new UserTarget(call, stays, route.user, events) : new TransferTarget(call, stays, events);
    // The call ending while the target rings (the transferee hung up) abandons the target.
    const stop = call.onChange(({ to }) => to === 'ended' && (target.abandon(), settle({ status: 487, reason: 'Request Terminated' })));
    void settled.finally(stop);
    if (target instanceof UserTarget) void target.ring(ringing!.contacts, headers, callerIdOf(call, other(side)));
    else if (route.kind === 'out') void target.dial(route.route, route.number, headers);
    else if (route.kind === 'trunks') void target.dialTrunks(route.plan, headers, privacyOf(call, route.plan.user));
    return { target, settled };
  }

  /** REFER with Replaces (RFC 3891 §6.1): the dialog it names is the transferor's in another call; the
   *  two remote parties are joined. */
  private async attended(call: Call, side: CallSide, referral: Referral, notifier: ReferNotifier): Promise<void> {
    const found = this.locate(replacedDialogId(referral.replaces!));
    if (!found || found.call === call || !found.call.is('answered') || !found.call.session) return notifier.done(481, 'Call/Transaction Does Not Exist');
    const { call: peer, side: peerSide } = found;
    // The transferor may join only its own calls: the replaced dialog must be with the same user.
    const mine = call.parties[side];
    const theirs = peer.parties[peerSide];
    if (mine?.kind !== 'user' || theirs?.kind !== 'user' || mine.user.name !== theirs.user.name) return notifier.done(403, 'Forbidden');
    const a = call.session!;
    const b = peer.session!;
    const stayA = a[other(side)];
    const stayB = b[other(peerSide)];
    try {
      await spliceLegs(this.d.media, { media: a.media, leg: stayA }, { media: b.media, leg: stayB });
    } catch (err) {
      call.log.info({ err: (err as Error).message }, 'attended transfer: the two parties cannot be joined');
      return notifier.done(488, 'Not Acceptable Here');
    }
    await notifier.done(200, 'OK');
    const joinedA: CallSession = joinedSession(b.media, side, stayB, stayA);
    const joinedB: CallSession = joinedSession(b.media, peerSide, stayA, stayB);
    const partyA = call.parties[other(side)];
    const partyB = peer.parties[other(peerSide)];
    call.handOver(side, { end: () => peer.end() }, joinedA, partyB);
    peer.handOver(peerSide, { end: () => call.end() }, joinedB, partyA);
    this.d.handedOver?.(call);
    this.d.handedOver?.(peer);
    call.log.info({ with: peer.id }, 'attended transfer completed');
    // The party of the call that waited on hold during the consultation hears the other now.
    await this.resume([[joinedA, other(side)], [joinedB, other(peerSide)]], call);
  }

  /** Takes each kept party we held off hold, one after the other (one re-offer at a time per media call). */
  private async resume(legs: Array<[CallSession, CallSide]>, call: Call): Promise<void> {
    for (const [session, side] of legs) {
      if (call.ended) return;
      await resumeKept(this.d.media, session, side, call.log).catch((err: Error) => call.log.info({ err: err.message }, 'transfer: resume failed'));
    }
  }

  /** The call and side whose dialog has this ID (RFC 3891 §3 matching). */
  locate(id: { callId: string; localTag: string; remoteTag: string }): { call: Call; side: CallSide; state: string } | undefined {
    const hit = this.d.registry.find(id);
    if (!hit) return undefined;
    for (const call of this.d.calls()) {
      const side = sideOf(call, hit.owner);
      if (side) return { call, side, state: hit.dialog.state };
    }
    return undefined;
  }
}

/** Which side of `call` a dialog usage is. */
export function sideOf(call: Call, owner: unknown): CallSide | undefined {
  const s = call.session;
  if (s?.caller.dialogUsage === owner) return 'caller';
  if (s?.callee.dialogUsage === owner) return 'callee';
  if (!s && call.caller === owner) return 'caller';
  return undefined;
}

/** Who the user target sees calling: the party that stays — a user by name, else its number as the call
 *  knows it (the caller's From, or the number the user dialled). */
function callerIdOf(call: Call, stays: CallSide): CallerId {
  const party = call.parties[stays];
  if (party?.kind === 'user') return { display: party.user.name, user: party.user.extension ?? party.user.name };
  const who = stays === 'caller' ? getFrom(call.caller.invite) : getTo(call.caller.invite);
  return { display: who.displayName, user: who.uri.user ?? 'anonymous' };
}

/** The slots are given back when `call` ends (at once if it has). */
function releaseWhenEnded(call: Call, slots: { release(): void } | undefined): void {
  if (!slots) return;
  if (call.ended) return slots.release();
  const stop = call.onChange(({ to }) => to === 'ended' && (stop(), slots.release()));
}

/** The transferring user's own INVITE, whose Privacy header (RFC 3323) the target's caller ID honours —
 *  when that user placed the call (an INVITE from a trunk is not theirs). */
function privacyOf(call: Call, user: UserConfig): SipRequest | undefined {
  const caller = call.parties.caller;
  return caller?.kind === 'user' && caller.user.name === user.name ? call.caller.invite : undefined;
}

/** The Refer-To URI without its headers (?Replaces= …), as a Request-URI string. */
function formatUriOnly(r: Referral): string {
  const u = r.target.uri;
  if (u.scheme === 'tel') return `tel:${u.host}`;
  return `${u.scheme}:${u.user ?? ''}@${u.host}`;
}

/** Session hooks that answer 500 + Retry-After until `gate.ready` (a target's re-INVITE before it joined). */
function gated(hooks: SessionHooks, gate: { ready: boolean }): SessionHooks {
  const wait = { headers: [{ name: 'Retry-After', value: '1' }] };
  return {
    onReinvite: (req, respond, tx, dialog) => (gate.ready ? hooks.onReinvite(req, respond, tx, dialog) : respond(500, 'Server Internal Error', wait)),
    onUpdate: (req, respond, tx, dialog) => (gate.ready ? hooks.onUpdate(req, respond, tx, dialog) : respond(500, 'Server Internal Error', wait)),
    onAck: (ack, dialog) => gate.ready && hooks.onAck?.(ack, dialog),
    onRefer: (req, tx, dialog) => (gate.ready && hooks.onRefer ? hooks.onRefer(req, tx, dialog) : reply(tx, 491, 'Request Pending')),
    // A DTMF INFO (answered 200 by the dialog layer) goes to the other party once joined (call/dtmf.ts).
    onDtmfInfo: (digit, req) => gate.ready && hooks.onDtmfInfo?.(digit, req),
  };
}
