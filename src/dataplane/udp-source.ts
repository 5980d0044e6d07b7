// Packet source 1 of data-plane learning: a UDP socket on the VXLAN port of the proxy's address.
// Static VTEPs that list the proxy in their flood lists send it every broadcast (ARP, ND) of
// their hosts; no capture privileges are needed. Each datagram is decoded in place into one
// reused frame object (no allocation per datagram unless something is learned); garbage is
// counted, never thrown.

import dgram from "node:dgram";
import {
  decodeVxlanInto,
  type DecodeOptions,
  type LearnedFrame,
  newLearnedFrame,
  type SkipReason,
  VXLAN_PORT,
} from "./packet.js";

export interface UdpSourceOptions {
  address: string;
  /** RFC 7348 §5: 4789. */
  port?: number;
  /** Also learn the source MAC of frames that are neither ARP nor ND (learning.any-frame). */
  anyFrame?: boolean;
  /** SO_RCVBUF to ask for (default RECEIVE_BUFFER_BYTES); the kernel caps it at net.core.rmem_max. */
  receiveBufferBytes?: number;
}

/**
 * The socket buffer absorbs bursts while the event loop is busy: at 68 bytes per ARP datagram
 * the kernel accounts roughly 1 KiB each, so 8 MiB holds several thousand datagrams.
 */
export const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

export interface SourceCounters {
  datagrams: number;
  frames: number;
  skipped: Partial<Record<SkipReason, number>>;
}

/**
 * Calls `onFrame` for every datagram that decodes to a learnable frame. The frame object is
 * reused for the next datagram: copy what you keep.
 */
export class VxlanUdpSource {
  readonly counters: SourceCounters = { datagrams: 0, frames: 0, skipped: {} };
  private socket: dgram.Socket | undefined;
  private readonly frame = newLearnedFrame();
  private readonly decode: DecodeOptions;

  constructor(
    private readonly opts: UdpSourceOptions,
    private readonly onFrame: (f: LearnedFrame) => void,
  ) {
    this.decode = { anyFrame: opts.anyFrame === true };
  }

  async start(): Promise<void> {
    const family = this.opts.address.includes(":") ? "udp6" : "udp4";
    const s = dgram.createSocket({
      type: family,
      reuseAddr: false,
      recvBufferSize: this.opts.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES,
    });
    this.socket = s;
    s.on("message", (buf, rinfo) => this.datagram(buf, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind({ address: this.opts.address, port: this.opts.port ?? VXLAN_PORT, exclusive: true }, () => {
        s.off("error", reject);
        resolve();
      });
    });
  }

  /** The socket's receive buffer as the kernel granted it (Linux reports twice the accounted size). */
  get receiveBufferBytes(): number | undefined {
    return this.socket?.getRecvBufferSize();
  }

  /** The bound port (useful with port 0). */
  get port(): number | undefined {
    return this.socket?.address().port;
  }

  /** One datagram from `from` (exposed for tests and for replaying a capture). */
  datagram(buf: Uint8Array, from: string): void {
    this.counters.datagrams++;
    const skip = decodeVxlanInto(this.frame, buf, 0, buf.length, from, this.decode);
    if (skip !== null) {
      this.counters.skipped[skip] = (this.counters.skipped[skip] ?? 0) + 1;
      return;
    }
    this.counters.frames++;
    this.onFrame(this.frame);
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
