// Picking the credentials meant for us out of a request (RFC 3261 §22), for the registrar and the B2BUA.
import type { GatewayConfig } from '../../config/schema.js';
import { parseAuthValue } from '../auth/index.js';
import type { SipRequest } from '../message/types.js';

/** §22.3: "a proxy … MUST use the Proxy-Authorization header field value with the realm of that proxy";
 *  a request may carry several (one per realm): the one for our realm is picked, else the first.
 *  `header` is 'Authorization' (UAS/registrar, §22.2) or 'Proxy-Authorization' (§22.3). */
export function credentialsFor(req: SipRequest, realm: string, header: 'Authorization' | 'Proxy-Authorization'): string | undefined {
  const key = header.toLowerCase();
  const values = req.headers.filter((h) => h.name.toLowerCase() === key).map((h) => h.value);
  const ours = values.find((v) => {
    try {
      return parseAuthValue(v).params.realm === realm;
    } catch {
      return false;
    }
  });
  return ours ?? values[0];
}

/** A configured user's password by name; undefined for an unknown user. */
export function passwordLookup(config: GatewayConfig): (username: string) => string | undefined {
  return (username) => config.users.find((u) => u.name === username)?.password;
}

/** The digest realm: config.sip.realm ?? config.sip.domain ?? 'gateway'. */
export function realmOf(config: GatewayConfig): string {
  return config.sip.realm ?? config.sip.domain ?? 'gateway';
}
