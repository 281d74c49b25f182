// Ringing every contact of a user in parallel: RFC 3261 §16.7-style forking done by a B2BUA. The Fork
// owns one InviteClient per contact (a branch) and decides the group outcome: the first 2xx wins and every
// other branch is CANCELled with RFC 3326 "Call completed elsewhere"; when every branch failed, the best
// final response (fork-rules.ts) is reported. It knows nothing of media or of the caller.
import type { HeaderField, SipResponse } from '../sip/message/types.js';
import type { Flow } from '../sip/transport/types.js';
import { defineMachine, StateMachine } from '../lib/state-machine.js';
import { bestFinal, COMPLETED_ELSEWHERE, forkFinal } from './fork-rules.js';
import type { CallerFinal } from './responses.js';
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { InviteClient, type InviteClientContext, type InviteClientSpec } from '../sip/ua/invite-client.js';

/** ringing: branches out, no answer yet · won: a branch answered (the others are being cancelled) ·
 *  failed: every branch failed · cancelled: the caller gave up (or the ring time ran out). */
export type ForkState = 'ringing' | 'won' | 'failed' | 'cancelled';

const FORK_MACHINE = defineMachine<ForkState>('Fork', {
  ringing: ['won', 'failed', 'cancelled'],
  won: [],
  failed: [],
  cancelled: [],
});

export const forkTransition = FORK_MACHINE.transition;

export interface ForkEvents {
  /** The first 180/183 of any branch (reported once). */
  onRinging(): void;
  /** The first 2xx (already ACKed by its leg); the other branches are being cancelled. */
  onWin(branch: number, res: SipResponse): void;
  /** Every branch failed: the final response for the caller. */
  onAllFailed(final: CallerFinal): void;
  /** The winning branch hung up (BYE, or its connection closed) after answering. */
  onWinnerGone(): void;
  /** re-INVITE / UPDATE inside a branch's dialog (the Call's callee-side policy). */
  session: SessionHooks;
}

type BranchStatus = 'pending' | 'calling' | 'failed' | 'won' | 'dropped';

interface Branch {
  status: BranchStatus;
  leg?: InviteClient;
  /** The contact's connection (a registered WS/TCP contact). */
  flow?: Flow;
  unwatch?: () => void;
}

export const completedElsewhere = (): HeaderField[] => [{ name: 'Reason', value: COMPLETED_ELSEWHERE }];

export class Fork {
  private readonly fsm = new StateMachine(FORK_MACHINE, 'ringing');
  private readonly branches: Branch[];
  /** Finals of failed branches, in the order they failed (§16.7 picks among them). */
  private readonly finals: CallerFinal[] = [];
  private ringing = false;
  private winner: number | undefined;

  constructor(
    private readonly ctx: InviteClientContext,
    size: number,
    private readonly events: ForkEvents,
  ) {
    this.branches = Array.from({ length: size }, (): Branch => ({ status: 'pending' }));
  }

  get state(): ForkState {
    return this.fsm.state;
  }

  /** The answered branch, once won. */
  get winnerIndex(): number | undefined {
    return this.winner;
  }

  /** The answered branch's invite client (its dialog carries session modifications), once won. */
  get winnerLeg(): InviteClient | undefined {
    return this.winner === undefined ? undefined : this.branches[this.winner]?.leg;
  }


  /** Sends branch i's INVITE. Returns false (and sends nothing) once the fork is decided. `flow`: the
   *  contact's connection, whose closing fails the branch (RFC 7118 §5: it is then unreachable). */
  launch(i: number, spec: InviteClientSpec, flow?: Flow): boolean {
    const branch = this.branches[i];
    if (!branch || branch.status !== 'pending' || this.fsm.state !== 'ringing') return false;
    branch.status = 'calling';
    branch.leg = new InviteClient(this.ctx, spec, {
      session: this.events.session,
      onProvisional: () => this.onProvisional(),
      onAnswer: (res) => this.onAnswer(i, res),
      onFailure: (outcome) => this.fail(i, forkFinal(outcome)),
      onHangup: () => this.onBranchGone(i),
    });
    branch.flow = flow;
    branch.unwatch = flow?.onClose(() => this.onFlowClosed(i));
    branch.leg.start();
    return true;
  }

