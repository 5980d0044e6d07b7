/*
 * Batched UDP receive for the VXLAN learning socket (`learning.vxlan-listen`).
 *
 * Node's dgram socket hands JavaScript one Buffer and one address object per datagram and reads
 * at most 32 datagrams per event-loop turn; at 200,000 ARP datagrams/s that, not learning, is
 * the ceiling on one core. This addon reads with recvmmsg(2) into memory shared with JavaScript
 * and calls back once per batch, so a datagram costs no allocation at all.
 *
 * Shared memory, per batch of up to `batch` datagrams (slot i):
 *   data  Uint8Array   batch * slot bytes: datagram i at i * slot, truncated to `slot` bytes
 *   meta  Int32Array   batch * 2: [i*2] = bytes received (> slot when truncated), [i*2+1] = 4 or 6
 *   addr  Uint8Array   batch * 16: source address of datagram i (IPv4 in the first 4 bytes)
 *   stats Uint32Array  4: [0] kernel drop count of the socket (SO_RXQ_OVFL, cumulative),
 *                         [1] recvmmsg calls, [2] datagrams, [3] receive errors
 *
 * The receive buffer is set with SO_RCVBUF and then, where the process has CAP_NET_ADMIN,
 * SO_RCVBUFFORCE, which is not capped by net.core.rmem_max (socket(7)).
 *
 * Errors: a socket error (POLLERR: the socket was destroyed with `ss -K`, an error queued) makes
 * libuv stop the poll handle; it is reported once through onError(code, message) and the socket
 * reads nothing more, so that JavaScript closes it and opens another.
 *
 * open(address, port, rcvbuf, data, meta, addr, stats, slot, onBatch, onError) -> handle
 * close(handle)
 * port(handle) -> bound port;  receiveBuffer(handle) -> SO_RCVBUF as the kernel reports it
 * formatAddress(bytes, offset, family) -> text form (inet_ntop, as Node's rinfo.address)
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
#include <uv.h>

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

/* Batches read per readiness event before yielding to the event loop (BGP, timers). */
#define MAX_BATCHES_PER_EVENT 16

typedef struct {
  napi_env env;
  int fd;
  int closing;
  int failed;
  uv_poll_t poll;
  napi_ref callback;
  napi_ref onError;
  napi_ref self; /* the JS handle object, kept alive while the socket is open */
  napi_ref buffers[4];
  napi_async_context async;
  uint8_t *data;
  int32_t *meta;
  uint8_t *addr;
  uint32_t *stats;
  size_t slot;
  unsigned batch;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_storage *names;
  char *control; /* batch * CONTROL_LEN */
} vx_socket;

#define CONTROL_LEN CMSG_SPACE(sizeof(uint32_t))

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

static void free_socket(vx_socket *s) {
  free(s->msgs);
  free(s->iov);
  free(s->names);
  free(s->control);
  free(s);
}

static void release_refs(vx_socket *s) {
  napi_env env = s->env;
  if (s->callback) napi_delete_reference(env, s->callback);
  if (s->onError) napi_delete_reference(env, s->onError);
  if (s->self) napi_delete_reference(env, s->self);
  for (int i = 0; i < 4; i++)
    if (s->buffers[i]) napi_delete_reference(env, s->buffers[i]);
  if (s->async) napi_async_destroy(env, s->async);
  s->callback = s->onError = s->self = NULL;
  s->async = NULL;
  for (int i = 0; i < 4; i++) s->buffers[i] = NULL;
}

static void on_closed(uv_handle_t *h) { free_socket((vx_socket *)h->data); }

