// The dial plan: a pure function from the dialled number to where the call goes.
//
// Matching rules (documented in sip-config/gateway.yaml by the lead):
// - The dialled string is the Request-URI user part, already unescaped by the URI parser.
// - RFC 3966 §5.1.1: visual-separator = "-" / "." / "(" / ")". These (and spaces, which browsers and
//   people type) carry no meaning and are removed before matching: "+1 (555) 010-0199" → "+15550100199".
// - Routes are tried in order; the first whose `match` matches wins.
// - `match` is an ordinary JavaScript RegExp tested against the normalised string. It is NOT implicitly
//   anchored: write "^1\d{10}$" to require a whole-string match ("555" alone matches "0555123").
// - A trunk route names one trunk (`trunk`) or several (`trunks`, tried in order with failover and load
//   sharing, gateway/call/failover.ts); its number handling (rewrite, caller ID, privacy) is applied by
//   the call layer toward each trunk (`number` here is the dialled number as normalised, not rewritten).
import type { InboundConfig, TrunkRouteConfig } from '../config/dial-plan.js';
import type { GatewayConfig, RouteConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import { entryOf } from './load-share.js';
import { normalizeDid, normalizeInbound } from './inbound.js';

export { rewriteNumber } from './rewrite.js';
export { LoadShare } from './load-share.js';
export { normalizeInbound, toE164 } from './inbound.js';

/** A trunk route as matched: `route` is its config entry, `trunk` the first trunk it lists. */
export type RouteResult =
  | { kind: 'trunk'; trunk: TrunkConfig; route: TrunkRouteConfig; number: string }
  | { kind: 'echo'; number: string }
  | { kind: 'user'; user: UserConfig; number: string }
  | { kind: 'none'; number: string };

const VISUAL_SEPARATORS = /[\s\-.()]/g;

/** RFC 3966 §5.1.1 normalisation: drop visual separators and whitespace. */
export function normalizeDialled(dialled: string): string {
  return dialled.replace(VISUAL_SEPARATORS, '');
}

// Compiled patterns, keyed by the route object (configs are immutable once loaded).
const compiled = new WeakMap<RouteConfig, RegExp>();

function patternOf(route: RouteConfig): RegExp {
  let re = compiled.get(route);
  if (!re) {
    re = new RegExp(route.match);
    compiled.set(route, re);
  }
  return re;
}

/** Where a call to `dialled` goes. `number` is the normalised string, to be used as the trunk's
 *  Request-URI user part. An empty number never matches (nothing was dialled). */
export function route(dialled: string, config: Pick<GatewayConfig, 'routes' | 'trunks' | 'users'>): RouteResult {
  const number = normalizeDialled(dialled);
  if (number === '') return { kind: 'none', number };
  for (const r of config.routes) {
    if (!patternOf(r).test(number)) continue;
    if ('echo' in r) return { kind: 'echo', number };
    if ('user' in r) {
      const user = config.users.find((u) => u.name === r.user);
      return user ? { kind: 'user', user, number } : { kind: 'none', number };
    }
    const trunk = config.trunks.find((t) => t.name === routeTrunkNames(r)[0]);
    // The schema guarantees the trunk exists; a hand-built config that breaks this routes nowhere.
    return trunk ? { kind: 'trunk', trunk, route: r, number } : { kind: 'none', number };
  }
  return { kind: 'none', number };
}

/** The trunk names a trunk route lists, in order (`trunk` is the one-trunk form). */
export function routeTrunkNames(r: TrunkRouteConfig): string[] {
  return r.trunks ? r.trunks.map((t) => entryOf(t).name) : [r.trunk!];
}

type Directory = Pick<GatewayConfig, 'routes' | 'users'>;

/** A DID matches the dialled number exactly, or up to a leading "+" (trunks write E.164 either way); with
 *  a trunk's inbound rule both sides are compared in E.164 (inbound.ts). */
function sameNumber(did: string, number: string, rule?: InboundConfig): boolean {
  const d = normalizeDid(did, rule);
  return d === number || d.replace(/^\+/, '') === number.replace(/^\+/, '');
}

/** The user owning `dialled` as a DID (users[].dids), if any. `rule`: the calling trunk's inbound
 *  normalisation (trunks[].inbound). */
export function didOwner(dialled: string, config: Pick<GatewayConfig, 'users'>, rule?: InboundConfig): UserConfig | undefined {
  const number = normalizeInbound(normalizeDialled(dialled), rule);
  if (number === '') return undefined;
  return config.users.find((u) => u.dids.some((d) => sameNumber(d, number, rule)));
}

/** The user a name or extension designates (users[].name, users[].extension). */
export function localUser(dialled: string, config: Pick<GatewayConfig, 'users'>): UserConfig | undefined {
  const number = normalizeDialled(dialled);
  if (number === '') return undefined;
  return config.users.find((u) => u.name === number || u.extension === number);
}

/** A call coming in from a trunk or a PBX: the user a number rings — users[].dids first, then the
 *  first route { match, user } that matches (only user routes are tried: trunk routes and the echo
 *  line are for calls going out, never for calls coming in). */
export function inboundUser(dialled: string, config: Directory, rule?: InboundConfig): UserConfig | undefined {
  const owner = didOwner(dialled, config, rule);
  if (owner) return owner;
  const r = route(normalizeInbound(normalizeDialled(dialled), rule), { users: config.users, trunks: [], routes: config.routes.filter((x) => 'user' in x) });
  return r.kind === 'user' ? r.user : undefined;
}

/** A call dialled by an authenticated user: another user's name or extension first, then a DID of a
 *  local user (no trip through the trunk), then the routes in order. */
export function routeFromUser(dialled: string, config: Pick<GatewayConfig, 'routes' | 'trunks' | 'users'>): RouteResult {
  const number = normalizeDialled(dialled);
  const user = localUser(number, config) ?? didOwner(number, config);
  if (user) return { kind: 'user', user, number };
  return route(number, config);
}
