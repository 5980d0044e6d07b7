// The RIB of the BGP speaker (RFC 4271 §3.2): the Adj-RIB-In of every peer, the Loc-RIB with the
// best path of every destination, and secondary indexes by MAC and by VTEP. Pure: no I/O, no timers.
//
// Memory (Node.js runs V8 without pointer compression: 8 bytes a pointer, about 37 bytes a Map
// entry): a path is one small object that points at the decoded route (never copied) and at the
// PathAttrs digest its UPDATE shares with every other route of that UPDATE. There is one Map, key
// → destination: a destination with one path is that path itself, one with several a Dest. The
// Adj-RIBs-In are not separate Maps but views of it: every path knows its source, and a
// destination holds at most one path per source. That saves a Map entry per path; the price is
// that whole-peer operations (withdrawAll, markStale, sweepStale, adjIn) walk the Loc-RIB, which
// is cheap with the few peers (route reflectors) this speaker has.

import { type EvpnMacIp, type EvpnRoute } from "../codec/index.js";
import { compareAddresses } from "../net/addr.js";
import { type PathAttrs, sameAttrs } from "./path-attrs.js";
import { evpnRouteKey, sameEvpnRoute } from "./route-key.js";
import { InvariantError } from "../errors.js";

export interface PeerRef {
  /** Unique per peer, e.g. its address. */
  readonly id: string;
  readonly address: string;
  /** The peer's BGP Identifier (dotted quad). */
  readonly routerId: string;
  readonly asn: number;
  readonly ebgp: boolean;
}

export type PathSource = PeerRef | "local";

export interface Path {
  readonly key: string;
  readonly route: EvpnRoute;
  readonly attrs: PathAttrs;
  readonly source: PathSource;
  /** RFC 4724 §4.2: retained across the peer's restart, not yet re-announced. */
  readonly stale: boolean;
}

/** A change of a destination's best path; `old` or `new` is absent when the destination appears or goes. */
export interface RibChange {
  readonly key: string;
  /** The new best path's route, or the old one's when the destination is gone. */
  readonly route: EvpnRoute;
  readonly old?: Path;
  readonly new?: Path;
}

export interface Destination {
  readonly key: string;
  readonly best: Path;
  readonly paths: readonly Path[];
}

export interface PeerCounters {
  /** Paths held from the peer now (its Adj-RIB-In after loop prevention). */
  paths: number;
  /** Announcements accepted (installed, replacing or repeating a path), cumulative. */
  accepted: number;
  /** Paths removed by the peer's withdrawals. */
  withdrawn: number;
  /** Announcements ignored by loop prevention (RFC 4456 §8, RFC 4271 §9.1.2). */
  rejectedLoop: number;
  /** Paths currently marked stale (RFC 4724 §4.2). */
  stale: number;
}

export interface RibOptions {
  /** Our BGP Identifier. */
  routerId: string;
  /** RFC 4456 §7: defaults to the router-id. */
  clusterId?: string;
  /** When set, paths whose AS_PATH contains it are ignored (RFC 4271 §9.1.2). */
  localAs?: number;
  /** MAC and VTEP indexes; default true. */
  indexes?: boolean;
}

class RibPath implements Path {
  key: string;
  route: EvpnRoute;
  attrs: PathAttrs;
  source: PathSource;
  stale: boolean;

  constructor(key: string, route: EvpnRoute, attrs: PathAttrs, source: PathSource) {
    this.key = key;
    this.route = route;
    this.attrs = attrs;
    this.source = source;
    this.stale = false;
  }
}

/** A destination with two or more paths. */
class Dest {
  best: RibPath;
  paths: RibPath[];

  constructor(paths: RibPath[]) {
    this.paths = paths;
    this.best = selectBest(paths) as RibPath;
  }
}

type Slot = RibPath | Dest;

interface PeerState {
  ref: PathSource;
  counters: PeerCounters;
}

