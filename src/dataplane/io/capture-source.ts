// Packet source 2 of data-plane learning: live capture on an interface, or on every interface
// ("any"), for mirrored or transit traffic where the proxy is not in the static VTEPs' flood
// lists. The project's own addon native/capture.c reads an AF_PACKET socket whose kernel BPF
// program (capture-filter.ts) passes only VXLAN-carried ARP and ND, into memory shared with
// JavaScript, at most 1,024 frames per event-loop turn; each frame is decoded in place from its
// outer Ethernet header (VLAN tags included) into one reused frame object. Needs CAP_NET_RAW.
//
// An interface that goes down or is deleted (or is not there yet) is not an error of the daemon:
// the socket is closed, `onState` says so, and a new one is opened with back-off (retryMinMs,
// doubling up to retryMaxMs) until the interface is up again, which `onState` says too.

import { createRequire } from "node:module";
import { ProxyError } from "../../errors.js";
import { decodeEthernetInto, type LearnedFrame, newLearnedFrame } from "../../wire/packet.js";
import type { ReplaySkipReason } from "../../wire/pcap.js";
import { ANY_FRAME_FILTER, ARP_ND_FILTER, filterProgram } from "./capture-filter.js";
import { type ReopenCounters, Reopener, type SourceStateEvent } from "./reopen.js";
import { RECEIVE_BUFFER_BYTES } from "./udp-source.js";

export interface CaptureOptions {
  /** Interface name, or "any": every interface with an Ethernet header. */
  device: string;
  /** Every VXLAN frame, not only ARP and ND (learning.any-frame). */
  anyFrame?: boolean;
  /** Bytes per receive slot (default 2048); a longer frame is skipped and counted as truncated. */
  slotBytes?: number;
  /** SO_RCVBUF to ask for (default RECEIVE_BUFFER_BYTES; beyond net.core.rmem_max with CAP_NET_ADMIN). */
  receiveBufferBytes?: number;
  /** First delay before opening again after the interface went away (default 250 ms). */
  retryMinMs?: number;
  /** Longest delay between attempts (default 5 s). */
  retryMaxMs?: number;
  /** The interface went away (ENETDOWN: down or deleted; ENODEV: no such interface), or capture resumed. */
  onState?: (e: SourceStateEvent) => void;
}

export interface CaptureCounters extends ReopenCounters {
  /** Frames the socket delivered. */
  packets: number;
  /** Frames that decoded to a learnable frame (passed to onFrame). */
  frames: number;
  skipped: Partial<Record<ReplaySkipReason, number>>;
  /** Frames longer than a receive slot, skipped whole. */
  truncated: number;
  /** Frames the kernel dropped because the socket buffer was full. */
  kernelDrops: number;
}

const SLOT = 2048;
const BATCH = 64;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** meta offsets native/capture.c gives frames it does not hand over for decoding. */
const FRAME_NOT_ETHERNET = -1;
const FRAME_LOOPED = -2;
/** Open errors that mean "the interface is not there or not up (yet)": retried. */
const TRANSIENT = new Set(["ENODEV", "ENETDOWN", "ENXIO"]);

interface NativeHandle {
  readonly handle: unknown;
}
interface NativeCapture {
  open(
    device: string,
    filter: Uint32Array,
    rcvbuf: number,
    data: Uint8Array,
    meta: Int32Array,
    stats: Float64Array,
    slot: number,
    onBatch: (n: number) => void,
    onError: (code: string, message: string) => void,
  ): NativeHandle;
  close(h: NativeHandle): void;
  statistics(h: NativeHandle): number;
  receiveBuffer(h: NativeHandle): number;
}

let nativeModule: NativeCapture | Error | undefined;

/** The capture addon, or the reason it cannot be loaded (not built, not Linux). */
export function nativeCapture(): NativeCapture | Error {
  if (nativeModule === undefined) {
    const path = new URL("../../../../native/build/Release/capture.node", import.meta.url).pathname;
    try {
      nativeModule = createRequire(import.meta.url)(path) as NativeCapture;
    } catch (e) {
      nativeModule = new Error(`native capture not loaded from ${path}: ${(e as Error).message}`);
    }
  }
  return nativeModule;
}

function errorCode(e: unknown): string {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
}

/**
 * Calls `onFrame` for every captured frame that decodes to a learnable frame. The frame object
 * is reused for the next one: copy what you keep.
 */
