// What a reload (SIGHUP, README "Operations") may change while calls and registrations stay up.
//
// Taken at once: users, routes, trunks, dialRules (read per request and per call through the live view,
// config/live.ts) and the http.tls certificate and key FILES (read again: a renewed Let's Encrypt
// certificate is served on the next handshake, HTTPS/WSS and SIP TLS alike).
// Kept as they are (a warning names each changed key): everything bound or built at start — listening
// addresses and ports (http, sip), media ports and engine, registrar store, turn, calls, security, log,
// cdr, api, shutdown, and switching http.tls on or off. Those take a restart.
// Some parts of users and trunks are also set up at start (upstream registrations, keep-alive probes, TLS
// client settings): the new values are used for routing at once, and a warning says they register anew
// only after a restart.
import type { GatewayConfig, TrunkConfig, UserConfig } from './schema.js';

/** Top-level keys a reload replaces. */
export const RELOADED_KEYS = ['users', 'routes', 'trunks', 'dialRules'] as const;

export interface ReloadPlan {
  /** The configuration to run: the new one, with every key that cannot change kept from the running one. */
  config: GatewayConfig;
  /** One line per change that was not applied or needs a restart, naming the key. */
  warnings: string[];
  /** Short summary of what changed (for the log line). */
  changed: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Pure: the running config `current` and a validated `next` → what runs after the reload. */
export function planReload(current: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const warnings: string[] = [];
  const changed: string[] = [];
  const merged: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(current), ...Object.keys(next)]) as Set<keyof GatewayConfig>;
  for (const key of keys) {
    const reloaded = (RELOADED_KEYS as readonly string[]).includes(key);
    if (reloaded) {
      merged[key] = next[key];
      if (!same(current[key], next[key])) changed.push(key);
    } else if (key === 'http') {
      merged.http = httpPart(current.http, next.http, warnings, changed);
    } else {
      if (current[key] !== undefined) merged[key] = current[key];
      if (!same(current[key], next[key])) warnings.push(`${key}: changed, kept as it was (takes a restart)`);
    }
  }
  warnings.push(...trunkWarnings(current.trunks, next.trunks), ...userWarnings(current.users, next.users));
  if (!same(current.dialRules.spendAlarm, next.dialRules.spendAlarm)) {
    warnings.push('dialRules.spendAlarm: the spend alarm keeps its old limits until a restart');
  }
  return { config: merged as GatewayConfig, warnings, changed };
}

/** http: only the certificate and key paths may change (the files are read again in any case). */
function httpPart(current: GatewayConfig['http'], next: GatewayConfig['http'], warnings: string[], changed: string[]): GatewayConfig['http'] {
  const { tls: oldTls, ...oldRest } = current;
  const { tls: newTls, ...newRest } = next;
  for (const key of Object.keys({ ...oldRest, ...newRest }) as Array<keyof typeof oldRest>) {
    if (!same(oldRest[key], newRest[key])) warnings.push(`http.${key}: changed, kept as it was (takes a restart)`);
  }
  if ((oldTls === undefined) !== (newTls === undefined)) {
    warnings.push(`http.tls: ${oldTls ? 'removed' : 'added'}, kept as it was (HTTPS on or off takes a restart)`);
    return current;
  }
  if (newTls) changed.push('http.tls');
  return { ...current, ...(newTls ? { tls: newTls } : {}) };
}

/** Trunk settings used at start: registration, keep-alive probe, TLS client. */
function trunkWarnings(before: readonly TrunkConfig[], after: readonly TrunkConfig[]): string[] {
  const out: string[] = [];
  after.forEach((t, i) => {
    const old = before.find((b) => b.name === t.name);
    const registrationOf = (x: TrunkConfig | undefined) => x && x.register ? [x.uri, x.username, x.password, x.registerExpires] : [];
    if (!same(registrationOf(old), registrationOf(t))) out.push(`trunks[${i}] (${t.name}).register: the trunk registration changes at the next restart`);
    if (old ? !same(old.keepalive, t.keepalive) : t.keepalive !== false) out.push(`trunks[${i}] (${t.name}).keepalive: the keep-alive probe changes at the next restart`);
    if (!same(old?.tls, t.tls)) out.push(`trunks[${i}] (${t.name}).tls: the TLS client settings change at the next restart`);
  });
  for (const old of before) {
    if (old.register && !after.some((t) => t.name === old.name)) out.push(`trunks: "${old.name}" removed: it stays registered until the next restart`);
  }
  return out;
}

/** A user's own PBX registration (users[].upstream) is made at start. */
function userWarnings(before: readonly UserConfig[], after: readonly UserConfig[]): string[] {
  const out: string[] = [];
  after.forEach((u, i) => {
    const old = before.find((b) => b.name === u.name);
    if (!same(old?.upstream, u.upstream)) out.push(`users[${i}] (${u.name}).upstream: the PBX registration changes at the next restart`);
  });
  return out;
}
