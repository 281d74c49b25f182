// Trunk side: plain RTP on an even port, RTCP on port+1 (RFC 3550 §11), each with its own source latch
// (latch.ts): symmetric RTP, and with strictSource only the peer's expected address is taken.
import type dgram from 'node:dgram';
import { RtcpMonitor } from '../rtcp/monitor.js';
import { classify } from '../rtp/index.js';
import { closeUdp, watchErrors } from '../udp.js';
import { SourceLatch } from './latch.js';
import type { LegLog } from './leg-log.js';
import { dropPacket, mediaClock, newCounters, type Endpoint, type LegCounters, type MediaLeg, type PacketSink } from './leg.js';

export interface RtpRemote {
  address: string;
  port: number;
  /** a=rtcp port (RFC 3605); default port+1. */
  rtcpPort?: number;
  /** The IP the peer's SIP came from: a strict leg also takes media first sent from there. */
  peerAddress?: string;
}

export class RtpLeg implements MediaLeg {
  readonly profile = 'rtp' as const;
  readonly counters: LegCounters = newCounters();
  readonly rtcp = new RtcpMonitor('rtp');
  onRtp: PacketSink = dropPacket;
  onRtcp: PacketSink = dropPacket;
  private readonly rtpLatch: SourceLatch;
  private readonly rtcpLatch: SourceLatch;
  /** One info line per leg for the first rejected source; the rest go to debug (floods stay quiet). */
  private rejectionLogged = false;
  private closed = false;

  constructor(
    readonly port: number,
    private readonly rtpSocket: dgram.Socket,
    private readonly rtcpSocket: dgram.Socket,
    private readonly logger: LegLog,
    strictSource: boolean,
  ) {
    this.rtpLatch = new SourceLatch(strictSource);
    this.rtcpLatch = new SourceLatch(strictSource);
    watchErrors(rtpSocket, logger);
    watchErrors(rtcpSocket, logger);
    rtpSocket.on('message', (msg, rinfo) => this.receiveRtp(msg, rinfo.address, rinfo.port));
    rtcpSocket.on('message', (msg, rinfo) => this.receiveRtcp(msg, rinfo.address, rinfo.port));
  }

  /** The peer's SDP (offer or answer) names where to send until its packets arrive; each new one
   *  opens the latches again. */
  setRemote(remote: RtpRemote): void {
    this.rtpLatch.fromSdp(remote.address, remote.port, remote.peerAddress);
    this.rtcpLatch.fromSdp(remote.address, remote.rtcpPort ?? remote.port + 1, remote.peerAddress);
  }

  /** The sources latched so far (undefined until a packet latched one). */
  get sources(): { rtp?: Endpoint; rtcp?: Endpoint } {
    return { rtp: this.rtpLatch.source, rtcp: this.rtcpLatch.source };
  }

  private receiveRtp(msg: Buffer, address: string, port: number): void {
    // RFC 5761 §4: a peer may still multiplex RTCP onto the RTP port; tell them apart.
    const kind = classify(msg);
    if (kind !== 'rtp' && kind !== 'rtcp') return;
    if (!this.admit(this.rtpLatch, 'rtp', address, port)) return;
    this.countIn(msg, kind === 'rtcp');
    if (kind === 'rtp') {
      this.rtcp.rtpIn(msg, mediaClock());
      this.onRtp(msg);
    } else {
      this.rtcp.rtcpIn(msg, mediaClock());
      this.onRtcp(msg);
    }
  }

  private receiveRtcp(msg: Buffer, address: string, port: number): void {
    if (classify(msg) !== 'rtcp') return;
    if (!this.admit(this.rtcpLatch, 'rtcp', address, port)) return;
    this.countIn(msg, true);
    this.rtcp.rtcpIn(msg, mediaClock());
    this.onRtcp(msg);
  }

  private admit(latch: SourceLatch, what: 'rtp' | 'rtcp', address: string, port: number): boolean {
    const verdict = latch.admit(address, port);
    if (verdict === 'latched') {
      this.logger.info({ what, to: latch.target, strict: latch.strict }, 'symmetric RTP: latched peer address');
    } else if (verdict === 'rejected') {
      this.counters.packetsRejected++;
      // Per dropped packet under a spray: build the log record only when it will be written.
      if (!this.rejectionLogged) {
        this.logger.info({ what, from: { address, port }, latched: latch.source }, 'strict source: dropping media from an unexpected address (further drops at debug)');
        this.rejectionLogged = true;
      } else if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ what, from: { address, port } }, 'strict source: packet dropped');
      }
    }
    return verdict !== 'rejected';
  }

  private countIn(msg: Buffer, rtcp: boolean): void {
    if (rtcp) this.counters.rtcpIn++;
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
  }

  sendRtp(packet: Buffer): void {
    if (this.send(this.rtpSocket, this.rtpLatch.target, packet)) this.rtcp.rtpOut(packet, mediaClock());
  }

  sendRtcp(packet: Buffer): void {
    if (this.send(this.rtcpSocket, this.rtcpLatch.target, packet)) this.rtcp.rtcpOut(packet, mediaClock());
  }

  private send(socket: dgram.Socket, to: Endpoint | undefined, packet: Buffer): boolean {
    if (!to || this.closed) return false;
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    socket.send(packet, to.port, to.address);
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onRtp = dropPacket;
    this.onRtcp = dropPacket;
    await Promise.all([closeUdp(this.rtpSocket), closeUdp(this.rtcpSocket)]);
  }
}
