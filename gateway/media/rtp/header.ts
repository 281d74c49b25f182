// Allocation-free RTP/RTCP header accessors (RFC 3550 §5.1 fixed header, §5.3.1 header extension,
// §6.4 RTCP SR/RR sender SSRC). They read bytes directly (no DataView, no Buffer methods that throw
// on short input): on a buffer too short for the field the readers return -1 instead of throwing.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
// |                           timestamp                           |
// |           synchronization source (SSRC) identifier            |
// |            contributing source (CSRC) identifiers  (CC × 32)  |

export const RTP_FIXED_HEADER = 12;
export const RTP_VERSION = 2;

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/**
 * Length of the RTP header including CSRC list and header extension, or -1 when the first `length`
 * bytes (default: all) do not hold a valid version-2 header. RFC 3550 §5.3.1: the extension
 * starts with a 16-bit profile field and a 16-bit length counting 32-bit words after those 4 bytes.
 */
export function rtpHeaderLength(buf: Uint8Array, length: number = buf.length): number {
  if (length > buf.length) length = buf.length;
  if (length < RTP_FIXED_HEADER) return -1;
  const b0 = buf[0]!;
  if (b0 >> 6 !== RTP_VERSION) return -1;
  let len = RTP_FIXED_HEADER + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (len + 4 > length) return -1;
    len += 4 + 4 * ((buf[len + 2]! << 8) | buf[len + 3]!);
  }
  return len <= length ? len : -1;
}

/** SSRC (RFC 3550 §5.1), unsigned; -1 if shorter than the fixed header. */
export function rtpSsrc(buf: Uint8Array): number {
  return buf.length < RTP_FIXED_HEADER ? -1 : u32(buf, 8);
}

/** Sequence number 0..65535; -1 if shorter than the fixed header. */
export function rtpSeq(buf: Uint8Array): number {
  return buf.length < RTP_FIXED_HEADER ? -1 : (buf[2]! << 8) | buf[3]!;
}

/** Payload type 0..127 (the M bit masked off); -1 if shorter than the fixed header. */
export function rtpPayloadType(buf: Uint8Array): number {
  return buf.length < RTP_FIXED_HEADER ? -1 : buf[1]! & 0x7f;
}

/** Marker bit; false if shorter than the fixed header. */
export function rtpMarker(buf: Uint8Array): boolean {
  return buf.length >= RTP_FIXED_HEADER && (buf[1]! & 0x80) !== 0;
}

/** Timestamp, unsigned 32-bit; -1 if shorter than the fixed header. */
export function rtpTimestamp(buf: Uint8Array): number {
  return buf.length < RTP_FIXED_HEADER ? -1 : u32(buf, 4);
}

/** RTCP sender SSRC (bytes 4..7 of the first packet of a compound packet, RFC 3550 §6.4.1);
 *  -1 if shorter than 8 bytes. */
export function rtcpSsrc(buf: Uint8Array): number {
  return buf.length < 8 ? -1 : u32(buf, 4);
}

/** Overwrite the SSRC in place. Throws RangeError on a short buffer or a non-uint32 SSRC. */
export function setRtpSsrc(buf: Uint8Array, ssrc: number): void {
  if (buf.length < RTP_FIXED_HEADER) throw new RangeError(`RTP packet too short (${buf.length} bytes) for SSRC`);
  if (!Number.isInteger(ssrc) || ssrc < 0 || ssrc > 0xffffffff) throw new RangeError(`invalid SSRC ${ssrc}`);
  buf[8] = ssrc >>> 24;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
}

/** Overwrite the payload type in place, keeping the M bit. Throws RangeError on a short buffer or
 *  a PT outside 0..127. */
export function setRtpPayloadType(buf: Uint8Array, pt: number): void {
  if (buf.length < RTP_FIXED_HEADER) throw new RangeError(`RTP packet too short (${buf.length} bytes) for PT`);
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new RangeError(`invalid RTP payload type ${pt}`);
  buf[1] = (buf[1]! & 0x80) | pt;
}
