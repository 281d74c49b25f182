// What one leg's RTP and RTCP say about the call's quality, and the RTCP the gateway sends on that leg.
// The leg tells the monitor about every packet it takes in from its peer (after SRTP) and every packet it
// sends (after any restamping, before SRTP): the monitor keeps RFC 3550 A.1/A.3/A.8 receive statistics per
// incoming source (rtcp/receiver.ts), send counters per outgoing source, the SRs it sent (for the round
// trip: RFC 3550 §6.4.1 "A − LSR − DLSR", timed on our own clock from when the SR left) and the peer's
// receiver reports about our streams. report() builds the compound SR/RR + SDES the gateway sends itself
// (media.rtcp: generate). Pure but for the clock passed in.
import { randomBytes, randomInt } from 'node:crypto';
import { directionMos, round2, type DirectionQuality, type LegQuality } from '../quality.js';
import { IN_ORDER, SourceStats } from './receiver.js';
import { parseRtcp, RtcpParseError, sdesCname, serialiseRtcp, type ReportBlock, type RtcpPacket } from './packet.js';

/** RFC 3551 §6 static payload types' clock rates (audio). */
const STATIC_RATES: Record<number, number> = { 0: 8000, 3: 8000, 4: 8000, 8: 8000, 9: 8000, 18: 8000 };
/** NTP era offset: seconds from 1900-01-01 to 1970-01-01 (RFC 3550 §4). */
const NTP_UNIX_OFFSET = 2_208_988_800;
/** Sources remembered per direction; older ones are folded into the totals. */
const MAX_SOURCES = 8;

export interface MonitorCodec {
  pt: number;
  name: string;
  rate: number;
}

interface SentStream {
  packets: number;
  octets: number;
  firstSeq: number;
  lastTs: number;
  lastAt: number;
  rate: number;
  /** The peer's latest report block about this stream. */
  remote?: ReportBlock;
}

interface Totals {
  packets: number;
  expected: number;
  lost: number;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** Middle 32 bits of the NTP timestamp of an SR (RFC 3550 §6.4.1 LSR). */
function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

export class RtcpMonitor {
  private readonly sources = new Map<number, SourceStats>();
  private readonly retired: Totals = { packets: 0, expected: 0, lost: 0 };
  private current: SourceStats | undefined;
  /** Clock rate per payload type, and the PTs that are audio (jitter is sampled on those only: RFC 4733
   *  events repeat their start timestamp and would read as jitter). */
  private rates = new Map<number, number>();
  private audio = new Set<number>(Object.keys(STATIC_RATES).map(Number));
  private codec: string | undefined;
  /** The clock rate the jitter estimate is in (the last audio packet's). */
  private jitterRate: number | undefined;
  private readonly sent = new Map<number, SentStream>();
  private sendingSsrc: number | undefined;
  /** The SSRC our RTCP carries before anything was sent (RFC 3550 §8.1: random). */
  private readonly ownSsrc = randomInt(1, 2 ** 32 - 1);
  private readonly cname: string;
  /** LSR key → when that SR left (ms): the SRs sent on this leg, relayed or ours. */
  private readonly sentSrs = new Map<number, number>();
  /** Per source, the last SR it sent: LSR key and when it arrived. */
  private readonly lastSr = new Map<number, { lsr: number; at: number }>();
  private rttMs: number | null = null;
  private intervalFraction: number | null = null;
  private sentAtPreviousReports: [number, number] = [0, 0];
  rtcpPacketsIn = 0;
  rtcpPacketsOut = 0;
  rtcpErrors = 0;
  /** When the next report is due (ms on the monitor's clock); set by the scheduler. */
  nextReportAt: number | undefined;

  constructor(
    readonly profile: 'rtp' | 'webrtc',
    cname?: string,
  ) {
    this.cname = cname ?? randomBytes(12).toString('base64url');
  }

  /** The codecs in use with the peer, in its payload type numbers (from the negotiated SDP). */
  setCodecs(codecs: readonly MonitorCodec[]): void {
    this.rates = new Map(codecs.map((c) => [c.pt, c.rate]));
    this.audio = new Set(codecs.filter((c) => !/^(telephone-event|cn|red)$/i.test(c.name)).map((c) => c.pt));
    this.codec = codecs.find((c) => this.audio.has(c.pt))?.name;
  }

  private rateOf(pt: number): number | undefined {
    return this.rates.get(pt) ?? STATIC_RATES[pt];
  }

