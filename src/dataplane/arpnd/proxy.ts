// The RFC 9161 proxy ARP/ND table of every service (keyed by VNI), pure: bindings, requests and
// the time (ms) in; decisions, actions and a read model out. No I/O, no timers: `nextDeadline()`
// says when `tick()` is due.
//
// Inputs and what the caller feeds them (it decodes; RFC 9161 §3.2.1):
//  - learn(): the sender of an ARP request or reply, and the target of an NA carrying the target
//    link-layer address option (its R and O flags with it). Never an ARP probe (sender 0.0.0.0:
//    it binds nothing), never an NS (its source link-layer address says nothing about the target,
//    and a DAD NS comes from ::). learnsFrom() states this for a decoded frame.
//  - gratuitous(): a gratuitous ARP (sender IP = target IP) or an unsolicited NA: learned, then
//    flooded or not (flood-gratuitous).
//  - request(): an ARP request or an NS for a target address, probes included (ARP sender IP
//    0.0.0.0, DAD NS from ::): answering them is what lets duplicate address detection see that
//    the address is taken (RFC 9161 §3.2; RFC 5227, RFC 4862 §5.4). For a DAD NS the caller
//    sends the NA to all-nodes (RFC 4861 §7.2.4).
//  - evpn() / evpnWithdraw(): MAC/IP routes received (next hop = vtep, MAC mobility sequence,
//    RFC 9047 flags), each add and withdrawal; after withdrawing the route held for an IP, the
//    caller feeds any other route still in its RIB for that IP again.
//  - locate(): where a static entry's MAC sits (learning or configuration).
// Actions of the hot-path inputs (learn, gratuitous, request, evpn, evpnWithdraw, locate) wait in
// a queue that drain(), tick() and reconfigure() hand over.
//
// Precedence (RFC 9161 §3): static > EVPN > dynamic; a dynamic binding takes over an EVPN one
// only with a sequence at least as high (RFC 7432 §15) and never an immutable one (RFC 9047);
// nothing learned overrides a static entry (a spoofed ARP is refused, counted, and its frame
// should not be flooded). The EVPN route held for an IP comes back when what was above it goes.

import { compareAddresses } from "../../net/addr.js";
import { DROP, FLOOD, type Unanswered } from "./decisions.js";
import { Duplicates } from "./duplicates.js";
import { GarpPacer, SourceLimits } from "./limits.js";
import { NIL } from "../learning/slot-queue.js";
import { type Compiled, type CompiledService, compile, type ProxySettings } from "./settings.js";
import { AGE_GRANULARITY_MS, DYNAMIC, EVPN, ipKey, ProxyTable, SOURCE_NAMES, STATIC, type Svc } from "./table.js";
import {
  type ArpNdAction,
  type ArpNdCounters,
  type Decision,
  type EntryCounts,
  type EntryPage,
  type EntrySource,
  FLAG_IMMUTABLE,
  FLAG_OVERRIDE,
  FLAG_ROUTER,
  type LearnResult,
  newCounters,
  type ProxyEntryRow,
  type ReplyDecision,
} from "./types.js";