export class CaptureSource {
  private readonly stats = new Float64Array(4);
  private readonly count: Omit<CaptureCounters, keyof ReopenCounters> = {
    packets: 0,
    frames: 0,
    skipped: {},
    truncated: 0,
    kernelDrops: 0,
  };
  private mod: NativeCapture | undefined;
  private sock: NativeHandle | undefined;
  private readonly reopen: Reopener;
  private stopped = true;
  private readonly frame = newLearnedFrame();
  private readonly decode: { anyFrame: boolean };
  private readonly program: Uint32Array;
  private readonly slot: number;
  private readonly data: Uint8Array;
  private readonly meta = new Int32Array(BATCH * 2);

  constructor(
    private readonly opts: CaptureOptions,
    private readonly onFrame: (f: LearnedFrame) => void,
  ) {
    this.decode = { anyFrame: opts.anyFrame === true };
    this.program = filterProgram((opts.anyFrame ? ANY_FRAME_FILTER : ARP_ND_FILTER).dd);
    this.slot = opts.slotBytes ?? SLOT;
    this.data = new Uint8Array(BATCH * this.slot);
    this.reopen = new Reopener(
      () => this.open(),
      (e) => opts.onState?.(e),
      opts.retryMinMs ?? RETRY_MIN_MS,
      opts.retryMaxMs ?? RETRY_MAX_MS,
    );
  }

  /** The counters, kernel drops read now. */
  get counters(): CaptureCounters {
    if (this.sock) this.count.kernelDrops = this.mod!.statistics(this.sock);
    return { ...this.count, ...this.reopen.counters };
  }

  get device(): string {
    return this.opts.device;
  }

  /** Whether the socket is open (false while the interface is away). */
  get capturing(): boolean {
    return this.sock !== undefined;
  }

  /** The socket's receive buffer as the kernel granted it; undefined while not capturing. */
  get receiveBufferBytes(): number | undefined {
    return this.sock ? this.mod!.receiveBuffer(this.sock) : undefined;
  }

  /**
   * Opens the capture. Throws when it can never work (addon not built, no CAP_NET_RAW); an
   * interface that is missing or down is reported through onState and waited for.
   */
  start(): void {
    if (!this.stopped) return;
    const mod = nativeCapture();
    if (mod instanceof Error)
      throw new ProxyError("ERR_CAPTURE_UNAVAILABLE", `live capture needs the native addon: ${mod.message}`);
    this.mod = mod;
    this.stopped = false;
    try {
      this.open();
    } catch (e) {
      if (!TRANSIENT.has(errorCode(e))) {
        this.stopped = true;
        const code = errorCode(e) === "EPERM" ? "ERR_CAPTURE_PERMISSION" : "ERR_CAPTURE_OPEN";
        throw new ProxyError(code, `capture on ${this.opts.device}: ${(e as Error).message}`, { cause: e });
      }
      this.reopen.down(errorCode(e), (e as Error).message);
    }
  }

  stop(): void {
    this.stopped = true;
    this.reopen.cancel();
    this.closeSocket();
  }

  private open(): void {
    this.sock = this.mod!.open(
      this.opts.device,
      this.program,
      this.opts.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES,
      this.data,
      this.meta,
      this.stats,
      this.slot,
      (n) => this.batch(n),
      (code, message) => this.failed(code, message),
    );
  }

  private closeSocket(): void {
    const s = this.sock;
    if (s === undefined) return;
    this.count.kernelDrops = this.mod!.statistics(s);
    this.sock = undefined;
    this.mod!.close(s);
  }

  /** The socket reads no more (interface down or deleted): closed, reported, opened again later. */
  private failed(code: string, message: string): void {
    this.closeSocket();
    if (!this.stopped) this.reopen.down(code, message);
  }

  /** Frames 0..n-1 of the shared slots. */
  private batch(n: number): void {
    const { data, meta, slot, count } = this;
    for (let i = 0; i < n && this.sock !== undefined; i++) {
      const len = meta[i * 2]!; // stop() from inside onFrame ends the batch here
      const off = meta[i * 2 + 1]!;
      if (off === FRAME_LOOPED) continue;
      count.packets++;
      if (off === FRAME_NOT_ETHERNET) this.skip("unsupported-link-type");
      else if (len > slot) count.truncated++;
      else {
        const start = i * slot + off;
        const skip = decodeEthernetInto(this.frame, data, start, start + len, this.decode);
        if (skip !== null) this.skip(skip);
        else {
          count.frames++;
          this.onFrame(this.frame);
        }
      }
    }
  }

  private skip(reason: ReplaySkipReason): void {
    this.count.skipped[reason] = (this.count.skipped[reason] ?? 0) + 1;
  }
}
