import { afterEach, describe, expect, it } from 'vitest';
import { createDtlsCertificate, fingerprintOf, sameFingerprint } from '../../../gateway/media/dtls/certificate.js';
import { nextDtlsState, type DtlsSession } from '../../../gateway/media/dtls/session.js';
import { X509Certificate } from 'node:crypto';
import { until } from '../../support/until.js';
import { dtlsPair as pair } from './dtls-fixtures.js';

describe('DTLS certificate', () => {
  it('is ECDSA P-256 with an RFC 8122 sha-256 fingerprint of its DER', async () => {
    const cert = await createDtlsCertificate();
    const x509 = new X509Certificate(cert.certPem);
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(cert.fingerprint).toBe(fingerprintOf(x509.raw));
    expect(sameFingerprint(cert.fingerprint, cert.fingerprint.toLowerCase())).toBe(true);
    expect(sameFingerprint(cert.fingerprint, '')).toBe(false);
  });
});

describe('DtlsSession', () => {
  const sessions: DtlsSession[] = [];
  afterEach(() => {
    sessions.splice(0).forEach((s) => s.close());
  });

  it('client and server agree on 60 bytes of DTLS-SRTP keying material', async () => {
    const [a, b] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    const { s, c, keys, failures } = pair(a, b);
    sessions.push(s, c);
    c.start();
    await until(() => keys.server !== undefined && keys.client !== undefined);
    expect(failures).toEqual([]);
    expect(keys.server!.keyingMaterial).toHaveLength(60);
    expect(keys.server!.keyingMaterial.equals(keys.client!.keyingMaterial)).toBe(true);
    expect([keys.server!.role, keys.client!.role]).toEqual(['server', 'client']);
    expect(s.state).toBe('connected');
    expect(c.state).toBe('connected');
  });

  it('fails when the peer certificate does not match the SDP fingerprint (RFC 8122 §5)', async () => {
    const [a, b, other] = await Promise.all([createDtlsCertificate(), createDtlsCertificate(), createDtlsCertificate()]);
    const { s, c, keys, failures } = pair(a, b, other.fingerprint);
    sessions.push(s, c);
    c.start();
    await until(() => failures.length > 0);
    expect(failures[0]).toMatch(/^client: certificate fingerprint .* does not match SDP/);
    expect(keys.client).toBeUndefined();
    expect(c.state).toBe('failed');
  });

  it('ignores garbage records without throwing', async () => {
    const a = await createDtlsCertificate();
    const { s } = pair(a, a);
    sessions.push(s);
    expect(() => s.handle(Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99, 1, 2]))).not.toThrow();
    expect(s.state).toBe('connecting');
  });

  it('rejects illegal state edges', () => {
    expect(nextDtlsState('new', 'connecting')).toBe('connecting');
    expect(() => nextDtlsState('closed', 'connecting')).toThrow(/illegal transition/);
    expect(() => nextDtlsState('new', 'connected')).toThrow(/illegal transition/);
  });
});
