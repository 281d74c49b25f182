// The browser leg: the gateway is the UAS for the browser's INVITE (RFC 3261 §13.3) and, once answered,
// one end of the dialog it created. Requests toward the browser go back over the flow its INVITE came on
// (RFC 7118 §5: a WebSocket client's Contact is not reachable otherwise).
import type { Logger } from '../log.js';
import { Dialog } from '../sip/dialog/index.js';
import { formatNameAddr, getFrom, newTag } from '../sip/message/index.js';
import type { SipRequest, SipResponse } from '../sip/message/types.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/types.js';
import type { Flow } from '../sip/transport/types.js';
import { localContact, withVia, type ViaSpec } from '../sip/ua/request.js';
import { reply } from '../sip/ua/uas.js';
import { answerInDialog } from './in-dialog.js';
import type { DialogOwner, DialogRegistry } from './registry.js';
import { StateMachine } from '../lib/state-machine.js';
import { BROWSER_MACHINE, type BrowserLegState } from './states.js';

export interface LegContext {
  transactions: TransactionLayer;
  registry: DialogRegistry;
  logger: Logger;
}

export interface BrowserLegEvents {
  /** The browser sent BYE (already answered 200). */
  onHangup(): void;
  /** No ACK for our 2xx within 64*T1 (§13.3.1.4: "the session SHOULD be terminated by sending BYE"). */
  onAckTimeout(): void;
}

const SDP = 'application/sdp';

export class BrowserLeg implements DialogOwner {
  readonly localTag = newTag();
  /** The browser's From tag. */
  readonly remoteTag: string;
  private readonly fsm = new StateMachine(BROWSER_MACHINE, 'proceeding');
  private dialog: Dialog | undefined;
  /** §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its
   *  2xx response or until the server transaction times out" — a hangup before the ACK waits here. */
  private byePending = false;

  constructor(
    readonly tx: ServerTransaction,
    private readonly ctx: LegContext,
    private readonly events: BrowserLegEvents,
  ) {
    this.remoteTag = getFrom(tx.request).params.tag || '';
  }

  get state(): BrowserLegState {
    return this.fsm.state;
  }

  get invite(): SipRequest {
    return this.tx.request;
  }


  /** Our Via sent-by and Contact toward the caller: the advertised address of the point its INVITE
   *  reached (RFC 3261 §8.1.1.8: the Contact must be reachable by the peer; a 0.0.0.0 bind is not). */
  private get via(): ViaSpec {
    return { transport: this.tx.flow.transport, sentBy: this.tx.flow.sentBy };
  }

  private contact(): string {
    return formatNameAddr(localContact(this.via));
  }

  /** 180/183 (with SDP for early media); ignored once a final response was sent. */
  provisional(status: number, reason: string, sdp?: string): void {
    if (this.fsm.state !== 'proceeding' && this.fsm.state !== 'early') return;
    if (this.fsm.state === 'proceeding') this.fsm.to('early');
    const body = sdp === undefined ? undefined : Buffer.from(sdp);
    reply(this.tx, status, reason, { toTag: this.localTag, headers: [{ name: 'Contact', value: this.contact() }], body, contentType: sdp === undefined ? undefined : SDP });
  }

  /** §13.3.1.4: the 2xx with our answer; the dialog is confirmed and owned by this leg. */
  accept(sdp: string): void {
    if (this.fsm.state !== 'proceeding' && this.fsm.state !== 'early') return;
    this.fsm.to('accepted');
    const contact = this.contact();
    this.dialog = Dialog.fromUasRequest(this.invite, this.localTag, contact);
    this.dialog.transition('confirmed');
    this.ctx.registry.add(this.dialog, this);
    this.tx.onAckTimeout(() => this.ackWaitOver());
    reply(this.tx, 200, 'OK', { toTag: this.localTag, headers: [{ name: 'Contact', value: contact }], body: Buffer.from(sdp), contentType: SDP });
  }

  /** A final non-2xx to the INVITE (§13.3.1.3); ignored once a final response was sent. */
  reject(status: number, reason: string): void {
    if (this.fsm.state !== 'proceeding' && this.fsm.state !== 'early') return;
    this.fsm.to('terminated');
    reply(this.tx, status, reason, { toTag: this.localTag });
  }

  /** Ends this leg from our side: BYE when answered (after the ACK, §15), else the given final response. */
  hangup(status = 480, reason = 'Temporarily Unavailable'): void {
    if (this.fsm.state === 'proceeding' || this.fsm.state === 'early') return this.reject(status, reason);
    if (this.fsm.state === 'accepted') {
      this.byePending = true;
      return;
    }
    if (this.fsm.state === 'confirmed') this.sendBye();
  }

  onAck(): void {
    if (this.fsm.state !== 'accepted') return; // a retransmitted ACK
    this.fsm.to('confirmed');
    if (this.byePending) this.sendBye();
  }

  /** §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK,
   *  the dialog is confirmed, but the session SHOULD be terminated." A pending BYE may go now (§15). */
  private ackWaitOver(): void {
    if (this.fsm.state !== 'accepted') return;
    this.ctx.logger.warn('browser never ACKed our 2xx');
    this.fsm.to('confirmed');
    if (this.byePending) this.sendBye();
    else this.events.onAckTimeout();
  }

  onRequest(req: SipRequest, tx: ServerTransaction): void {
    answerInDialog(this.dialog, req, tx, () => {
      if (this.fsm.state === 'terminated') return;
      this.terminate();
      this.events.onHangup();
    });
  }

  onStrayResponse(_res: SipResponse): void {
    // We are the UAS of this dialog; responses to our BYE come through its transaction.
  }

  /** Final cleanup without signalling (the call has ended). */
  close(): void {
    if (this.fsm.state === 'proceeding' || this.fsm.state === 'early') return this.reject(500, 'Server Internal Error');
    if (this.fsm.state !== 'terminated') this.terminate();
  }

  private terminate(): void {
    this.fsm.to('terminated');
    if (this.dialog) {
      this.ctx.registry.remove(this.dialog);
      if (this.dialog.state !== 'terminated') this.dialog.transition('terminated');
    }
  }

  private sendBye(): void {
    const flow: Flow = this.tx.flow;
    const bye = flow.alive && this.dialog ? withVia(this.dialog.createRequest('BYE'), this.via) : undefined;
    this.terminate();
    const log = this.ctx.logger;
    if (!bye) return log.info('browser flow closed: no BYE sent');
    this.ctx.transactions.sendRequest(bye, flow, {
      onResponse: (res) => log.debug({ status: res.status }, 'BYE to browser answered'),
      onTimeout: () => log.info('BYE to browser timed out'),
      onTransportError: (err) => log.info({ err: err.message }, 'BYE to browser failed'),
    });
  }
}
