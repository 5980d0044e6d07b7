// Data-plane learning, the engine: decoded frames (src/dataplane/packet.ts) and the fabric's view
// in, a table of learned bindings and a list of actions for the daemon out. Pure like the codec:
// no I/O, no timers; time (ms) is passed in and `nextDeadline()` says when `tick()` is due.
//
// Model: one entry per (VNI, MAC) — the MAC's location (a VTEP), the MAC mobility sequence of
// our route, whether our routes are announced — and one binding per (VNI, IP) naming the MAC
// that owns the IP (an IP belongs to one MAC at a time; a new owner takes it over). All routes of
// one MAC (the MAC route and its MAC/IP routes) carry the same sequence number (RFC 7432 §15).
//
// Ageing queues: entries and IP bindings sit in insertion-ordered Maps keyed by the time they
// were last queued. A refresh only re-queues an entry when it is at least AGE_GRANULARITY_MS
// old, so a binding seen again unchanged costs a comparison and two stores, and expiry is
// exact to within AGE_GRANULARITY_MS (never early, at most that late).

import { formatIpv4, formatIpv6, normalizeMac, parseIpv4Into, parseIpv6Into } from "../codec/addr.js";
import type { LearnedFrame } from "./packet.js";

export interface LearnConfig {
  services: {
    name: string;
    evi: number;
    vni: number;
    staticVteps: { address: string; macs: { mac: string; ip?: string }[] }[];
  }[];
  /** Announce MAC/IP routes besides MAC routes. */
  includeIp: boolean;
  /** `mac-ageing-seconds` (300). */
  ageingSeconds: number;
  /** `auto-discover-static-vteps`. */
  autoDiscover: boolean;
  /** `allowed-vtep-prefixes`, CIDR; an entry that does not parse is an error. */
  allowedPrefixes: string[];
  /** `max-moves` (5): more moves than this within the window mark the MAC duplicate. */
  maxMoves: number;
  /** `move-window-seconds` (180). */
  moveWindowSeconds: number;
  /** How long a duplicate MAC stays frozen. */
  freezeSeconds: number;
  /** Learned MACs per VTEP (all VNIs); 0: no limit. */
  maxMacsPerVtep: number;
  /** Learned MACs per VNI; 0: no limit. */
  maxMacsPerVni: number;
  /** Learning operations (new MAC, new IP, move) per VTEP and second, burst of one second; 0: no limit. */
  maxLearnPerVtepPerSecond: number;
  /** IPs bound to one learned MAC (default 16); 0: no limit. */
  maxIpsPerMac?: number;
  /** A throttled event (limit, unknown VTEP, sticky) is emitted at most once per this (default 60). */
  eventIntervalSeconds?: number;
}

/** Answered by the daemon from the RIB. */
export interface FabricView {
  /** The VTEP announces its own IMET route for this VNI. */
  isEvpnVtep(vni: number, vtep: string): boolean;
  /**
   * The best remote (not ours) type-2 route for this MAC in this service: its VTEP (next hop),
   * MAC mobility sequence (0 when the community is absent, RFC 7432 §15), sticky flag.
   */
  remoteMac(vni: number, mac: string): { vtep: string; seq: number; sticky: boolean } | undefined;
}

interface RouteKey {
  service: string;
  evi: number;
  vni: number;
  /** The static VTEP: RD `<vtep>:<evi>`, next hop. */
  vtep: string;
  mac: string;
  /** null: the MAC route; otherwise the MAC/IP route. */
  ip: string | null;
}

export type LearnEventKind =
  | "duplicate" // a MAC moved more than max-moves times within the window: frozen
  | "duplicate-released"
  | "limit-vtep"
  | "limit-vni"
  | "limit-rate"
  | "limit-ips"
  | "unknown-vtep"
  | "sticky-blocked";

export type LearnAction =
  /** Announce (or replace) a type 2 route; `seq` 0 and not sticky: the MAC mobility community may be left out. */
  | ({ type: "announce"; seq: number; sticky: boolean } & RouteKey)
  | ({ type: "withdraw" } & RouteKey)
  /** An auto-discovered static VTEP: announce its IMET route for the service. */
  | { type: "discover-vtep"; service: string; evi: number; vni: number; vtep: string }
  /** To log; `suppressed`: throttled occurrences since the previous event of this key. */
  | {
      type: "event";
      event: LearnEventKind;
      vni: number;
      vtep?: string;
      mac?: string;
      suppressed?: number;
    };

