// The MAC table as the API lists it, a page at a time and never copied whole: configured MACs
// (the configuration, in its order), then learned ones (the learning engine's slots, see
// Learner.scan), then the fabric's (type 2 routes of EVPN VTEPs from the RIB). A cursor says
// where the next page starts; it is plain data (the API encodes it). The RIB has no stable
// position to resume from, so its listings are kept here, a few at a time, for a while.

import type { Destination, Rib } from "../bgp/rib.js";
import type { ExtCommunity } from "../codec/index.js";
import type { ServiceSettings } from "../config/model.js";
import type { LearnedBinding } from "../dataplane/learning/learner.js";
import type { History } from "./history.js";
import { Listings } from "./listings.js";
import type { DaemonState } from "./views.js";

export type MacSource = "static" | "learned" | "evpn";

export interface MacView {
  service: string;
  vni: number;
  mac: string;
  /** Where the MAC is: its static VTEP, or the EVPN VTEP (next hop) of the fabric's route. */
  vtep: string;
  source: MacSource;
  /** Addresses: configured and learned from ARP/ND; a fabric MAC's MAC/IP routes. */
  ips: string[];
  /** RFC 7432 §15 MAC mobility sequence (ours for static and learned MACs). */
  sequence: number;
  sticky: boolean;
  duplicate: boolean;
  /** Our routes for it are announced (false: the fabric's route won; always false for the fabric's). */
  announced: boolean;
  /** Last seen in a frame (ms since the epoch); null for configured and fabric MACs. */
  lastSeen: number | null;
  /** The last move recorded: the VTEP it moved to, and when (ms since the epoch). */
  lastMove: { vtep: string; at: number } | null;
}

export interface MacQuery {
  service?: string;
  vtep?: string;
  source?: MacSource;
  limit: number;
  cursor?: MacCursor | null;
}

export type MacCursor =
  | { phase: "static"; service: number; vtep: number; mac: number }
  | { phase: "learned"; slot: number }
  | { phase: "evpn"; listing: number };

export interface MacPage {
  items: MacView[];
  /** Where the next page starts; null after the last. */
  next: MacCursor | null;
}

/**
 * A page ends after this many slots of the learning engine (or RIB destinations) visited, or
 * this much time spent (ms, checked every few thousand): it may be short, never long enough to
 * delay a KEEPALIVE or a datagram noticeably.
 */
export const SCAN_BUDGET = 50_000;
export const TIME_BUDGET_MS = 5;

export type MacState = Pick<DaemonState, "config" | "controller" | "now"> & {
  rib(): Pick<Rib, "locRib" | "byMac" | "best">;
};

const SEQ0 = { sequence: 0, sticky: false };

/** RFC 7432 §7.7: the MAC Mobility extended community's sequence and sticky flag (bit 0 of its flags). */
function mobility(ext: readonly ExtCommunity[]): { sequence: number; sticky: boolean } {
  for (const c of ext) if (c.kind === "mac-mobility") return { sequence: c.sequence, sticky: (c.flags & 1) === 1 };
  return SEQ0;
}

export class MacLister {
  private readonly listings: Listings<Destination>;

  constructor(
    private readonly s: MacState,
    private readonly history: History | null,
  ) {
    this.listings = new Listings(s.now);
  }

  /** A page; a cursor of an expired or unknown listing gives null (the caller says so). */
  page(q: MacQuery): MacPage | null {
    const svcs = this.s.config().services.filter((x) => q.service === undefined || x.name === q.service);
    const items: MacView[] = [];
    let c: MacCursor | null = q.cursor ?? { phase: "static", service: 0, vtep: 0, mac: 0 };
    if (c.phase === "static") {
      c = q.source === undefined || q.source === "static" ? this.configured(svcs, q, c, items) : null;
      if (c !== null) return { items, next: c };
      c = { phase: "learned", slot: 0 };
    }
    if (c.phase === "learned") {
      c = q.source === undefined || q.source === "learned" ? this.learned(svcs, q, c.slot, items) : null;
      if (c !== null) return { items, next: c };
      if (q.source !== undefined && q.source !== "evpn") return { items, next: null };
      c = { phase: "evpn", listing: this.open() };
    }
    return this.evpn(svcs, q, c.listing, items);
  }

  /** Every row of one MAC (any service, any source). */
  find(mac: string): MacView[] {
    const out: MacView[] = [];
    const config = this.s.config();
    for (const svc of config.services) {
      const learner = this.s.controller().learner;
      for (const v of svc.staticVteps) {
        const entries = v.macs.filter((m) => m.mac === mac);
        if (entries.length > 0)
          out.push(
            this.configuredRow(
              svc,
              v.address,
              mac,
              entries.flatMap((m) => m.ips),
            ),
          );
      }
      const row = learner?.row(svc.vni, mac);
      if (row !== undefined && !row.configured) out.push(this.learnedRow(row));
    }
    const rib = this.s.rib();
    for (const key of rib.byMac(mac)) {
      const best = rib.best(key);
      if (best === undefined || best.source === "local" || best.route.routeType !== 2 || best.route.ip !== undefined)
        continue;
      const svc = config.services.find((x) => serviceOf([x], best.attrs.extCommunities) !== undefined);
      if (svc !== undefined)
        out.push(this.fabricRow(svc, best.route.mac, best.attrs.nextHop, best.attrs.extCommunities));
    }
    return out;
  }

