// The security layer (README "Security"), put together for buildGateway: the transport's admit/screen
// hooks, the transaction layer as the TU sees it (authentication lockout), one close().
import { createTrunkAcl } from '../call/trunk-acl.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { Flow } from '../sip/transport/types.js';
import { passwordLookup, realmOf } from '../sip/ua/credentials.js';
import { watchAuthentication } from './auth-watch.js';
import { createSecurityGuard, type SecurityGuard } from './guard.js';

export { createSecurityGuard, logSafe, sourceIp } from './guard.js';
export type { AuthFailure, GuardOptions, SecurityGuard } from './guard.js';
export { watchAuthentication } from './auth-watch.js';

export interface Security {
  /** TransportOptions.admit and .screen. */
  admit: SecurityGuard['admit'];
  screen: SecurityGuard['screen'];
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
  return {
    admit: guard.admit,
    screen: guard.screen,
    watch: (layer) => watchAuthentication(layer, { guard, realm: realmOf(o.config), lookup: passwordLookup(o.config) }),
    close() {
      guard.close();
      own?.close();
    },
  };
}
