// Trunk side: plain RTP on an even port, RTCP on port+1 (RFC 3550 §11), symmetric RTP latching:
// send to the SDP c=/m= address until the first packet from the peer arrives, then to wherever the
// peer's packets come from (RFC 4961 §4: "a device that sends RTP ... to a given address/port uses
// that same address/port to receive", so the source of its packets is where it wants media).
import type dgram from 'node:dgram';
import type { Logger } from 'pino';
import { classify } from '../rtp/index.js';
import { closeUdp, watchErrors } from '../udp.js';
import { dropPacket, newCounters, sameEndpoint, type Endpoint, type LegCounters, type MediaLeg, type PacketSink } from './leg.js';

export interface RtpRemote {
  address: string;
  port: number;
  /** a=rtcp port (RFC 3605); default port+1. */
  rtcpPort?: number;
}

/** One direction of latching (RTP or RTCP): the SDP target until a packet arrives, then its source. */
class Latch {
  target: Endpoint | undefined;
  private latched = false;

  constructor(
    private readonly what: string,
    private readonly logger: Logger,
  ) {}

  fromSdp(address: string, port: number): void {
    if (this.latched) return; // the peer's own packets beat what its SDP said
    // RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) names no destination
    this.target = address === '0.0.0.0' || port === 0 ? undefined : { address, port };
  }

  observe(address: string, port: number): void {
    if (this.latched && sameEndpoint(this.target, address, port)) return;
    const previous = this.target;
    this.target = { address, port };
    this.latched = true;
    if (!sameEndpoint(previous, address, port)) {
      this.logger.info({ what: this.what, from: previous, to: this.target }, 'symmetric RTP: latched peer address');
    }
  }
}

export class RtpLeg implements MediaLeg {
  readonly profile = 'rtp' as const;
  readonly counters: LegCounters = newCounters();
  onRtp: PacketSink = dropPacket;
  onRtcp: PacketSink = dropPacket;
  private readonly rtpLatch: Latch;
  private readonly rtcpLatch: Latch;
  private closed = false;

  constructor(
    readonly port: number,
    private readonly rtpSocket: dgram.Socket,
    private readonly rtcpSocket: dgram.Socket,
    logger: Logger,
  ) {
    this.rtpLatch = new Latch('rtp', logger);
    this.rtcpLatch = new Latch('rtcp', logger);
    watchErrors(rtpSocket, logger);
    watchErrors(rtcpSocket, logger);
    rtpSocket.on('message', (msg, rinfo) => this.receiveRtp(msg, rinfo.address, rinfo.port));
    rtcpSocket.on('message', (msg, rinfo) => this.receiveRtcp(msg, rinfo.address, rinfo.port));
  }

  /** The peer's SDP (offer or answer) names where to send until its packets arrive. */
  setRemote(remote: RtpRemote): void {
    this.rtpLatch.fromSdp(remote.address, remote.port);
    this.rtcpLatch.fromSdp(remote.address, remote.rtcpPort ?? remote.port + 1);
  }

  private receiveRtp(msg: Buffer, address: string, port: number): void {
    // RFC 5761 §4: a peer may still multiplex RTCP onto the RTP port; tell them apart.
    const kind = classify(msg);
    if (kind !== 'rtp' && kind !== 'rtcp') return;
    this.countIn(msg);
    this.rtpLatch.observe(address, port);
    if (kind === 'rtp') this.onRtp(msg);
    else this.onRtcp(msg);
  }

  private receiveRtcp(msg: Buffer, address: string, port: number): void {
    if (classify(msg) !== 'rtcp') return;
    this.countIn(msg);
    this.rtcpLatch.observe(address, port);
    this.onRtcp(msg);
  }

  private countIn(msg: Buffer): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
  }

  sendRtp(packet: Buffer): void {
    this.send(this.rtpSocket, this.rtpLatch.target, packet);
  }

  sendRtcp(packet: Buffer): void {
    this.send(this.rtcpSocket, this.rtcpLatch.target, packet);
  }

  private send(socket: dgram.Socket, to: Endpoint | undefined, packet: Buffer): void {
    if (!to || this.closed) return;
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    socket.send(packet, to.port, to.address);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onRtp = dropPacket;
    this.onRtcp = dropPacket;
    await Promise.all([closeUdp(this.rtpSocket), closeUdp(this.rtcpSocket)]);
  }
}
