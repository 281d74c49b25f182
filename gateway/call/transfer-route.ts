// Where a blind transfer's target goes (B2BUA policy): the Refer-To number through the same dial plan as
// a call the transferring user dials — routeFromUser, the emergency reroute and the dial rules (gateway/
// policy admit: the user's classes, maxCalls and callsPerHour), the user's own PBX first when they have
// one — and, toward trunks, the same outbound path (dial.ts walkTrunks: the route's trunks in load-share
// order with failover, the number rewrite, the route's caller ID and privacy, the policy's slot on each
// trunk tried). The policy slots the new leg holds are a TransferSlots: given back when the target fails,
// else held until the transferred call ends (transfer.ts).
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { CallPolicy, Lease, Ticket } from '../policy/index.js';
import type { RouteResult } from '../routing/index.js';
import { routeFromUser } from '../routing/index.js';
import type { TrunkPlan } from './dial.js';
import type { TakeTrunk } from './failover.js';
import type { OutboundRoute } from './trunk-leg.js';

export type TransferRoute =
  /** Out through the user's own PBX (one INVITE, no failover). */
  | { kind: 'out'; route: OutboundRoute; number: string; slots: TransferSlots }
  /** Out through the route's trunks (dial.ts walkTrunks). */
  | { kind: 'trunks'; plan: TrunkPlan; number: string; slots: TransferSlots }
  /** One of our users: their registered contacts are rung (transfer-user.ts). */
  | { kind: 'user'; user: UserConfig; number: string }
  | { kind: 'refuse'; status: number; reason: string };

export type TransferPolicy = Pick<CallPolicy, 'route' | 'admit' | 'acquireTrunk'>;

export interface TransferRouteDeps {
  config: Pick<GatewayConfig, 'routes' | 'trunks' | 'users'>;
  /** The dial rules and limits (gateway/policy CallPolicy), when configured. */
  policy?: TransferPolicy;
  /** Out through the user's own PBX (upstream.outboundFor), undefined when it is not registered. */
  pbxRoute(user: UserConfig): OutboundRoute | undefined;
  /** The matched route's trunks in the order this transfer tries them (load sharing), `take` holding the
   *  policy's slot on each (index.ts trunkPlan, as for a call). */
  trunkPlan(r: Extract<RouteResult, { kind: 'trunk' }>, user: UserConfig, take: TakeTrunk): TrunkPlan;
}

/** RFC 3398 §7.2.4 (cause 34 "no circuit/channel available" → 503), as the policy answers a trunk at its limit. */
const TRUNK_FULL = { status: 503, reason: 'Service Unavailable: trunk call limit reached' };

/** The policy slots of a transfer's outside leg: the transferring user's (admit: counted as a call they
 *  placed) and the trunk's of the attempt under way (acquireTrunk; a previous attempt's is given back).
 *  release() is idempotent. */
export class TransferSlots {
  private trunk: Lease | undefined;
  private released = false;

  constructor(
    private readonly policy: Pick<CallPolicy, 'acquireTrunk'> | undefined,
    private readonly ticket: Ticket | undefined,
  ) {}

  get emergency(): boolean {
    return this.ticket?.emergency === true;
  }

  /** failover.ts TakeTrunk: the trunk's slot (an emergency call takes one whatever the limits). */
  readonly take: TakeTrunk = (trunk) => {
    this.trunk?.release();
    this.trunk = undefined;
    if (!this.policy || this.released) return undefined;
    this.trunk = this.policy.acquireTrunk(trunk, { force: this.emergency });
    return this.trunk ? undefined : TRUNK_FULL;
  };

  release(): void {
    this.released = true;
    this.ticket?.release();
    this.trunk?.release();
    this.trunk = undefined;
  }
}

/** The route of a transfer target dialled under `user`'s rights. */
export function transferRoute(d: TransferRouteDeps, user: UserConfig, dialled: string): TransferRoute {
  const routed = routeFromUser(dialled, d.config);
  // An emergency number goes where dialRules.emergency names, whatever the routes say.
  const r = d.policy ? d.policy.route(routed) : routed;
  if (r.number === '') return { kind: 'refuse', status: 404, reason: 'Not Found' };
  if (r.kind === 'echo') return { kind: 'refuse', status: 488, reason: 'Not Acceptable Here: the echo line is no transfer target' };
  // Another user (a local call): their phones ring (transfer-user.ts), busy per their own limits; the
  // transferor's slots are not taken (no outside leg is charged to them).
  if (r.kind === 'user') return { kind: 'user', user: r.user, number: r.number };
  if (r.kind === 'none' && !user.upstream) return { kind: 'refuse', status: 404, reason: 'Not Found' };
  // An outside target: admitted as a call the user dials (class, maxCalls, callsPerHour; logged there).
  const admitted = d.policy?.admit(user, r);
  if (admitted && !admitted.ok) return { kind: 'refuse', status: admitted.status, reason: admitted.reason };
  const slots = new TransferSlots(d.policy, admitted?.ticket);
  // An emergency call rerouted to dialRules.emergency.trunk goes there, not through the user's PBX.
  if (user.upstream && !(r.kind === 'trunk' && slots.emergency)) {
    const route = d.pbxRoute(user);
    if (route) return { kind: 'out', route, number: r.number, slots };
    slots.release();
    return { kind: 'refuse', status: 503, reason: 'Service Unavailable: PBX Not Registered' };
  }
  if (r.kind !== 'trunk') {
    slots.release();
    return { kind: 'refuse', status: 404, reason: 'Not Found' };
  }
  return { kind: 'trunks', plan: d.trunkPlan(r, user, slots.take), number: r.number, slots };
}
