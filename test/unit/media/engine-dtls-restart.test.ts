// A browser leg's DTLS association being replaced (new ClientHello, new fingerprint) and its ICE
// credentials after an ICE restart; in memory, no sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { createDtlsCertificate, type DtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import { isInitialClientHello } from '../../../gateway/media/dtls/record.js';
import { createIceLiteAgent } from '../../../gateway/media/legs/ice-lite.js';
import { buildBindingRequest } from '../../../gateway/media/stun/index.js';
import { until } from '../../support/until.js';
import { dtlsLinkHarness as harness } from './dtls-fixtures.js';

describe('DtlsLink: a new association replaces the running one', () => {
  let certs: DtlsCertificate[];
  let h: ReturnType<typeof harness>;

  afterEach(() => h?.close());

  it('a new ClientHello after the handshake starts a new association with new keys', async () => {
    certs = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    const [engineCert, browserCert] = certs as [DtlsCertificate, DtlsCertificate];
    h = harness(engineCert);
    h.link.configure({ fingerprint: browserCert.fingerprint, role: 'server' });
    h.link.pathReady();
    const first = await h.connect(browserCert);
    await until(() => h.linkKeys.length === 1);
    expect(h.linkKeys[0]!.keyingMaterial.equals(first.keyingMaterial)).toBe(true);
    expect(h.link.state).toBe('connected');

    const second = await h.connect(browserCert); // same certificate, same SDP: only the ClientHello says so
    await until(() => h.linkKeys.length === 2);
    expect(h.link.restarts).toBe(1);
    expect(h.linkKeys[1]!.keyingMaterial.equals(second.keyingMaterial)).toBe(true);
    expect(second.keyingMaterial.equals(first.keyingMaterial)).toBe(false);
    expect(h.clientHellos.length).toBeGreaterThanOrEqual(2);
  });

  it('an SDP with another fingerprint starts a new association that only the new certificate completes', async () => {
    certs = await Promise.all([createDtlsCertificate(), createDtlsCertificate(), createDtlsCertificate()]);
    const [engineCert, oldCert, newCert] = certs as [DtlsCertificate, DtlsCertificate, DtlsCertificate];
    h = harness(engineCert);
    h.link.configure({ fingerprint: oldCert.fingerprint, role: 'server' });
    h.link.pathReady();
    await h.connect(oldCert);
    await until(() => h.linkKeys.length === 1);

    h.link.configure({ fingerprint: oldCert.fingerprint.toLowerCase(), role: 'server' }); // same, other case
    expect(h.link.restarts).toBe(0);
    h.link.configure({ fingerprint: newCert.fingerprint, role: 'server' });
    expect(h.link.restarts).toBe(1);
    expect(h.link.state).toBe('new');
    const fresh = await h.connect(newCert);
    await until(() => h.linkKeys.length === 2);
    expect(h.linkKeys[1]!.keyingMaterial.equals(fresh.keyingMaterial)).toBe(true);
  });

  it('records that arrive before the SDP are kept and played once it names the fingerprint', async () => {
    certs = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    const [engineCert, browserCert] = certs as [DtlsCertificate, DtlsCertificate];
    h = harness(engineCert);
    h.link.pathReady();
    const keys = h.connect(browserCert);
    await until(() => h.clientHellos.length >= 1);
    await new Promise((r) => setImmediate(r));
    expect(h.link.state).toBe('new');
    h.link.configure({ fingerprint: browserCert.fingerprint, role: 'server' });
    await keys;
    await until(() => h.linkKeys.length === 1);
    expect(h.link.restarts).toBe(0);
  });
});

describe('isInitialClientHello (RFC 6347 §4.1/§4.2.2)', () => {
  const hello = (epoch: number, msgType: number, messageSeq: number, contentType = 22) => {
    const d = Buffer.alloc(40);
    d[0] = contentType;
    d.writeUInt16BE(0xfefd, 1);
    d.writeUInt16BE(epoch, 3);
    d.writeUInt16BE(27, 11);
    d[13] = msgType;
    d.writeUInt16BE(messageSeq, 17);
    return d;
  };

  it('matches only an epoch-0 ClientHello with message_seq 0', () => {
    expect(isInitialClientHello(hello(0, 1, 0))).toBe(true);
    expect(isInitialClientHello(hello(0, 1, 1))).toBe(false); // the cookie-bearing second ClientHello
    expect(isInitialClientHello(hello(1, 1, 0))).toBe(false); // encrypted: inside an association
    expect(isInitialClientHello(hello(0, 2, 0))).toBe(false); // ServerHello
    expect(isInitialClientHello(hello(0, 1, 0, 23))).toBe(false); // application data
    expect(isInitialClientHello(hello(0, 1, 0).subarray(0, 24))).toBe(false);
    expect(isInitialClientHello(Buffer.alloc(0))).toBe(false);
  });
});

describe('ICE-lite agent across an ICE restart', () => {
  const check = (agent: ReturnType<typeof createIceLiteAgent>, ufrag: string, pwd: string, remoteUfrag: string) =>
    agent.handle(buildBindingRequest({ username: `${ufrag}:${remoteUfrag}`, password: pwd, controlling: 1n, useCandidate: true }), '127.0.0.1', 5000);

  it('reports changed remote credentials and answers only checks with the new local ones after restart()', () => {
    const agent = createIceLiteAgent();
    expect(agent.setRemoteCredentials('aaaa', 'p'.repeat(22))).toBe(false); // first SDP
    expect(agent.setRemoteCredentials('aaaa', 'p'.repeat(22))).toBe(false); // a plain re-offer
    const [oldUfrag, oldPwd] = [agent.localUfrag, agent.localPwd];
    expect(check(agent, oldUfrag, oldPwd, 'aaaa').valid).toBe(true);

    expect(agent.setRemoteCredentials('bbbb', 'q'.repeat(22))).toBe(true);
    agent.restart();
    expect(agent.localUfrag).not.toBe(oldUfrag);
    expect(agent.localPwd).not.toBe(oldPwd);
    expect(agent.localPwd.length).toBeGreaterThanOrEqual(22);
    expect(check(agent, oldUfrag, oldPwd, 'bbbb').valid).toBe(false);
    expect(check(agent, agent.localUfrag, agent.localPwd, 'aaaa').valid).toBe(false); // the old remote ufrag
    expect(check(agent, agent.localUfrag, agent.localPwd, 'bbbb').valid).toBe(true);
  });
});
