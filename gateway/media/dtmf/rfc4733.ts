// RFC 4733 telephone-event payloads (§2.3) and the RTP packets that carry them. Pure and allocation-light.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |     event     |E|R| volume    |          duration             |
import { rtpHeaderLength, rtpPayloadType } from '../rtp/header.js';

export const EVENT_PAYLOAD_LENGTH = 4;
/** RFC 4733 §3.2: DTMF events 0-9, * (10), # (11), A-D (12-15), flash (16). */
const SIGNALS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D', '16'];

export interface TelephoneEvent {
  /** Event code 0-255 (DTMF: 0-16). */
  event: number;
  /** E bit: the last packet(s) of the event. */
  end: boolean;
  /** §2.3.4: power level of the tone in -dBm0 (0-63; larger is quieter). */
  volume: number;
  /** §2.3.5: in timestamp units since the event's start (the packet's RTP timestamp). */
  duration: number;
}

/** The RFC 4733 event code of a DTMF signal ('0'-'9', '*', '#', 'A'-'D', '16'); undefined if none. */
export function eventOf(signal: string): number | undefined {
  const i = SIGNALS.indexOf(signal.toUpperCase());
  return i < 0 ? undefined : i;
}

/** The DTMF signal of an event code; undefined for events that are not DTMF (17-255). */
export function signalOf(event: number): string | undefined {
  return SIGNALS[event];
}

export function encodeEvent(e: TelephoneEvent): Buffer {
  if (!Number.isInteger(e.event) || e.event < 0 || e.event > 255) throw new RangeError(`event ${e.event} is not 0-255`);
  if (!Number.isInteger(e.volume) || e.volume < 0 || e.volume > 63) throw new RangeError(`volume ${e.volume} is not 0-63`);
  if (!Number.isInteger(e.duration) || e.duration < 0 || e.duration > 0xffff) throw new RangeError(`duration ${e.duration} is not 0-65535`);
  const b = Buffer.alloc(EVENT_PAYLOAD_LENGTH);
  b[0] = e.event;
  // §2.3.3: "R: This field is reserved for future use. The sender MUST set it to zero"
  b[1] = (e.end ? 0x80 : 0) | e.volume;
  b.writeUInt16BE(e.duration, 2);
  return b;
}

/** Decodes the first event of a payload (§2.5.2: several events may follow; DTMF sends one); undefined
 *  when shorter than 4 bytes. The R bit is ignored (§2.3.3: "the receiver MUST ignore it"). */
export function decodeEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < EVENT_PAYLOAD_LENGTH) return undefined;
  return { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: (payload[2]! << 8) | payload[3]! };
}

export interface EventPacketHeader {
  pt: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
}

/** A whole RTP packet (RFC 3550 §5.1 fixed header, no CSRC, no extension) carrying `e`. */
export function eventPacket(h: EventPacketHeader, e: TelephoneEvent): Buffer {
  const packet = Buffer.alloc(12 + EVENT_PAYLOAD_LENGTH);
  packet[0] = 0x80;
  packet[1] = (h.marker ? 0x80 : 0) | (h.pt & 0x7f);
  packet.writeUInt16BE(h.seq & 0xffff, 2);
  packet.writeUInt32BE(h.timestamp >>> 0, 4);
  packet.writeUInt32BE(h.ssrc >>> 0, 8);
  encodeEvent(e).copy(packet, 12);
  return packet;
}

export interface DecodedEventPacket extends TelephoneEvent {
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
}

/** An RTP packet of payload type `pt` decoded as a telephone-event; undefined for another PT, a bad
 *  header or a short payload (padding, RFC 3550 §5.1, is not expected on events and not stripped). */
export function decodeEventPacket(packet: Uint8Array, pt: number): DecodedEventPacket | undefined {
  if (rtpPayloadType(packet) !== pt) return undefined;
  const at = rtpHeaderLength(packet);
  if (at < 0) return undefined;
  const e = decodeEvent(packet.subarray(at));
  if (!e) return undefined;
  const u32 = (i: number) => ((packet[i]! << 24) | (packet[i + 1]! << 16) | (packet[i + 2]! << 8) | packet[i + 3]!) >>> 0;
  return { ...e, marker: (packet[1]! & 0x80) !== 0, seq: (packet[2]! << 8) | packet[3]!, timestamp: u32(4), ssrc: u32(8) };
}
