// Topologies as data: namespaces, veth links with addresses, bridges, VXLAN devices and FRR
// instances, built in one call.
import type { Frr, FrrOptions } from "./frr.js";
import type { BridgeOptions, Lab, LinkOptions, VxlanOptions } from "./lab.js";

/** Addresses in CIDR notation; null or absent for none (e.g. a bridge port). */
export type Addrs = string | string[] | null | undefined;

export interface TopologyLink extends LinkOptions {
  a: string;
  aAddr?: Addrs;
  b: string;
  bAddr?: Addrs;
}

export interface TopologyBridge extends BridgeOptions {
  ns: string;
  name: string;
  /** Interfaces to enslave (created by `links`). */
  ports?: string[];
}

export interface TopologyVxlan extends VxlanOptions {
  ns: string;
  name: string;
}

export interface TopologyFrr extends FrrOptions {
  ns: string;
  config: string;
  /** Lines applied under `configure terminal` once FRR runs (see Frr.configure). */
  configure?: string[];
}

/** Created in this order: namespaces, links, bridges, VXLAN devices, then FRR (all at once). */
export interface Topology {
  /** Short namespace names. */
  namespaces: string[];
  links?: TopologyLink[];
  bridges?: TopologyBridge[];
  vxlans?: TopologyVxlan[];
  frr?: TopologyFrr[];
}

/** Builds `topo` in `lab`; returns the FRR instances by short namespace name. */
export async function buildTopology(lab: Lab, topo: Topology): Promise<Record<string, Frr>> {
  for (const ns of topo.namespaces) await lab.ns(ns);
  for (const { a, aAddr, b, bAddr, ...opts } of topo.links ?? []) await lab.link(a, aAddr, b, bAddr, opts);
  for (const { ns, name, ports, ...opts } of topo.bridges ?? []) await lab.bridge(ns, name, ports, opts);
  for (const { ns, name, ...opts } of topo.vxlans ?? []) await lab.vxlan(ns, name, opts);
  const specs = topo.frr ?? [];
  const started = await Promise.all(
    specs.map(async ({ ns, config, configure, ...opts }) => {
      const f = await lab.frr(ns, config, opts);
      if (configure) await f.configure(configure);
      return f;
    }),
  );
  const out: Record<string, Frr> = {};
  specs.forEach((s, i) => (out[s.ns] = started[i]!));
  return out;
}
