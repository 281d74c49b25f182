// The invite server: the UAS side of an INVITE dialog (RFC 3261 §13.3) — provisional and final responses
// with our To tag, the 2xx retransmitted until the ACK (§13.3.1.4, by the transaction layer's Accepted
// state) and the ACK wait, CANCEL → 487 (§9.2), and the requests received inside the dialog it created.
// Whoever the caller is (a browser, a SIP phone, a trunk, a PBX), requests toward it go back over the flow
// its INVITE came on (RFC 7118 §5: a WebSocket client's Contact is not reachable otherwise).
import type { Logger } from '../../log.js';
import { defineMachine, StateMachine, type ChangeListener } from '../../lib/state-machine.js';
import { Dialog } from '../dialog/index.js';
import { formatNameAddr, getCSeq, getFrom, newTag } from '../message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../message/types.js';
import type { ServerTransaction, TransactionLayer } from '../transaction/types.js';
import type { ClientTransactionHandlers } from '../transaction/types.js';
import type { Flow, SipTransport } from '../transport/types.js';
import { sendDialogRequest, type DialogRequestOptions } from './dialog-request.js';
import type { DialogOwner, DialogRegistry } from './dialogs.js';
import { dispatchInDialog, type SessionHooks } from './in-dialog.js';
import { localContact, withVia, type ViaSpec } from './request.js';
import { ReliableSender } from './reliable-sender.js';
import { buildReply, INVITE_ALLOW, reply } from './uas.js';

/** What an INVITE usage needs from the layers below and beside it. */
export interface UaContext {
  transactions: TransactionLayer;
  /** For the ACKs of our re-INVITEs (sent outside any transaction, §17.1.1.3). */
  transport: SipTransport;
  registry: DialogRegistry;
  logger: Logger;
}

/** §13.3 seen from the UAS core: proceeding (INVITE received) → early (18x with our To tag sent) →
 *  accepted (2xx sent, waiting for the ACK) → confirmed (ACK received) → terminated. */
export type InviteServerUsageState = 'proceeding' | 'early' | 'accepted' | 'confirmed' | 'terminated';

export const INVITE_SERVER_USAGE = defineMachine<InviteServerUsageState>('Invite server', {
  proceeding: ['early', 'accepted', 'terminated'],
  early: ['accepted', 'terminated'],
  accepted: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
});

export const inviteServerUsageTransition = INVITE_SERVER_USAGE.transition;

export interface InviteServerEvents {
  /** The caller sent BYE (already answered 200). */
  onHangup(): void;
  /** No ACK for our 2xx within 64*T1 (§13.3.1.4: "the session SHOULD be terminated by sending BYE"). */
  onAckTimeout(): void;
  /** The caller CANCELled the unanswered INVITE; it has been answered 487 already (§9.2). */
  onCancel(): void;
  /** re-INVITE / UPDATE inside the dialog: the session layer's policy. */
  session: SessionHooks;
  /** The ACK for our 2xx to the INVITE (it carries the answer when the INVITE had no offer, §13.2.1). */
  onConfirmed?(ack: SipRequest): void;
  /** RFC 3262 §3: a reliable 1xx was never PRACKed; the INVITE has been rejected (5xx) already. */
  onNoPrack?(): void;
  /** Header fields the session layer adds to our 2xx to the INVITE, asked once as it is built (RFC 4028
   *  §9: Session-Expires, Require: timer). */
  answerHeaders?(): HeaderField[];
}

const SDP = 'application/sdp';

export class InviteServer implements DialogOwner {
  readonly localTag = newTag();
  /** The caller's From tag. */
  readonly remoteTag: string;
  private readonly fsm = new StateMachine(INVITE_SERVER_USAGE, 'proceeding');
  private dialog: Dialog | undefined;
  /** §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its
   *  2xx response or until the server transaction times out" — a hangup before the ACK waits here. */
  private byePending = false;
  /** Extra header fields for that BYE (RFC 3326 Reason). */
  private byeHeaders: HeaderField[] = [];
  /** Where requests toward the caller go: its INVITE's flow, until moveTo() names a new connection. */
  private current: Flow;
  /** RFC 3262: our 1xx go reliably when the caller's INVITE asks for (Require) or allows (Supported) it. */
  private readonly reliable: ReliableSender;
  private readonly request: SipRequest;

  constructor(
    readonly tx: ServerTransaction,
    private readonly ctx: UaContext,
    private readonly events: InviteServerEvents,
  ) {
    this.request = tx.request;
    this.remoteTag = getFrom(tx.request).params.tag || '';
    this.current = tx.flow;
    this.reliable = new ReliableSender(tx.request, {
      send: (res) => this.tx.respond(res),
      giveUp: (status) => {
        this.ctx.logger.info('no PRACK for our reliable provisional response');
        this.reject(status, 'Server Time-out: no PRACK');
        this.events.onNoPrack?.();
      },
    });
  }

