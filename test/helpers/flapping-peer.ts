// A BGP neighbour that brings its session with the proxy up and down again and again: up()
// connects (retrying while the proxy refuses), exchanges OPENs and reads the proxy's initial
// table until its EVPN End-of-RIB (RFC 4724 §2); down() ends the session either cleanly (a Cease
// NOTIFICATION, Administrative Reset, RFC 4486 §3, then FIN) or with a TCP reset (RST, no
// NOTIFICATION). Between the two it answers nothing but sends KEEPALIVEs (RFC 4271 §4.4).
import { setTimeout as sleep } from "node:timers/promises";
import {
  CeaseSub,
  ceaseNotification,
  encodeMessage,
  endOfRibFamily,
  KEEPALIVE,
  type Capability,
  type UpdateMessage,
} from "../../src/codec/index.js";
import { ScriptedPeer } from "./scripted-peer.js";

export type FlapKind = "close" | "reset";

export interface FlappingPeerOptions {
  /** The proxy's address and BGP port. */
  host: string;
  port: number;
  /** The address to connect from (the proxy's configured neighbour). */
  local: string;
  asn: number;
  /** BGP identifier of the peer (dotted quad). */
  id: string;
  /** Hold time offered, seconds (default 90); KEEPALIVEs go every third of it. */
  hold?: number;
  /** Extra capabilities of the OPEN (e.g. graceful restart). */
  extra?: Capability[];
  /** Every UPDATE of the initial table (End-of-RIB excluded), for a caller that keeps the routes itself. */
  onUpdate?: (u: UpdateMessage) => void;
}

/** One session as up() saw it. */
export interface InitialTable {
  /** Connection attempts until one was accepted and the OPENs were exchanged. */
  attempts: number;
  /** From the first connection attempt to the End-of-RIB, ms. */
  sinceFirstAttemptMs: number;
  /** From the accepted connection (TCP established) to the End-of-RIB, ms. */
  eorMs: number;
  /** UPDATE messages before the End-of-RIB. */
  updates: number;
  /** Distinct MACs of the type 2 routes announced (and not withdrawn) before the End-of-RIB. */
  macs: Set<string>;
  /** Type 3 (IMET) routes announced before the End-of-RIB. */
  imet: number;
}

export class FlappingPeer {
  private peer: ScriptedPeer | undefined;
  private keepalive: NodeJS.Timeout | undefined;

  constructor(private readonly o: FlappingPeerOptions) {}

  /** The current session's peer (undefined while down). */
  get session(): ScriptedPeer | undefined {
    return this.peer;
  }

  /** Brings the session up and reads the initial table; rejects after `timeoutMs`. */
  async up(timeoutMs = 60_000): Promise<InitialTable> {
    if (this.peer) throw new Error("flapping peer: already up");
    const first = performance.now();
    const end = first + timeoutMs;
    let attempts = 0;
    for (;;) {
      if (performance.now() > end) throw new Error(`flapping peer: no session within ${timeoutMs} ms`);
      attempts++;
      const p = await ScriptedPeer.connect(this.o.host, this.o.port, this.o.local).catch(() => undefined);
      if (!p) {
        await sleep(20);
        continue;
      }
      const connected = performance.now();
      const hold = this.o.hold ?? 90;
      const ok = await p
        .handshake({ asn: this.o.asn, id: this.o.id, hold, extra: this.o.extra })
        .then(() => true)
        .catch(() => false);
      if (!ok) {
        p.close();
        await sleep(20);
        continue;
      }
      this.peer = p;
      const keepalive = setInterval(() => p.send(encodeMessage(KEEPALIVE)), (hold * 1000) / 3);
      this.keepalive = keepalive;
      void p.closedPromise.then(() => clearInterval(keepalive)); // also when the proxy ends it
      const macs = new Set<string>();
      let updates = 0;
      let imet = 0;
      for (;;) {
        const m = await p.next(Math.max(1, end - performance.now()));
        if (m === null) {
          this.peer = undefined;
          throw new Error("flapping peer: the proxy closed the session before its End-of-RIB");
        }
        if (m.type !== 2) continue;
        if (endOfRibFamily(m)?.afi === 25) {
          const now = performance.now();
          return { attempts, sinceFirstAttemptMs: now - first, eorMs: now - connected, updates, macs, imet };
        }
        updates++;
        this.o.onUpdate?.(m);
        for (const a of m.attributes) {
          if (a.kind === "mp-reach" && a.nlri.family === "evpn")
            for (const r of a.nlri.routes) {
              if (r.routeType === 2) macs.add(r.mac);
              else if (r.routeType === 3) imet++;
            }
          if (a.kind === "mp-unreach" && a.nlri.family === "evpn")
            for (const r of a.nlri.routes) if (r.routeType === 2) macs.delete(r.mac);
        }
      }
    }
  }

  /** Ends the session (a no-op while down) and waits until its socket is closed. */
  async down(kind: FlapKind): Promise<void> {
    const p = this.peer;
    if (!p) return;
    this.peer = undefined;
    clearInterval(this.keepalive);
    if (kind === "close") {
      p.send(encodeMessage(ceaseNotification(CeaseSub.ADMIN_RESET)));
      p.sock.end();
    } else p.sock.resetAndDestroy();
    await p.closedPromise;
  }
}
