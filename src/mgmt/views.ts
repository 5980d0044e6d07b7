// Typed read models of what the daemon knows, for the API, `show` and metrics: neighbours,
// services with their flood lists, VTEPs, routes advertised and received, counters (MACs, paged:
// macs.ts). They
// read the running modules through DaemonState (types only) and change nothing; each call is a
// fresh snapshot of plain data with a stable key order.

import type { NeighborStatus } from "../bgp/view.js";
import type { Rib } from "../bgp/rib.js";
import type { EvpnRoute } from "../codec/index.js";
import type { ProxyConfig } from "../config/model.js";
import type { SourceCounters } from "../dataplane/io/udp-source.js";
import type { LearnCounters } from "../dataplane/learning/learner.js";
import type { SenderCounters } from "../dataplane/io/vxlan-sender.js";
import type { ReplicationCounters, ReplicationEngine } from "../dataplane/replication/engine.js";
import type { Controller } from "../evpn/controller.js";
import { compareAddresses } from "../net/addr.js";

/** What the views read; the composition root provides it. */
export interface DaemonState {
  config(): ProxyConfig;
  neighbors(): NeighborStatus[];
  rib(): Pick<Rib, "locRib" | "localCount" | "byMac" | "best" | "adjIn">;
  controller(): Pick<Controller, "learner" | "planned" | "plannedCount" | "suppressed" | "evpnVtepsOf" | "evpnVteps">;
  sources(): SourceCounters | undefined;
  /** The replication engine (flood lists, election, counters). */
  replication(): Pick<ReplicationEngine, "flood" | "counters" | "self">;
  /** Counters of the open VXLAN senders, by mode. */
  senders(): { mode: "preserve" | "proxy"; counters: SenderCounters }[];
  /** Wall-clock milliseconds (MAC ages). */
  now(): number;
}

export interface StaticVtepView {
  address: string;
  source: "configured" | "discovered";
  /** false: it announces its own IMET route for this service (RFC 7432 §11.1) and is not proxied. */
  proxied: boolean;
  configuredMacs: number;
  learnedMacs: number;
}

export interface ServiceView {
  name: string;
  evi: number;
  vni: number;
  routeTargets: string[];
  staticVteps: StaticVtepView[];
  /** VTEPs that announce their own IMET route with one of the service's route targets. */
  evpnVteps: string[];
  /**
   * Every VTEP an EVPN VTEP floods this service's BUM traffic to: proxied static VTEPs and EVPN
   * VTEPs; with replication by the proxy, the EVPN VTEPs and the replicating proxies.
   */
  floodList: string[];
  macs: { configured: number; learned: number };
  replication: ReplicationView;
}

export interface ReplicationView {
  mode: "ingress" | "proxy";
  /** Outer source address of copies: the sending VTEP's, or the proxy's. */
  source: "vtep" | "proxy";
  /** Replicating proxies of the service, this one included (RFC 7432 §8.5 candidate order); [] with ingress. */
  replicators: string[];
  /** The proxy elected to replicate, null with ingress replication. */
  elected: string | null;
  /** This proxy replicates the service's BUM traffic now (elected, and past the election wait). */
  forwarding: boolean;
}

export interface VtepView {
  address: string;
  kind: "static" | "discovered" | "evpn";
  services: string[];
}

export interface RouteView {
  route: EvpnRoute;
  nextHop: string;
  /** "configured" (the plan), or the address of the peer it came from. */
  from: string;
  best: boolean;
  stale: boolean;
}

export interface RoutesView {
  advertised: { planned: RouteView[]; learned: number };
  received: RouteView[];
}

export interface CountersView {
  routes: { planned: number; learned: number; received: number };
  learning: LearnCounters | null;
  source: SourceCounters | null;
  replication: ReplicationCounters;
  senders: { mode: "preserve" | "proxy"; counters: SenderCounters }[];
}

export interface Views {
  neighbors(): NeighborStatus[];
  services(): ServiceView[];
  vteps(): VtepView[];
  routes(): RoutesView;
  counters(): CountersView;
}

