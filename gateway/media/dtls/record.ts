// Just enough of the DTLS 1.2 record layer (RFC 6347 §4.1, §4.2.2) to recognise the first message of
// a new handshake without decrypting anything.
//
//  record:    type(1) version(2) epoch(2) sequence_number(6) length(2)          = 13 bytes
//  handshake: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3) = 12 bytes

const RECORD_HEADER = 13;
const HANDSHAKE_HEADER = 12;
const CONTENT_HANDSHAKE = 22;
const CLIENT_HELLO = 1;

/**
 * True for a datagram whose first record is an unencrypted (epoch 0) ClientHello with message_seq 0:
 * RFC 6347 §4.2.2 "the first message each side transmits in each handshake always has message_seq =
 * 0", so this starts a new handshake. A renegotiation inside a running association would be at
 * epoch > 0 (encrypted), and the cookie-bearing second ClientHello (RFC 6347 §4.2.1) has
 * message_seq 1: neither matches. Never throws.
 */
export function isInitialClientHello(datagram: Uint8Array): boolean {
  if (datagram.length < RECORD_HEADER + HANDSHAKE_HEADER) return false;
  if (datagram[0] !== CONTENT_HANDSHAKE) return false;
  if (datagram[3] !== 0 || datagram[4] !== 0) return false; // epoch 0
  if (datagram[RECORD_HEADER] !== CLIENT_HELLO) return false;
  return datagram[RECORD_HEADER + 4] === 0 && datagram[RECORD_HEADER + 5] === 0; // message_seq 0
}
