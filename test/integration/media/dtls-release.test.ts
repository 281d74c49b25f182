// A browser leg lets its DTLS library state go once the browser's SRTP authenticates with the association's
// keys (gateway/media/dtls/session.ts release()), and not before; media keeps flowing both ways, and a new
// association after that still brings new keys. One leg on loopback, a browser stand-in on a UDP socket
// (STUN check, DTLS client, SRTP).
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createDtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import { DtlsSession, type DtlsKeys } from '../../../gateway/media/dtls/session.js';
import { DEFAULT_ICE_TCP_LIMITS } from '../../../gateway/media/legs/ice-tcp.js';
import { openLeg, type OpenLeg } from '../../../gateway/media/legs/factory.js';
import { PortAllocator } from '../../../gateway/media/ports.js';
import { classify } from '../../../gateway/media/rtp/index.js';
import { srtpContextsFromDtls, type SrtpContextPair } from '../../../gateway/media/srtp/index.js';
import { buildBindingRequest } from '../../../gateway/media/stun/index.js';
import { until } from '../../support/until.js';

const logger = createLogger('silent');

function rtp(seq: number): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0; // PCMU
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0xabcdef01, 8);
  return b;
}

describe('browser leg: DTLS state released once the browser uses the keys', () => {
  let open: OpenLeg | undefined;
  let socket: dgram.Socket | undefined;
  let dtls: DtlsSession | undefined;
  afterEach(async () => {
    dtls?.close();
    socket?.close();
    await open?.release();
  });

  it('keeps it through the handshake, lets it go with the first SRTP packet in; media both ways; a new association after', async () => {
    const [engineCert, browserCert] = await Promise.all([createDtlsCertificate(), createDtlsCertificate()]);
    open = await openLeg('webrtc', {
      ports: new PortAllocator({ from: 47300, to: 47399 }),
      bindAddress: '127.0.0.1',
      certificate: engineCert,
      logger,
      strictSource: true,
      iceTcp: false,
      iceTcpLimits: DEFAULT_ICE_TCP_LIMITS,
    }, logger);
    if (open.profile !== 'webrtc') throw new Error('not a browser leg');
    const { leg, ice } = open;
    const fromBrowser: Buffer[] = [];
    leg.onRtp = (p) => fromBrowser.push(Buffer.from(p));
    leg.setRemote({ iceUfrag: 'brws', icePwd: 'b'.repeat(24), fingerprint: browserCert.fingerprint, role: 'server', fromOffer: true });

    const sock = dgram.createSocket('udp4');
    socket = sock;
    let srtp: SrtpContextPair | undefined;
    const toBrowser: Buffer[] = [];
    sock.on('message', (msg) => {
      const kind = classify(msg);
      if (kind === 'dtls') dtls?.handle(msg);
      else if (kind === 'rtp' && srtp) {
        const plain = srtp.remote.unprotectRtp(msg);
        if (plain) toBrowser.push(Buffer.from(plain));
      }
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => sock.connect(leg.port, '127.0.0.1', () => r())));
    sock.send(buildBindingRequest({ username: `${ice.localUfrag}:brws`, password: ice.localPwd, controlling: 1n, useCandidate: true }));
    await until(() => leg.selectedTransport === 'udp');

    const handshake = (): Promise<DtlsKeys> =>
      new Promise((resolve, reject) => {
        dtls?.close();
        dtls = new DtlsSession({ role: 'client', certificate: browserCert, remoteFingerprint: engineCert.fingerprint, send: (d) => sock.send(d), onKeys: resolve, onFailed: reject, logger });
        dtls.start();
      });
    srtp = srtpContextsFromDtls((await handshake()).keyingMaterial, 'client');
    await until(() => leg.dtlsState === 'connected');
    expect(leg.dtls.released).toBe(false); // connected, but the browser has not used the keys yet

    sock.send(srtp.local.protectRtp(rtp(1)));
    await until(() => fromBrowser.length === 1);
    expect(leg.dtls.released).toBe(true);
    expect(leg.dtlsState).toBe('connected');
    leg.sendRtp(rtp(2));
    await until(() => toBrowser.length === 1);
    for (let seq = 3; seq < 8; seq++) sock.send(srtp.local.protectRtp(rtp(seq)));
    await until(() => fromBrowser.length === 6);

    // the browser restarts its DTLS transport: a new ClientHello, new keys, released again once used
    srtp = srtpContextsFromDtls((await handshake()).keyingMaterial, 'client');
    await until(() => leg.dtls.restarts === 1 && leg.dtlsState === 'connected' && !leg.dtls.released);
    sock.send(srtp.local.protectRtp(rtp(8)));
    await until(() => fromBrowser.length === 7);
    expect(leg.dtls.released).toBe(true);
  });
});
