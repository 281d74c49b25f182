// GET /api/ice-servers: the page asks at sign-in which ICE servers to use, authenticating with the gateway
// user's own name and password (HTTP Basic, RFC 7617); it gets short-lived TURN credentials (turn-credentials.ts).
import type { Request, RequestHandler, Response } from 'express';
import type { TurnConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { iceServersFor } from './turn-credentials.js';

export interface IceServersDeps {
  turn: TurnConfig | undefined;
  /** Does this user have this password? Constant time, unknown users included (sip/ua/credentials.ts
   *  passwordCheck: a plain password, or one checked against the stored HA1), from this source IP (the
   *  security layer's lockout: a locked source or user is refused, failures are counted). */
  checkPassword: (user: string, password: string, source: string) => boolean;
  logger: Logger;
  now?: () => number;
}

/** RFC 7617 §2: credentials = "Basic" 1*SP token68, the token being base64(user-id ":" password); the
 *  user-id cannot contain a colon, so the first one splits. §2.1 charset "UTF-8" is what browsers send. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic +([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function sourceOf(req: Request): string {
  return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}

/** The page's sign-in to an HTTP endpoint as the user (this one and GET /api/me/calls, api/me.ts): Basic
 *  credentials checked by `checkPassword` (the user's password or stored HA1, or a device token's secret;
 *  a failure counts toward the lockout). `user` is the name as sent, also when the check failed. */
export function basicSignIn(req: Request, checkPassword: IceServersDeps['checkPassword']): { ok: boolean; user?: string } {
  const basic = parseBasicAuth(req.get('authorization'));
  if (!basic) return { ok: false };
  return { ok: checkPassword(basic.user, basic.password, req.socket.remoteAddress ?? ''), user: basic.user };
}

/** The answer to a failed sign-in: 401 with a JSON error, logged at info with the source (never the password). */
export function refuseSignIn(req: Request, res: Response, logger: Logger, what: string, user: string | undefined): void {
  // No WWW-Authenticate: Basic (RFC 7235 §3.1 asks for one, but it makes browsers pop up their own
  // password dialog over the page); the page shows its own sign-in error instead.
  logger.info({ source: sourceOf(req), user }, `${what}: authentication failed`);
  res.status(401).json({ error: 'wrong user or password' });
}

export function iceServersHandler(deps: IceServersDeps): RequestHandler {
  const now = deps.now ?? Date.now;
  return (req, res) => {
    // Credentials (and whatever the response is) must not be kept by any cache (RFC 9111 §5.2.2.5).
    res.set('Cache-Control', 'no-store');
    const who = basicSignIn(req, deps.checkPassword);
    if (!who.ok || who.user === undefined) return refuseSignIn(req, res, deps.logger, 'ice-servers', who.user);
    res.json(iceServersFor(deps.turn, who.user, now()));
  };
}
