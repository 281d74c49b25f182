// RTCP compound packets (RFC 3550 §6.4 SR/RR with their report blocks; every other packet type — SDES,
// BYE, APP, RFC 4585 feedback, XR — kept as opaque bytes). parseRtcp never throws anything but
// RtcpParseError, and what it accepts serialises back to the very same bytes (padding and profile-specific
// extensions included): a seeded mutation test holds it to both (test/unit/media/rtcp-packet.test.ts).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |V=2|P|    RC   |   PT=SR=200   |             length            |  header
// |                         SSRC of sender                        |
// |              NTP timestamp, most significant word             |  sender info (SR only)
// |             NTP timestamp, least significant word             |
// |                         RTP timestamp                         |
// |                     sender's packet count                     |
// |                      sender's octet count                     |
// |                 SSRC_1 (SSRC of first source)                 |  report block (RC times)
// | fraction lost |       cumulative number of packets lost       |
// |           extended highest sequence number received           |
// |                      interarrival jitter                      |
// |                         last SR (LSR)                         |
// |                   delay since last SR (DLSR)                  |

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
const HEADER = 4;
const SENDER_INFO = 20;
const BLOCK = 24;

export class RtcpParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RtcpParseError';
  }
}

export interface ReportBlock {
  /** The source this block reports on. */
  ssrc: number;
  /** RFC 3550 §6.4.1: lost/expected since the previous report, as a fixed-point fraction ×256 (0..255). */
  fractionLost: number;
  /** Cumulative packets lost (signed 24-bit: duplicates can make it negative). */
  cumulativeLost: number;
  /** Cycles ×65536 + highest sequence number received. */
  highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from the source; 0: none yet. */
  lsr: number;
  /** Delay since that SR, in 1/65536 s. */
  dlsr: number;
}

export interface SenderInfo {
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

interface Common {
  /** Padding bytes at the end of the packet (last byte = their count, RFC 3550 §6.4.1 P bit); usually absent. */
  padding?: Buffer;
}

export interface SenderReport extends Common {
  type: 'sr';
  ssrc: number;
  sender: SenderInfo;
  reports: ReportBlock[];
  /** Profile-specific extension after the report blocks. */
  extension?: Buffer;
}

export interface ReceiverReport extends Common {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
  extension?: Buffer;
}

/** Any other packet type: the 5-bit count and the body after the 4-byte header, as they were. */
export interface OtherRtcp extends Common {
  type: 'other';
  packetType: number;
  count: number;
  body: Buffer;
}

export type RtcpPacket = SenderReport | ReceiverReport | OtherRtcp;

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function readBlock(buf: Buffer, at: number): ReportBlock {
  const raw = (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!;
  return {
    ssrc: u32(buf, at),
    fractionLost: buf[at + 4]!,
    cumulativeLost: raw & 0x800000 ? raw - 0x1000000 : raw,
    highestSeq: u32(buf, at + 8),
    jitter: u32(buf, at + 12),
    lsr: u32(buf, at + 16),
    dlsr: u32(buf, at + 20),
  };
}

/** One packet of a compound: `at` its first byte; returns it and where the next starts. */
function parseOne(buf: Buffer, at: number): [RtcpPacket, number] {
  if (buf.length - at < HEADER) throw new RtcpParseError(`truncated RTCP header at byte ${at}`);
  const b0 = buf[at]!;
  // RFC 3550 A.2: "RTP version field must equal 2"
  if (b0 >> 6 !== 2) throw new RtcpParseError(`RTCP version ${b0 >> 6} at byte ${at}, expected 2`);
  const count = b0 & 0x1f;
  const packetType = buf[at + 1]!;
  const end = at + 4 * (((buf[at + 2]! << 8) | buf[at + 3]!) + 1);
  if (end > buf.length) throw new RtcpParseError(`RTCP packet at byte ${at} claims ${end - at} bytes, ${buf.length - at} present`);
  let bodyEnd = end;
  const common: Common = {};
  if (b0 & 0x20) {
    const pad = buf[end - 1]!;
    if (pad === 0 || pad > end - at - HEADER) throw new RtcpParseError(`RTCP padding count ${pad} invalid at byte ${at}`);
    bodyEnd = end - pad;
    common.padding = Buffer.from(buf.subarray(bodyEnd, end));
  }
  if (packetType !== RTCP_SR && packetType !== RTCP_RR) {
    return [{ type: 'other', packetType, count, body: Buffer.from(buf.subarray(at + HEADER, bodyEnd)), ...common }, end];
  }
  const info = packetType === RTCP_SR ? SENDER_INFO : 0;
  const blocksAt = at + 8 + info;
  if (blocksAt + count * BLOCK > bodyEnd) throw new RtcpParseError(`RTCP ${packetType === RTCP_SR ? 'SR' : 'RR'} at byte ${at} too short for ${count} report blocks`);
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++) reports.push(readBlock(buf, blocksAt + i * BLOCK));
  const extEnd = blocksAt + count * BLOCK;
  const rest = extEnd < bodyEnd ? { extension: Buffer.from(buf.subarray(extEnd, bodyEnd)) } : {};
  const ssrc = u32(buf, at + 4);
  if (packetType === RTCP_RR) return [{ type: 'rr', ssrc, reports, ...rest, ...common }, end];
  const sender: SenderInfo = {
    ntpSec: u32(buf, at + 8),
    ntpFrac: u32(buf, at + 12),
    rtpTimestamp: u32(buf, at + 16),
    packetCount: u32(buf, at + 20),
    octetCount: u32(buf, at + 24),
  };
  return [{ type: 'sr', ssrc, sender, reports, ...rest, ...common }, end];
}

/** A compound RTCP packet (already SRTCP-unprotected). Throws RtcpParseError on anything malformed:
 *  a version other than 2, a length past the end, bytes left over, report blocks that do not fit. */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  if (buf.length === 0) throw new RtcpParseError('empty RTCP packet');
  const packets: RtcpPacket[] = [];
  let at = 0;
  while (at < buf.length) {
    const [packet, next] = parseOne(buf, at);
    packets.push(packet);
    at = next;
  }
  return packets;
}

