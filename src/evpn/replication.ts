// What the replication engine needs from the control plane: for every service the proxy
// replicates for, its static VTEPs (configured and discovered, except those that announce their
// own IMET route), its EVPN VTEPs and the other replicating proxies; and where a MAC sits.

import type { ProxyConfig, ServiceSettings } from "../config/model.js";
import type { FloodInput } from "../dataplane/replication/flood.js";
import type { ReplicatedService } from "../dataplane/replication/engine.js";

export function replicatedServices(c: ProxyConfig): ReplicatedService[] {
  return c.services
    .filter((s) => s.replication === "proxy")
    .map((s) => ({ vni: s.vni, name: s.name, source: s.replicationSource }));
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
