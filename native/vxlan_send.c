/*
 * Batched VXLAN send for the proxy's own data plane (replicated BUM frames, ARP/ND answers).
 *
 * JavaScript writes each VXLAN payload (8-byte VXLAN header + inner Ethernet frame) once into a
 * shared payload area and queues one descriptor per copy; flush() hands the whole batch to the
 * kernel with sendmmsg(2). Each copy is two iovecs, its own outer header and the shared payload,
 * so a payload replicated to 100 VTEPs is never copied in user space. Nothing is allocated per
 * datagram: headers, messages, iovecs and addresses live in arrays sized at open().
 *
 * Modes (fixed per socket):
 *   preserve  the outer source address is the original VTEP's: a raw socket
 *             socket(AF_INET, SOCK_RAW, IPPROTO_RAW), which implies IP_HDRINCL (raw(7)); this
 *             code writes the IPv4 and UDP headers. IPv6: socket(AF_INET6, SOCK_RAW,
 *             IPPROTO_RAW) with IPV6_HDRINCL (Linux >= 4.5); this code writes the IPv6 and UDP
 *             headers, UDP checksum included. Needs CAP_NET_RAW.
 *   proxy     the outer source is the proxy's own address: a UDP socket bound to (local, 0);
 *             the kernel writes the outer headers, msg_name carries each copy's destination.
 *
 * Outer headers written in preserve mode, per copy into its slot of the header area:
 *   IPv4 (RFC 791), 20 bytes: 0x45, TOS 0, total length, ID (a per-socket counter that skips 0),
 *     flags DF, fragment offset 0, TTL 64, protocol 17, checksum 0, source, destination.
 *     With IP_HDRINCL the kernel always fills in the checksum and the total length, and fills in
 *     the ID and the source only when they are zero (raw(7)); this code relies on the checksum
 *     and total length being filled, and never leaves the ID or the source zero.
 *     DF: RFC 7348 §4.3 forbids VTEPs to fragment VXLAN packets, and a raw IP_HDRINCL datagram is
 *     never fragmented locally (raw(7) BUGS: EMSGSIZE above the device MTU); with DF set a
 *     too-small path MTU further on is reported by ICMP instead of producing fragments that the
 *     receiving VTEP may silently discard. The ID of such an atomic datagram carries no meaning
 *     (RFC 6864 §4.1).
 *   IPv6 (RFC 8200 §3), 40 bytes: version 6, traffic class 0, flow label 0, payload length,
 *     next header 17, hop limit 64, source, destination. The kernel changes nothing.
 *   UDP (RFC 768), 8 bytes: source port from the descriptor, destination port (4789, RFC 7348
 *     §5), length, checksum: 0 over IPv4 (RFC 7348 §5 allows it); over IPv6 computed (mandatory,
 *     RFC 8200 §8.1; 0 is sent as 0xffff).
 *
 * Shared memory (slot i of a batch of `batch` copies):
 *   payload Uint8Array    payloads, written by JavaScript
 *   desc    Uint32Array   batch * 4: [i*4] payload offset, [i*4+1] payload length,
 *                         [i*4+2] UDP source port (preserve mode only), [i*4+3] unused
 *   addr    Uint8Array    batch * 32: [i*32] outer source, [i*32+16] destination (IPv4 in the
 *                         first 4 bytes of each); the source is used in preserve mode only
 *   stats   Float64Array  STAT_ERRNO + ERRNO_SLOTS: [0] datagrams sent, [1] payload bytes sent
 *                         (VXLAN header + inner frame), [2] sendmmsg calls, [3] datagrams dropped,
 *                         [STAT_ERRNO + e] datagrams dropped with errno e (the last slot: e >=
 *                         ERRNO_SLOTS - 1; EINVAL also for a descriptor outside the payload area)
 *
 * Errors never throw past flush(): a datagram sendmmsg refuses is dropped and counted under its
 * errno. sendmmsg sends messages in order and stops at the first failure, returning the count
 * sent (the failure itself is then reported by the next call, which starts at that message).
 * EAGAIN / EWOULDBLOCK / ENOBUFS (socket buffer or queue full) drop the rest of the batch, since
 * retrying at once would fail again; any other error drops only the message it belongs to and
 * the batch goes on with the next one. EINTR retries.
 *
 * The socket is never polled: sends use MSG_DONTWAIT and return at once, so no libuv handle is
 * needed. The send buffer is set with SO_SNDBUF and, with CAP_NET_ADMIN, SO_SNDBUFFORCE, which
 * is not capped by net.core.wmem_max (socket(7)).
 *
 * open(mode, family, local, dstPort, sndbuf, payload, desc, addr, stats) -> handle
 *   mode 0 preserve, 1 proxy; family 4 or 6; local: bind address (proxy mode; ignored else)
 *   throws with code "E<errno>" and the failing call in the message (EPERM: no CAP_NET_RAW)
 * flush(handle, n) -> datagrams sent of the first n descriptors
 * close(handle)
 * port(handle) -> the bound UDP source port (proxy mode), 0 in preserve mode
 * sendBuffer(handle) -> SO_SNDBUF as the kernel reports it
 * errnoNames() -> array of errno names (index = errno, "" when unknown), for the counters
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36 /* linux/in6.h, Linux >= 4.5 */
#endif

