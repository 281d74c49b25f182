// RFC 3711 SRTP/SRTCP (AES_CM_128_HMAC_SHA1_80/_32) and RFC 5764 DTLS-SRTP keying.
export { SrtpContext } from './context.js';
export { deriveSrtpKeys, type SrtpSessionKeys, type SrtpSessionKeySet } from './kdf.js';
export {
  srtpContextsFromDtls,
  DTLS_SRTP_EXPORTER_LABEL,
  DTLS_SRTP_KEYING_MATERIAL_LENGTH,
  type SrtpContextPair,
} from './dtls.js';
export {
  SRTP_PROFILES,
  SRTP_MASTER_KEY_LENGTH,
  SRTP_MASTER_SALT_LENGTH,
  SrtpError,
  srtpProfileFromId,
  type SrtpProfile,
  type SrtpProfileParams,
} from './profile.js';
export { AesCm } from './cipher.js';
