// The security layer (README "Security"), put together for buildGateway: the transport's admit/screen
// hooks, the transaction layer as the TU sees it (authentication lockout), one close().
import { createTrunkAcl } from '../call/trunk-acl.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { Flow } from '../sip/transport/types.js';
import { passwordLookup, realmOf } from '../sip/ua/credentials.js';
import { watchAuthentication } from './auth-watch.js';
import { createSecurityGuard, sourceIp, type AuthFailure, type SecurityGuard } from './guard.js';

export { createSecurityGuard, logSafe, sourceIp } from './guard.js';
export type { AuthFailure, GuardOptions, SecurityGuard } from './guard.js';
export { watchAuthentication } from './auth-watch.js';

export interface Security {
  /** TransportOptions.admit, .screenRaw and .screen. */
  admit: SecurityGuard['admit'];
  screenRaw: SecurityGuard['screenRaw'];
  screen: SecurityGuard['screen'];
  /** A password check (user, password) with the lockout around it, for HTTP Basic sign-in: a locked source
   *  or user is refused whatever the password; a wrong one is logged and counted (method=HTTP). */
  checkPassword(check: (user: string, password: string) => boolean): (user: string, password: string, source: string) => boolean;
  /** `listener(ip)` each time a source is banned: buildGateway closes its open TCP/TLS/WS connections. */
  onBan(listener: (ip: string) => void): void;
  /** `listener(failure)` for each failed authentication, SIP or the page's sign-in (metrics). */
  onAuthFailure(listener: (failure: AuthFailure) => void): void;
  /** The transaction layer with the authentication lockout in front of the TU. */
  watch(layer: TransactionLayer): TransactionLayer;
  close(): void;
}

export interface SecurityOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Which flows come from a trunk (exempt from the rate limit and the ban): the gateway's trunk ACL
   *  (gateway/call/trunk-acl.ts); default one of our own, closed with the rest. */
  trunks?: { trunkFor(flow: Flow): unknown };
  now?: () => number;
}

export function startSecurity(o: SecurityOptions): Security {
  const own = o.trunks ? undefined : createTrunkAcl({ trunks: o.config.trunks, logger: o.logger });
  const trunks = o.trunks ?? own!;
  const guard = createSecurityGuard({
    security: o.config.security,
    logger: o.logger,
    exempt: (flow) => trunks.trunkFor(flow) !== undefined,
    now: o.now,
  });
  const lookup = passwordLookup(o.config);
  const checkPassword: Security['checkPassword'] = (check) => (user, password, source) => {
    const ip = sourceIp(source);
    const known = lookup(user) !== undefined;
    // Checked even while locked: the same work (and time) as any other attempt.
    const ok = check(user, password);
    const reason = guard.authLocked(ip, known ? user : undefined) ? 'locked' : ok ? undefined : known ? 'wrong-password' : 'unknown-user';
    if (reason !== undefined) guard.authFailed({ user, source: ip, method: 'HTTP', reason }, known);
    return reason === undefined;
  };
  return {
    checkPassword,
    admit: guard.admit,
    screenRaw: guard.screenRaw,
    screen: guard.screen,
    onBan: guard.onBan,
    onAuthFailure: (listener) => guard.onAuthFailure?.(listener),
    watch: (layer) => watchAuthentication(layer, { guard, realm: realmOf(o.config), lookup }),
    close() {
      guard.close();
      own?.close();
    },
  };
}
