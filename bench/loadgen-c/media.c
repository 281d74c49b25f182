// The media of a run: pacing (every call's browser side and trunk side once per 20 ms, the 2N senders
// spread evenly over the interval, from the 1 ms tick), the send batches (one sendmmsg per side per
// tick), the receive batches (recvmmsg), SRTP protect/unprotect in place, the stamps, the histograms,
// and the result of a run as one JSON line.
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "loadgen.h"

#define SEND_BATCH 256
#define RECV_BATCH 64
#define RECV_BYTES 4096
#define DRAIN_NS (300 * NS_PER_MS) /* after the measured phase: the last packets land */

struct side {
  int fd;
  uint64_t sent, received, send_errors, bad;
  uint32_t drops_at_start, drops_now; /* the socket's own receive-queue overflows (SO_RXQ_OVFL) */
  struct histogram latency;            /* of the packets received on this side */
  int n;
  struct mmsghdr msgs[SEND_BATCH];
  struct iovec iov[SEND_BATCH];
  struct sockaddr_in to[SEND_BATCH];
  uint8_t measured[SEND_BATCH];
  uint8_t buf[SEND_BATCH][PACKET_BYTES + SRTP_TAG_BYTES];
};

static struct side browser, trunk;
static struct histogram late;
static struct {
  int id; /* the run request to answer; 0 when no run */
  uint64_t measure_at, end_at, finish_at;
  int measuring;
  struct timespec cpu0;
  uint64_t wall0;
  double cpu_ms, wall_ms;
} run;

static void flush(struct side *s) {
  int done = 0;
  while (done < s->n) {
    int r = sendmmsg(s->fd, s->msgs + done, (unsigned)(s->n - done), 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      // The rest of the batch is not sent: not counted as sent, counted as an error.
      for (int i = done; i < s->n; i++) s->sent -= s->measured[i], s->send_errors += s->measured[i];
      break;
    }
    done += r;
  }
  s->n = 0;
}

static uint8_t *slot(struct side *s, const struct sockaddr_in *to, int measured) {
  if (s->n == SEND_BATCH) flush(s);
  int i = s->n++;
  s->to[i] = *to;
  s->measured[i] = (uint8_t)measured;
  s->sent += (uint64_t)measured;
  return s->buf[i];
}

static void stamp(uint8_t *p, uint32_t ssrc, uint16_t seq, uint32_t ts, int phase) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  p[0] = 0x80;
  p[1] = 0; /* PCMU */
  p[2] = seq >> 8, p[3] = seq & 0xFF;
  p[4] = ts >> 24, p[5] = ts >> 16, p[6] = ts >> 8, p[7] = ts & 0xFF;
  p[8] = ssrc >> 24, p[9] = ssrc >> 16, p[10] = ssrc >> 8, p[11] = ssrc & 0xFF;
  uint8_t *s = p + RTP_HEADER_BYTES;
  memset(s, 0xFF, PAYLOAD_BYTES);
  s[0] = (uint8_t)phase;
  uint32_t sec = (uint32_t)t.tv_sec, ns = (uint32_t)t.tv_nsec;
  s[4] = sec >> 24, s[5] = sec >> 16, s[6] = sec >> 8, s[7] = sec & 0xFF;
  s[8] = ns >> 24, s[9] = ns >> 16, s[10] = ns >> 8, s[11] = ns & 0xFF;
}

static void send_browser(struct call *c, int phase) {
  uint8_t *p = slot(&browser, &c->browser_peer, phase == PHASE_MEASURE);
  c->b_seq++;
  c->b_ts += PAYLOAD_BYTES;
  stamp(p, c->b_ssrc, c->b_seq, c->b_ts, phase);
  int len = srtp_protect_packet(&c->tx, p, PACKET_BYTES);
  if (len < 0) {
    browser.n--, browser.sent -= phase == PHASE_MEASURE, browser.bad++; /* not sent */
    return;
  }
  browser.iov[browser.n - 1] = (struct iovec){p, (size_t)len};
}

static void send_trunk(struct call *c, int phase) {
  uint8_t *p = slot(&trunk, &c->trunk_peer, phase == PHASE_MEASURE);
  c->t_seq++;
  c->t_ts += PAYLOAD_BYTES;
  stamp(p, c->t_ssrc, c->t_seq, c->t_ts, phase);
  trunk.iov[trunk.n - 1] = (struct iovec){p, PACKET_BYTES};
}

/** One sender due at `*next`: sends, and schedules the next packet (a whole interval behind: skip, no burst). */
static int due(uint64_t *next, uint64_t now, int phase) {
  if (*next > now) return 0;
  if (phase == PHASE_MEASURE) hist_add(&late, (double)(now - *next) / 1000.0);
  *next += INTERVAL_NS;
  if (*next <= now) *next = now + INTERVAL_NS;
  return 1;
}

