// Who is calling: an INVITE is digest-authenticated like a proxy would (RFC 3261 §22.3: 407 with
// Proxy-Authenticate, answered with Proxy-Authorization). An unauthenticated INVITE never reaches a trunk.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DigestServer } from '../sip/auth/index.js';
import { accountOf, challengeOrder, credentialsFor, passwordLookup } from '../sip/ua/credentials.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { challengeStatelessly } from '../sip/ua/challenge.js';
import { userNamed } from '../config/user-index.js';

/** The authenticated user, or undefined after answering 407 (wrong password and unknown user alike). */
export function authenticateInvite(
  req: SipRequest,
  tx: ServerTransaction,
  deps: { config: GatewayConfig; digest: DigestServer; logger: Logger },
): UserConfig | undefined {
  const credentials = credentialsFor(req, deps.digest.realm, 'Proxy-Authorization');
  const result = deps.digest.verify(req.method, req.uri, credentials, passwordLookup(deps.config));
  // A device token's digest user name (http/device-tokens.ts) calls as the account it was issued to.
  if (result.ok) {
    const account = accountOf(deps.config, result.username);
    return account === undefined ? undefined : userNamed(deps.config, account);
  }
  deps.logger.debug({ reason: result.reason }, 'INVITE challenged');
  // §22.3: "the proxy … MUST respond with 407 (Proxy Authentication Required) … including a
  // Proxy-Authenticate header field value applicable to the proxy for the requested resource."
  // Stateless and once (sip/ua/challenge.ts): an unauthenticated INVITE keeps no server transaction.
  const challenges = challengeOrder(tx.flow.transport, deps.digest.challenge({ stale: result.stale }));
  challengeStatelessly(tx, 407, 'Proxy-Authenticate', challenges);
  return undefined;
}
