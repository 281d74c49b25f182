// Who may use the operator endpoints (/metrics, /api/cdrs; later the whole /api, issue 11 item 4):
// with api.token configured, a request carrying `Authorization: Bearer <token>` (from anywhere, compared
// in constant time); without one, only clients on the loopback interface (127.0.0.0/8, ::1).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** true when `header` is `Bearer <token>` with the configured token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

/** The decision for one request: undefined (allowed) or the status and text to answer. */
export function operatorAccess(token: string | undefined, remote: string | undefined, authorization: string | undefined): { status: 401 | 403; text: string } | undefined {
  if (token !== undefined) return bearerMatches(authorization, token) ? undefined : { status: 401, text: 'a bearer token (api.token) is required' };
  return isLoopback(remote) ? undefined : { status: 403, text: 'loopback only: configure api.token to allow other addresses' };
}

/** Express middleware for an operator endpoint. `token` is read per request (a reload may change it). */
export function requireOperator(token: () => string | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const refused = operatorAccess(token(), req.socket.remoteAddress, req.headers.authorization);
    if (!refused) return next();
    if (refused.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="webphone-gateway"');
    res.status(refused.status).type('text/plain').send(refused.text);
  };
}