function put32(buf: Buffer, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

function writeBlock(buf: Buffer, at: number, b: ReportBlock): void {
  put32(buf, at, b.ssrc);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(b.cumulativeLost))) & 0xffffff;
  put32(buf, at + 4, ((b.fractionLost & 0xff) << 24) | lost);
  put32(buf, at + 8, b.highestSeq);
  put32(buf, at + 12, b.jitter);
  put32(buf, at + 16, b.lsr);
  put32(buf, at + 20, b.dlsr);
}

function serialiseOne(p: RtcpPacket): Buffer {
  const pad = p.padding?.length ?? 0;
  let body: Buffer;
  let count: number;
  let packetType: number;
  if (p.type === 'other') {
    [body, count, packetType] = [p.body, p.count, p.packetType];
  } else {
    if (p.reports.length > 31) throw new RangeError(`RTCP ${p.type}: ${p.reports.length} report blocks, at most 31`);
    const info = p.type === 'sr' ? SENDER_INFO : 0;
    const ext = p.extension?.length ?? 0;
    body = Buffer.alloc(4 + info + p.reports.length * BLOCK + ext);
    put32(body, 0, p.ssrc);
    if (p.type === 'sr') {
      const s = p.sender;
      [s.ntpSec, s.ntpFrac, s.rtpTimestamp, s.packetCount, s.octetCount].forEach((v, i) => put32(body, 4 + 4 * i, v >>> 0));
    }
    p.reports.forEach((b, i) => writeBlock(body, 4 + info + i * BLOCK, b));
    p.extension?.copy(body, 4 + info + p.reports.length * BLOCK);
    [count, packetType] = [p.reports.length, p.type === 'sr' ? RTCP_SR : RTCP_RR];
  }
  const total = HEADER + body.length + pad;
  if (total % 4 !== 0) throw new RangeError(`RTCP packet of ${total} bytes is not a multiple of 32 bits`);
  const out = Buffer.alloc(total);
  out[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (count & 0x1f);
  out[1] = packetType;
  out.writeUInt16BE(total / 4 - 1, 2);
  body.copy(out, HEADER);
  p.padding?.copy(out, HEADER + body.length);
  return out;
}

/** The wire form of a compound packet. RangeError on what cannot be written (more than 31 blocks, a
 *  body that is not a multiple of 32 bits). */
export function serialiseRtcp(packets: readonly RtcpPacket[]): Buffer {
  return Buffer.concat(packets.map(serialiseOne));
}

/** RFC 3550 §6.5.1: an SDES packet with one chunk, our CNAME, ended by a null item and padded to 32 bits. */
export function sdesCname(ssrc: number, cname: string): OtherRtcp {
  const text = Buffer.from(cname, 'utf8').subarray(0, 255);
  const chunk = 4 + 2 + text.length + 1; // SSRC, CNAME item (type 1, length, text), END
  const body = Buffer.alloc(Math.ceil(chunk / 4) * 4);
  put32(body, 0, ssrc);
  body[4] = 1;
  body[5] = text.length;
  text.copy(body, 6);
  return { type: 'other', packetType: RTCP_SDES, count: 1, body };
}
