// STUN for the browser side (RFC 5389 / RFC 8445): the Binding request a browser sends to the engine's
// candidate (USERNAME "theirs:ours", PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY keyed
// with the engine's ice-pwd, FINGERPRINT), and the success response to the engine's own checks
// (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY keyed with our ice-pwd, FINGERPRINT).
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

#define MAGIC_COOKIE 0x2112A442u
#define ATTR_USERNAME 0x0006
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_FINGERPRINT 0x8028
#define ATTR_ICE_CONTROLLING 0x802A
#define FINGERPRINT_XOR 0x5354554eu

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

/** CRC-32 as in ISO 3309 (RFC 5389 §15.5). */
static uint32_t crc32(const uint8_t *p, int len) {
  if (crc_table[1] == 0) crc_init();
  uint32_t c = 0xFFFFFFFFu;
  for (int i = 0; i < len; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xFF;
}

static void put32(uint8_t *p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xFFFF);
}

static int attr(uint8_t *msg, int pos, uint16_t type, const void *value, uint16_t len) {
  put16(msg + pos, type);
  put16(msg + pos + 2, len);
  memcpy(msg + pos + 4, value, len);
  int padded = (len + 3) & ~3;
  memset(msg + pos + 4 + len, 0, padded - len);
  return pos + 4 + padded;
}

/** MESSAGE-INTEGRITY (§15.4: the length field counts it) then FINGERPRINT (§15.5); returns the size. */
static int seal(uint8_t *msg, int pos, const char *key) {
  uint8_t mac[20];
  unsigned int mac_len = sizeof mac;
  put16(msg + 2, pos - 20 + 24);
  HMAC(EVP_sha1(), key, (int)strlen(key), msg, pos, mac, &mac_len);
  pos = attr(msg, pos, ATTR_MESSAGE_INTEGRITY, mac, 20);
  put16(msg + 2, pos - 20 + 8);
  uint8_t fp[4];
  put32(fp, crc32(msg, pos) ^ FINGERPRINT_XOR);
  return attr(msg, pos, ATTR_FINGERPRINT, fp, 4);
}

static int header(uint8_t *msg, uint16_t type, const uint8_t *tid) {
  put16(msg, type);
  put16(msg + 2, 0);
  put32(msg + 4, MAGIC_COOKIE);
  memcpy(msg + 8, tid, 12);
  return 20;
}

/** RFC 8445 §7.2.2 (USERNAME "theirs:ours"), §7.1.1 (PRIORITY), §7.1.2 (USE-CANDIDATE). out: ≥ 512 bytes. */
int stun_binding_request(const struct call *c, uint8_t *out) {
  char username[300];
  int ulen = snprintf(username, sizeof username, "%s:%s", c->remote_ufrag, c->ufrag);
  int pos = header(out, 0x0001, c->tid);
  pos = attr(out, pos, ATTR_USERNAME, username, (uint16_t)ulen);
  uint8_t priority[4], tiebreaker[8] = {0, 0, 0, 0, 0, 0, 0x12, 0x34};
  put32(priority, 2130706431u);
  pos = attr(out, pos, ATTR_PRIORITY, priority, 4);
  pos = attr(out, pos, ATTR_ICE_CONTROLLING, tiebreaker, 8);
  pos = attr(out, pos, ATTR_USE_CANDIDATE, "", 0);
  return seal(out, pos, c->remote_pwd);
}

/** The success response to a Binding request from the engine (a full ICE agent checks both ways). */
int stun_binding_response(const struct call *c, const uint8_t *req, int len, const struct sockaddr_in *from, uint8_t *out) {
  if (len < 20) return 0;
  int pos = header(out, 0x0101, req + 8);
  uint8_t xma[8] = {0, 0x01};
  put16(xma + 2, ntohs(from->sin_port) ^ (MAGIC_COOKIE >> 16));
  put32(xma + 4, ntohl(from->sin_addr.s_addr) ^ MAGIC_COOKIE);
  pos = attr(out, pos, ATTR_XOR_MAPPED_ADDRESS, xma, 8);
  return seal(out, pos, c->pwd);
}

/** A Binding success response to our current request (its transaction id). */
int stun_is_our_success(const struct call *c, const uint8_t *msg, int len) {
  return len >= 20 && msg[0] == 0x01 && msg[1] == 0x01 && memcmp(msg + 8, c->tid, 12) == 0;
}