static double cpu_ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void reset_side(struct side *s) {
  s->sent = s->received = s->send_errors = s->bad = 0;
  memset(&s->latency, 0, sizeof s->latency);
}

int media_run_start(int id, uint64_t warmup_ms, uint64_t measure_ms, struct call **calls, int count) {
  if (run.id) return -1;
  reset_side(&browser);
  reset_side(&trunk);
  memset(&late, 0, sizeof late);
  uint64_t t0 = now_ns() + 5 * NS_PER_MS;
  int n = 0;
  for (int i = 0; i < count; i++) n += calls[i] != NULL;
  for (int i = 0, k = 0; i < count; i++) {
    if (!calls[i]) continue;
    calls[i]->b_next_ns = t0 + (2ULL * k) * INTERVAL_NS / (2ULL * n);
    calls[i]->t_next_ns = t0 + (2ULL * k + 1) * INTERVAL_NS / (2ULL * n);
    k++;
  }
  run.id = id;
  run.measure_at = t0 + warmup_ms * NS_PER_MS;
  run.end_at = run.measure_at + measure_ms * NS_PER_MS;
  run.finish_at = run.end_at + DRAIN_NS;
  run.measuring = 0;
  return 0;
}

static double quantile_ms(const struct histogram *h, double q) {
  uint64_t total = 0, seen = 0;
  for (int i = 0; i <= BUCKETS; i++) total += h->counts[i];
  if (total == 0) return -1;
  uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
  for (int i = 0; i <= BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) return i == BUCKETS ? h->max_us / 1000 : (double)(i + 1) * BUCKET_US / 1000;
  }
  return h->max_us / 1000;
}

struct text {
  char *p;
  size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    t->cap = t->cap * 2 + (size_t)n + 64;
    t->p = realloc(t->p, t->cap);
  }
}

static void side_json(struct text *t, const char *name, const struct side *s) {
  add(t, "\"%s\":{\"sent\":%llu,\"received\":%llu,\"sendErrors\":%llu,\"bad\":%llu,\"dropped\":%u,\"latency\":{\"max\":%.1f,\"buckets\":[",
      name, (unsigned long long)s->sent, (unsigned long long)s->received, (unsigned long long)s->send_errors,
      (unsigned long long)s->bad, s->drops_now - s->drops_at_start, s->latency.max_us);
  const char *sep = "";
  for (int i = 0; i <= BUCKETS; i++) {
    if (!s->latency.counts[i]) continue;
    add(t, "%s[%d,%u]", sep, i, s->latency.counts[i]);
    sep = ",";
  }
  add(t, "]}}");
}

static void finish(void) {
  struct text t = {malloc(4096), 0, 4096};
  double p99 = quantile_ms(&late, 0.99);
  add(&t, "{\"id\":%d,\"cpuMs\":%.1f,\"wallMs\":%.1f,\"lateP99Ms\":%.3f,\"lateMaxMs\":%.3f,", run.id, run.cpu_ms, run.wall_ms,
      p99 < 0 ? 0 : p99, late.max_us / 1000);
  side_json(&t, "browser", &browser);
  add(&t, ",");
  side_json(&t, "trunk", &trunk);
  add(&t, "}");
  reply(t.p);
  free(t.p);
  run.id = 0;
}

void media_tick(uint64_t now, struct call **calls, int count) {
  if (!run.id) return;
  if (now >= run.end_at) {
    if (run.measuring) {
      run.cpu_ms = cpu_ms_since(&run.cpu0);
      run.wall_ms = (double)(now - run.wall0) / 1e6;
      run.measuring = 0;
    }
    if (now >= run.finish_at) finish();
    return;
  }
  int phase = now >= run.measure_at ? PHASE_MEASURE : PHASE_WARMUP;
  if (phase == PHASE_MEASURE && !run.measuring) {
    run.measuring = 1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &run.cpu0);
    run.wall0 = now;
    browser.drops_at_start = browser.drops_now;
    trunk.drops_at_start = trunk.drops_now;
  }
  for (int i = 0; i < count; i++) {
    struct call *c = calls[i];
    if (!c) continue;
    if (c->state == CALL_UP && due(&c->b_next_ns, now, phase)) send_browser(c, phase);
    if (c->trunk_peer.sin_port && due(&c->t_next_ns, now, phase)) send_trunk(c, phase);
  }
  flush(&browser);
  flush(&trunk);
}