  /** The connection requests toward the caller go over (RFC 7118 §5). */
  get flow(): Flow {
    return this.current;
  }

  /** The caller reconnected (RFC 5626 §4.4.1: a new flow) and sent a request of this dialog over it: our
   *  later requests (BYE, re-INVITE …) go there. The session layer decides when (call/connection.ts). */
  moveTo(flow: Flow): void {
    this.current = flow;
  }

  get state(): InviteServerUsageState {
    return this.fsm.state;
  }

  /** Subscribes to this usage's state changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener<InviteServerUsageState>): () => void {
    return this.fsm.onChange(listener);
  }

  /** The caller's INVITE, held by this usage for the call's life (its transaction lets it go once answered). */
  get invite(): SipRequest {
    return this.request;
  }

  /** True until a final response went out. */
  get unanswered(): boolean {
    return this.fsm.is('proceeding', 'early');
  }

  /** Our Via sent-by and Contact toward the caller: the advertised address of the point its INVITE
   *  reached (RFC 3261 §8.1.1.8: the Contact must be reachable by the peer; a 0.0.0.0 bind is not). */
  private get via(): ViaSpec {
    return { transport: this.current.transport, sentBy: this.current.sentBy };
  }

  private contact(): string {
    return formatNameAddr(localContact(this.via));
  }

  /** 180/183 (with SDP for early media); ignored once a final response was sent. Sent reliably (RFC 3262
   *  §3: Require: 100rel + RSeq, retransmitted until PRACKed) when the caller asked for or allows it; the
   *  early dialog is then registered so that the PRACK reaches this usage. */
  provisional(status: number, reason: string, sdp?: string): void {
    if (!this.unanswered) return;
    if (this.fsm.state === 'proceeding') this.fsm.to('early');
    const contact = this.contact();
    if (this.reliable.reliable(status) && !this.dialog) {
      this.dialog = Dialog.fromUasRequest(this.invite, this.localTag, contact);
      this.ctx.registry.add(this.dialog, this);
    }
    const body = sdp === undefined ? undefined : Buffer.from(sdp);
    const o = { toTag: this.localTag, body, contentType: sdp === undefined ? undefined : SDP };
    this.reliable.provisional(status, sdp !== undefined, (headers) => buildReply(this.request, status, reason, { ...o, headers: [{ name: 'Contact', value: contact }, ...headers] }));
  }

  /** §13.3.1.4: the 2xx with our answer; the dialog is confirmed and owned by this usage. RFC 3262 §3:
   *  held until the PRACK of a reliable 1xx with SDP. */
  accept(sdp: string): void {
    if (!this.unanswered) return;
    this.reliable.final(200, () => this.sendAccept(sdp));
  }

  private sendAccept(sdp: string): void {
    if (!this.unanswered) return;
    this.fsm.to('accepted');
    const contact = this.contact();
    if (!this.dialog) {
      this.dialog = Dialog.fromUasRequest(this.invite, this.localTag, contact);
      this.ctx.registry.add(this.dialog, this);
    }
    this.dialog.transition('confirmed');
    this.tx.onAckTimeout(() => this.ackWaitOver());
    // RFC 3311 §5.1: Allow lists UPDATE, so the caller knows it may send one in this dialog.
    const headers = [{ name: 'Contact', value: contact }, { name: 'Allow', value: INVITE_ALLOW }, ...(this.events.answerHeaders?.() ?? [])];
    reply(this.tx, 200, 'OK', { toTag: this.localTag, headers, body: Buffer.from(sdp), contentType: SDP });
  }

  /** A final non-2xx to the INVITE (§13.3.1.3), with `headers` (e.g. a 503's Retry-After, §21.5.4);
   *  ignored once a final response was sent. */
  reject(status: number, reason: string, headers: HeaderField[] = []): void {
    if (!this.unanswered) return;
    this.reliable.finish();
    this.terminate(); // and the early dialog of a reliable 1xx (§12.3)
    reply(this.tx, status, reason, { toTag: this.localTag, headers });
  }

  /** §9.2: a CANCEL matching our INVITE. "If the UAS has already sent a final response for the original
   *  request, the CANCEL has no effect"; else the INVITE "SHOULD" get a 487 (Request Terminated). The
   *  200 to the CANCEL itself is the dispatcher's (it carries our To tag: `localTag`). */
  receiveCancel(): void {
    if (!this.unanswered) return;
    this.reject(487, 'Request Terminated');
    this.events.onCancel();
  }

