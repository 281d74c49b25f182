// INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as updated by RFC 6026 §7.2 (Accepted state).
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, Target } from '../transport/types.js';
import { ClientSender, ClientTu, RELEASED_TU, releasedRequest, type TxEnv } from './env.js';
import { defineMachine, StateMachine } from '../../lib/state-machine.js';
import { buildNon2xxAck } from './msg.js';
import { nextInterval, TimerSet, TIMER_D_UNRELIABLE_MS } from './timers.js';
import type { ClientTransaction, ClientTransactionHandlers } from './types.js';

export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** RFC 3261 Figure 5 with RFC 6026 Figure 3's Accepted state. */
const INVITE_CLIENT = defineMachine<InviteClientState>('INVITE client transaction', {
  calling: ['proceeding', 'accepted', 'completed', 'terminated'],
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['terminated'],
  terminated: [],
});

export const inviteClientTransition = INVITE_CLIENT.transition;

type TimerName = 'A' | 'B' | 'D' | 'M';

export class InviteClientTransaction implements ClientTransaction {
  private readonly fsm = new StateMachine(INVITE_CLIENT, 'calling');
  private readonly timers = new TimerSet<TimerName>();
  private readonly sender: ClientSender;
  private tu: ClientTu;
  /** The INVITE until a final response (Timer A resends its bytes; a non-2xx's ACK is built from it). */
  private invite: SipRequest | undefined;

  constructor(
    readonly id: string,
    request: SipRequest,
    dest: Flow | Target,
    handlers: ClientTransactionHandlers,
    private readonly env: TxEnv,
    private readonly onTerminated: () => void,
  ) {
    this.invite = request;
    this.tu = new ClientTu(env.logger, handlers);
    this.sender = new ClientSender(env.transport, request, dest, (err) => this.transportError(err));
    this.startCallingTimers();
  }

  get state(): InviteClientState {
    return this.fsm.state;
  }

  /** The INVITE; released (reading it throws) once a final response came: Completed keeps only the ACK's
   *  bytes, Accepted nothing to send. */
  get request(): SipRequest {
    return this.invite ?? releasedRequest(this.id, this.fsm.state);
  }

  get flow(): Promise<Flow> {
    return this.sender.flow;
  }

  private startCallingTimers(): void {
    const { t1 } = this.env.timers;
    // §17.1.1.2: "If an unreliable transport is being used, the client transaction MUST start timer A
    // with a value of T1. If a reliable transport is being used, the client transaction SHOULD NOT start
    // timer A". "For any transport, the client transaction MUST start timer B with a value of 64*T1".
    if (!this.sender.reliable) this.armTimerA(t1);
    this.timers.start('B', 64 * t1, () => this.timerB());
  }

  /** §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request by passing it to
   *  the transport layer, and MUST reset the timer with a value of 2*T1." */
  private armTimerA(interval: number): void {
    this.timers.start('A', interval, () => {
      if (this.fsm.state !== 'calling') return;
      this.sender.again();
      this.armTimerA(nextInterval(interval));
    });
  }

  /** §17.1.1.2: "If the client transaction is still in the "Calling" state when timer B fires, the client
   *  transaction SHOULD inform the TU that a timeout has occurred." */
  private timerB(): void {
    if (this.fsm.state !== 'calling') return;
    this.terminate();
    this.tu.timeout();
  }

  receiveResponse(response: SipResponse): void {
    const { status } = response;
    switch (this.fsm.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) this.provisional(response);
        else if (status < 300) this.accepted(response);
        else this.completed(response);
        return;
      case 'accepted':
        // RFC 6026 §7.2: "any 2xx response that matches this transaction ... MUST be passed up to the TU".
        if (status >= 200 && status < 300) this.tu.response(response);
        else this.env.logger.debug({ tx: this.id, status }, 'INVITE client: non-2xx in Accepted dropped');
        return;
      case 'completed':
        // §17.1.1.2: "Any retransmissions of the final response that are received while in the
        // "Completed" state MUST cause the ACK to be re-passed to the transport layer for retransmission,
        // but the newly received response MUST NOT be passed up to the TU."
        if (status >= 300) this.sender.again();
        return;
      case 'terminated':
        return;
    }
  }

  /** §17.1.1.2: "If the client transaction receives a provisional response while in the "Calling" state,
   *  it transitions to the "Proceeding" state. In the "Proceeding" state, the client transaction SHOULD NOT
   *  retransmit the request any longer." Timer B only guards the Calling state (Figure 5). */
  private provisional(response: SipResponse): void {
    if (this.fsm.state === 'calling') {
      this.fsm.to('proceeding');
      this.timers.stop('A');
      this.timers.stop('B');
    }
    this.tu.response(response);
  }

  /** RFC 6026 §7.2: "If a 2xx response is received while the client INVITE state machine is in the
   *  "Calling" or "Proceeding" states, it MUST transition to the "Accepted" state, pass the 2xx response to
   *  the TU, and set Timer M to 64*T1." The ACK for a 2xx is the TU's (RFC 3261 §13.2.2.4). */
  private accepted(response: SipResponse): void {
    this.fsm.to('accepted');
    this.timers.stopAll();
    this.invite = undefined; // the ACK for a 2xx is the TU's: nothing of the INVITE is sent again
    this.sender.clear();
    this.timers.start('M', 64 * this.env.timers.t1, () => this.terminate());
    this.tu.response(response);
  }

  /** §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response with status
   *  code from 300-699 MUST cause the client transaction to transition to "Completed". The client
   *  transaction MUST pass the received response up to the TU, and the client transaction MUST generate
   *  an ACK request ... The client transaction SHOULD start timer D when it enters the "Completed" state,
   *  with a value of at least 32 seconds for unreliable transports, and a value of zero seconds for
   *  reliable transports." */
  private completed(response: SipResponse): void {
    this.fsm.to('completed');
    this.timers.stopAll();
    this.sender.send(buildNon2xxAck(this.request, response));
    this.invite = undefined; // Timer D: only the ACK's bytes remain, for a retransmitted final
    this.tu.response(response);
    this.tu = new ClientTu(this.env.logger, RELEASED_TU); // Timer D: only the ACK to resend remains
    if (this.sender.reliable) this.terminate();
    else this.timers.start('D', TIMER_D_UNRELIABLE_MS, () => this.terminate());
  }

  /** §17.1.4: "the client transaction SHOULD inform the TU that a transport failure has occurred, and the
   *  client transaction SHOULD transition directly to the "Terminated" state." The TU only hears it while
   *  it still awaits a final response; later (ACK retransmission) it is logged. */
  private transportError(err: Error): void {
    if (this.fsm.state === 'terminated') return;
    const awaitingFinal = this.fsm.state === 'calling' || this.fsm.state === 'proceeding';
    this.env.logger.warn({ tx: this.id, state: this.fsm.state, err: err.message }, 'INVITE client: transport error');
    this.terminate();
    if (awaitingFinal) this.tu.transportError(err);
  }

  /** Enters Terminated (from any live state), clears every timer, and tells the layer once. */
  terminate(): void {
    if (this.fsm.state === 'terminated') return;
    this.fsm.to('terminated');
    this.timers.stopAll();
    this.invite = undefined;
    this.sender.clear();
    this.onTerminated();
  }
}