static int rtp_header_length(const uint8_t *p, int len) {
  int n = RTP_HEADER_BYTES + 4 * (p[0] & 0x0F);
  if ((p[0] & 0x10) && n + 4 <= len) n += 4 + 4 * ((p[n + 2] << 8) | p[n + 3]);
  return n;
}

/** An RTP packet (SRTP removed): its stamp, if measured, into the side's histogram. `now`: its arrival. */
static void timed(struct side *s, const uint8_t *p, int len, uint64_t now) {
  int at = rtp_header_length(p, len);
  if (at + 12 > len || p[at] != PHASE_MEASURE) return;
  uint64_t sec = ((uint32_t)p[at + 4] << 24) | ((uint32_t)p[at + 5] << 16) | ((uint32_t)p[at + 6] << 8) | p[at + 7];
  uint64_t ns = ((uint32_t)p[at + 8] << 24) | ((uint32_t)p[at + 9] << 16) | ((uint32_t)p[at + 10] << 8) | p[at + 11];
  uint64_t sent = sec * 1000000000ULL + ns;
  s->received++;
  hist_add(&s->latency, now > sent ? (double)(now - sent) / 1000.0 : 0);
}

static int is_rtcp(const uint8_t *p) {
  return (p[1] & 0x7F) >= 64 && (p[1] & 0x7F) <= 95; /* RFC 5761 §4 */
}

static void deliver(struct side *s, uint8_t *p, int len, const struct sockaddr_in *from, uint64_t now) {
  uint16_t port = ntohs(from->sin_port);
  if (s == &trunk) {
    struct call *c = call_by_trunk_port[port];
    if (c && len >= RTP_HEADER_BYTES && p[0] >= 128 && p[0] <= 191 && !is_rtcp(p)) timed(s, p, len, now);
    return;
  }
  struct call *c = call_by_browser_port[port];
  if (!c || len < 1) return;
  if (p[0] >= 128 && p[0] <= 191) { /* RFC 7983: RTP/RTCP */
    if (len < RTP_HEADER_BYTES || is_rtcp(p) || c->state != CALL_UP) return;
    if ((len = srtp_unprotect_packet(&c->rx, p, len)) < 0) {
      s->bad++;
      return;
    }
    timed(s, p, len, now);
  } else {
    browser_control(c, p, len, from);
  }
}

/** Its arrival on the socket (SO_TIMESTAMPNS, CLOCK_REALTIME) on CLOCK_MONOTONIC; `now` without one. */
static uint64_t arrival(struct side *s, struct msghdr *m, int64_t realtime_offset, uint64_t now) {
  uint64_t at = now;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
    if (cm->cmsg_level != SOL_SOCKET) continue;
    if (cm->cmsg_type == SO_RXQ_OVFL) memcpy(&s->drops_now, CMSG_DATA(cm), sizeof s->drops_now);
    if (cm->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(cm), sizeof t);
      at = (uint64_t)((int64_t)t.tv_sec * 1000000000LL + t.tv_nsec - realtime_offset);
    }
  }
  return at;
}

/** Reads all that waits on one side's socket (called on every tick). */
void media_receive(int fd) {
  static struct mmsghdr msgs[RECV_BATCH];
  static struct iovec iov[RECV_BATCH];
  static struct sockaddr_in from[RECV_BATCH];
  static uint8_t bufs[RECV_BATCH][RECV_BYTES];
  static char control[RECV_BATCH][CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct timespec))];
  struct side *s = fd == trunk.fd ? &trunk : &browser;
  for (;;) {
    for (int i = 0; i < RECV_BATCH; i++) {
      iov[i] = (struct iovec){bufs[i], RECV_BYTES};
      msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1,
                                        .msg_control = control[i], .msg_controllen = sizeof control[i]};
    }
    int n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    struct timespec real;
    uint64_t now = now_ns();
    clock_gettime(CLOCK_REALTIME, &real);
    int64_t offset = (int64_t)real.tv_sec * 1000000000LL + real.tv_nsec - (int64_t)now;
    for (int i = 0; i < n; i++) deliver(s, bufs[i], (int)msgs[i].msg_len, &from[i], arrival(s, &msgs[i].msg_hdr, offset, now));
    if (n < RECV_BATCH) return;
  }
}

void media_init(int browser_socket, int trunk_socket) {
  browser.fd = browser_socket;
  trunk.fd = trunk_socket;
  for (struct side *s = &browser; s; s = s == &browser ? &trunk : NULL)
    for (int i = 0; i < SEND_BATCH; i++)
      s->msgs[i].msg_hdr = (struct msghdr){.msg_name = &s->to[i], .msg_namelen = sizeof s->to[i], .msg_iov = &s->iov[i], .msg_iovlen = 1};
}

int media_running(void) {
  return run.id != 0;
}
