import { afterEach, describe, expect, it } from 'vitest';
import { createDtlsCertificate, fingerprintOf, sameFingerprint, type DtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import { DtlsSession, nextDtlsState, type DtlsKeys } from '../../../gateway/media/dtls/session.js';
import { createLogger } from '../../../gateway/log.js';
import { X509Certificate } from 'node:crypto';

const logger = createLogger('silent');

/** Two sessions wired back to back in memory (no sockets); datagrams cross on the next tick. */
function pair(server: DtlsCertificate, client: DtlsCertificate, clientSeesFingerprint = server.fingerprint) {
  const keys: { server?: DtlsKeys; client?: DtlsKeys } = {};
  const failures: string[] = [];
  let s: DtlsSession | undefined;
  let c: DtlsSession | undefined;
  s = new DtlsSession({
    role: 'server',
    certificate: server,
    remoteFingerprint: client.fingerprint,
    send: (d) => setImmediate(() => c?.handle(Buffer.from(d))),
    onKeys: (k) => (keys.server = k),
    onFailed: (r) => failures.push(`server: ${r}`),
    logger,
  });
  c = new DtlsSession({
    role: 'client',
    certificate: client,
    remoteFingerprint: clientSeesFingerprint,
    send: (d) => setImmediate(() => s?.handle(Buffer.from(d))),
    onKeys: (k) => (keys.client = k),
    onFailed: (r) => failures.push(`client: ${r}`),
    logger,
  });
  return { s, c, keys, failures };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

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
