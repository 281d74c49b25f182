// "Keep me signed in" without keeping the password: the page trades the user's password, once, for a
// device token — a digest user name of its own (`alice~<16 hex>`) and a random secret (256 bits) — and keeps
// only that. sip.js signs in with it as authorizationUsername/authorizationPassword; the registrar and the
// INVITE check (sip/ua/credentials.ts accountOf) act for the account it was issued to. The gateway keeps
// only the secret's digest HA1s (RFC 7616 §3.4.2: H(username:realm:secret), MD5 and SHA-256), never the
// secret; each token expires (30 days), a user holds at most 5 (the oldest goes), and it is revocable: by
// the page's Sign out, or all of a user's at once with the password. In memory: a restart revokes all
// (the page then shows the sign-in form again).
//
//   POST   /api/device-tokens           Basic with the user's own password  → 201 { username, token, expiresAt }
//   DELETE /api/device-tokens/current   Basic with the token itself         → 204 (that token revoked)
//   DELETE /api/device-tokens           Basic with the user's own password  → 200 { revoked } (all of them)
import { createHash, randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../log.js';
import type { UserSecret } from '../sip/auth/index.js';
import type { ExtraSecrets } from '../sip/ua/credentials.js';
import { parseBasicAuth } from './ice-servers.js';

export const TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
export const TOKENS_PER_USER = 5;
const SEPARATOR = '~';

interface Entry {
  account: string;
  secret: { ha1: { md5: string; sha256: string } };
  expiresAt: number;
  issuedAt: number;
}

export interface IssuedToken {
  username: string;
  token: string;
  expiresAt: number;
}

export interface DeviceTokenOptions {
  realm: string;
  /** Is this a configured account (a token is only issued to one, never to another token)? */
  isAccount: (name: string) => boolean;
  ttlMs?: number;
  maxPerUser?: number;
  now?: () => number;
}

const hex = (alg: 'md5' | 'sha256', text: string): string => createHash(alg).update(text, 'utf8').digest('hex');

export class DeviceTokens implements ExtraSecrets {
  readonly #o: Required<DeviceTokenOptions>;
  readonly #tokens = new Map<string, Entry>();

  constructor(o: DeviceTokenOptions) {
    this.#o = { ttlMs: TOKEN_TTL_MS, maxPerUser: TOKENS_PER_USER, now: Date.now, ...o };
  }

  issue(account: string): IssuedToken {
    if (!this.#o.isAccount(account)) throw new Error(`device token: ${account} is not an account`);
    this.#sweep();
    const mine = [...this.#tokens].filter(([, e]) => e.account === account).sort(([, a], [, b]) => a.issuedAt - b.issuedAt);
    for (const [name] of mine.slice(0, Math.max(0, mine.length - this.#o.maxPerUser + 1))) this.#tokens.delete(name);
    const username = `${account}${SEPARATOR}${randomBytes(8).toString('hex')}`;
    const token = randomBytes(32).toString('base64url');
    const a1 = `${username}:${this.#o.realm}:${token}`;
    const now = this.#o.now();
    const expiresAt = now + this.#o.ttlMs;
    this.#tokens.set(username, { account, secret: { ha1: { md5: hex('md5', a1), sha256: hex('sha256', a1) } }, expiresAt, issuedAt: now });
    return { username, token, expiresAt };
  }

  #live(username: string): Entry | undefined {
    const entry = this.#tokens.get(username);
    if (entry && entry.expiresAt <= this.#o.now()) {
      this.#tokens.delete(username);
      return undefined;
    }
    return entry;
  }

  secretFor(username: string): UserSecret | undefined {
    return this.#live(username)?.secret;
  }

  accountOf(username: string): string | undefined {
    return this.#live(username)?.account;
  }

  revoke(username: string): boolean {
    return this.#tokens.delete(username);
  }

  revokeAll(account: string): number {
    let n = 0;
    for (const [name, e] of this.#tokens) if (e.account === account && this.#tokens.delete(name)) n += 1;
    return n;
  }

  /** Live tokens of an account (user names and expiry only). */
  list(account: string): Array<{ username: string; expiresAt: number }> {
    this.#sweep();
    return [...this.#tokens].filter(([, e]) => e.account === account).map(([username, e]) => ({ username, expiresAt: e.expiresAt }));
  }

  #sweep(): void {
    for (const name of [...this.#tokens.keys()]) this.#live(name);
  }
}

export interface DeviceTokenRoutes {
  tokens: DeviceTokens;
  /** The lockout-wrapped password check (as /api/ice-servers uses): user name (or token name), secret, source IP. */
  checkPassword: (user: string, password: string, source: string) => boolean;
  logger: Logger;
}

/** The three endpoints above. Credentials only in the Authorization header; answers never cached. */
export function deviceTokenRouter(d: DeviceTokenRoutes): Router {
  const router = express.Router();
  /** The Basic credentials if they check out (and, with `account`, are an account's own password). */
  const authenticated = (req: Request, res: Response, account: boolean): { user: string } | undefined => {
    res.set('Cache-Control', 'no-store');
    const basic = parseBasicAuth(req.get('authorization'));
    const ok = basic !== undefined && d.checkPassword(basic.user, basic.password, req.socket.remoteAddress ?? '')
      && (d.tokens.accountOf(basic.user) === undefined) === account;
    if (!ok) {
      d.logger.info({ user: basic?.user, source: req.socket.remoteAddress }, 'device token: authentication failed');
      res.status(401).json({ error: account ? 'wrong user or password' : 'no such device token' });
      return undefined;
    }
    return { user: basic.user };
  };
  router.post('/', (req, res) => {
    const who = authenticated(req, res, true);
    if (!who) return;
    const issued = d.tokens.issue(who.user);
    d.logger.info({ user: who.user, token: issued.username }, 'device token issued');
    res.status(201).json(issued);
  });
  router.delete('/current', (req, res) => {
    const who = authenticated(req, res, false);
    if (!who) return;
    d.tokens.revoke(who.user);
    d.logger.info({ token: who.user }, 'device token revoked');
    res.status(204).end();
  });
  router.delete('/', (req, res) => {
    const who = authenticated(req, res, true);
    if (!who) return;
    const revoked = d.tokens.revokeAll(who.user);
    d.logger.info({ user: who.user, revoked }, 'device tokens revoked');
    res.json({ revoked });
  });
  return router;
}
