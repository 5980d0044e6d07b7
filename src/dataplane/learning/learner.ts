// Data-plane learning, the engine: decoded frames (src/dataplane/packet.ts) and the fabric's view
// in, a table of learned bindings and a list of actions for the daemon out. Pure like the codec:
// no I/O, no timers; time (ms) is passed in and `nextDeadline()` says when `tick()` is due.
//
// Model: one entry per (VNI, MAC) — the MAC's location (a VTEP), the MAC mobility sequence of
// our route, whether our routes are announced — and one binding per (VNI, IP) naming the MAC
// that owns the IP (an IP belongs to one MAC at a time; a new owner takes it over). All routes of
// one MAC (the MAC route and its MAC/IP routes) carry the same sequence number (RFC 7432 §15).
//
// Ageing queues: entries and IP bindings each sit in a queue (an intrusive linked list, see
// SlotQueue) in the order they were last queued. A refresh only re-queues an entry when it is
// at least AGE_GRANULARITY_MS old, so a binding seen again unchanged costs a comparison and two
// stores, and expiry is exact to within AGE_GRANULARITY_MS (never early, at most that late).

import { compareAddresses, formatIpv4, ipBytes, normalizeIp, normalizeMac } from "../../net/addr.js";
import { inPrefix, type Prefix, parsePrefix } from "../../net/prefix.js";
import type { LearnedFrame } from "../../wire/packet.js";
import { InvariantError } from "../../errors.js";

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
  /** Index in `Learner.svcs` (the MAC table's service column). */
  idx: number;
  /** Learned MACs: MAC text (the string the entry keeps) → MAC slot. */
  macs: Map<string, number>;
  /** IP bindings: ipKey → binding slot. */
  ips: Map<number | string, number>;
}

/** A frozen MAC whose entry aged out before the release (only with a clock that went back). */
interface Detached {
  until: number;
  vni: number;
  vtep: string;
  mac: string;
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

function prefixOf(s: string): Prefix {
  const p = parsePrefix(s);
  if (p === null) throw new InvariantError("ERR_LEARN_CONFIG", `allowed-vtep-prefixes: "${s}" is not a CIDR prefix`);
  return p;
}

function canonicalIp(s: string): string {
  const ip = normalizeIp(s);
  if (ip === null) throw new InvariantError("ERR_LEARN_CONFIG", `"${s}" is not an IP address`);
  return ip;
}

/**
 * Key of an IP binding: a canonical dotted quad (what the decoder produces) as its int32 value,
 * a Smi, so no string is kept for it; any other text (IPv6, non-canonical) as itself. The two
 * never collide (a number is not a string) and ipText() gives back the original text.
 */
function ipKey(s: string): number | string {
  const n = s.length;
  if (n < 7 || n > 15) return s;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return s;
      v = (v << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return s; // a leading zero: not canonical
      part = part * 10 + (c - 48);
      if (part > 255) return s;
      digits++;
    } else return s;
  }
  if (digits === 0 || dots !== 3) return s;
  return (v << 8) | part;
}

const V4 = new Uint8Array(4);

function ipText(k: number | string): string {
  if (typeof k === "string") return k;
  V4[0] = k >>> 24;
  V4[1] = k >>> 16;
  V4[2] = k >>> 8;
  V4[3] = k;
  return formatIpv4(V4, 0);
}

const NIL = -1;
const INITIAL_SLOTS = 256;

