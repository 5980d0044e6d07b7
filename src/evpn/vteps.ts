// EVPN VTEPs seen in the fabric, per route target: from received type 3 (IMET) routes that a VTEP
// originates for itself (originating router's IP = next hop, RFC 7432 §11.1, RFC 8365 §5.1.3), not
// from routes another evpn-proxy announces on a static VTEP's behalf (those carry the proxy
// marker). Replicating proxies (their own IMET routes carry the replicator marker) are kept apart:
// they are not flooded to, and they elect one replicator per service. Pure: fed with the
// speaker's best-path changes.

import type { RibChange } from "../bgp/rib.js";
import { proxyRole } from "./plan.js";

interface Entry {
  vtep: string;
  routeTargets: readonly string[];
  /** A replicating proxy, not an EVPN VTEP. */
  replicator: boolean;
}

export class EvpnVtepTracker {
  private readonly byKey = new Map<string, Entry>();

  constructor(private readonly localAs: number) {}

  /** Applies best-path changes; returns whether the set of EVPN VTEPs may have changed. */
  apply(changes: readonly RibChange[]): boolean {
    let changed = false;
    for (const c of changes) {
      if (c.route.routeType !== 3) continue;
      const p = c.new;
      const role = p ? proxyRole(p.attrs.attributes, this.localAs) : 1;
      const entry =
        p && p.route.routeType === 3 && p.attrs.nextHop === p.route.originator && role !== 1
          ? { vtep: p.route.originator, routeTargets: routeTargetsOf(p.attrs.extCommunities), replicator: role === 2 }
          : undefined;
      const had = this.byKey.get(c.key);
      if (entry) this.byKey.set(c.key, entry);
      else this.byKey.delete(c.key);
      if (
        had?.vtep !== entry?.vtep ||
        had?.replicator !== entry?.replicator ||
        String(had?.routeTargets) !== String(entry?.routeTargets)
      )
        changed = true;
    }
    return changed;
  }

  /** EVPN VTEPs announcing an IMET route with one of these route targets. */
  vteps(routeTargets: readonly string[]): Set<string> {
    return this.select(routeTargets, false);
  }

  /** Replicating proxies announcing their IMET route with one of these route targets. */
  replicators(routeTargets: readonly string[]): Set<string> {
    return this.select(routeTargets, true);
  }

  private select(routeTargets: readonly string[], replicator: boolean): Set<string> {
    const out = new Set<string>();
    for (const e of this.byKey.values())
      if (e.replicator === replicator && e.routeTargets.some((rt) => routeTargets.includes(rt))) out.add(e.vtep);
    return out;
  }

  /** Every EVPN VTEP with the route targets it imports into, for status output. */
  all(): { vtep: string; routeTargets: readonly string[] }[] {
    const out: { vtep: string; routeTargets: readonly string[] }[] = [];
    for (const e of this.byKey.values()) if (!e.replicator) out.push({ vtep: e.vtep, routeTargets: e.routeTargets });
    return out;
  }
}

function routeTargetsOf(ext: readonly { kind: string; value?: string }[]): string[] {
  const out: string[] = [];
  for (const c of ext) if (c.kind === "route-target" && c.value !== undefined) out.push(c.value);
  return out;
}
