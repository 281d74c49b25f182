// The C load generator's loop and command protocol (bench/loadgen-c/index.ts is the other end).
// Start: loadgen [address]; first line out: {"id":0,"fingerprint":…,"browserPort":…,"trunkPort":…,"sched":…}.
// Commands, one a line on stdin, each answered by one JSON line {"id":ID,…} ({"id":ID,"error":…}):
//   open ID CALL                     → {"port","ufrag","pwd","ssrc"}: the browser side's offer fields
//   trunk ID CALL ADDR PORT          → {"port"}: the trunk side, sending to the engine's trunk-leg ADDR:PORT
//   connect ID CALL ADDR PORT client|server UFRAG PWD FINGERPRINT
//                                    → {} once STUN and DTLS are done (replies may come out of order)
//   run ID WARMUP_MS MEASURE_MS      → the run's counts and histograms (media.c), after it is over
//   drop ID CALL, close ID           → {}
// stdin closed: exit.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define STUN_TRIES 50
#define STUN_RETRY_NS (100 * NS_PER_MS)
/** A call whose STUN and DTLS are not done by then fails (the bench sets it up again). */
#define CONNECT_TIMEOUT_NS (10000 * NS_PER_MS)
#define SOCKET_BUFFER (8 * 1024 * 1024)
/** The generator stands for the network: it runs ahead of the relays and of whatever else loads the
 *  machine — SCHED_FIFO at the lowest real-time priority (it needs ≈ 10 % of a core per 100 calls and
 *  sleeps between ticks), else nice -10, else as it is (not root) — so a late packet is the relay's. */
#define NICE -10

int browser_fd, trunk_fd;
struct call *call_by_browser_port[65536], *call_by_trunk_port[65536];
static struct call *calls[MAX_CALLS];
static int call_count; /* one past the highest call index in use */
static uint16_t browser_port, trunk_port;
static int connecting; /* calls in CALL_STUN or CALL_DTLS */

uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

void reply(const char *json) {
  size_t len = strlen(json), done = 0;
  while (done < len) {
    ssize_t n = write(1, json + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) exit(1);
    done += (size_t)n;
  }
  if (write(1, "\n", 1) != 1) exit(1);
}

void replyf(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  reply(line);
}

void hist_add(struct histogram *h, double us) {
  int b = (int)(us / BUCKET_US);
  h->counts[b < 0 ? 0 : b > BUCKETS ? BUCKETS : b]++;
  if (us > h->max_us) h->max_us = us;
}

static void random_text(char *out, int n) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint8_t r[64];
  RAND_bytes(r, n);
  for (int i = 0; i < n; i++) out[i] = alphabet[r[i] % (sizeof alphabet - 1)];
  out[n] = 0;
}

static uint32_t random32(void) {
  uint32_t v;
  RAND_bytes((uint8_t *)&v, sizeof v);
  return v;
}

static void connect_done(struct call *c, const char *error) {
  if (c->state == CALL_STUN || c->state == CALL_DTLS) connecting--;
  if (error) c->state = CALL_OPEN;
  if (!c->pending_id) return;
  if (error) replyf("{\"id\":%d,\"error\":\"call %d: %s\"}", c->pending_id, c->index, error);
  else replyf("{\"id\":%d}", c->pending_id);
  c->pending_id = 0;
}

static void dtls_result(struct call *c, int r, const char *err) {
  if (r == 1) {
    connect_done(c, NULL);
    c->state = CALL_UP;
  } else if (r < 0) {
    connect_done(c, err);
  }
}

void browser_control(struct call *c, const uint8_t *data, int len, const struct sockaddr_in *from) {
  char err[300] = "";
  if (data[0] <= 3 && len >= 20) { /* RFC 7983: STUN */
    if (data[0] == 0x00 && data[1] == 0x01) {
      uint8_t out[512];
      int n = stun_binding_response(c, data, len, from, out);
      if (n > 0) sendto(browser_fd, out, (size_t)n, 0, (const struct sockaddr *)from, sizeof *from);
    } else if (c->state == CALL_STUN && stun_is_our_success(c, data, len)) {
      c->state = CALL_DTLS; /* a client sends its ClientHello now; a server answers one (perhaps waiting) */
      dtls_result(c, dtls_step(c, err, sizeof err), err);
    }
  } else if (data[0] >= 20 && data[0] <= 63) { /* DTLS */
    dtls_result(c, dtls_input(c, data, len, err, sizeof err), err);
  }
}