#define MODE_PRESERVE 0
#define MODE_PROXY 1
/* sendmmsg(2) sends at most UIO_MAXIOV (1024) messages per call. */
#define MAX_BATCH 1024
#define DESC_WORDS 4
#define ADDR_STRIDE 32
#define HDR_STRIDE 48 /* IPv6 40 + UDP 8; IPv4 uses 28 */
#define STAT_SENT 0
#define STAT_BYTES 1
#define STAT_CALLS 2
#define STAT_DROPPED 3
#define STAT_ERRNO 4
#define ERRNO_SLOTS 160
#define TTL 64
#define UDP_HDR 8
#define IPV4_HDR 20
#define IPV6_HDR 40

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} vx_addr;

typedef struct {
  napi_env env;
  int fd;
  int closed;
  int mode;
  int family;
  uint16_t dst_port; /* network order */
  uint16_t ip_id;
  unsigned batch;
  uint8_t *payload;
  size_t payload_len;
  uint32_t *desc;
  uint8_t *addr;
  double *stats;
  napi_ref buffers[4];
  struct mmsghdr *msgs;
  struct iovec *iov; /* batch * 2 */
  vx_addr *names;
  uint8_t *hdr; /* batch * HDR_STRIDE */
  /* IPv6 checksum: the last payload's one's complement sum, reused by its following copies */
  uint32_t sum_off, sum_len, sum;
  int sum_valid;
} vx_sender;

#define CHECK(env, call)                                                                           \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error((env), "EVPNPROXY_NATIVE", "N-API call failed: " #call);                    \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  char code[32];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  snprintf(code, sizeof code, "E%d", err);
  napi_throw_error(env, code, msg);
  return NULL;
}

static void free_arrays(vx_sender *s) {
  free(s->msgs);
  free(s->iov);
  free(s->names);
  free(s->hdr);
  s->msgs = NULL;
  s->iov = NULL;
  s->names = NULL;
  s->hdr = NULL;
}

static void release_refs(vx_sender *s) {
  for (int i = 0; i < 4; i++)
    if (s->buffers[i]) napi_delete_reference(s->env, s->buffers[i]);
  for (int i = 0; i < 4; i++) s->buffers[i] = NULL;
}

/* The environment is going away: its references go with it, the socket and arrays go here. */
static void cleanup_hook(void *arg) {
  vx_sender *s = arg;
  if (s->closed) return;
  s->closed = 1;
  close(s->fd);
  free_arrays(s);
}

static void close_sender(vx_sender *s) {
  if (s->closed) return;
  napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
  s->closed = 1;
  close(s->fd);
  release_refs(s);
  free_arrays(s);
}

/* The handle's external was collected: the struct goes (closing first if JS never did). */
static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  vx_sender *s = data;
  if (s == NULL) return;
  close_sender(s);
  free(s);
}

static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

/* One's complement sum of len bytes (RFC 1071), big-endian 16-bit words, odd tail padded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len) {
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
  if (i < len) sum += (uint32_t)p[i] << 8;
  return sum;
}

static uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Writes copy i's outer IPv4 + UDP header (28 bytes) into h. */
static void ipv4_header(vx_sender *s, uint8_t *h, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                        uint32_t len) {
  uint32_t total = IPV4_HDR + UDP_HDR + len;
  if (++s->ip_id == 0) s->ip_id = 1;
  h[0] = 0x45;
  h[1] = 0;
  h[2] = (uint8_t)(total >> 8);
  h[3] = (uint8_t)total;
  h[4] = (uint8_t)(s->ip_id >> 8);
  h[5] = (uint8_t)s->ip_id;
  h[6] = 0x40; /* DF */
  h[7] = 0;
  h[8] = TTL;
  h[9] = IPPROTO_UDP;
  h[10] = h[11] = 0; /* filled in by the kernel */
  memcpy(h + 12, src, 4);
  memcpy(h + 16, dst, 4);
  uint8_t *u = h + IPV4_HDR;
  u[0] = (uint8_t)(sport >> 8);
  u[1] = (uint8_t)sport;
  memcpy(u + 2, &s->dst_port, 2);
  u[4] = (uint8_t)((UDP_HDR + len) >> 8);
  u[5] = (uint8_t)(UDP_HDR + len);
  u[6] = u[7] = 0; /* RFC 7348 §5: zero UDP checksum over IPv4 */
}

