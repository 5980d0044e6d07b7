/*
 * Live capture for data-plane learning (`learning.capture-interfaces`): VXLAN-carried ARP and ND
 * seen on an interface, for mirrored or transit traffic that the proxy is not the destination of.
 *
 * An AF_PACKET socket (packet(7)) of type SOCK_RAW: every frame from its link-layer header. The
 * classic BPF program JavaScript passes (src/dataplane/io/capture-filter.ts, compiled by tcpdump
 * for Ethernet) is attached with SO_ATTACH_FILTER before the socket is bound to a protocol, so the
 * kernel queues only what passes it. Frames are read with recvmmsg(2) into memory shared with
 * JavaScript: one callback per batch, at most MAX_BATCHES_PER_EVENT batches (1,024 frames) per
 * readiness event before the event loop gets its turn (BGP keepalives, timers).
 *
 * Link layers: only frames of devices with an Ethernet header are decoded: ARPHRD_ETHER (Ethernet,
 * veth, bridges, VLAN and VXLAN devices) and ARPHRD_LOOPBACK (an Ethernet header of zeros). Device
 * "any" binds to no interface (ifindex 0) and gets every device's frames in that device's own
 * framing (libpcap's cooked SLL header exists only for its SOCK_DGRAM sockets); frames of devices
 * without an Ethernet header (tun, WireGuard, GRE) are marked FRAME_NOT_ETHERNET, not decoded.
 *
 * VLAN tags: on receive the kernel takes the outermost 802.1Q/802.1ad tag out of the frame before
 * any packet socket sees it (skb_vlan_untag), and a device with VLAN transmit offload keeps it out
 * of the frame on transmit too; PACKET_AUXDATA hands it over (TP_STATUS_VLAN_VALID, tp_vlan_tci,
 * tp_vlan_tpid: 802.1Q when TP_STATUS_VLAN_TPID_VALID is not set) and this code writes it back
 * after the MAC addresses, so that JavaScript sees the frame as it was on the wire. The BPF
 * program runs on the frame without that tag: it accepts zero or one tag left in the frame (a
 * QinQ frame's inner tag, a tag inserted by a device without offload).
 *
 * Direction: frames this host sends are captured too (transit traffic leaves through a device as
 * well), except those sent on a loopback device, each of which is received there again: they are
 * marked FRAME_LOOPED (libpcap drops them likewise).
 *
 * Errors: an interface that goes down or is deleted sets the socket's error (ENETDOWN) and makes
 * it poll with POLLERR, on which libuv stops the poll handle; a receive error other than EAGAIN
 * does the same here. Either is reported once through onError(code, message) and the socket reads
 * nothing more: JavaScript closes it and opens a new one when the interface is back.
 *
 * Shared memory, per batch of up to `batch` frames (slot i):
 *   data  Uint8Array    batch * slot bytes: frame i at i * slot + meta[i*2+1]
 *   meta  Int32Array    batch * 2: [i*2] frame length (slot + 1 when the frame did not fit),
 *                       [i*2+1] offset of the frame in its slot (0 with a tag written back, else
 *                       4), or FRAME_NOT_ETHERNET (-1), FRAME_LOOPED (-2)
 *   stats Float64Array  4: [0] frames the kernel dropped, socket buffer full (PACKET_STATISTICS,
 *                       cumulative as of the last statistics() call), [1] recvmmsg calls,
 *                       [2] frames received, [3] receive errors
 *
 * open(device, filter, rcvbuf, data, meta, stats, slot, onBatch, onError) -> handle
 *   device: interface name or "any"; filter: Uint32Array of [code, jt, jf, k] per instruction;
 *   throws with code "E<NAME>" (ENODEV: no such interface, ENETDOWN: it is down, EPERM: no
 *   CAP_NET_RAW) and the failing call in the message
 * close(handle)
 * statistics(handle) -> frames dropped by the kernel since open (updates stats[0])
 * receiveBuffer(handle) -> SO_RCVBUF as the kernel reports it
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

#define MAX_BATCHES_PER_EVENT 16
#define TAG_ROOM 4 /* frames are read 4 bytes into their slot: room to write a tag back */
#define FRAME_NOT_ETHERNET (-1)
#define FRAME_LOOPED (-2)
#define MAX_FILTER 4096 /* BPF_MAXINSNS */
#define CONTROL_LEN CMSG_SPACE(sizeof(struct tpacket_auxdata))