  /** Ends this usage from our side: BYE when answered (after the ACK, §15), else the given final response
   *  (with `finalHeaders`). `byeHeaders` go on the BYE (e.g. RFC 3326 Reason). */
  hangup(status = 480, reason = 'Temporarily Unavailable', byeHeaders: HeaderField[] = [], finalHeaders: HeaderField[] = []): void {
    if (this.unanswered) return this.reject(status, reason, finalHeaders);
    this.byeHeaders = byeHeaders;
    if (this.fsm.state === 'accepted') {
      this.byePending = true;
      return;
    }
    if (this.fsm.state === 'confirmed') this.sendBye();
  }

  /** An ACK in our dialog: for the INVITE's 2xx (confirms the usage), or for a re-INVITE's (session layer). */
  onAck(ack?: SipRequest): void {
    if (this.fsm.state === 'confirmed' && ack && this.dialog && getCSeq(ack).seq !== getCSeq(this.invite).seq) {
      return this.events.session.onAck?.(ack, this.dialog);
    }
    if (this.fsm.state !== 'accepted') return; // a retransmitted ACK
    this.fsm.to('confirmed');
    if (this.byePending) return this.sendBye();
    if (ack) this.events.onConfirmed?.(ack);
  }

  /** §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK,
   *  the dialog is confirmed, but the session SHOULD be terminated." A pending BYE may go now (§15). */
  private ackWaitOver(): void {
    if (this.fsm.state !== 'accepted') return;
    this.ctx.logger.warn('caller never ACKed our 2xx');
    this.fsm.to('confirmed');
    if (this.byePending) this.sendBye();
    else this.events.onAckTimeout();
  }

  onRequest(req: SipRequest, tx: ServerTransaction): void {
    if (req.method === 'PRACK') return this.onPrack(req, tx);
    dispatchInDialog(this.dialog, req, tx, {
      session: this.events.session,
      onBye: () => {
        if (this.fsm.state === 'terminated') return;
        this.terminate();
        this.events.onHangup();
      },
    });
  }

  /** RFC 3262 §3: a PRACK matching our unacknowledged reliable 1xx gets 200 and stops its retransmissions
   *  (a held 2xx goes now); one that matches none gets 481. An offer in a PRACK is not supported. */
  private onPrack(req: SipRequest, tx: ServerTransaction): void {
    if (this.dialog?.receiveRequest(req) === 'out-of-order') return reply(tx, 500, 'Server Internal Error: CSeq out of order');
    const reasons: Record<number, string> = { 200: 'OK', 400: 'Bad Request: RAck', 481: 'Call/Transaction Does Not Exist' };
    this.reliable.onPrack(req, (status) => reply(tx, status, reasons[status] ?? 'Error'));
  }

  /** Sends a request of ours inside the confirmed dialog (re-INVITE, UPDATE, INFO …) over the caller's
   *  flow; a 2xx to a re-INVITE is ACKed. Rejects before the dialog is confirmed or after it ended. */
  sendInDialog(method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest> {
    if (!this.dialog || this.fsm.state !== 'confirmed') return Promise.reject(new Error(`no confirmed dialog (${this.fsm.state})`));
    const env = { ...this.ctx, dialog: this.dialog, via: this.via, dest: Promise.resolve(this.current) };
    return sendDialogRequest(env, method, o, handlers);
  }

  onStrayResponse(_res: SipResponse): void {
    // We are the UAS of this dialog; responses to our BYE come through its transaction.
  }

  /** Final cleanup without signalling (the call has ended). */
  close(): void {
    if (this.unanswered) return this.reject(500, 'Server Internal Error');
    if (this.fsm.state !== 'terminated') this.terminate();
  }

  private terminate(): void {
    this.reliable.finish();
    this.fsm.to('terminated');
    if (this.dialog) {
      this.ctx.registry.remove(this.dialog);
      if (this.dialog.state !== 'terminated') this.dialog.transition('terminated');
    }
  }

  private sendBye(): void {
    const flow: Flow = this.current;
    const bye = flow.alive && this.dialog ? withVia(this.dialog.createRequest('BYE', { headers: this.byeHeaders }), this.via) : undefined;
    this.terminate();
    const log = this.ctx.logger;
    if (!bye) return log.info('caller flow closed: no BYE sent');
    this.ctx.transactions.sendRequest(bye, flow, {
      onResponse: (res) => log.debug({ status: res.status }, 'BYE to caller answered'),
      onTimeout: () => log.info('BYE to caller timed out'),
      onTransportError: (err) => log.info({ err: err.message }, 'BYE to caller failed'),
    });
  }
}