  private configured(svcs: ServiceSettings[], q: MacQuery, c: MacCursor & { phase: "static" }, out: MacView[]) {
    const all = this.s.config().services;
    for (let si = c.service; si < all.length; si++) {
      const svc = all[si]!;
      if (!svcs.includes(svc)) continue;
      for (let vi = si === c.service ? c.vtep : 0; vi < svc.staticVteps.length; vi++) {
        const v = svc.staticVteps[vi]!;
        if (q.vtep !== undefined && q.vtep !== v.address) continue;
        // A MAC with several "MAC IP" entries is one row, at its first entry, with every address.
        const entries = new Map<string, { first: number; ips: string[] }>();
        v.macs.forEach((m, i) => {
          const e = entries.get(m.mac);
          if (e === undefined) entries.set(m.mac, { first: i, ips: [...m.ips] });
          else e.ips.push(...m.ips);
        });
        const first = si === c.service && vi === c.vtep ? c.mac : 0;
        for (let mi = first; mi < v.macs.length; mi++) {
          const mac = v.macs[mi]!.mac;
          const e = entries.get(mac)!;
          if (e.first !== mi) continue;
          if (out.length === q.limit) return { phase: "static" as const, service: si, vtep: vi, mac: mi };
          out.push(this.configuredRow(svc, v.address, mac, e.ips));
        }
      }
    }
    return null;
  }

  /** A configured MAC: its configured addresses and those learned from its ARP/ND at its VTEP. */
  private configuredRow(svc: ServiceSettings, vtep: string, mac: string, configured: string[]): MacView {
    const ips = new Set(this.s.controller().learner?.row(svc.vni, mac)?.ips);
    for (const ip of configured) ips.add(ip);
    return {
      service: svc.name,
      vni: svc.vni,
      mac,
      vtep,
      source: "static",
      ips: [...ips].sort(),
      sequence: 0,
      sticky: true, // RFC 7432 §15.2
      duplicate: false,
      announced: true,
      lastSeen: null,
      lastMove: null,
    };
  }

  private learned(svcs: ServiceSettings[], q: MacQuery, slot: number, out: MacView[]): MacCursor | null {
    const learner = this.s.controller().learner;
    if (learner === undefined) return null;
    const vnis = new Set(svcs.map((x) => x.vni));
    const match = (vni: number, vtep: string) => vnis.has(vni) && (q.vtep === undefined || vtep === q.vtep);
    const rows: LearnedBinding[] = [];
    let from = slot;
    const end = this.s.now() + TIME_BUDGET_MS;
    for (let budget = SCAN_BUDGET; from !== -1 && out.length < q.limit && budget > 0 && this.s.now() <= end;) {
      rows.length = 0;
      const step = Math.min(budget, 2048);
      const next = learner.scan(from, step, rows, match, q.limit - out.length);
      budget -= next === -1 ? step : next - from;
      // Configured MACs with learned addresses are listed with their configuration.
      for (const r of rows) if (!r.configured) out.push(this.learnedRow(r));
      from = next;
    }
    return from === -1 ? null : { phase: "learned", slot: from };
  }

  private learnedRow(r: LearnedBinding): MacView {
    return {
      service: r.service,
      vni: r.vni,
      mac: r.mac,
      vtep: r.vtep,
      source: "learned",
      ips: r.ips,
      sequence: r.seq,
      sticky: false,
      duplicate: r.duplicate,
      announced: r.announced,
      lastSeen: r.lastSeen,
      lastMove: this.history?.lastMove(r.vni, r.mac) ?? null,
    };
  }

  private fabricRow(svc: ServiceSettings, mac: string, vtep: string, ext: readonly ExtCommunity[]): MacView {
    const rib = this.s.rib();
    const ips: string[] = [];
    for (const key of rib.byMac(mac)) {
      const p = rib.best(key);
      if (p !== undefined && p.source !== "local" && p.route.routeType === 2 && p.route.ip !== undefined)
        if (p.attrs.nextHop === vtep && serviceOf([svc], p.attrs.extCommunities) !== undefined) ips.push(p.route.ip);
    }
    return {
      service: svc.name,
      vni: svc.vni,
      mac,
      vtep,
      source: "evpn",
      ips: ips.sort(),
      ...mobility(ext),
      duplicate: false,
      announced: false,
      lastSeen: null,
      lastMove: this.history?.lastMove(svc.vni, mac) ?? null,
    };
  }

  private open(): number {
    return this.listings.add(this.s.rib().locRib());
  }

  private evpn(svcs: ServiceSettings[], q: MacQuery, listing: number, out: MacView[]): MacPage | null {
    const it = this.listings.get(listing);
    if (it === undefined) return null;
    const end = this.s.now() + TIME_BUDGET_MS;
    for (let budget = SCAN_BUDGET; budget > 0 && out.length < q.limit; budget--) {
      if ((budget & 1023) === 0 && this.s.now() > end) break;
      const n = it.next();
      if (n.done === true) {
        this.listings.close(listing);
        return { items: out, next: null };
      }
      const p = n.value.best;
      if (p.source === "local" || p.route.routeType !== 2 || p.route.ip !== undefined) continue;
      if (q.vtep !== undefined && p.attrs.nextHop !== q.vtep) continue;
      const svc = serviceOf(svcs, p.attrs.extCommunities);
      if (svc !== undefined) out.push(this.fabricRow(svc, p.route.mac, p.attrs.nextHop, p.attrs.extCommunities));
    }
    return { items: out, next: { phase: "evpn", listing } };
  }
}

/** The service a fabric route belongs to: the first whose route targets it carries. */
function serviceOf(svcs: ServiceSettings[], ext: readonly ExtCommunity[]): ServiceSettings | undefined {
  for (const c of ext)
    if (c.kind === "route-target") {
      const svc = svcs.find((s) => s.routeTargets.includes(c.value));
      if (svc !== undefined) return svc;
    }
  return undefined;
}
