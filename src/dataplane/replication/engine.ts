// The replication engine: what the proxy does with each VXLAN datagram of a service it replicates
// for (`replication: proxy`). Pure: datagrams, the flood lists and the time come in; copies go to
// a CopySink, and the reasons for everything not forwarded are counted. The learning path reads
// the same datagrams separately.
//
// Per datagram (RFC 7348 §5 header: flags(1) reserved(3) VNI(3) reserved(1), then the inner frame):
//   unknown VNI / sender that is neither a static VTEP, an EVPN VTEP nor a proxy → dropped, counted;
//   this proxy not the elected replicator of the VNI → learned from only;
//   broadcast or multicast inner destination (BUM) → the flood list (flood.ts);
//   unicast to a MAC whose VTEP is known → that VTEP alone; unknown → flooded like broadcast.
// Copies keep the sender's outer source address unless the service says `replication-source: proxy`:
// a flood-and-learn VTEP learns the inner source MAC at the outer source address.

import { ArpNdProxy, type ProxySettings } from "../arpnd/proxy.js";
import type { ArpNdAction } from "../arpnd/types.js";
import { FloodLists, type FloodList, type VtepRole } from "./flood.js";
import { Responder } from "./responder.js";

/** An event of the proxy-ARP/ND table (duplicate IP, rate limit, refused override, limit), for the log. */
export type ArpNdEvent = Extract<ArpNdAction, { type: "event" }>;

/** Where the engine's datagrams go: the sending half of the data plane (batched by the I/O layer). */
export interface CopySink {
  /** Stages a VXLAN payload (VXLAN header and inner frame) once; returns its handle for `copy`. */
  stage(buf: Uint8Array, off: number, len: number): number;
  /** Queues one copy of staged payload `handle` with outer source `src` to VTEP `dst`. */
  copy(handle: number, src: string, dst: string): void;
}

export interface ReplicatedService {
  vni: number;
  name: string;
  /** Outer source of copies: the sender's ("vtep") or the proxy's own. */
  source: "vtep" | "proxy";
  /** The RFC 9161 proxy-ARP/ND function answers for this service. */
  arpNd: boolean;
}

/** The proxy-ARP/ND table's settings and where the MACs of static entries sit (from the configuration). */
export interface ArpNdConfig {
  settings: ProxySettings;
  located: { vni: number; mac: string; vtep: string }[];
}

