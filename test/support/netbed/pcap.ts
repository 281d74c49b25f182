// A tiny reader for the pcap files tcpdump writes (classic libpcap format, not pcapng): IPv4
// UDP/TCP packets with their addresses, ports and payload. Link types: Ethernet (1), Linux cooked
// SLL (113) and SLL2 (276, what `tcpdump -i any` writes). A truncated last record (the file is
// read while tcpdump still writes) is ignored.

export interface Packet {
  /** Capture time, seconds since the epoch. */
  ts: number;
  proto: 'udp' | 'tcp' | 'icmp' | 'other';
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const LINK_HEADER: Record<number, { len: number; typeAt: number }> = {
  1: { len: 14, typeAt: 12 }, // Ethernet: ethertype at 12
  113: { len: 16, typeAt: 14 }, // LINUX_SLL: protocol at 14
  276: { len: 20, typeAt: 0 }, // LINUX_SLL2: protocol at 0
};

function ip(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The IPv4 packet `frame` holds (after its link header), or null for anything else. */
function ipv4(frame: Buffer, ts: number): Packet | null {
  if (frame.length < 20 || frame[0]! >> 4 !== 4) return null;
  const ihl = (frame[0]! & 0x0f) * 4;
  const total = Math.min(frame.readUInt16BE(2), frame.length);
  const protoNum = frame[9]!;
  const base = { ts, src: ip(frame, 12), dst: ip(frame, 16) };
  const l4 = frame.subarray(ihl, total);
  if (protoNum === 17 && l4.length >= 8) {
    return { ...base, proto: 'udp', srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), payload: l4.subarray(8) };
  }
  if (protoNum === 6 && l4.length >= 20) {
    const off = (l4[12]! >> 4) * 4;
    return { ...base, proto: 'tcp', srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), payload: l4.subarray(off) };
  }
  return { ...base, proto: protoNum === 1 ? 'icmp' : 'other', srcPort: 0, dstPort: 0, payload: l4 };
}

export interface PcapHeader {
  le: boolean;
  nanos: boolean;
  link: { len: number; typeAt: number };
}

/** The 24-byte global header, or null while the file is shorter than that. */
export function pcapHeader(file: Buffer): PcapHeader | null {
  if (file.length < 24) return null;
  const magicLe = file.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const magic = le ? magicLe : file.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('pcap: not a classic pcap file');
  const linkType = le ? file.readUInt32LE(20) : file.readUInt32BE(20);
  const link = LINK_HEADER[linkType];
  if (!link) throw new Error(`pcap: unsupported link type ${linkType}`);
  return { le, nanos: magic === 0xa1b23c4d, link };
}

/** Parses the complete records in `chunk` (which starts at a record boundary); `used` = bytes consumed. */
export function readRecords(chunk: Buffer, hdr: PcapHeader): { packets: Packet[]; used: number } {
  const u32 = (at: number): number => (hdr.le ? chunk.readUInt32LE(at) : chunk.readUInt32BE(at));
  const packets: Packet[] = [];
  let at = 0;
  while (at + 16 <= chunk.length) {
    const incl = u32(at + 8);
    if (at + 16 + incl > chunk.length) break; // still being written
    const ts = u32(at) + u32(at + 4) / (hdr.nanos ? 1e9 : 1e6);
    const frame = chunk.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    if (frame.length < hdr.link.len || frame.readUInt16BE(hdr.link.typeAt) !== 0x0800) continue;
    const p = ipv4(frame.subarray(hdr.link.len), ts);
    if (p) packets.push(p);
  }
  return { packets, used: at };
}

export function readPcap(file: Buffer): Packet[] {
  const hdr = pcapHeader(file);
  return hdr ? readRecords(file.subarray(24), hdr).packets : [];
}

/** One line per packet ("udp 203.0.113.10:40000 > 203.0.113.20:5060 172 B"), for failure messages. */
export function summarize(packets: readonly Packet[], max = 40): string {
  const lines = packets.slice(0, max).map((p) => `${p.proto} ${p.src}:${p.srcPort} > ${p.dst}:${p.dstPort} ${p.payload.length} B`);
  if (packets.length > max) lines.push(`… ${packets.length - max} more`);
  return lines.join('\n');
}
