// What the replication labs (issue 12) share besides lab/replication.ts: the tools they need, the
// replicator marker of the proxy's IMET routes, and the kernel's reverse-path-filter counter.
import { FRR_BIN, type Lab } from "../../tools/netlab/index.js";

export const REPLICATION_LAB_TOOLS = [
  "ip",
  "bridge",
  "vtysh",
  "ping",
  "tcpdump",
  "arping",
  "ndisc6",
  "sysctl",
  `${FRR_BIN}/zebra`,
  `${FRR_BIN}/bgpd`,
];

/** The large community <as>:0x45565058:2 ("EVPX", 2: a replicating proxy) in FRR's JSON text. */
export const REPLICATOR_MARKER = /\b65000:1163284568:2\b/;

/** TcpExt IPReversePathFilter of a namespace: packets its rp_filter dropped (/proc/net/netstat). */
export async function rpFilterDrops(lab: Lab, ns: string): Promise<number> {
  const text = (await lab.exec(ns, "cat", ["/proc/net/netstat"])).stdout.split("\n");
  for (let i = 0; i + 1 < text.length; i += 2) {
    const names = text[i]!.split(/\s+/);
    const values = text[i + 1]!.split(/\s+/);
    if (names[0] !== "TcpExt:") continue;
    const k = names.indexOf("IPReversePathFilter");
    if (k > 0) return Number(values[k]);
  }
  throw new Error(`no TcpExt IPReversePathFilter in /proc/net/netstat of ${ns}`);
}