function sourceIs(p: RibPath, ps: PeerState): boolean {
  const s = p.source;
  return s === ps.ref || (s !== "local" && ps.ref !== "local" && s.id === ps.ref.id);
}

/** The path of `ps` in a destination. */
function pathOf(slot: Slot | undefined, ps: PeerState): RibPath | undefined {
  if (slot === undefined) return undefined;
  if (slot instanceof RibPath) return sourceIs(slot, ps) ? slot : undefined;
  for (const p of slot.paths) if (sourceIs(p, ps)) return p;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Best path

/** RFC 4271 §9.1.2.2 steps up to ORIGIN, preceded by local routes and LOCAL_PREF (§9.1.1). */
function comparePre(a: Path, b: Path): number {
  const al = a.source === "local";
  if (al !== (b.source === "local")) return al ? -1 : 1;
  const x = a.attrs;
  const y = b.attrs;
  if (x.localPref !== y.localPref) return y.localPref - x.localPref; // §9.1.1: highest preference
  if (x.asPathLength !== y.asPathLength) return x.asPathLength - y.asPathLength; // §9.1.2.2a
  return x.origin - y.origin; // §9.1.2.2b
}

/** RFC 4271 §9.1.2.2 steps after MED, with RFC 4456 §9 for reflected routes. */
function comparePost(a: Path, b: Path): number {
  const sa = a.source;
  const sb = b.source;
  if (sa === "local" || sb === "local") return 0; // one local path per destination
  if (sa.ebgp !== sb.ebgp) return sa.ebgp ? -1 : 1; // §9.1.2.2d
  // §9.1.2.2e (IGP cost to the next hop) is skipped: this speaker has no IGP view of the VTEPs.
  // §9.1.2.2f with RFC 4456 §9: the ORIGINATOR_ID stands in for the BGP Identifier.
  const c = compareAddresses(a.attrs.originatorId ?? sa.routerId, b.attrs.originatorId ?? sb.routerId);
  if (c !== 0) return c;
  // RFC 4456 §9: shorter CLUSTER_LIST.
  if (a.attrs.clusterListLength !== b.attrs.clusterListLength)
    return a.attrs.clusterListLength - b.attrs.clusterListLength;
  return compareAddresses(sa.address, sb.address); // §9.1.2.2g
}

/**
 * Pairwise preference, negative when `a` is better. MED is compared only when both paths have the
 * same neighbour AS (RFC 4271 §9.1.2.2c), so this is not a total order over three or more paths:
 * selectBest applies the RFC's elimination for those.
 */
export function comparePaths(a: Path, b: Path): number {
  const c = comparePre(a, b);
  if (c !== 0) return c;
  if (a.attrs.firstAs === b.attrs.firstAs && a.attrs.med !== b.attrs.med) return a.attrs.med < b.attrs.med ? -1 : 1;
  return comparePost(a, b);
}

/** The best of a destination's paths (RFC 4271 §9.1.2.2). Stale paths stay eligible (RFC 4724 §4.2). */
export function selectBest(paths: readonly Path[]): Path | undefined {
  if (paths.length < 2) return paths[0];
  if (paths.length === 2) return comparePaths(paths[0]!, paths[1]!) <= 0 ? paths[0] : paths[1];
  // Steps a–b eliminate everything but the most preferred.
  let top = paths[0]!;
  for (let i = 1; i < paths.length; i++) if (comparePre(paths[i]!, top) < 0) top = paths[i]!;
  const left = paths.filter((p) => comparePre(p, top) === 0);
  // Step c: drop a path when another one from the same neighbour AS has a lower MED.
  const kept = left.filter((p) => !left.some((q) => q.attrs.firstAs === p.attrs.firstAs && q.attrs.med < p.attrs.med));
  // Steps d–g are a total order.
  let best = kept[0]!;
  for (let i = 1; i < kept.length; i++) if (comparePost(kept[i]!, best) < 0) best = kept[i]!;
  return best;
}

// ---------------------------------------------------------------------------------------------
// Secondary index: name → destination keys; a single key is stored as the string itself.

class KeyIndex {
  private readonly m = new Map<string, string | Set<string>>();

  add(name: string, key: string): void {
    const cur = this.m.get(name);
    if (cur === undefined) this.m.set(name, key);
    else if (typeof cur === "string") {
      if (cur !== key) this.m.set(name, new Set([cur, key]));
    } else cur.add(key);
  }

  delete(name: string, key: string): void {
    const cur = this.m.get(name);
    if (cur === undefined) return;
    if (typeof cur === "string") {
      if (cur === key) this.m.delete(name);
    } else if (cur.delete(key) && cur.size === 1) this.m.set(name, cur.values().next().value!);
  }

  get(name: string): string[] {
    const cur = this.m.get(name);
    return cur === undefined ? [] : typeof cur === "string" ? [cur] : [...cur];
  }

  get size(): number {
    return this.m.size;
  }
}

/**
 * The VTEP addresses a learned path refers to: its next hop and, for type 3, the originating
 * router. Local paths are not indexed: their owner knows them, and a big local table would make
 * every announcement pay for a large per-VTEP set.
 */
function hasVtep(p: Path, ip: string): boolean {
  return p.source !== "local" && (p.attrs.nextHop === ip || (p.route.routeType === 3 && p.route.originator === ip));
}

function slotHasLearned(slot: Slot | undefined): boolean {
  if (slot === undefined) return false;
  if (slot instanceof RibPath) return slot.source !== "local";
  for (const p of slot.paths) if (p.source !== "local") return true;
  return false;
}

function slotHasVtep(slot: Slot | undefined, ip: string): boolean {
  if (slot === undefined) return false;
  if (slot instanceof RibPath) return hasVtep(slot, ip);
  for (const p of slot.paths) if (hasVtep(p, ip)) return true;
  return false;
}

function sameVteps(a: Path, b: Path): boolean {
  return (
    a.attrs.nextHop === b.attrs.nextHop &&
    (a.route.routeType !== 3 || (b.route.routeType === 3 && a.route.originator === b.route.originator))
  );
}

// ---------------------------------------------------------------------------------------------

export class Rib {
  readonly routerId: string;
  readonly clusterId: string;
  readonly localAs: number | undefined;
  private readonly loc = new Map<string, Slot>();
  private readonly peers = new Map<string, PeerState>();
  private readonly local: PeerState = { ref: "local", counters: newCounters() };
  private readonly macs: KeyIndex | null;
  private readonly vteps: KeyIndex | null;
  // One-entry memo of sameAttrs: the routes of one UPDATE all compare the same two digests.
  private eqA: PathAttrs | null = null;
  private eqB: PathAttrs | null = null;
  private eqR = false;

  constructor(opts: RibOptions) {
    this.routerId = opts.routerId;
    this.clusterId = opts.clusterId ?? opts.routerId;
    this.localAs = opts.localAs;
    const ix = opts.indexes ?? true;
    this.macs = ix ? new KeyIndex() : null;
    this.vteps = ix ? new KeyIndex() : null;
  }

  /**
   * Applies one UPDATE from `peer`. `attrs` may be null only when nothing is announced. A route
   * both withdrawn and announced counts as announced (RFC 4271 §4.3).
   */
  applyUpdate(
    peer: PeerRef,
    announced: readonly EvpnRoute[],
    attrs: PathAttrs | null,
    withdrawn: readonly EvpnRoute[],
  ): RibChange[] {
    if (attrs === null && announced.length > 0) throw new TypeError("applyUpdate: announced routes need attributes");
    const ps = this.stateOf(peer);
    const changes: RibChange[] = [];
    let reannounced: Set<string> | null = null;
    if (withdrawn.length > 0 && announced.length > 0) {
      reannounced = new Set();
      for (const r of announced) reannounced.add(evpnRouteKey(r));
    }
    for (const r of withdrawn) {
      const key = evpnRouteKey(r);
      if (reannounced !== null && reannounced.has(key)) continue;
      if (this.remove(ps, key, changes)) ps.counters.withdrawn++;
    }
    if (announced.length === 0 || attrs === null) return changes;
    if (this.looped(attrs)) {
      // RFC 4456 §8 / RFC 4271 §9.1.2: ignore the announcements; what the peer announced before
      // under the same keys is replaced by them (RFC 4271 §9 implicit withdraw), so it goes too.
      // A route reflector sends every route of ours back like this: with nothing from this peer
      // in the RIB there is nothing to replace, and no key needs computing.
      ps.counters.rejectedLoop += announced.length;
      if (ps.counters.paths > 0) for (const r of announced) this.remove(ps, evpnRouteKey(r), changes);
      return changes;
    }
    for (const r of announced) this.announce(ps, r, attrs, changes);
    return changes;
  }

  /** Removes every path of the peer (session down without graceful restart). */
  withdrawAll(peerId: string): RibChange[] {
    return this.removeWhere(peerId, false);
  }

  /** RFC 4724 §4.2: the peer restarts; keep its paths, marked stale, until re-announced or swept. */
  markStale(peerId: string): void {
    const ps = this.peers.get(peerId);
    if (ps === undefined || ps.counters.paths === 0) return;
    for (const slot of this.loc.values()) {
      const p = pathOf(slot, ps);
      if (p !== undefined) p.stale = true;
    }
    ps.counters.stale = ps.counters.paths;
  }

  /** RFC 4724 §4.2: End-of-RIB received or the restart timer expired: remove what is still stale. */
  sweepStale(peerId: string): RibChange[] {
    return this.removeWhere(peerId, true);
  }

  /** Originates a route; local routes win best-path selection over learned ones. */
  /** `report` false skips the change records (a big local table need not pay for them). */
  addLocal(route: EvpnRoute, attrs: PathAttrs, key: string = evpnRouteKey(route), report = true): RibChange[] {
    if (!report) {
      this.announce(this.local, route, attrs, null, key);
      return NO_CHANGES;
    }
    const changes: RibChange[] = [];
    this.announce(this.local, route, attrs, changes, key);
    return changes;
  }

  withdrawLocal(route: EvpnRoute, key: string = evpnRouteKey(route), report = true): RibChange[] {
    if (!report) {
      this.remove(this.local, key, null);
      return NO_CHANGES;
    }
    const changes: RibChange[] = [];
    this.remove(this.local, key, changes);
    return changes;
  }

  // --- queries

  get size(): number {
    return this.loc.size;
  }

  best(key: string): Path | undefined {
    const s = this.loc.get(key);
    return s === undefined ? undefined : s instanceof RibPath ? s : s.best;
  }

  paths(key: string): Path[] {
    const s = this.loc.get(key);
    return s === undefined ? [] : s instanceof RibPath ? [s] : [...s.paths];
  }

  destination(key: string): Destination | undefined {
    const s = this.loc.get(key);
    return s === undefined ? undefined : toDestination(key, s);
  }

  *locRib(): IterableIterator<Destination> {
    for (const [key, s] of this.loc) yield toDestination(key, s);
  }

  /** The peer's paths (its Adj-RIB-In), in Loc-RIB order. */
  *adjIn(peerId: string): IterableIterator<Path> {
    const ps = this.peers.get(peerId);
    if (ps !== undefined && ps.counters.paths > 0) yield* this.pathsOf(ps);
  }

  /** How many local routes there are. */
  get localCount(): number {
    return this.local.counters.paths;
  }

  /** The paths of local routes. */
  localPaths(): IterableIterator<Path> {
    return this.pathsOf(this.local);
  }

  /** The peer's path for a route key, whether best or not. */
  adjInPath(peerId: string, key: string): Path | undefined {
    const ps = this.peers.get(peerId);
    return ps === undefined ? undefined : pathOf(this.loc.get(key), ps);
  }

  peerIds(): string[] {
    return [...this.peers.keys()];
  }

  /** How many paths the peer has in the RIB (0 when unknown). */
  pathCount(peerId: string): number {
    return this.peers.get(peerId)?.counters.paths ?? 0;
  }

  /** Counts announcements of the peer ignored before they became routes (RFC 4456 §8 loops). */
  countLooped(peer: PeerRef, n: number): void {
    this.stateOf(peer).counters.rejectedLoop += n;
  }

  counters(peerId: string): Readonly<PeerCounters> | undefined {
    const c = this.peers.get(peerId)?.counters;
    return c === undefined ? undefined : { ...c };
  }

  /** Keys of the type-2 destinations with a learned path for this MAC, under any RD (RFC 7432 §15). */
  byMac(mac: string): string[] {
    if (this.macs === null) throw new InvariantError("ERR_RIB_NO_INDEX", "Rib: indexes are disabled");
    return this.macs.get(mac);
  }

  /** Keys of the destinations with a learned path whose next hop, or type-3 originator, is this VTEP. */
  byVtep(ip: string): string[] {
    if (this.vteps === null) throw new InvariantError("ERR_RIB_NO_INDEX", "Rib: indexes are disabled");
    return this.vteps.get(ip);
  }

  // --- internals

  private looped(attrs: PathAttrs): boolean {
    // RFC 4456 §8: our own ORIGINATOR_ID, or our CLUSTER_ID in the CLUSTER_LIST.
    if (attrs.originatorId === this.routerId) return true;
    if (attrs.clusterListLength > 0 && attrs.clusterList.includes(this.clusterId)) return true;
    // RFC 4271 §9.1.2: a path carrying our AS is an AS loop.
    if (this.localAs !== undefined)
      for (const a of attrs.attributes)
        if (a.kind === "as-path" || a.kind === "as4-path")
          for (const s of a.segments) if (s.asns.includes(this.localAs)) return true;
    return false;
  }

  private stateOf(peer: PeerRef): PeerState {
    let ps = this.peers.get(peer.id);
    if (ps === undefined) {
      ps = { ref: peer, counters: newCounters() };
      this.peers.set(peer.id, ps);
    } else ps.ref = peer;
    return ps;
  }

  private attrsEqual(a: PathAttrs, b: PathAttrs): boolean {
    if (a === b) return true;
    if (a !== this.eqA || b !== this.eqB) {
      this.eqA = a;
      this.eqB = b;
      this.eqR = sameAttrs(a, b);
    }
    return this.eqR;
  }

  private *pathsOf(ps: PeerState): IterableIterator<RibPath> {
    for (const slot of this.loc.values()) {
      const p = pathOf(slot, ps);
      if (p !== undefined) yield p;
    }
  }

  /** Removes all paths of the peer, or only its stale ones. */
  private removeWhere(peerId: string, staleOnly: boolean): RibChange[] {
    const ps = this.peers.get(peerId);
    const changes: RibChange[] = [];
    if (ps === undefined || (staleOnly ? ps.counters.stale : ps.counters.paths) === 0) return changes;
    // Deleting or replacing the entry being visited is safe while iterating a Map.
    for (const [key, slot] of this.loc) {
      const p = pathOf(slot, ps);
      if (p !== undefined && (!staleOnly || p.stale)) {
        this.replace(key, p, undefined, changes);
        ps.counters.paths--;
      }
    }
    ps.counters.stale = 0;
    return changes;
  }

  private announce(
    ps: PeerState,
    r: EvpnRoute,
    attrs: PathAttrs,
    changes: RibChange[] | null,
    key = evpnRouteKey(r),
  ): void {
    const old = pathOf(this.loc.get(key), ps);
    ps.counters.accepted++;
    if (old !== undefined) {
      if (old.stale) ps.counters.stale--;
      if (sameEvpnRoute(old.route, r) && this.attrsEqual(old.attrs, attrs)) {
        // A repeat (route refresh, graceful restart): no best-path change; only the stale mark goes.
        old.stale = false;
        return;
      }
    }
    if (old === undefined) ps.counters.paths++;
    this.replace(key, old, new RibPath(key, r, attrs, ps.ref), changes); // RFC 4271 §9: implicit withdraw of `old`
  }

  /** Removes the peer's path for `key`; true if there was one. */
  private remove(ps: PeerState, key: string, changes: RibChange[] | null): boolean {
    const old = pathOf(this.loc.get(key), ps);
    if (old === undefined) return false;
    if (old.stale) ps.counters.stale--;
    ps.counters.paths--;
    this.replace(key, old, undefined, changes);
    return true;
  }

  /** Replaces `old` by `neu` (either may be absent) in the destination, reselects, reports. */
  private replace(key: string, old: RibPath | undefined, neu: RibPath | undefined, changes: RibChange[] | null): void {
    const slot = this.loc.get(key);
    const learned = (neu ?? old)!.source !== "local"; // old and neu come from one source
    const macIndexed = this.macs !== null && learned && (neu ?? old)!.route.routeType === 2;
    const had = macIndexed && slotHasLearned(slot); // before `slot` changes
    let prev: RibPath | undefined;
    let best: RibPath | undefined;
    let after: Slot | undefined;
    if (slot === undefined) {
      if (neu === undefined) return;
      this.loc.set(key, (after = best = neu));
    } else if (slot instanceof RibPath) {
      prev = slot;
      if (slot === old) {
        if (neu !== undefined) this.loc.set(key, (after = best = neu));
        else {
          this.loc.delete(key);
        }
      } else if (neu !== undefined) {
        const d = new Dest([slot, neu]);
        this.loc.set(key, (after = d));
        best = d.best;
      } else {
        after = best = slot;
      }
    } else {
      prev = slot.best;
      const ps = slot.paths;
      if (old !== undefined) {
        const i = ps.indexOf(old);
        if (neu !== undefined) ps[i] = neu;
        else ps.splice(i, 1);
      } else if (neu !== undefined) ps.push(neu);
      if (ps.length === 1) this.loc.set(key, (after = best = ps[0]!));
      else {
        after = slot;
        best = slot.best = selectBest(ps) as RibPath;
      }
    }
    if (macIndexed) {
      // MAC index over destinations with at least one learned path.
      const has = slotHasLearned(after);
      const mac = ((neu ?? old)!.route as EvpnMacIp).mac;
      if (has && !had) this.macs!.add(mac, key);
      else if (had && !has) this.macs!.delete(mac, key);
    }
    if (this.vteps !== null && learned && !(old !== undefined && neu !== undefined && sameVteps(old, neu))) {
      if (neu !== undefined) {
        if (neu.attrs.nextHop !== "") this.vteps.add(neu.attrs.nextHop, key);
        if (neu.route.routeType === 3) this.vteps.add(neu.route.originator, key);
      }
      if (old !== undefined) {
        if (!slotHasVtep(after, old.attrs.nextHop)) this.vteps.delete(old.attrs.nextHop, key);
        if (old.route.routeType === 3 && !slotHasVtep(after, old.route.originator))
          this.vteps.delete(old.route.originator, key);
      }
    }
    if (best !== prev && changes !== null) changes.push({ key, route: (best ?? prev)!.route, old: prev, new: best });
  }
}

const NO_CHANGES: RibChange[] = [];

function newCounters(): PeerCounters {
  return { paths: 0, accepted: 0, withdrawn: 0, rejectedLoop: 0, stale: 0 };
}

function toDestination(key: string, s: Slot): Destination {
  return s instanceof RibPath ? { key, best: s, paths: [s] } : { key, best: s.best, paths: [...s.paths] };
}
