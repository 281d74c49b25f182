// DTLS state let go once the browser's media uses an association's keys (DtlsSession.release(),
// DtlsLink.keysInUse()): what a released association still does and no longer does. In memory, no sockets.
import { afterEach, describe, expect, it } from 'vitest';
import { createDtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import type { DtlsSession } from '../../../gateway/media/dtls/session.js';
import { until } from '../../support/until.js';
import { dtlsLinkHarness as linkHarness, dtlsPair as pair } from './dtls-fixtures.js';

const settle = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('DtlsSession.release()', () => {
  const sessions: DtlsSession[] = [];
  afterEach(() => sessions.splice(0).forEach((s) => s.close()));

  it('before it, the server answers a retransmitted final client flight; after it, records are dropped unread', async () => {
    const [a, b] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    const { s, c, sent, keys } = pair(a, b);
    sessions.push(s, c);
    c.start();
    await until(() => keys.server !== undefined && keys.client !== undefined);
    await settle();
    // the client's last flight (Certificate … Finished), as the client retransmits it when the server's
    // ChangeCipherSpec/Finished was lost (RFC 6347 §4.2.4)
    const lastFlight = sent.client.slice(-2);
    const before = sent.server.length;
    for (const d of lastFlight) s.handle(Buffer.from(d));
    await until(() => sent.server.length > before);

    s.release();
    expect(s.isReleased).toBe(true);
    expect(s.state).toBe('connected');
    await settle();
    const after = sent.server.length;
    for (const d of lastFlight) s.handle(Buffer.from(d));
    await settle();
    expect(sent.server.length).toBe(after);
  });

  it('does nothing before the handshake completed', async () => {
    const [a, b] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    const { s, c, keys } = pair(a, b);
    sessions.push(s, c);
    s.release();
    c.release();
    expect([s.isReleased, c.isReleased]).toEqual([false, false]);
    c.start();
    await until(() => keys.server !== undefined && keys.client !== undefined);
    expect(keys.server!.keyingMaterial.equals(keys.client!.keyingMaterial)).toBe(true);
  });
});

describe('DtlsLink.keysInUse()', () => {
  let h: ReturnType<typeof linkHarness> | undefined;
  afterEach(() => h?.close());

  it('releases the running association; a new ClientHello afterwards still brings a new one with new keys', async () => {
    const [engineCert, browserCert] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    h = linkHarness(engineCert);
    h.link.configure({ fingerprint: browserCert.fingerprint, role: 'server' });
    h.link.pathReady();
    const first = await h.connect(browserCert);
    await until(() => h!.linkKeys.length === 1);
    expect(h.link.released).toBe(false);
    h.link.keysInUse();
    expect(h.link.released).toBe(true);
    expect(h.link.state).toBe('connected');

    const second = await h.connect(browserCert); // the browser restarts its DTLS transport
    await until(() => h!.linkKeys.length === 2);
    expect(h.link.restarts).toBe(1);
    expect(h.linkKeys[1]!.keyingMaterial.equals(second.keyingMaterial)).toBe(true);
    expect(second.keyingMaterial.equals(first.keyingMaterial)).toBe(false);
    expect(h.link.released).toBe(false); // the new association keeps its state until its keys are used
    h.link.keysInUse();
    expect(h.link.released).toBe(true);
  });

  it('media under the old keys while a new association is being set up releases nothing', async () => {
    const [engineCert, oldCert, newCert] = await Promise.all([createDtlsCertificate(), createDtlsCertificate(), createDtlsCertificate()]);
    h = linkHarness(engineCert);
    h.link.configure({ fingerprint: oldCert.fingerprint, role: 'server' });
    h.link.pathReady();
    await h.connect(oldCert);
    await until(() => h!.linkKeys.length === 1);
    h.link.configure({ fingerprint: newCert.fingerprint, role: 'server' }); // new association, not yet started
    h.link.keysInUse(); // SRTP still under the first association's keys
    expect(h.link.released).toBe(false);
    await h.connect(newCert);
    await until(() => h!.linkKeys.length === 2);
    expect(h.link.state).toBe('connected');
    expect(h.link.released).toBe(false);
    h.link.keysInUse();
    expect(h.link.released).toBe(true);
  });
});
