// What the data-plane learning labs (issue 5) share: the seed lab's VNI 10 hosts and VTEPs, and
// the proxy configuration with learning on and no configured MAC (unless given).
import {
  EVPN_VTEPS,
  type Host,
  PROXY_IP,
  type ProxyService,
  STATIC_VTEPS,
  type SeedLab,
  buildSeedLab,
  defaultProxyServices,
  host,
  proxyConfigYaml,
} from "../../lab/seed.js";
import { FRR_BIN, type Frr, type FrrEvpnMac, type Lab, type LabProcess } from "../../tools/netlab/index.js";

export const LEARNING_LAB_TOOLS = ["ip", "bridge", "vtysh", "ping", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];
export const VNI = 10;
export const S1 = STATIC_VTEPS[0]!.ip;
export const S2 = STATIC_VTEPS[1]!.ip;
export const H1 = host(VNI, "s1");
export const H2 = host(VNI, "s2");
export const E1 = host(VNI, "e1");
export const E2 = host(VNI, "e2");
export const EVPN_IPS = new Set(EVPN_VTEPS.map((v) => v.ip));

/**
 * The seed's services without configured MACs; `vni10Vteps` replaces VNI 10's static VTEPs and
 * `vni10Macs` (static VTEP → MAC entries) configures MACs in VNI 10.
 */
export function learningServices(vni10Vteps?: string[], vni10Macs: Record<string, string[]> = {}): ProxyService[] {
  return defaultProxyServices().map((s) => ({
    ...s,
    staticVteps: (s.vni === VNI && vni10Vteps ? vni10Vteps.map((address) => ({ address })) : s.staticVteps).map((v) => {
      const macs = s.vni === VNI ? vni10Macs[v.address] : undefined;
      return macs ? { address: v.address, macs } : { address: v.address };
    }),
  }));
}

/**
 * The proxy's configuration for the learning labs: learningServices(vni10Vteps, vni10Macs) and a
 * `learning` section listening on `listen` with include-ip, plus the `learning` keys given.
 */
export function learningConfigYaml(
  o: {
    listen?: string;
    learning?: Record<string, string | number | boolean | string[]>;
    vni10Vteps?: string[];
    vni10Macs?: Record<string, string[]>;
  } = {},
): string {
  const lines = ["learning:", `  vxlan-listen: ${o.listen ?? PROXY_IP}`, "  include-ip: true"];
  for (const [k, v] of Object.entries(o.learning ?? {}))
    lines.push(`  ${k}: ${Array.isArray(v) ? `[${v.map((x) => `"${x}"`).join(", ")}]` : String(v)}`);
  return `${proxyConfigYaml(learningServices(o.vni10Vteps, o.vni10Macs))}${lines.join("\n")}\n`;
}

/** The seed lab, and its FRR EVPN VTEPs as [underlay IP, FRR] pairs. */
export async function buildLearningLab(lab: Lab): Promise<{ seed: SeedLab; evpn: [string, Frr][] }> {
  const seed = await buildSeedLab(lab);
  return { seed, evpn: EVPN_VTEPS.map((v) => [v.ip, seed.frr[v.name]!]) };
}

/** The proxy's log and the FRR VTEPs' logs, for a failed wait. */
export function proxyAndFrrLogs(proxy: () => LabProcess | undefined, evpn: [string, Frr][]): () => string {
  return () => {
    const p = proxy();
    const parts = [`--- proxy log (${p?.logFile ?? "not started"}) ---`, p ? p.logTail(40) : ""];
    for (const [ip, frr] of evpn) parts.push(`--- FRR ${ip} ---`, frr.logTail(20));
    return parts.join("\n");
  };
}

/** One entry of `show evpn arp-cache vni <vni> json` (top level, keyed by IP). */
export interface FrrArpEntry {
  type?: string;
  mac?: string;
  remoteVtep?: string;
  [k: string]: unknown;
}

/** `show evpn arp-cache vni <vni> json` (it prints nothing at all when empty: {}). */
export function arpCache(frr: Frr, vni: number): Promise<Record<string, FrrArpEntry>> {
  return frr.vtyshJson<Record<string, FrrArpEntry>>(`show evpn arp-cache vni ${vni} json`);
}

/** Every FRR VTEP's entry when `pick` finds one on each, else undefined (for lab.waitFor). */
async function onAll<T>(evpn: [string, Frr][], pick: (ip: string, frr: Frr) => Promise<T | undefined>) {
  const all = await Promise.all(evpn.map(([ip, frr]) => pick(ip, frr)));
  return all.every((x) => x !== undefined) ? (all as T[]) : undefined;
}

/** Every FRR VTEP has `mac` remote at `vtep` in VNI 10 (with a remoteSequence above `above[its IP]`, if given). */
export function macAtAll(
  evpn: [string, Frr][],
  mac: string,
  vtep: string,
  above?: Record<string, number>,
): Promise<FrrEvpnMac[] | undefined> {
  return onAll(evpn, async (ip, frr) => {
    const m = (await frr.evpnMacs(VNI))[mac];
    if (!m || m.type !== "remote" || m.remoteVtep !== vtep) return undefined;
    return above && !((m.remoteSequence ?? 0) > above[ip]!) ? undefined : m;
  });
}

/** Every FRR VTEP has `ip` in VNI 10's arp-cache: remote, bound to `mac` at `vtep`. */
export function ipAtAll(
  evpn: [string, Frr][],
  ip: string,
  mac: string,
  vtep: string,
): Promise<FrrArpEntry[] | undefined> {
  return onAll(evpn, async (_, frr) => {
    const n = (await arpCache(frr, VNI))[ip];
    return n && n.type === "remote" && n.mac === mac && n.remoteVtep === vtep ? n : undefined;
  });
}

/** A host's IPv6 address in VNI 10: 2001:db8:10::<last octet of its IPv4 address>. */
export const ip6 = (h: Host): string => `2001:db8:10::${h.ip.split(".").at(-1)!}`;

/** ARP/ND caches flushed, then a ping from `from`: its broadcast ARP request / ND solicitation; true when answered. */
export async function pingFrom(lab: Lab, from: Host, to: string, v6 = false): Promise<boolean> {
  await lab.exec(from.name, "ip", ["neigh", "flush", "all"]);
  const args = [...(v6 ? ["-6"] : []), "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", to];
  return (await lab.exec(from.name, "ping", args, { check: false })).code === 0;
}
