// The replication engine's CopySink over the VXLAN senders: a staged payload goes into the payload
// area of the sender that carries its copies (the raw "preserve" sender when the outer source is
// another VTEP's address, the proxy's UDP sender when it is the proxy's own), once per payload;
// each copy is one descriptor. Outer addresses are parsed once and cached.

import { ipBytes } from "../../net/addr.js";
import type { CopySink } from "../replication/engine.js";
import type { VxlanSender } from "./vxlan-sender.js";

const MAX_CACHED = 65536;
const VXLAN_HEADER = 8;

export interface CopySinkCounters {
  /** Copies with another VTEP's source address and no raw sender to carry them. */
  noSender: number;
  /** Copies whose source or destination is not of the proxy's address family (never sent). */
  wrongFamily: number;
}

export class SenderSink implements CopySink {
  readonly counters: CopySinkCounters = { noSender: 0, wrongFamily: 0 };
  private readonly family: number;
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;
  private len = 0;
  private srcPort = 0;
  private handle = 0;
  private stagedIn: VxlanSender | undefined;
  private stagedAt = 0;
  private readonly bytes = new Map<string, Uint8Array>();

  constructor(
    /** The proxy's own VXLAN address: copies from it leave through `proxy`. */
    private readonly self: string,
    private readonly preserve: VxlanSender | undefined,
    private readonly proxy: VxlanSender,
  ) {
    this.family = self.includes(":") ? 16 : 4;
  }

  stage(buf: Uint8Array, off: number, len: number): number {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.stagedIn = undefined;
    this.srcPort = sourcePort(buf, off + VXLAN_HEADER, off + len);
    return ++this.handle;
  }

  copy(_handle: number, src: string, dst: string): void {
    const s = src === this.self ? this.proxy : this.preserve;
    if (s === undefined) {
      this.counters.noSender++;
      return;
    }
    const from = this.address(src);
    const to = this.address(dst);
    if (from.length !== this.family || to.length !== this.family) {
      this.counters.wrongFamily++;
      return;
    }
    if (this.stagedIn !== s) {
      this.stagedAt = s.payload(this.buf, this.off, this.off + this.len);
      this.stagedIn = s;
    }
    s.add(this.stagedAt, this.len, from, to, this.srcPort);
  }

  /** Sends what is queued (after each receive batch, and after timer work). */
  flush(): void {
    this.preserve?.flush();
    this.proxy.flush();
  }

  private address(a: string): Uint8Array {
    let b = this.bytes.get(a);
    if (b === undefined) {
      if (this.bytes.size >= MAX_CACHED) this.bytes.clear();
      b = ipBytes(a) ?? new Uint8Array(0);
      this.bytes.set(a, b);
    }
    return b;
  }
}

/**
 * RFC 7348 §5: the UDP source port SHOULD be a hash of the inner frame's headers, from the
 * dynamic range 49152–65535, so that ECMP in the underlay spreads flows. FNV-1a over the inner
 * destination and source MACs and the EtherType.
 */
export function sourcePort(buf: Uint8Array, inner: number, end: number): number {
  let h = 0x811c9dc5;
  const stop = Math.min(inner + 14, end);
  for (let i = inner; i < stop; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return 49152 + ((h >>> 0) % 16384);
}
