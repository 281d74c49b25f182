// One self-signed ECDSA P-256 certificate per engine; its SHA-256 fingerprint goes into every SDP
// (RFC 8122 §5: a=fingerprint:sha-256 <upper-case hex pairs separated by colons>).
import { createHash, X509Certificate } from 'node:crypto';
import { CipherContext, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm } from 'werift';

export interface DtlsCertificate {
  certPem: string;
  keyPem: string;
  signatureHash: { signature: number; hash: number };
  /** 'AB:CD:…' SHA-256 of the DER certificate. */
  fingerprint: string;
}

export async function createDtlsCertificate(): Promise<DtlsCertificate> {
  const { certPem, keyPem, signatureHash } = await CipherContext.createSelfSignedCertificateWithKey(
    { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  const der = new X509Certificate(certPem).raw;
  return { certPem, keyPem, signatureHash, fingerprint: fingerprintOf(der) };
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