  /** RTP from the peer (fixed header checked by the leg). `now` in ms. */
  rtpIn(packet: Uint8Array, now: number): void {
    const ssrc = u32(packet, 8);
    const seq = (packet[2]! << 8) | packet[3]!;
    let source = this.current?.ssrc === ssrc ? this.current : this.sources.get(ssrc);
    if (!source) source = this.addSource(ssrc, seq);
    this.current = source;
    const inOrder = source.update(seq) === IN_ORDER;
    const pt = packet[1]! & 0x7f;
    const rate = this.rateOf(pt);
    if (inOrder && rate !== undefined && this.audio.has(pt)) {
      source.jitterSample((now * rate) / 1000, u32(packet, 4));
      this.jitterRate = rate;
    }
  }

  private addSource(ssrc: number, seq: number): SourceStats {
    if (this.sources.size >= MAX_SOURCES) {
      const [oldest] = this.sources.values();
      this.retired.packets += oldest!.packets;
      this.retired.expected += oldest!.expected;
      this.retired.lost += oldest!.lost;
      this.sources.delete(oldest!.ssrc);
    }
    const source = new SourceStats(ssrc, seq);
    this.sources.set(ssrc, source);
    return source;
  }

  /** RTCP from the peer (after SRTCP). Malformed packets are counted and otherwise ignored. */
  rtcpIn(packet: Buffer, now: number): void {
    this.rtcpPacketsIn++;
    let packets: RtcpPacket[];
    try {
      packets = parseRtcp(packet);
    } catch (err) {
      if (!(err instanceof RtcpParseError)) throw err;
      this.rtcpErrors++;
      return;
    }
    for (const p of packets) {
      if (p.type === 'other') continue;
      if (p.type === 'sr') this.lastSr.set(p.ssrc, { lsr: ntpMiddle(p.sender.ntpSec, p.sender.ntpFrac), at: now });
      for (const block of p.reports) this.peerReport(block, now);
    }
  }

  /** A report block from the peer: about one of our streams to it, or (relayed RTCP) someone else's. */
  private peerReport(block: ReportBlock, now: number): void {
    const stream = this.sent.get(block.ssrc);
    if (!stream) return;
    stream.remote = block;
    const sentAt = block.lsr !== 0 ? this.sentSrs.get(block.lsr) : undefined;
    // RFC 3550 §6.4.1: round trip = A − LSR − DLSR, here "A − LSR" measured on our clock from when the SR left
    if (sentAt !== undefined) {
      const rtt = now - sentAt - (block.dlsr * 1000) / 65536;
      if (rtt >= 0) this.rttMs = rtt;
    }
  }

  /** RTP sent to the peer (as it goes on the wire, before SRTP). */
  rtpOut(packet: Uint8Array, now: number): void {
    const ssrc = u32(packet, 8);
    let stream = this.sent.get(ssrc);
    if (!stream) {
      if (this.sent.size >= MAX_SOURCES) this.sent.delete(this.sent.keys().next().value!);
      stream = { packets: 0, octets: 0, firstSeq: (packet[2]! << 8) | packet[3]!, lastTs: 0, lastAt: now, rate: 8000 };
      this.sent.set(ssrc, stream);
    }
    this.sendingSsrc = ssrc;
    stream.packets++;
    // RFC 3550 §6.4.1 sender's octet count: payload octets, not header or padding
    const cc = packet[0]! & 0x0f;
    stream.octets += Math.max(0, packet.length - 12 - 4 * cc);
    stream.lastTs = u32(packet, 4);
    stream.lastAt = now;
    stream.rate = this.rateOf(packet[1]! & 0x7f) ?? stream.rate;
  }

  /** RTCP sent to the peer (relayed or ours, before SRTCP): an SR's NTP time is remembered for the round trip. */
  rtcpOut(packet: Uint8Array, now: number): void {
    this.rtcpPacketsOut++;
    if (packet.length < 16 || packet[1] !== 200) return;
    if (this.sentSrs.size >= 16) this.sentSrs.delete(this.sentSrs.keys().next().value!);
    this.sentSrs.set(ntpMiddle(u32(packet, 8), u32(packet, 12)), now);
  }

