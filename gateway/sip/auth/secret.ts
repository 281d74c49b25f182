// What a server keeps of a user's password: the password itself, or its digest HA1 per algorithm
// (RFC 7616 §3.4.2: "A1 = unq(username) ":" unq(realm) ":" passwd" — and its hash H(A1) may be stored in place
// of the password; it is bound to the realm it was made for).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DigestAlgorithm } from './digest.js';

/** HA1 per base algorithm, lower- or upper-case hex. */
export interface StoredHa1 {
  md5?: string;
  sha256?: string;
}

export type UserSecret = string | { ha1: StoredHa1 };

const DUMMY_PASSWORD = randomBytes(16).toString('hex');

/** The stored HA1 for a (non -sess or -sess) algorithm, lower case; undefined for a plain password or an
 *  algorithm whose HA1 was not stored. */
export function storedHa1(secret: UserSecret | undefined, algorithm: DigestAlgorithm): string | undefined {
  if (secret === undefined || typeof secret === 'string') return undefined;
  const base = algorithm.replace(/-sess$/, '');
  const value = base === 'MD5' ? secret.ha1.md5 : base === 'SHA-256' ? secret.ha1.sha256 : undefined;
  return value?.toLowerCase();
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** A plain password (HTTP Basic) against a secret, in constant time: both sides are hashed to equal-length
 *  digests, and an unknown user is checked against a dummy, so neither length nor existence shows. With a
 *  stored HA1 the given password is turned into H(username:realm:password) first. */
export function secretMatches(secret: UserSecret | undefined, username: string, realm: string, password: string): boolean {
  let given = password;
  let expected = DUMMY_PASSWORD;
  if (typeof secret === 'string') {
    expected = secret;
  } else if (secret !== undefined) {
    const [alg, stored] = secret.ha1.sha256 !== undefined ? ['sha256', secret.ha1.sha256] : ['md5', secret.ha1.md5 ?? DUMMY_PASSWORD];
    given = createHash(alg).update(`${username}:${realm}:${password}`, 'utf8').digest('hex');
    expected = stored.toLowerCase();
  }
  return timingSafeEqual(sha256(given), sha256(expected)) && secret !== undefined;
}
