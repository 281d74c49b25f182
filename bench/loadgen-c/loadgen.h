// The C load generator of the SRTP⇄RTP benchmark (bench/srtp-relay.ts): per call a browser side (STUN
// with USE-CANDIDATE + MESSAGE-INTEGRITY, DTLS 1.2 with use_srtp, SRTP AES_CM_128_HMAC_SHA1_80) and a
// trunk side (plain RTP), 50 pkt/s each way, a CLOCK_MONOTONIC send time in every payload. One thread,
// one epoll loop woken by a 1 ms timerfd (and stdin); one UDP socket per side for all calls (calls
// told apart by the engine's port, which is per call and leg), so that each tick sends with one
// sendmmsg and reads with recvmmsg per side; a packet's arrival is the kernel's receive timestamp
// (SO_TIMESTAMPNS), so reading on the tick adds nothing to the latency measured.
// The SDP stays in TypeScript (bench/loadgen-c/index.ts); commands on stdin, JSON replies on stdout.
#ifndef LOADGEN_H
#define LOADGEN_H

#include <netinet/in.h>
#include <openssl/ssl.h>
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA_CTX: srtp.c copies precomputed HMAC pad states */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>

#define MAX_CALLS 8192
#define RTP_HEADER_BYTES 12
#define PAYLOAD_BYTES 160
#define PACKET_BYTES (RTP_HEADER_BYTES + PAYLOAD_BYTES)
#define SRTP_KEY_BYTES 16
#define SRTP_SALT_BYTES 14
#define SRTP_TAG_BYTES 10 /* HMAC_SHA1_80 */
#define INTERVAL_NS 20000000ULL
#define NS_PER_MS 1000000ULL
/** Payload stamp, as bench/loadgen/common.ts: [0] phase, [4..7] seconds, [8..11] nanoseconds. */
#define PHASE_WARMUP 0
#define PHASE_MEASURE 1
/** Latency histogram: 10 µs buckets up to 200 ms, then one overflow bucket (as common.ts). */
#define BUCKET_US 10
#define BUCKETS 20000

/** One direction of SRTP AES_CM_128_HMAC_SHA1_80 (srtp.c). */
struct srtp_context {
  EVP_CIPHER_CTX *aes;
  SHA_CTX inner, outer;
  uint8_t salt[SRTP_SALT_BYTES];
  uint32_t roc, ssrc;
  uint16_t last_seq;
  int seen;
};

enum call_state { CALL_OPEN, CALL_STUN, CALL_DTLS, CALL_UP };

struct call {
  int index;
  enum call_state state;
  /* ICE: ours (in the offer) and the engine's (from its answer). */
  char ufrag[9], pwd[25];
  char remote_ufrag[128], remote_pwd[128];
  uint8_t tid[12];
  int stun_tries;
  uint64_t next_stun_ns, deadline_ns;
  /* The engine's browser-facing and trunk-facing addresses (ports are 0 until known). */
  struct sockaddr_in browser_peer, trunk_peer;
  int server;              /* DTLS role: 1 = server (the engine answered setup:active) */
  char fingerprint[128];   /* the engine's certificate, sha-256, as in its a=fingerprint */
  SSL *ssl;
  BIO *rbio;
  struct srtp_context tx, rx;
  int keyed;
  int pending_id;          /* the connect request to answer, 0 when none */
  /* RTP state of both sides. */
  uint32_t b_ssrc, t_ssrc, b_ts, t_ts;
  uint16_t b_seq, t_seq;
  uint64_t b_next_ns, t_next_ns;
};

struct histogram {
  uint32_t counts[BUCKETS + 1];
  double max_us;
};

/* main.c */
uint64_t now_ns(void);
void reply(const char *json);
void replyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hist_add(struct histogram *h, double us);
extern int browser_fd, trunk_fd;

extern struct call *call_by_browser_port[65536], *call_by_trunk_port[65536];
/** A STUN or DTLS datagram from the engine's browser-facing port of call c. */
void browser_control(struct call *c, const uint8_t *data, int len, const struct sockaddr_in *from);

/* media.c */
void media_init(int browser_socket, int trunk_socket);
int media_run_start(int id, uint64_t warmup_ms, uint64_t measure_ms, struct call **calls, int count);
void media_tick(uint64_t now, struct call **calls, int count);
void media_receive(int fd);
int media_running(void);

/* dtls.c */
int dtls_init(char *fingerprint_out, size_t size);
int dtls_start(struct call *c);           /* creates the SSL object (role from c->server) */
/** Feeds one DTLS datagram; returns 1 when the handshake just completed, 0 if pending, -1 on failure. */
int dtls_input(struct call *c, const uint8_t *data, int len, char *err, size_t errsize);
/** Drives the handshake (first flight of a client, timers); same returns as dtls_input. */
int dtls_step(struct call *c, char *err, size_t errsize);
void dtls_free(struct call *c);

/* srtp.c */
int srtp_init_context(struct srtp_context *c, const uint8_t *master_key, const uint8_t *master_salt);
void srtp_free_context(struct srtp_context *c);
/** In place; returns the new length (the tag appended: room for SRTP_TAG_BYTES needed), -1 on failure. */
int srtp_protect_packet(struct srtp_context *c, uint8_t *p, int len);
/** In place; returns the plain length, -1 when the tag does not verify. */
int srtp_unprotect_packet(struct srtp_context *c, uint8_t *p, int len);

/* stun.c */
int stun_binding_request(const struct call *c, uint8_t *out);
int stun_binding_response(const struct call *c, const uint8_t *req, int len, const struct sockaddr_in *from, uint8_t *out);
int stun_is_our_success(const struct call *c, const uint8_t *msg, int len);

#endif