static void drop_call(int index) {
  struct call *c = calls[index];
  if (!c) return;
  if (c->state == CALL_STUN || c->state == CALL_DTLS) connect_done(c, "dropped");
  if (c->browser_peer.sin_port && call_by_browser_port[ntohs(c->browser_peer.sin_port)] == c) call_by_browser_port[ntohs(c->browser_peer.sin_port)] = NULL;
  if (c->trunk_peer.sin_port && call_by_trunk_port[ntohs(c->trunk_peer.sin_port)] == c) call_by_trunk_port[ntohs(c->trunk_peer.sin_port)] = NULL;
  dtls_free(c);
  free(c);
  calls[index] = NULL;
}

static int peer(struct sockaddr_in *to, const char *address, const char *port) {
  memset(to, 0, sizeof *to);
  to->sin_family = AF_INET;
  to->sin_port = htons((uint16_t)atoi(port));
  return inet_pton(AF_INET, address, &to->sin_addr) == 1 && to->sin_port ? 0 : -1;
}

static void cmd_open(int id, int index) {
  drop_call(index);
  struct call *c = calloc(1, sizeof *c);
  c->index = index;
  random_text(c->ufrag, 8);
  random_text(c->pwd, 24);
  c->b_ssrc = random32() | 1, c->t_ssrc = random32() | 1;
  c->b_seq = (uint16_t)(random32() & 0x7FFF), c->t_seq = (uint16_t)(random32() & 0x7FFF);
  c->b_ts = random32() >> 1, c->t_ts = random32() >> 1;
  calls[index] = c;
  if (index >= call_count) call_count = index + 1;
  replyf("{\"id\":%d,\"port\":%u,\"ufrag\":\"%s\",\"pwd\":\"%s\",\"ssrc\":%u}", id, browser_port, c->ufrag, c->pwd, c->b_ssrc);
}

static void cmd_trunk(int id, struct call *c, char **arg) {
  if (peer(&c->trunk_peer, arg[0], arg[1])) return replyf("{\"id\":%d,\"error\":\"bad address\"}", id);
  call_by_trunk_port[ntohs(c->trunk_peer.sin_port)] = c;
  replyf("{\"id\":%d,\"port\":%u}", id, trunk_port);
}

static void cmd_connect(int id, struct call *c, char **arg) {
  if (c->state != CALL_OPEN || c->ssl) return replyf("{\"id\":%d,\"error\":\"call %d: connected already\"}", id, c->index);
  if (peer(&c->browser_peer, arg[0], arg[1])) return replyf("{\"id\":%d,\"error\":\"bad address\"}", id);
  c->server = strcmp(arg[2], "server") == 0;
  snprintf(c->remote_ufrag, sizeof c->remote_ufrag, "%s", arg[3]);
  snprintf(c->remote_pwd, sizeof c->remote_pwd, "%s", arg[4]);
  snprintf(c->fingerprint, sizeof c->fingerprint, "%s", arg[5]);
  RAND_bytes(c->tid, sizeof c->tid);
  call_by_browser_port[ntohs(c->browser_peer.sin_port)] = c;
  if (dtls_start(c)) return replyf("{\"id\":%d,\"error\":\"DTLS: SSL_new failed\"}", id);
  c->pending_id = id;
  c->state = CALL_STUN;
  connecting++;
  c->stun_tries = 0;
  c->next_stun_ns = now_ns(); /* the first check goes out on the next tick */
  c->deadline_ns = c->next_stun_ns + CONNECT_TIMEOUT_NS;
}

/** One command line; arguments split at spaces. */
static void command(char *line) {
  char *arg[12] = {0}, *save = NULL;
  int n = 0;
  for (char *t = strtok_r(line, " \r", &save); t && n < 12; t = strtok_r(NULL, " \r", &save)) arg[n++] = t;
  if (n < 2) return;
  int id = atoi(arg[1]);
  int index = n > 2 ? atoi(arg[2]) : -1;
  struct call *c = index >= 0 && index < MAX_CALLS ? calls[index] : NULL;
  if (!strcmp(arg[0], "open") && n == 3 && index >= 0 && index < MAX_CALLS) cmd_open(id, index);
  else if (!strcmp(arg[0], "trunk") && n == 5 && c) cmd_trunk(id, c, arg + 3);
  else if (!strcmp(arg[0], "connect") && n == 9 && c) cmd_connect(id, c, arg + 3);
  else if (!strcmp(arg[0], "run") && n == 4) {
    if (media_run_start(id, strtoull(arg[2], NULL, 10), strtoull(arg[3], NULL, 10), calls, call_count))
      replyf("{\"id\":%d,\"error\":\"a run is going on\"}", id);
  } else if (!strcmp(arg[0], "drop") && n == 3 && index >= 0 && index < MAX_CALLS) {
    drop_call(index);
    replyf("{\"id\":%d}", id);
  } else if (!strcmp(arg[0], "close") && n == 2) {
    for (int i = 0; i < call_count; i++) drop_call(i);
    call_count = 0;
    replyf("{\"id\":%d}", id);
  } else {
    replyf("{\"id\":%d,\"error\":\"bad command %s (%d words)\"}", id, arg[0], n);
  }
}

