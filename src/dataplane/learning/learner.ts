// Data-plane learning, the engine: decoded frames (src/wire/packet.ts) and the fabric's view in,
// a table of learned bindings and a list of actions for the daemon out. Pure like the codec:
// no I/O, no timers; time (ms) is passed in and `nextDeadline()` says when `tick()` is due.
//
// Model: one entry per (VNI, MAC) — the MAC's location (a VTEP), the MAC mobility sequence of
// our route, whether our routes are announced — and one binding per (VNI, IP) naming the MAC
// that owns the IP (an IP belongs to one MAC at a time; a new owner takes it over). All routes of
// one MAC (the MAC route and its MAC/IP routes) carry the same sequence number (RFC 7432 §15).
// Storage: table.ts; sequence decisions and duplicates: mobility.ts; limits: limits.ts.
//
// Ageing queues: entries and IP bindings each sit in a queue (see SlotQueue) in the order they
// were last queued. A refresh only re-queues an entry when it is at least AGE_GRANULARITY_MS
// old, so a binding seen again unchanged costs a comparison and two stores, and expiry is exact
// to within AGE_GRANULARITY_MS (never early, at most that late).

import type { Prefix } from "../../net/prefix.js";
import type { LearnedFrame } from "../../wire/packet.js";
import { Limits } from "./limits.js";
import { Mobility, remoteWins, sequenceAt } from "./mobility.js";
import { type BindingRecord, type RecordCursor, recordCursor, type RestoreReport, restoreRecords } from "./persist.js";
import { compile, discoverable, identity } from "./settings.js";
import { NIL } from "./slot-queue.js";
import { ipKey, ipText, LearnTable } from "./table.js";
import {
  AGE_GRANULARITY_MS,
  type FabricView,
  type LearnAction,
  type LearnConfig,
  type LearnCounters,
  type LearnedBinding,
  newCounters,
  type Service,
} from "./types.js";

export { AGE_GRANULARITY_MS } from "./types.js";
export type { FabricView, LearnAction, LearnConfig, LearnCounters, LearnedBinding, LearnEventKind } from "./types.js";
export type { BindingRecord, RecordCursor, RestoreDrop, RestoreReport, SavedIp } from "./persist.js";

export class Learner {
  private cfg: LearnConfig;
  /** Services by VNI. */
  private readonly services = new Map<number, Service>();
  private prefixes: Prefix[];
  private ageMs: number;
  private readonly t = new LearnTable();
  private readonly stats = newCounters();
  private readonly lim = new Limits(this.t, this.stats);
  private readonly mob = new Mobility(this.t, this.stats, (key, now, out, ev) => this.lim.throttled(key, now, out, ev));
  /** Also report each MAC learned, moved or aged as an event (off: no object per MAC for it). */
  macEvents = false;

