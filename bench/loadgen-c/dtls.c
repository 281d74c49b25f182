// DTLS-SRTP for the browser side: an ECDSA P-256 self-signed certificate made at start (its SHA-256
// fingerprint goes into the offer), DTLS 1.2 with use_srtp SRTP_AES128_CM_SHA1_80 (RFC 5764 §4.1.2) as
// client or server (RFC 5763 §5: the answer's a=setup picks), the peer's certificate checked against the
// answer's a=fingerprint (RFC 5763 §5), keys from the exporter (RFC 5764 §4.2) into two SRTP contexts
// (srtp.c). OpenSSL reads from a memory BIO fed with the datagrams read on each tick, and writes through a
// BIO whose every write is one datagram to the engine.
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "loadgen.h"

#define DTLS_MTU 1200

static SSL_CTX *ctx;
static BIO_METHOD *udp_out;

static int udp_write(BIO *bio, const char *data, int len) {
  struct call *c = BIO_get_data(bio);
  ssize_t n = sendto(browser_fd, data, (size_t)len, 0, (struct sockaddr *)&c->browser_peer, sizeof c->browser_peer);
  return n < 0 ? -1 : (int)n;
}

static long udp_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  (void)bio, (void)num, (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return DTLS_MTU;
  default:
    return 0;
  }
}

static int udp_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

/** Every peer certificate passes here: it is checked against the answer's fingerprint after the handshake. */
static int accept_any(int ok, X509_STORE_CTX *store) {
  (void)ok, (void)store;
  return 1;
}

static int make_certificate(char *fingerprint_out, size_t size) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  if (!key || !cert) return -1;
  X509_set_version(cert, 2);
  uint32_t serial;
  RAND_bytes((unsigned char *)&serial, sizeof serial);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial & 0x7FFFFFFF);
  X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME *name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"loadgen-c", -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (!X509_sign(cert, key, EVP_sha256())) return -1;
  if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) return -1;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  size_t at = 0;
  for (unsigned int i = 0; i < len && at + 4 <= size; i++) at += (size_t)snprintf(fingerprint_out + at, size - at, i ? ":%02X" : "%02X", md[i]);
  X509_free(cert);
  EVP_PKEY_free(key);
  return 0;
}

int dtls_init(char *fingerprint_out, size_t size) {
  ctx = SSL_CTX_new(DTLS_method());
  if (!ctx) return -1;
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
  // 0 is success for this one call (OpenSSL's own convention for it).
  if (SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AES128_CM_SHA1_80") != 0) return -1;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  udp_out = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "loadgen udp out");
  BIO_meth_set_write(udp_out, udp_write);
  BIO_meth_set_ctrl(udp_out, udp_ctrl);
  BIO_meth_set_create(udp_out, udp_create);
  return make_certificate(fingerprint_out, size);
}

int dtls_start(struct call *c) {
  c->ssl = SSL_new(ctx);
  c->rbio = BIO_new(BIO_s_mem());
  BIO *wbio = BIO_new(udp_out);
  if (!c->ssl || !c->rbio || !wbio) return -1;
  BIO_set_mem_eof_return(c->rbio, -1);
  BIO_set_data(wbio, c);
  SSL_set_bio(c->ssl, c->rbio, wbio);
  SSL_set_options(c->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(c->ssl, DTLS_MTU);
  if (c->server) SSL_set_accept_state(c->ssl);
  else SSL_set_connect_state(c->ssl);
  return 0;
}

static void error_text(const char *what, char *err, size_t errsize) {
  unsigned long e = ERR_get_error();
  char detail[200] = "";
  if (e) ERR_error_string_n(e, detail, sizeof detail);
  snprintf(err, errsize, "%s%s%s", what, e ? ": " : "", detail);
  ERR_clear_error();
}

/** RFC 5763 §5: the certificate the peer presented must hash to the answer's a=fingerprint. */
static int fingerprint_matches(struct call *c) {
  X509 *peer = SSL_get1_peer_certificate(c->ssl);
  if (!peer) return 0;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(peer, EVP_sha256(), md, &len);
  X509_free(peer);
  char hex[3 * EVP_MAX_MD_SIZE + 1];
  size_t at = 0;
  for (unsigned int i = 0; i < len; i++) at += (size_t)snprintf(hex + at, sizeof hex - at, i ? ":%02X" : "%02X", md[i]);
  return strcasecmp(hex, c->fingerprint) == 0;
}

/** RFC 5764 §4.2: client key, server key, client salt, server salt; ours are the client's as the client. */
static int derive_keys(struct call *c, char *err, size_t errsize) {
  const SRTP_PROTECTION_PROFILE *profile = SSL_get_selected_srtp_profile(c->ssl);
  if (!profile || profile->id != SRTP_AES128_CM_SHA1_80) return snprintf(err, errsize, "DTLS: no SRTP_AES128_CM_SHA1_80 negotiated"), -1;
  if (!fingerprint_matches(c)) return snprintf(err, errsize, "DTLS: certificate does not match a=fingerprint"), -1;
  uint8_t km[2 * (SRTP_KEY_BYTES + SRTP_SALT_BYTES)];
  static const char label[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(c->ssl, km, sizeof km, label, sizeof label - 1, NULL, 0, 0) != 1) {
    error_text("DTLS: exporter", err, errsize);
    return -1;
  }
  const uint8_t *client_key = km, *server_key = km + SRTP_KEY_BYTES;
  const uint8_t *client_salt = km + 2 * SRTP_KEY_BYTES, *server_salt = client_salt + SRTP_SALT_BYTES;
  const uint8_t *local_key = c->server ? server_key : client_key, *local_salt = c->server ? server_salt : client_salt;
  const uint8_t *remote_key = c->server ? client_key : server_key, *remote_salt = c->server ? client_salt : server_salt;
  if (srtp_init_context(&c->tx, local_key, local_salt) || srtp_init_context(&c->rx, remote_key, remote_salt))
    return snprintf(err, errsize, "SRTP: key set-up failed"), -1;
  c->keyed = 1;
  return 1;
}

int dtls_step(struct call *c, char *err, size_t errsize) {
  if (c->state == CALL_UP) {
    // After the handshake: a retransmitted last flight of the peer (our answer to it), or an alert.
    char sink[2048];
    while (SSL_read(c->ssl, sink, sizeof sink) > 0) continue;
    ERR_clear_error();
    return 0;
  }
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) return derive_keys(c, err, errsize);
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    DTLSv1_handle_timeout(c->ssl);
    return 0;
  }
  error_text(c->server ? "DTLS (server)" : "DTLS (client)", err, errsize);
  return -1;
}

int dtls_input(struct call *c, const uint8_t *data, int len, char *err, size_t errsize) {
  if (!c->ssl) return 0;
  BIO_write(c->rbio, data, len);
  // A server's ClientHello may come before our STUN check is answered: it waits in the BIO.
  if (c->state != CALL_DTLS && c->state != CALL_UP) return 0;
  return dtls_step(c, err, errsize);
}

void dtls_free(struct call *c) {
  if (c->ssl) SSL_free(c->ssl); /* frees both BIOs */
  if (c->keyed) srtp_free_context(&c->tx), srtp_free_context(&c->rx);
  c->ssl = NULL;
  c->rbio = NULL;
  c->keyed = 0;
}