/* Stops reading and closes the socket; the memory goes in on_closed, after libuv lets go. */
static void shut(vx_socket *s) {
  s->closing = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

/* The environment is going away (process exit, worker end): its references go with it. */
static void cleanup_hook(void *arg) {
  vx_socket *s = arg;
  if (!s->closing) shut(s);
}

static void close_socket(vx_socket *s) {
  if (s->closing) return;
  napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
  release_refs(s);
  shut(s);
}

/* Reads one batch; returns the number of datagrams, 0 when none is waiting, -1 on error. */
static int read_batch(vx_socket *s) {
  for (unsigned i = 0; i < s->batch; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    h->msg_namelen = sizeof(struct sockaddr_storage);
    h->msg_controllen = CONTROL_LEN;
    h->msg_flags = 0;
  }
  int n = recvmmsg(s->fd, s->msgs, s->batch, MSG_DONTWAIT, NULL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    s->stats[3]++;
    return -1;
  }
  s->stats[1]++;
  s->stats[2] += (uint32_t)n;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    /* MSG_TRUNC: msg_len is what was copied; report more than `slot` so the decoder sees it. */
    s->meta[i * 2] = (h->msg_flags & MSG_TRUNC) ? (int32_t)s->slot + 1 : (int32_t)s->msgs[i].msg_len;
    uint8_t *a = s->addr + (size_t)i * 16;
    if (s->names[i].ss_family == AF_INET6) {
      memcpy(a, &((struct sockaddr_in6 *)&s->names[i])->sin6_addr, 16);
      s->meta[i * 2 + 1] = 6;
    } else {
      memcpy(a, &((struct sockaddr_in *)&s->names[i])->sin_addr, 4);
      s->meta[i * 2 + 1] = 4;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
        memcpy(&s->stats[0], CMSG_DATA(c), sizeof(uint32_t));
  }
  return n;
}

/* Calls `fn` with the handle object as receiver; make_callback runs queued microtasks and
 * nextTicks afterwards, as for any I/O callback, and an exception thrown is the process's
 * uncaught exception. Returns 0 when the call could not be made or threw. */
static int call_js(vx_socket *s, napi_ref fn, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value cb, self, result;
  if (napi_get_reference_value(env, fn, &cb) != napi_ok || napi_get_reference_value(env, s->self, &self) != napi_ok)
    return 0;
  napi_status st = napi_make_callback(env, s->async, self, cb, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
    return 0;
  }
  return st == napi_ok;
}

/* The poll handle stopped on a socket error: reported once to onError(errno name, message). */
static void fail(vx_socket *s, int err) {
  if (s->failed || s->closing) return;
  s->failed = 1;
  uv_poll_stop(&s->poll);
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  char code[32], msg[256];
  const char *name = strerrorname_np(err);
  if (name)
    snprintf(code, sizeof code, "%s", name);
  else
    snprintf(code, sizeof code, "E%d", err);
  snprintf(msg, sizeof msg, "socket error: %s", strerror(err));
  napi_value argv[2];
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &argv[0]) == napi_ok &&
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok)
    call_js(s, s->onError, 2, argv);
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  vx_socket *s = poll->data;
  if (s->closing || s->failed) return;
  if (status < 0) {
    /* POLLERR: libuv has stopped the handle; the socket's pending error says why. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = EIO;
    fail(s, err);
    return;
  }
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value count;
  for (int b = 0; b < MAX_BATCHES_PER_EVENT && !s->closing; b++) {
    int n = read_batch(s);
    if (n <= 0) break;
    if (napi_create_int32(env, n, &count) != napi_ok || !call_js(s, s->callback, 1, &count)) break;
    if ((unsigned)n < s->batch) break;
  }
  napi_close_handle_scope(env, scope);
}

static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 10) {
    napi_throw_type_error(env, NULL, "open(address, port, rcvbuf, data, meta, addr, stats, slot, onBatch, onError)");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1];
  size_t hostLen;
  int32_t port, rcvbuf, slot;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hostLen) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_int32(env, argv[2], &rcvbuf) != napi_ok ||
      napi_get_value_int32(env, argv[7], &slot) != napi_ok || port < 0 || port > 65535 || slot < 64) {
    napi_throw_type_error(env, NULL, "open: bad address, port, receive buffer or slot size");
    return NULL;
  }
  void *data, *meta, *addr, *stats;
  size_t dataLen, metaLen, addrLen, statsLen;
  if (!typed_array(env, argv[3], napi_uint8_array, &data, &dataLen) ||
      !typed_array(env, argv[4], napi_int32_array, &meta, &metaLen) ||
      !typed_array(env, argv[5], napi_uint8_array, &addr, &addrLen) ||
      !typed_array(env, argv[6], napi_uint32_array, &stats, &statsLen) || statsLen < 4) {
    napi_throw_type_error(env, NULL, "open: data/addr must be Uint8Array, meta Int32Array, stats Uint32Array(4)");
    return NULL;
  }
  unsigned batch = (unsigned)(metaLen / 2);
  if (batch == 0 || dataLen < (size_t)batch * (size_t)slot || addrLen < (size_t)batch * 16) {
    napi_throw_range_error(env, NULL, "open: data, meta and addr must hold the same number of slots");
    return NULL;
  }
  for (int i = 8; i <= 9; i++) {
    napi_valuetype t;
    CHECK(env, napi_typeof(env, argv[i], &t));
    if (t != napi_function) {
      napi_throw_type_error(env, NULL, "open: onBatch and onError must be functions");
      return NULL;
    }
  }

  struct sockaddr_storage ss;
  socklen_t ssLen;
  memset(&ss, 0, sizeof ss);
  int family;
  if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
    family = AF_INET;
    ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
    ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    ssLen = sizeof(struct sockaddr_in);
  } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
    family = AF_INET6;
    ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
    ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    ssLen = sizeof(struct sockaddr_in6);
  } else {
    napi_throw_type_error(env, NULL, "open: address is not an IPv4 or IPv6 address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if ((family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
      setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt", err);
  }
  /* Best effort: the kernel caps SO_RCVBUF at net.core.rmem_max, FORCE needs CAP_NET_ADMIN. */
  if (rcvbuf > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf); /* EPERM without CAP_NET_ADMIN */
  }
  if (bind(fd, (struct sockaddr *)&ss, ssLen) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }

  vx_socket *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->data = data;
  s->meta = meta;
  s->addr = addr;
  s->stats = stats;
  s->slot = (size_t)slot;
  s->batch = batch;
  s->msgs = calloc(batch, sizeof *s->msgs);
  s->iov = calloc(batch, sizeof *s->iov);
  s->names = calloc(batch, sizeof *s->names);
  s->control = calloc(batch, CONTROL_LEN);
  if (!s->msgs || !s->iov || !s->names || !s->control) {
    close(fd);
    free_socket(s);
    return throw_errno(env, "open", ENOMEM);
  }
  for (unsigned i = 0; i < batch; i++) {
    s->iov[i].iov_base = s->data + (size_t)i * s->slot;
    s->iov[i].iov_len = s->slot;
    struct msghdr *h = &s->msgs[i].msg_hdr;
    h->msg_name = &s->names[i];
    h->msg_iov = &s->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = s->control + (size_t)i * CONTROL_LEN;
  }

  /* Each step below is undone if a later one fails. */
  napi_value self, resource, ext;
  uv_loop_t *loop;
  int ok = napi_create_object(env, &self) == napi_ok &&
           napi_create_reference(env, argv[8], 1, &s->callback) == napi_ok &&
           napi_create_reference(env, argv[9], 1, &s->onError) == napi_ok &&
           napi_create_reference(env, self, 1, &s->self) == napi_ok &&
           napi_create_string_utf8(env, "EvpnProxyVxlanSocket", NAPI_AUTO_LENGTH, &resource) == napi_ok &&
           napi_async_init(env, NULL, resource, &s->async) == napi_ok && napi_get_uv_event_loop(env, &loop) == napi_ok;
  for (int i = 0; ok && i < 4; i++) ok = napi_create_reference(env, argv[3 + i], 1, &s->buffers[i]) == napi_ok;
  ok = ok && napi_create_external(env, s, NULL, NULL, &ext) == napi_ok &&
       napi_set_named_property(env, self, "handle", ext) == napi_ok;
  if (!ok) {
    close(fd);
    release_refs(s);
    free_socket(s);
    napi_throw_error(env, "EVPNPROXY_NATIVE", "open: N-API setup failed");
    return NULL;
  }
  int r = uv_poll_init(loop, &s->poll, fd);
  if (r < 0) {
    close(fd);
    release_refs(s);
    free_socket(s); /* an uninitialised handle is not closed */
    napi_throw_error(env, "EVPNPROXY_NATIVE", uv_strerror(r));
    return NULL;
  }
  s->poll.data = s;
  r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (r < 0 || napi_add_env_cleanup_hook(env, cleanup_hook, s) != napi_ok) {
    release_refs(s);
    shut(s);
    napi_throw_error(env, "EVPNPROXY_NATIVE", r < 0 ? uv_strerror(r) : "open: napi_add_env_cleanup_hook failed");
    return NULL;
  }
  return self;
}

