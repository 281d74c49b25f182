// RFC 5389 STUN message parsing and building on Buffers, with MESSAGE-INTEGRITY (§15.4) and
// FINGERPRINT (§15.5). Parsing never throws: it returns a reason for anything malformed.
import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  ATTR,
  CLASS_BITS,
  CLASS_NAMES,
  FINGERPRINT_XOR,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  TRANSACTION_ID_LENGTH,
  type StunClass,
} from './constants.js';

export interface StunAttribute {
  readonly type: number;
  /** Offset of the attribute's 4-byte TLV header in the message. */
  readonly offset: number;
  /** View of the value (unpadded) in the message buffer. */
  readonly value: Buffer;
}

export interface StunMessage {
  readonly method: number;
  readonly cls: StunClass;
  /** View of the 12-byte transaction id. */
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
  readonly raw: Buffer;
}

export type StunParseResult = { ok: true; message: StunMessage } | { ok: false; reason: string };

const pad4 = (n: number): number => (n + 3) & ~3;

/** RFC 7983 §7 (first byte 0..3) plus the RFC 5389 §6 magic cookie and minimum header size. */
export function isStun(buf: Uint8Array): boolean {
  return (
    buf.length >= HEADER_LENGTH &&
    buf[0]! <= 3 &&
    buf[4] === 0x21 &&
    buf[5] === 0x12 &&
    buf[6] === 0xa4 &&
    buf[7] === 0x42
  );
}

/** RFC 5389 §6: method bits M0-M11 interleaved with class bits C0 (bit 4) and C1 (bit 8). */
export function encodeMessageType(method: number, cls: StunClass): number {
  const c = CLASS_BITS[cls];
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((c & 1) << 4) | ((c & 2) << 7);
}

/** Parse and structurally validate a STUN message (RFC 5389 §6, §15: TLVs padded to 4 bytes). */
export function parseStun(buf: Buffer): StunParseResult {
  if (!isStun(buf)) return { ok: false, reason: 'not STUN (first byte, length or magic cookie)' };
  const length = (buf[2]! << 8) | buf[3]!;
  if (length !== buf.length - HEADER_LENGTH) return { ok: false, reason: `length field ${length} != ${buf.length - HEADER_LENGTH}` };
  if (length % 4 !== 0) return { ok: false, reason: 'length not a multiple of 4' };
  const type = (buf[0]! << 8) | buf[1]!;
  const cls = CLASS_NAMES[((type >> 4) & 1) | ((type >> 7) & 2)]!;
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  const attributes: StunAttribute[] = [];
  let at = HEADER_LENGTH;
  while (at < buf.length) {
    if (at + 4 > buf.length) return { ok: false, reason: `truncated attribute header at ${at}` };
    const atype = (buf[at]! << 8) | buf[at + 1]!;
    const alen = (buf[at + 2]! << 8) | buf[at + 3]!;
    if (at + 4 + alen > buf.length) return { ok: false, reason: `attribute 0x${atype.toString(16)} overruns the message` };
    attributes.push({ type: atype, offset: at, value: buf.subarray(at + 4, at + 4 + alen) });
    at += 4 + pad4(alen);
  }
  const transactionId = buf.subarray(8, 8 + TRANSACTION_ID_LENGTH);
  return { ok: true, message: { method, cls, transactionId, attributes, raw: buf } };
}

/** First attribute of `type`, if any. */
export function getAttribute(msg: StunMessage, type: number): StunAttribute | undefined {
  return msg.attributes.find((a) => a.type === type);
}

/** HMAC-SHA1 over raw[0, end) with the header length field replaced by `lengthField` (§15.4). */
function integrity(raw: Buffer, end: number, lengthField: number, key: Buffer | string): Buffer {
  const header = Buffer.from(raw.subarray(0, HEADER_LENGTH));
  header.writeUInt16BE(lengthField, 2);
  return createHmac('sha1', key).update(header).update(raw.subarray(HEADER_LENGTH, end)).digest();
}

