// Limits against abuse and bursts: a token bucket per request source for what the proxy floods,
// the throttling of the events limits raise, and the pacing of gratuitous announcements.

import type { ProxyTable } from "./table.js";
import type { Compiled } from "./settings.js";
import type { ArpNdAction, ArpNdCounters, ArpNdEvent } from "./types.js";

interface Throttle {
  lastEvent: number;
  suppressed: number;
}

interface Bucket extends Throttle {
  tokens: number;
  at: number;
}

/** At most one event per throttle and interval; the next one says how many were suppressed. */
function throttled(t: Throttle, now: number, intervalMs: number, out: ArpNdAction[], ev: ArpNdEvent): void {
  if (now - t.lastEvent >= intervalMs) {
    out.push(t.suppressed > 0 ? { ...ev, suppressed: t.suppressed } : ev);
    t.lastEvent = now;
    t.suppressed = 0;
  } else t.suppressed++;
}

/**
 * Token buckets per source (capacity `requestBurst`, refill `requestRate` per second). Buckets
 * live in two generations: a source not seen for a whole period (at least the time a bucket
 * takes to refill, so it would be full anyway) is dropped at the next rotation, without a scan.
 * At most `maxSources` buckets per generation; past that, new sources share one overflow bucket.
 */
export class SourceLimits {
  private cur = new Map<string, Bucket>();
  private old = new Map<string, Bucket>();
  private rotateAt = -Infinity;
  private periodMs = 1000;
  private rate = 0;
  private burst = 1;
  private max = 1;
  private eventMs = 0;
  /** Rate and burst of each service that sets its own. */
  private readonly perVni = new Map<number, { rate: number; burst: number }>();
  /** Full at the first configure(). */
  private readonly overflow: Bucket = { tokens: Infinity, at: -Infinity, lastEvent: -Infinity, suppressed: 0 };
  /** Throttles of keyed (non-source) events: keys are per VNI, so their number is bounded. */
  private readonly keyed = new Map<string, Throttle>();

  constructor(private readonly stats: ArpNdCounters) {}

  configure(c: Compiled): void {
    this.rate = c.requestRate;
    this.burst = c.requestBurst;
    this.max = c.maxSources;
    this.eventMs = c.eventMs;
    this.perVni.clear();
    let refillMs = this.rate > 0 ? (this.burst / this.rate) * 1000 : 0;
    for (const s of c.services) {
      this.perVni.set(s.vni, { rate: s.requestRate, burst: s.requestBurst });
      if (s.requestRate > 0) refillMs = Math.max(refillMs, (s.requestBurst / s.requestRate) * 1000);
    }
    this.periodMs = Math.max(1000, this.eventMs, refillMs);
    for (const m of [this.cur, this.old]) for (const b of m.values()) b.tokens = Math.min(b.tokens, this.burst);
    this.overflow.tokens = Math.min(this.overflow.tokens, this.burst);
  }

  /** Whether `source` may have one more request flooded; the throttled event in `out` if not. */
  take(source: string, vni: number, now: number, out: ArpNdAction[]): boolean {
    const own = this.perVni.get(vni);
    const rate = own?.rate ?? this.rate;
    const burst = own?.burst ?? this.burst;
    if (rate <= 0) return true;
    if (now >= this.rotateAt) {
      this.old = this.cur;
      this.cur = new Map();
      this.rotateAt = now + this.periodMs;
    }
    let b = this.cur.get(source);
    if (b === undefined) {
      b = this.old.get(source);
      if (b !== undefined) {
        this.old.delete(source);
        this.cur.set(source, b);
      } else if (this.cur.size >= this.max) {
        b = this.overflow;
        this.stats.rateSourcesFull++;
      } else {
        b = { tokens: burst, at: now, lastEvent: -Infinity, suppressed: 0 };
        this.cur.set(source, b);
      }
    }
    if (now > b.at) {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    this.stats.dropRate++;
    throttled(b, now, this.eventMs, out, { type: "event", event: "rate-limited", vni, mac: source });
    return false;
  }

  /** A throttled event of `key` (a fixed prefix and the VNI). */
  event(key: string, now: number, out: ArpNdAction[], ev: ArpNdEvent): void {
    let t = this.keyed.get(key);
    if (t === undefined) {
      t = { lastEvent: -Infinity, suppressed: 0 };
      this.keyed.set(key, t);
    }
    throttled(t, now, this.eventMs, out, ev);
  }

  /** Sources holding a bucket. */
  sources(): number {
    return this.cur.size + this.old.size;
  }
}

/**
 * Slots with a gratuitous announcement pending (the table's `garp` column dedupes them), sent
 * at `garpRate` per second with a burst of as many.
 */
export class GarpPacer {
  private q: number[] = [];
  private head = 0;
  private rate = 1;
  /** Full at the first configure(). */
  private tokens = Infinity;
  private at = -Infinity;

  constructor(private readonly t: ProxyTable) {}

  configure(c: Compiled): void {
    this.rate = c.garpRate;
    this.tokens = Math.min(this.tokens, this.rate);
  }

  push(i: number): void {
    if (this.t.garp[i] === 1) return;
    this.t.garp[i] = 1;
    this.q.push(i);
  }

  /** Emits what the budget allows by `now`: `emit(slot)` says whether it sent something. */
  drain(now: number, emit: (i: number) => boolean): void {
    if (now > this.at) {
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) * this.rate) / 1000);
      this.at = now;
    }
    const t = this.t;
    const q = this.q;
    while (this.head < q.length && this.tokens >= 1) {
      const i = q[this.head++]!;
      if (t.garp[i] !== 1) continue; // freed (or sent) meanwhile
      t.garp[i] = 0;
      if (emit(i)) this.tokens -= 1;
    }
    if (this.head === q.length) {
      this.q = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > q.length) {
      this.q = q.slice(this.head);
      this.head = 0;
    }
  }

  /** When drain() can next send (0 or a past time: now); Infinity when nothing is pending. */
  next(): number {
    if (this.head === this.q.length) return Infinity;
    return this.tokens >= 1 ? Math.max(0, this.at) : this.at + ((1 - this.tokens) * 1000) / this.rate;
  }

  pending(): number {
    return this.q.length - this.head;
  }
}
