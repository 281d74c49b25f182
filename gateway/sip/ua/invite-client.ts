// The invite client: the UAC side of an INVITE dialog (RFC 3261 §13.2) — sending the INVITE (to a trunk,
// a PBX or one registered contact of a forked call), an ACK for each 2xx (§13.2.2.4) including a
// retransmitted one and one from another fork, CANCEL only after a provisional (§9.1), BYE for a 2xx that
// raced our CANCEL (§15), one retry with credentials after a challenge (§22.2), and the requests received
// inside the dialog it created.
import { defineMachine, StateMachine, type ChangeListener } from '../../lib/state-machine.js';
import { answerChallenge, pickBestChallenge } from '../auth/index.js';
import { Dialog } from '../dialog/index.js';
import { getCSeq, getTo, parseUri } from '../message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';
import type { ClientTransactionHandlers, ServerTransaction } from '../transaction/types.js';
import type { Flow, Target } from '../transport/types.js';
import { sendDialogRequest, type DialogRequestOptions } from './dialog-request.js';
import type { DialogOwner } from './dialogs.js';
import { dispatchInDialog, type SessionHooks } from './in-dialog.js';
import type { UaContext } from './invite-server.js';
import { PrackClient } from './prack-client.js';
import { buildCancel, reissueRequest, withVia, type ViaSpec } from './request.js';
import { resolveTarget } from './target.js';

export type InviteClientContext = UaContext;

/** §13.2 seen from the UAC core: calling (INVITE sent) → early (18x with a To tag) → confirmed (2xx, ACK
 *  sent) → terminated. cancelling: CANCEL wanted or sent (§9.1); a 2xx that races it still confirms the
 *  usage, which is then ended with BYE (§15). */
export type InviteClientUsageState = 'calling' | 'early' | 'cancelling' | 'confirmed' | 'terminated';

export const INVITE_CLIENT_USAGE = defineMachine<InviteClientUsageState>('Invite client', {
  calling: ['early', 'cancelling', 'confirmed', 'terminated'],
  early: ['cancelling', 'confirmed', 'terminated'],
  cancelling: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
});

export const inviteClientUsageTransition = INVITE_CLIENT_USAGE.transition;

/** How an INVITE failed: a final response, a challenge we could not answer, Timer B, or the transport. */
export type InviteOutcome =
  | { kind: 'response'; status: number; reason: string }
  | { kind: 'challenge-without-credentials' }
  | { kind: 'challenge-after-credentials' }
  | { kind: 'timeout' }
  | { kind: 'transport-error' };

export interface Credentials {
  username: string;
  password: string;
}

export interface InviteClientSpec {
  /** The initial INVITE, complete with our Via (e.g. buildOutboundInvite, buildForkInvite). */
  invite: SipRequest;
  /** Where the INVITE and its CANCEL go: a resolved target, or the flow a contact registered on
   *  (RFC 7118 §5: a WebSocket client is reachable over that connection only). */
  dest: Flow | Target;
  via: ViaSpec;
  /** Answer one 401/407 with these (RFC 3261 §22.2). Absent: a challenge fails the leg. */
  credentials?: Credentials;
  /** The INVITE carries no offer (RFC 3261 §13.2.1 late offer): the 2xx brings the offer and its ACK
   *  waits for our answer (sendAck). */
  lateOffer?: boolean;
  /** Late offer: a valid answer refusing every stream of the 2xx's offer, for the ACK that must precede
   *  our BYE when the leg ends before sendAck (§13.2.2.4). The sip layer does not read SDP. */
  refuseOffer?: (offer: string) => string;
  /** RFC 4028 §7.3: a 422 (Session Interval Too Small) → the header fields (Session-Expires, Min-SE)
   *  to send the INVITE again with, replacing its own; undefined: the 422 fails the leg. */
  intervalTooSmall?: (res: SipResponse) => HeaderField[] | undefined;
}