export interface LearnedBinding {
  service: string;
  vni: number;
  mac: string;
  vtep: string;
  ips: string[];
  seq: number;
  /** false: the fabric's route for the MAC won (RFC 7432 §15.1) and ours is withdrawn. */
  announced: boolean;
  duplicate: boolean;
  lastSeen: number;
}

export interface LearnCounters {
  frames: number;
  learned: number;
  learnedIps: number;
  refreshed: number;
  moves: number;
  withdrawnByRemote: number;
  adopted: number;
  aged: number;
  agedIps: number;
  ipMoves: number;
  unknownVni: number;
  evpnVtep: number;
  unknownVtep: number;
  discovered: number;
  noBinding: number;
  staticMac: number;
  stickyBlocked: number;
  frozenDropped: number;
  duplicates: number;
  limitVtep: number;
  limitVni: number;
  limitRate: number;
  limitIps: number;
}

/** Granularity of the ageing queues (see the header). */
export const AGE_GRANULARITY_MS = 1000;

interface Service {
  name: string;
  evi: number;
  vni: number;
  staticVteps: Set<string>;
  discovered: Set<string>;
  /** Configured (sticky) MACs → their VTEP. */
  staticMacs: Map<string, string>;
}

interface MacEntry {
  svc: Service;
  mac: string;
  vtep: string;
  /** Sequence number of our route (when announced) or of the last one we announced. */
  seq: number;
  /** Highest sequence seen for the MAC, ours or the fabric's. */
  seenSeq: number;
  announced: boolean;
  ips: Set<string>;
  lastSeen: number;
  queued: number;
  /** Times of recent moves (RFC 7432 §15.1 duplicate detection). */
  moves: number[];
  frozenUntil: number;
}

interface IpBinding {
  owner: MacEntry;
  ip: string;
  lastSeen: number;
  queued: number;
}

interface Prefix {
  bytes: Uint8Array;
  len: number;
  bits: number;
}

interface Throttle {
  last: number;
  suppressed: number;
}

function newCounters(): LearnCounters {
  return {
    frames: 0,
    learned: 0,
    learnedIps: 0,
    refreshed: 0,
    moves: 0,
    withdrawnByRemote: 0,
    adopted: 0,
    aged: 0,
    agedIps: 0,
    ipMoves: 0,
    unknownVni: 0,
    evpnVtep: 0,
    unknownVtep: 0,
    discovered: 0,
    noBinding: 0,
    staticMac: 0,
    stickyBlocked: 0,
    frozenDropped: 0,
    duplicates: 0,
    limitVtep: 0,
    limitVni: 0,
    limitRate: 0,
    limitIps: 0,
  };
}

/** Address bytes (4 or 16) of IP text, or null. */
function ipBytes(s: string): Uint8Array | null {
  if (s.includes(":")) {
    const b = new Uint8Array(16);
    return parseIpv6Into(s, b, 0) ? b : null;
  }
  const b = new Uint8Array(4);
  return parseIpv4Into(s, b, 0) ? b : null;
}

/** Orders VTEP addresses numerically, IPv4 before IPv6 (the tie-break of RFC 7432 §15.1). */
export function compareVtep(a: string, b: string): number {
  const x = ipBytes(a);
  const y = ipBytes(b);
  if (x === null || y === null) return a < b ? -1 : a > b ? 1 : 0;
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function parsePrefix(s: string): Prefix {
  const slash = s.indexOf("/");
  const bytes = ipBytes(slash < 0 ? s : s.slice(0, slash));
  const bits = slash < 0 ? (bytes?.length ?? 0) * 8 : Number(s.slice(slash + 1));
  if (bytes === null || !Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8)
    throw new Error(`allowed-vtep-prefixes: "${s}" is not a CIDR prefix`);
  return { bytes, len: bytes.length, bits };
}

function inPrefix(p: Prefix, a: Uint8Array): boolean {
  if (a.length !== p.len) return false;
  let bits = p.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (p.bytes[i]! & mask)) return false;
  }
  return true;
}

function canonicalIp(s: string): string {
  const b = ipBytes(s);
  if (b === null) throw new Error(`"${s}" is not an IP address`);
  return b.length === 4 ? formatIpv4(b, 0) : formatIpv6(b, 0);
}

