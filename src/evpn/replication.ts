// What the replication engine needs from the control plane: for every service the proxy
// replicates for, its static VTEPs (configured and discovered, except those that announce their
// own IMET route), its EVPN VTEPs and the other replicating proxies; and where a MAC sits.

import type { Path, RibChange } from "../bgp/rib.js";
import type { ProxyConfig, ServiceSettings } from "../config/model.js";
import type { FloodInput } from "../dataplane/replication/flood.js";
import type { ArpNdConfig, ReplicatedService } from "../dataplane/replication/engine.js";

export function replicatedServices(c: ProxyConfig): ReplicatedService[] {
  return c.services
    .filter((s) => s.replication === "proxy")
    .map((s) => ({ vni: s.vni, name: s.name, source: s.replicationSource, arpNd: s.arpNdProxy !== null }));
}

export interface VtepSets {
  evpn(s: ServiceSettings): ReadonlySet<string>;
  replicators(s: ServiceSettings): ReadonlySet<string>;
  discovered(vni: number): readonly string[];
}

export function floodInputs(c: ProxyConfig, sets: VtepSets): FloodInput[] {
  const out: FloodInput[] = [];
  for (const s of c.services) {
    if (s.replication !== "proxy") continue;
    const evpn = sets.evpn(s);
    const statics = [...s.staticVteps.map((v) => v.address), ...sets.discovered(s.vni)].filter((v) => !evpn.has(v));
    out.push({ vni: s.vni, statics, evpn: [...evpn], replicators: [...sets.replicators(s)] });
  }
  return out;
}

/** Configured MACs by VNI: the VTEP each sits behind. */
export function configuredMacs(c: ProxyConfig): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  for (const s of c.services) {
    const m = new Map<string, string>();
    for (const v of s.staticVteps) for (const e of v.macs) m.set(e.mac, v.address);
    out.set(s.vni, m);
  }
  return out;
}

/** The proxy-ARP/ND table's settings, and where the MACs of static entries sit; null when no service has the function. */
export function arpNdConfig(c: ProxyConfig): ArpNdConfig | null {
  const services = c.services.filter((s) => s.replication === "proxy" && s.arpNdProxy !== null);
  if (services.length === 0) return null;
  const located: ArpNdConfig["located"] = [];
  for (const s of services)
    for (const v of s.staticVteps) for (const m of v.macs) located.push({ vni: s.vni, mac: m.mac, vtep: v.address });
  return {
    settings: {
      ageingSeconds: c.learning.ageingSeconds,
      services: services.map((s) => {
        const a = s.arpNdProxy!;
        return {
          vni: s.vni,
          name: s.name,
          floodUnknown: a.floodUnknown,
          floodGratuitous: a.floodGratuitous,
          static: staticEntries(s),
          duplicate: {
            maxMoves: a.duplicateMaxMoves,
            windowSeconds: a.duplicateWindowSeconds,
            holdSeconds: a.duplicateHoldSeconds,
          },
          requestRate: a.requestRate,
          requestBurst: a.requestBurst,
        };
      }),
    },
    located,
  };
}

/** The static entries of a service: `arp-nd-proxy.static` and every configured "MAC IP" binding (RFC 9161 §3.2). */
function staticEntries(s: ServiceSettings): { ip: string; mac: string }[] {
  const out = new Map<string, { ip: string; mac: string }>();
  for (const e of s.arpNdProxy?.static ?? []) out.set(e.ip, e);
  for (const v of s.staticVteps)
    for (const m of v.macs) for (const ip of m.ips) if (!out.has(ip)) out.set(ip, { ip, mac: m.mac });
  return [...out.values()];
}

/**
 * A best-path change of a MAC/IP route as the proxy-ARP/ND table takes it: the fabric's best
 * path (not ours) before and after, with its MAC mobility sequence (RFC 7432 §15) and RFC 9047
 * ARP/ND flags. null for anything else.
 */
export function evpnBinding(c: RibChange): {
  vni: number;
  ip: string;
  mac: string;
  old: string | undefined;
  best: { vtep: string; seq: number; flags: number } | undefined;
} | null {
  const r = c.route;
  if (r.routeType !== 2 || r.ip === undefined) return null;
  const remote = (p: Path | undefined) => (p !== undefined && p.source !== "local" ? p : undefined);
  const o = remote(c.old);
  const n = remote(c.new);
  let best: { vtep: string; seq: number; flags: number } | undefined;
  if (n) {
    let seq = 0;
    let flags = 0;
    for (const x of n.attrs.extCommunities) {
      if (x.kind === "mac-mobility") seq = x.sequence;
      else if (x.kind === "arp-nd") flags = x.flags;
    }
    best = { vtep: n.attrs.nextHop, seq, flags };
  }
  return { vni: r.label1, ip: r.ip, mac: r.mac, old: o?.attrs.nextHop, best };
}