  constructor(
    cfg: LearnConfig,
    private readonly fabric: FabricView,
  ) {
    const s = compile(cfg);
    this.cfg = cfg;
    this.prefixes = s.prefixes;
    this.ageMs = cfg.ageingSeconds * 1000;
    s.services.forEach((svc, i) => {
      svc.idx = i;
      this.services.set(svc.vni, svc);
    });
    this.t.svcs = s.services;
    this.mob.configure(cfg, 0);
    this.lim.configure(cfg);
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
    // Configured MACs are sticky (RFC 7432 §15.2): announced by the daemon, never moved; only
    // the addresses they use at their configured VTEP are learned.
    const staticAt = svc.staticMacs.get(mac);
    if (staticAt !== undefined) {
      if (staticAt === vtep) this.configuredSeen(svc, mac, vtep, ip, now, out);
      else this.blockSticky(svc, vtep, mac, now, out);
      return out;
    }
    const m = svc.macs.get(mac);
    if (m !== undefined && this.mob.until(m) > now) {
      this.stats.frozenDropped++;
      return out;
    }
    const t = this.t;
    if (m !== undefined && t.mAnn[m] === 1 && t.vtepNames[t.mVtep[m]!] === vtep) {
      // Seen again where we announce it: only the last-seen time moves (and a new IP is bound).
      t.touch(m, now);
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
    const t = this.t;
    const m = this.services.get(vni)?.macs.get(mac);
    // A configured MAC's routes are sticky (RFC 7432 §15.2): the fabric's route never moves them.
    if (m === undefined || t.mAnn[m] !== 1 || t.mCfg[m] === 1) return out;
    const r = this.fabric.remoteMac(vni, mac);
    if (r === undefined) return out;
    if (r.seq > t.mSeen[m]!) t.mSeen[m] = r.seq;
    if (this.mob.until(m) > now) return out; // duplicate: our routes do not change until released
    const vtep = t.vtepOf(m);
    const seq = t.mSeq[m]!;
    if (r.vtep === vtep) {
      // The same location from another proxy: converge on the higher sequence (never lower it).
      if (!r.sticky && r.seq > seq) {
        t.mSeq[m] = r.seq;
        this.stats.adopted++;
        t.announceAll(m, out);
      }
      return out;
    }
    // RFC 7432 §15.1, §15.2: when the fabric's route wins, ours is withdrawn; the MAC moved.
    if (remoteWins(r, seq, vtep)) {
      t.withdrawAll(m, out);
      t.mAnn[m] = 0;
      this.stats.withdrawnByRemote++;
      this.mob.recordMove(m, now, out);
    }
    return out;
  }

  /** Releases every duplicate at once (an operator's clear): their release events. */
  releaseDuplicates(): LearnAction[] {
    const out: LearnAction[] = [];
    this.mob.release(Infinity, out);
    return out;
  }

  /** Ageing and freeze release. */
  tick(now: number): LearnAction[] {
    const out: LearnAction[] = [];
    this.mob.release(now, out);
    const t = this.t;
    const limit = now - this.ageMs - AGE_GRANULARITY_MS;
    const bq = t.bq;
    for (let b = bq.head; b !== NIL; b = bq.head) {
      if (t.bQueued[b]! > limit) break;
      const m = t.bOwner[b]!;
      if (this.mob.until(m) > now) {
        t.bQueued[b] = now;
        bq.toTail(b);
        continue;
      }
      this.unbind(b, out);
      this.stats.agedIps++;
    }
    const mq = t.mq;
    for (let m = mq.head; m !== NIL; m = mq.head) {
      if (t.mQueued[m]! > limit) break;
      if (this.mob.until(m) > now) {
        t.touch(m, now, true);
        continue;
      }
      // A configured MAC's entry holds only learned IPs: those age, the MAC itself does not.
      const cfg = t.mCfg[m] === 1;
      if (cfg) this.stats.agedIps += t.ipCount(m, Infinity);
      if (t.mAnn[m] === 1) t.withdrawAll(m, out);
      if (this.macEvents && !cfg) out.push(this.macEvent("aged", m));
      this.remove(m, true);
      if (!cfg) this.stats.aged++;
    }
    return out;
  }

  /** When `tick` is next due, or undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    // Called after every learned change: no closure, and the frozen map is iterated only when non-empty.
    const t = this.t;
    let d = this.mob.nextRelease();
    if (t.bq.head !== NIL) d = Math.min(d, t.bQueued[t.bq.head]! + this.ageMs + AGE_GRANULARITY_MS);
    if (t.mq.head !== NIL) d = Math.min(d, t.mQueued[t.mq.head]! + this.ageMs + AGE_GRANULARITY_MS);
    return d === Infinity ? undefined : d;
  }

  /**
   * A cursor over the routes announced now (a BGP session's initial table): each call appends
   * the announcements of up to `max` MACs to `out` and returns false once every MAC was visited.
   * It holds 4 bytes per MAC; a MAC withdrawn or aged meanwhile is skipped, and one whose slot
   * was reused is announced as it is then (its own change was staged anyway: a repeat at most).
   */
  cursor(): (max: number, out: LearnAction[]) => boolean {
    return this.t.announcedCursor();
  }

  /** Every entry as a record, in slices (the state file): see persist.ts. */
  records(): RecordCursor {
    return recordCursor(this.t, this.mob);
  }

  /** Restores saved entries into this engine before it learns anything: see persist.ts. */
  restore(records: Iterable<BindingRecord>, now: number): RestoreReport {
    const { t, mob, lim, stats, services, cfg, prefixes, ageMs } = this;
    return restoreRecords({ t, mob, lim, stats, services, cfg, prefixes, ageMs }, records, now);
  }

  /** How many routes are announced: a MAC route per announced MAC and a MAC/IP route per IP. */
  announcedRoutes(): number {
    const t = this.t;
    let n = 0;
    for (let m = t.mq.head; m !== NIL; m = t.mq.next[m]!)
      if (t.mAnn[m] === 1) n += 1 - t.mCfg[m]! + t.ipCount(m, Infinity);
    return n;
  }

  /** Learned MACs and configured MACs with learned IPs (`configured`), sorted by VNI then MAC. */
  table(): LearnedBinding[] {
    const t = this.t;
    const rows: LearnedBinding[] = [];
    for (let m = t.mq.head; m !== NIL; m = t.mq.next[m]!) rows.push(t.row(m, this.mob.isDuplicate(m)));
    return rows.sort((a, b) => a.vni - b.vni || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }

  /**
   * Paging without copying the table: the rows of the slots from `from` on that `match` accepts,
   * appended to `out`, until `max` slots were visited or `rows` rows appended; returns the slot
   * to go on from, or -1 after the last. A MAC keeps its slot while it lives, so a listing by
   * slot meets every MAC present from its first page to its last exactly once (in no order).
   */
  scan(
    from: number,
    max: number,
    out: LearnedBinding[],
    match?: (vni: number, vtep: string, configured: boolean) => boolean,
    rows = max,
  ): number {
    const t = this.t;
    const end = Math.min(t.mMac.length, Math.max(0, from) + max);
    let m = Math.max(0, from);
    for (let n = 0; m < end && n < rows; m++)
      if (t.mMac[m] !== "" && (match === undefined || match(t.svcOf(m).vni, t.vtepOf(m), t.mCfg[m] === 1))) {
        out.push(t.row(m, this.mob.isDuplicate(m)));
        n++;
      }
    return m < t.mMac.length ? m : -1;
  }

  /** The row of a MAC of a VNI (learned, or configured with learned IPs), or undefined. */
  row(vni: number, mac: string): LearnedBinding | undefined {
    const m = this.services.get(vni)?.macs.get(mac);
    return m === undefined ? undefined : this.t.row(m, this.mob.isDuplicate(m));
  }

  counters(): Readonly<LearnCounters> {
    return { ...this.stats };
  }

  /** The VTEP where a learned MAC is announced, or undefined (not learned, or the fabric's route won). */
  locate(vni: number, mac: string): string | undefined {
    const m = this.services.get(vni)?.macs.get(mac);
    return m !== undefined && this.t.mAnn[m] === 1 ? this.t.vtepOf(m) : undefined;
  }

  /** VTEPs auto-discovered for a VNI. */
  discovered(vni: number): string[] {
    return [...(this.services.get(vni)?.discovered ?? [])];
  }

  /**
   * Applies a new configuration as a difference, from `now` on: what is still configured keeps
   * what was learned (locations, sequence numbers, freezes) and nothing is re-sent for it; what
   * is not goes. Returns withdrawals and events only; `discovered()` gives the VTEPs whose IMET
   * routes stay. A service is the same when its name, VNI and EVI are.
   */
  reconfigure(cfg: LearnConfig, now: number): LearnAction[] {
    const next = compile(cfg); // a bad entry throws before anything changes
    const out: LearnAction[] = [];
    const t = this.t;
    const maxIps = this.lim.maxIps;
    this.cfg = cfg;
    this.prefixes = next.prefixes;
    this.ageMs = cfg.ageingSeconds * 1000;
    this.mob.configure(cfg, now);
    this.lim.configure(cfg);
    const old = new Map(t.svcs.map((s) => [identity(s), s]));
    const svcs = next.services.map((n) => {
      const s = old.get(identity(n));
      if (s === undefined) return n;
      old.delete(identity(n));
      this.restate(s, n, out);
      return s;
    });
    for (const s of old.values()) for (const m of [...s.macs.values()]) this.drop(m, out, "reloadRemoved");
    svcs.forEach((s, i) => (s.idx = i));
    t.setServices(svcs);
    this.services.clear();
    for (const s of svcs) this.services.set(s.vni, s);
    if (!cfg.includeIp)
      for (let b = t.bq.head; b !== NIL; b = t.bq.head) {
        this.unbind(b, out);
        this.stats.reloadRemovedIps++;
      }
    if (this.lim.maxIps > 0 && (maxIps === 0 || this.lim.maxIps < maxIps)) this.trimIps(now, out);
    if (this.lim.anyOver()) this.trimMacs(now, out);
    return out;
  }

  // ---- internals ----------------------------------------------------------------------------

  private discover(svc: Service, vtep: string, now: number, out: LearnAction[]): boolean {
    if (discoverable(this.cfg, this.prefixes, vtep)) {
      svc.discovered.add(vtep);
      this.stats.discovered++;
      out.push({ type: "discover-vtep", service: svc.name, evi: svc.evi, vni: svc.vni, vtep });
      return true;
    }
    this.stats.unknownVtep++;
    // Keyed by VNI, not VTEP: spoofed sources must not grow the throttle table.
    this.lim.throttled(`unknown-vtep/${svc.vni}`, now, out, {
      type: "event",
      event: "unknown-vtep",
      vni: svc.vni,
      vtep,
    });
    return false;
  }

  private blockSticky(svc: Service, vtep: string, mac: string, now: number, out: LearnAction[]): void {
    this.stats.stickyBlocked++;
    this.lim.throttled(`sticky/${svc.vni}`, now, out, {
      type: "event",
      event: "sticky-blocked",
      vni: svc.vni,
      vtep,
      mac,
    });
  }

  /**
   * A configured MAC seen at its configured VTEP. Its MAC route and configured MAC/IP routes are
   * the daemon's; an address it uses (ARP, NA with the target link-layer address, NS with the
   * source link-layer address; never a probe or DAD: src/wire/packet.ts) becomes a MAC/IP route
   * of its own entry, sticky like the MAC (RFC 7432 §15.2), bound, aged and limited as a learned
   * MAC's.
   */
  private configuredSeen(
    svc: Service,
    mac: string,
    vtep: string,
    ip: string | null,
    now: number,
    out: LearnAction[],
  ): void {
    this.stats.staticMac++;
    const t = this.t;
    let m = svc.macs.get(mac);
    if (m !== undefined) t.touch(m, now);
    if (ip === null || (svc.staticIps.size > 0 && svc.staticIps.has(`${mac}/${ip}`))) return;
    const fresh = m === undefined;
    if (m === undefined) {
      m = t.addMac(svc, mac, vtep, 0, now);
      t.mCfg[m] = 1;
      t.mAnn[m] = 1;
    }
    this.learnIp(svc, m, ip, now, out);
    if (fresh && t.mIp[m] === NIL) t.freeMac(m); // refused by a limit: no entry without an IP
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
    const t = this.t;
    const seen = Math.max(m === undefined ? 0 : t.mSeen[m]!, r?.seq ?? 0);
    const at = m === undefined ? undefined : t.vtepOf(m);
    // Where the current best route puts the MAC: ours if announced, else the fabric's.
    const current = m !== undefined && t.mAnn[m] === 1 ? at : r?.vtep;
    const seq = sequenceAt(seen, current, vtep); // RFC 7432 §15.1
    const move = seq > seen;
    if (at !== vtep && !this.lim.admitMac(svc.vni, vtep, mac, m === undefined, now, out)) return;
    if (!this.lim.takeToken(vtep, now, svc.vni, mac, out)) return;
    let old: LearnAction[] | undefined;
    if (m === undefined) {
      m = t.addMac(svc, mac, vtep, seq, now);
      this.lim.count(vtep, svc.vni, 1);
      this.stats.learned++;
    } else {
      if (move && this.mob.recordMove(m, now, out)) return; // now a duplicate: the change is not announced
      if (t.mAnn[m] === 1) {
        old = [];
        t.withdrawAll(m, old);
      }
      // The MAC's IP bindings move with it: its MAC/IP routes follow at the new sequence.
      if (at !== vtep) {
        this.lim.count(at!, svc.vni, -1);
        this.lim.count(vtep, svc.vni, 1);
        t.setVtep(m, vtep);
      }
      t.mSeq[m] = seq;
      if (seq > t.mSeen[m]!) t.mSeen[m] = seq;
      t.touch(m, now, true);
    }
    if (move) this.stats.moves++;
    if (this.macEvents && (move || at === undefined)) out.push(this.macEvent(move ? "moved" : "learned", m));
    t.mAnn[m] = 1;
    out.push(t.announcement(m, null));
    if (t.mIp[m] !== NIL) for (const i of t.ipsOf(m)) out.push(t.announcement(m, i));
    if (ip !== null) this.learnIp(svc, m, ip, now, out, false);
    if (old !== undefined) for (const a of old) out.push(a); // make before break: the new location first, then the old routes go
  }

  /** Binds `ip` to the announced entry `m` (the MAC/IP route), or refreshes the binding. */
  private learnIp(svc: Service, m: number, ip: string, now: number, out: LearnAction[], rate = true): void {
    const t = this.t;
    const key = ipKey(ip);
    const b = svc.ips.get(key);
    if (b !== undefined && t.bOwner[b] === m) {
      t.touchIp(b, now);
      this.stats.refreshed++;
      return;
    }
    if (!this.lim.admitIp(svc.vni, m, now, out)) return;
    if (rate && !this.lim.takeToken(t.vtepOf(m), now, svc.vni, t.mMac[m]!, out)) return;
    if (b !== undefined) {
      // The IP moved to another MAC: its old MAC/IP route goes; the binding's slot is reused.
      const o = t.takeIp(b);
      if (t.mAnn[o] === 1) out.push(t.withdrawal(o, ip));
      this.stats.ipMoves++;
    }
    t.bindIp(svc, m, key, b, now);
    this.stats.learnedIps++;
    out.push(t.announcement(m, ip));
  }

  /** Frees entry `m` (its routes already withdrawn); `detach`: see Mobility.forget. */
  private macEvent(event: "learned" | "moved" | "aged", m: number): LearnAction {
    return { type: "event", event, vni: this.t.svcOf(m).vni, vtep: this.t.vtepOf(m), mac: this.t.mMac[m]! };
  }

  private remove(m: number, detach: boolean): void {
    const t = this.t;
    if (t.mCfg[m] === 0) this.lim.count(t.vtepOf(m), t.svcOf(m).vni, -1); // configured MACs are not counted
    this.mob.forget(m, detach);
    t.freeMac(m);
  }

  /** Drops IP binding `b`, withdrawing its MAC/IP route when announced. */
  private unbind(b: number, out: LearnAction[]): void {
    const t = this.t;
    const m = t.bOwner[b]!;
    const ip = ipText(t.bKey[b]!);
    t.dropIp(t.svcOf(m), b, m);
    if (t.mAnn[m] === 1) out.push(t.withdrawal(m, ip));
  }

  /** Withdraws and frees entry `m`, freeze included, counted in `counter` (a configured MAC's IPs in reloadRemovedIps). */
  private drop(m: number, out: LearnAction[], counter: "reloadRemoved" | "reloadLimited"): void {
    const t = this.t;
    if (t.mCfg[m] === 1) this.stats.reloadRemovedIps += t.ipCount(m, Infinity);
    else this.stats[counter]++;
    if (t.mAnn[m] === 1) t.withdrawAll(m, out);
    this.remove(m, false);
  }

  /**
   * A kept service takes its new static VTEPs and MACs. Its entries stay at a VTEP still static
   * or auto-discoverable (a static VTEP that no longer is becomes a discovered one); a configured
   * MAC's entry stays while the MAC is configured there; the rest go.
   */
  private restate(s: Service, n: Service, out: LearnAction[]): void {
    const t = this.t;
    const was = s.discovered;
    s.staticVteps = n.staticVteps;
    s.staticMacs = n.staticMacs;
    s.staticIps = n.staticIps;
    s.discovered = new Set();
    const allowed = (v: string) => !s.staticVteps.has(v) && discoverable(this.cfg, this.prefixes, v);
    for (const v of was) if (allowed(v)) s.discovered.add(v);
    for (const m of [...s.macs.values()]) {
      const vtep = t.vtepOf(m);
      const at = s.staticMacs.get(t.mMac[m]!);
      if (t.mCfg[m] === 1) {
        if (at === vtep && this.cfg.includeIp) this.yieldConfiguredIps(s, m);
        else this.drop(m, out, "reloadRemoved");
      } else if (at !== undefined) this.adopt(s, m, at, out);
      else if (s.discovered.has(vtep) || allowed(vtep)) s.discovered.add(vtep);
      else if (!s.staticVteps.has(vtep)) this.drop(m, out, "reloadRemoved");
    }
  }

  /**
   * Bindings of entry `m` for addresses now configured for its MAC go, not withdrawn: the
   * configured MAC/IP route has the NLRI of ours (RD <vtep>:<evi>, MAC, IP; RFC 7432 §7.2) and
   * replaces it.
   */
  private yieldConfiguredIps(s: Service, m: number): void {
    const t = this.t;
    if (s.staticIps.size === 0 || t.mIp[m] === NIL) return;
    const mac = t.mMac[m]!;
    for (const ip of t.ipsOf(m)) if (s.staticIps.has(`${mac}/${ip}`)) t.dropIp(s, s.ips.get(ipKey(ip))!, m);
  }

  /**
   * A learned MAC now configured (RFC 7432 §15.2: configured MACs are sticky). At another VTEP
   * all its routes go. At its VTEP it becomes a configured MAC's entry: the configured routes
   * have the NLRI of ours and replace them (not withdrawn); its other addresses stay, announced
   * again sticky at sequence 0 (without include-ip they are withdrawn).
   */
  private adopt(s: Service, m: number, at: string, out: LearnAction[]): void {
    const t = this.t;
    const vtep = t.vtepOf(m);
    const mac = t.mMac[m]!;
    if (at !== vtep || !this.cfg.includeIp) {
      if (t.mAnn[m] === 1) {
        for (const ip of t.ipsOf(m).sort())
          if (at !== vtep || !s.staticIps.has(`${mac}/${ip}`)) out.push(t.withdrawal(m, ip));
        if (at !== vtep) out.push(t.withdrawal(m, null));
      }
      this.remove(m, false);
      this.stats.reloadRemoved++;
      return;
    }
    this.lim.count(vtep, s.vni, -1);
    this.mob.forget(m, false);
    t.mCfg[m] = 1;
    t.mSeq[m] = 0;
    t.mAnn[m] = 1;
    this.yieldConfiguredIps(s, m);
    for (const ip of t.ipsOf(m).sort()) out.push(t.announcement(m, ip));
  }

  /** A lowered max-ips-per-mac: the least recently seen IPs of a MAC beyond it go. */
  private trimIps(now: number, out: LearnAction[]): void {
    const t = this.t;
    const max = this.lim.maxIps;
    for (let b = t.bq.head, nx = NIL; b !== NIL; b = nx) {
      nx = t.bq.next[b]!;
      const m = t.bOwner[b]!;
      if (t.ipCount(m, max + 1) <= max) continue;
      const vni = t.svcOf(m).vni;
      const ev = { type: "event", event: "limit-ips", vni, vtep: t.vtepOf(m), mac: t.mMac[m]! } as const;
      this.lim.throttled(`ips/${vni}`, now, out, ev);
      this.unbind(b, out);
      this.stats.reloadLimited++;
    }
  }

  /** A lowered max-macs-per-vtep or max-macs-per-vni: the least recently seen MACs beyond it go. */
  private trimMacs(now: number, out: LearnAction[]): void {
    const t = this.t;
    const lim = this.lim;
    const over: number[] = [];
    for (let m = t.mq.head; m !== NIL; m = t.mq.next[m]!)
      if (t.mCfg[m] === 0 && lim.over(t.vtepOf(m), t.svcOf(m).vni)) over.push(m);
    over.sort((a, b) => t.mLast[a]! - t.mLast[b]!);
    for (const m of over) {
      const vtep = t.vtepOf(m);
      const vni = t.svcOf(m).vni;
      const kind = lim.over(vtep, vni);
      if (kind === null) continue;
      if (kind === "vtep") lim.vtepEvent(vni, vtep, t.mMac[m]!, now, out);
      else lim.vniEvent(vni, vtep, t.mMac[m]!, now, out);
      this.drop(m, out, "reloadLimited");
    }
  }
}
