// Packet source 1 of data-plane learning: a UDP socket on the VXLAN port of the proxy's address.
// Static VTEPs that list the proxy in their flood lists send it every broadcast (ARP, ND) of
// their hosts; no capture privileges are needed. Each datagram is decoded in place into one
// reused frame object (no allocation per datagram unless something is learned); garbage is
// counted, never thrown.
//
// Two receivers: the native addon native/vxlan_recv.c (recvmmsg(2) into memory shared with
// JavaScript, one callback per batch of up to 64 datagrams, no allocation per datagram; built by
// `npm ci`), and Node's dgram socket (a Buffer and an address object per datagram) where the
// addon is not built. EVPN_PROXY_VXLAN_RECEIVER=dgram|native chooses one explicitly.

import dgram from "node:dgram";
import { createRequire } from "node:module";
import {
  decodeVxlanInto,
  type DecodeOptions,
  type LearnedFrame,
  newLearnedFrame,
  type SkipReason,
  VXLAN_PORT,
} from "../../wire/packet.js";
import { type ReopenCounters, Reopener, type SourceStateEvent } from "./reopen.js";

export interface UdpSourceOptions {
  address: string;
  /** RFC 7348 §5: 4789. */
  port?: number;
  /** Also learn the source MAC of frames that are neither ARP nor ND (learning.any-frame). */
  anyFrame?: boolean;
  /**
   * SO_RCVBUF to ask for (default RECEIVE_BUFFER_BYTES). dgram: capped by net.core.rmem_max; native:
   * also set with SO_RCVBUFFORCE, which a process with CAP_NET_ADMIN may set beyond that cap.
   */
  receiveBufferBytes?: number;
  /** "auto" (default): native when built, else dgram (`run --vxlan-receiver`). */
  receiver?: ReceiverChoice;
  /**
   * Bytes per receive slot (default 2048: ARP and ND fit). A longer datagram is skipped and
   * counted as truncated; replication needs whole frames (9216 takes jumbo frames).
   */
  slotBytes?: number;
  /**
   * Every datagram as received (VXLAN header at `off`), before it is decoded for learning: the
   * replication engine's input. `buf` is reused for the next batch: copy what you keep.
   */
  onDatagram?: (buf: Uint8Array, off: number, end: number, from: string) => void;
  /** After each batch of datagrams (the native receiver's recvmmsg, or one dgram message). */
  onBatchEnd?: () => void;
  /** The native socket failed (POLLERR) and was closed, or is open again on the same port. */
  onState?: (e: SourceStateEvent) => void;
}

export type ReceiverChoice = "auto" | "native" | "dgram";
export type Receiver = "native" | "dgram";

/** Bytes per datagram slot by default: ARP and ND fit. */
const SLOT = 2048;
const BATCH = 64;
/** Cached text forms of outer source addresses, dropped wholesale past this size (spoofed floods). */
const MAX_CACHED_SOURCES = 65536;

function errorCode(e: Error): string {
  return "code" in e ? String(e.code) : "";
}
/** Delays before opening the native socket again after it failed: doubling between these. */
const REOPEN_MIN_MS = 20;
const REOPEN_MAX_MS = 5000;

interface NativeSocket {
  readonly handle: unknown;
}
interface NativeVxlan {
  open(
    address: string,
    port: number,
    rcvbuf: number,
    data: Uint8Array,
    meta: Int32Array,
    addr: Uint8Array,
    stats: Uint32Array,
    slot: number,
    onBatch: (n: number) => void,
    onError: (code: string, message: string) => void,
  ): NativeSocket;
  close(s: NativeSocket): void;
  port(s: NativeSocket): number;
  receiveBuffer(s: NativeSocket): number;
  formatAddress(bytes: Uint8Array, offset: number, family: number): string;
}

let nativeModule: NativeVxlan | Error | undefined;

/** The native receiver, or the reason it cannot be loaded (not built, not Linux). */
export function nativeReceiver(): NativeVxlan | Error {
  if (nativeModule === undefined) {
    const path = new URL("../../../../native/build/Release/vxlan_recv.node", import.meta.url).pathname;
    try {
      nativeModule = createRequire(import.meta.url)(path) as NativeVxlan;
    } catch (e) {
      nativeModule = new Error(`native VXLAN receiver not loaded from ${path}: ${(e as Error).message}`);
    }
  }
  return nativeModule;
}

