// A browser restarting DTLS or ICE on a running call. The "browser" here is built from primitives (a
// UDP socket, a STUN check, a DTLS client, SRTP contexts) so that the test decides exactly when a
// new ClientHello goes out with the very same certificate, and which ICE credentials it checks with.
// Loopback-only namespace, see engine-b2b.test.ts.
import dgram from 'node:dgram';
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createDtlsCertificate, type DtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import { DtlsSession } from '../../../gateway/media/dtls/session.js';
import { createEmbeddedMediaEngine, type EmbeddedMediaEngine } from '../../../gateway/media/index.js';
import { classify } from '../../../gateway/media/rtp/index.js';
import { srtpContextsFromDtls, type SrtpContextPair } from '../../../gateway/media/srtp/index.js';
import { buildBindingRequest } from '../../../gateway/media/stun/index.js';
import { countFrames, frame, payloadOf, rtpPacket, startTrunk, until, type Trunk } from './peers.js';

const logger = createLogger('silent');

function trunkAnswer(port: number): string {
  return ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
}

/** A minimal WebRTC endpoint on one socket; `connect()` runs a fresh DTLS handshake each time. */
class RawBrowser {
  srtp: SrtpContextPair | undefined;
  readonly received: Buffer[] = [];
  ufrag = 'rawB';
  pwd = 'rawBrowserPassword0123456';
  private dtls: DtlsSession | undefined;
  private enginePort = 0;
  private stunWaiter: ((type: number) => void) | undefined;

  private constructor(
    readonly socket: dgram.Socket,
    public cert: DtlsCertificate,
  ) {
    socket.on('message', (msg) => this.receive(msg));
  }

