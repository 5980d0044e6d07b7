// What the data-plane learning labs (issue 5) share: the seed lab's VNI 10 hosts and VTEPs, and
// the proxy configuration with learning on and no configured MAC.
import {
  EVPN_VTEPS,
  PROXY_IP,
  type ProxyService,
  STATIC_VTEPS,
  type SeedLab,
  buildSeedLab,
  defaultProxyServices,
  host,
  proxyConfigYaml,
} from "../../lab/seed.js";
import { FRR_BIN, type Frr, type Lab, type LabProcess } from "../../tools/netlab/index.js";

export const LEARNING_LAB_TOOLS = ["ip", "bridge", "vtysh", "ping", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];
export const VNI = 10;
export const S1 = STATIC_VTEPS[0]!.ip;
export const S2 = STATIC_VTEPS[1]!.ip;
export const H1 = host(VNI, "s1");
export const H2 = host(VNI, "s2");
export const E1 = host(VNI, "e1");
export const E2 = host(VNI, "e2");
export const EVPN_IPS = new Set(EVPN_VTEPS.map((v) => v.ip));

/** The seed's services without configured MACs; `vni10Vteps` replaces VNI 10's static VTEPs. */
export function learningServices(vni10Vteps?: string[]): ProxyService[] {
  return defaultProxyServices().map((s) => ({
    ...s,
    staticVteps: (s.vni === VNI && vni10Vteps ? vni10Vteps.map((address) => ({ address })) : s.staticVteps).map(
      (v) => ({ address: v.address }),
    ),
  }));
}

/**
 * The proxy's configuration for the learning labs: learningServices(vni10Vteps) and a `learning`
 * section listening on `listen` with include-ip, plus the `learning` keys given.
 */
export function learningConfigYaml(
  o: { listen?: string; learning?: Record<string, string | number | boolean | string[]>; vni10Vteps?: string[] } = {},
): string {
  const lines = ["learning:", `  vxlan-listen: ${o.listen ?? PROXY_IP}`, "  include-ip: true"];
  for (const [k, v] of Object.entries(o.learning ?? {}))
    lines.push(`  ${k}: ${Array.isArray(v) ? `[${v.map((x) => `"${x}"`).join(", ")}]` : String(v)}`);
  return `${proxyConfigYaml(learningServices(o.vni10Vteps))}${lines.join("\n")}\n`;
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
