// Picking the credentials meant for us out of a request (RFC 3261 §22), for the registrar and the B2BUA.
import type { GatewayConfig } from '../../config/schema.js';
import { digestRealm } from '../../config/security.js';
import { userNamed } from '../../config/user-index.js';
import { parseAuthValue, parseChallenge, secretMatches, type UserSecret } from '../auth/index.js';
import type { SipRequest } from '../message/types.js';
import type { TransportKind } from '../transport/types.js';

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

/** Secrets beside the configured users' own: digest user names of their own that each stand for a
 *  configured account (the page's revocable per-device sign-in tokens, http/device-tokens.ts). */
export interface ExtraSecrets {
  /** The live secret of that user name; undefined when unknown, expired or revoked. */
  secretFor(username: string): UserSecret | undefined;
  /** The configured account that user name stands for (undefined as above). */
  accountOf(username: string): string | undefined;
}

const extraSecrets = new WeakMap<GatewayConfig, ExtraSecrets>();

/** Makes `source`'s user names authenticate for this config's registrar, calls and HTTP sign-in. */
export function addSecrets(config: GatewayConfig, source: ExtraSecrets): void {
  extraSecrets.set(config, source);
}

/** A configured user's secret (password, or stored HA1) by name — else an extra secret's (a configured
 *  user name is never shadowed); undefined for an unknown user. */
export function passwordLookup(config: GatewayConfig): (username: string) => UserSecret | undefined {
  return (username) => userNamed(config, username)?.password ?? extraSecrets.get(config)?.secretFor(username);
}

/** The configured account an authenticated digest user name acts for: itself for a configured user, the
 *  owner for a device token's name; undefined for anything else. */
export function accountOf(config: GatewayConfig, username: string): string | undefined {
  if (userNamed(config, username)) return username;
  return extraSecrets.get(config)?.accountOf(username);
}

/** Checks a user's plain password (HTTP Basic) against the configured secret, in constant time. */
export function passwordCheck(config: GatewayConfig): (username: string, password: string) => boolean {
  const lookup = passwordLookup(config);
  const realm = realmOf(config);
  return (username, password) => secretMatches(lookup(username), username, realm, password);
}

/** The digest realm: config.sip.realm ?? config.sip.domain ?? 'gateway'. */
export function realmOf(config: GatewayConfig): string {
  return digestRealm(config.sip);
}

function isMd5(challenge: string): boolean {
  try {
    return (parseChallenge(challenge).algorithm ?? 'MD5').toUpperCase() === 'MD5';
  } catch {
    return false;
  }
}

/** RFC 8760 §2.4 lists the challenges "in order of preference", and a UAC uses "the first one it supports".
 *  Our preference depends on who is challenged. Browsers (sip.js 0.21) keep the LAST challenge and only do
 *  MD5, so over WS/WSS the digest server's order (SHA-256, then MD5) stands. SIP phones over UDP/TCP/TLS
 *  predate RFC 8760 more often than not, and many (SIPp 3.6 among them) take the FIRST challenge and fail
 *  on an algorithm they do not know: for them MD5 comes first, as Kamailio and Asterisk challenge by
 *  default. The order depends on the transport alone, never on the user name, so it tells a scanner nothing.
 *  Used for REGISTER (401) and INVITE (407) alike. */
export function challengeOrder(transport: TransportKind, challenges: string[]): string[] {
  if (transport === 'ws' || transport === 'wss') return challenges;
  return [...challenges.filter(isMd5), ...challenges.filter((c) => !isMd5(c))];
}
