// The data-plane settings of a service (replication mode, source address of copies, the RFC 9161
// proxy-ARP/ND function): their normalized form and the checks across fields they need.
import type { ArpNdProxySettings, ProxyConfig, ReplicationMode, ReplicationSource } from "./model.js";
import { ArpNdProxySchema, type ConfigFile, parseArpNdEntry } from "./schema.js";
import { InvariantError } from "../errors.js";

type ServiceFile = ConfigFile["services"][number];
type ArpNdFile = Exclude<ServiceFile["arp-nd-proxy"], boolean | undefined>;

export interface DataplaneProblem {
  path: readonly PropertyKey[];
  message: string;
}

function arpNd(f: ArpNdFile): ArpNdProxySettings {
  return {
    static: f.static.map((e) => {
      const r = parseArpNdEntry(e);
      if (!r.ok) throw new InvariantError("ERR_CONFIG_INVARIANT", `unvalidated ARP/ND entry ${e}`);
      return r.value;
    }),
    floodUnknown: f["flood-unknown"],
    floodGratuitous: f["flood-gratuitous"],
    duplicateMaxMoves: f["duplicate-max-moves"],
    duplicateWindowSeconds: f["duplicate-window-seconds"],
    duplicateHoldSeconds: f["duplicate-hold-seconds"],
    requestRate: f["max-requests-per-source"],
    requestBurst: f["request-burst"],
  };
}

/** The replication settings of a service; `arp-nd-proxy` absent is on exactly when replication is "proxy". */
export function normalizeReplication(s: ServiceFile): {
  replication: ReplicationMode;
  replicationSource: ReplicationSource;
  arpNdProxy: ArpNdProxySettings | null;
} {
  const a = s["arp-nd-proxy"] ?? s.replication === "proxy";
  return {
    replication: s.replication,
    replicationSource: s["replication-source"],
    arpNdProxy: a === false ? null : arpNd(a === true ? ArpNdProxySchema.parse({}) : a),
  };
}

/** Checks of the data-plane settings against the rest of the configuration. */
export function checkReplication(c: ProxyConfig, file: ConfigFile): DataplaneProblem[] {
  const out: DataplaneProblem[] = [];
  const listen = c.learning.vxlanListen;
  c.services.forEach((s, i) => {
    const at = ["services", i] as const;
    const written = file.services[i]?.["arp-nd-proxy"];
    if (s.replication === "proxy" && listen === undefined)
      out.push({
        path: [...at, "replication"],
        message:
          "replication: proxy needs learning.vxlan-listen, the address static VTEPs list as their only flood entry",
      });
    if (s.replication === "ingress" && s.arpNdProxy !== null && written !== undefined)
      out.push({
        path: [...at, "arp-nd-proxy"],
        message:
          "the proxy-ARP/ND function needs replication: proxy (with ingress replication every request reaches every host, and the proxy's answers would duplicate theirs)",
      });
    if (s.replication === "proxy" && listen !== undefined)
      s.staticVteps.forEach((v, j) => {
        if (v.address === listen)
          out.push({
            path: [...at, "static-vteps", j, "address"],
            message: `${v.address} is learning.vxlan-listen, the proxy's own VXLAN address, not a static VTEP`,
          });
      });
    const configured = new Map<string, string>();
    const located = new Set<string>();
    for (const v of s.staticVteps)
      for (const m of v.macs) {
        located.add(m.mac);
        for (const ip of m.ips) configured.set(ip, m.mac);
      }
    const seen = new Map<string, number>();
    s.arpNdProxy?.static.forEach((e, k) => {
      const path = [...at, "arp-nd-proxy", "static", k];
      const prev = seen.get(e.ip);
      if (prev !== undefined) out.push({ path, message: `duplicate entry for ${e.ip} (also ${formatIndex(i, prev)})` });
      else seen.set(e.ip, k);
      const mac = configured.get(e.ip);
      if (mac !== undefined && mac !== e.mac)
        out.push({ path, message: `${e.ip} is bound to MAC ${mac} under static-vteps; an address has one MAC` });
      else if (!located.has(e.mac))
        out.push({
          path,
          message: `MAC ${e.mac} is not configured under any static VTEP of the service; a static entry is announced where its MAC is (add it to that VTEP's macs)`,
        });
    });
  });
  return out;
}

function formatIndex(service: number, entry: number): string {
  return `services[${service}].arp-nd-proxy.static[${entry}]`;
}

/** Which VXLAN senders the services need: "preserve" (raw, another VTEP's source) and "proxy" (UDP). */
export function senderModes(c: ProxyConfig): { preserve: boolean; proxy: boolean } {
  const replicated = c.services.filter((s) => s.replication === "proxy");
  return { preserve: replicated.some((s) => s.replicationSource === "vtep"), proxy: replicated.length > 0 };
}

/**
 * The addresses of static proxy-ARP/ND entries added to their configured MAC (the checks
 * guarantee one): from then on they are configured bindings like "MAC IP" entries — announced,
 * never learned as well.
 */
export function foldStaticEntries(c: ProxyConfig): ProxyConfig {
  return {
    ...c,
    services: c.services.map((s) => {
      const statics = s.arpNdProxy?.static ?? [];
      if (statics.length === 0) return s;
      return {
        ...s,
        staticVteps: s.staticVteps.map((v) => ({
          ...v,
          macs: v.macs.map((m) => {
            const extra = statics.filter((e) => e.mac === m.mac && !m.ips.includes(e.ip)).map((e) => e.ip);
            return extra.length > 0 ? { ...m, ips: [...m.ips, ...extra] } : m;
          }),
        })),
      };
    }),
  };
}
