// The learning engine's saved state: every binding as a record (the unit of the state file,
// src/state/codec.ts), read through a cursor in slices, and records restored into an empty engine
// after a restart. Pure: times (ms, the clock the engine is given) come in as arguments.

import type { Prefix } from "../../net/prefix.js";
import { InvariantError } from "../../errors.js";
import type { Limits } from "./limits.js";
import type { Mobility } from "./mobility.js";
import { discoverable } from "./settings.js";
import { NIL } from "./slot-queue.js";
import { ipKey, ipText, type LearnTable } from "./table.js";
import type { LearnConfig, LearnCounters, Service } from "./types.js";

/** An IP bound to a MAC and when it was last seen (ms). */
export interface SavedIp {
  ip: string;
  lastSeen: number;
}

/** One (VNI, MAC) entry of the engine as saved: all it needs to carry on after a restart. */
export interface BindingRecord {
  service: string;
  evi: number;
  vni: number;
  vtep: string;
  mac: string;
  /** IP bindings in binding order. */
  ips: SavedIp[];
  /** MAC mobility sequence of our routes (RFC 7432 §15). */
  seq: number;
  /** Highest sequence seen for the MAC, ours or the fabric's. */
  maxSeq: number;
  /** A configured MAC at its configured VTEP: only its IP bindings are learned. */
  configured: boolean;
  /** false: the fabric's route won (RFC 7432 §15.1) and ours was withdrawn. */
  announced: boolean;
  /** Duplicate (RFC 7432 §15.1): frozen until this time; 0 when not. */
  frozenUntil: number;
  /** Times of the MAC's recent moves (duplicate detection). */
  moves: readonly number[];
  lastSeen: number;
}

/**
 * Visits the records of up to `max` entries; returns false once every entry was visited. The
 * record passed to `visit` is reused: valid only during the call.
 */
export type RecordCursor = (max: number, visit: (r: BindingRecord) => void) => boolean;

/**
 * A cursor over the entries in ageing-queue order (least recently queued first), as they are
 * when visited: a snapshot of the queue (4 bytes per entry) is taken once, an entry freed
 * meanwhile is skipped, and one whose slot was reused is visited as the new entry (a restore
 * keeps the first record of a MAC).
 */
export function recordCursor(t: LearnTable, mob: Mobility): RecordCursor {
  const slots = new Int32Array(t.mq.prev.length);
  let n = 0;
  for (let m = t.mq.head; m !== NIL; m = t.mq.next[m]!) slots[n++] = m;
  let pos = 0;
  const ips: SavedIp[] = [];
  const rec: BindingRecord = {
    service: "",
    evi: 0,
    vni: 0,
    vtep: "",
    mac: "",
    ips,
    seq: 0,
    maxSeq: 0,
    configured: false,
    announced: false,
    frozenUntil: 0,
    moves: [],
    lastSeen: 0,
  };
  return (max, visit) => {
    const end = Math.min(n, pos + max);
    for (; pos < end; pos++) {
      const m = slots[pos]!;
      if (t.mMac[m] === "") continue;
      const svc = t.svcOf(m);
      rec.service = svc.name;
      rec.evi = svc.evi;
      rec.vni = svc.vni;
      rec.vtep = t.vtepOf(m);
      rec.mac = t.mMac[m]!;
      rec.seq = t.mSeq[m]!;
      rec.maxSeq = t.mSeen[m]!;
      rec.configured = t.mCfg[m] === 1;
      rec.announced = t.mAnn[m] === 1;
      rec.frozenUntil = mob.until(m);
      rec.moves = mob.movesOf(m);
      rec.lastSeen = t.mLast[m]!;
      let k = 0;
      const h = t.firstIp(m);
      if (h !== NIL)
        for (let b = h; ;) {
          const ip = (ips[k++] ??= { ip: "", lastSeen: 0 });
          ip.ip = ipText(t.bKey[b]!);
          ip.lastSeen = t.bQueued[b]!;
          b = t.nextIp(b);
          if (b === h) break;
        }
      ips.length = k;
      visit(rec);
    }
    return pos < n;
  };
}

export type RestoreDrop =
  /** No service with this name, EVI and VNI any more. */
  | "service"
  /** The VTEP is neither static in the service nor auto-discoverable. */
  | "vtep"
  /** Configured elsewhere now, or no longer configured (a configured MAC's entry). */
  | "configured"
  /** Not seen for mac-ageing-seconds (and not frozen). */
  | "expired"
  /** Beyond max-macs-per-vtep or max-macs-per-vni: those restored first (learned first) stay. */
  | "limit"
  /** A second record of a MAC already restored. */
  | "duplicate"
  /** A time or sequence number that no engine produces. */
  | "invalid";

export interface RestoreReport {
  /** Entries restored (learned MACs and configured MACs with learned IPs). */
  restored: number;
  restoredIps: number;
  dropped: Record<RestoreDrop, number>;
  /** IP bindings dropped: aged, beyond max-ips-per-mac, include-ip off, configured, or bound twice. */
  droppedIps: number;
}

/** The engine's parts a restore fills. */
export interface RestoreTarget {
  t: LearnTable;
  mob: Mobility;
  lim: Limits;
  stats: LearnCounters;
  services: ReadonlyMap<number, Service>;
  cfg: LearnConfig;
  prefixes: Prefix[];
  ageMs: number;
}

const MAX_SEQ = 0xffffffff;

function validSeq(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_SEQ;
}