/**
 * The socket buffer absorbs bursts while the event loop turns new MACs into routes: the kernel
 * accounts roughly 1 KiB per 68-byte ARP datagram (and doubles what is asked), so 32 MiB holds
 * about 60,000 datagrams — a third of a second at 200,000/s (with 8 MiB, 3–7 % of a 100,000-MAC
 * burst at that rate was dropped; BENCHMARKS.md). Memory is taken only while datagrams wait.
 * Without CAP_NET_ADMIN the kernel caps it at net.core.rmem_max.
 */
export const RECEIVE_BUFFER_BYTES = 32 * 1024 * 1024;

export interface SourceCounters {
  datagrams: number;
  frames: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Datagrams the kernel dropped because the receive buffer was full (native receiver only). */
  kernelDrops?: number;
  /**
   * Datagrams longer than a receive slot, skipped whole: the native receiver reads at most a slot
   * of each, and dgram's whole datagrams are held to the same limit (up to 65,507 bytes).
   */
  truncated: number;
  /** Native socket errors (each closes the socket; it is opened again). */
  socketErrors?: ReopenCounters;
}

/**
 * Calls `onFrame` for every datagram that decodes to a learnable frame. The frame object is
 * reused for the next datagram: copy what you keep.
 */
export class VxlanUdpSource {
  readonly counters: SourceCounters = { datagrams: 0, frames: 0, skipped: {}, truncated: 0 };
  private socket: dgram.Socket | undefined;
  private native: { mod: NativeVxlan; sock: NativeSocket } | undefined;
  private kind: Receiver | undefined;
  private running = false;
  private reopen: Reopener | undefined;
  private readonly frame = newLearnedFrame();
  private readonly decode: DecodeOptions;
  private readonly slot: number;
  private readonly data: Uint8Array;
  private readonly meta = new Int32Array(BATCH * 2);
  private readonly addr = new Uint8Array(BATCH * 16);
  private readonly stats = new Uint32Array(4);
  private readonly v4Text = new Map<number, string>();
  private readonly v6Text = new Map<number, { bytes: Uint8Array; text: string }>();

  constructor(
    private readonly opts: UdpSourceOptions,
    private readonly onFrame: (f: LearnedFrame) => void,
  ) {
    this.decode = { anyFrame: opts.anyFrame === true };
    this.slot = opts.slotBytes ?? SLOT;
    this.data = new Uint8Array(BATCH * this.slot);
  }

  /** Which receiver `start` opened. */
  get receiver(): Receiver | undefined {
    return this.kind;
  }

  async start(): Promise<void> {
    this.running = true;
    const choice = this.opts.receiver ?? "auto";
    const mod = choice === "dgram" ? undefined : nativeReceiver();
    if (mod instanceof Error && choice === "native") throw mod;
    let open: (port: number) => void | Promise<void>;
    if (mod !== undefined && !(mod instanceof Error)) {
      open = (port) => this.openNative(mod, port);
      this.openNative(mod, this.opts.port ?? VXLAN_PORT);
      this.kind = "native";
    } else {
      open = (port) => this.openDgram(port);
      await this.openDgram(this.opts.port ?? VXLAN_PORT);
      this.kind = "dgram";
    }
    const port = this.port!; // after an error, the same port again (also when asked for port 0)
    this.reopen = new Reopener(() => open(port), this.onState, REOPEN_MIN_MS, REOPEN_MAX_MS);
    this.counters.socketErrors = this.reopen.counters;
  }

  private openNative(mod: NativeVxlan, port: number): void {
    const sock = mod.open(
      this.opts.address,
      port,
      this.opts.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES,
      this.data,
      this.meta,
      this.addr,
      this.stats,
      this.slot,
      (n) => this.batch(n),
      (code, message) => this.failed(code, message),
    );
    this.native = { mod, sock };
  }

