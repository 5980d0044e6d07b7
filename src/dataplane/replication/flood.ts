// Flood lists of the services the proxy replicates for, and the election of one replicating proxy
// per VNI. Pure: the VTEPs of each VNI (static ones from the configuration and auto-discovery, EVPN
// ones and other replicating proxies from IMET routes) and the time come in; who gets a copy of a
// BUM frame and whether this proxy forwards at all come out.
//
// Where a frame goes (the proxy stands in for ingress replication of the static VTEPs):
//   from a static VTEP → every EVPN VTEP and every other static VTEP of the VNI;
//   from an EVPN VTEP  → the static VTEPs only (it already replicated to the EVPN VTEPs itself,
//                        RFC 8365 §8.3 ingress replication);
//   never back to the sender, never to another replicating proxy.

import { compareAddresses } from "../../net/addr.js";

/** RFC 7432 §8.5: a PE waits for this long after the candidate list changes before it acts as DF. */
export const DF_WAIT_MS = 3000;

export type VtepRole = "static" | "evpn" | "replicator";

export interface FloodInput {
  vni: number;
  /** Static VTEPs: configured and discovered, without those that announce their own IMET route. */
  statics: readonly string[];
  /** EVPN VTEPs of the VNI (their IMET routes). */
  evpn: readonly string[];
  /** Other replicating proxies of the VNI (their IMET routes carry the replicator marker). */
  replicators: readonly string[];
}

/** The flood list of one VNI; arrays are replaced, never changed in place (safe to iterate). */
export interface FloodList {
  readonly vni: number;
  readonly statics: readonly string[];
  readonly evpn: readonly string[];
  /** Proxies taking part in the election, this one included, in ascending address order. */
  readonly candidates: readonly string[];
  /** The elected replicator (RFC 7432 §8.5 service carving: candidates[vni mod n]). */
  readonly elected: string;
  readonly role: ReadonlyMap<string, VtepRole>;
}

interface State extends FloodList {
  /** This proxy is elected and may forward from this time on. */
  activeFrom: number;
}

export class FloodLists {
  private readonly byVni = new Map<number, State>();

  /** `self`: the proxy's own VXLAN address (the originator of its IMET routes). */
  constructor(
    private readonly self: string,
    private readonly dfWaitMs = DF_WAIT_MS,
  ) {}

  /** Sets the VTEPs of one VNI; returns whether anything changed. */
  update(input: FloodInput, now: number): boolean {
    const prev = this.byVni.get(input.vni);
    const statics = [...new Set(input.statics)].filter((v) => v !== this.self).sort(compareAddresses);
    const evpn = [...new Set(input.evpn)].filter((v) => v !== this.self).sort(compareAddresses);
    const candidates = [...new Set([this.self, ...input.replicators])].sort(compareAddresses);
    // RFC 7432 §8.5: the ordered list of candidate addresses, DF for Ethernet tag V is the one at
    // index V mod N; the VNI plays the part of V (one VNI per service, RFC 8365 §5.1.2).
    const elected = candidates[input.vni % candidates.length]!;
    if (
      prev &&
      String(prev.statics) === String(statics) &&
      String(prev.evpn) === String(evpn) &&
      String(prev.candidates) === String(candidates)
    )
      return false;
    const role = new Map<string, VtepRole>();
    for (const v of input.replicators) role.set(v, "replicator");
    for (const v of evpn) role.set(v, "evpn");
    for (const v of statics) if (!role.has(v)) role.set(v, "static");
    let activeFrom = prev?.activeFrom ?? Number.POSITIVE_INFINITY;
    if (elected !== this.self) activeFrom = Number.POSITIVE_INFINITY;
    else if (prev?.elected !== this.self) {
      // Taking over from a replicator whose IMET route is gone cannot deliver twice: at once.
      // Otherwise the previous replicator may not have seen the change yet (RFC 7432 §8.5 timer).
      const gone = prev !== undefined && !candidates.includes(prev.elected);
      activeFrom = gone ? now : now + this.dfWaitMs;
    }
    this.byVni.set(input.vni, { vni: input.vni, statics, evpn, candidates, elected, role, activeFrom });
    return true;
  }

  /** Forgets VNIs not in `keep`. */
  retain(keep: ReadonlySet<number>): void {
    for (const vni of this.byVni.keys()) if (!keep.has(vni)) this.byVni.delete(vni);
  }

  get(vni: number): FloodList | undefined {
    return this.byVni.get(vni);
  }

  /** From when this proxy forwards for the VNI (Infinity: another proxy is elected; undefined: unknown VNI). */
  activeFrom(vni: number): number | undefined {
    return this.byVni.get(vni)?.activeFrom;
  }

  /** This proxy replicates (and answers) for the VNI now. */
  forwards(vni: number, now: number): boolean {
    const s = this.byVni.get(vni);
    return s !== undefined && now >= s.activeFrom;
  }

  /** When a pending election takes effect, or undefined. */
  nextDeadline(now: number): number | undefined {
    let next: number | undefined;
    for (const s of this.byVni.values())
      if (
        s.activeFrom > now &&
        s.activeFrom !== Number.POSITIVE_INFINITY &&
        (next === undefined || s.activeFrom < next)
      )
        next = s.activeFrom;
    return next;
  }

  /** Calls `to` for every VTEP that gets a copy of a BUM frame of `vni` sent by `from`. */
  forEachCopy(list: FloodList, from: string, fromRole: VtepRole, to: (vtep: string) => void): void {
    if (fromRole === "replicator") return;
    for (const v of list.statics) if (v !== from && list.role.get(v) === "static") to(v);
    if (fromRole === "static") for (const v of list.evpn) if (v !== from) to(v);
  }

  vnis(): IterableIterator<FloodList> {
    return this.byVni.values();
  }
}
