// Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760).
export { DigestParseError, parseAuthValue, formatAuthValue, quoteString } from './params.js';
export type { AuthValue, AuthParam } from './params.js';
export {
  parseChallenge,
  parseCredentials,
  formatChallenge,
  formatCredentials,
  computeDigestResponse,
  normalizeAlgorithm,
} from './digest.js';
export type { DigestAlgorithm, DigestChallenge, DigestCredentials, DigestInput } from './digest.js';
export { answerChallenge, pickBestChallenge } from './client.js';
export type { AnswerChallengeOptions } from './client.js';
export { createDigestServer } from './server.js';
export { secretMatches, storedHa1 } from './secret.js';
export type { StoredHa1, UserSecret } from './secret.js';
export type { DigestServer, DigestServerOptions, ServerAlgorithm, VerifyResult } from './server.js';
