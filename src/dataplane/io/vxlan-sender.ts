// The sending half of the proxy's data plane: VXLAN datagrams (replicated BUM frames, ARP/ND
// answers) in batches. A payload (8-byte VXLAN header + inner Ethernet frame, RFC 7348 §5) is
// written once into the shared payload area; each copy is a descriptor (payload offset and
// length, outer source, destination, UDP source port). flush() sends the batch; a full batch
// flushes by itself. Errors are counted per reason, never thrown.
//
// Two modes: "preserve" keeps the original VTEP's outer source address (flood-and-learn VTEPs
// learn remote MACs from it), through a raw socket that needs CAP_NET_RAW; "proxy" sends from the
// proxy's own address through a UDP socket bound to (local, 0), for underlays with strict uRPF
// (the descriptor's source address and source port are then ignored: every copy leaves from the
// socket's address and port).
//
// Two senders: the native addon native/vxlan_send.c (sendmmsg(2), one outer header per copy and
// the shared payload as a second iovec, no allocation per datagram), and Node's dgram socket
// where the addon is not built ("proxy" only: dgram cannot set the source address; a Buffer per
// payload and flush, and the outcome of each datagram counted when dgram reports it).
//
// Receivers of spoofed sources: a Linux host with rp_filter=1 (strict) on the receiving
// interface drops datagrams whose source it would not route back through that interface; the
// static VTEPs need rp_filter 0 or 2 (loose) there, or the service uses "proxy".

import dgram from "node:dgram";
import { createRequire } from "node:module";
import { InvariantError, ProxyError } from "../../errors.js";
import { formatIpv6, parseIpv4Into, parseIpv6Into } from "../../net/addr.js";
import { VXLAN_PORT } from "../../wire/packet.js";

export type SenderMode = "preserve" | "proxy";
export type SenderChoice = "auto" | "native" | "dgram";
export type SenderKind = "native" | "dgram";
/** An outer address: 4 or 16 bytes as the sender's family wants (allocation-free), or text. */
export type OuterAddress = Uint8Array | string;

export interface VxlanSenderOptions {
  mode: SenderMode;
  /**
   * The proxy's own underlay address (learning.vxlan-listen): "proxy" binds to (local, 0); in
   * both modes its family (IPv4/IPv6) is the family of every outer address.
   */
  local: string;
  /** UDP destination port, RFC 7348 §5: 4789. */
  port?: number;
  /** Copies per sendmmsg(2) batch, 1–1024 (the kernel's limit, UIO_MAXIOV); default 1024. */
  batch?: number;
  /** Size of the shared payload area (default 256 KiB); one payload must fit. */
  payloadBytes?: number;
  /** SO_SNDBUF to ask for (default SEND_BUFFER_BYTES; native also SO_SNDBUFFORCE, CAP_NET_ADMIN). */
  sendBufferBytes?: number;
  /** "auto" (default): native when built, else dgram ("proxy" mode only). */
  sender?: SenderChoice;
}

export interface SenderCounters {
  /** Datagrams the kernel accepted. */
  datagrams: number;
  /** Their payload bytes (VXLAN header + inner frame; outer headers not included). */
  bytes: number;
  /** sendmmsg(2) calls (native) or dgram send calls. */
  calls: number;
  /** Datagrams not sent: the sum of `errors`. */
  dropped: number;
  /** Dropped datagrams by reason: an errno name ("EAGAIN", "EHOSTUNREACH", …) or "dgram-queue-full". */
  errors: Record<string, number>;
}

/** What one flush did; the same object is reused by the next flush. */
export interface FlushResult {
  /** Descriptors the flush took. */
  queued: number;
  /** Datagrams the kernel accepted (native), or handed to dgram (whose outcome lands in the counters later). */
  sent: number;
  /** Datagrams dropped by this flush (native), or refused because dgram's queue was full. */
  dropped: number;
}

