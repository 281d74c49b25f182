// Browser side: one UDP socket carrying STUN, DTLS, SRTP and SRTCP (RFC 7983 demux, RFC 5761
// rtcp-mux), ICE-lite (RFC 8445 §2.5: "a lite implementation ... does not gather candidates ... and
// does not generate connectivity checks"; it answers the browser's checks and uses the address a
// valid check came from), DTLS-SRTP (RFC 5763/5764) with SRTP_AES128_CM_HMAC_SHA1_80.
// With ICE-TCP (RFC 6544) the leg also listens on TCP on the same port: a frame from a browser's
// connection enters the same receive path as a datagram, and once a valid check arrived on a
// connection, that connection can be the selected path (DTLS and SRTP go back over it, framed).
import { randomBytes, randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { DtlsCertificate } from '../dtls/certificate.js';
import { loadDtls, type DtlsKeys, type DtlsRole } from '../dtls/session.js';
import { RtcpMonitor } from '../rtcp/monitor.js';
import { classify } from '../rtp/index.js';
import { srtpContextsFromDtls, type SrtpContextPair } from '../srtp/index.js';
import { closeUdp, watchErrors } from '../udp.js';
import { DtlsLink } from './dtls-link.js';
import type { IceLiteAgent } from './ice-lite.js';
import { IceTcpListener, type IceTcpConnection, type IceTcpLimits } from './ice-tcp.js';
import type { LegLog } from './leg-log.js';
import { dropPacket, mediaClock, newCounters, type Endpoint, type LegCounters, type MediaLeg, type PacketSink } from './leg.js';
import { SourceRebaser } from './rebase.js';

export interface WebrtcRemote {
  iceUfrag: string;
  icePwd: string;
  fingerprint: string;
  role: DtlsRole;
  /** The parameters come from the browser's offer (an ICE restart is only ever offered). */
  fromOffer: boolean;
}

/** Where the browser is reached: a UDP source address, or (ICE-TCP) one of its connections. */
interface Path extends Endpoint {
  tcp?: IceTcpConnection;
}

function samePath(path: Path | undefined, address: string, port: number, tcp: IceTcpConnection | undefined): boolean {
  return path !== undefined && path.tcp === tcp && path.port === port && path.address === address;
}

/** The leg's ICE-TCP listening socket (absent with media.iceTcp false) and its limits. */
export interface IceTcpOptions {
  server: net.Server;
  limits: IceTcpLimits;
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
  readonly rtcp = new RtcpMonitor('webrtc', this.cname);
  private readonly rebaser: SourceRebaser;
  private selected: Path | undefined;
  private readonly tcp: IceTcpListener | undefined;
  private srtp: SrtpContextPair | undefined;
  /** New keys are in place and no packet from the browser has authenticated with them yet. */
  private keysUnconfirmed = false;
  private closed = false;

  constructor(
    readonly port: number,
    private readonly socket: dgram.Socket,
    private readonly ice: IceLiteAgent,
    certificate: DtlsCertificate,
    private readonly logger: LegLog,
    iceTcp?: IceTcpOptions,
  ) {
    this.rebaser = new SourceRebaser(this.ssrc);
    // The DTLS library loads with the first browser leg (dtls/session.ts): start now, while the call is
    // offered and rings, rather than when the browser's first record arrives. A failure shows there.
    loadDtls().catch(() => undefined);
    this.dtls = new DtlsLink({
      certificate,
      send: (datagram) => this.sendRaw(datagram),
      onKeys: (keys) => this.startSrtp(keys),
      logger,
    });
    watchErrors(socket, logger);
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo.address, rinfo.port));
    if (iceTcp) {
      const onFrame = (packet: Buffer, conn: IceTcpConnection) => this.receive(packet, conn.address, conn.port, conn);
      this.tcp = new IceTcpListener(iceTcp.server, iceTcp.limits, onFrame, (conn) => this.connectionClosed(conn), logger);
    }
  }

  /** The leg accepts ICE-TCP connections on `port` (and its SDP offers a passive TCP candidate). */
  get iceTcp(): boolean {
    return this.tcp !== undefined;
  }

  /** Open ICE-TCP connections. */
  get tcpConnections(): number {
    return this.tcp?.connections ?? 0;
  }

  /** The selected path's transport, once ICE selected one. */
  get selectedTransport(): 'udp' | 'tcp' | undefined {
    if (!this.selected) return undefined;
    return this.selected.tcp ? 'tcp' : 'udp';
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
      this.logger.info({}, 'ICE restart: new local credentials');
    }
    this.dtls.configure({ fingerprint: remote.fingerprint, role: remote.role });
  }

  /** One datagram, or one frame of an ICE-TCP connection (`tcp`). */
  private receive(msg: Buffer, address: string, port: number, tcp?: IceTcpConnection): void {
    switch (classify(msg)) {
      case 'rtp':
        return this.receiveMedia(msg, address, port, tcp, false);
      case 'rtcp':
        return this.receiveMedia(msg, address, port, tcp, true);
      case 'stun':
        return this.receiveStun(msg, address, port, tcp);
      case 'dtls':
        return this.receiveDtls(msg, address, port, tcp);
      default:
        return;
    }
  }

  private receiveMedia(msg: Buffer, address: string, port: number, tcp: IceTcpConnection | undefined, rtcp: boolean): void {
    // Only from the path ICE selected: media from anywhere else is not from the browser we checked.
    if (!samePath(this.selected, address, port, tcp)) {
      this.counters.packetsRejected++;
      return;
    }
    if (!this.srtp) return;
    const plain = rtcp ? this.srtp.remote.unprotectRtcp(msg) : this.srtp.remote.unprotectRtp(msg);
    if (!plain) return; // RFC 3711 §3.3: authentication failure or replay → discard
    if (this.keysUnconfirmed) {
      // the browser finished its handshake (it uses the keys): the DTLS library's state can go
      this.keysUnconfirmed = false;
      this.dtls.keysInUse();
    }
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
    if (rtcp) this.counters.rtcpIn++;
    if (rtcp) {
      this.rtcp.rtcpIn(plain, mediaClock());
      this.onRtcp(plain);
    } else {
      this.rtcp.rtpIn(plain, mediaClock());
      this.onRtp(plain);
    }
  }

  private receiveStun(msg: Buffer, address: string, port: number, tcp: IceTcpConnection | undefined): void {
    const result = this.ice.handle(msg, address, port);
    // The response goes back the way the request came: a UDP request to its source, a TCP one on its
    // connection (XOR-MAPPED-ADDRESS: the connection's remote address).
    if (result.response) this.transmit({ address, port, tcp }, result.response);
    if (!result.valid) return;
    tcp?.markChecked();
    // RFC 8445 §7.3.1.5 (controlled agent): USE-CANDIDATE nominates this pair; the first valid check
    // is used until a nomination arrives.
    if (result.useCandidate || !this.selected) this.select(address, port, tcp);
  }

  private select(address: string, port: number, tcp: IceTcpConnection | undefined): void {
    if (samePath(this.selected, address, port, tcp)) return;
    const transport = tcp ? 'tcp' : 'udp';
    this.logger.info({ from: this.selected && { address: this.selected.address, port: this.selected.port }, to: { address, port, transport } }, 'ICE-lite: browser address selected');
    this.selected = { address, port, tcp };
    this.dtls.pathReady();
  }

  /** The selected connection closed: nothing to send on until the browser's next valid check. */
  private connectionClosed(conn: IceTcpConnection): void {
    if (this.selected?.tcp !== conn) return;
    this.logger.info({ address: conn.address, port: conn.port }, 'ICE-TCP: the selected connection closed');
    this.selected = undefined;
  }

  private receiveDtls(msg: Buffer, address: string, port: number, tcp: IceTcpConnection | undefined): void {
    // RFC 8842 §4 / RFC 8445: DTLS runs on the pair ICE validated; records from elsewhere are dropped
    // (and an address is never learned from DTLS, which anyone could send first).
    if (samePath(this.selected, address, port, tcp)) this.dtls.handle(msg);
  }

  /** One packet to the browser on `path`: a datagram, or an RFC 4571 frame on its connection. */
  private transmit(path: Path, packet: Buffer): void {
    if (path.tcp) path.tcp.send(packet);
    else this.socket.send(packet, path.port, path.address);
  }

  /** Keys of a new association replace those of the previous one (RFC 5764 §4.2: each association
   *  exports its own keying material). */
  private startSrtp(keys: DtlsKeys): void {
    try {
      this.srtp = srtpContextsFromDtls(keys.keyingMaterial, keys.role, 'AES_CM_128_HMAC_SHA1_80');
      this.keysUnconfirmed = true;
    } catch (err) {
      this.logger.error({ err }, 'SRTP keying failed');
    }
  }

  private sendRaw(datagram: Buffer): void {
    if (!this.selected || this.closed) return;
    this.transmit(this.selected, datagram);
  }

  sendRtp(packet: Buffer): void {
    if (!this.srtp || !this.selected || this.closed) return;
    this.rebaser.rtp(packet);
    this.rtcp.rtpOut(packet, mediaClock());
    try {
      this.sendProtected(this.srtp.local.protectRtp(packet));
    } catch (err) {
      this.logger.debug({ err }, 'dropped RTP packet that cannot be protected');
    }
  }

  sendRtcp(packet: Buffer): void {
    if (!this.srtp || !this.selected || this.closed) return;
    this.rebaser.rtcp(packet);
    this.rtcp.rtcpOut(packet, mediaClock());
    try {
      this.sendProtected(this.srtp.local.protectRtcp(packet));
    } catch (err) {
      this.logger.debug({ err }, 'dropped RTCP packet that cannot be protected');
    }
  }

  private sendProtected(wire: Buffer): void {
    this.counters.packetsOut++;
    this.counters.bytesOut += wire.length;
    this.transmit(this.selected!, wire);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onRtp = dropPacket;
    this.onRtcp = dropPacket;
    this.dtls.close();
    await Promise.all([closeUdp(this.socket), this.tcp?.close()]);
  }
}