function growI32(a: Int32Array, n: number) {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

function growF64(a: Float64Array, n: number) {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

/**
 * Slots 0..used-1 of a columnar table, each either free (chained through `next`) or queued in
 * an intrusive doubly linked list in queueing order (`prev`/`next`, head = oldest): the ageing
 * queue. Moving a slot to the tail is O(1) and allocates nothing.
 */
class SlotQueue {
  prev = new Int32Array(INITIAL_SLOTS);
  next = new Int32Array(INITIAL_SLOTS);
  head = NIL;
  tail = NIL;
  private free = NIL;
  private used = 0;

  /** A slot, not queued; the capacity (`prev.length`) doubles when full. */
  alloc(): number {
    const i = this.free;
    if (i !== NIL) {
      this.free = this.next[i]!;
      return i;
    }
    if (this.used === this.prev.length) {
      this.prev = growI32(this.prev, this.used * 2);
      this.next = growI32(this.next, this.used * 2);
    }
    return this.used++;
  }

  /** Returns an unqueued slot. */
  release(i: number): void {
    this.next[i] = this.free;
    this.free = i;
  }

  push(i: number): void {
    const t = this.tail;
    this.prev[i] = t;
    this.next[i] = NIL;
    if (t === NIL) this.head = i;
    else this.next[t] = i;
    this.tail = i;
  }

  unlink(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p === NIL) this.head = n;
    else this.next[p] = n;
    if (n === NIL) this.tail = p;
    else this.prev[n] = p;
  }

  toTail(i: number): void {
    if (i === this.tail) return;
    this.unlink(i);
    this.push(i);
  }
}

/**
 * Memory layout (~200 bytes per MAC with one IPv4 binding, bench/learning-engine.ts): entries
 * and IP bindings are slots in typed-array columns (off the V8 heap), not objects. A MAC costs
 * its text (kept once: the column and the key of its service's `macs` Map share it), a Map
 * entry and ~60 bytes of columns; an IPv4 binding a Map entry keyed by a Smi (see ipKey) and
 * ~36 bytes. Times and sequence numbers are Float64 (exact ms, any 32-bit sequence). Rare state
 * sits in side Maps keyed by slot: moves (only for MACs that moved) and freeze times. A slot is
 * reused only after its entry is gone.
 */
export class Learner {
  private readonly services = new Map<number, Service>();
  private readonly svcs: Service[] = [];
  private readonly prefixes: Prefix[];
  /** VTEP text ↔ index (the MAC table's VTEP column); only VTEPs MACs were learned at. */
  private readonly vtepIds = new Map<string, number>();
  private readonly vtepNames: string[] = [];

  // MAC entries, one slot each; ageing queue in mq.
  private readonly mq = new SlotQueue();
  /** MAC text. */
  private mMac: string[] = [];
  private mSvc = new Int32Array(INITIAL_SLOTS);
  private mVtep = new Int32Array(INITIAL_SLOTS);
  /** Sequence number of our route (when announced) or of the last one we announced. */
  private mSeq = new Float64Array(INITIAL_SLOTS);
  /** Highest sequence seen for the MAC, ours or the fabric's. */
  private mSeen = new Float64Array(INITIAL_SLOTS);
  /** 1: our routes are announced. */
  private mAnn = new Uint8Array(INITIAL_SLOTS);
  private mLast = new Float64Array(INITIAL_SLOTS);
  private mQueued = new Float64Array(INITIAL_SLOTS);
  /** First IP binding (its owner ring, in binding order), or NIL. */
  private mIp = new Int32Array(INITIAL_SLOTS);

  // IP bindings, one slot each; ageing queue in bq.
  private readonly bq = new SlotQueue();
  private bKey: (number | string)[] = [];
  private bOwner = new Int32Array(INITIAL_SLOTS);
  private bQueued = new Float64Array(INITIAL_SLOTS);
  /** Ring of the owner's bindings (circular doubly linked, in binding order). */
  private bOPrev = new Int32Array(INITIAL_SLOTS);
  private bONext = new Int32Array(INITIAL_SLOTS);

  /** MAC slot → time of recent moves (RFC 7432 §15.1 duplicate detection). */
  private readonly moves = new Map<number, number[]>();
  /** MAC slot → frozen until (duplicate); absent: 0. */
  private readonly frozenUntil = new Map<number, number>();
  /** Frozen (duplicate) MACs by `vni/mac`, in release order (one freeze time for all). */
  private readonly frozen = new Map<string, number | Detached>();

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
        idx: this.svcs.length,
        macs: new Map(),
        ips: new Map(),
      };
      for (const v of s.staticVteps) {
        const vtep = canonicalIp(v.address);
        svc.staticVteps.add(vtep);
        for (const m of v.macs) {
          const mac = normalizeMac(m.mac);
          if (mac === null) throw new InvariantError("ERR_LEARN_CONFIG", `"${m.mac}" is not a MAC address`);
          svc.staticMacs.set(mac, vtep);
        }
      }
      this.svcs.push(svc);
      this.services.set(s.vni, svc);
    }
    this.prefixes = cfg.allowedPrefixes.map(prefixOf);
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
    const m = svc.macs.get(mac);
    if (m !== undefined && this.until(m) > now) {
      this.stats.frozenDropped++;
      return out;
    }
    if (m !== undefined && this.mAnn[m] === 1 && this.vtepNames[this.mVtep[m]!] === vtep) {
      // Seen again where we announce it: only the last-seen time moves (and a new IP is bound).
      this.refresh(m, now);
      if (ip !== null) this.learnIp(svc, m, ip, now, out);
      else this.stats.refreshed++;
      return out;
    }
    this.place(svc, m, vtep, mac, ip, now, out);
    return out;
  }

  /** The fabric's best route for a MAC changed: an EVPN VTEP took it over, or released it. */
  remoteChanged(vni: number, mac: string, now: number): LearnAction[] {
    const out: LearnAction[] = [];
    const m = this.services.get(vni)?.macs.get(mac);
    if (m === undefined || this.mAnn[m] !== 1) return out;
    const r = this.fabric.remoteMac(vni, mac);
    if (r === undefined) return out;
    if (r.seq > this.mSeen[m]!) this.mSeen[m] = r.seq;
    if (this.until(m) > now) return out; // duplicate: our routes do not change until released
    const vtep = this.vtepNames[this.mVtep[m]!]!;
    const seq = this.mSeq[m]!;
    if (r.vtep === vtep) {
      // The same location from another proxy: converge on the higher sequence (never lower it).
      if (!r.sticky && r.seq > seq) {
        this.mSeq[m] = r.seq;
        this.stats.adopted++;
        this.announceAll(m, out);
      }
      return out;
    }
    // RFC 7432 §15.1: a route with a higher sequence, or an equal one from a lower VTEP IP, wins;
    // §15.2: a sticky route always does. Ours is withdrawn; the MAC moved.
    if (r.sticky || r.seq > seq || (r.seq === seq && compareAddresses(r.vtep, vtep) < 0)) {
      this.withdrawAll(m, out);
      this.mAnn[m] = 0;
      this.stats.withdrawnByRemote++;
      this.recordMove(m, now, out);
    }
    return out;
  }

  /** Ageing and freeze release. */
  tick(now: number): LearnAction[] {
    const out: LearnAction[] = [];
    for (const [key, ref] of this.frozen) {
      if (typeof ref === "number") {
        if (this.frozenUntil.get(ref)! > now) break;
        this.frozen.delete(key);
        this.frozenUntil.delete(ref);
        this.moves.delete(ref);
        const svc = this.svcs[this.mSvc[ref]!]!;
        out.push({
          type: "event",
          event: "duplicate-released",
          vni: svc.vni,
          vtep: this.vtepOf(ref),
          mac: this.mMac[ref]!,
        });
      } else {
        if (ref.until > now) break;
        this.frozen.delete(key);
        out.push({ type: "event", event: "duplicate-released", vni: ref.vni, vtep: ref.vtep, mac: ref.mac });
      }
    }
    const limit = now - this.ageMs - AGE_GRANULARITY_MS;
    const bq = this.bq;
    for (let b = bq.head; b !== NIL; b = bq.head) {
      if (this.bQueued[b]! > limit) break;
      const m = this.bOwner[b]!;
      if (this.until(m) > now) {
        this.bQueued[b] = now;
        bq.toTail(b);
        continue;
      }
      const ip = ipText(this.bKey[b]!);
      this.dropIp(this.svcs[this.mSvc[m]!]!, b, m);
      if (this.mAnn[m] === 1) out.push(this.withdrawal(m, ip));
      this.stats.agedIps++;
    }
    const mq = this.mq;
    for (let m = mq.head; m !== NIL; m = mq.head) {
      if (this.mQueued[m]! > limit) break;
      if (this.until(m) > now) {
        this.refresh(m, now, true);
        continue;
      }
      if (this.mAnn[m] === 1) this.withdrawAll(m, out);
      this.remove(m);
      this.stats.aged++;
    }
    return out;
  }

  /** When `tick` is next due, or undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    // Called after every learned change: no closure, and the frozen map is iterated only when non-empty.
    let d = Infinity;
    if (this.frozen.size > 0)
      for (const ref of this.frozen.values()) {
        d = typeof ref === "number" ? this.frozenUntil.get(ref)! : ref.until;
        break;
      }
    if (this.bq.head !== NIL) d = Math.min(d, this.bQueued[this.bq.head]! + this.ageMs + AGE_GRANULARITY_MS);
    if (this.mq.head !== NIL) d = Math.min(d, this.mQueued[this.mq.head]! + this.ageMs + AGE_GRANULARITY_MS);
    return d === Infinity ? undefined : d;
  }

  /**
   * A cursor over the routes announced now (a BGP session's initial table): each call appends
   * the announcements of up to `max` MACs to `out` and returns false once every MAC was visited.
   * It holds 4 bytes per MAC; a MAC withdrawn or aged meanwhile is skipped, and one whose slot
   * was reused is announced as it is then (its own change was staged anyway: a repeat at most).
   */
  cursor(): (max: number, out: LearnAction[]) => boolean {
    let n = 0;
    for (let m = this.mq.head; m !== NIL; m = this.mq.next[m]!) if (this.mAnn[m] === 1) n++;
    const slots = new Int32Array(n);
    n = 0;
    for (let m = this.mq.head; m !== NIL; m = this.mq.next[m]!) if (this.mAnn[m] === 1) slots[n++] = m;
    let pos = 0;
    return (max, out) => {
      const end = Math.min(slots.length, pos + max);
      for (; pos < end; pos++) {
        const m = slots[pos]!;
        if (this.mAnn[m] === 1 && this.mMac[m] !== "") this.announceAll(m, out);
      }
      return pos < slots.length;
    };
  }

  /** How many routes are announced: a MAC route per announced MAC and a MAC/IP route per IP. */
  announcedRoutes(): number {
    let n = 0;
    for (let m = this.mq.head; m !== NIL; m = this.mq.next[m]!)
      if (this.mAnn[m] === 1) n += 1 + this.ipCount(m, Infinity);
    return n;
  }

  /** Learned MACs, sorted by VNI then MAC. */
  table(): LearnedBinding[] {
    const rows: LearnedBinding[] = [];
    for (let m = this.mq.head; m !== NIL; m = this.mq.next[m]!) {
      const svc = this.svcs[this.mSvc[m]!]!;
      rows.push({
        service: svc.name,
        vni: svc.vni,
        mac: this.mMac[m]!,
        vtep: this.vtepOf(m),
        ips: this.ipsOf(m).sort(),
        seq: this.mSeq[m]!,
        announced: this.mAnn[m] === 1,
        duplicate: (this.frozenUntil.get(m) ?? 0) > 0,
        lastSeen: this.mLast[m]!,
      });
    }
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
   * The MAC is seen at `vtep`, where we do not announce it: a new MAC (slot `m` undefined), a
   * move, or a MAC coming back after the fabric's route won.
   */
  private place(
    svc: Service,
    m: number | undefined,
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
    const seen = Math.max(m === undefined ? 0 : this.mSeen[m]!, r?.seq ?? 0);
    const at = m === undefined ? undefined : this.vtepOf(m);
    // Where the current best route puts the MAC: ours if announced, else the fabric's.
    const current = m !== undefined && this.mAnn[m] === 1 ? at : r?.vtep;
    let seq: number;
    let move = false;
    if (current === undefined) seq = seen;
    else if (current === vtep)
      seq = seen; // another proxy already announces it here: identical route
    else {
      seq = seen + 1; // RFC 7432 §15.1: a move; sequence = highest seen + 1
      move = true;
    }
    if (at !== vtep && !this.admitMac(svc, vtep, mac, m === undefined, now, out)) return;
    if (!this.takeToken(vtep, now, svc.vni, mac, out)) return;
    let old: LearnAction[] | undefined;
    if (m === undefined) {
      m = this.allocMac();
      this.mMac[m] = mac;
      this.mSvc[m] = svc.idx;
      this.mVtep[m] = this.vtepId(vtep);
      this.mSeq[m] = seq;
      this.mSeen[m] = seq;
      this.mAnn[m] = 0;
      this.mLast[m] = now;
      this.mQueued[m] = now;
      this.mIp[m] = NIL;
      this.mq.push(m);
      svc.macs.set(mac, m);
      this.count(vtep, svc.vni, 1);
      this.stats.learned++;
    } else {
      if (move && this.recordMove(m, now, out)) return; // now a duplicate: the change is not announced
      if (this.mAnn[m] === 1) {
        old = [];
        this.withdrawAll(m, old);
      }
      // The MAC's IP bindings move with it: its MAC/IP routes follow at the new sequence.
      if (at !== vtep) {
        this.count(at!, svc.vni, -1);
        this.count(vtep, svc.vni, 1);
        this.mVtep[m] = this.vtepId(vtep);
      }
      this.mSeq[m] = seq;
      if (seq > this.mSeen[m]!) this.mSeen[m] = seq;
      this.refresh(m, now, true);
    }
    if (move) this.stats.moves++;
    this.mAnn[m] = 1;
    out.push(this.announcement(m, null));
    if (this.mIp[m] !== NIL) for (const i of this.ipsOf(m)) out.push(this.announcement(m, i));
    if (ip !== null) this.learnIp(svc, m, ip, now, out, false);
    if (old !== undefined) for (const a of old) out.push(a); // make before break: the new location first, then the old routes go
  }

  /** Binds `ip` to the announced entry `m` (the MAC/IP route), or refreshes the binding. */
  private learnIp(svc: Service, m: number, ip: string, now: number, out: LearnAction[], rate = true): void {
    const key = ipKey(ip);
    let b = svc.ips.get(key);
    if (b !== undefined && this.bOwner[b] === m) {
      if (now - this.bQueued[b]! >= AGE_GRANULARITY_MS) {
        this.bQueued[b] = now;
        this.bq.toTail(b);
      }
      this.stats.refreshed++;
      return;
    }
    if (this.maxIps > 0 && this.ipCount(m, this.maxIps) >= this.maxIps) {
      const mac = this.mMac[m]!;
      this.stats.limitIps++;
      this.throttled(`ips/${svc.vni}/${mac}`, now, out, {
        type: "event",
        event: "limit-ips",
        vni: svc.vni,
        vtep: this.vtepOf(m),
        mac,
      });
      return;
    }
    if (rate && !this.takeToken(this.vtepOf(m), now, svc.vni, this.mMac[m]!, out)) return;
    if (b !== undefined) {
      // The IP moved to another MAC: its old MAC/IP route goes; the binding's slot is reused.
      const o = this.bOwner[b]!;
      this.ringDel(o, b);
      this.bq.unlink(b);
      if (this.mAnn[o] === 1) out.push(this.withdrawal(o, ip));
      this.stats.ipMoves++;
    } else {
      b = this.allocIp();
      this.bKey[b] = key;
      svc.ips.set(key, b);
    }
    this.bOwner[b] = m;
    this.bQueued[b] = now;
    this.bq.push(b);
    this.ringAdd(m, b);
    this.stats.learnedIps++;
    out.push(this.announcement(m, ip));
  }

  /**
   * RFC 7432 §15.1 duplicate detection: more than max-moves moves within move-window-seconds
   * freeze the MAC for freeze-seconds. True when this move made it a duplicate.
   */
  private recordMove(m: number, now: number, out: LearnAction[]): boolean {
    const from = now - this.cfg.moveWindowSeconds * 1000;
    let moves = this.moves.get(m);
    if (moves === undefined) {
      moves = [];
      this.moves.set(m, moves);
    }
    let i = 0;
    while (i < moves.length && moves[i]! <= from) i++;
    if (i > 0) moves.splice(0, i);
    moves.push(now);
    if (moves.length <= this.cfg.maxMoves) return false;
    const svc = this.svcs[this.mSvc[m]!]!;
    const key = `${svc.vni}/${this.mMac[m]}`;
    this.frozenUntil.set(m, now + this.cfg.freezeSeconds * 1000);
    this.frozen.delete(key);
    this.frozen.set(key, m);
    this.stats.duplicates++;
    out.push({ type: "event", event: "duplicate", vni: svc.vni, vtep: this.vtepOf(m), mac: this.mMac[m]! });
    return true;
  }

  /** The per-VTEP and per-VNI MAC limits for a MAC arriving at `vtep`. */
  private admitMac(svc: Service, vtep: string, mac: string, isNew: boolean, now: number, out: LearnAction[]): boolean {
    const maxV = this.cfg.maxMacsPerVtep;
    if (maxV > 0 && (this.perVtep.get(vtep) ?? 0) >= maxV) {
      this.stats.limitVtep++;
      this.throttled(`vtep/${vtep}`, now, out, { type: "event", event: "limit-vtep", vni: svc.vni, vtep, mac });
      return false;
    }
    const maxN = this.cfg.maxMacsPerVni;
    // A MAC already in this VNI (moving between VTEPs) does not add to the VNI's count.
    if (maxN > 0 && isNew && (this.perVni.get(svc.vni) ?? 0) >= maxN) {
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

  /** Frozen-until time of MAC slot `m` (0: not a duplicate). */
  private until(m: number): number {
    return this.frozenUntil.size === 0 ? 0 : (this.frozenUntil.get(m) ?? 0);
  }

  /** Moves the last-seen time; re-queues when the entry is a granule old (or when forced). */
  private refresh(m: number, now: number, force = false): void {
    this.mLast[m] = now;
    if (!force && now - this.mQueued[m]! < AGE_GRANULARITY_MS) return;
    this.mQueued[m] = now;
    this.mq.toTail(m);
  }

  private remove(m: number): void {
    const svc = this.svcs[this.mSvc[m]!]!;
    const mac = this.mMac[m]!;
    const vtep = this.vtepOf(m);
    svc.macs.delete(mac);
    this.mq.unlink(m);
    for (let b = this.mIp[m]!; b !== NIL; b = this.mIp[m]!) this.dropIp(svc, b, m);
    this.count(vtep, svc.vni, -1);
    this.moves.delete(m);
    const until = this.frozenUntil.get(m);
    if (until !== undefined) {
      // Still queued for release (a clock that went back): the release event names this entry.
      this.frozenUntil.delete(m);
      this.frozen.set(`${svc.vni}/${mac}`, { until, vni: svc.vni, vtep, mac });
    }
    this.mMac[m] = "";
    this.mq.release(m);
  }

  /** Unbinds binding `b` of MAC slot `m` and frees its slot. */
  private dropIp(svc: Service, b: number, m: number): void {
    svc.ips.delete(this.bKey[b]!);
    this.bq.unlink(b);
    this.ringDel(m, b);
    this.bKey[b] = 0;
    this.bq.release(b);
  }

  private allocMac(): number {
    const m = this.mq.alloc();
    const cap = this.mSvc.length;
    if (m === cap) {
      const n = cap * 2;
      this.mSvc = growI32(this.mSvc, n);
      this.mVtep = growI32(this.mVtep, n);
      this.mSeq = growF64(this.mSeq, n);
      this.mSeen = growF64(this.mSeen, n);
      const ann = new Uint8Array(n);
      ann.set(this.mAnn);
      this.mAnn = ann;
      this.mLast = growF64(this.mLast, n);
      this.mQueued = growF64(this.mQueued, n);
      this.mIp = growI32(this.mIp, n);
    }
    if (m === this.mMac.length) this.mMac.push("");
    return m;
  }

  private allocIp(): number {
    const b = this.bq.alloc();
    const cap = this.bOwner.length;
    if (b === cap) {
      const n = cap * 2;
      this.bOwner = growI32(this.bOwner, n);
      this.bQueued = growF64(this.bQueued, n);
      this.bOPrev = growI32(this.bOPrev, n);
      this.bONext = growI32(this.bONext, n);
    }
    if (b === this.bKey.length) this.bKey.push(0);
    return b;
  }

  private vtepId(vtep: string): number {
    let i = this.vtepIds.get(vtep);
    if (i === undefined) {
      i = this.vtepNames.length;
      this.vtepNames.push(vtep);
      this.vtepIds.set(vtep, i);
    }
    return i;
  }

  private vtepOf(m: number): string {
    return this.vtepNames[this.mVtep[m]!]!;
  }

  /** Appends binding `b` to the ring of MAC slot `m` (kept in binding order). */
  private ringAdd(m: number, b: number): void {
    const h = this.mIp[m]!;
    if (h === NIL) {
      this.mIp[m] = b;
      this.bOPrev[b] = b;
      this.bONext[b] = b;
    } else {
      const t = this.bOPrev[h]!;
      this.bONext[t] = b;
      this.bOPrev[b] = t;
      this.bONext[b] = h;
      this.bOPrev[h] = b;
    }
  }

  private ringDel(m: number, b: number): void {
    const n = this.bONext[b]!;
    if (n === b) {
      this.mIp[m] = NIL;
      return;
    }
    const p = this.bOPrev[b]!;
    this.bONext[p] = n;
    this.bOPrev[n] = p;
    if (this.mIp[m] === b) this.mIp[m] = n;
  }

  /** IPs bound to MAC slot `m`, in binding order. */
  private ipsOf(m: number): string[] {
    const ips: string[] = [];
    const h = this.mIp[m]!;
    if (h !== NIL)
      for (let b = h; ;) {
        ips.push(ipText(this.bKey[b]!));
        b = this.bONext[b]!;
        if (b === h) break;
      }
    return ips;
  }

  /** Number of IPs bound to MAC slot `m`, counted up to `max`. */
  private ipCount(m: number, max: number): number {
    const h = this.mIp[m]!;
    if (h === NIL) return 0;
    let n = 1;
    for (let b = this.bONext[h]!; b !== h && n < max; b = this.bONext[b]!) n++;
    return n;
  }

  private announcement(m: number, ip: string | null): LearnAction {
    const svc = this.svcs[this.mSvc[m]!]!;
    return {
      type: "announce",
      service: svc.name,
      evi: svc.evi,
      vni: svc.vni,
      vtep: this.vtepOf(m),
      mac: this.mMac[m]!,
      ip,
      seq: this.mSeq[m]!,
      sticky: false,
    };
  }

  private withdrawal(m: number, ip: string | null): LearnAction {
    const svc = this.svcs[this.mSvc[m]!]!;
    return {
      type: "withdraw",
      service: svc.name,
      evi: svc.evi,
      vni: svc.vni,
      vtep: this.vtepOf(m),
      mac: this.mMac[m]!,
      ip,
    };
  }

  private announceAll(m: number, out: LearnAction[]): void {
    out.push(this.announcement(m, null));
    for (const ip of this.ipsOf(m).sort()) out.push(this.announcement(m, ip));
  }

  /** MAC/IP routes first, then the MAC route. */
  private withdrawAll(m: number, out: LearnAction[]): void {
    for (const ip of this.ipsOf(m).sort()) out.push(this.withdrawal(m, ip));
    out.push(this.withdrawal(m, null));
  }
}