  private async openDgram(port: number): Promise<void> {
    const s = dgram.createSocket({
      type: this.opts.address.includes(":") ? "udp6" : "udp4",
      reuseAddr: false,
      recvBufferSize: this.opts.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES,
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", (e) => {
        s.close();
        reject(e);
      });
      s.bind({ address: this.opts.address, port, exclusive: true }, () => {
        s.removeAllListeners("error");
        resolve();
      });
    });
    if (!this.running) {
      s.close(); // stopped while binding
      return;
    }
    s.on("message", (buf, rinfo) => this.datagram(buf, rinfo.address));
    // A socket error (e.g. the socket destroyed with `ss -K`) ends this socket: another is opened.
    s.on("error", (e) => this.failed(errorCode(e), e.message));
    this.socket = s;
  }

  /** The socket reads no more: closed, reported, opened again. */
  private failed(code: string, message: string): void {
    const n = this.native;
    const s = this.socket;
    this.native = undefined;
    this.socket = undefined;
    if (n) n.mod.close(n.sock);
    s?.close();
    if (n || s) this.reopen?.down(code, message);
  }

  private readonly onState = (e: SourceStateEvent): void => this.opts.onState?.(e);

  /** The socket's receive buffer as the kernel granted it (Linux reports twice the accounted size). */
  get receiveBufferBytes(): number | undefined {
    if (this.native) return this.native.mod.receiveBuffer(this.native.sock);
    return this.socket?.getRecvBufferSize();
  }

  /** The bound port (useful with port 0). */
  get port(): number | undefined {
    if (this.native) return this.native.mod.port(this.native.sock);
    return this.socket?.address().port;
  }

  /** Datagrams `n` of the native receiver's shared slots. */
  private batch(n: number): void {
    const { data, meta, slot } = this;
    this.counters.kernelDrops = this.stats[0];
    for (let i = 0; i < n && this.native !== undefined; i++) {
      const off = i * slot; // stop() from inside onFrame ends the batch here
      const len = meta[i * 2]!;
      if (len > slot) this.counters.truncated++;
      else this.datagramAt(data, off, off + len, this.sourceText(i, meta[i * 2 + 1]!));
    }
    this.opts.onBatchEnd?.();
  }

  /** Text form of slot i's source address, as Node's rinfo.address would give it. */
  private sourceText(i: number, family: number): string {
    const a = this.addr;
    const o = i * 16;
    if (family === 4) {
      const key = ((a[o]! << 24) | (a[o + 1]! << 16) | (a[o + 2]! << 8) | a[o + 3]!) >>> 0;
      let text = this.v4Text.get(key);
      if (text === undefined) {
        if (this.v4Text.size >= MAX_CACHED_SOURCES) this.v4Text.clear();
        text = `${a[o]}.${a[o + 1]}.${a[o + 2]}.${a[o + 3]}`;
        this.v4Text.set(key, text);
      }
      return text;
    }
    let h = 0x811c9dc5; // FNV-1a over the 16 address bytes
    for (let k = o; k < o + 16; k++) h = Math.imul(h ^ a[k]!, 0x01000193);
    const hit = this.v6Text.get(h);
    if (hit !== undefined) {
      let same = true;
      for (let k = 0; k < 16; k++) if (hit.bytes[k] !== a[o + k]) same = false;
      if (same) return hit.text;
    }
    const text = this.native!.mod.formatAddress(a, o, 6);
    if (this.v6Text.size >= MAX_CACHED_SOURCES) this.v6Text.clear();
    this.v6Text.set(h, { bytes: a.slice(o, o + 16), text });
    return text;
  }

  /** One datagram from `from` (dgram's, and exposed for tests); longer than a slot: skipped. */
  datagram(buf: Uint8Array, from: string): void {
    if (buf.length > this.slot) this.counters.truncated++;
    else this.datagramAt(buf, 0, buf.length, from);
    this.opts.onBatchEnd?.();
  }

  private datagramAt(buf: Uint8Array, off: number, end: number, from: string): void {
    this.counters.datagrams++;
    this.opts.onDatagram?.(buf, off, end, from);
    const skip = decodeVxlanInto(this.frame, buf, off, end, from, this.decode);
    if (skip !== null) {
      this.counters.skipped[skip] = (this.counters.skipped[skip] ?? 0) + 1;
      return;
    }
    this.counters.frames++;
    this.onFrame(this.frame);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kind = undefined;
    this.reopen?.cancel();
    if (this.native) this.native.mod.close(this.native.sock);
    this.native = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