export class Learner {
  private readonly services = new Map<number, Service>();
  private readonly prefixes: Prefix[];
  /** (vni/mac) → entry, in ageing-queue order. */
  private readonly macs = new Map<string, MacEntry>();
  /** (vni/ip) → binding, in ageing-queue order. */
  private readonly ips = new Map<string, IpBinding>();
  /** Frozen (duplicate) MACs, in release order (one freeze time for all). */
  private readonly frozen = new Map<string, MacEntry>();
  private readonly perVtep = new Map<string, number>();
  private readonly perVni = new Map<number, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly throttles = new Map<string, Throttle>();
  private readonly ageMs: number;
  private readonly eventMs: number;
  private readonly maxIps: number;
  private readonly stats = newCounters();

  constructor(
    private readonly cfg: LearnConfig,
    private readonly fabric: FabricView,
  ) {
    for (const s of cfg.services) {
      const svc: Service = {
        name: s.name,
        evi: s.evi,
        vni: s.vni,
        staticVteps: new Set(),
        discovered: new Set(),
        staticMacs: new Map(),
      };
      for (const v of s.staticVteps) {
        const vtep = canonicalIp(v.address);
        svc.staticVteps.add(vtep);
        for (const m of v.macs) {
          const mac = normalizeMac(m.mac);
          if (mac === null) throw new Error(`"${m.mac}" is not a MAC address`);
          svc.staticMacs.set(mac, vtep);
        }
      }
      this.services.set(s.vni, svc);
    }
    this.prefixes = cfg.allowedPrefixes.map(parsePrefix);
    this.ageMs = cfg.ageingSeconds * 1000;
    this.eventMs = (cfg.eventIntervalSeconds ?? 60) * 1000;
    this.maxIps = cfg.maxIpsPerMac ?? 16;
  }

  /** A frame seen. `f` may be a reused object: nothing of it is kept but its strings. */
  frame(f: LearnedFrame, now: number): LearnAction[] {
    const out: LearnAction[] = [];
    this.stats.frames++;
    const svc = this.services.get(f.vni);
    if (svc === undefined) {
      this.stats.unknownVni++;
      return out;
    }
    const vtep = f.vtep;
    // An EVPN VTEP speaks for itself: never proxied.
    if (this.fabric.isEvpnVtep(f.vni, vtep)) {
      this.stats.evpnVtep++;
      return out;
    }
    if (!svc.staticVteps.has(vtep) && !svc.discovered.has(vtep) && !this.discover(svc, vtep, now, out)) return out;
    const mac = f.mac;
    if (mac === null) {
      this.stats.noBinding++;
      return out;
    }
    const ip = this.cfg.includeIp ? f.ip : null;
    // Configured MACs are sticky (RFC 7432 §15.2): announced by the daemon, never learned, never moved.
    const staticAt = svc.staticMacs.get(mac);
    if (staticAt !== undefined) {
      if (staticAt === vtep) this.stats.staticMac++;
      else this.blockSticky(svc, vtep, mac, now, out);
      return out;
    }
    const key = `${svc.vni}/${mac}`;
    const e = this.macs.get(key);
    if (e !== undefined && e.frozenUntil > now) {
      this.stats.frozenDropped++;
      return out;
    }
    if (e !== undefined && e.announced && e.vtep === vtep) {
      // Seen again where we announce it: only the last-seen time moves (and a new IP is bound).
      this.refresh(key, e, now);
      if (ip !== null) this.learnIp(e, ip, now, out);
      else this.stats.refreshed++;
      return out;
    }
    this.place(svc, key, e, vtep, mac, ip, now, out);
    return out;
  }

  /** The fabric's best route for a MAC changed: an EVPN VTEP took it over, or released it. */
  remoteChanged(vni: number, mac: string, now: number): LearnAction[] {
    const out: LearnAction[] = [];
    const key = `${vni}/${mac}`;
    const e = this.macs.get(key);
    if (e === undefined || !e.announced) return out;
    const r = this.fabric.remoteMac(vni, mac);
    if (r === undefined) return out;
    if (r.seq > e.seenSeq) e.seenSeq = r.seq;
    if (e.frozenUntil > now) return out; // duplicate: our routes do not change until released
    if (r.vtep === e.vtep) {
      // The same location from another proxy: converge on the higher sequence (never lower it).
      if (!r.sticky && r.seq > e.seq) {
        e.seq = r.seq;
        this.stats.adopted++;
        this.announceAll(e, out);
      }
      return out;
    }
    // RFC 7432 §15.1: a route with a higher sequence, or an equal one from a lower VTEP IP, wins;
    // §15.2: a sticky route always does. Ours is withdrawn; the MAC moved.
    if (r.sticky || r.seq > e.seq || (r.seq === e.seq && compareVtep(r.vtep, e.vtep) < 0)) {
      this.withdrawAll(e, out);
      e.announced = false;
      this.stats.withdrawnByRemote++;
      this.recordMove(key, e, now, out);
    }
    return out;
  }

