// Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, Target } from '../transport/types.js';
import { ClientSender, ClientTu, RELEASED_TU, releasedRequest, type TxEnv } from './env.js';
import { defineMachine, StateMachine } from '../../lib/state-machine.js';
import { nextInterval, TimerSet } from './timers.js';
import type { ClientTransaction, ClientTransactionHandlers } from './types.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** RFC 3261 Figure 6. */
const NON_INVITE_CLIENT = defineMachine<NonInviteClientState>('non-INVITE client transaction', {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
});

export const nonInviteClientTransition = NON_INVITE_CLIENT.transition;

type TimerName = 'E' | 'F' | 'K';

export class NonInviteClientTransaction implements ClientTransaction {
  private readonly fsm = new StateMachine(NON_INVITE_CLIENT, 'trying');
  private readonly timers = new TimerSet<TimerName>();
  private readonly sender: ClientSender;
  private tu: ClientTu;
  /** The request until a final response (Timer E resends its bytes). */
  private sent: SipRequest | undefined;

  constructor(
    readonly id: string,
    request: SipRequest,
    dest: Flow | Target,
    handlers: ClientTransactionHandlers,
    private readonly env: TxEnv,
    private readonly onTerminated: () => void,
  ) {
    this.sent = request;
    this.tu = new ClientTu(env.logger, handlers);
    this.sender = new ClientSender(env.transport, request, dest, (err) => this.transportError(err));
    const { t1 } = env.timers;
    // §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client transaction with a
    // request. When entering this state, the client transaction SHOULD set timer F to fire in 64*T1
    // seconds. ... If an unreliable transport is in use, the client transaction MUST set timer E to fire
    // in T1 seconds."
    this.timers.start('F', 64 * t1, () => this.timerF());
    if (!this.sender.reliable) this.armTimerE(t1);
  }

  get state(): NonInviteClientState {
    return this.fsm.state;
  }

  /** The request; released (reading it throws) once a final response came (Timer K keeps only the key). */
  get request(): SipRequest {
    return this.sent ?? releasedRequest(this.id, this.fsm.state);
  }

  get flow(): Promise<Flow> {
    return this.sender.flow;
  }

  /** §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but this time with a
   *  value of MIN(2*T1, T2). ... If Timer E fires while in the "Proceeding" state, the request MUST be
   *  passed to the transport layer for retransmission, and Timer E MUST be reset with a value of T2". */
  private armTimerE(interval: number): void {
    this.timers.start('E', interval, () => {
      this.sender.again();
      const { t2 } = this.env.timers;
      this.armTimerE(this.fsm.state === 'proceeding' ? t2 : nextInterval(interval, t2));
    });
  }

  /** §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying" [or "Proceeding"]
   *  state, the client transaction SHOULD inform the TU about the timeout, and then it SHOULD enter the
   *  "Terminated" state." */
  private timerF(): void {
    this.terminate();
    this.tu.timeout();
  }

  receiveResponse(response: SipResponse): void {
    if (this.fsm.state === 'completed' || this.fsm.state === 'terminated') {
      // §17.1.2.2: in Completed, "The client transaction ... buffer[s] any response retransmissions".
      return;
    }
    if (response.status < 200) {
      // "If a provisional response is received while in the "Trying" state, the response MUST be passed
      // to the TU, and then the client transaction SHOULD move to the "Proceeding" state."
      if (this.fsm.state === 'trying') this.fsm.to('proceeding');
      this.tu.response(response);
      return;
    }
    this.completed(response);
  }

  /** §17.1.2.2: "If a final response (status codes 200-699) is received while in the "Trying" [or
   *  "Proceeding"] state, the response MUST be passed to the TU, and the client transaction MUST
   *  transition to the "Completed" state. ... Once the client transaction enters the "Completed" state,
   *  it MUST set Timer K to fire in T4 seconds for unreliable transports, and zero seconds for reliable
   *  transports." */
  private completed(response: SipResponse): void {
    this.fsm.to('completed');
    this.timers.stopAll();
    this.tu.response(response);
    this.tu = new ClientTu(this.env.logger, RELEASED_TU); // Timer K: only the key and the timer remain
    this.sent = undefined;
    this.sender.clear();
    if (this.sender.reliable) this.terminate();
    else this.timers.start('K', this.env.timers.t4, () => this.terminate());
  }

  /** §17.1.4: report the transport failure to the TU and terminate (only while a final is awaited). */
  private transportError(err: Error): void {
    if (this.fsm.state === 'terminated') return;
    const awaitingFinal = this.fsm.state !== 'completed';
    this.env.logger.warn({ tx: this.id, state: this.fsm.state, err: err.message }, 'non-INVITE client: transport error');
    this.terminate();
    if (awaitingFinal) this.tu.transportError(err);
  }

  terminate(): void {
    if (this.fsm.state === 'terminated') return;
    this.fsm.to('terminated');
    this.timers.stopAll();
    this.sent = undefined;
    this.sender.clear();
    this.onTerminated();
  }
}
