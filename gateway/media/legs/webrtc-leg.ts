// Browser side: one UDP socket carrying STUN, DTLS, SRTP and SRTCP (RFC 7983 demux, RFC 5761
// rtcp-mux), ICE-lite (RFC 8445 §2.5: "a lite implementation ... does not gather candidates ... and
// does not generate connectivity checks"; it answers the browser's checks and uses the address a
// valid check came from), DTLS-SRTP (RFC 5763/5764) with SRTP_AES128_CM_HMAC_SHA1_80.
import { randomBytes, randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import type { Logger } from 'pino';
import type { DtlsCertificate } from '../dtls/certificate.js';
import type { DtlsKeys, DtlsRole } from '../dtls/session.js';
import { classify } from '../rtp/index.js';
import { srtpContextsFromDtls, type SrtpContextPair } from '../srtp/index.js';
import { closeUdp, watchErrors } from '../udp.js';
import { DtlsLink } from './dtls-link.js';
import type { IceLiteAgent } from './ice-lite.js';
import { dropPacket, newCounters, sameEndpoint, type Endpoint, type LegCounters, type MediaLeg, type PacketSink } from './leg.js';
import { SourceRebaser } from './rebase.js';

export interface WebrtcRemote {
  iceUfrag: string;
  icePwd: string;
  fingerprint: string;
  role: DtlsRole;
  /** The parameters come from the browser's offer (an ICE restart is only ever offered). */
  fromOffer: boolean;
}

export class WebrtcLeg implements MediaLeg {
  readonly profile = 'webrtc' as const;
  readonly counters: LegCounters = newCounters();
  onRtp: PacketSink = dropPacket;
  onRtcp: PacketSink = dropPacket;
  /** The SSRC of everything we send to the browser, announced in our SDP (a=ssrc, RFC 5576). Relayed
   *  packets are restamped with it, SEQ and timestamp rebased per source (see rebase.ts). Payloads
   *  pass as they are. */
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  /** RFC 7022 short-term CNAME for a=ssrc:<ssrc> cname:. */
  readonly cname = randomBytes(12).toString('base64url');
  readonly dtls: DtlsLink;
  private readonly rebaser: SourceRebaser;
  private selected: Endpoint | undefined;
  private srtp: SrtpContextPair | undefined;
  private closed = false;

  constructor(
    readonly port: number,
    private readonly socket: dgram.Socket,
    private readonly ice: IceLiteAgent,
    certificate: DtlsCertificate,
    private readonly logger: Logger,
  ) {
    this.rebaser = new SourceRebaser(this.ssrc);
    this.dtls = new DtlsLink({
      certificate,
      send: (datagram) => this.sendRaw(datagram),
      onKeys: (keys) => this.startSrtp(keys),
      logger,
    });
    watchErrors(socket, logger);
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port));
  }

  get dtlsState(): string {
    return this.dtls.state;
  }

  /** Our DTLS role once the peer's SDP fixed it. */
  get dtlsRole(): DtlsRole | undefined {
    return this.dtls.role;
  }

  /** Sources rebased so far on the way to the browser. */
  get sourceSwitches(): number {
    return this.rebaser.switches;
  }

  /** The browser's ICE credentials and DTLS parameters, from its offer or answer. Setting them again
   *  with the same fingerprint and role (a re-offer) keeps the running DTLS association; an offer
   *  with new ICE credentials (RFC 8839 §4.4.3.1.1: ICE restart) gets new local credentials too. */
  setRemote(remote: WebrtcRemote): void {
    const iceRestart = this.ice.setRemoteCredentials(remote.iceUfrag, remote.icePwd);
    if (iceRestart && remote.fromOffer) {
      this.ice.restart();
      this.logger.info('ICE restart: new local credentials');
    }
    this.dtls.configure({ fingerprint: remote.fingerprint, role: remote.role });
  }

  private receive(msg: Buffer, address: string, port: number): void {
    switch (classify(msg)) {
      case 'rtp':
        return this.receiveMedia(msg, address, port, false);
      case 'rtcp':
        return this.receiveMedia(msg, address, port, true);
      case 'stun':
        return this.receiveStun(msg, address, port);
      case 'dtls':
        return this.receiveDtls(msg, address, port);
      default:
        return;
    }
  }

  private receiveMedia(msg: Buffer, address: string, port: number, rtcp: boolean): void {
    // Only from the address ICE selected: media from anywhere else is not from the browser we checked.
    if (!sameEndpoint(this.selected, address, port)) {
      this.counters.packetsRejected++;
      return;
    }
    if (!this.srtp) return;
    const plain = rtcp ? this.srtp.remote.unprotectRtcp(msg) : this.srtp.remote.unprotectRtp(msg);
    if (!plain) return; // RFC 3711 §3.3: authentication failure or replay → discard
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
    if (rtcp) this.onRtcp(plain);
    else this.onRtp(plain);
  }

  private receiveStun(msg: Buffer, address: string, port: number): void {
    const result = this.ice.handle(msg, address, port);
    if (result.response) this.socket.send(result.response, port, address);
    if (!result.valid) return;
    // RFC 8445 §7.3.1.5 (controlled agent): USE-CANDIDATE nominates this pair; the first valid check
    // is used until a nomination arrives.
    if (result.useCandidate || !this.selected) this.select(address, port);
  }

  private select(address: string, port: number): void {
    if (sameEndpoint(this.selected, address, port)) return;
    this.logger.info({ from: this.selected, to: { address, port } }, 'ICE-lite: browser address selected');
    this.selected = { address, port };
    this.dtls.pathReady();
  }

  private receiveDtls(msg: Buffer, address: string, port: number): void {
    // RFC 8842 §4 / RFC 8445: DTLS runs on the pair ICE validated; records from elsewhere are dropped
    // (and an address is never learned from DTLS, which anyone could send first).
    if (sameEndpoint(this.selected, address, port)) this.dtls.handle(msg);
  }

  /** Keys of a new association replace those of the previous one (RFC 5764 §4.2: each association
   *  exports its own keying material). */
  private startSrtp(keys: DtlsKeys): void {
    try {
      this.srtp = srtpContextsFromDtls(keys.keyingMaterial, keys.role, 'AES_CM_128_HMAC_SHA1_80');
    } catch (err) {
      this.logger.error({ err }, 'SRTP keying failed');
    }
  }

  private sendRaw(datagram: Buffer): void {
    if (!this.selected || this.closed) return;
    this.socket.send(datagram, this.selected.port, this.selected.address);
  }

  sendRtp(packet: Buffer): void {
    if (!this.srtp || !this.selected || this.closed) return;
    this.rebaser.rtp(packet);
    try {
      this.sendProtected(this.srtp.local.protectRtp(packet));
    } catch (err) {
      this.logger.debug({ err }, 'dropped RTP packet that cannot be protected');
    }
  }

  sendRtcp(packet: Buffer): void {
    if (!this.srtp || !this.selected || this.closed) return;
    this.rebaser.rtcp(packet);
    try {
      this.sendProtected(this.srtp.local.protectRtcp(packet));
    } catch (err) {
      this.logger.debug({ err }, 'dropped RTCP packet that cannot be protected');
    }
  }

  private sendProtected(wire: Buffer): void {
    this.counters.packetsOut++;
    this.counters.bytesOut += wire.length;
    this.socket.send(wire, this.selected!.port, this.selected!.address);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onRtp = dropPacket;
    this.onRtcp = dropPacket;
    this.dtls.close();
    await closeUdp(this.socket);
  }
}
