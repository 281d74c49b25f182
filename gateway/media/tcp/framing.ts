// RFC 4571 framing of packets on a TCP connection, as ICE-TCP uses it. RFC 6544 §3: "TCP media
// streams utilizing ICE use the basic framing provided in RFC 4571 [RFC4571], even if the
// application layer protocol is not RTP." RFC 4571 §2: each packet is preceded by a 16-bit unsigned
// LENGTH in network byte order, the number of octets of the packet that follows; so no frame
// exceeds 65535 octets. STUN, DTLS, SRTP and SRTCP all travel this way (RFC 7983 demux per frame).

/** RFC 4571 §2: LENGTH is 16 bits. */
export const MAX_RFC4571_FRAME = 0xffff;
const LENGTH_BYTES = 2;

/** A stream that cannot be de-framed (a frame larger than the receiver accepts). */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** One packet with its RFC 4571 length prefix. */
export function frame(packet: Uint8Array): Buffer {
  if (packet.length > MAX_RFC4571_FRAME) throw new FramingError(`packet of ${packet.length} bytes exceeds the RFC 4571 LENGTH field`);
  const out = Buffer.allocUnsafe(LENGTH_BYTES + packet.length);
  out.writeUInt16BE(packet.length, 0);
  out.set(packet, LENGTH_BYTES);
  return out;
}

/**
 * Splits a byte stream back into packets: chunks may end mid-length or mid-packet, and one chunk may
 * carry several frames. Holds at most one partial frame (≤ maxFrame + 2 bytes). push() throws
 * FramingError — and only that — for a frame whose LENGTH exceeds `maxFrame`; the stream is then
 * unusable (the caller closes the connection).
 */
export class Deframer {
  private pending: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(private readonly maxFrame: number = MAX_RFC4571_FRAME) {
    if (!Number.isInteger(maxFrame) || maxFrame < 1 || maxFrame > MAX_RFC4571_FRAME) {
      throw new RangeError(`maxFrame must be 1..${MAX_RFC4571_FRAME}`);
    }
  }

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** The complete packets `chunk` finishes, in order (zero-length frames included). */
  push(chunk: Uint8Array): Buffer[] {
    if (this.broken) throw new FramingError('stream already failed to de-frame');
    let data = this.pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.pending, chunk]);
    const packets: Buffer[] = [];
    while (data.length >= LENGTH_BYTES) {
      const length = data.readUInt16BE(0);
      if (length > this.maxFrame) {
        this.broken = true;
        this.pending = Buffer.alloc(0);
        throw new FramingError(`frame of ${length} bytes exceeds the limit of ${this.maxFrame}`);
      }
      if (data.length < LENGTH_BYTES + length) break;
      // A copy: the caller may keep or modify packets, and `chunk` belongs to the socket.
      packets.push(Buffer.from(data.subarray(LENGTH_BYTES, LENGTH_BYTES + length)));
      data = data.subarray(LENGTH_BYTES + length);
    }
    this.pending = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
    return packets;
  }
}