export interface InviteClientEvents {
  /** A 101-199 response (not relayed while cancelling). */
  onProvisional(res: SipResponse): void;
  /** The first 2xx; the ACK has been sent. */
  onAnswer(res: SipResponse): void;
  /** The INVITE failed (not reported once cancelled). */
  onFailure(outcome: InviteOutcome): void;
  /** The peer sent BYE (already answered 200). */
  onHangup(): void;
  /** re-INVITE / UPDATE inside the dialog: the session layer's policy. */
  session: SessionHooks;
}

/** The IP a SIP peer is reached at: its connection's remote address, or the resolved target. The
 *  media engine's strict-source latching expects its media from there (or from its SDP's c=). */
export function peerAddressOf(dest: Flow | Target): string {
  return 'id' in dest ? dest.remote.address : dest.address;
}

const logOnly = (ctx: UaContext, what: string) => ({
  onResponse: (res: SipResponse) => ctx.logger.debug({ status: res.status }, `${what} answered`),
  onTimeout: () => ctx.logger.info(`${what} timed out`),
  onTransportError: (err: Error) => ctx.logger.info({ err: err.message }, `${what} failed`),
});

export class InviteClient implements DialogOwner {
  private readonly fsm = new StateMachine(INVITE_CLIENT_USAGE, 'calling');
  private invite: SipRequest;
  private attempts = 0;
  private authRetried = false;
  /** 422 retries so far (RFC 4028 §7.3; each must raise the interval, two are plenty). */
  private timerRetries = 0;
  /** §9.1: CANCEL only after a provisional response to the INVITE being cancelled. */
  private provisionalSeen = false;
  private cancelSent = false;
  /** Extra header fields for our CANCEL (RFC 3326 Reason). */
  private cancelHeaders: HeaderField[] = [];
  private dialog: Dialog | undefined;
  private ack: SipRequest | undefined;
  /** RFC 3262: PRACK of the reliable 1xx we receive. */
  private readonly prack: PrackClient;
  /** The body of the 2xx we keep (the offer of a late-offer INVITE). */
  private offer2xx = '';
  /** Where in-dialog requests go: the remote target resolved (§12.2.1.1). */
  private remote: Promise<Flow | Target> | undefined;

  constructor(
    private readonly ctx: InviteClientContext,
    private readonly spec: InviteClientSpec,
    private readonly events: InviteClientEvents,
  ) {
    this.invite = spec.invite;
    this.prack = new PrackClient({
      logger: ctx.logger,
      lateOffer: spec.lateOffer === true,
      send: (req, early) => this.trySend(withVia(req, spec.via), this.resolveRemote(early), req.method),
    });
  }

  get state(): InviteClientUsageState {
    return this.fsm.state;
  }

  /** Subscribes to this usage's state changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener<InviteClientUsageState>): () => void {
    return this.fsm.onChange(listener);
  }

  /** The IP of the peer this leg's INVITE went to (see peerAddressOf). */
  get peerAddress(): string {
    return peerAddressOf(this.spec.dest);
  }

  /** The INVITE most recently sent (after an auth retry: the one with credentials). */
  get request(): SipRequest {
    return this.invite;
  }

  /** Any response (a 100 Trying too) to the latest INVITE? (no-response.ts) */
  get responded(): boolean { return this.provisionalSeen || this.fsm.state === 'confirmed' || this.fsm.state === 'terminated'; }

  start(): void {
    this.send(this.invite);
  }

