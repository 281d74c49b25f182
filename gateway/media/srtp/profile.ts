// SRTP protection profiles supported by the embedded engine (RFC 5764 §4.1.2).

export type SrtpProfile = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SrtpProfileParams {
  /** DTLS use_srtp protection profile id (RFC 5764 §4.1.2). */
  readonly id: number;
  /** SRTP authentication tag length in bytes. */
  readonly rtpTagLength: number;
  /** SRTCP authentication tag length in bytes. */
  readonly rtcpTagLength: number;
}

/**
 * RFC 5764 §4.1.2: SRTP_AES128_CM_HMAC_SHA1_80 = {0x00, 0x01}: auth_tag_length 80;
 * SRTP_AES128_CM_HMAC_SHA1_32 = {0x00, 0x02}: auth_tag_length 32, RTCP_auth_tag_length 80.
 * Both: cipher AES_128_CM, key 128 bits, salt 112 bits, HMAC-SHA1 with a 160-bit key.
 */
export const SRTP_PROFILES: Readonly<Record<SrtpProfile, SrtpProfileParams>> = {
  AES_CM_128_HMAC_SHA1_80: { id: 0x0001, rtpTagLength: 10, rtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { id: 0x0002, rtpTagLength: 4, rtcpTagLength: 10 },
};

export const SRTP_MASTER_KEY_LENGTH = 16;
export const SRTP_MASTER_SALT_LENGTH = 14;

/** The profile for a DTLS use_srtp id, or undefined when we do not implement it (e.g. AEAD GCM). */
export function srtpProfileFromId(id: number): SrtpProfile | undefined {
  if (id === SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80.id) return 'AES_CM_128_HMAC_SHA1_80';
  if (id === SRTP_PROFILES.AES_CM_128_HMAC_SHA1_32.id) return 'AES_CM_128_HMAC_SHA1_32';
  return undefined;
}

/** Configuration errors (bad key sizes, unknown profile, malformed packet handed to protect). */
export class SrtpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrtpError';
  }
}
