// INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as updated by RFC 6026 §7.1 (Accepted state).
//
// The Accepted state also carries the UAS core's 2xx reliability of RFC 3261 §13.3.1.4 ("The 2xx response
// is passed to the transport with an interval that starts at T1 seconds and doubles for each
// retransmission until it reaches T2 seconds ... Response retransmissions cease when an ACK request for
// the response is received"; "If the server retransmits the 2xx response for 64*T1 seconds without
// receiving an ACK, the dialog is confirmed, but the session SHOULD be terminated"). Retransmission runs
// over unreliable flows only; the ACK wait (onAckTimeout at 64*T1, the same instant as Timer L) applies to
// every flow.
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import {
  admitResponse,
  LastSent,
  releasedRequest,
  safely,
  sendAgain,
  sendOrTerminate,
  sendStateless,
  type ServerHooks,
  type TxEnv,
} from './env.js';
import { defineMachine, StateMachine } from '../../lib/state-machine.js';
import { ackBaseOf, ackKeyFromBase, type AckBase } from './keys.js';
import { createResponse } from '../message/index.js';
import { TransactionInputError } from './msg.js';
import { nextInterval, TimerSet, TRYING_DELAY_MS } from './timers.js';
import type { ServerTransaction } from './types.js';

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** RFC 3261 Figure 7 with RFC 6026 Figure 5's Accepted state. */
const INVITE_SERVER = defineMachine<InviteServerState>('INVITE server transaction', {
  proceeding: ['completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
});

export const inviteServerTransition = INVITE_SERVER.transition;

type TimerName = 'trying' | 'G' | 'H' | 'I' | 'L' | 'retransmit2xx';

export class InviteServerTransaction implements ServerTransaction {
  private readonly fsm = new StateMachine(INVITE_SERVER, 'proceeding');
  private readonly timers = new TimerSet<TimerName>();
  private ackTimeoutListeners: Array<() => void> = [];
  /** The latest response, its bytes once written: what a retransmitted INVITE (Proceeding, Completed),
   *  Timer G or the 2xx timer sends again. */
  private readonly last: LastSent<SipResponse>;
  private sentAny = false;
  private finalStatus: number | undefined;
  /** The INVITE until the final response (then only the key, the bytes to resend and `ackBase`). */
  private invite: SipRequest | undefined;
  /** What the INVITE gives a 2xx's ACK key: kept so that a 2xx passed again in Accepted is indexed too. */
  private ackBase: AckBase | undefined;
  private acked = false;

  constructor(
    readonly id: string,
    request: SipRequest,
    readonly flow: Flow,
    private readonly env: TxEnv,
    private readonly hooks: ServerHooks,
  ) {
    this.invite = request;
    this.last = new LastSent(env.transport);
    // §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it knows that the TU
    // will generate a provisional or final response within 200 ms". §8.2.6.1: it carries no To tag.
    this.timers.start('trying', TRYING_DELAY_MS, () => {
      // Kept as the latest provisional so a retransmitted INVITE gets it again.
      if (this.fsm.state === 'proceeding' && !this.sentAny) this.send(createResponse(this.request, 100, 'Trying'));
    });
  }

  get state(): InviteServerState {
    return this.fsm.state;
  }

  /** The INVITE; released (reading it throws) once the final response went: Completed and Accepted keep
   *  only the key and the response's bytes. */
  get request(): SipRequest {
    return this.invite ?? releasedRequest(this.id, this.fsm.state);
  }

  onAckTimeout(listener: () => void): void {
    this.ackTimeoutListeners.push(listener);
  }

  /** Has any response (a 100 Trying included) gone out? */
  get answered(): boolean {
    return this.sentAny || this.fsm.state !== 'proceeding';
  }

  /** ServerTransaction.respondStatelessly (env.ts sendStateless). */
  respondStatelessly(response: SipResponse): void {
    sendStateless(this.env, this, 'INVITE server', response);
  }

  respond(response: SipResponse): void {
    if (!admitResponse(this.env, this, 'INVITE server', response)) return;
    const { status } = response;
    if (this.fsm.state === 'accepted' && status >= 200 && status < 300) {
      // RFC 6026 §7.1: "Any retransmission of the 2xx response passed from the TU to the transaction while in
      // the "Accepted" state MUST be passed to the transport layer for transmission."
      this.remember2xx(response);
      this.send(response);
      return;
    }
    if (this.fsm.state !== 'proceeding') {
      throw new TransactionInputError(`INVITE server ${this.id}: cannot send ${status} in state ${this.fsm.state}`);
    }
    this.timers.stop('trying');
    if (status < 200) {
      // §17.2.1: "The TU passes any number of provisional responses to the server transaction."
      this.send(response);
    } else if (status < 300) this.enterAccepted(response);
    else this.enterCompleted(response);
  }

  /** §17.2.1: "If a request retransmission is received while in the "Proceeding" state, the most recent
   *  provisional response that was received from the TU MUST be passed to the transport layer for
   *  retransmission." / "while in the "Completed" state, if a request retransmission is received, the
   *  server SHOULD pass the response to the transport for retransmission." RFC 6026 §7.1: retransmissions
   *  of the INVITE in "Accepted" "MUST be absorbed by the server transaction". */
  receiveRetransmission(): void {
    if (this.fsm.state === 'proceeding' || this.fsm.state === 'completed') this.sendAgain();
  }

  /** An ACK matched this transaction. Returns true when it must go up to the TU (an ACK for the 2xx). */
  receiveAck(): boolean {
    switch (this.fsm.state) {
      case 'completed':
        this.enterConfirmed();
        return false;
      case 'accepted':
        // RFC 6026 §7.1: "Any ACKs received from the network while in the "Accepted" state MUST be passed
        // directly to the TU and not absorbed." RFC 3261 §13.3.1.4: they end the 2xx retransmissions.
        this.acked = true;
        this.timers.stop('retransmit2xx');
        // Waiting out Timer L now keeps no TU closure: the ACK came, onAckTimeout can no longer fire.
        this.ackTimeoutListeners = [];
        this.last.clear(); // nor the 2xx: the ACK ended its retransmissions
        return true;
      default:
        // Confirmed: "absorb any additional ACK messages"; Proceeding: no final sent yet, nothing to ACK.
        return false;
    }
  }

  /** RFC 6026 §7.1: "If, while in the "Proceeding" state, the TU passes a 2xx response to the server
   *  transaction, the server transaction MUST pass this response to the transport layer for transmission
   *  ... The server transaction MUST then transition to the "Accepted" state" and "Timer L MUST be set to
   *  fire in 64*T1 for all transports". */
  private enterAccepted(response: SipResponse): void {
    this.fsm.to('accepted');
    this.finalStatus = response.status;
    this.ackBase = ackBaseOf(this.request);
    this.invite = undefined;
    this.remember2xx(response);
    this.send(response);
    const { t1 } = this.env.timers;
    if (!this.flow.reliable) this.arm2xxRetransmit(t1);
    this.timers.start('L', 64 * t1, () => this.timerL());
  }

  private remember2xx(response: SipResponse): void {
    const key = ackKeyFromBase(this.ackBase, response);
    if (key !== undefined) this.hooks.accepted?.(key);
  }

  /** RFC 3261 §13.3.1.4: T1, doubling up to T2, until the ACK arrives. */
  private arm2xxRetransmit(interval: number): void {
    this.timers.start('retransmit2xx', interval, () => {
      this.sendAgain();
      this.arm2xxRetransmit(nextInterval(interval, this.env.timers.t2));
    });
  }

  /** RFC 6026 §7.1: "If Timer L fires while the INVITE server transaction is in the "Accepted" state, the
   *  transaction MUST transition to the "Terminated" state." 64*T1 without an ACK is also §13.3.1.4's
   *  give-up point: the TU hears it through onAckTimeout. */
  private timerL(): void {
    const ackMissing = !this.acked;
    this.terminate();
    if (!ackMissing) return;
    this.env.logger.warn({ tx: this.id }, 'INVITE server: no ACK for the 2xx within 64*T1');
    for (const listener of this.ackTimeoutListeners) safely(this.env.logger, 'onAckTimeout', listener);
  }

  /** §17.2.1: "If the TU passes a response with status code from 300 to 699 to the server transaction,
   *  the response MUST be passed to the transport layer for transmission, and the state machine MUST enter
   *  the "Completed" state. For unreliable transports, timer G is set to fire in T1 seconds ... timer H
   *  MUST be set to fire in 64*T1 seconds for all transports." */
  private enterCompleted(response: SipResponse): void {
    this.fsm.to('completed');
    this.finalStatus = response.status;
    this.invite = undefined;
    this.send(response);
    const { t1 } = this.env.timers;
    if (!this.flow.reliable) this.armTimerG(t1);
    this.timers.start('H', 64 * t1, () => this.timerH());
  }

  /** §17.2.1: "If timer G fires, the response is passed to the transport layer once more for
   *  retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds." */
  private armTimerG(interval: number): void {
    this.timers.start('G', interval, () => {
      this.sendAgain();
      this.armTimerG(nextInterval(interval, this.env.timers.t2));
    });
  }

  /** §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK was never
   *  received. In this case, the server transaction MUST transition to the "Terminated" state, and MUST
   *  indicate to the TU that a transaction failure has occurred." (The TU is told through the log.) */
  private timerH(): void {
    this.env.logger.warn({ tx: this.id, status: this.finalStatus }, 'INVITE server: Timer H, no ACK');
    this.terminate();
  }

  /** §17.2.1: "If an ACK is received while the server transaction is in the "Completed" state, the server
   *  transaction MUST transition to the "Confirmed" state. As Timer G is ignored in this state, any
   *  retransmissions of the response will cease." "When this state is entered, timer I is set to fire in
   *  T4 seconds for unreliable transports, and zero seconds for reliable transports." */
  private enterConfirmed(): void {
    this.fsm.to('confirmed');
    this.timers.stopAll();
    // Confirmed absorbs ACKs and retransmits nothing: Timer I waits with no response kept.
    this.last.clear();
    if (this.flow.reliable) this.terminate();
    else this.timers.start('I', this.env.timers.t4, () => this.terminate());
  }

  private send(response: SipResponse): void {
    this.sentAny = true;
    sendOrTerminate(this.env, this, 'INVITE server', response, this.last);
  }

  private sendAgain(): void {
    sendAgain(this.env, this, 'INVITE server', this.last);
  }

  terminate(): void {
    if (this.fsm.state === 'terminated') return;
    this.fsm.to('terminated');
    this.timers.stopAll();
    this.invite = undefined;
    this.last.clear();
    this.hooks.terminated();
  }
}