  /** Close one report interval (RFC 3550 A.3) for every source heard, as report blocks. */
  private blocks(now: number): ReportBlock[] {
    const blocks: ReportBlock[] = [];
    for (const source of this.sources.values()) {
      if (source.expected === 0) continue;
      const interval = source.interval();
      if (source === this.current) this.intervalFraction = interval.fraction;
      const sr = this.lastSr.get(source.ssrc);
      blocks.push({
        ssrc: source.ssrc,
        fractionLost: interval.fraction,
        cumulativeLost: source.lostClamped,
        highestSeq: source.extendedMax >>> 0,
        jitter: Math.floor(source.jitter),
        lsr: sr?.lsr ?? 0,
        dlsr: sr ? Math.round(((now - sr.at) / 1000) * 65536) >>> 0 : 0,
      });
    }
    return blocks.slice(-31);
  }

  /** The compound RTCP packet the gateway sends on this leg now (RFC 3550 §6.1: SR if we sent RTP since
   *  the report before last, else RR; then SDES CNAME). `wallMs`: Unix time for the NTP timestamp. */
  report(now: number, wallMs: number): Buffer {
    const reports = this.blocks(now);
    const total = [...this.sent.values()].reduce((n, s) => n + s.packets, 0);
    const sending = total > this.sentAtPreviousReports[0];
    this.sentAtPreviousReports = [this.sentAtPreviousReports[1], total];
    const stream = this.sendingSsrc === undefined ? undefined : this.sent.get(this.sendingSsrc);
    const ssrc = this.sendingSsrc ?? this.ownSsrc;
    const head: RtcpPacket =
      sending && stream
        ? {
            type: 'sr',
            ssrc,
            sender: {
              ntpSec: (Math.floor(wallMs / 1000) + NTP_UNIX_OFFSET) >>> 0,
              ntpFrac: Math.floor(((wallMs % 1000) / 1000) * 2 ** 32) >>> 0,
              rtpTimestamp: (stream.lastTs + Math.round(((now - stream.lastAt) * stream.rate) / 1000)) >>> 0,
              packetCount: stream.packets >>> 0,
              octetCount: stream.octets >>> 0,
            },
            reports,
          }
        : { type: 'rr', ssrc, reports };
    return serialiseRtcp([head, sdesCname(ssrc, this.cname)]);
  }

  /** Relay mode: no report is sent, but the interval figures move on as if one were. */
  closeInterval(now: number): void {
    this.blocks(now);
  }

  /** The figures so far. */
  snapshot(tag: string): LegQuality {
    const rtt = this.rttMs === null ? null : round2(this.rttMs);
    const inbound = this.inbound();
    const outbound = this.outbound();
    return {
      tag,
      profile: this.profile,
      ...(this.codec ? { codec: this.codec } : {}),
      in: { ...inbound, mos: directionMos(inbound, rtt, this.codec) },
      out: { ...outbound, mos: directionMos(outbound, rtt, this.codec) },
      rttMs: rtt,
      rtcpIn: this.rtcpPacketsIn,
      rtcpOut: this.rtcpPacketsOut,
      rtcpErrors: this.rtcpErrors,
    };
  }

  private inbound(): Omit<DirectionQuality, 'mos'> {
    const t = { ...this.retired };
    for (const s of this.sources.values()) {
      t.packets += s.packets;
      t.expected += s.expected;
      t.lost += s.lost;
    }
    const rate = this.jitterRate;
    const jitterMs = this.current && rate ? round2((this.current.jitter * 1000) / rate) : null;
    return {
      packets: t.packets,
      expected: t.expected,
      lost: t.lost,
      lossPercent: t.expected > 0 ? round2((100 * t.lost) / t.expected) : t.packets > 0 ? 0 : null,
      intervalLossPercent: this.intervalFraction === null ? null : round2((this.intervalFraction * 100) / 256),
      jitterMs,
    };
  }

  private outbound(): Omit<DirectionQuality, 'mos'> {
    let packets = 0;
    let expected = 0;
    let lost = 0;
    let latest: (ReportBlock & { rate: number }) | undefined;
    for (const s of this.sent.values()) {
      packets += s.packets;
      if (!s.remote) continue;
      expected += Math.max(0, s.remote.highestSeq - s.firstSeq + 1);
      lost += s.remote.cumulativeLost;
      latest = { ...s.remote, rate: s.rate };
    }
    if (!latest) return { packets, expected: null, lost: null, lossPercent: null, intervalLossPercent: null, jitterMs: null };
    return {
      packets,
      expected,
      lost,
      lossPercent: expected > 0 ? round2((100 * lost) / expected) : 0,
      intervalLossPercent: round2((latest.fractionLost * 100) / 256),
      jitterMs: round2((latest.jitter * 1000) / latest.rate),
    };
  }
}