enum { REF_CALLBACK, REF_ERROR, REF_SELF, REF_DATA, REF_META, REF_STATS, REF_COUNT };

typedef struct {
  napi_env env;
  int fd;
  int closing;
  int failed;
  uv_poll_t poll;
  napi_ref refs[REF_COUNT];
  napi_async_context async;
  uint8_t *data;
  int32_t *meta;
  double *stats;
  size_t slot;
  unsigned batch;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_ll *names;
  char *control; /* batch * CONTROL_LEN */
} cap_socket;

#define CHECK(env, call)                                                                           \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error((env), "EVPNPROXY_NATIVE", "N-API call failed: " #call);                    \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

/* "ENODEV" etc.; "E<number>" for an errno glibc has no name for. */
static void errno_code(int err, char *code, size_t size) {
  const char *name = strerrorname_np(err);
  if (name)
    snprintf(code, size, "%s", name);
  else
    snprintf(code, size, "E%d", err);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  char code[32];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  errno_code(err, code, sizeof code);
  napi_throw_error(env, code, msg);
  return NULL;
}

static void free_socket(cap_socket *s) {
  free(s->msgs);
  free(s->iov);
  free(s->names);
  free(s->control);
  free(s);
}

static void release_refs(cap_socket *s) {
  napi_env env = s->env;
  for (int i = 0; i < REF_COUNT; i++) {
    if (s->refs[i]) napi_delete_reference(env, s->refs[i]);
    s->refs[i] = NULL;
  }
  if (s->async) napi_async_destroy(env, s->async);
  s->async = NULL;
}

static void on_closed(uv_handle_t *h) { free_socket((cap_socket *)h->data); }

/* Stops reading and closes the socket; the memory goes in on_closed, once libuv lets go of it. */
static void shut(cap_socket *s) {
  s->closing = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

/* The environment is going away (process exit, worker end): its references go with it. */
static void cleanup_hook(void *arg) {
  cap_socket *s = arg;
  if (!s->closing) shut(s);
}

static void close_socket(cap_socket *s) {
  if (s->closing) return;
  napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
  release_refs(s);
  shut(s);
}

/* Calls the JavaScript function of refs[which] with `self` as receiver; an exception it throws
 * is the process's uncaught exception, as for any I/O callback. Returns 0 when it could not. */
static int call_js(cap_socket *s, int which, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, self, result;
  if (napi_get_reference_value(env, s->refs[which], &fn) != napi_ok ||
      napi_get_reference_value(env, s->refs[REF_SELF], &self) != napi_ok)
    return 0;
  napi_status st = napi_make_callback(env, s->async, self, fn, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
    return 0;
  }
  return st == napi_ok;
}

/* The socket reads no more: stops polling and reports `err` to onError, once. */
static void fail(cap_socket *s, const char *what, int err) {
  if (s->failed || s->closing) return;
  s->failed = 1;
  uv_poll_stop(&s->poll);
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  char code[32], msg[256];
  errno_code(err, code, sizeof code);
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value argv[2];
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &argv[0]) == napi_ok &&
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok)
    call_js(s, REF_ERROR, 2, argv);
  napi_close_handle_scope(env, scope);
}

/* Writes the tag the kernel took out (auxdata) back after the MAC addresses; returns the frame's
 * offset in its slot. The frame was read at TAG_ROOM, so the 12 address bytes move 4 forward. */
static int32_t restore_tag(uint8_t *slot, int32_t *len, struct msghdr *h) {
  if (*len < 12) return TAG_ROOM;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
    struct tpacket_auxdata aux;
    memcpy(&aux, CMSG_DATA(c), sizeof aux);
    if (!(aux.tp_status & TP_STATUS_VLAN_VALID)) return TAG_ROOM;
    uint16_t tpid = htons((aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q);
    uint16_t tci = htons(aux.tp_vlan_tci);
    memmove(slot, slot + TAG_ROOM, 12);
    memcpy(slot + 12, &tpid, 2);
    memcpy(slot + 14, &tci, 2);
    *len += 4;
    return 0;
  }
  return TAG_ROOM;
}