/**
 * Restores `records` into an engine that holds nothing yet, as of `now`: what the current
 * configuration no longer allows is dropped and counted (see RestoreDrop); a restored entry ages
 * from its saved last-seen time (a time after `now`, from a clock that went back, counts as
 * `now`), a duplicate stays frozen until its saved deadline (at most freeze-seconds from now).
 * Nothing is announced here: the restored routes leave with each session's initial table.
 */
export function restoreRecords(e: RestoreTarget, records: Iterable<BindingRecord>, now: number): RestoreReport {
  const { t, mob, lim, stats, cfg } = e;
  if (t.mq.head !== NIL) throw new InvariantError("ERR_LEARN_RESTORE", "restore into an engine that learned already");
  const dropped: Record<RestoreDrop, number> = {
    service: 0,
    vtep: 0,
    configured: 0,
    expired: 0,
    limit: 0,
    duplicate: 0,
    invalid: 0,
  };
  const report: RestoreReport = { restored: 0, restoredIps: 0, dropped, droppedIps: 0 };
  const oldest = now - e.ageMs;
  const freezeEnd = now + cfg.freezeSeconds * 1000;
  const windowStart = now - cfg.moveWindowSeconds * 1000;
  for (const r of records) {
    const why = admit(e, r, now, oldest);
    if (why !== null) {
      dropped[why]++;
      report.droppedIps += r.ips.length;
      continue;
    }
    const svc = e.services.get(r.vni)!;
    const configured = svc.staticMacs.has(r.mac);
    const frozen = !configured && r.frozenUntil > now;
    const m = t.addMac(svc, r.mac, r.vtep, configured ? 0 : r.seq, Math.min(r.lastSeen, now));
    t.mSeen[m] = configured ? 0 : Math.max(r.seq, r.maxSeq);
    t.mCfg[m] = configured ? 1 : 0;
    t.mAnn[m] = configured || r.announced ? 1 : 0;
    if (!configured) {
      lim.count(r.vtep, r.vni, 1);
      const moves =
        r.moves.length === 0 ? [] : r.moves.filter((x) => Number.isFinite(x) && x > windowStart && x <= now);
      if (frozen || moves.length > 0) mob.restore(m, frozen ? Math.min(r.frozenUntil, freezeEnd) : 0, moves);
    }
    let n = 0;
    let aged = 0;
    for (const { ip, lastSeen } of r.ips) {
      const key = ipKey(ip);
      const fresh = frozen || lastSeen > oldest;
      if (!fresh) aged++;
      const keep =
        cfg.includeIp &&
        Number.isFinite(lastSeen) &&
        fresh &&
        !svc.ips.has(key) &&
        (svc.staticIps.size === 0 || !svc.staticIps.has(`${r.mac}/${ip}`)) &&
        (lim.maxIps <= 0 || n < lim.maxIps);
      if (!keep) {
        report.droppedIps++;
        continue;
      }
      t.bindIp(svc, m, key, undefined, Math.min(lastSeen, now));
      n++;
    }
    if (configured && n === 0) {
      // A configured MAC's entry holds its learned IPs only.
      t.freeMac(m);
      dropped[aged === r.ips.length && aged > 0 ? "expired" : "configured"]++;
      continue;
    }
    report.restored++;
    report.restoredIps += n;
  }
  mob.sortFrozen();
  t.sortQueues();
  stats.restored += report.restored;
  stats.restoredIps += report.restoredIps;
  for (const k of Object.keys(dropped) as RestoreDrop[]) stats.restoreDropped += dropped[k];
  return report;
}

/** Why record `r` cannot be restored now, or null; a new discoverable VTEP is added to its service. */
function admit(e: RestoreTarget, r: BindingRecord, now: number, oldest: number): RestoreDrop | null {
  if (!Number.isFinite(r.lastSeen) || !Number.isFinite(r.frozenUntil) || !validSeq(r.seq) || !validSeq(r.maxSeq))
    return "invalid";
  const svc = e.services.get(r.vni);
  if (svc === undefined || svc.name !== r.service || svc.evi !== r.evi) return "service";
  if (svc.macs.has(r.mac)) return "duplicate";
  const at = svc.staticMacs.get(r.mac);
  if (at !== undefined ? at !== r.vtep : r.configured) return "configured";
  if (at === undefined && r.frozenUntil <= now && r.lastSeen <= oldest) return "expired";
  if (!svc.staticVteps.has(r.vtep)) {
    if (!svc.discovered.has(r.vtep) && !discoverable(e.cfg, e.prefixes, r.vtep)) return "vtep";
    svc.discovered.add(r.vtep);
  }
  if (at === undefined && e.lim.over(r.vtep, r.vni, 1) !== null) return "limit";
  return null;
}

/**
 * What the state file's writer compares to decide whether to save: `changes` moves with every
 * binding learned, moved, aged, frozen or dropped; `refreshes` with every binding seen again
 * unchanged (only its last-seen time moved).
 */
export function changeStamp(c: Readonly<LearnCounters>): { changes: number; refreshes: number } {
  return {
    changes:
      c.learned +
      c.learnedIps +
      c.moves +
      c.withdrawnByRemote +
      c.adopted +
      c.aged +
      c.agedIps +
      c.ipMoves +
      c.duplicates +
      c.discovered +
      c.reloadRemoved +
      c.reloadRemovedIps +
      c.reloadLimited +
      c.restored +
      c.restoreDropped,
    refreshes: c.refreshed + c.staticMac,
  };
}