  /** Branch i could not be tried (e.g. the media engine refused its offer). */
  skip(i: number, final: CallerFinal): void {
    if (this.branches[i]?.status === 'pending') this.fail(i, final);
  }

  /** The caller gave up: CANCEL every branch still ringing (no Reason: the page shows a missed call). */
  cancel(): void {
    if (this.fsm.state !== 'ringing') return;
    this.fsm.to('cancelled');
    this.dropAll([]);
  }

  /** Ends the answered branch with BYE (§15); `headers` go on it (RFC 3326 Reason). */
  hangupWinner(headers: HeaderField[] = []): void {
    const branch = this.winner === undefined ? undefined : this.branches[this.winner];
    branch?.unwatch?.();
    branch?.leg?.hangup(headers);
  }

  /** The answered branch's connection, if it was sent over one: once won, whoever holds the call watches
   *  it (a lost connection may come back, call/connection.ts); the fork no longer does. */
  get winnerFlow(): Flow | undefined {
    return this.winner === undefined ? undefined : this.branches[this.winner]?.flow;
  }

  /** The winner reconnected: its dialog's requests go over `flow` from now on. */
  moveWinner(flow: Flow): void {
    const branch = this.winner === undefined ? undefined : this.branches[this.winner];
    if (branch) branch.flow = flow;
    branch?.leg?.moveTo(flow);
  }

  private onProvisional(): void {
    if (this.fsm.state !== 'ringing' || this.ringing) return;
    this.ringing = true;
    this.events.onRinging();
  }

  /** §16.7 step 5 for a B2BUA: the first 2xx is the answer; every other branch gets CANCEL with
   *  "Call completed elsewhere" (RFC 3326). A later 2xx from a cancelled branch is ACKed and BYEd by its
   *  leg (it is in 'cancelling', §15). */
  private onAnswer(i: number, res: SipResponse): void {
    const branch = this.branches[i]!;
    if (this.fsm.state !== 'ringing') {
      // Decided already: this leg answered after we chose (its CANCEL had not gone out yet).
      branch.leg?.hangup();
      return;
    }
    this.fsm.to('won');
    this.winner = i;
    branch.status = 'won';
    branch.unwatch?.();
    branch.unwatch = undefined;
    this.dropAll(completedElsewhere());
    this.events.onWin(i, res);
  }

  private fail(i: number, final: CallerFinal): void {
    const branch = this.branches[i]!;
    if (branch.status !== 'pending' && branch.status !== 'calling') return;
    branch.status = 'failed';
    branch.unwatch?.();
    this.finals.push(final);
    if (this.fsm.state !== 'ringing' || this.branches.some((b) => b.status === 'pending' || b.status === 'calling')) return;
    this.fsm.to('failed');
    this.events.onAllFailed(bestFinal(this.finals));
  }

  private onBranchGone(i: number): void {
    if (i === this.winner) this.events.onWinnerGone();
  }

  /** A contact's connection closed: a ringing branch fails (480), the winner is gone. */
  private onFlowClosed(i: number): void {
    const branch = this.branches[i]!;
    if (i === this.winner) return this.events.onWinnerGone();
    if (branch.status !== 'calling') return;
    branch.leg?.hangup();
    this.fail(i, { status: 480, reason: 'Temporarily Unavailable' });
  }

  private dropAll(reason: HeaderField[]): void {
    this.branches.forEach((b, i) => {
      if (i === this.winner) return;
      b.unwatch?.();
      if (b.status === 'calling') b.leg?.hangup(reason);
      if (b.status === 'pending' || b.status === 'calling') b.status = 'dropped';
    });
  }
}
