// Server side of digest (RFC 3261 §22.1/§22.3, RFC 7616 §3.3/§3.4, RFC 8760 §2.4): issue challenges with
// stateless nonces, verify credentials with replay protection and no user enumeration.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { computeDigestResponse, formatChallenge, normalizeAlgorithm, parseCredentials, type DigestAlgorithm, type DigestCredentials } from './digest.js';
import { NonceCountTracker, issueNonce, nonceIssuedAt } from './nonce.js';
import { DigestParseError } from './params.js';
import { storedHa1, type UserSecret } from './secret.js';

/** Algorithms a server may offer (the -sess variants are not offered). */
export type ServerAlgorithm = 'SHA-256' | 'MD5' | 'SHA-512-256';

export interface DigestServerOptions {
  realm: string;
  /** HMAC key for nonces; random per process by default (nonces then die with the process). */
  secret?: Buffer;
  nonceTtlMs?: number;
  /** Most preferred first (RFC 8760 §2.4). */
  algorithms?: ServerAlgorithm[];
  now?: () => number;
  /** Bound on the nonce-count replay table. */
  maxTrackedNonces?: number;
}

export type VerifyResult =
  | { ok: true; username: string; algorithm: DigestAlgorithm }
  | { ok: false; stale: boolean; reason: string };

export interface DigestServer {
  readonly realm: string;
  /** One WWW-/Proxy-Authenticate value per algorithm, most preferred first, sharing one fresh nonce. */
  challenge(opts?: { stale?: boolean }): string[];
  /** Checks an Authorization / Proxy-Authorization value.
   *  `method` and `requestUri` are the request's method and Request-URI text; the digest `uri` parameter
   *  must equal `requestUri` exactly (RFC 3261 §22.4 makes them the same string).
   *  `lookupPassword` returns the user's password or stored HA1 (secret.ts), or undefined for an unknown
   *  user — which costs the same work and yields the same failure as a wrong password. */
  verify(
    method: string,
    requestUri: string,
    authorization: string | undefined,
    lookupPassword: (username: string) => UserSecret | undefined,
  ): VerifyResult;
}

const DUMMY_PASSWORD = randomBytes(16).toString('hex');
const BAD_CREDENTIALS = 'bad credentials';

function fail(reason: string, stale = false): VerifyResult {
  return { ok: false, stale, reason };
}

function hexEqual(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createDigestServer(opts: DigestServerOptions): DigestServer {
  const realm = opts.realm;
  const secret = opts.secret ?? randomBytes(32);
  const ttl = opts.nonceTtlMs ?? 300_000;
  const algorithms = opts.algorithms ?? ['SHA-256', 'MD5'];
  const now = opts.now ?? Date.now;
  const tracker = new NonceCountTracker(opts.maxTrackedNonces ?? 10_000);
  if (algorithms.length === 0) throw new Error('digest server needs at least one algorithm');

  function challenge(o: { stale?: boolean } = {}): string[] {
    const nonce = issueNonce(secret, realm, now());
    return algorithms.map((algorithm) =>
      formatChallenge({ realm, nonce, algorithm, qop: ['auth'], stale: o.stale === true }),
    );
  }

  /** Syntactic checks of the credentials against what we issued; returns a failure reason or the
   *  algorithm and parsed nonce-count. */
  function precheck(c: DigestCredentials, requestUri: string): string | { algorithm: DigestAlgorithm; nc: number } {
    if (c.realm !== realm) return `realm mismatch: "${c.realm}"`;
    const algorithm = normalizeAlgorithm(c.algorithm);
    if (!algorithm || !(algorithms as string[]).includes(algorithm)) {
      return `unsupported algorithm "${c.algorithm ?? 'MD5'}"`;
    }
    // RFC 7616 §3.4: qop "MUST be one of the alternatives the server indicated"; we offer only "auth".
    if (c.qop?.toLowerCase() !== 'auth') return 'qop=auth required';
    if (c.nc === undefined || !/^[0-9a-fA-F]{8}$/.test(c.nc)) return 'nc must be 8 hex digits';
    if (!c.cnonce) return 'cnonce required with qop=auth';
    if (c.uri !== requestUri) return 'digest uri does not match the Request-URI';
    return { algorithm, nc: parseInt(c.nc, 16) };
  }

  function verify(
    method: string,
    requestUri: string,
    authorization: string | undefined,
    lookupPassword: (username: string) => UserSecret | undefined,
  ): VerifyResult {
    if (authorization === undefined) return fail('no credentials');
    let c: DigestCredentials;
    try {
      c = parseCredentials(authorization);
    } catch (e) {
      return fail(e instanceof DigestParseError ? e.reason : 'malformed credentials');
    }
    const pre = precheck(c, requestUri);
    if (typeof pre === 'string') return fail(pre);
    const issuedAt = nonceIssuedAt(secret, realm, c.nonce);
    if (issuedAt === undefined) return fail('nonce not issued by this server');
    const stored = lookupPassword(c.username);
    // RFC 7616 §3.4.2: a stored HA1 stands in for H(username:realm:password). A user whose HA1 for this
    // algorithm is not stored, like an unknown user, is hashed against a dummy password and fails like a
    // bad password (no user enumeration).
    const ha1 = storedHa1(stored, pre.algorithm);
    const known = typeof stored === 'string' || ha1 !== undefined;
    const expected = computeDigestResponse({
      algorithm: pre.algorithm, username: c.username, realm, ...(ha1 !== undefined ? { ha1 } : { password: typeof stored === 'string' ? stored : DUMMY_PASSWORD }),
      method, uri: c.uri, nonce: c.nonce, qop: 'auth', nc: c.nc, cnonce: c.cnonce,
    });
    const match = hexEqual(expected, c.response);
    if (!match || !known) return fail(BAD_CREDENTIALS);
    const t = now();
    // RFC 7616 §3.3 stale: "the nonce value was stale" while the digest was valid → retry without reprompting.
    if (t - issuedAt > ttl) return fail('nonce expired', true);
    const verdict = tracker.accept(c.nonce, pre.nc, issuedAt, issuedAt + ttl, t);
    // A replayed nonce count with a digest that matches the password is no guess: the client knows the
    // password (sip.js re-sends a nonce count after a page reload or at sign-out) or is replaying a captured
    // request, which cannot compute an answer to a new nonce. Answer stale=true (RFC 7616 §3.3: retry with a
    // new nonce "without re-prompting the user"), so it is not counted as a failed authentication.
    if (verdict === 'replay') return fail('nonce count replayed', true);
    if (verdict === 'forgotten') return fail('nonce state no longer tracked', true);
    return { ok: true, username: c.username, algorithm: pre.algorithm };
  }

  return { realm, challenge, verify };
}