export { learnsFrom } from "./decisions.js";
export type { ProxySettings } from "./settings.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ArpNdProxy {
  private readonly t = new ProxyTable();
  private readonly stats = newCounters();
  private readonly dups = new Duplicates(this.t, this.stats);
  private readonly lim = new SourceLimits(this.stats);
  private readonly garps = new GarpPacer(this.t);
  private readonly services = new Map<number, Svc>();
  private ageMs = 0;
  private halfMs = 0;
  private pending: ArpNdAction[] = [];
  private readonly answer: Mutable<ReplyDecision> = {
    kind: "reply",
    ip: "",
    mac: "",
    vtep: undefined,
    router: false,
    override: false,
    source: "dynamic",
  };
  private readonly announce = (i: number) => this.garpOf(i);

  /** Throws ProxyError ERR_ARPND_CONFIG on a bad setting. Static entries' announcements are due at once. */
  constructor(settings: ProxySettings, now = 0) {
    this.apply(compile(settings), now);
  }

  /** Actions waiting since the last hand-over (events of the hot-path inputs). */
  drain(): ArpNdAction[] {
    const out = this.pending;
    if (out.length > 0) this.pending = [];
    return out;
  }

  /** A binding seen in ARP or an NA (see the header for which); `flags`: FLAG_ROUTER | FLAG_OVERRIDE. */
  learn(vni: number, ip: string, mac: string, vtep: string, flags: number, seq: number, now: number): LearnResult {
    const s = this.services.get(vni);
    if (s === undefined) {
      this.stats.unknownVni++;
      return "unknown-vni";
    }
    const t = this.t;
    const key = ipKey(ip);
    const i = s.ips.get(key);
    const f = flags & (FLAG_ROUTER | FLAG_OVERRIDE); // a learned binding is never immutable
    if (i === undefined) {
      if (!this.admit(s, ip, mac, vtep, "dynamic", now)) return "limit";
      t.setDynamic(t.alloc(s, key), mac, t.vtepId(vtep), f, seq, now);
      this.stats.learned++;
      return "learned";
    }
    const src = t.src[i];
    if (src === STATIC) {
      if (t.mac[i] === mac) {
        this.stats.staticSeen++;
        return "static";
      }
      this.stats.refusedStatic++;
      this.refused(s, ip, mac, vtep, now);
      return "spoofed";
    }
    const v = t.vtepId(vtep);
    if (src === DYNAMIC && t.mac[i] === mac) {
      t.flags[i] = f;
      t.seq[i] = seq;
      if (t.vtep[i] === v) {
        t.touch(i, now);
        this.stats.refreshed++;
        return "refreshed";
      }
      t.vtep[i] = v; // the host moved: its IP did not
      t.touch(i, now, true);
      this.stats.relocated++;
      return "relocated";
    }
    if (t.dup[i] === 1) {
      this.stats.refusedDuplicate++;
      return "duplicate";
    }
    if (src === EVPN) {
      if (t.mac[i] !== mac && (t.flags[i]! & FLAG_IMMUTABLE) !== 0) {
        this.stats.refusedImmutable++;
        this.refused(s, ip, mac, vtep, now);
        return "spoofed";
      }
      if (seq < t.eSeq[i]!) {
        this.stats.refusedSequence++;
        return "evpn-newer";
      }
      if (t.mac[i] === mac) {
        // The same binding seen here: answered as dynamic (refreshed, aged); the route stays held.
        t.setDynamic(i, mac, v, f, seq, now);
        this.stats.learned++;
        return "learned";
      }
    }
    // RFC 9161 §3.7: the IP's MAC changes.
    const oldMac = t.mac[i]!;
    const oldVtep = t.vtep[i]!;
    if (this.dups.recordMove(i, now, this.pending, mac, vtep)) return "duplicate";
    if (oldVtep !== NIL && this.dups.mayConfirm(i, now)) {
      this.stats.confirms++;
      this.pending.push({ type: "refresh", reason: "confirm", vni, ip, mac: oldMac, vtep: t.vtepNames[oldVtep]! });
    }
    t.setDynamic(i, mac, v, f, seq, now);
    return "moved";
  }

  /**
   * A gratuitous ARP or unsolicited NA: learned, then flooded when flood-gratuitous is on (and
   * the source is within its rate). One contradicting a static or immutable entry is dropped.
   */
  gratuitous(vni: number, ip: string, mac: string, vtep: string, flags: number, seq: number, now: number): Decision {
    this.stats.gratuitous++;
    const r = this.learn(vni, ip, mac, vtep, flags, seq, now);
    if (r === "unknown-vni") return DROP["unknown-vni"];
    if (r === "spoofed") {
      this.stats.dropSpoofed++;
      return DROP.spoofed;
    }
    if (!this.services.get(vni)!.cfg.floodGratuitous) {
      this.stats.dropGratuitous++;
      return DROP.gratuitous;
    }
    if (!this.lim.take(mac, vni, now, this.pending)) return DROP.rate;
    this.stats.floodGratuitous++;
    return FLOOD.gratuitous;
  }

  /**
   * An ARP request or NS for `targetIp` from `requesterVtep`; `source` is the requester's MAC
   * (canonical text), the key of its rate bucket. O(1), allocation-free: the reply object is
   * reused (read it before the next call).
   */
  request(vni: number, targetIp: string, requesterVtep: string, source: string, now: number): Decision {
    this.stats.requests++;
    const s = this.services.get(vni);
    if (s === undefined) {
      this.stats.unknownVni++;
      return DROP["unknown-vni"];
    }
    const t = this.t;
    const i = s.ips.get(ipKey(targetIp));
    if (i === undefined) return this.unanswered(s, "unknown", source, now);
    // RFC 9161 §3.7: a duplicate IP is not answered; the proxy stops vouching for either claimant
    // and the request goes where it would go without a proxy (both claimants answer), unless
    // flood-unknown is off. Dropping would let one spoofing host silence a genuine one.
    if (t.dup[i] === 1) return this.unanswered(s, "duplicate", source, now);
    const mac = t.mac[i]!;
    // A host asking for its own address (a DAD probe after a restart): answering with its own
    // MAC would make it see a conflict; other claimants, if any, must answer instead.
    if (mac === source) return this.unanswered(s, "self", source, now);
    const v = t.vtep[i]!;
    const vtep = v === NIL ? undefined : t.vtepNames[v];
    // RFC 9161 §3.2: no reply towards where the entry was learned. The requesting VTEP already
    // delivered the broadcast to its own ports, where the target answers itself; flooding it to
    // the other VTEPs would be the very flood the proxy suppresses, as the IP is known to be there.
    if (vtep === requesterVtep) {
      this.stats.dropLocal++;
      return DROP.local;
    }
    const a = this.answer;
    const f = t.flags[i]!;
    a.ip = targetIp;
    a.mac = mac;
    a.vtep = vtep;
    a.router = (f & FLAG_ROUTER) !== 0;
    a.override = (f & FLAG_OVERRIDE) !== 0;
    a.source = SOURCE_NAMES[t.src[i]!]!;
    this.stats.replies++;
    return a;
  }

  /**
   * A MAC/IP route received (or replaced): next hop `vtep`, MAC mobility sequence `seq` (0 when
   * the community is absent), RFC 9047 `flags`. The best of several routes for one IP is the one
   * with the highest sequence, then the lower VTEP address (RFC 7432 §15.1).
   */
  evpn(vni: number, ip: string, mac: string, vtep: string, seq: number, flags: number, now: number): void {
    const s = this.services.get(vni);
    if (s === undefined) {
      this.stats.unknownVni++;
      return;
    }
    const t = this.t;
    const key = ipKey(ip);
    let i = s.ips.get(key);
    const v = t.vtepId(vtep);
    const f = flags & (FLAG_ROUTER | FLAG_OVERRIDE | FLAG_IMMUTABLE);
    if (i === undefined) {
      if (!this.admit(s, ip, mac, vtep, "evpn", now)) return;
      i = t.alloc(s, key);
      this.hold(i, mac, v, seq, f);
      t.activateEvpn(i);
      this.garps.push(i);
      this.stats.evpnAdded++;
      return;
    }
    if (t.hasE[i] === 1) {
      const same = t.eMac[i] === mac && t.eVtep[i] === v;
      const eSeq = t.eSeq[i]!;
      if (!same && !(seq > eSeq || (seq === eSeq && compareAddresses(vtep, t.vtepNames[t.eVtep[i]!]!) < 0))) {
        this.stats.evpnIgnored++;
        return;
      }
      this.stats.evpnUpdated++;
    } else this.stats.evpnAdded++;
    this.hold(i, mac, v, seq, f);
    const src = t.src[i];
    if (src === STATIC) {
      if (mac !== t.mac[i]) {
        this.stats.evpnUnderStatic++;
        this.refused(s, ip, mac, vtep, now, "evpn");
      }
      return;
    }
    // A dynamic binding that agrees with the route, or is newer, stays answered; the route is held.
    if (src === DYNAMIC && ((mac === t.mac[i] && v === t.vtep[i]) || seq < t.seq[i]!)) return;
    const exempt = ((f | t.flags[i]!) & FLAG_IMMUTABLE) !== 0 || t.dup[i] === 1;
    if (mac !== t.mac[i] && !exempt) this.dups.recordMove(i, now, this.pending, mac, vtep);
    if (t.activateEvpn(i)) this.garps.push(i);
  }

  /** A MAC/IP route withdrawn: the entry goes if it was that route's (static and dynamic ones stay). */
  evpnWithdraw(vni: number, ip: string, mac: string, vtep: string): void {
    const t = this.t;
    const i = this.services.get(vni)?.ips.get(ipKey(ip));
    if (i === undefined || t.hasE[i] !== 1 || t.eMac[i] !== mac || t.vtepNames[t.eVtep[i]!] !== vtep) {
      this.stats.evpnWithdrawIgnored++;
      return;
    }
    this.stats.evpnWithdrawn++;
    t.hasE[i] = 0;
    t.eMac[i] = "";
    if (t.src[i] === EVPN) this.remove(i);
  }

  /** Where `mac` sits (undefined: unknown); static entries with that MAC answer from there. */
  locate(vni: number, mac: string, vtep: string | undefined): void {
    const s = this.services.get(vni);
    const at = s?.located.get(mac);
    if (s === undefined || at === undefined) return; // not a static MAC
    const t = this.t;
    const v = vtep === undefined ? NIL : t.vtepId(vtep);
    if (v === at) return;
    s.located.set(mac, v);
    for (const e of s.cfg.byMac.get(mac)!) {
      const i = s.ips.get(ipKey(e.ip))!;
      if (t.activateStatic(i, e, v)) this.garps.push(i);
    }
  }

  /**
   * Applies new settings from `now`: what stays configured keeps its entries (and duplicate
   * states); a service gone takes its entries with it; a static entry gone leaves the EVPN route
   * held for its IP answered, if any. Throws ProxyError ERR_ARPND_CONFIG before changing anything.
   * A lowered entry limit applies to new entries only. Returns the pending actions.
   */
  reconfigure(settings: ProxySettings, now: number): ArpNdAction[] {
    this.apply(compile(settings), now);
    return this.drain();
  }

  /**
   * Refreshes (RFC 9161 §3.5) and age-outs due by `now`, at most `budget` of them (the rest stay
   * due), duplicate releases, paced gratuitous announcements. Returns the pending actions.
   */
  tick(now: number, budget = Infinity): ArpNdAction[] {
    const out = this.pending;
    this.dups.release(now, out);
    const t = this.t;
    const g = AGE_GRANULARITY_MS;
    let n = 0;
    for (let i = t.fresh.head; i !== NIL && n < budget; i = t.fresh.head) {
      if (t.queued[i]! + this.halfMs + g > now) break;
      n++;
      if (t.dup[i] === 1) {
        t.requeue(i, now); // a duplicate keeps its binding until released
        continue;
      }
      const b = t.binding(i);
      out.push({ type: "refresh", reason: "refresh", vni: b.vni, ip: b.ip, mac: b.mac, vtep: b.vtep! });
      this.stats.refreshes++;
      t.toStale(i);
    }
    for (let i = t.stale.head; i !== NIL && n < budget; i = t.stale.head) {
      if (t.queued[i]! + this.ageMs + g > now) break;
      n++;
      if (t.dup[i] === 1) {
        t.requeue(i, now);
        continue;
      }
      this.stats.aged++;
      if (t.hasE[i] === 1) {
        if (t.activateEvpn(i)) this.garps.push(i);
      } else this.remove(i);
    }
    this.garps.drain(now, this.announce);
    return this.drain();
  }

  /** When `tick` is next due (it may be in the past), or undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    const t = this.t;
    const g = AGE_GRANULARITY_MS;
    let d = Math.min(this.dups.nextRelease(), this.garps.next());
    if (t.fresh.head !== NIL) d = Math.min(d, t.queued[t.fresh.head]! + this.halfMs + g);
    if (t.stale.head !== NIL) d = Math.min(d, t.queued[t.stale.head]! + this.ageMs + g);
    return d === Infinity ? undefined : d;
  }

  /**
   * A page of a service's entries, in slot order, from `cursor` (0: the first page); `next` is
   * the cursor of the following page. An entry added or removed meanwhile may be missed or seen
   * in a later page, never twice in one.
   */
  entries(vni: number, cursor = 0, limit = 100): EntryPage | undefined {
    const s = this.services.get(vni);
    if (s === undefined) return undefined;
    const t = this.t;
    const rows: ProxyEntryRow[] = [];
    const n = t.key.length;
    let i = Math.max(0, Math.floor(cursor));
    for (; i < n && rows.length < limit; i++) if (t.src[i] !== 0 && t.svc[i] === s.idx) rows.push(this.row(i));
    return { rows, next: i < n ? i : undefined };
  }

  /** The entry of `ip` in a service. */
  entry(vni: number, ip: string): ProxyEntryRow | undefined {
    const i = this.services.get(vni)?.ips.get(ipKey(ip));
    return i === undefined ? undefined : this.row(i);
  }

  counts(vni: number): EntryCounts | undefined {
    const s = this.services.get(vni);
    if (s === undefined) return undefined;
    return { static: s.count[STATIC], evpn: s.count[EVPN], dynamic: s.count[DYNAMIC], duplicate: this.dups.count(s) };
  }

  counters(): Readonly<ArpNdCounters> {
    return { ...this.stats };
  }

  /** Entries of every service. */
  size(): number {
    let n = 0;
    for (const s of this.services.values()) n += s.ips.size;
    return n;
  }

  // ---- internals ----------------------------------------------------------------------------

  private unanswered(s: Svc, why: Unanswered, source: string, now: number): Decision {
    const c = this.stats;
    if (!s.cfg.floodUnknown) {
      if (why === "unknown") c.dropUnknown++;
      else if (why === "duplicate") c.dropDuplicate++;
      else c.dropSelf++;
      return DROP[why];
    }
    if (!this.lim.take(source, s.cfg.vni, now, this.pending)) return DROP.rate;
    if (why === "unknown") c.floodUnknown++;
    else if (why === "duplicate") c.floodDuplicate++;
    else c.floodSelf++;
    return FLOOD[why];
  }

  /** The service's entry limit (static entries not counted) for a new entry. */
  private admit(s: Svc, ip: string, mac: string, vtep: string, source: EntrySource, now: number): boolean {
    const max = s.cfg.maxEntries;
    if (max <= 0 || s.ips.size - s.count[STATIC] < max) return true;
    this.stats.limit++;
    const vni = s.cfg.vni;
    this.lim.event(`limit/${vni}`, now, this.pending, { type: "event", event: "limit", vni, ip, mac, vtep, source });
    return false;
  }

  /** A binding refused by a static or immutable entry: throttled per VNI (spoofed sources cannot grow it). */
  private refused(s: Svc, ip: string, mac: string, vtep: string, now: number, source: EntrySource = "dynamic"): void {
    const vni = s.cfg.vni;
    const ev = { type: "event", event: "static-override-refused", vni, ip, mac, vtep, source } as const;
    this.lim.event(`static/${vni}`, now, this.pending, ev);
  }

  /** Holds route (mac, vtep, seq, flags) for slot `i`. */
  private hold(i: number, mac: string, v: number, seq: number, flags: number): void {
    const t = this.t;
    t.hasE[i] = 1;
    t.eMac[i] = mac;
    t.eVtep[i] = v;
    t.eSeq[i] = seq;
    t.eFlags[i] = flags;
  }

  private remove(i: number): void {
    this.dups.forget(i);
    this.t.free(i);
  }

  /** The gratuitous announcement of slot `i`, if it still is a static or EVPN entry answered. */
  private garpOf(i: number): boolean {
    const t = this.t;
    const src = t.src[i];
    if ((src !== STATIC && src !== EVPN) || t.dup[i] === 1) return false;
    const f = t.flags[i]!;
    const router = (f & FLAG_ROUTER) !== 0;
    this.pending.push({ type: "garp", ...t.binding(i), router, override: (f & FLAG_OVERRIDE) !== 0 });
    this.stats.garps++;
    return true;
  }

  private row(i: number): ProxyEntryRow {
    const t = this.t;
    const f = t.flags[i]!;
    const src = t.src[i]!;
    return {
      ...t.binding(i),
      source: SOURCE_NAMES[src]!,
      router: (f & FLAG_ROUTER) !== 0,
      override: (f & FLAG_OVERRIDE) !== 0,
      immutable: (f & FLAG_IMMUTABLE) !== 0,
      seq: t.seq[i]!,
      lastSeen: src === DYNAMIC ? t.seen[i] : undefined,
      duplicateUntil: this.dups.until(i),
      evpn:
        t.hasE[i] === 1 && src !== EVPN
          ? { mac: t.eMac[i]!, vtep: t.vtepNames[t.eVtep[i]!]!, seq: t.eSeq[i]! }
          : undefined,
    };
  }

  private apply(c: Compiled, now: number): void {
    const t = this.t;
    this.ageMs = c.ageMs;
    this.halfMs = c.ageMs / 2; // RFC 9161 §3.5: refresh well before the entry ages out
    this.lim.configure(c);
    this.garps.configure(c);
    const old = new Map(this.services);
    const next = c.services.map((sc, idx): [Svc, CompiledService | undefined] => {
      const s = old.get(sc.vni);
      if (s === undefined)
        return [{ cfg: sc, idx, ips: new Map(), located: new Map(), count: [0, 0, 0, 0] }, undefined];
      old.delete(sc.vni);
      return [s, sc];
    });
    for (const s of old.values()) {
      for (const i of [...s.ips.values()]) {
        this.remove(i);
        this.stats.reloadRemoved++;
      }
      this.dups.dropService(s);
    }
    next.forEach(([s], idx) => (s.idx = idx));
    t.setServices(next.map(([s]) => s));
    this.services.clear();
    for (const [s, sc] of next) {
      this.services.set(s.cfg.vni, s);
      if (sc !== undefined) {
        const was = s.cfg;
        s.cfg = sc;
        this.restate(s, was);
        this.dups.configure(s, now);
      } else this.restate(s, undefined);
    }
  }

  /** A service takes its (new) static entries; `was`: its previous settings. */
  private restate(s: Svc, was: CompiledService | undefined): void {
    const t = this.t;
    const located = new Map<string, number>();
    for (const mac of s.cfg.byMac.keys()) located.set(mac, s.located.get(mac) ?? NIL);
    s.located = located;
    if (was !== undefined)
      for (const ip of was.statics.keys()) {
        if (s.cfg.statics.has(ip)) continue;
        const i = s.ips.get(ipKey(ip));
        if (i === undefined || t.src[i] !== STATIC) continue;
        if (t.hasE[i] === 1) {
          if (t.activateEvpn(i)) this.garps.push(i);
        } else {
          this.remove(i);
          this.stats.reloadRemoved++;
        }
      }
    for (const e of s.cfg.statics.values()) {
      const key = ipKey(e.ip);
      let i = s.ips.get(key);
      if (i === undefined) i = t.alloc(s, key);
      else if (t.src[i] !== STATIC) this.dups.forget(i); // static entries are exempt from duplicate detection
      if (t.activateStatic(i, e, located.get(e.mac)!)) this.garps.push(i);
    }
  }
}
