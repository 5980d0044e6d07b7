// What the proxy announces (RFC 7432, RFC 8365): for every service and every static VTEP that is
// not an EVPN VTEP itself, a type 3 (IMET) route so that EVPN VTEPs flood to the static VTEP, and
// type 2 routes for every configured static MAC: its MAC route and a MAC/IP route per configured
// address. Pure: configuration and the set of EVPN VTEPs in, route groups out.

import type { OutAttrs } from "../bgp/adj-rib-out.js";
import {
  ArpNdFlag,
  encapsulation,
  type EvpnRoute,
  type ExtCommunity,
  type LargeCommunity,
  macIpRoute,
  macMobility,
  type PathAttribute,
  routeTarget,
} from "../codec/index.js";
import type { ServiceSettings } from "../config/model.js";

export interface PlanInput {
  localAs: number;
  services: readonly ServiceSettings[];
  /**
   * The proxy's VXLAN address (learning.vxlan-listen): originator of its own IMET route in every
   * service with `replication: proxy`.
   */
  vxlanAddress?: string;
}

/** One announcement group: routes sharing one attribute object (see Speaker.announceAll). */
export interface RouteGroup {
  attrs: OutAttrs;
  routes: EvpnRoute[];
}

/**
 * Marks routes as proxied, so that a proxy never takes another proxy's route for an EVPN VTEP
 * announcing itself. Derived from the configuration only: proxies with one configuration
 * announce identical routes (large community, RFC 8092: <local-as>:0x45565058 ("EVPX"):1).
 */
export function proxyMarker(localAs: number): LargeCommunity {
  return { global: localAs, local1: EVPX, local2: 1 };
}

/**
 * Marks a proxy's own IMET route (`replication: proxy`): the proxy replicates for the service.
 * Proxies recognize each other by it (they never replicate to one another, and elect one
 * replicator per VNI); large community <local-as>:0x45565058:2.
 */
export function replicatorMarker(localAs: number): LargeCommunity {
  return { global: localAs, local1: EVPX, local2: 2 };
}

const EVPX = 0x45565058;

/** Which marker a route carries: 1 (proxied for a static VTEP), 2 (a replicating proxy's own), or 0. */
export function proxyRole(attrs: readonly PathAttribute[], localAs: number): 0 | 1 | 2 {
  for (const a of attrs)
    if (a.kind === "large-communities") {
      for (const c of a.communities)
        if (c.global === localAs && c.local1 === EVPX && (c.local2 === 1 || c.local2 === 2)) return c.local2;
      return 0;
    }
  return 0;
}

export function isProxyMarked(attrs: readonly PathAttribute[], localAs: number): boolean {
  return proxyRole(attrs, localAs) === 1;
}

/**
 * The route distinguisher of a static VTEP's routes: `<vtep>:<evi>` (RFC 4364 type 1), the form
 * an EVPN VTEP would use for itself. An IPv6 VTEP cannot administer a type 1 RD: it gets
 * `<local-as>:<evi>` (type 0, or type 2 for a 4-octet AS).
 */
export function staticVtepRd(vtep: string, evi: number, localAs: number): string {
  return vtep.includes(":") ? `${localAs}:${evi}` : `${vtep}:${evi}`;
}

/** ORIGIN, AS_PATH and LOCAL_PREF of every proxied route. */
export const BASE_ATTRIBUTES: readonly PathAttribute[] = [
  { kind: "origin", origin: 0 }, // ORIGIN IGP
  { kind: "as-path", segments: [] },
  { kind: "local-pref", localPref: 100 }, // RFC 4271 §5.1.5; the speaker drops it towards eBGP peers
];

/**
 * Attributes of a proxied type 2 route (configured or learned): route targets, VXLAN
 * encapsulation (RFC 8365 §5.1.3), the MAC mobility community when given (RFC 7432 §15), the
 * proxy marker.
 */
export function macRouteAttributes(
  localAs: number,
  routeTargets: readonly string[],
  mobility: ExtCommunity | null,
  arpNd: ExtCommunity | null = null,
): PathAttribute[] {
  const ext = [...routeTargets.map(routeTarget), encapsulation()];
  if (mobility) ext.push(mobility);
  if (arpNd) ext.push(arpNd);
  return [
    ...BASE_ATTRIBUTES,
    { kind: "ext-communities", communities: ext },
    { kind: "large-communities", communities: [proxyMarker(localAs)] },
  ];
}