/** Error codes of the sender (ProxyError.code). */
export const SENDER_ERRORS = {
  /** "preserve" needs a raw socket, which needs CAP_NET_RAW. */
  capNetRaw: "ERR_SENDER_CAP_NET_RAW",
  /** "preserve" without the native addon (dgram cannot set the outer source address). */
  preserveNeedsNative: "ERR_SENDER_PRESERVE_NEEDS_NATIVE",
  /** IPv6 "preserve" on a kernel without IPV6_HDRINCL (Linux < 4.5). */
  ipv6Hdrincl: "ERR_SENDER_IPV6_HDRINCL",
  /** sender "native" asked for and the addon cannot be loaded. */
  native: "ERR_SENDER_NATIVE",
  /** The socket could not be opened or bound. */
  socket: "ERR_SENDER_SOCKET",
  /** Bad options. */
  options: "ERR_SENDER_OPTIONS",
  /** A descriptor or payload the caller got wrong (a programming error). */
  descriptor: "ERR_SENDER_DESCRIPTOR",
  /** Used before start() or after stop(). */
  notOpen: "ERR_SENDER_NOT_OPEN",
} as const;

/** 4 MiB: a full batch of 1,024 small datagrams at about 1 KiB of accounting each, four times over. */
export const SEND_BUFFER_BYTES = 4 * 1024 * 1024;
const MAX_BATCH = 1024;
const DEFAULT_PAYLOAD_BYTES = 256 * 1024;
/** The shortest payload: the VXLAN header (RFC 7348 §5). */
const MIN_PAYLOAD = 8;
/** Outer IPv6 + UDP headers (48) must fit in an IP datagram with the payload. */
const MAX_PAYLOAD = 65535 - 48;
/** Slices up to this long are copied byte by byte: no subarray view allocated per payload. */
const SHORT_COPY = 256;
const DESC_WORDS = 4;
const ADDR_STRIDE = 32;
const STAT_ERRNO = 4;
const ERRNO_SLOTS = 160;
/** dgram: datagrams handed over and not yet reported before new ones are refused. */
const MAX_DGRAM_PENDING = 4 * MAX_BATCH;
const MODE_CODE: Record<SenderMode, number> = { preserve: 0, proxy: 1 };

interface NativeHandle {
  readonly handle: unknown;
}
interface NativeSend {
  open(
    mode: number,
    family: number,
    local: string,
    port: number,
    sndbuf: number,
    payload: Uint8Array,
    desc: Uint32Array,
    addr: Uint8Array,
    stats: Float64Array,
  ): NativeHandle;
  flush(h: NativeHandle, n: number): number;
  close(h: NativeHandle): void;
  port(h: NativeHandle): number;
  sendBuffer(h: NativeHandle): number;
  errnoNames(): string[];
}

let nativeModule: NativeSend | Error | undefined;
let errnoNames: string[] = [];

/** The native sender, or the reason it cannot be loaded (not built, not Linux). */
export function nativeSender(): NativeSend | Error {
  if (nativeModule === undefined) {
    const path = new URL("../../../../native/build/Release/vxlan_send.node", import.meta.url).pathname;
    try {
      const mod = createRequire(import.meta.url)(path) as NativeSend;
      errnoNames = mod.errnoNames();
      nativeModule = mod;
    } catch (e) {
      nativeModule = new Error(`native VXLAN sender not loaded from ${path}: ${(e as Error).message}`);
    }
  }
  return nativeModule;
}

/** Errno numbers of the failures open() maps to their own codes (Linux). */
const EPERM = 1;
const EACCES = 13;
const ENOPROTOOPT = 92;

export class VxlanSender {
  /** The shared payload area: write a payload at the offset reserve() returns. */
  readonly payloads: Uint8Array;
  readonly mode: SenderMode;
  readonly family: 4 | 6;
  readonly batchSize: number;
  private readonly desc: Uint32Array;
  private readonly addr: Uint8Array;
  private readonly stats = new Float64Array(STAT_ERRNO + ERRNO_SLOTS);
  private readonly addrLen: 4 | 16;
  private readonly result: FlushResult = { queued: 0, sent: 0, dropped: 0 };
  private native: { mod: NativeSend; h: NativeHandle } | undefined;
  private socket: dgram.Socket | undefined;
  private readonly dgramErrors: Record<string, number> = {};
  private dgramPending = 0;
  private readonly v4Text = new Map<number, string>();
  private n = 0;
  private cursor = 0;

