// RFC 3711 §4.3 key derivation with key_derivation_rate 0 (the only rate DTLS-SRTP uses).
import { AesCm } from './cipher.js';
import { SRTP_MASTER_KEY_LENGTH, SRTP_MASTER_SALT_LENGTH, SrtpError } from './profile.js';

export interface SrtpSessionKeySet {
  /** Session encryption key k_e, 16 bytes. */
  readonly encKey: Buffer;
  /** Session authentication key k_a, 20 bytes (HMAC-SHA1). */
  readonly authKey: Buffer;
  /** Session salt k_s, 14 bytes. */
  readonly salt: Buffer;
}

export interface SrtpSessionKeys {
  readonly rtp: SrtpSessionKeySet;
  readonly rtcp: SrtpSessionKeySet;
}

/** RFC 3711 §4.3.2: labels 0x00..0x02 for SRTP (enc, auth, salt), 0x03..0x05 for SRTCP. */
const LABEL = { rtpEnc: 0, rtpAuth: 1, rtpSalt: 2, rtcpEnc: 3, rtcpAuth: 4, rtcpSalt: 5 } as const;

/**
 * RFC 3711 §4.3.1: "key_id = <label> || r" with r = 0 when key_derivation_rate is 0;
 * "x = key_id XOR master_salt", where key_id (7 bytes) is right-aligned under the 14-byte salt, so the
 * label lands on salt byte 7; the session key is the AES-CM keystream with IV = x·2^16, truncated.
 */
function deriveOne(prf: AesCm, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, SRTP_MASTER_SALT_LENGTH);
  iv[7] ^= label;
  return Buffer.from(prf.keystream(iv, Math.ceil(length / 16)).subarray(0, length));
}

/** Derive the six SRTP/SRTCP session keys from a 16-byte master key and 14-byte master salt. */
export function deriveSrtpKeys(masterKey: Buffer, masterSalt: Buffer): SrtpSessionKeys {
  if (masterKey.length !== SRTP_MASTER_KEY_LENGTH) {
    throw new SrtpError(`SRTP master key must be ${SRTP_MASTER_KEY_LENGTH} bytes, got ${masterKey.length}`);
  }
  if (masterSalt.length !== SRTP_MASTER_SALT_LENGTH) {
    throw new SrtpError(`SRTP master salt must be ${SRTP_MASTER_SALT_LENGTH} bytes, got ${masterSalt.length}`);
  }
  const prf = new AesCm(masterKey);
  return {
    rtp: {
      encKey: deriveOne(prf, masterSalt, LABEL.rtpEnc, 16),
      authKey: deriveOne(prf, masterSalt, LABEL.rtpAuth, 20),
      salt: deriveOne(prf, masterSalt, LABEL.rtpSalt, 14),
    },
    rtcp: {
      encKey: deriveOne(prf, masterSalt, LABEL.rtcpEnc, 16),
      authKey: deriveOne(prf, masterSalt, LABEL.rtcpAuth, 20),
      salt: deriveOne(prf, masterSalt, LABEL.rtcpSalt, 14),
    },
  };
}