/** Keeps one attribute object per distinct content, so that unchanged routes are not re-sent. */
export class AttrsCache {
  private readonly byText = new Map<string, OutAttrs>();
  get(nextHop: string, attributes: PathAttribute[]): OutAttrs {
    const text = JSON.stringify([nextHop, attributes]);
    let a = this.byText.get(text);
    if (!a) this.byText.set(text, (a = { nextHop, attributes }));
    return a;
  }
  /** Forgets attribute objects no longer in use. */
  retain(used: Set<OutAttrs>): void {
    for (const [k, v] of this.byText) if (!used.has(v)) this.byText.delete(k);
  }
}

/**
 * The routes to announce. `evpnVteps(service)` is the set of VTEP addresses that announce their
 * own type 3 for that service: those are not proxied (RFC 7432 §11.1 — they speak for themselves).
 */
export function plan(
  input: PlanInput,
  evpnVteps: (s: ServiceSettings) => ReadonlySet<string>,
  cache: AttrsCache,
): RouteGroup[] {
  const groups: RouteGroup[] = [];
  const marker = proxyMarker(input.localAs);
  for (const s of input.services) {
    const own = evpnVteps(s);
    const rts: ExtCommunity[] = s.routeTargets.map(routeTarget);
    // RFC 7432 §11.1, RFC 8365 §5.1.3: an IMET route with the VTEP as originator, next hop and
    // ingress-replication endpoint (RFC 6514 §5 PMSI type 6), the VNI in the label field.
    const imet = (vtep: string, m: LargeCommunity): RouteGroup => ({
      attrs: cache.get(vtep, [
        ...BASE_ATTRIBUTES,
        { kind: "ext-communities", communities: [...rts, encapsulation()] },
        { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: s.vni, endpoint: vtep },
        { kind: "large-communities", communities: [m] },
      ]),
      routes: [{ routeType: 3, rd: staticVtepRd(vtep, s.evi, input.localAs), ethernetTag: 0, originator: vtep }],
    });
    // Replication by the proxy: EVPN VTEPs flood to the proxy alone, which replicates to the
    // static VTEPs; the static VTEPs get no IMET route of their own.
    const proxy = s.replication === "proxy" ? input.vxlanAddress : undefined;
    if (proxy !== undefined) groups.push(imet(proxy, replicatorMarker(input.localAs)));
    for (const v of s.staticVteps) {
      if (own.has(v.address)) continue;
      const rd = staticVtepRd(v.address, s.evi, input.localAs);
      if (proxy === undefined) groups.push(imet(v.address, marker));
      if (v.macs.length === 0) continue;
      // RFC 7432 §15.2: a configured MAC is static: MAC mobility with the sticky flag. Its MAC
      // route, and a MAC/IP route per configured address (RFC 7432 §7.2: IP Address Length 32
      // or 128), once each however many entries name the MAC.
      const mac = cache.get(v.address, macRouteAttributes(input.localAs, s.routeTargets, macMobility(0, true)));
      const seen = new Set<string>();
      const routes: EvpnRoute[] = [];
      const bound: EvpnRoute[] = [];
      // With the proxy-ARP/ND function, configured bindings are its static entries: their
      // MAC/IP routes carry the ARP/ND community with the immutable and override flags
      // (RFC 9047 §2, RFC 9161 §3.2), so that EVPN VTEPs never let a learned binding replace them.
      const immutable = s.arpNdProxy !== null;
      const add = (m: string, ip?: string) => {
        const key = ip === undefined ? m : `${m}/${ip}`;
        if (seen.has(key)) return;
        seen.add(key);
        const r = macIpRoute({ rd, mac: m, ...(ip !== undefined ? { ip } : {}), label1: s.vni });
        (ip !== undefined && immutable ? bound : routes).push(r);
      };
      for (const m of v.macs) {
        add(m.mac);
        for (const ip of m.ips) add(m.mac, ip); // static proxy-ARP/ND entries are among them (config/replication.ts)
      }
      groups.push({ attrs: mac, routes });
      if (bound.length > 0) {
        const flags = ArpNdFlag.IMMUTABLE | ArpNdFlag.OVERRIDE;
        const attrs = macRouteAttributes(input.localAs, s.routeTargets, macMobility(0, true), {
          kind: "arp-nd",
          flags,
        });
        groups.push({ attrs: cache.get(v.address, attrs), routes: bound });
      }
    }
  }
  return groups;
}
