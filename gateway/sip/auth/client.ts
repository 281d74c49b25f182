// Client side of digest: answer a 401/407 challenge (RFC 3261 §22.2, §22.3; RFC 7616 §3.4; RFC 8760).
import { randomBytes } from 'node:crypto';
import { computeDigestResponse, formatCredentials, normalizeAlgorithm, parseChallenge, type DigestAlgorithm } from './digest.js';
import { DigestParseError } from './params.js';

export interface AnswerChallengeOptions {
  /** The WWW-Authenticate / Proxy-Authenticate header value. */
  challenge: string;
  username: string;
  password: string;
  method: string;
  /** The Request-URI of the request being authorized (RFC 3261 §22.4: digest-uri = Request-URI). */
  uri: string;
  /** Entity body; only used when the server offers only qop=auth-int. */
  body?: Buffer;
  /** Nonce count for this nonce (1 for the first request); formatted as 8 hex digits. */
  nc?: number;
  cnonce?: string;
}

/** Builds the Authorization / Proxy-Authorization value answering `challenge`.
 *  Throws DigestParseError (with a reason) for a malformed challenge or an unsupported algorithm. */
export function answerChallenge(o: AnswerChallengeOptions): string {
  const ch = parseChallenge(o.challenge);
  const algorithm = normalizeAlgorithm(ch.algorithm);
  if (!algorithm) throw new DigestParseError(`unsupported digest algorithm "${ch.algorithm}"`);
  const qop = chooseQop(ch.qop);
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  if (!/^[0-9a-f]{8}$/.test(nc)) throw new DigestParseError(`nonce count out of range: ${o.nc}`);
  const needsCnonce = qop !== undefined || algorithm.endsWith('-sess');
  const cnonce = needsCnonce ? (o.cnonce ?? randomBytes(12).toString('hex')) : undefined;
  const response = computeDigestResponse({
    algorithm,
    username: o.username,
    realm: ch.realm,
    password: o.password,
    method: o.method,
    uri: o.uri,
    nonce: ch.nonce,
    qop,
    nc: qop ? nc : undefined,
    cnonce,
    body: o.body,
  });
  return formatCredentials({
    username: o.username,
    realm: ch.realm,
    nonce: ch.nonce,
    uri: o.uri,
    response,
    // RFC 7616 §3.4: echo the algorithm the server named (absent stays absent, meaning MD5)
    algorithm: ch.algorithm === undefined ? undefined : algorithm,
    cnonce,
    opaque: ch.opaque,
    qop,
    nc: qop ? nc : undefined,
  });
}

/** RFC 7616 §3.3 qop-options: prefer "auth"; "auth-int" only when that is all that is offered. */
function chooseQop(offered: string[] | undefined): 'auth' | 'auth-int' | undefined {
  if (offered === undefined) return undefined; // RFC 2069 compatibility mode
  if (offered.includes('auth')) return 'auth';
  // auth-int with no body hashes the empty entity (RFC 3261 §22.4: "H(entity-body)" of an empty body).
  if (offered.includes('auth-int')) return 'auth-int';
  throw new DigestParseError(`no supported qop in "${offered.join(',')}"`);
}

/** RFC 8760 §2.4 / RFC 7616 §3.7: preference when a server offers several algorithms. */
const PREFERENCE: Record<DigestAlgorithm, number> = {
  'SHA-512-256': 6,
  'SHA-512-256-sess': 5,
  'SHA-256': 4,
  'SHA-256-sess': 3,
  'MD5': 2,
  'MD5-sess': 1,
};

/** Picks the challenge with the strongest supported algorithm (SHA-256 over MD5); unparseable or
 *  unsupported values are skipped. Returns undefined when none can be answered. */
export function pickBestChallenge(challenges: readonly string[]): string | undefined {
  let best: { value: string; rank: number } | undefined;
  for (const value of challenges) {
    let algorithm: DigestAlgorithm | undefined;
    try {
      algorithm = normalizeAlgorithm(parseChallenge(value).algorithm);
    } catch {
      continue;
    }
    if (!algorithm) continue;
    const rank = PREFERENCE[algorithm];
    if (!best || rank > best.rank) best = { value, rank };
  }
  return best?.value;
}
