// Where a blind transfer's target goes (B2BUA policy): the Refer-To number through the same dial plan as
// a call the transferring user dials — routeFromUser, the dial rules (gateway/policy check: the user's
// classes), the user's own PBX first when they have one — and the same trunk route (trunkRoute: the
// user's callerId at the trunk, the trunk's credentials).
import type { GatewayConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import type { RouteResult } from '../routing/index.js';
import { routeFromUser } from '../routing/index.js';
import { parseUri } from '../sip/message/index.js';
import { resolveTarget } from '../sip/ua/target.js';
import { trunkRoute, type OutboundRoute } from './trunk-leg.js';

export type TransferRoute =
  | { kind: 'out'; route: OutboundRoute; number: string; trunk?: TrunkConfig }
  /** One of our users: their registered contacts are rung (transfer-user.ts). */
  | { kind: 'user'; user: UserConfig; number: string }
  | { kind: 'refuse'; status: number; reason: string };

export interface TransferRouteDeps {
  config: Pick<GatewayConfig, 'routes' | 'trunks' | 'users'>;
  /** The dial rules (gateway/policy CallPolicy), when configured. */
  policy?: {
    check(user: UserConfig, number: string): { ok: true } | { ok: false; status: number; reason: string };
    route?(r: RouteResult): RouteResult;
  };
  /** Out through the user's own PBX (upstream.outboundFor), undefined when it is not registered. */
  pbxRoute(user: UserConfig): OutboundRoute | undefined;
}

/** The route of a transfer target dialled under `user`'s rights. */
export async function transferRoute(d: TransferRouteDeps, user: UserConfig, dialled: string): Promise<TransferRoute> {
  const routed = routeFromUser(dialled, d.config);
  const r = d.policy?.route ? d.policy.route(routed) : routed;
  if (r.number === '') return { kind: 'refuse', status: 404, reason: 'Not Found' };
  if (r.kind !== 'user' && r.kind !== 'echo') {
    const verdict = d.policy?.check(user, r.number);
    if (verdict && !verdict.ok) return { kind: 'refuse', status: verdict.status, reason: verdict.reason };
  }
  if (r.kind === 'echo') return { kind: 'refuse', status: 488, reason: 'Not Acceptable Here: the echo line is no transfer target' };
  // Another user (a local call): their phones ring (transfer-user.ts).
  if (r.kind === 'user') return { kind: 'user', user: r.user, number: r.number };
  if (user.upstream) {
    const route = d.pbxRoute(user);
    return route ? { kind: 'out', route, number: r.number } : { kind: 'refuse', status: 503, reason: 'Service Unavailable: PBX Not Registered' };
  }
  if (r.kind !== 'trunk') return { kind: 'refuse', status: 404, reason: 'Not Found' };
  try {
    const target = await resolveTarget(parseUri(r.trunk.uri));
    return { kind: 'out', route: trunkRoute(r.trunk, user.callerId ?? user.name, target), number: r.number, trunk: r.trunk };
  } catch {
    return { kind: 'refuse', status: 503, reason: 'Service Unavailable: Trunk Unreachable' };
  }
}
