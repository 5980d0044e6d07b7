// Routes as the API lists them, a page at a time: advertised (the planned routes: configuration
// and discovered VTEPs; learned ones are listed as MACs) or received (every path from a
// neighbour in the RIB, best or not). Neither has a stable position to resume from, so a listing
// is kept open between pages (listings.ts).

import type { OutAttrs } from "../bgp/adj-rib-out.js";
import type { Rib } from "../bgp/rib.js";
import type { EvpnRoute, ExtCommunity } from "../codec/index.js";
import { Listings } from "./listings.js";
import type { DaemonState } from "./views.js";

export interface RouteRow {
  route: EvpnRoute;
  nextHop: string;
  /** "configured" (the plan), or the address of the neighbour it came from. */
  from: string;
  best: boolean;
  stale: boolean;
  extCommunities: readonly ExtCommunity[];
}

export type RouteDirection = "advertised" | "received";

export interface RoutePage {
  items: RouteRow[];
  next: number | null;
}

export type RouteState = Pick<DaemonState, "controller" | "now"> & { rib(): Pick<Rib, "locRib"> };

/** Routes visited per page at most, and time spent (ms): a page may be short. */
const SCAN_BUDGET = 50_000;
const TIME_BUDGET_MS = 5;

const NONE: readonly ExtCommunity[] = [];

function extOf(attrs: OutAttrs): readonly ExtCommunity[] {
  for (const a of attrs.attributes) if (a.kind === "ext-communities") return a.communities;
  return NONE;
}

function* planned(s: RouteState): Generator<RouteRow> {
  for (const r of s.controller().planned())
    yield {
      route: r.route,
      nextHop: r.attrs.nextHop,
      from: "configured",
      best: true,
      stale: false,
      extCommunities: extOf(r.attrs),
    };
}

function* received(s: RouteState): Generator<RouteRow> {
  for (const d of s.rib().locRib())
    for (const p of d.paths)
      if (p.source !== "local")
        yield {
          route: p.route,
          nextHop: p.attrs.nextHop,
          from: p.source.address,
          best: p === d.best,
          stale: p.stale,
          extCommunities: p.attrs.extCommunities,
        };
}

export class RouteLister {
  private readonly listings: Listings<RouteRow>;

  constructor(private readonly s: RouteState) {
    this.listings = new Listings(s.now);
  }

  /** A page of routes of `type` (any when undefined); null for an unknown or expired listing. */
  page(direction: RouteDirection, type: number | undefined, limit: number, listing?: number): RoutePage | null {
    const id = listing ?? this.listings.add(direction === "advertised" ? planned(this.s) : received(this.s));
    const it = this.listings.get(id);
    if (it === undefined) return null;
    const items: RouteRow[] = [];
    const end = this.s.now() + TIME_BUDGET_MS;
    for (let budget = SCAN_BUDGET; budget > 0 && items.length < limit; budget--) {
      if ((budget & 1023) === 0 && this.s.now() > end) break;
      const n = it.next();
      if (n.done === true) {
        this.listings.close(id);
        return { items, next: null };
      }
      if (type === undefined || n.value.route.routeType === type) items.push(n.value);
    }
    return { items, next: id };
  }
}