/** Stable reasons a datagram is not forwarded; they key counters. */
export const DROP_REASONS = [
  "truncated", // shorter than the VXLAN header and an Ethernet header
  "vxlan-no-vni", // the I flag is clear (RFC 7348 §5)
  "unknown-vni", // no service replicates this VNI
  "unknown-vtep", // the sender is not a VTEP of the service
  "from-replicator", // another proxy sent it: proxies never replicate to one another
  "not-elected", // another proxy replicates this VNI (learned from only)
  "local-destination", // unicast to a MAC behind the sender itself
  "evpn-to-evpn", // unicast between EVPN VTEPs: not the proxy's to carry
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ReplicationCounters {
  datagrams: number;
  /** Broadcast, unknown unicast and multicast frames replicated. */
  flooded: number;
  /** Unicast frames forwarded to the one VTEP of their destination MAC. */
  unicast: number;
  /** Datagrams queued to the sink (every copy). */
  copies: number;
  dropped: Partial<Record<DropReason, number>>;
}

const VXLAN_HEADER = 8;
const ETHERNET_HEADER = 14;

/** Locates a MAC in a VNI: the VTEP behind which it sits (learned, configured or from EVPN routes). */
export type MacLocator = (vni: number, buf: Uint8Array, macOffset: number) => string | undefined;

export class ReplicationEngine {
  readonly counters: ReplicationCounters = { datagrams: 0, flooded: 0, unicast: 0, copies: 0, dropped: {} };
  private floods: FloodLists;
  private services = new Map<number, ReplicatedService>();
  // The current frame, for the copy callback (no closure per datagram).
  private handle = 0;
  private src = "";
  private responder: Responder | undefined;

  constructor(
    /** The proxy's own VXLAN address. */
    private me: string,
    private readonly sink: CopySink,
    private readonly locate: MacLocator,
    private readonly dfWaitMs?: number,
  ) {
    this.floods = new FloodLists(me, dfWaitMs);
  }

  get self(): string {
    return this.me;
  }

  get flood(): FloodLists {
    return this.floods;
  }

  /** A new VXLAN address of the proxy: the flood lists start over (their owner fills them again). */
  setSelf(address: string): void {
    if (address === this.me) return;
    this.me = address;
    this.floods = new FloodLists(address, this.dfWaitMs);
    this.responder?.setSelf(address);
  }

  /** The proxy-ARP/ND table and what it sent, when a service has the function on. */
  get arpNd(): Responder | undefined {
    return this.responder;
  }

  /**
   * Configures the proxy-ARP/ND table (null: no service has it; the table goes). Returns the
   * table's events; what it asks to send (announcements of new static entries) is sent.
   */
  setArpNd(cfg: ArpNdConfig | null, now: number): ArpNdEvent[] {
    if (cfg === null) {
      this.responder = undefined;
      return [];
    }
    let actions: ArpNdAction[] = [];
    if (this.responder) actions = this.responder.table.reconfigure(cfg.settings, now);
    else this.responder = new Responder(new ArpNdProxy(cfg.settings, now), this.sink, this.me);
    const t = this.responder.table;
    for (const l of cfg.located) t.locate(l.vni, l.mac, l.vtep);
    return this.act([...actions, ...t.drain()]);
  }

  /** A MAC/IP route of the fabric for a replicated VNI: its best path now (`vtep` undefined: none). */
  evpnRoute(
    vni: number,
    ip: string,
    mac: string,
    old: string | undefined,
    best: { vtep: string; seq: number; flags: number } | undefined,
    now: number,
  ): void {
    const t = this.responder?.table;
    if (!t) return;
    if (old !== undefined && old !== best?.vtep) t.evpnWithdraw(vni, ip, mac, old);
    if (best) t.evpn(vni, ip, mac, best.vtep, best.seq, best.flags, now);
  }

  /**
   * An IPv6 binding the learning engine announces (it learns them from NS too, RFC 9161 §3.2.1
   * does not): a dynamic entry, so that the proxy answers static hosts for what it tells the
   * fabric. Their NAs rarely reach the proxy: they are known unicast between static VTEPs.
   */
  learnedBinding(vni: number, ip: string, mac: string, vtep: string, seq: number, now: number): void {
    this.responder?.table.learn(vni, ip, mac, vtep, 0, seq, now);
  }

  /** Timer work of the proxy-ARP/ND table (refreshes, ageing, announcements, releases); its events. */
  tick(now: number): ArpNdEvent[] {
    const r = this.responder;
    return r ? this.act(r.table.tick(now)) : [];
  }

  /** What the table queued while handling frames (sent now); its events. */
  drain(): ArpNdEvent[] {
    const r = this.responder;
    return r ? this.act(r.table.drain()) : [];
  }

  nextDeadline(): number | undefined {
    return this.responder?.table.nextDeadline();
  }

  private act(actions: readonly ArpNdAction[]): ArpNdEvent[] {
    if (actions.length === 0 || !this.responder) return [];
    return this.responder.act(
      actions,
      (vni) => this.floods.get(vni),
      (vni) => this.services.get(vni)?.source === "proxy",
    );
  }

  /** The services replicated by the proxy; flood lists of others are dropped. */
  setServices(services: readonly ReplicatedService[]): void {
    this.services = new Map(services.map((s) => [s.vni, s]));
    this.floods.retain(new Set(this.services.keys()));
  }

  get service(): ReadonlyMap<number, ReplicatedService> {
    return this.services;
  }

  /** One datagram from `from` (VXLAN header at `off`). Returns whether it was forwarded. */
  datagram(buf: Uint8Array, off: number, end: number, from: string, now: number): boolean {
    this.counters.datagrams++;
    if (end - off < VXLAN_HEADER + ETHERNET_HEADER) return this.drop("truncated");
    if ((buf[off]! & 0x08) === 0) return this.drop("vxlan-no-vni");
    const vni = (buf[off + 4]! << 16) | (buf[off + 5]! << 8) | buf[off + 6]!;
    const svc = this.services.get(vni);
    const list = svc && this.floods.get(vni);
    if (!svc || !list) return this.drop("unknown-vni");
    const role = list.role.get(from);
    if (role === undefined) return this.drop("unknown-vtep");
    if (role === "replicator") return this.drop("from-replicator");
    const forwarding = this.floods.forwards(vni, now);
    const inner = off + VXLAN_HEADER;
    const src = svc.source === "vtep" ? from : this.me;
    if (svc.arpNd && this.responder) {
      const v = this.responder.frame(vni, buf, inner, end, from, role, forwarding, svc.source === "proxy", now);
      if (v === "done") return false;
      if (v === "flood" && forwarding) {
        this.replicate(list, buf, off, end, from, role, src);
        return true;
      }
    }
    if (!forwarding) return this.drop("not-elected");
    if ((buf[inner]! & 1) === 0) {
      const to = this.locate(vni, buf, inner);
      if (to !== undefined) {
        if (to === from) return this.drop("local-destination");
        const toRole = list.role.get(to);
        if (toRole !== undefined && toRole !== "replicator") {
          if (role === "evpn" && toRole === "evpn") return this.drop("evpn-to-evpn");
          this.sink.copy(this.sink.stage(buf, off, end - off), src, to);
          this.counters.unicast++;
          this.counters.copies++;
          return true;
        }
      }
    }
    this.replicate(list, buf, off, end, from, role, src);
    return true;
  }

  /** Floods a frame of `list`'s VNI that `from` sent (its role `role`) with outer source `src`. */
  replicate(
    list: FloodList,
    buf: Uint8Array,
    off: number,
    end: number,
    from: string,
    role: VtepRole,
    src: string,
  ): void {
    this.handle = this.sink.stage(buf, off, end - off);
    this.src = src;
    this.counters.flooded++;
    this.floods.forEachCopy(list, from, role, this.copyTo);
  }

  private readonly copyTo = (vtep: string): void => {
    this.sink.copy(this.handle, this.src, vtep);
    this.counters.copies++;
  };

  private drop(reason: DropReason): false {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    return false;
  }
}