  private send(invite: SipRequest): void {
    this.invite = invite;
    this.provisionalSeen = false;
    // Only the latest INVITE transaction speaks for this leg (an auth retry supersedes the first).
    const attempt = ++this.attempts;
    const live = (): boolean => attempt === this.attempts;
    try {
      this.ctx.transactions.sendRequest(invite, this.spec.dest, {
        onResponse: (res) => live() && this.onResponse(res),
        onTimeout: () => live() && this.fail({ kind: 'timeout' }),
        onTransportError: () => live() && this.fail({ kind: 'transport-error' }),
      });
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message }, 'INVITE not sent');
      this.fail({ kind: 'transport-error' });
    }
  }

  private onResponse(res: SipResponse): void {
    if (res.status < 200) return this.onProvisional(res);
    if (res.status < 300) return this.on2xx(res);
    this.onFinalFailure(res);
  }

  private onProvisional(res: SipResponse): void {
    this.provisionalSeen = true;
    if (this.fsm.state === 'cancelling') return this.sendCancel();
    if (res.status === 100 || (this.fsm.state !== 'calling' && this.fsm.state !== 'early')) return;
    if (!this.prack.onProvisional(this.invite, res)) return;
    if (this.fsm.state === 'calling') this.fsm.to('early');
    this.events.onProvisional(res);
  }

  /** RFC 3262 §5: the offer of our late-offer INVITE came in a reliable 1xx; `answer` goes in its PRACK. */
  answerEarlyOffer(answer: string): void {
    this.prack.answerEarlyOffer(answer);
  }

  /** §13.2.2.4: "The UAC core MUST generate an ACK request for each 2xx received from the transaction
   *  layer." A retransmission gets the same ACK again; a 2xx from another fork is ACKed and ended (BYE). */
  private on2xx(res: SipResponse): void {
    const toTag = getTo(res).params.tag;
    if (this.dialog) {
      if (toTag === this.dialog.id.remoteTag) return this.resendAck();
      return this.ackAndByeFork(res);
    }
    if (this.fsm.state === 'terminated') return this.ackAndByeFork(res);
    const dialog = Dialog.fromUacResponse(this.invite, res);
    this.prack.continueSeq(dialog);
    this.dialog = dialog;
    this.remote = this.resolveRemote(dialog);
    this.ctx.registry.add(dialog, this);
    const raced = this.fsm.state === 'cancelling';
    // §13.2.2.4: "If the 2xx contains an offer (based on the rules above), the ACK MUST carry an answer
    // in its body. If the offer in the 2xx response is not acceptable, the UAC core MUST generate a valid
    // answer in the ACK and then send a BYE immediately." — late offer: the ACK waits for sendAck.
    this.offer2xx = res.body.toString('utf8');
    if (!this.spec.lateOffer || this.prack.answeredEarly) this.sendAck();
    this.fsm.to('confirmed');
    // §15: a 2xx that raced our CANCEL still makes a dialog, which "the UAC MUST … terminate" with BYE.
    if (raced) return this.sendBye();
    this.events.onAnswer(res);
  }

  /** The ACK of the 2xx (once; later 2xx retransmissions get it again). `answer`: the SDP answer to the
   *  offer of a late-offer 2xx (§13.2.2.4). Ignored before the 2xx or once the ACK was built. */
  sendAck(answer?: string): void {
    if (!this.dialog || this.ack) return;
    const body = answer === undefined ? {} : { body: Buffer.from(answer), contentType: 'application/sdp' };
    this.ack = withVia(this.dialog.createAck(getCSeq(this.invite).seq, body), this.spec.via);
    this.resendAck();
  }

  private onFinalFailure(res: SipResponse): void {
    if ((res.status === 401 || res.status === 407) && this.fsm.state !== 'cancelling') {
      if (this.retryWithCredentials(res)) return;
      return this.fail({ kind: this.spec.credentials ? 'challenge-after-credentials' : 'challenge-without-credentials' });
    }
    if (res.status === 422 && this.fsm.state !== 'cancelling' && this.retryLongerInterval(res)) return;
    this.fail({ kind: 'response', status: res.status, reason: res.reason });
  }

  /** RFC 4028 §7.3: "the UAC MAY retry the request" with a Session-Expires no smaller than the 422's
   *  Min-SE (paraphrased): the same INVITE, a new CSeq, the session layer's timer headers replaced. */
  private retryLongerInterval(res: SipResponse): boolean {
    const headers = this.timerRetries < 2 ? this.spec.intervalTooSmall?.(res) : undefined;
    if (!headers) return false;
    this.timerRetries++;
    const names = new Set(headers.map((h) => h.name.toLowerCase()));
    const kept = { ...this.invite, headers: this.invite.headers.filter((h) => !names.has(h.name.toLowerCase())) };
    this.send(reissueRequest(kept, getCSeq(this.invite).seq + 1, headers));
    return true;
  }

  /** RFC 3261 §22.2: answer a 401 (WWW-Authenticate → Authorization) or 407 (Proxy-Authenticate →
   *  Proxy-Authorization) once, with "the same Call-ID, To, From" and an incremented CSeq. */
  private retryWithCredentials(res: SipResponse): boolean {
    if (this.authRetried || !this.spec.credentials) return false;
    const { username, password } = this.spec.credentials;
    const [ask, answer] = res.status === 401 ? ['www-authenticate', 'Authorization'] : ['proxy-authenticate', 'Proxy-Authorization'];
    const challenge = pickBestChallenge(res.headers.filter((h) => h.name.toLowerCase() === ask).map((h) => h.value));
    if (challenge === undefined) return false;
    let value: string;
    try {
      value = answerChallenge({ challenge, username, password, method: 'INVITE', uri: this.invite.uri, body: this.invite.body });
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message }, 'cannot answer the challenge');
      return false;
    }
    this.authRetried = true;
    this.send(reissueRequest(this.invite, getCSeq(this.invite).seq + 1, [{ name: answer, value }]));
    return true;
  }

  private fail(outcome: InviteOutcome): void {
    if (this.fsm.state === 'terminated' || this.fsm.state === 'confirmed') return;
    const quiet = this.fsm.state === 'cancelling';
    this.fsm.to('terminated');
    if (!quiet) this.events.onFailure(outcome);
  }

  /** Ends the leg: CANCEL while unanswered (§9.1), BYE once confirmed (§15). Idempotent.
   *  `headers` go on that CANCEL or BYE (RFC 3326 Reason: "Call completed elsewhere", "Connection lost"). */
  hangup(headers: HeaderField[] = []): void {
    if (this.fsm.state === 'calling' || this.fsm.state === 'early') {
      this.cancelHeaders = headers;
      this.fsm.to('cancelling');
      if (this.provisionalSeen) this.sendCancel();
    } else if (this.fsm.state === 'confirmed') {
      this.sendBye(headers);
    }
  }

  /** The callee reconnected over a new connection (RFC 5626 §4.4.1) and sent a request of this dialog on
   *  it: in-dialog requests go there from now on. Only for a leg sent over a flow (a registered WS/TCP
   *  contact, RFC 7118 §5); the session layer decides when (call/connection.ts). */
  moveTo(flow: Flow): void {
    if ('id' in this.spec.dest && this.dialog) this.remote = Promise.resolve(flow);
  }

  private sendCancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    // §9.1: "the CANCEL request … is sent to the same destination as the request being cancelled".
    const cancel = buildCancel(this.invite);
    cancel.headers.push(...this.cancelHeaders);
    this.sendNow(cancel, this.spec.dest, 'CANCEL');
  }

  onRequest(req: SipRequest, tx: ServerTransaction): void {
    dispatchInDialog(this.dialog, req, tx, {
      session: this.events.session,
      onBye: () => {
        if (this.fsm.state !== 'confirmed') return;
        this.terminate();
        this.events.onHangup();
      },
    });
  }

  /** Sends a request of ours inside the confirmed dialog (re-INVITE, UPDATE, INFO …) to the remote target;
   *  a 2xx to a re-INVITE is ACKed. Rejects before the dialog is confirmed or after it ended. */
  sendInDialog(method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest> {
    if (!this.dialog || !this.remote || this.fsm.state !== 'confirmed') return Promise.reject(new Error(`no confirmed dialog (${this.fsm.state})`));
    const env = { ...this.ctx, dialog: this.dialog, via: this.spec.via, dest: this.remote };
    return sendDialogRequest(env, method, o, handlers);
  }

  /** We are the UAC of this dialog: an ACK from the peer is for a 2xx we sent to ITS re-INVITE. */
  onAck(ack?: SipRequest): void {
    if (ack && this.dialog && this.fsm.state === 'confirmed') this.events.session.onAck?.(ack, this.dialog);
  }

  /** RFC 6026 §7.2: a 2xx retransmission after the INVITE transaction ended gets the ACK again. */
  onStrayResponse(res: SipResponse): void {
    if (res.status >= 200 && res.status < 300 && getCSeq(res).method === 'INVITE') this.resendAck();
  }

  private resendAck(): void {
    if (!this.ack || !this.remote) return;
    const ack = this.ack;
    void this.remote
      .then((dest) => this.ctx.transport.send(ack, dest))
      .catch((err: Error) => this.ctx.logger.info({ err: err.message }, 'ACK failed'));
  }

  private sendBye(headers: HeaderField[] = []): void {
    const dialog = this.dialog!;
    if (!this.ack) this.sendAck(this.offer2xx ? this.spec.refuseOffer?.(this.offer2xx) : undefined);
    const bye = withVia(dialog.createRequest('BYE', { headers }), this.spec.via);
    this.terminate();
    this.trySend(bye, this.remote!, 'BYE');
  }

  /** A 2xx from a fork we do not keep, or after the leg ended: ACK it, then BYE (§13.2.2.4). */
  private ackAndByeFork(res: SipResponse): void {
    let fork: Dialog;
    try {
      fork = Dialog.fromUacResponse(this.invite, res);
    } catch (err) {
      return this.ctx.logger.info({ err: (err as Error).message }, 'unusable 2xx ignored');
    }
    const dest = this.resolveRemote(fork);
    const ack = withVia(fork.createAck(getCSeq(this.invite).seq), this.spec.via);
    void dest.then((d) => this.ctx.transport.send(ack, d)).catch(() => undefined);
    this.trySend(withVia(fork.createRequest('BYE'), this.spec.via), dest, 'BYE to extra 2xx');
  }

  private terminate(): void {
    if (this.fsm.state !== 'terminated') this.fsm.to('terminated');
    if (this.dialog && this.dialog.state !== 'terminated') {
      this.dialog.transition('terminated');
      this.ctx.registry.remove(this.dialog);
    }
  }

  private trySend(req: SipRequest, dest: Promise<Flow | Target>, what: string): void {
    void dest.then((d) => this.sendNow(req, d, what));
  }

  private sendNow(req: SipRequest, dest: Flow | Target, what: string): void {
    try {
      this.ctx.transactions.sendRequest(req, dest, logOnly(this.ctx, what));
    } catch (err) {
      this.ctx.logger.info({ err: (err as Error).message }, `${what} not sent`);
    }
  }

  /** Where in-dialog requests go: the contact's flow when the leg was sent over one (RFC 7118 §5);
   *  else the remote target (or first Route) resolved. Without a transport parameter the INVITE's
   *  transport is kept; an unresolvable target falls back to the INVITE's destination. */
  private resolveRemote(dialog: Dialog): Promise<Flow | Target> {
    const fallback = this.spec.dest;
    if ('id' in fallback) return Promise.resolve(fallback);
    try {
      const uri = parseUri(dialog.nextHopUri());
      if (uri.params.transport === undefined) uri.params = { ...uri.params, transport: fallback.transport };
      return resolveTarget(uri).catch(() => fallback);
    } catch {
      return Promise.resolve(fallback);
    }
  }
}
