// SRTP AES_CM_128_HMAC_SHA1_80 (RFC 3711) on OpenSSL, in place, no allocation per packet: the session
// keys derived once (§4.3.1, key derivation rate 0), an AES-128-CTR context keyed once (only the IV is
// set per packet, §4.1.1), HMAC-SHA1 from the precomputed inner and outer pad states (§4.2.1), the
// rollover counter kept per direction (§3.3.1). Debian's libsrtp2 does its crypto through NSS, with an
// allocation and a lock per packet; this is several times cheaper, and the generator must stay small.
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init/Update/Final: the pad states are copied per packet */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "loadgen.h"

#define LABEL_CIPHER 0x00
#define LABEL_AUTH 0x01
#define LABEL_SALT 0x02

/** §4.3.1: AES-CM of the master key over (master salt XOR label at byte 7) * 2^16, index 0. */
static int derive(const uint8_t *master_key, const uint8_t *master_salt, uint8_t label, uint8_t *out, int len) {
  uint8_t iv[16] = {0}, zeros[32] = {0};
  memcpy(iv, master_salt, SRTP_SALT_BYTES);
  iv[7] ^= label;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, master_key, iv) && EVP_EncryptUpdate(ctx, out, &n, zeros, len);
  EVP_CIPHER_CTX_free(ctx);
  return ok ? 0 : -1;
}

int srtp_init_context(struct srtp_context *c, const uint8_t *master_key, const uint8_t *master_salt) {
  uint8_t key[16], auth[20], pad[64];
  memset(c, 0, sizeof *c);
  if (derive(master_key, master_salt, LABEL_CIPHER, key, 16) || derive(master_key, master_salt, LABEL_AUTH, auth, 20) ||
      derive(master_key, master_salt, LABEL_SALT, c->salt, SRTP_SALT_BYTES))
    return -1;
  c->aes = EVP_CIPHER_CTX_new();
  if (!c->aes || !EVP_EncryptInit_ex(c->aes, EVP_aes_128_ctr(), NULL, key, NULL)) return -1;
  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
  SHA1_Init(&c->inner);
  SHA1_Update(&c->inner, pad, sizeof pad);
  memset(pad, 0x5C, sizeof pad);
  for (int i = 0; i < 20; i++) pad[i] ^= auth[i];
  SHA1_Init(&c->outer);
  SHA1_Update(&c->outer, pad, sizeof pad);
  return 0;
}

void srtp_free_context(struct srtp_context *c) {
  EVP_CIPHER_CTX_free(c->aes);
  c->aes = NULL;
}

static int header_length(const uint8_t *p, int len) {
  int n = RTP_HEADER_BYTES + 4 * (p[0] & 0x0F);
  if ((p[0] & 0x10) && n + 4 <= len) n += 4 + 4 * ((p[n + 2] << 8) | p[n + 3]);
  return n <= len ? n : -1;
}

/** §4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16); the payload XORed in place. */
static int crypt(struct srtp_context *c, uint8_t *p, int from, int len, uint32_t roc) {
  uint8_t iv[16];
  memcpy(iv, c->salt, SRTP_SALT_BYTES);
  iv[14] = iv[15] = 0;
  for (int i = 0; i < 4; i++) iv[4 + i] ^= p[8 + i];
  iv[8] ^= roc >> 24, iv[9] ^= roc >> 16, iv[10] ^= roc >> 8, iv[11] ^= roc & 0xFF;
  iv[12] ^= p[2], iv[13] ^= p[3];
  int n = 0;
  return EVP_EncryptInit_ex(c->aes, NULL, NULL, NULL, iv) && EVP_EncryptUpdate(c->aes, p + from, &n, p + from, len - from) ? 0 : -1;
}

/** §4.2: HMAC-SHA1 over the packet and the ROC, the first 80 bits. */
static void tag(struct srtp_context *c, const uint8_t *p, int len, uint32_t roc, uint8_t *out) {
  uint8_t r[4] = {roc >> 24, roc >> 16, roc >> 8, roc & 0xFF}, digest[SHA_DIGEST_LENGTH];
  SHA_CTX h = c->inner;
  SHA1_Update(&h, p, (size_t)len);
  SHA1_Update(&h, r, 4);
  SHA1_Final(digest, &h);
  h = c->outer;
  SHA1_Update(&h, digest, sizeof digest);
  SHA1_Final(digest, &h);
  memcpy(out, digest, SRTP_TAG_BYTES);
}

int srtp_protect_packet(struct srtp_context *c, uint8_t *p, int len) {
  int from = header_length(p, len);
  uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
  if (from < 0) return -1;
  if (c->seen && seq < c->last_seq) c->roc++; /* the sender's own sequence wrapped */
  c->seen = 1;
  c->last_seq = seq;
  if (crypt(c, p, from, len, c->roc)) return -1;
  tag(c, p, len, c->roc, p + len);
  return len + SRTP_TAG_BYTES;
}

/** §3.3.1: the index guessed from the highest sequence number seen (s_l) and the ROC. */
static uint32_t guess_roc(const struct srtp_context *c, uint16_t seq) {
  if (!c->seen) return c->roc;
  if (c->last_seq < 32768) return seq - c->last_seq > 32768 ? c->roc - 1 : c->roc;
  return c->last_seq - 32768 > seq ? c->roc + 1 : c->roc;
}

int srtp_unprotect_packet(struct srtp_context *c, uint8_t *p, int len) {
  len -= SRTP_TAG_BYTES;
  if (len < RTP_HEADER_BYTES) return -1;
  int from = header_length(p, len);
  uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
  if (from < 0) return -1;
  if (c->seen && ssrc != c->ssrc) c->seen = 0, c->roc = 0; /* a new source: its own index */
  uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
  uint32_t roc = guess_roc(c, seq);
  uint8_t expected[SRTP_TAG_BYTES];
  tag(c, p, len, roc, expected);
  if (memcmp(expected, p + len, SRTP_TAG_BYTES) != 0) return -1;
  if (crypt(c, p, from, len, roc)) return -1;
  if (!c->seen || roc > c->roc || (roc == c->roc && seq > c->last_seq)) c->roc = roc, c->last_seq = seq;
  c->seen = 1;
  c->ssrc = ssrc;
  return len;
}