/* Reads one batch; returns the number of frames, 0 when none is waiting, -1 on error (errno). */
static int read_batch(cap_socket *s) {
  for (unsigned i = 0; i < s->batch; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    h->msg_namelen = sizeof(struct sockaddr_ll);
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
  s->stats[2] += n;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    const struct sockaddr_ll *ll = &s->names[i];
    int32_t len = (int32_t)s->msgs[i].msg_len;
    int32_t off;
    if (ll->sll_hatype == ARPHRD_LOOPBACK && ll->sll_pkttype == PACKET_OUTGOING)
      off = FRAME_LOOPED;
    else if (ll->sll_hatype != ARPHRD_ETHER && ll->sll_hatype != ARPHRD_LOOPBACK)
      off = FRAME_NOT_ETHERNET;
    else if (h->msg_flags & MSG_TRUNC) {
      len = (int32_t)s->slot + 1;
      off = TAG_ROOM;
    } else
      off = restore_tag(s->data + (size_t)i * s->slot, &len, h);
    s->meta[i * 2] = len;
    s->meta[i * 2 + 1] = off;
  }
  return n;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  cap_socket *s = poll->data;
  if (s->closing || s->failed) return;
  if (status < 0) {
    /* POLLERR: libuv has stopped the handle; the socket's error says why. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = EIO;
    fail(s, "poll", err);
    return;
  }
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  for (int b = 0; b < MAX_BATCHES_PER_EVENT && !s->closing; b++) {
    int n = read_batch(s);
    if (n < 0) {
      fail(s, "recvmmsg", errno);
      break;
    }
    if (n == 0) break;
    napi_value count;
    if (napi_create_int32(env, n, &count) != napi_ok || !call_js(s, REF_CALLBACK, 1, &count)) break;
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

/* A socket bound to `ifindex` (0: every interface) with `prog` attached; -1 and errno on error. */
static int open_socket(int ifindex, const char *device, struct sock_fprog *prog, int rcvbuf, const char **what) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); /* protocol 0: no frames yet */
  if (fd < 0) {
    *what = "socket";
    return -1;
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof *prog) < 0) {
    *what = "setsockopt(SO_ATTACH_FILTER)";
    goto fail;
  }
  if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
    *what = "setsockopt(PACKET_AUXDATA)";
    goto fail;
  }
  if (rcvbuf > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf); /* EPERM without CAP_NET_ADMIN */
  }
  if (ifindex > 0) {
    /* A socket bound to a device that is down gets ENETDOWN at once: say so here instead. */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, device, strnlen(device, IF_NAMESIZE - 1));
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
      *what = "ioctl(SIOCGIFFLAGS)";
      goto fail;
    }
    if (!(ifr.ifr_flags & IFF_UP)) {
      errno = ENETDOWN;
      *what = "interface";
      goto fail;
    }
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    *what = "bind";
    goto fail;
  }
  return fd;