  static async start(): Promise<RawBrowser> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawBrowser(socket, await createDtlsCertificate());
  }

  offer(version = 1): string {
    return [
      'v=0', `o=- 1 ${version} IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0',
      `m=audio ${this.socket.address().port} UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 127.0.0.1', 'a=mid:0',
      `a=ice-ufrag:${this.ufrag}`, `a=ice-pwd:${this.pwd}`, `a=fingerprint:sha-256 ${this.cert.fingerprint}`,
      'a=setup:actpass', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
    ].join('\r\n');
  }

  /** One ICE check with USE-CANDIDATE, with the credentials of `answer` (or `creds`); resolves with
   *  the STUN response's message type (0x0101 success, 0x0111 error). */
  iceCheck(answer: string, creds?: { ufrag: string; pwd: string }): Promise<number> {
    const m = sdpTransform.parse(answer).media[0]!;
    this.enginePort = m.port;
    const [ufrag, pwd] = creds ? [creds.ufrag, creds.pwd] : [String(m.iceUfrag), String(m.icePwd)];
    const check = buildBindingRequest({ username: `${ufrag}:${this.ufrag}`, password: pwd, controlling: 7n, useCandidate: true });
    return new Promise((resolve) => {
      this.stunWaiter = resolve;
      this.socket.send(check, m.port, '127.0.0.1');
    });
  }

  /** ICE check against the engine's answer, then a DTLS handshake as client. */
  async connect(answer: string, { dropAfterClientHello = false } = {}): Promise<void> {
    const m = sdpTransform.parse(answer).media[0]!;
    expect(await this.iceCheck(answer)).toBe(0x0101);
    let sent = 0;
    await new Promise<void>((resolve, reject) => {
      this.dtls?.close();
      this.dtls = new DtlsSession({
        role: 'client',
        certificate: this.cert,
        remoteFingerprint: m.fingerprint!.hash,
        send: (d) => {
          if (dropAfterClientHello && sent++ > 0) return;
          this.socket.send(d, this.enginePort, '127.0.0.1');
          if (dropAfterClientHello) resolve();
        },
        onKeys: (keys) => {
          this.srtp = srtpContextsFromDtls(keys.keyingMaterial, keys.role);
          resolve();
        },
        onFailed: (reason) => reject(new Error(reason)),
        logger,
      });
      this.dtls.start();
    });
  }

  sendRtp(seq: number, payload: Buffer): void {
    const plain = rtpPacket(seq, payload, 0xb0b0b0b0).serialize();
    this.socket.send(this.srtp!.local.protectRtp(plain), this.enginePort, '127.0.0.1');
  }

  private receive(msg: Buffer): void {
    const kind = classify(msg);
    if (kind === 'stun') this.stunWaiter?.(msg.readUInt16BE(0));
    else if (kind === 'dtls') this.dtls?.handle(msg);
    else if (kind === 'rtp' && this.srtp) {
      const plain = this.srtp.remote.unprotectRtp(Buffer.from(msg));
      if (plain) this.received.push(Buffer.from(payloadOf(plain)));
    }
  }

  close(): Promise<void> {
    this.dtls?.close();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

describe('embedded media engine: DTLS and ICE restarts on a running call', () => {
  let engine: EmbeddedMediaEngine;
  let trunk: Trunk;

  beforeEach(async () => {
    const from = 30000 + 2 * Math.floor(Math.random() * 10000);
    engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 19 }, logger });
    trunk = await startTrunk();
  });

  afterEach(async () => {
    await trunk.close();
    await engine.close();
  });

  /** browser ⇄ trunk call; returns the browser's answer and the engine's trunk-side port. */
  async function call(browser: RawBrowser): Promise<{ answer: string; trunkSide: number }> {
    const toTrunk = await engine.offer({ callId: 'c', fromTag: 'browser', sdp: browser.offer(), toProfile: 'rtp' });
    const answer = (await engine.answer({ callId: 'c', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port) })).sdp;
    return { answer, trunkSide: sdpTransform.parse(toTrunk.sdp).media[0]!.port };
  }

  /** The old keys are gone: a packet protected with them is dropped. A packet under the running keys
   *  sent right after it marks the point by which the old one would have been relayed. */
  async function expectKeysDropped(browser: RawBrowser, oldKeys: SrtpContextPair, port: number): Promise<void> {
    const stale = frame(9999);
    const marker = frame(9998);
    browser.socket.send(oldKeys.local.protectRtp(rtpPacket(400, stale, 0xb0b0b0b0).serialize()), port, '127.0.0.1');
    browser.sendRtp(401, marker);
    await until(() => trunk.rtp.some((p) => payloadOf(p).equals(marker)), 5000, 'the marker packet at the trunk');
    expect(trunk.rtp.some((p) => payloadOf(p).equals(stale))).toBe(false);
  }

  /** 110 frames each way; resolves once ≥ 100 arrived on both sides. */
  async function exchange(browser: RawBrowser, trunkSide: number, first: number, seq: number): Promise<void> {
    for (let n = 0; n < 110; n++) {
      browser.sendRtp(seq + n, frame(first + n));
      trunk.socket.send(rtpPacket(seq + n, frame(first + 5000 + n), 0x7777).serialize(), trunkSide, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => countFrames(trunk.rtp.map(payloadOf), first, 110) >= 100, 5000, 'browser frames at the trunk');
    await until(() => countFrames(browser.received, first + 5000, 110) >= 100, 5000, 'trunk frames at the browser');
  }

  it('a new ClientHello with the same certificate and SDP: new association, new SRTP keys, media on both', async () => {
    const browser = await RawBrowser.start();
    try {
      const { answer, trunkSide } = await call(browser);
      expect(sdpTransform.parse(answer).media[0]!.setup).toBe('passive');
      await browser.connect(answer);
      const firstKeys = browser.srtp!;
      await exchange(browser, trunkSide, 0, 1);

      await browser.connect(answer); // the browser restarts DTLS: same fingerprint, no new SDP
      expect(browser.srtp).not.toBe(firstKeys);
      await exchange(browser, trunkSide, 1000, 200);
      await expectKeysDropped(browser, firstKeys, sdpTransform.parse(answer).media[0]!.port);
    } finally {
      await browser.close();
    }
  });

  it('a stray ClientHello whose handshake never completes leaves the running keys in use', async () => {
    const browser = await RawBrowser.start();
    try {
      const { answer, trunkSide } = await call(browser);
      await browser.connect(answer);
      const keys = browser.srtp!;
      await browser.connect(answer, { dropAfterClientHello: true });
      browser.srtp = keys;
      await exchange(browser, trunkSide, 0, 1);
    } finally {
      await browser.close();
    }
  });

  it('an ICE restart (re-offer with new ICE credentials) is answered with new ones; DTLS and media carry on', async () => {
    const browser = await RawBrowser.start();
    try {
      const { answer, trunkSide } = await call(browser);
      await browser.connect(answer);
      await exchange(browser, trunkSide, 0, 1);

      browser.ufrag = 'rst2';
      browser.pwd = 'restartedBrowserPassword99';
      await engine.offer({ callId: 'c', fromTag: 'browser', sdp: browser.offer(), toProfile: 'rtp' });
      const second = (await engine.answer({ callId: 'c', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port) })).sdp;
      const [a1, a2] = [sdpTransform.parse(answer).media[0]!, sdpTransform.parse(second).media[0]!];
      expect(a2.port).toBe(a1.port);
      expect(a2.iceUfrag).not.toBe(a1.iceUfrag);
      expect(a2.icePwd).not.toBe(a1.icePwd);
      expect(a2.fingerprint).toEqual(a1.fingerprint);
      // RFC 8445 §7.2.2: checks must now use the new credentials
      expect(await browser.iceCheck(second, { ufrag: String(a1.iceUfrag), pwd: String(a1.icePwd) })).toBe(0x0111);
      expect(await browser.iceCheck(second)).toBe(0x0101);
      // same DTLS association, same keys: media carries on
      await exchange(browser, trunkSide, 1000, 200);
    } finally {
      await browser.close();
    }
  });

  it('a plain re-offer (same ICE credentials, same fingerprint) keeps ICE credentials and the association', async () => {
    const browser = await RawBrowser.start();
    try {
      const { answer, trunkSide } = await call(browser);
      await browser.connect(answer);
      await engine.offer({ callId: 'c', fromTag: 'browser', sdp: browser.offer().replace('a=sendrecv', 'a=sendonly'), toProfile: 'rtp' });
      const second = (await engine.answer({ callId: 'c', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port).replace('a=sendrecv', 'a=recvonly') })).sdp;
      expect(sdpTransform.parse(second).media[0]!.iceUfrag).toBe(sdpTransform.parse(answer).media[0]!.iceUfrag);
      expect(sdpTransform.parse(second).media[0]!.direction).toBe('recvonly');
      // the browser holds the trunk: its media still reaches the trunk under the running keys, the
      // trunk's (which it should not send) is held back and counted
      for (let n = 0; n < 110; n++) {
        browser.sendRtp(1 + n, frame(n));
        trunk.socket.send(rtpPacket(1 + n, frame(5000 + n), 0x7777).serialize(), trunkSide, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => countFrames(trunk.rtp.map(payloadOf), 0, 110) >= 100, 5000, 'browser frames at the trunk');
      await until(() => engine.stats('c')!.legs.trunk!.packetsIn >= 100, 5000, 'trunk frames at the engine');
      expect(engine.stats('c')!.legs.trunk!.packetsHeld).toBe(engine.stats('c')!.legs.trunk!.packetsIn);
      expect(browser.received).toHaveLength(0);
    } finally {
      await browser.close();
    }
  });
  it('ICE restart with a new certificate, answered locally: new ICE credentials, a new DTLS association, the trunk leg untouched', async () => {
    const browser = await RawBrowser.start();
    try {
      const { answer, trunkSide } = await call(browser);
      await browser.connect(answer);
      const firstKeys = browser.srtp!;
      await exchange(browser, trunkSide, 0, 1);
      const trunkBefore = engine.stats('c')!.legs.trunk!;

      // a new RTCPeerConnection: new ICE credentials and a new certificate, in a new offer (o= version 2)
      browser.ufrag = 'rst3';
      browser.pwd = 'brandNewBrowserPassword777';
      browser.cert = await createDtlsCertificate();
      const second = (await engine.answerLocally({ callId: 'c', fromTag: 'browser', sdp: browser.offer(2) })).sdp;
      const [a1, a2] = [sdpTransform.parse(answer).media[0]!, sdpTransform.parse(second).media[0]!];
      expect(a2.port).toBe(a1.port);
      expect(a2.iceUfrag).not.toBe(a1.iceUfrag);
      expect(a2.setup).toBe('passive');
      expect(await browser.iceCheck(second, { ufrag: String(a1.iceUfrag), pwd: String(a1.icePwd) })).toBe(0x0111);
      await browser.connect(second); // the handshake with the new certificate completes: the SDP named it
      expect(browser.srtp).not.toBe(firstKeys);
      await exchange(browser, trunkSide, 1000, 200); // fresh SRTP contexts (ROC 0) both ways
      // the trunk leg saw no new SDP and kept its source; its counters only grew
      expect(engine.stats('c')!.legs.trunk!.packetsIn).toBeGreaterThan(trunkBefore.packetsIn);
      expect(engine.stats('c')!.legs.trunk!.packetsRejected).toBe(0);
      await expectKeysDropped(browser, firstKeys, a1.port);
    } finally {
      await browser.close();
    }
  });

  it('a new certificate without a new offer (a stray handshake from the selected address) is refused; the running keys stay', async () => {
    const browser = await RawBrowser.start();
    try {
      const { answer, trunkSide } = await call(browser);
      await browser.connect(answer);
      const keys = browser.srtp!;
      browser.cert = await createDtlsCertificate();
      await browser.connect(answer); // the client side completes; the engine checks the SDP's fingerprint and fails it
      const rogueKeys = browser.srtp!;
      expect(rogueKeys).not.toBe(keys);
      const rogue = frame(7777);
      const marker = frame(7778);
      browser.sendRtp(10, rogue);
      browser.srtp = keys;
      browser.sendRtp(11, marker);
      await until(() => trunk.rtp.some((p) => payloadOf(p).equals(marker)), 5000, 'the marker under the running keys at the trunk');
      expect(trunk.rtp.some((p) => payloadOf(p).equals(rogue))).toBe(false);
      await exchange(browser, trunkSide, 0, 20);
    } finally {
      await browser.close();
    }
  });
});
