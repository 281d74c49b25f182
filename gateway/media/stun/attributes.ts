// Value codecs for XOR-MAPPED-ADDRESS (RFC 5389 §15.2), ERROR-CODE (§15.6), UNKNOWN-ATTRIBUTES
// (§15.9), PRIORITY and ICE-CONTROLLING/CONTROLLED (RFC 8445 §16.1).
import { isIPv4, isIPv6 } from 'node:net';
import { ERROR_REASONS, MAGIC_COOKIE } from './constants.js';

export type AddressFamily = 'IPv4' | 'IPv6';

export interface TransportAddress {
  address: string;
  port: number;
  /** Informational; the family is taken from the address itself. Node's rinfo may say 4/6. */
  family?: AddressFamily | number | string;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map((p) => Number(p)));
}

/** IPv6 text (with "::" and an optional dotted IPv4 tail) to 16 bytes; undefined if not IPv6. */
function ipv6Bytes(address: string): Buffer | undefined {
  const text = address.split('%')[0]!;
  if (!isIPv6(text)) return undefined;
  let groups = text.split(':');
  const last = groups[groups.length - 1]!;
  if (last.includes('.')) {
    const v4 = ipv4Bytes(last);
    groups = [...groups.slice(0, -1), v4.readUInt16BE(0).toString(16), v4.readUInt16BE(2).toString(16)];
  }
  const gap = groups.indexOf('');
  if (gap >= 0) {
    const head = groups.slice(0, gap).filter((g) => g !== '');
    const tail = groups.slice(gap + 1).filter((g) => g !== '');
    groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 5952 §4 text form: lowercase, leading zeros dropped, longest run (≥ 2) of zero groups as "::". */
function ipv6Text(b: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Address bytes and family; IPv4-mapped IPv6 (::ffff:a.b.c.d from dual-stack sockets) maps to IPv4. */
export function addressBytes(address: string): { family: AddressFamily; bytes: Buffer } | undefined {
  if (isIPv4(address)) return { family: 'IPv4', bytes: ipv4Bytes(address) };
  const v6 = ipv6Bytes(address);
  if (!v6) return undefined;
  const mapped = v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 'IPv4', bytes: Buffer.from(v6.subarray(12)) } : { family: 'IPv6', bytes: v6 };
}

/** XOR key for the address: the cookie for IPv4, cookie || transaction id for IPv6 (§15.2). */
function xorKey(transactionId: Buffer): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(key, 4);
  return key;
}

/** RFC 5389 §15.2: X-Port = port XOR (cookie >> 16); X-Address = address XOR cookie [|| txid]. */
export function encodeXorAddress(addr: TransportAddress, transactionId: Buffer): Buffer {
  const parsed = addressBytes(addr.address);
  if (!parsed) throw new RangeError(`not an IP address: ${addr.address}`);
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 0xffff) throw new RangeError(`bad port ${addr.port}`);
  const { family, bytes } = parsed;
  const out = Buffer.alloc(4 + bytes.length);
  out[1] = family === 'IPv4' ? 0x01 : 0x02;
  out.writeUInt16BE(addr.port ^ (MAGIC_COOKIE >>> 16), 2);
  const key = xorKey(transactionId);
  for (let i = 0; i < bytes.length; i++) out[4 + i] = bytes[i]! ^ key[i]!;
  return out;
}

export function decodeXorAddress(value: Buffer, transactionId: Buffer): Required<TransportAddress> | undefined {
  if (value.length < 4) return undefined;
  const family = value[1];
  const len = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (len === 0 || value.length !== 4 + len) return undefined;
  const key = xorKey(transactionId);
  const bytes = Buffer.alloc(len);
  for (let i = 0; i < len; i++) bytes[i] = value[4 + i]! ^ key[i]!;
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (len === 4) return { family: 'IPv4', address: Array.from(bytes).join('.'), port };
  return { family: 'IPv6', address: ipv6Text(bytes), port };
}

/** RFC 5389 §15.6: 21 reserved bits, Class (hundreds), Number (code mod 100), UTF-8 reason. */
export function encodeErrorCode(code: number, reason: string = ERROR_REASONS[code] ?? ''): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(4 + text.length);
  out[2] = Math.floor(code / 100) & 0x07;
  out[3] = code % 100;
  text.copy(out, 4);
  return out;
}

export function decodeErrorCode(value: Buffer): { code: number; reason: string } | undefined {
  if (value.length < 4) return undefined;
  return { code: (value[2]! & 0x07) * 100 + value[3]!, reason: value.subarray(4).toString('utf8') };
}

/** §15.9: a list of 16-bit attribute types. */
export function encodeUnknownAttributes(types: readonly number[]): Buffer {
  const out = Buffer.alloc(types.length * 2);
  types.forEach((t, i) => out.writeUInt16BE(t, i * 2));
  return out;
}

export function encodeUint32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n >>> 0, 0);
  return out;
}

/** RFC 8445 §16.1: ICE-CONTROLLING / ICE-CONTROLLED carry a 64-bit tie-breaker. */
export function encodeUint64(n: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt.asUintN(64, n), 0);
  return out;
}
