// RFC 5764 §4.2: SRTP master keys from the DTLS exporter.
import { SrtpContext } from './context.js';
import { SRTP_MASTER_KEY_LENGTH as K, SRTP_MASTER_SALT_LENGTH as S, SrtpError, type SrtpProfile } from './profile.js';

/** Exporter label for DTLS-SRTP keying material (RFC 5764 §4.2). */
export const DTLS_SRTP_EXPORTER_LABEL = 'EXTRACTOR-dtls_srtp';
/** 2·(16 + 14) bytes of keying material for the AES_CM_128 profiles. */
export const DTLS_SRTP_KEYING_MATERIAL_LENGTH = 2 * (K + S);

export interface SrtpContextPair {
  /** Protects what this side sends. */
  readonly local: SrtpContext;
  /** Unprotects what the peer sends. */
  readonly remote: SrtpContext;
}

/**
 * RFC 5764 §4.2: the exporter output (label "EXTRACTOR-dtls_srtp") is laid out as
 * "client_write_SRTP_master_key[SRTPSecurityParams.master_key_len]; server_write_SRTP_master_key;
 *  client_write_SRTP_master_salt; server_write_SRTP_master_salt". The DTLS client protects with the
 * client_write keys; the server with the server_write keys. Throws SrtpError on a wrong length.
 */
export function srtpContextsFromDtls(
  keyingMaterial: Buffer,
  role: 'client' | 'server',
  profile: SrtpProfile = 'AES_CM_128_HMAC_SHA1_80',
): SrtpContextPair {
  if (keyingMaterial.length !== DTLS_SRTP_KEYING_MATERIAL_LENGTH) {
    throw new SrtpError(
      `DTLS-SRTP keying material must be ${DTLS_SRTP_KEYING_MATERIAL_LENGTH} bytes, got ${keyingMaterial.length}`,
    );
  }
  const clientKey = keyingMaterial.subarray(0, K);
  const serverKey = keyingMaterial.subarray(K, 2 * K);
  const clientSalt = keyingMaterial.subarray(2 * K, 2 * K + S);
  const serverSalt = keyingMaterial.subarray(2 * K + S, 2 * (K + S));
  const client = new SrtpContext(clientKey, clientSalt, profile);
  const server = new SrtpContext(serverKey, serverSalt, profile);
  return role === 'client' ? { local: client, remote: server } : { local: server, remote: client };
}
