// Limits against abuse: learned MACs per VTEP and per VNI, IPs per MAC, a learning rate per VTEP
// (token bucket), and the throttling of the events they raise.

import type { LearnTable } from "./table.js";
import type { LearnAction, LearnConfig, LearnCounters, LearnEvent } from "./types.js";

interface Throttle {
  last: number;
  suppressed: number;
}

export class Limits {
  private readonly perVtep = new Map<string, number>();
  private readonly perVni = new Map<number, number>();
  private readonly perVniVtep = new Map<number, Map<string, number>>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly throttles = new Map<string, Throttle>();
  maxVtep = 0;
  maxVni = 0;
  maxIps = 0;
  private rate = 0;
  private eventMs = 0;

  constructor(
    private readonly t: LearnTable,
    private readonly stats: LearnCounters,
  ) {}

  /** Takes the limits from `cfg`; a bucket never holds more than the new rate's burst. */
  configure(cfg: LearnConfig): void {
    this.maxVtep = cfg.maxMacsPerVtep;
    this.maxVni = cfg.maxMacsPerVni;
    this.maxIps = cfg.maxIpsPerMac ?? 16;
    this.rate = cfg.maxLearnPerVtepPerSecond;
    this.eventMs = (cfg.eventIntervalSeconds ?? 60) * 1000;
    if (this.rate <= 0) this.buckets.clear();
    else for (const b of this.buckets.values()) b.tokens = Math.min(b.tokens, this.rate);
  }

  /** The per-VTEP and per-VNI MAC limits for a MAC arriving at `vtep`. */
  admitMac(vni: number, vtep: string, mac: string, isNew: boolean, now: number, out: LearnAction[]): boolean {
    const maxV = this.maxVtep;
    if (maxV > 0 && (this.perVtep.get(vtep) ?? 0) >= maxV) {
      this.stats.limitVtep++;
      this.vtepEvent(vni, vtep, mac, now, out);
      return false;
    }
    const maxN = this.maxVni;
    // A MAC already in this VNI (moving between VTEPs) does not add to the VNI's count.
    if (maxN > 0 && isNew && (this.perVni.get(vni) ?? 0) >= maxN) {
      this.stats.limitVni++;
      this.vniEvent(vni, vtep, mac, now, out);
      return false;
    }
    return true;
  }

  /** The IPs-per-MAC limit for a new IP of entry `m`. */
  admitIp(vni: number, m: number, now: number, out: LearnAction[]): boolean {
    const t = this.t;
    if (this.maxIps <= 0 || t.ipCount(m, this.maxIps) < this.maxIps) return true;
    const mac = t.mMac[m]!;
    this.stats.limitIps++;
    this.throttled(`ips/${vni}/${mac}`, now, out, { type: "event", event: "limit-ips", vni, vtep: t.vtepOf(m), mac });
    return false;
  }

  /** Token bucket per VTEP: capacity and refill of max-learn-per-vtep-per-second. */
  takeToken(vtep: string, now: number, vni: number, mac: string, out: LearnAction[]): boolean {
    const rate = this.rate;
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

  /** `d` more learned MACs (configured ones are not counted) of `vni` at `vtep`. */
  count(vtep: string, vni: number, d: number): void {
    const v = (this.perVtep.get(vtep) ?? 0) + d;
    if (v === 0) this.perVtep.delete(vtep);
    else this.perVtep.set(vtep, v);
    this.perVni.set(vni, (this.perVni.get(vni) ?? 0) + d);
    let at = this.perVniVtep.get(vni);
    if (at === undefined) this.perVniVtep.set(vni, (at = new Map()));
    const w = (at.get(vtep) ?? 0) + d;
    if (w === 0) at.delete(vtep);
    else at.set(vtep, w);
  }

  /** Learned MACs by VNI and VTEP, as counted. */
  learnedAt(): ReadonlyMap<number, ReadonlyMap<string, number>> {
    return this.perVniVtep;
  }

  /** Whether `vtep` or `vni` holds (with `add` more) more MACs than its limit allows. */
  over(vtep: string, vni: number, add = 0): "vtep" | "vni" | null {
    if (this.maxVtep > 0 && (this.perVtep.get(vtep) ?? 0) + add > this.maxVtep) return "vtep";
    if (this.maxVni > 0 && (this.perVni.get(vni) ?? 0) + add > this.maxVni) return "vni";
    return null;
  }

  /** Whether any VTEP or VNI holds more MACs than its limit allows. */
  anyOver(): boolean {
    const maxV = this.maxVtep;
    const maxN = this.maxVni;
    if (maxV > 0) for (const n of this.perVtep.values()) if (n > maxV) return true;
    if (maxN > 0) for (const n of this.perVni.values()) if (n > maxN) return true;
    return false;
  }

  vtepEvent(vni: number, vtep: string, mac: string, now: number, out: LearnAction[]): void {
    this.throttled(`vtep/${vtep}`, now, out, { type: "event", event: "limit-vtep", vni, vtep, mac });
  }

  vniEvent(vni: number, vtep: string, mac: string, now: number, out: LearnAction[]): void {
    this.throttled(`vni/${vni}`, now, out, { type: "event", event: "limit-vni", vni, vtep, mac });
  }

  /** At most one event per key and event interval; the next one says how many were suppressed. */
  throttled(key: string, now: number, out: LearnAction[], ev: LearnEvent): void {
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
}
