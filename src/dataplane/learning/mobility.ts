// MAC mobility (RFC 7432 §15): the sequence number of a route after a move, which of two routes
// for a MAC wins, and duplicate detection with its freeze and release.

import { compareAddresses } from "../../net/addr.js";
import type { LearnTable } from "./table.js";
import type { LearnAction, LearnConfig, LearnCounters, LearnEvent } from "./types.js";

/**
 * RFC 7432 §15.1: the sequence to announce for a MAC seen at `vtep`, given the highest sequence
 * seen for it and where the current best route puts it. A move (another location) takes the
 * highest seen + 1; the same location (another proxy's identical route) or none keeps it.
 */
export function sequenceAt(seen: number, current: string | undefined, vtep: string): number {
  return current === undefined || current === vtep ? seen : seen + 1;
}

/**
 * Whether the fabric's route `r` beats ours (sequence `seq` at `vtep`): RFC 7432 §15.1 a higher
 * sequence, or an equal one from a lower VTEP IP, wins; §15.2 a sticky route always does.
 */
export function remoteWins(r: { vtep: string; seq: number; sticky: boolean }, seq: number, vtep: string): boolean {
  return r.sticky || r.seq > seq || (r.seq === seq && compareAddresses(r.vtep, vtep) < 0);
}

const NO_MOVES: readonly number[] = [];

/** A frozen MAC whose entry aged out before the release (only with a clock that went back). */
interface Detached {
  until: number;
  vni: number;
  vtep: string;
  mac: string;
}

/**
 * RFC 7432 §15.1 duplicate detection: more than max-moves moves within move-window-seconds
 * freeze the MAC for freeze-seconds; its routes do not change until the release. Rare state,
 * in side Maps keyed by MAC slot.
 */
export class Mobility {
  /** MAC slot → time of recent moves (only for MACs that moved). */
  private readonly moves = new Map<number, number[]>();
  /** MAC slot → frozen until (duplicate); absent: 0. */
  private readonly frozenUntil = new Map<number, number>();
  /** Frozen MACs by `vni/mac`, in release order. */
  private readonly frozen = new Map<string, number | Detached>();
  private maxMoves = 0;
  private windowMs = 0;
  private freezeMs = 0;

  /** `throttled`: at most one event per key and interval (limits.ts), so that a flood of moving MACs logs little. */
  constructor(
    private readonly t: LearnTable,
    private readonly stats: LearnCounters,
    private readonly throttled: (key: string, now: number, out: LearnAction[], ev: LearnEvent) => void,
  ) {}

  /**
   * Takes max-moves, move window and freeze time from `cfg`. A shorter freeze time shortens
   * current freezes to end by `now` + freeze-seconds; this also keeps `frozen` in release order.
   */
  configure(cfg: LearnConfig, now: number): void {
    this.maxMoves = cfg.maxMoves;
    this.windowMs = cfg.moveWindowSeconds * 1000;
    this.freezeMs = cfg.freezeSeconds * 1000;
    const end = now + this.freezeMs;
    for (const ref of this.frozen.values())
      if (typeof ref !== "number") ref.until = Math.min(ref.until, end);
      else if (this.frozenUntil.get(ref)! > end) this.frozenUntil.set(ref, end);
  }

  /** Frozen-until time of MAC slot `m` (0: not a duplicate). */
  until(m: number): number {
    return this.frozenUntil.size === 0 ? 0 : (this.frozenUntil.get(m) ?? 0);
  }

  /** A move of MAC slot `m`; true when it made the MAC a duplicate (then frozen, the event in `out`). */
  recordMove(m: number, now: number, out: LearnAction[]): boolean {
    const from = now - this.windowMs;
    let moves = this.moves.get(m);
    if (moves === undefined) {
      moves = [];
      this.moves.set(m, moves);
    }
    let i = 0;
    while (i < moves.length && moves[i]! <= from) i++;
    if (i > 0) moves.splice(0, i);
    moves.push(now);
    if (moves.length <= this.maxMoves) return false;
    const t = this.t;
    const vni = t.svcOf(m).vni;
    const key = `${vni}/${t.mMac[m]}`;
    this.frozenUntil.set(m, now + this.freezeMs);
    this.frozen.delete(key);
    this.frozen.set(key, m);
    this.stats.duplicates++;
    const vtep = t.vtepOf(m);
    this.throttled(`duplicate/${vtep}`, now, out, { type: "event", event: "duplicate", vni, vtep, mac: t.mMac[m]! });
    return true;
  }

  /**
   * MAC slot `m` is about to be freed: its moves go; a freeze still pending is kept for its
   * release event when `detach` (ageing), else dropped with it.
   */
  forget(m: number, detach: boolean): void {
    this.moves.delete(m);
    const until = this.frozenUntil.get(m);
    if (until === undefined) return;
    this.frozenUntil.delete(m);
    const t = this.t;
    const vni = t.svcOf(m).vni;
    const mac = t.mMac[m]!;
    const key = `${vni}/${mac}`;
    if (detach) this.frozen.set(key, { until, vni, vtep: t.vtepOf(m), mac });
    else this.frozen.delete(key);
  }

  /** Releases the freezes due by `now`. */
  release(now: number, out: LearnAction[]): void {
    const t = this.t;
    for (const [key, ref] of this.frozen) {
      if (typeof ref === "number") {
        if (this.frozenUntil.get(ref)! > now) break;
        this.frozen.delete(key);
        this.frozenUntil.delete(ref);
        this.moves.delete(ref);
        this.released(now, out, t.svcOf(ref).vni, t.vtepOf(ref), t.mMac[ref]!);
      } else {
        if (ref.until > now) break;
        this.frozen.delete(key);
        this.released(now, out, ref.vni, ref.vtep, ref.mac);
      }
    }
  }

  private released(now: number, out: LearnAction[], vni: number, vtep: string, mac: string): void {
    this.throttled(`released/${vtep}`, now, out, { type: "event", event: "duplicate-released", vni, vtep, mac });
  }

  /** When the next freeze ends; Infinity when none is pending. */
  nextRelease(): number {
    if (this.frozen.size > 0)
      for (const ref of this.frozen.values()) return typeof ref === "number" ? this.frozenUntil.get(ref)! : ref.until;
    return Infinity;
  }

  /** Times of the recent moves of MAC slot `m` (the live list: read, do not keep). */
  movesOf(m: number): readonly number[] {
    return this.moves.get(m) ?? NO_MOVES;
  }

  /** A restored MAC slot: its recent moves and, when `until` > 0, its freeze (sortFrozen() once done). */
  restore(m: number, until: number, moves: number[]): void {
    if (moves.length > 0) this.moves.set(m, moves);
    if (until <= 0) return;
    this.frozenUntil.set(m, until);
    this.frozen.set(`${this.t.svcOf(m).vni}/${this.t.mMac[m]}`, m);
  }

  /** Puts the frozen MACs back in release order. */
  sortFrozen(): void {
    if (this.frozen.size < 2) return;
    const release = (ref: number | Detached) => (typeof ref === "number" ? this.frozenUntil.get(ref)! : ref.until);
    const all = [...this.frozen].sort((a, b) => release(a[1]) - release(b[1]));
    this.frozen.clear();
    for (const [k, ref] of all) this.frozen.set(k, ref);
  }

  isDuplicate(m: number): boolean {
    return (this.frozenUntil.get(m) ?? 0) > 0;
  }
}
