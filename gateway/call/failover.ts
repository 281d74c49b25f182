// Trunk failover within one caller transaction (issue 9 item 3), the policy half: which trunk a call tries
// next and whether a failed attempt goes on to it. The walk (DialCallee, dial.ts) sends one INVITE at a
// time; this object holds the order, the lease on the trunk being tried and the counters.
// - Skipped up front: a trunk its OPTIONS keep-alive marked down, a trunk at its concurrent limit.
// - Failover: no response in time (trunks[].responseTimeout or Timer B → 408), a transport error (→ 503,
//   RFC 3261 §8.1.3.1), a challenge we cannot answer (the trunk's credentials, not the callee, are at
//   fault) and any final response in the route's failoverOn (default 408 and 5xx; 6xx only if listed:
//   RFC 3261 §21.6 "global failure" says no other destination will do better).
// - After early media (a 183 with SDP relayed to the caller) there is no failover: the caller's early
//   session is that trunk's; its failure is the caller's. A 180/183 without SDP does not stop failover
//   (as Kamailio's failure_route): the caller heard ringback, then the next trunk's 18x follow.
// - All attempts failed: the caller gets the last attempt's failure; no trunk could be tried: the policy's
//   refusal of the last trunk at its limit, else 503.
import { DEFAULT_FAILOVER_ON, type FailoverCode } from '../config/dial-plan.js';
import type { TrunkConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { TrunkBoard, TrunkLease } from './failover-board.js';
import { callerFinalFor, type CallerFinal, type TrunkOutcome } from './responses.js';

export const NO_TRUNK: CallerFinal = { status: 503, reason: 'Service Unavailable: No Trunk Available' };

/** Is `status` in the set (exact codes or "5xx"-style classes)? */
export function inFailoverSet(status: number, set: readonly FailoverCode[]): boolean {
  return set.some((c) => (typeof c === 'number' ? c === status : Math.floor(status / 100) === Number(c[0])));
}

/** Does a failed attempt go on to the next trunk? (Not asked after early media: see above.) */
export function failsOver(o: TrunkOutcome, set: readonly FailoverCode[] = DEFAULT_FAILOVER_ON): boolean {
  if (o.kind === 'response') return inFailoverSet(o.status, set);
  return true;
}

/** A trunk's slot for this call's attempt (the policy's takeTrunk): undefined = taken; else the trunk is at
 *  a limit and this is the final response the policy would give. */
export type TakeTrunk = (trunk: TrunkConfig) => CallerFinal | undefined;

export class TrunkFailover {
  private index = 0;
  private lease: TrunkLease | undefined;
  private current: TrunkConfig | undefined;
  private last: TrunkOutcome | undefined;
  private refused: CallerFinal | undefined;

  constructor(
    private readonly board: TrunkBoard,
    private readonly candidates: readonly TrunkConfig[],
    private readonly o: { failoverOn?: readonly FailoverCode[]; take?: TakeTrunk; log: Logger },
  ) {}

  /** The next trunk to try (its place held, an attempt counted), skipping down and full ones. */
  next(): TrunkConfig | undefined {
    this.release();
    while (this.index < this.candidates.length) {
      const trunk = this.candidates[this.index++]!;
      if (this.board.isDown(trunk.name)) {
        this.board.count(trunk.name, 'skippedDown');
        this.o.log.info({ trunk: trunk.name }, 'trunk skipped: keep-alive down');
        continue;
      }
      const full = this.o.take?.(trunk);
      if (full) {
        this.refused = full;
        this.board.count(trunk.name, 'skippedLimit');
        this.o.log.info({ trunk: trunk.name }, 'trunk skipped: at its call limit');
        continue;
      }
      this.lease = this.board.acquire(trunk);
      this.current = trunk;
      this.board.count(trunk.name, 'attempts');
      return trunk;
    }
    return undefined;
  }

  /** The attempt failed with `o`: true if the call goes on to the next trunk (counted as a failover). */
  failed(o: TrunkOutcome, earlyMedia: boolean): boolean {
    this.last = o;
    const trunk = this.current;
    const on = !earlyMedia && failsOver(o, this.o.failoverOn) && this.index < this.candidates.length;
    if (trunk) this.board.count(trunk.name, on ? 'failovers' : 'failed');
    if (on) this.o.log.info({ trunk: trunk?.name, outcome: o }, 'trunk failed: trying the next');
    return on;
  }

  answered(): void {
    if (this.current) this.board.count(this.current.name, 'answered');
  }

  /** What the caller gets when no trunk is left: the last attempt's failure; if none was tried, the
   *  policy's refusal (a trunk at its limit), else 503 (all down). */
  final(): CallerFinal {
    return this.last ? callerFinalFor(this.last) : (this.refused ?? NO_TRUNK);
  }

  /** The place on the trunk being tried (or that answered) is given back. Idempotent. */
  release(): void {
    this.lease?.release();
    this.lease = undefined;
  }
}