/** Set-ups in progress: STUN checks every 100 ms (50 tries), DTLS timers, the 10 s deadline. */
static void connect_timers(uint64_t now) {
  char err[300];
  for (int i = 0; i < call_count && connecting > 0; i++) {
    struct call *c = calls[i];
    if (!c || (c->state != CALL_STUN && c->state != CALL_DTLS)) continue;
    if (now >= c->deadline_ns) {
      connect_done(c, c->state == CALL_STUN ? "no STUN success response" : "DTLS: no handshake in 10000 ms");
    } else if (c->state == CALL_DTLS) {
      dtls_result(c, dtls_step(c, err, sizeof err), err);
    } else if (now >= c->next_stun_ns) {
      if (c->stun_tries++ >= STUN_TRIES) {
        connect_done(c, "no STUN success response");
        continue;
      }
      uint8_t out[512];
      int len = stun_binding_request(c, out);
      sendto(browser_fd, out, (size_t)len, 0, (struct sockaddr *)&c->browser_peer, sizeof c->browser_peer);
      c->next_stun_ns = now + STUN_RETRY_NS;
    }
  }
}

static int udp_socket(const char *address, uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int size = SOCKET_BUFFER, one = 1;
  // Large buffers: the generator's own socket must not be what drops (FORCE needs CAP_NET_ADMIN).
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size)) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, sizeof a)) return -1;
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return fd;
}

static void read_commands(void) {
  static char buf[1 << 16];
  static size_t len;
  ssize_t n = read(0, buf + len, sizeof buf - 1 - len);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) exit(0);
  if (n < 0) return;
  len += (size_t)n;
  buf[len] = 0;
  char *start = buf, *nl;
  while ((nl = strchr(start, '\n'))) {
    *nl = 0;
    command(start);
    start = nl + 1;
  }
  len -= (size_t)(start - buf);
  memmove(buf, start, len);
}

static void watch(int ep, int fd) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv) {
  const char *address = argc > 1 ? argv[1] : "127.0.0.1";
  const char *sched = "SCHED_FIFO 1";
  struct sched_param fifo = {.sched_priority = 1};
  if (getenv("LOADGEN_NO_FIFO") || sched_setscheduler(0, SCHED_FIFO, &fifo)) {
    static char nice_text[32];
    setpriority(PRIO_PROCESS, 0, NICE);
    snprintf(nice_text, sizeof nice_text, "nice %d", getpriority(PRIO_PROCESS, 0));
    sched = nice_text;
  }
  char fingerprint[128];
  if (dtls_init(fingerprint, sizeof fingerprint)) return fprintf(stderr, "loadgen: DTLS/SRTP set-up failed\n"), 1;
  browser_fd = udp_socket(address, &browser_port);
  trunk_fd = udp_socket(address, &trunk_port);
  if (browser_fd < 0 || trunk_fd < 0) return fprintf(stderr, "loadgen: cannot bind %s\n", address), 1;
  media_init(browser_fd, trunk_fd);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct itimerspec every_ms = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
  timerfd_settime(tick, 0, &every_ms, NULL);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  watch(ep, 0), watch(ep, tick);
  replyf("{\"id\":0,\"fingerprint\":\"%s\",\"browserPort\":%u,\"trunkPort\":%u,\"sched\":\"%s\"}", fingerprint, browser_port, trunk_port, sched);
  for (;;) {
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, -1);
    for (int i = 0; i < n; i++) {
      int fd = ev[i].data.fd;
      if (fd == tick) {
        uint64_t expirations;
        if (read(tick, &expirations, sizeof expirations) < 0) continue;
        // One wake-up a millisecond for everything: what arrived, the set-ups' timers, what is due.
        media_receive(browser_fd);
        media_receive(trunk_fd);
        uint64_t now = now_ns();
        if (connecting > 0) connect_timers(now);
        media_tick(now, calls, call_count);
      } else {
        read_commands();
      }
    }
  }
}