  constructor(private readonly opts: VxlanSenderOptions) {
    const v4 = new Uint8Array(16);
    if (parseIpv4Into(opts.local, v4, 0)) this.family = 4;
    else if (parseIpv6Into(opts.local, v4, 0)) this.family = 6;
    else throw new ProxyError(SENDER_ERRORS.options, `sender: local "${opts.local}" is not an IP address`);
    this.addrLen = this.family === 4 ? 4 : 16;
    this.mode = opts.mode;
    if (opts.mode !== "preserve" && opts.mode !== "proxy")
      throw new ProxyError(
        SENDER_ERRORS.options,
        `sender: mode must be "preserve" or "proxy", not "${String(opts.mode)}"`,
      );
    const batch = opts.batch ?? MAX_BATCH;
    if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH)
      throw new ProxyError(SENDER_ERRORS.options, `sender: batch must be 1–${MAX_BATCH}, not ${batch}`);
    const bytes = opts.payloadBytes ?? DEFAULT_PAYLOAD_BYTES;
    if (!Number.isInteger(bytes) || bytes < MIN_PAYLOAD)
      throw new ProxyError(SENDER_ERRORS.options, `sender: payloadBytes must be at least ${MIN_PAYLOAD}`);
    const port = opts.port ?? VXLAN_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new ProxyError(SENDER_ERRORS.options, `sender: port must be 1–65535, not ${port}`);
    this.batchSize = batch;
    this.payloads = new Uint8Array(bytes);
    this.desc = new Uint32Array(batch * DESC_WORDS);
    this.addr = new Uint8Array(batch * ADDR_STRIDE);
  }

  /** Which sender start() opened. */
  get kind(): SenderKind | undefined {
    return this.native ? "native" : this.socket ? "dgram" : undefined;
  }

  async start(): Promise<void> {
    if (this.native || this.socket) return;
    const choice = this.opts.sender ?? "auto";
    if (choice !== "dgram") {
      const mod = nativeSender();
      if (!(mod instanceof Error)) {
        this.native = { mod, h: this.openNative(mod) };
        return;
      }
      if (choice === "native") throw new ProxyError(SENDER_ERRORS.native, mod.message);
      if (this.mode === "preserve")
        throw new ProxyError(
          SENDER_ERRORS.preserveNeedsNative,
          `sender: "preserve" (outer source address of the original VTEP) needs the native addon, and ${mod.message}`,
        );
    } else if (this.mode === "preserve") {
      throw new ProxyError(
        SENDER_ERRORS.preserveNeedsNative,
        `sender: "preserve" (outer source address of the original VTEP) needs the native addon; dgram cannot set it`,
      );
    }
    const s = dgram.createSocket({ type: this.family === 4 ? "udp4" : "udp6", sendBufferSize: this.sendBuffer() });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind({ address: this.opts.local, port: 0, exclusive: true }, () => {
        s.off("error", reject);
        resolve();
      });
    }).catch((e: Error) => {
      s.close();
      throw new ProxyError(SENDER_ERRORS.socket, `sender: bind ${this.opts.local}: ${e.message}`, { cause: e });
    });
    s.on("error", () => undefined); // send errors arrive in the send callbacks
    this.socket = s;
  }

  private sendBuffer(): number {
    return this.opts.sendBufferBytes ?? SEND_BUFFER_BYTES;
  }

  private openNative(mod: NativeSend): NativeHandle {
    try {
      return mod.open(
        MODE_CODE[this.mode],
        this.family,
        this.opts.local,
        this.opts.port ?? VXLAN_PORT,
        this.sendBuffer(),
        this.payloads,
        this.desc,
        this.addr,
        this.stats,
      );
    } catch (e) {
      const err = e as Error & { code?: string };
      const errno = /^E\d+$/.test(err.code ?? "") ? Number(err.code!.slice(1)) : 0;
      if (this.mode === "preserve" && (errno === EPERM || errno === EACCES) && err.message.startsWith("socket"))
        throw new ProxyError(
          SENDER_ERRORS.capNetRaw,
          `sender: "preserve" needs a raw socket (IPPROTO_RAW), which needs the capability CAP_NET_RAW ` +
            `(${err.message}); grant it (e.g. AmbientCapabilities=CAP_NET_RAW) or send copies from the proxy's address`,
          { cause: e },
        );
      if (errno === ENOPROTOOPT && err.message.includes("IPV6_HDRINCL"))
        throw new ProxyError(
          SENDER_ERRORS.ipv6Hdrincl,
          `sender: "preserve" over an IPv6 underlay needs IPV6_HDRINCL (Linux 4.5 or later): ${err.message}`,
          { cause: e },
        );
      throw new ProxyError(SENDER_ERRORS.socket, `sender: ${err.message}`, { cause: e });
    }
  }

  /** The UDP source port of "proxy" copies (the socket's); 0 in "preserve" mode. */
  get port(): number | undefined {
    if (this.native) return this.native.mod.port(this.native.h);
    return this.socket?.address().port;
  }

  /** SO_SNDBUF as the kernel granted it (Linux reports twice the accounted size). */
  get sendBufferBytes(): number | undefined {
    if (this.native) return this.native.mod.sendBuffer(this.native.h);
    return this.socket?.getSendBufferSize();
  }

  /** Descriptors waiting for flush(). */
  get queued(): number {
    return this.n;
  }

  /**
   * Space for a payload of `length` bytes in `payloads`; returns its offset. An offset stays
   * valid until a later reserve() finds no room after the last payload: that one flushes what is
   * queued and starts the area over at 0. Queue every copy of a payload before reserving the next.
   */
  reserve(length: number): number {
    if (!Number.isInteger(length) || length < MIN_PAYLOAD || length > MAX_PAYLOAD || length > this.payloads.length)
      throw new InvariantError(
        SENDER_ERRORS.descriptor,
        `sender: payload length ${length} outside ${MIN_PAYLOAD}–${Math.min(MAX_PAYLOAD, this.payloads.length)}`,
      );
    if (this.cursor + length > this.payloads.length) {
      this.flush();
      this.cursor = 0;
    }
    const off = this.cursor;
    this.cursor += length;
    return off;
  }

  /** Copies `bytes[start, end)` into the payload area (reserve() + copy); returns its offset. */
  payload(bytes: Uint8Array, start = 0, end = bytes.length): number {
    const off = this.reserve(end - start);
    const p = this.payloads;
    if (start === 0 && end === bytes.length) p.set(bytes, off);
    else if (end - start <= SHORT_COPY) for (let i = start, o = off; i < end; i++, o++) p[o] = bytes[i]!;
    else p.set(bytes.subarray(start, end), off);
    return off;
  }

  /**
   * Queues one copy of the payload at `offset` (`length` bytes) from `src` to `dst` with UDP
   * source port `srcPort` (RFC 7348 §5: a hash of the inner frame, 49152–65535 recommended).
   * "proxy" ignores `src` and `srcPort`. A full batch is flushed first.
   */
  add(offset: number, length: number, src: OuterAddress, dst: OuterAddress, srcPort: number): void {
    if (!this.native && !this.socket) throw new ProxyError(SENDER_ERRORS.notOpen, "sender: not started");
    if (
      offset >>> 0 !== offset ||
      length >>> 0 !== length ||
      length < MIN_PAYLOAD ||
      length > MAX_PAYLOAD ||
      offset + length > this.payloads.length
    )
      throw new InvariantError(
        SENDER_ERRORS.descriptor,
        `sender: payload [${offset}, +${length}) outside the payload area (${this.payloads.length} bytes, payloads of ${MIN_PAYLOAD}–${MAX_PAYLOAD})`,
      );
    if (srcPort >>> 0 !== srcPort || srcPort > 65535)
      throw new InvariantError(SENDER_ERRORS.descriptor, `sender: UDP source port ${srcPort} outside 0–65535`);
    if (this.n === this.batchSize) this.flush();
    const i = this.n;
    const a = i * ADDR_STRIDE;
    if (this.mode === "preserve") this.putAddress(src, a, "source");
    this.putAddress(dst, a + 16, "destination");
    const d = i * DESC_WORDS;
    this.desc[d] = offset;
    this.desc[d + 1] = length;
    this.desc[d + 2] = srcPort;
    this.n = i + 1;
  }

  private putAddress(v: OuterAddress, at: number, what: string): void {
    const len = this.addrLen;
    if (typeof v === "string") {
      if (len === 4 ? parseIpv4Into(v, this.addr, at) : parseIpv6Into(v, this.addr, at)) return;
    } else if (v.length === len) {
      for (let k = 0; k < len; k++) this.addr[at + k] = v[k]!;
      return;
    }
    throw new InvariantError(
      SENDER_ERRORS.descriptor,
      `sender: ${what} ${typeof v === "string" ? `"${v}"` : `of ${v.length} bytes`} is not an IPv${this.family} address`,
    );
  }

  /** Sends every queued copy; see FlushResult. */
  flush(): FlushResult {
    if (!this.native && !this.socket) throw new ProxyError(SENDER_ERRORS.notOpen, "sender: not started");
    const r = this.result;
    const n = this.n;
    this.n = 0;
    r.queued = n;
    r.sent = 0;
    r.dropped = 0;
    if (n === 0) return r;
    if (this.native) {
      const before = this.stats[3]!;
      r.sent = this.native.mod.flush(this.native.h, n);
      r.dropped = this.stats[3]! - before;
    } else this.flushDgram(this.socket!, n, r);
    return r;
  }

  private flushDgram(s: dgram.Socket, n: number, r: FlushResult): void {
    const port = this.opts.port ?? VXLAN_PORT;
    let lastOff = -1;
    let lastLen = -1;
    let buf: Buffer | undefined;
    for (let i = 0; i < n; i++) {
      if (this.dgramPending >= MAX_DGRAM_PENDING) {
        this.dgramDrop("dgram-queue-full");
        r.dropped++;
        continue;
      }
      const off = this.desc[i * DESC_WORDS]!;
      const len = this.desc[i * DESC_WORDS + 1]!;
      // dgram sends after this returns: the payload is copied, once for its consecutive copies
      if (buf === undefined || off !== lastOff || len !== lastLen) {
        buf = Buffer.from(this.payloads.subarray(off, off + len));
        lastOff = off;
        lastLen = len;
      }
      this.dgramPending++;
      this.stats[2]++;
      s.send(buf, port, this.destinationText(i), (err) => {
        this.dgramPending--;
        if (err) this.dgramDrop((err as NodeJS.ErrnoException).code ?? "unknown");
        else {
          this.stats[0]++;
          this.stats[1] += len;
        }
      });
      r.sent++;
    }
  }

  private dgramDrop(reason: string): void {
    this.stats[3]++;
    this.dgramErrors[reason] = (this.dgramErrors[reason] ?? 0) + 1;
  }

  private destinationText(i: number): string {
    const a = this.addr;
    const o = i * ADDR_STRIDE + 16;
    if (this.family === 6) return formatIpv6(a, o);
    const key = ((a[o]! << 24) | (a[o + 1]! << 16) | (a[o + 2]! << 8) | a[o + 3]!) >>> 0;
    let text = this.v4Text.get(key);
    if (text === undefined) {
      if (this.v4Text.size >= 65536) this.v4Text.clear();
      text = `${a[o]}.${a[o + 1]}.${a[o + 2]}.${a[o + 3]}`;
      this.v4Text.set(key, text);
    }
    return text;
  }

  /** The counters so far (a new object per call). */
  get counters(): SenderCounters {
    const st = this.stats;
    const errors: Record<string, number> = { ...this.dgramErrors };
    for (let e = 0; e < ERRNO_SLOTS; e++) {
      const v = st[STAT_ERRNO + e]!;
      if (v > 0) errors[e === ERRNO_SLOTS - 1 ? "other" : errnoNames[e] || `errno ${e}`] = v;
    }
    return { datagrams: st[0]!, bytes: st[1]!, calls: st[2]!, dropped: st[3]!, errors };
  }

  /** Closes the socket; what is still queued is discarded (flush() first to send it). */
  async stop(): Promise<void> {
    this.n = 0;
    if (this.native) this.native.mod.close(this.native.h);
    this.native = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
