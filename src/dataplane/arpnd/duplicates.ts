// RFC 9161 §3.7 duplicate IP detection: an IP whose MAC changes more than max-moves times within
// the window is a duplicate; it is not answered (the proxy stops vouching for either claimant)
// and its binding does not change until it is released after the hold-down time. Static entries
// (and immutable EVPN ones, RFC 9047) are exempt: their MAC never changes by learning. Each move
// also asks the former owner to confirm (one unicast request, at most one per confirm time), so
// that two live claimants keep producing moves even when one of them is quiet.
//
// Rare state, in side Maps keyed by slot; the table's `dup` column mirrors "in duplicate state"
// for the request path.

import type { ProxyTable, Svc } from "./table.js";
import { DYNAMIC } from "./table.js";
import type { ArpNdAction, ArpNdCounters } from "./types.js";

export class Duplicates {
  /** Slot → times of its recent moves (only for IPs that moved). */
  private readonly moves = new Map<number, number[]>();
  /** Slot → when a confirmation was last asked for. */
  private readonly confirmed = new Map<number, number>();
  /** Per service: duplicate slots → release time, in release order (one hold time per service). */
  private readonly held = new Map<Svc, Map<number, number>>();

  constructor(
    private readonly t: ProxyTable,
    private readonly stats: ArpNdCounters,
  ) {}

  /**
   * A move of slot `i` (its IP's MAC changed to `claimMac` at `claimVtep`) at `now`; true when it
   * made the IP a duplicate (the event in `out` names the binding held and the claim).
   */
  recordMove(i: number, now: number, out: ArpNdAction[], claimMac: string, claimVtep: string): boolean {
    const s = this.t.svcOf(i);
    const from = now - s.cfg.windowMs;
    // At most max-moves + 1 times are kept: the oldest leave as the window passes them.
    const m = this.moves.get(i) ?? [];
    while (m.length > 0 && m[0]! <= from) m.shift();
    m.push(now);
    this.moves.set(i, m);
    this.stats.moves++;
    if (m.length <= s.cfg.maxMoves) return false;
    this.hold(i, s, now + s.cfg.holdMs);
    this.stats.duplicates++;
    out.push({ type: "event", event: "duplicate", ...this.t.binding(i), claimMac, claimVtep });
    return true;
  }

  /** Whether a confirmation may be asked for slot `i` now (and records it). */
  mayConfirm(i: number, now: number): boolean {
    const last = this.confirmed.get(i);
    if (last !== undefined && now - last < this.t.svcOf(i).cfg.confirmMs) return false;
    this.confirmed.set(i, now);
    return true;
  }

  private hold(i: number, s: Svc, until: number): void {
    let h = this.held.get(s);
    if (h === undefined) {
      h = new Map();
      this.held.set(s, h);
    }
    h.delete(i);
    h.set(i, until);
    this.t.dup[i] = 1;
  }

  until(i: number): number | undefined {
    return this.t.dup[i] === 1 ? this.held.get(this.t.svcOf(i))?.get(i) : undefined;
  }

  /** Slot `i` is freed or becomes static: its history and duplicate state go. */
  forget(i: number): void {
    this.moves.delete(i);
    this.confirmed.delete(i);
    if (this.t.dup[i] === 1) {
      this.held.get(this.t.svcOf(i))?.delete(i);
      this.t.dup[i] = 0;
    }
  }

  /** A service goes: its duplicate states go with its slots (forget() each first). */
  dropService(s: Svc): void {
    this.held.delete(s);
  }

  /** The hold time of `s` may have changed: pending releases end by `now` + the new hold time. */
  configure(s: Svc, now: number): void {
    const h = this.held.get(s);
    if (h === undefined) return;
    // The Map is in release order: the entries shortened are its tail, and stay in order.
    const end = now + s.cfg.holdMs;
    for (const [i, until] of h) if (until > end) h.set(i, end);
  }

  /** Releases the duplicates due by `now`. */
  release(now: number, out: ArpNdAction[]): void {
    const t = this.t;
    for (const [s, h] of this.held) {
      for (const [i, until] of h) {
        if (until > now) break;
        h.delete(i);
        t.dup[i] = 0;
        this.moves.delete(i);
        if (t.src[i] === DYNAMIC) t.requeue(i, now); // a whole refresh cycle ahead of it
        this.stats.released++;
        out.push({ type: "event", event: "duplicate-released", ...t.binding(i) });
      }
      if (h.size === 0) this.held.delete(s);
    }
  }

  /** When the next release is due; Infinity when none is pending. */
  nextRelease(): number {
    let d = Infinity;
    if (this.held.size > 0)
      for (const h of this.held.values())
        for (const until of h.values()) {
          if (until < d) d = until;
          break;
        }
    return d;
  }

  /** Duplicate slots of a service. */
  count(s: Svc): number {
    return this.held.get(s)?.size ?? 0;
  }
}
