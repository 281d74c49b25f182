// The DTLS certificate built with node:crypto (dtls/x509.ts) and the on-demand DTLS library
// (dtls/session.ts): a session made before werift is loaded keeps the peer's early records and completes.
import { X509Certificate, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { selfSignedEcdsaP256 } from '../../../gateway/media/dtls/x509.js';
import { createDtlsCertificate, fingerprintOf } from '../../../gateway/media/dtls/certificate.js';
import { createLogger } from '../../../gateway/log.js';
import type { DtlsKeys, DtlsSession } from '../../../gateway/media/dtls/session.js';

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('self-signed ECDSA P-256 certificate (node:crypto, RFC 5280)', () => {
  it('parses, is self-issued and verifies with its own key', () => {
    const now = new Date('2030-06-01T12:00:00Z');
    const c = selfSignedEcdsaP256('webphone-gateway', 3650, now);
    const x = new X509Certificate(c.certPem);
    expect(x.raw.equals(c.der)).toBe(true);
    expect(x.subject).toBe('CN=webphone-gateway');
    expect(x.issuer).toBe(x.subject);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.publicKey.equals(createPublicKey(c.privateKey))).toBe(true);
    expect(new Date(x.validFrom).getTime()).toBe(now.getTime() - 86_400_000);
    expect(new Date(x.validTo).getTime()).toBe(now.getTime() + 3650 * 86_400_000);
    // The key signs what the certificate's key verifies (the DTLS CertificateVerify / ServerKeyExchange).
    const data = Buffer.from('handshake');
    expect(verify('sha256', data, x.publicKey, sign('sha256', data, c.privateKey))).toBe(true);
  });

  it('uses GeneralizedTime from 2050 (RFC 5280 §4.1.2.5) and a positive serial', () => {
    for (let i = 0; i < 20; i++) {
      const c = selfSignedEcdsaP256('x', 365 * 30, new Date('2040-01-01T00:00:00Z'));
      const x = new X509Certificate(c.certPem);
      expect(new Date(x.validTo).getUTCFullYear()).toBe(2069);
      expect(/^[0-9A-F]+$/.test(x.serialNumber)).toBe(true);
      expect(c.der.includes(Buffer.from('20691'))).toBe(true); // GeneralizedTime keeps the century
    }
  });

  it('gives the engine certificate an RFC 8122 fingerprint of its DER', async () => {
    const cert = await createDtlsCertificate();
    expect(cert.fingerprint).toBe(fingerprintOf(new X509Certificate(cert.certPem).raw));
    expect(cert.signatureHash).toEqual({ signature: 3, hash: 4 });
    expect(cert.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});

describe('DTLS library loaded on demand', () => {
  it('a handshake whose records arrive before werift is loaded completes with both sides keyed', async () => {
    vi.resetModules(); // a fresh session module: the library not yet loaded in it
    const { DtlsSession } = await import('../../../gateway/media/dtls/session.js');
    const [a, b] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    const logger = createLogger('silent');
    const keys: { server?: DtlsKeys; client?: DtlsKeys } = {};
    let s: DtlsSession | undefined;
    let c: DtlsSession | undefined;
    // Records cross synchronously: the client's first flight reaches the server before it has a socket.
    const base = { logger, onFailed: (r: string) => expect.fail(r) };
    s = new DtlsSession({ ...base, role: 'server', certificate: a, remoteFingerprint: b.fingerprint,
      send: (d) => c?.handle(Buffer.from(d)), onKeys: (k) => (keys.server = k) });
    c = new DtlsSession({ ...base, role: 'client', certificate: b, remoteFingerprint: a.fingerprint,
      send: (d) => s?.handle(Buffer.from(d)), onKeys: (k) => (keys.client = k) });
    c.start();
    expect(c.state).toBe('connecting');
    await until(() => keys.server !== undefined && keys.client !== undefined);
    expect(keys.server!.keyingMaterial.equals(keys.client!.keyingMaterial)).toBe(true);
    s.close();
    c.close();
  });
});
