// A browser's active ICE-TCP candidate, built from primitives (RFC 6544): one TCP connection to a
// leg's passive candidate, RFC 4571 frames both ways, STUN checks with the leg's ICE credentials, a
// DTLS client and SRTP over the same connection. The test decides every byte that goes out.
import net from 'node:net';
import * as sdpTransform from 'sdp-transform';
import { createLogger } from '../../../gateway/log.js';
import { createDtlsCertificate, type DtlsCertificate } from '../../../gateway/media/dtls/certificate.js';
import { DtlsSession } from '../../../gateway/media/dtls/session.js';
import { classify } from '../../../gateway/media/rtp/index.js';
import { srtpContextsFromDtls, type SrtpContextPair } from '../../../gateway/media/srtp/index.js';
import { buildBindingRequest, parseStun, type StunMessage } from '../../../gateway/media/stun/index.js';
import { Deframer, frame } from '../../../gateway/media/tcp/framing.js';
import { payloadOf, rtpPacket, until } from './peers.js';

const logger = createLogger('silent');

/** The browser side of the SDP: its ICE credentials and DTLS certificate. */
export interface TcpBrowserIdentity {
  ufrag: string;
  pwd: string;
  cert: DtlsCertificate;
}

export async function tcpBrowserIdentity(): Promise<TcpBrowserIdentity> {
  return { ufrag: 'tcpB', pwd: 'tcpBrowserPassword012345', cert: await createDtlsCertificate() };
}

/** A browser offer for `id` (its m= port is the discard port 9, as for an active TCP candidate). */
export function tcpBrowserOffer(id: TcpBrowserIdentity): string {
  return [
    'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 127.0.0.1', 'a=mid:0',
    `a=ice-ufrag:${id.ufrag}`, `a=ice-pwd:${id.pwd}`, `a=fingerprint:sha-256 ${id.cert.fingerprint}`,
    'a=setup:actpass', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
  ].join('\r\n');
}

/** The engine's answer: ICE credentials, fingerprint and its TCP candidate's port. */
export function engineSide(answer: string): { ufrag: string; pwd: string; fingerprint: string; tcpPort: number | undefined } {
  const m = sdpTransform.parse(answer).media[0]!;
  const tcp = (m.candidates ?? []).find((c) => c.transport === 'tcp');
  return { ufrag: String(m.iceUfrag), pwd: String(m.icePwd), fingerprint: m.fingerprint!.hash, tcpPort: tcp?.port };
}

export class TcpPeer {
  /** Every packet the leg sent, de-framed, in order. */
  readonly packets: Buffer[] = [];
  /** Plain RTP payloads received (after SRTP). */
  readonly media: Buffer[] = [];
  srtp: SrtpContextPair | undefined;
  closedByPeer = false;
  private readonly deframer = new Deframer();
  private dtls: DtlsSession | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const p of this.deframer.push(chunk)) this.receive(p);
    });
    socket.on('error', () => undefined); // a reset by the leg shows as close
    socket.on('close', () => (this.closedByPeer = true));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new TcpPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  /** The local end of the connection (what the leg should report in XOR-MAPPED-ADDRESS). */
  get local(): { address: string; port: number } {
    return { address: this.socket.localAddress!, port: this.socket.localPort! };
  }

  send(packet: Buffer): void {
    this.socket.write(frame(packet));
  }

  /** One Binding request (USE-CANDIDATE) as `id` toward the engine's credentials; resolves with the response. */
  async check(id: TcpBrowserIdentity, engine: { ufrag: string; pwd: string }): Promise<StunMessage> {
    const request = buildBindingRequest({ username: `${engine.ufrag}:${id.ufrag}`, password: engine.pwd, controlling: 5n, useCandidate: true });
    const txId = request.subarray(8, 20);
    const from = this.packets.length;
    this.send(request);
    const found = (): StunMessage | undefined => {
      for (const p of this.packets.slice(from)) {
        const parsed = classify(p) === 'stun' ? parseStun(p) : undefined;
        if (parsed?.ok && parsed.message.transactionId.equals(txId)) return parsed.message;
      }
      return undefined;
    };
    await until(() => found() !== undefined || this.closedByPeer, 5000, 'a STUN response on the connection');
    const response = found();
    if (!response) throw new Error('the leg closed the connection instead of answering the check');
    return response;
  }

  /** DTLS handshake as client over the connection (the leg answers as server); resolves with SRTP keys. */
  handshake(id: TcpBrowserIdentity, engineFingerprint: string): Promise<SrtpContextPair> {
    return new Promise((resolve, reject) => {
      this.dtls = new DtlsSession({
        role: 'client',
        certificate: id.cert,
        remoteFingerprint: engineFingerprint,
        send: (d) => this.send(d),
        onKeys: (keys) => resolve((this.srtp = srtpContextsFromDtls(keys.keyingMaterial, keys.role))),
        onFailed: (reason) => reject(new Error(reason)),
        logger,
      });
      this.dtls.start();
    });
  }

  sendRtp(seq: number, payload: Buffer): void {
    this.send(this.srtp!.local.protectRtp(rtpPacket(seq, payload, 0x7c9).serialize()));
  }

  private receive(packet: Buffer): void {
    this.packets.push(packet);
    const kind = classify(packet);
    if (kind === 'dtls') this.dtls?.handle(packet);
    else if (kind === 'rtp' && this.srtp) {
      const plain = this.srtp.remote.unprotectRtp(Buffer.from(packet));
      if (plain) this.media.push(Buffer.from(payloadOf(plain)));
    }
  }

  /** Resolves once the leg closed the connection. */
  waitClosed(ms: number): Promise<void> {
    return until(() => this.closedByPeer, ms, 'the leg to close the connection');
  }

  close(): void {
    this.dtls?.close();
    this.socket.destroy();
  }
}
