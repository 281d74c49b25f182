// Digest challenge/credentials model and the response computation (RFC 2617 §3.2.2, RFC 7616 §3.4,
// RFC 8760 for SIP: "SHA-256" and "SHA-512-256" alongside "MD5").
import { createHash } from 'node:crypto';
import { DigestParseError, formatAuthValue, parseAuthValue, type AuthParam } from './params.js';

/** RFC 7616 §6.1 algorithm names this module can compute. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

const NODE_HASH: Record<string, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** Canonical algorithm name (RFC 7616 §3.3: compared case-insensitively), or undefined if unsupported. */
export function normalizeAlgorithm(name: string | undefined): DigestAlgorithm | undefined {
  // RFC 7616 §3.3: "If this is not present, it is assumed to be "MD5"."
  const upper = (name ?? 'MD5').toUpperCase();
  const sess = upper.endsWith('-SESS');
  const base = sess ? upper.slice(0, -5) : upper;
  if (!(base in NODE_HASH)) return undefined;
  return (sess ? `${base}-sess` : base) as DigestAlgorithm;
}

/** WWW-Authenticate / Proxy-Authenticate (RFC 3261 §20.27, §20.44). */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** As sent; undefined means MD5. */
  algorithm?: string;
  /** qop-options, e.g. ['auth'] or ['auth', 'auth-int']; undefined for RFC 2069 style. */
  qop?: string[];
  opaque?: string;
  stale: boolean;
  domain?: string;
}

/** Authorization / Proxy-Authorization (RFC 3261 §20.7, §20.28). */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  cnonce?: string;
  opaque?: string;
  qop?: string;
  nc?: string;
}

function requireParam(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined) throw new DigestParseError(`missing "${name}" parameter`);
  return v;
}

function requireDigestScheme(scheme: string): void {
  if (scheme.toLowerCase() !== 'digest') throw new DigestParseError(`unsupported auth scheme "${scheme}"`);
}

export function parseChallenge(value: string): DigestChallenge {
  const { scheme, params } = parseAuthValue(value);
  requireDigestScheme(scheme);
  const qop = params.qop?.split(',').map((q) => q.trim().toLowerCase()).filter((q) => q !== '');
  return {
    realm: requireParam(params, 'realm'),
    nonce: requireParam(params, 'nonce'),
    algorithm: params.algorithm,
    qop,
    opaque: params.opaque,
    // RFC 7616 §3.3: stale is case-insensitive "true"
    stale: params.stale?.toLowerCase() === 'true',
    domain: params.domain,
  };
}

export function parseCredentials(value: string): DigestCredentials {
  const { scheme, params } = parseAuthValue(value);
  requireDigestScheme(scheme);
  return {
    username: requireParam(params, 'username'),
    realm: requireParam(params, 'realm'),
    nonce: requireParam(params, 'nonce'),
    uri: requireParam(params, 'uri'),
    response: requireParam(params, 'response'),
    algorithm: params.algorithm,
    cnonce: params.cnonce,
    opaque: params.opaque,
    qop: params.qop,
    nc: params.nc,
  };
}

export function formatChallenge(c: DigestChallenge): string {
  const p: AuthParam[] = [['realm', c.realm, 'quoted']];
  if (c.domain !== undefined) p.push(['domain', c.domain, 'quoted']);
  p.push(['nonce', c.nonce, 'quoted']);
  if (c.opaque !== undefined) p.push(['opaque', c.opaque, 'quoted']);
  if (c.stale) p.push(['stale', 'TRUE', 'token']);
  if (c.algorithm !== undefined) p.push(['algorithm', c.algorithm, 'token']);
  // RFC 3261 §25.1: qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT
  if (c.qop !== undefined) p.push(['qop', c.qop.join(','), 'quoted']);
  return formatAuthValue('Digest', p);
}

export function formatCredentials(c: DigestCredentials): string {
  const p: AuthParam[] = [
    ['username', c.username, 'quoted'],
    ['realm', c.realm, 'quoted'],
    ['nonce', c.nonce, 'quoted'],
    ['uri', c.uri, 'quoted'],
    ['response', c.response, 'quoted'],
  ];
  if (c.algorithm !== undefined) p.push(['algorithm', c.algorithm, 'token']);
  if (c.cnonce !== undefined) p.push(['cnonce', c.cnonce, 'quoted']);
  if (c.opaque !== undefined) p.push(['opaque', c.opaque, 'quoted']);
  // RFC 3261 §25.1: message-qop = "qop" EQUAL qop-value (a token); nonce-count = "nc" EQUAL 8LHEX
  if (c.qop !== undefined) p.push(['qop', c.qop, 'token']);
  if (c.nc !== undefined) p.push(['nc', c.nc, 'token']);
  return formatAuthValue('Digest', p);
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  /** The password; or, instead, `ha1`: the stored H(username:realm:password) (RFC 7616 §3.4.2). */
  password?: string;
  ha1?: string;
  method: string;
  uri: string;
  nonce: string;
  /** undefined → RFC 2069 compatibility (no qop). */
  qop?: 'auth' | 'auth-int';
  /** 8 hex digits. Required with qop. */
  nc?: string;
  /** Required with qop or a -sess algorithm. */
  cnonce?: string;
  /** Entity body for auth-int. */
  body?: Buffer;
}

function hasher(algorithm: DigestAlgorithm): (data: string | Buffer) => string {
  const name = NODE_HASH[algorithm.replace(/-sess$/, '')]!;
  return (data) => createHash(name).update(data).digest('hex');
}

/** The request-digest (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1). */
export function computeDigestResponse(d: DigestInput): string {
  const H = hasher(d.algorithm);
  // RFC 7616 §3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd
  if (d.ha1 === undefined && d.password === undefined) throw new DigestParseError('a digest needs a password or an HA1');
  let ha1 = d.ha1 ?? H(`${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) {
    // RFC 7616 §3.4.2: for -sess, A1 = H(unq(username):unq(realm):passwd) ":" unq(nonce-prime) ":" unq(cnonce-prime)
    if (d.cnonce === undefined) throw new DigestParseError('a -sess algorithm needs a cnonce');
    ha1 = H(`${ha1}:${d.nonce}:${d.cnonce}`);
  }
  // RFC 7616 §3.4.3: A2 = Method ":" request-uri  (auth-int adds ":" H(entity-body))
  const a2 = d.qop === 'auth-int' ? `${d.method}:${d.uri}:${H(d.body ?? Buffer.alloc(0))}` : `${d.method}:${d.uri}`;
  const ha2 = H(a2);
  if (d.qop === undefined) {
    // RFC 2617 §3.2.2.1: request-digest = KD(H(A1), unq(nonce-value) ":" H(A2))  (RFC 2069 compatibility)
    return H(`${ha1}:${d.nonce}:${ha2}`);
  }
  if (d.nc === undefined || d.cnonce === undefined) throw new DigestParseError('qop needs nc and cnonce');
  // RFC 7616 §3.4.1: response = <"> < KD ( H(A1), unq(nonce) ":" nc ":" unq(cnonce) ":" unq(qop) ":" H(A2) ) <">
  return H(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
}
