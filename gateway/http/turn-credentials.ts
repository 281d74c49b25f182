// Short-lived TURN credentials from a secret shared with the TURN server: the "TURN REST API"
// (draft-uberti-behave-turn-rest-00), which coturn implements with `use-auth-secret` + `static-auth-secret`.
// The browser gets a username/credential pair that expires on its own; the shared secret never leaves here.
import { createHmac } from 'node:crypto';
import type { TurnConfig } from '../config/schema.js';

export interface TurnCredential {
  /** draft-uberti-behave-turn-rest-00 §2.2: "the username … is a colon-delimited combination of the
   *  expiration timestamp and the username parameter from the request". */
  username: string;
  /** §2.2: "password = base64(HMAC(secret key, username))" — HMAC-SHA1, as coturn computes it. */
  credential: string;
  /** Unix time (seconds) after which the TURN server refuses the credential. */
  expiresAt: number;
}

export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** What GET /api/ice-servers answers (an RTCConfiguration.iceServers list and the credential lifetime). */
export interface IceServersResponse {
  iceServers: IceServer[];
  ttl: number;
}

/** §2.2: the TURN REST password for `username` is base64(HMAC-SHA1(secret, username)). */
export function turnRestPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/** A credential for `user` valid `ttlSeconds` from `nowMs` (§2.2: "the timestamp … is the time when the
 *  credentials will expire", in seconds since the Unix epoch). */
export function mintTurnCredential(secret: string, user: string, ttlSeconds: number, nowMs: number): TurnCredential {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiresAt}:${user}`;
  return { username, credential: turnRestPassword(secret, username), expiresAt };
}

/** The ICE servers for a signed-in gateway user: none without a `turn` section. */
export function iceServersFor(turn: TurnConfig | undefined, user: string, nowMs: number): IceServersResponse {
  if (!turn) return { iceServers: [], ttl: 0 };
  const { username, credential } = mintTurnCredential(turn.secret, user, turn.ttl, nowMs);
  return { iceServers: [{ urls: [...turn.urls], username, credential }], ttl: turn.ttl };
}