/**
 * RFC 5389 §15.4: the HMAC covers the message up to, not including, MESSAGE-INTEGRITY, "with the
 * length field of the STUN message header adjusted to point to the end of the MESSAGE-INTEGRITY
 * attribute". Short-term credentials: the key is the password. False when absent or wrong.
 */
export function verifyMessageIntegrity(msg: StunMessage, key: Buffer | string): boolean {
  const mi = getAttribute(msg, ATTR.MESSAGE_INTEGRITY);
  if (!mi || mi.value.length !== 20) return false;
  const expected = integrity(msg.raw, mi.offset, mi.offset + 24 - HEADER_LENGTH, key);
  return expected.equals(mi.value);
}

/** RFC 5389 §15.5: "CRC-32 of the STUN message up to (but excluding) the FINGERPRINT attribute
 *  XOR'ed with 0x5354554e"; FINGERPRINT must be the last attribute. */
export function computeFingerprint(raw: Uint8Array, end: number): number {
  return (crc32(raw.subarray(0, end)) ^ FINGERPRINT_XOR) >>> 0;
}

/** 'absent', 'valid', or 'invalid' (wrong value, wrong size, or not the last attribute). */
export function checkFingerprint(msg: StunMessage): 'absent' | 'valid' | 'invalid' {
  const fp = getAttribute(msg, ATTR.FINGERPRINT);
  if (!fp) return 'absent';
  if (fp.value.length !== 4 || fp.offset + 8 !== msg.raw.length) return 'invalid';
  return fp.value.readUInt32BE(0) === computeFingerprint(msg.raw, fp.offset) ? 'valid' : 'invalid';
}

export interface StunBuildOptions {
  method?: number;
  cls: StunClass;
  transactionId: Buffer;
  attributes?: ReadonlyArray<{ type: number; value: Buffer }>;
  /** Adds MESSAGE-INTEGRITY keyed with this (short-term: the password). */
  integrityKey?: Buffer | string;
  /** Adds FINGERPRINT as the last attribute. */
  fingerprint?: boolean;
}

/** Build a STUN message; attributes in order, then MESSAGE-INTEGRITY, then FINGERPRINT (§15.4/15.5). */
export function buildStun(o: StunBuildOptions): Buffer {
  if (o.transactionId.length !== TRANSACTION_ID_LENGTH) throw new RangeError('STUN transaction id must be 12 bytes');
  const attrs = o.attributes ?? [];
  let size = HEADER_LENGTH;
  for (const a of attrs) size += 4 + pad4(a.value.length);
  const miAt = size;
  if (o.integrityKey !== undefined) size += 24;
  const fpAt = size;
  if (o.fingerprint) size += 8;
  const buf = Buffer.alloc(size);
  buf.writeUInt16BE(encodeMessageType(o.method ?? 0x001, o.cls), 0);
  buf.writeUInt32BE(MAGIC_COOKIE, 4);
  o.transactionId.copy(buf, 8);
  let at = HEADER_LENGTH;
  for (const a of attrs) {
    buf.writeUInt16BE(a.type, at);
    buf.writeUInt16BE(a.value.length, at + 2);
    a.value.copy(buf, at + 4);
    at += 4 + pad4(a.value.length);
  }
  if (o.integrityKey !== undefined) {
    const mac = integrity(buf, miAt, miAt + 24 - HEADER_LENGTH, o.integrityKey);
    buf.writeUInt16BE(ATTR.MESSAGE_INTEGRITY, miAt);
    buf.writeUInt16BE(20, miAt + 2);
    mac.copy(buf, miAt + 4);
  }
  buf.writeUInt16BE(size - HEADER_LENGTH, 2);
  if (o.fingerprint) {
    buf.writeUInt16BE(ATTR.FINGERPRINT, fpAt);
    buf.writeUInt16BE(4, fpAt + 2);
    buf.writeUInt32BE(computeFingerprint(buf, fpAt), fpAt + 4);
  }
  return buf;
}
