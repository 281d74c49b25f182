// A self-signed X.509 v3 certificate for DTLS-SRTP (RFC 5763 §5: self-signed certificates are the norm;
// the peer checks the SDP fingerprint, not a chain), built with node:crypto and a minimal DER encoder
// (ITU-T X.690) so that no certificate library is loaded at start.
// RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** DER tag-length-value (X.690 §8.1: definite length, long form above 127 bytes). */
function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));

/** X.690 §8.19: object identifier, first two arcs packed into one octet, base-128 after. */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const bytes = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A positive INTEGER (X.690 §8.3: a leading 0 when the top bit is set). */
function positiveInteger(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Zulu, with seconds. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

/** Name with a single commonName (OID 2.5.4.3) as a UTF8String. */
function name(commonName: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** RFC 5758 §3.2: ecdsa-with-SHA256, the parameters field absent. */
const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface SelfSigned {
  /** The DER certificate. */
  der: Buffer;
  certPem: string;
  /** PKCS #8 private key, PEM ("PRIVATE KEY"). */
  keyPem: string;
  privateKey: KeyObject;
}

/** An ECDSA P-256 key and a self-signed certificate over it, valid from a day ago for `days`. */
export function selfSignedEcdsaP256(commonName: string, days = 3650, now = new Date()): SelfSigned {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const notBefore = new Date(now.getTime() - 86_400_000);
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const subject = name(commonName);
  const tbs = seq(
    tlv(0xa0, positiveInteger(Buffer.from([2]))), // [0] EXPLICIT version v3
    positiveInteger(randomBytes(8)), // §4.1.2.2: positive, ≤ 20 octets, unique per issuer
    ECDSA_WITH_SHA256,
    subject, // issuer = subject: self-signed
    seq(time(notBefore), time(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  // RFC 5758 §3.2: the signature is the DER ECDSA-Sig-Value (node:crypto's default encoding).
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { der, certPem, keyPem, privateKey };
}