  /** Ageing and freeze release. */
  tick(now: number): LearnAction[] {
    const out: LearnAction[] = [];
    for (const [key, e] of this.frozen) {
      if (e.frozenUntil > now) break;
      this.frozen.delete(key);
      e.frozenUntil = 0;
      e.moves.length = 0;
      out.push({ type: "event", event: "duplicate-released", vni: e.svc.vni, vtep: e.vtep, mac: e.mac });
    }
    const limit = now - this.ageMs - AGE_GRANULARITY_MS;
    for (const [key, b] of this.ips) {
      if (b.queued > limit) break;
      if (b.owner.frozenUntil > now) {
        this.requeueIp(key, b, now);
        continue;
      }
      this.ips.delete(key);
      b.owner.ips.delete(b.ip);
      if (b.owner.announced) out.push({ type: "withdraw", ...this.routeKey(b.owner, b.ip) });
      this.stats.agedIps++;
    }
    for (const [key, e] of this.macs) {
      if (e.queued > limit) break;
      if (e.frozenUntil > now) {
        this.refresh(key, e, now, true);
        continue;
      }
      if (e.announced) this.withdrawAll(e, out);
      this.remove(key, e);
      this.stats.aged++;
    }
    return out;
  }

  /** When `tick` is next due, or undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    let d: number | undefined;
    const take = (t: number | undefined) => {
      if (t !== undefined && (d === undefined || t < d)) d = t;
    };
    for (const e of this.frozen.values()) {
      take(e.frozenUntil);
      break;
    }
    for (const b of this.ips.values()) {
      take(b.queued + this.ageMs + AGE_GRANULARITY_MS);
      break;
    }
    for (const e of this.macs.values()) {
      take(e.queued + this.ageMs + AGE_GRANULARITY_MS);
      break;
    }
    return d;
  }

  /** Learned MACs, sorted by VNI then MAC. */
  table(): LearnedBinding[] {
    const rows: LearnedBinding[] = [];
    for (const e of this.macs.values())
      rows.push({
        service: e.svc.name,
        vni: e.svc.vni,
        mac: e.mac,
        vtep: e.vtep,
        ips: [...e.ips].sort(),
        seq: e.seq,
        announced: e.announced,
        duplicate: e.frozenUntil > 0,
        lastSeen: e.lastSeen,
      });
    return rows.sort((a, b) => a.vni - b.vni || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  counters(): Readonly<LearnCounters> {
    return { ...this.stats };
  }

  /** VTEPs auto-discovered for a VNI. */
  discovered(vni: number): string[] {
    return [...(this.services.get(vni)?.discovered ?? [])];
  }

  // ---- internals ----------------------------------------------------------------------------

  private discover(svc: Service, vtep: string, now: number, out: LearnAction[]): boolean {
    if (this.cfg.autoDiscover) {
      const b = ipBytes(vtep);
      if (b !== null && this.prefixes.some((p) => inPrefix(p, b))) {
        svc.discovered.add(vtep);
        this.stats.discovered++;
        out.push({ type: "discover-vtep", service: svc.name, evi: svc.evi, vni: svc.vni, vtep });
        return true;
      }
    }
    this.stats.unknownVtep++;
    // Keyed by VNI, not VTEP: spoofed sources must not grow the throttle table.
    this.throttled(`unknown-vtep/${svc.vni}`, now, out, { type: "event", event: "unknown-vtep", vni: svc.vni, vtep });
    return false;
  }

  private blockSticky(svc: Service, vtep: string, mac: string, now: number, out: LearnAction[]): void {
    this.stats.stickyBlocked++;
    this.throttled(`sticky/${svc.vni}`, now, out, { type: "event", event: "sticky-blocked", vni: svc.vni, vtep, mac });
  }

  /**
   * The MAC is seen at `vtep`, where we do not announce it: a new MAC, a move, or a MAC coming
   * back after the fabric's route won.
   */
  private place(
    svc: Service,
    key: string,
    e: MacEntry | undefined,
    vtep: string,
    mac: string,
    ip: string | null,
    now: number,
    out: LearnAction[],
  ): void {
    const r = this.fabric.remoteMac(svc.vni, mac);
    if (r !== undefined && r.sticky) {
      this.blockSticky(svc, vtep, mac, now, out); // RFC 7432 §15.2: sticky MACs never move
      return;
    }
    const seen = Math.max(e?.seenSeq ?? 0, r?.seq ?? 0);
    // Where the current best route puts the MAC: ours if announced, else the fabric's.
    const current = e !== undefined && e.announced ? e.vtep : r?.vtep;
    let seq: number;
    let move = false;
    if (current === undefined) seq = seen;
    else if (current === vtep)
      seq = seen; // another proxy already announces it here: identical route
    else {
      seq = seen + 1; // RFC 7432 §15.1: a move; sequence = highest seen + 1
      move = true;
    }
    const moved = e === undefined || e.vtep !== vtep;
    if (moved && !this.admitMac(svc, vtep, mac, now, out)) return;
    if (!this.takeToken(vtep, now, svc.vni, mac, out)) return;
    let old: LearnAction[] = [];
    if (e === undefined) {
      e = {
        svc,
        mac,
        vtep,
        seq,
        seenSeq: seq,
        announced: false,
        ips: new Set(),
        lastSeen: now,
        queued: now,
        moves: [],
        frozenUntil: 0,
      };
      this.macs.set(key, e);
      this.count(vtep, svc.vni, 1);
      this.stats.learned++;
    } else {
      if (move && this.recordMove(key, e, now, out)) return; // now a duplicate: the change is not announced
      if (e.announced) {
        old = [];
        this.withdrawAll(e, old);
      }
      // The MAC's IP bindings move with it: its MAC/IP routes follow at the new sequence.
      if (e.vtep !== vtep) {
        this.count(e.vtep, svc.vni, -1);
        this.count(vtep, svc.vni, 1);
      }
      e.vtep = vtep;
      e.seq = seq;
      if (seq > e.seenSeq) e.seenSeq = seq;
      this.refresh(key, e, now, true);
    }
    if (move) this.stats.moves++;
    e.announced = true;
    out.push({ type: "announce", ...this.routeKey(e, null), seq: e.seq, sticky: false });
    for (const i of e.ips) out.push({ type: "announce", ...this.routeKey(e, i), seq: e.seq, sticky: false });
    if (ip !== null) this.learnIp(e, ip, now, out, false);
    out.push(...old); // make before break: the new location first, then the old routes go
  }

  /** Binds `ip` to the announced entry `e` (the MAC/IP route), or refreshes the binding. */
  private learnIp(e: MacEntry, ip: string, now: number, out: LearnAction[], rate = true): void {
    const key = `${e.svc.vni}/${ip}`;
    const b = this.ips.get(key);
    if (b !== undefined && b.owner === e) {
      b.lastSeen = now;
      if (now - b.queued >= AGE_GRANULARITY_MS) this.requeueIp(key, b, now);
      this.stats.refreshed++;
      return;
    }
    if (this.maxIps > 0 && e.ips.size >= this.maxIps) {
      this.stats.limitIps++;
      this.throttled(`ips/${e.svc.vni}/${e.mac}`, now, out, {
        type: "event",
        event: "limit-ips",
        vni: e.svc.vni,
        vtep: e.vtep,
        mac: e.mac,
      });
      return;
    }
    if (rate && !this.takeToken(e.vtep, now, e.svc.vni, e.mac, out)) return;
    if (b !== undefined) {
      // The IP moved to another MAC: its old MAC/IP route goes.
      this.ips.delete(key);
      b.owner.ips.delete(ip);
      if (b.owner.announced) out.push({ type: "withdraw", ...this.routeKey(b.owner, ip) });
      this.stats.ipMoves++;
    }
    this.ips.set(key, { owner: e, ip, lastSeen: now, queued: now });
    e.ips.add(ip);
    this.stats.learnedIps++;
    out.push({ type: "announce", ...this.routeKey(e, ip), seq: e.seq, sticky: false });
  }

  /**
   * RFC 7432 §15.1 duplicate detection: more than max-moves moves within move-window-seconds
   * freeze the MAC for freeze-seconds. True when this move made it a duplicate.
   */
  private recordMove(key: string, e: MacEntry, now: number, out: LearnAction[]): boolean {
    const from = now - this.cfg.moveWindowSeconds * 1000;
    let i = 0;
    while (i < e.moves.length && e.moves[i]! <= from) i++;
    if (i > 0) e.moves.splice(0, i);
    e.moves.push(now);
    if (e.moves.length <= this.cfg.maxMoves) return false;
    e.frozenUntil = now + this.cfg.freezeSeconds * 1000;
    this.frozen.delete(key);
    this.frozen.set(key, e);
    this.stats.duplicates++;
    out.push({ type: "event", event: "duplicate", vni: e.svc.vni, vtep: e.vtep, mac: e.mac });
    return true;
  }

  /** The per-VTEP and per-VNI MAC limits for a MAC arriving at `vtep`. */
  private admitMac(svc: Service, vtep: string, mac: string, now: number, out: LearnAction[]): boolean {
    const maxV = this.cfg.maxMacsPerVtep;
    if (maxV > 0 && (this.perVtep.get(vtep) ?? 0) >= maxV) {
      this.stats.limitVtep++;
      this.throttled(`vtep/${vtep}`, now, out, { type: "event", event: "limit-vtep", vni: svc.vni, vtep, mac });
      return false;
    }
    const maxN = this.cfg.maxMacsPerVni;
    // A MAC already in this VNI (moving between VTEPs) does not add to the VNI's count.
    if (maxN > 0 && !this.macs.has(`${svc.vni}/${mac}`) && (this.perVni.get(svc.vni) ?? 0) >= maxN) {
      this.stats.limitVni++;
      this.throttled(`vni/${svc.vni}`, now, out, { type: "event", event: "limit-vni", vni: svc.vni, vtep, mac });
      return false;
    }
    return true;
  }

  /** Token bucket per VTEP: capacity and refill of max-learn-per-vtep-per-second. */
  private takeToken(vtep: string, now: number, vni: number, mac: string, out: LearnAction[]): boolean {
    const rate = this.cfg.maxLearnPerVtepPerSecond;
    if (rate <= 0) return true;
    let b = this.buckets.get(vtep);
    if (b === undefined) {
      b = { tokens: rate, at: now };
      this.buckets.set(vtep, b);
    } else if (now > b.at) {
      b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    this.stats.limitRate++;
    this.throttled(`rate/${vtep}`, now, out, { type: "event", event: "limit-rate", vni, vtep, mac });
    return false;
  }

  private throttled(key: string, now: number, out: LearnAction[], ev: LearnAction & { type: "event" }): void {
    const t = this.throttles.get(key);
    if (t === undefined) {
      this.throttles.set(key, { last: now, suppressed: 0 });
      out.push(ev);
    } else if (now - t.last >= this.eventMs) {
      out.push({ ...ev, suppressed: t.suppressed });
      t.last = now;
      t.suppressed = 0;
    } else t.suppressed++;
  }

  private count(vtep: string, vni: number, d: number): void {
    const v = (this.perVtep.get(vtep) ?? 0) + d;
    if (v === 0) this.perVtep.delete(vtep);
    else this.perVtep.set(vtep, v);
    this.perVni.set(vni, (this.perVni.get(vni) ?? 0) + d);
  }

  /** Moves the last-seen time; re-queues when the entry is a granule old (or when forced). */
  private refresh(key: string, e: MacEntry, now: number, force = false): void {
    e.lastSeen = now;
    if (!force && now - e.queued < AGE_GRANULARITY_MS) return;
    this.macs.delete(key);
    e.queued = now;
    this.macs.set(key, e);
  }

  private requeueIp(key: string, b: IpBinding, now: number): void {
    this.ips.delete(key);
    b.queued = now;
    this.ips.set(key, b);
  }

  private remove(key: string, e: MacEntry): void {
    this.macs.delete(key);
    for (const i of e.ips) this.ips.delete(`${e.svc.vni}/${i}`);
    e.ips.clear();
    this.count(e.vtep, e.svc.vni, -1);
  }

  private routeKey(e: MacEntry, ip: string | null): RouteKey {
    return { service: e.svc.name, evi: e.svc.evi, vni: e.svc.vni, vtep: e.vtep, mac: e.mac, ip };
  }

  private announceAll(e: MacEntry, out: LearnAction[]): void {
    out.push({ type: "announce", ...this.routeKey(e, null), seq: e.seq, sticky: false });
    for (const ip of [...e.ips].sort())
      out.push({ type: "announce", ...this.routeKey(e, ip), seq: e.seq, sticky: false });
  }

  /** MAC/IP routes first, then the MAC route. */
  private withdrawAll(e: MacEntry, out: LearnAction[]): void {
    for (const ip of [...e.ips].sort()) out.push({ type: "withdraw", ...this.routeKey(e, ip) });
    out.push({ type: "withdraw", ...this.routeKey(e, null) });
  }
}