static vx_socket *unwrap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ext;
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_named_property(env, argv[0], "handle", &ext) != napi_ok ||
      napi_get_value_external(env, ext, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a socket handle");
    return NULL;
  }
  return p;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ext, nothing;
  vx_socket *s = unwrap(env, info);
  if (!s) return NULL;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  /* The handle forgets the socket first, so a second close is an error, not a use after free. */
  CHECK(env, napi_create_external(env, NULL, NULL, NULL, &ext));
  CHECK(env, napi_set_named_property(env, argv[0], "handle", ext));
  close_socket(s);
  CHECK(env, napi_get_null(env, &nothing));
  return nothing;
}

static napi_value js_port(napi_env env, napi_callback_info info) {
  vx_socket *s = unwrap(env, info);
  if (!s) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0) return throw_errno(env, "getsockname", errno);
  uint16_t port = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port;
  napi_value v;
  CHECK(env, napi_create_int32(env, ntohs(port), &v));
  return v;
}

static napi_value js_receive_buffer(napi_env env, napi_callback_info info) {
  vx_socket *s = unwrap(env, info);
  if (!s) return NULL;
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) return throw_errno(env, "getsockopt", errno);
  napi_value v;
  CHECK(env, napi_create_int32(env, size, &v));
  return v;
}

static napi_value js_format_address(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *bytes;
  size_t len;
  int32_t off, family;
  if (argc < 3 || !typed_array(env, argv[0], napi_uint8_array, &bytes, &len) ||
      napi_get_value_int32(env, argv[1], &off) != napi_ok || napi_get_value_int32(env, argv[2], &family) != napi_ok ||
      off < 0 || (size_t)off + (family == 6 ? 16 : 4) > len) {
    napi_throw_type_error(env, NULL, "formatAddress(bytes, offset, family)");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, (uint8_t *)bytes + off, text, sizeof text))
    return throw_errno(env, "inet_ntop", errno);
  napi_value v;
  CHECK(env, napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v));
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveBuffer", NULL, js_receive_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"formatAddress", NULL, js_format_address, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
