// One self-signed ECDSA P-256 certificate per engine; its SHA-256 fingerprint goes into every SDP
// (RFC 8122 §5: a=fingerprint:sha-256 <upper-case hex pairs separated by colons>).
// Built with node:crypto (x509.ts): the DTLS library (werift) is loaded only with the first browser call.
import { createHash } from 'node:crypto';
import { selfSignedEcdsaP256 } from './x509.js';

/** RFC 5246 §7.4.1.4.1 SignatureAndHashAlgorithm: ecdsa(3) with sha256(4) — what the key signs with. */
const ECDSA_SHA256 = { signature: 3, hash: 4 } as const;

export interface DtlsCertificate {
  certPem: string;
  keyPem: string;
  signatureHash: { signature: number; hash: number };
  /** 'AB:CD:…' SHA-256 of the DER certificate. */
  fingerprint: string;
}

export async function createDtlsCertificate(): Promise<DtlsCertificate> {
  const { der, certPem, keyPem } = selfSignedEcdsaP256('webphone-gateway');
  return { certPem, keyPem, signatureHash: { ...ECDSA_SHA256 }, fingerprint: fingerprintOf(der) };
}

/** RFC 8122 §5 fingerprint of a DER certificate: SHA-256, upper-case hex pairs joined by ':'. */
export function fingerprintOf(der: Buffer): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** Compare fingerprints ignoring case and separators (RFC 8122 §5: hex is case-insensitive). */
export function sameFingerprint(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/:/g, '').toLowerCase();
  return norm(a).length > 0 && norm(a) === norm(b);
}