/* Writes copy i's outer IPv6 + UDP header (48 bytes) into h, the UDP checksum included. */
static void ipv6_header(vx_sender *s, uint8_t *h, const uint8_t *src, const uint8_t *dst, uint16_t sport,
                        uint32_t off, uint32_t len) {
  uint32_t ulen = UDP_HDR + len;
  h[0] = 0x60;
  h[1] = h[2] = h[3] = 0;
  h[4] = (uint8_t)(ulen >> 8);
  h[5] = (uint8_t)ulen;
  h[6] = IPPROTO_UDP;
  h[7] = TTL;
  memcpy(h + 8, src, 16);
  memcpy(h + 24, dst, 16);
  uint8_t *u = h + IPV6_HDR;
  u[0] = (uint8_t)(sport >> 8);
  u[1] = (uint8_t)sport;
  memcpy(u + 2, &s->dst_port, 2);
  u[4] = (uint8_t)(ulen >> 8);
  u[5] = (uint8_t)ulen;
  u[6] = u[7] = 0;
  if (!s->sum_valid || s->sum_off != off || s->sum_len != len) {
    s->sum = csum_add(0, s->payload + off, len);
    s->sum_off = off;
    s->sum_len = len;
    s->sum_valid = 1;
  }
  /* RFC 8200 §8.1: pseudo-header of source, destination, upper-layer length, next header. */
  uint32_t sum = s->sum + ulen + IPPROTO_UDP;
  sum = csum_add(sum, h + 8, 32);
  sum = csum_add(sum, u, UDP_HDR);
  uint16_t c = csum_fold(sum);
  if (c == 0) c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
  u[6] = (uint8_t)(c >> 8);
  u[7] = (uint8_t)c;
}

static void count_drop(vx_sender *s, int err, unsigned n) {
  s->stats[STAT_DROPPED] += n;
  s->stats[STAT_ERRNO + (err >= 0 && err < ERRNO_SLOTS - 1 ? err : ERRNO_SLOTS - 1)] += n;
}

/* Prepares message slot j from descriptor i; 0 when the descriptor is outside the payload area. */
static int prepare(vx_sender *s, unsigned i, unsigned j) {
  const uint32_t *d = s->desc + (size_t)i * DESC_WORDS;
  uint32_t off = d[0], len = d[1];
  if (off > s->payload_len || len > s->payload_len - off || len > 65535 - HDR_STRIDE) return 0;
  const uint8_t *src = s->addr + (size_t)i * ADDR_STRIDE;
  const uint8_t *dst = src + 16;
  struct iovec *iov = s->iov + (size_t)j * 2;
  struct msghdr *m = &s->msgs[j].msg_hdr;
  vx_addr *name = &s->names[j];
  if (s->family == 4) {
    memcpy(&name->in4.sin_addr, dst, 4);
    /* raw sockets: the port is ignored and should be 0 (raw(7)) */
    name->in4.sin_port = s->mode == MODE_PROXY ? s->dst_port : 0;
  } else {
    memcpy(&name->in6.sin6_addr, dst, 16);
    name->in6.sin6_port = s->mode == MODE_PROXY ? s->dst_port : 0;
  }
  if (s->mode == MODE_PROXY) {
    iov[0].iov_base = s->payload + off;
    iov[0].iov_len = len;
    m->msg_iovlen = 1;
    return 1;
  }
  uint8_t *h = s->hdr + (size_t)j * HDR_STRIDE;
  uint16_t sport = (uint16_t)d[2];
  if (s->family == 4) {
    ipv4_header(s, h, src, dst, sport, len);
    iov[0].iov_len = IPV4_HDR + UDP_HDR;
  } else {
    ipv6_header(s, h, src, dst, sport, off, len);
    iov[0].iov_len = IPV6_HDR + UDP_HDR;
  }
  iov[0].iov_base = h;
  iov[1].iov_base = s->payload + off;
  iov[1].iov_len = len;
  m->msg_iovlen = 2;
  return 1;
}