const byAddress = compareAddresses;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function views(s: DaemonState): Views {
  /** Learned MACs (not configured ones with learned addresses) by VNI and VTEP: one pass, no rows built. */
  const learnedCounts = (): Map<number, Map<string, number>> => {
    const counts = new Map<number, Map<string, number>>();
    const learner = s.controller().learner;
    if (learner === undefined) return counts;
    const none: never[] = [];
    const count = (vni: number, vtep: string, configured: boolean): boolean => {
      if (configured) return false;
      let v = counts.get(vni);
      if (v === undefined) counts.set(vni, (v = new Map()));
      v.set(vtep, (v.get(vtep) ?? 0) + 1);
      return false;
    };
    for (let from = 0; from !== -1;) from = learner.scan(from, 1 << 30, none, count);
    return counts;
  };

  const services = (): ServiceView[] => {
    const ctl = s.controller();
    const suppressed = new Set(ctl.suppressed());
    const counts = learnedCounts();
    return s.config().services.map((svc) => {
      const learnedAt = counts.get(svc.vni) ?? new Map<string, number>();
      const evpn = [...ctl.evpnVtepsOf(svc)].sort(byAddress);
      const configured = new Set(svc.staticVteps.map((v) => v.address));
      const staticVteps: StaticVtepView[] = [
        ...svc.staticVteps.map((v) => ({
          address: v.address,
          source: "configured" as const,
          macs: new Set(v.macs.map((m) => m.mac)).size,
        })),
        ...(ctl.learner?.discovered(svc.vni) ?? [])
          .filter((a) => !configured.has(a))
          .map((address) => ({ address, source: "discovered" as const, macs: 0 })),
      ].map((v) => ({
        address: v.address,
        source: v.source,
        proxied: !suppressed.has(`${svc.name}|${v.address}`),
        configuredMacs: v.macs,
        learnedMacs: learnedAt.get(v.address) ?? 0,
      }));
      const list = svc.replication === "proxy" ? s.replication().flood.get(svc.vni) : undefined;
      const flood = new Set(
        list ? [...list.candidates, ...evpn] : [...staticVteps.filter((v) => v.proxied).map((v) => v.address), ...evpn],
      );
      return {
        name: svc.name,
        evi: svc.evi,
        vni: svc.vni,
        routeTargets: [...svc.routeTargets],
        staticVteps,
        evpnVteps: evpn,
        floodList: [...flood].sort(byAddress),
        macs: {
          configured: svc.staticVteps.reduce((n, v) => n + new Set(v.macs.map((m) => m.mac)).size, 0),
          learned: [...learnedAt.values()].reduce((a, b) => a + b, 0),
        },
        replication: {
          mode: svc.replication,
          source: svc.replicationSource,
          replicators: list ? [...list.candidates] : [],
          elected: list?.elected ?? null,
          forwarding: svc.replication === "proxy" && s.replication().flood.forwards(svc.vni, s.now()),
        },
      };
    });
  };

  const vteps = (): VtepView[] => {
    const out = new Map<string, VtepView>();
    const add = (address: string, kind: VtepView["kind"], service: string) => {
      let v = out.get(`${kind}|${address}`);
      if (!v) out.set(`${kind}|${address}`, (v = { address, kind, services: [] }));
      if (!v.services.includes(service)) v.services.push(service);
    };
    for (const svc of services())
      for (const v of svc.staticVteps) add(v.address, v.source === "configured" ? "static" : "discovered", svc.name);
    // Every EVPN VTEP seen, also one whose route targets match no service.
    const config = s.config();
    for (const e of s.controller().evpnVteps()) {
      if (!out.has(`evpn|${e.vtep}`)) out.set(`evpn|${e.vtep}`, { address: e.vtep, kind: "evpn", services: [] });
      for (const svc of config.services)
        if (svc.routeTargets.some((rt) => e.routeTargets.includes(rt))) add(e.vtep, "evpn", svc.name);
    }
    return [...out.values()].sort((a, b) => byAddress(a.address, b.address) || byText(a.kind, b.kind));
  };

  const routes = (): RoutesView => {
    const received: RouteView[] = [];
    for (const d of s.rib().locRib())
      for (const p of d.paths)
        if (p.source !== "local")
          received.push({
            route: p.route,
            nextHop: p.attrs.nextHop,
            from: p.source.address,
            best: p === d.best,
            stale: p.stale,
          });
    const planned = s
      .controller()
      .planned()
      .map((r) => ({ route: r.route, nextHop: r.attrs.nextHop, from: "configured", best: true, stale: false }));
    return { advertised: { planned, learned: s.controller().learner?.announcedRoutes() ?? 0 }, received };
  };

  const counters = (): CountersView => {
    const ctl = s.controller();
    let received = 0;
    for (const d of s.rib().locRib()) for (const p of d.paths) if (p.source !== "local") received++;
    return {
      routes: { planned: ctl.plannedCount, learned: ctl.learner?.announcedRoutes() ?? 0, received },
      learning: ctl.learner ? { ...ctl.learner.counters() } : null,
      source: s.sources() ?? null,
      replication: structuredClone(s.replication().counters),
      senders: s.senders(),
    };
  };

  return { neighbors: () => s.neighbors(), services, vteps, routes, counters };
}
