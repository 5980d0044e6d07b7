// Packet source 2 of data-plane learning: live capture on an interface through libpcap (the
// optional `cap` package), with a kernel BPF filter that passes only VXLAN-carried ARP and ND —
// for mirrored or transit traffic, where the proxy is not in the static VTEPs' flood lists.

import { createRequire } from "node:module";
import type { LearnedFrame } from "../../wire/packet.js";
import { newLearnedFrame, VXLAN_PORT } from "../../wire/packet.js";
import {
  decodeRecordInto,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  type ReplaySkipReason,
} from "../../wire/pcap.js";
import { ProxyError } from "../../errors.js";

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(ev: "packet", fn: (nbytes: number, truncated: boolean) => void): void;
  setMinBytes?(n: number): void;
}

/**
 * Classic BPF for VXLAN (RFC 7348) on the UDP port carrying, in an untagged inner frame, ARP
 * (EtherType at udp[28]) or ICMPv6 (inner next header at udp[36]) neighbour solicitation or
 * advertisement (type at udp[70]). IPv4 outer headers only: libpcap's transport-layer offsets do
 * not apply to IPv6. `anyFrame` passes every VXLAN datagram.
 */
export function captureFilter(port = VXLAN_PORT, anyFrame = false): string {
  const base = `udp dst port ${port}`;
  if (anyFrame) return base;
  return `${base} and (udp[28:2] = 0x0806 or (udp[28:2] = 0x86dd and udp[36] = 58 and (udp[70] = 135 or udp[70] = 136)))`;
}

const LINK_TYPES: Record<string, number> = {
  ETHERNET: LINKTYPE_ETHERNET,
  LINUX_SLL: LINKTYPE_LINUX_SLL,
  LINUX_SLL2: LINKTYPE_LINUX_SLL2,
  RAW: LINKTYPE_RAW,
};

export class CaptureSource {
  readonly counters: { datagrams: number; frames: number; skipped: Partial<Record<ReplaySkipReason, number>> } = {
    datagrams: 0,
    frames: 0,
    skipped: {},
  };
  private cap: CapHandle | undefined;
  private readonly frame = newLearnedFrame();
  /**
   * The buffer cap copies each packet into. cap keeps only a raw pointer to it, not a reference:
   * it must stay reachable from here for as long as the capture is open, or the collector frees
   * memory that libpcap then writes into.
   */
  private readonly buffer = Buffer.alloc(65535);

  constructor(
    private readonly opts: { device: string; port?: number; anyFrame?: boolean },
    private readonly onFrame: (f: LearnedFrame) => void,
  ) {}

  /** Opens the capture; throws when `cap` is not installed or the device cannot be opened. */
  start(): void {
    const require = createRequire(import.meta.url);
    let Cap: new () => CapHandle;
    try {
      ({ Cap } = require("cap") as { Cap: new () => CapHandle });
    } catch {
      throw new ProxyError(
        "ERR_CAPTURE_UNAVAILABLE",
        "live capture needs the optional npm package `cap` (libpcap; npm install cap)",
      );
    }
    const c = new Cap();
    const buf = this.buffer;
    const port = this.opts.port ?? VXLAN_PORT;
    const name = c.open(this.opts.device, captureFilter(port, this.opts.anyFrame), 4 * 1024 * 1024, buf);
    const linkType = LINK_TYPES[name];
    if (linkType === undefined) {
      c.close();
      throw new ProxyError(
        "ERR_CAPTURE_LINK_TYPE",
        `capture on ${this.opts.device}: link type ${name} is not supported`,
      );
    }
    c.setMinBytes?.(0);
    const decode = { anyFrame: this.opts.anyFrame === true, udpPort: port };
    c.on("packet", (nbytes) => {
      this.counters.datagrams++;
      const skip = decodeRecordInto(this.frame, linkType, buf.subarray(0, nbytes), decode);
      if (skip !== null) {
        this.counters.skipped[skip] = (this.counters.skipped[skip] ?? 0) + 1;
        return;
      }
      this.counters.frames++;
      this.onFrame(this.frame);
    });
    this.cap = c;
  }

  stop(): void {
    this.cap?.close();
    this.cap = undefined;
  }
}