/* Sends the first n descriptors; returns the number sent (the rest is counted as dropped). */
static unsigned send_batch(vx_sender *s, unsigned n) {
  unsigned m = 0;
  for (unsigned i = 0; i < n; i++) {
    if (prepare(s, i, m))
      m++;
    else
      count_drop(s, EINVAL, 1);
  }
  unsigned sent = 0;
  unsigned i = 0;
  while (i < m) {
    int r = sendmmsg(s->fd, s->msgs + i, m - i, MSG_DONTWAIT);
    s->stats[STAT_CALLS]++;
    if (r > 0) {
      for (unsigned k = i; k < i + (unsigned)r; k++) {
        const struct iovec *iov = s->msgs[k].msg_hdr.msg_iov;
        s->stats[STAT_BYTES] += (double)iov[s->mode == MODE_PROXY ? 0 : 1].iov_len;
      }
      i += (unsigned)r;
      sent += (unsigned)r;
      continue;
    }
    int err = r < 0 ? errno : EIO;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      count_drop(s, err, m - i);
      break;
    }
    count_drop(s, err, 1);
    i++;
  }
  s->stats[STAT_SENT] += sent;
  return sent;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "open(mode, family, local, dstPort, sndbuf, payload, desc, addr, stats)");
    return NULL;
  }
  int32_t mode, family, port, sndbuf;
  char host[INET6_ADDRSTRLEN + 1];
  size_t hostLen;
  if (napi_get_value_int32(env, argv[0], &mode) != napi_ok || napi_get_value_int32(env, argv[1], &family) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], host, sizeof host, &hostLen) != napi_ok ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok || napi_get_value_int32(env, argv[4], &sndbuf) != napi_ok ||
      (mode != MODE_PRESERVE && mode != MODE_PROXY) || (family != 4 && family != 6) || port < 1 || port > 65535) {
    napi_throw_type_error(env, NULL, "open: bad mode, family, local address, port or send buffer");
    return NULL;
  }
  void *payload, *desc, *addr, *stats;
  size_t payloadLen, descLen, addrLen, statsLen;
  if (!typed_array(env, argv[5], napi_uint8_array, &payload, &payloadLen) ||
      !typed_array(env, argv[6], napi_uint32_array, &desc, &descLen) ||
      !typed_array(env, argv[7], napi_uint8_array, &addr, &addrLen) ||
      !typed_array(env, argv[8], napi_float64_array, &stats, &statsLen) || statsLen < STAT_ERRNO + ERRNO_SLOTS) {
    napi_throw_type_error(env, NULL,
                          "open: payload/addr must be Uint8Array, desc Uint32Array, stats Float64Array(164)");
    return NULL;
  }
  unsigned batch = (unsigned)(descLen / DESC_WORDS);
  if (batch == 0 || batch > MAX_BATCH || addrLen < (size_t)batch * ADDR_STRIDE || payloadLen == 0) {
    napi_throw_range_error(env, NULL, "open: desc and addr must hold the same number (1-1024) of copies");
    return NULL;
  }

  vx_addr local;
  socklen_t localLen = 0;
  memset(&local, 0, sizeof local);
  if (mode == MODE_PROXY) {
    int ok = family == 4 ? inet_pton(AF_INET, host, &local.in4.sin_addr) : inet_pton(AF_INET6, host, &local.in6.sin6_addr);
    if (ok != 1) {
      napi_throw_type_error(env, NULL, "open: local is not an address of the family");
      return NULL;
    }
    local.sa.sa_family = family == 4 ? AF_INET : AF_INET6;
    localLen = family == 4 ? sizeof local.in4 : sizeof local.in6;
  }

  int af = family == 4 ? AF_INET : AF_INET6;
  int fd = mode == MODE_PROXY ? socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
                              : socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (mode == MODE_PRESERVE) {
    /* IPPROTO_RAW implies header inclusion (raw(7)); set it anyway so that a kernel without
     * IPV6_HDRINCL (before 4.5) is refused here instead of sending a second IPv6 header. */
    int r = family == 4 ? setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one)
                        : setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof one);
    if (r < 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, family == 4 ? "setsockopt IP_HDRINCL" : "setsockopt IPV6_HDRINCL", err);
    }
  } else {
    if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, &local.sa, localLen) < 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, "bind", err);
    }
  }
  if (sndbuf > 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf); /* EPERM without CAP_NET_ADMIN */
  }

  vx_sender *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->mode = mode;
  s->family = family;
  s->dst_port = htons((uint16_t)port);
  s->batch = batch;
  s->payload = payload;
  s->payload_len = payloadLen;
  s->desc = desc;
  s->addr = addr;
  s->stats = stats;
  s->msgs = calloc(batch, sizeof *s->msgs);
  s->iov = calloc((size_t)batch * 2, sizeof *s->iov);
  s->names = calloc(batch, sizeof *s->names);
  s->hdr = calloc(batch, HDR_STRIDE);
  if (!s->msgs || !s->iov || !s->names || !s->hdr) {
    close(fd);
    free_arrays(s);
    free(s);
    return throw_errno(env, "open", ENOMEM);
  }
  for (unsigned j = 0; j < batch; j++) {
    struct msghdr *m = &s->msgs[j].msg_hdr;
    s->names[j].sa.sa_family = (sa_family_t)af;
    m->msg_name = &s->names[j];
    m->msg_namelen = family == 4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    m->msg_iov = s->iov + (size_t)j * 2;
  }

  napi_value self, ext;
  if (napi_create_object(env, &self) != napi_ok || napi_create_external(env, s, finalize, NULL, &ext) != napi_ok) {
    close(fd);
    free_arrays(s);
    free(s);
    napi_throw_error(env, "EVPNPROXY_NATIVE", "open: N-API setup failed");
    return NULL;
  }
  /* From here on the external owns s: its finalizer closes and frees. */
  napi_add_env_cleanup_hook(env, cleanup_hook, s);
  for (int i = 0; i < 4; i++)
    if (napi_create_reference(env, argv[5 + i], 1, &s->buffers[i]) != napi_ok) {
      close_sender(s);
      napi_throw_error(env, "EVPNPROXY_NATIVE", "open: N-API setup failed");
      return NULL;
    }
  CHECK(env, napi_set_named_property(env, self, "handle", ext));
  return self;
}

