// Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import { admitResponse, LastSent, releasedRequest, sendAgain, sendStateless, sendOrTerminate, type ServerHooks, type TxEnv } from './env.js';
import { defineMachine, StateMachine } from '../../lib/state-machine.js';
import { TransactionInputError } from './msg.js';
import { TimerSet } from './timers.js';
import type { ServerTransaction } from './types.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** RFC 3261 Figure 8. */
const NON_INVITE_SERVER = defineMachine<NonInviteServerState>('non-INVITE server transaction', {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
});

export const nonInviteServerTransition = NON_INVITE_SERVER.transition;

export class NonInviteServerTransaction implements ServerTransaction {
  private readonly fsm = new StateMachine(NON_INVITE_SERVER, 'trying');
  private readonly timers = new TimerSet<'J'>();
  /** The latest response, its bytes once written (§17.2.2: what a retransmitted request gets). */
  private readonly last: LastSent<SipResponse>;
  private sentAny = false;
  /** The request until the final response (Completed keeps only the key and the response's bytes). */
  private received: SipRequest | undefined;

  constructor(
    readonly id: string,
    request: SipRequest,
    readonly flow: Flow,
    private readonly env: TxEnv,
    private readonly hooks: ServerHooks,
  ) {
    this.received = request;
    this.last = new LastSent(env.transport);
  }

  get state(): NonInviteServerState {
    return this.fsm.state;
  }

  /** The request; released (reading it throws) once the final response went. */
  get request(): SipRequest {
    return this.received ?? releasedRequest(this.id, this.fsm.state);
  }

  /** Only INVITE transactions wait for an ACK; listeners here never fire. */
  onAckTimeout(_listener: () => void): void {}

  /** Has any response (a 100 Trying included) gone out? */
  get answered(): boolean {
    return this.sentAny;
  }

  /** ServerTransaction.respondStatelessly (env.ts sendStateless). */
  respondStatelessly(response: SipResponse): void {
    sendStateless(this.env, this, 'non-INVITE server', response);
  }

  respond(response: SipResponse): void {
    if (!admitResponse(this.env, this, 'non-INVITE server', response)) return;
    if (this.fsm.state === 'completed') {
      throw new TransactionInputError(`non-INVITE server ${this.id}: final response already sent`);
    }
    this.sentAny = true;
    sendOrTerminate(this.env, this, 'non-INVITE server', response, this.last);
    if (response.status < 200) {
      // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response to the server
      // transaction, the server transaction MUST enter the "Proceeding" state."
      if (this.fsm.state === 'trying') this.fsm.to('proceeding');
    } else {
      this.enterCompleted();
    }
  }

  /** §17.2.2: "Once in the "Trying" state, any further request retransmissions are discarded." In
   *  "Proceeding", "the most recently sent provisional response MUST be passed to the transport layer for
   *  retransmission"; in "Completed", "the server transaction MUST pass the final response to the transport
   *  layer for retransmission whenever a retransmission of the request is received." */
  receiveRetransmission(): void {
    if (this.fsm.state !== 'trying' && this.fsm.state !== 'terminated') sendAgain(this.env, this, 'non-INVITE server', this.last);
  }

  /** §17.2.2: "When the server transaction enters the "Completed" state, it MUST set Timer J to fire in
   *  64*T1 seconds for unreliable transports, and zero seconds for reliable transports." */
  private enterCompleted(): void {
    this.fsm.to('completed');
    this.received = undefined;
    if (this.flow.reliable) this.terminate();
    else this.timers.start('J', 64 * this.env.timers.t1, () => this.terminate());
  }

  terminate(): void {
    if (this.fsm.state === 'terminated') return;
    this.fsm.to('terminated');
    this.timers.stopAll();
    this.received = undefined;
    this.last.clear();
    this.hooks.terminated();
  }
}