fail:;
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "open(device, filter, rcvbuf, data, meta, stats, slot, onBatch, onError)");
    return NULL;
  }
  char device[IF_NAMESIZE + 1];
  size_t deviceLen;
  int32_t rcvbuf, slot;
  if (napi_get_value_string_utf8(env, argv[0], device, sizeof device, &deviceLen) != napi_ok || deviceLen == 0 ||
      deviceLen >= IF_NAMESIZE || napi_get_value_int32(env, argv[2], &rcvbuf) != napi_ok ||
      napi_get_value_int32(env, argv[6], &slot) != napi_ok || slot < 64 + TAG_ROOM) {
    napi_throw_type_error(env, NULL, "open: bad device name, receive buffer or slot size");
    return NULL;
  }
  void *filter, *data, *meta, *stats;
  size_t filterLen, dataLen, metaLen, statsLen;
  if (!typed_array(env, argv[1], napi_uint32_array, &filter, &filterLen) || filterLen == 0 || filterLen % 4 != 0 ||
      filterLen / 4 > MAX_FILTER) {
    napi_throw_type_error(env, NULL, "open: filter must be a Uint32Array of [code, jt, jf, k] instructions");
    return NULL;
  }
  if (!typed_array(env, argv[3], napi_uint8_array, &data, &dataLen) ||
      !typed_array(env, argv[4], napi_int32_array, &meta, &metaLen) ||
      !typed_array(env, argv[5], napi_float64_array, &stats, &statsLen) || statsLen < 4) {
    napi_throw_type_error(env, NULL, "open: data must be a Uint8Array, meta an Int32Array, stats a Float64Array(4)");
    return NULL;
  }
  unsigned batch = (unsigned)(metaLen / 2);
  if (batch == 0 || dataLen < (size_t)batch * (size_t)slot) {
    napi_throw_range_error(env, NULL, "open: data and meta must hold the same number of slots");
    return NULL;
  }
  for (int i = 7; i <= 8; i++) {
    napi_valuetype t;
    CHECK(env, napi_typeof(env, argv[i], &t));
    if (t != napi_function) {
      napi_throw_type_error(env, NULL, "open: onBatch and onError must be functions");
      return NULL;
    }
  }

  unsigned count = (unsigned)(filterLen / 4);
  struct sock_filter code[MAX_FILTER];
  const uint32_t *f = filter;
  for (unsigned i = 0; i < count; i++) {
    if (f[i * 4] > 0xffff || f[i * 4 + 1] > 0xff || f[i * 4 + 2] > 0xff) {
      napi_throw_range_error(env, NULL, "open: filter instruction out of range");
      return NULL;
    }
    code[i] = (struct sock_filter){(uint16_t)f[i * 4], (uint8_t)f[i * 4 + 1], (uint8_t)f[i * 4 + 2], f[i * 4 + 3]};
  }
  struct sock_fprog prog = {(unsigned short)count, code};

  int ifindex = 0;
  if (strcmp(device, "any") != 0) {
    ifindex = (int)if_nametoindex(device);
    if (ifindex == 0) return throw_errno(env, device, errno == ENXIO ? ENODEV : errno);
  }
  const char *what = "";
  int fd = open_socket(ifindex, device, &prog, rcvbuf, &what);
  if (fd < 0) {
    char where[IF_NAMESIZE + 64];
    snprintf(where, sizeof where, "%s: %s", device, what);
    return throw_errno(env, where, errno);
  }

  cap_socket *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->data = data;
  s->meta = meta;
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
    s->iov[i].iov_base = s->data + (size_t)i * s->slot + TAG_ROOM;
    s->iov[i].iov_len = s->slot - TAG_ROOM;
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
           napi_create_reference(env, argv[7], 1, &s->refs[REF_CALLBACK]) == napi_ok &&
           napi_create_reference(env, argv[8], 1, &s->refs[REF_ERROR]) == napi_ok &&
           napi_create_reference(env, self, 1, &s->refs[REF_SELF]) == napi_ok &&
           napi_create_reference(env, argv[3], 1, &s->refs[REF_DATA]) == napi_ok &&
           napi_create_reference(env, argv[4], 1, &s->refs[REF_META]) == napi_ok &&
           napi_create_reference(env, argv[5], 1, &s->refs[REF_STATS]) == napi_ok &&
           napi_create_string_utf8(env, "EvpnProxyCapture", NAPI_AUTO_LENGTH, &resource) == napi_ok &&
           napi_async_init(env, NULL, resource, &s->async) == napi_ok &&
           napi_get_uv_event_loop(env, &loop) == napi_ok && napi_create_external(env, s, NULL, NULL, &ext) == napi_ok &&
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

static cap_socket *unwrap(napi_env env, napi_callback_info info, napi_value *handle) {
  size_t argc = 1;
  napi_value argv[1], ext;
  void *p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_named_property(env, argv[0], "handle", &ext) != napi_ok ||
      napi_get_value_external(env, ext, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a capture handle");
    return NULL;
  }
  if (handle) *handle = argv[0];
  return p;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value handle, ext, nothing;
  cap_socket *s = unwrap(env, info, &handle);
  if (!s) return NULL;
  /* The handle forgets the socket first, so a second close is an error, not a use after free. */
  CHECK(env, napi_create_external(env, NULL, NULL, NULL, &ext));
  CHECK(env, napi_set_named_property(env, handle, "handle", ext));
  close_socket(s);
  CHECK(env, napi_get_null(env, &nothing));
  return nothing;
}

static napi_value js_statistics(napi_env env, napi_callback_info info) {
  cap_socket *s = unwrap(env, info, NULL);
  if (!s) return NULL;
  struct tpacket_stats st; /* reading resets the kernel's counters: they are added up here */
  socklen_t len = sizeof st;
  if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return throw_errno(env, "getsockopt", errno);
  s->stats[0] += st.tp_drops;
  napi_value v;
  CHECK(env, napi_create_double(env, s->stats[0], &v));
  return v;
}

static napi_value js_receive_buffer(napi_env env, napi_callback_info info) {
  cap_socket *s = unwrap(env, info, NULL);
  if (!s) return NULL;
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) return throw_errno(env, "getsockopt", errno);
  napi_value v;
  CHECK(env, napi_create_int32(env, size, &v));
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"statistics", NULL, js_statistics, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveBuffer", NULL, js_receive_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