static vx_sender *unwrap(napi_env env, napi_value handle) {
  napi_value ext;
  void *p = NULL;
  if (napi_get_named_property(env, handle, "handle", &ext) != napi_ok ||
      napi_get_value_external(env, ext, &p) != napi_ok || p == NULL || ((vx_sender *)p)->closed) {
    napi_throw_type_error(env, NULL, "not an open sender handle");
    return NULL;
  }
  return p;
}

static napi_value js_flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "flush(handle, n)");
    return NULL;
  }
  vx_sender *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  int32_t n;
  if (napi_get_value_int32(env, argv[1], &n) != napi_ok || n < 0 || (unsigned)n > s->batch) {
    napi_throw_range_error(env, NULL, "flush: n outside the batch");
    return NULL;
  }
  s->sum_valid = 0; /* JavaScript may have rewritten the payload area since the last flush */
  napi_value v;
  CHECK(env, napi_create_uint32(env, send_batch(s, (unsigned)n), &v));
  return v;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], nothing;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "close(handle)");
    return NULL;
  }
  vx_sender *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  close_sender(s); /* the struct stays until the external is collected: a second close throws */
  CHECK(env, napi_get_null(env, &nothing));
  return nothing;
}

static napi_value js_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  vx_sender *s = argc < 1 ? NULL : unwrap(env, argv[0]);
  if (!s) return NULL;
  uint16_t port = 0;
  if (s->mode == MODE_PROXY) {
    vx_addr a;
    socklen_t len = sizeof a;
    if (getsockname(s->fd, &a.sa, &len) < 0) return throw_errno(env, "getsockname", errno);
    port = ntohs(a.sa.sa_family == AF_INET6 ? a.in6.sin6_port : a.in4.sin_port);
  }
  CHECK(env, napi_create_int32(env, port, &v));
  return v;
}

static napi_value js_send_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  vx_sender *s = argc < 1 ? NULL : unwrap(env, argv[0]);
  if (!s) return NULL;
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0) return throw_errno(env, "getsockopt", errno);
  CHECK(env, napi_create_int32(env, size, &v));
  return v;
}

static napi_value js_errno_names(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr, name;
  CHECK(env, napi_create_array_with_length(env, ERRNO_SLOTS, &arr));
  for (int e = 0; e < ERRNO_SLOTS; e++) {
    const char *text = NULL;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    if (e > 0 && e < ERRNO_SLOTS - 1) text = strerrorname_np(e);
#endif
    CHECK(env, napi_create_string_utf8(env, text ? text : "", NAPI_AUTO_LENGTH, &name));
    CHECK(env, napi_set_element(env, arr, (uint32_t)e, name));
  }
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"flush", NULL, js_flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBuffer", NULL, js_send_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"errnoNames", NULL, js_errno_names, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
