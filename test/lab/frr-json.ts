// Readers for the FRR 8.4 JSON that interop-frr.test.ts needs beyond what tools/netlab
// offers: the detailed EVPN table (per-path VNI, PMSI, ORIGINATOR_ID, CLUSTER_LIST, stale flag),
// a neighbour's graceful restart state, and FRR's version. Shapes below were read from FRR 8.4.4
// in the lab, not guessed; only the fields the test uses are typed.
//
// Found on FRR 8.4.4:
// - `show bgp l2vpn evpn route json` (the summary form) has no label, PMSI, ORIGINATOR_ID or
//   CLUSTER_LIST; `show bgp l2vpn evpn route detail json` has them. Same RD → prefix nesting, but
//   the route fields (rd, routeType, ethTag, mac, ip, ipLen) sit on the prefix entry, and each path
//   has `VNI` (the label of types 2 and 5, as a string), `pmsi` {tunnelType, label} (no tunnel
//   endpoint), `originatorId`, `clusterList.list`, `peer.peerId`, `nexthops[].ip`.
// - No JSON (nor text) of FRR 8.4 shows the gateway IP of a type 5 route: `show bgp l2vpn evpn
//   all overlay json` prints `"overlay": {"gw": ""}` for a route whose NLRI carries one (checked
//   with tshark), and the `debug bgp updates in` line prints "gateway IP 2.0.0.0" (the address
//   family number of its ipaddr struct, a printing bug).
// - A stale path (graceful restart helper) has `"stale": true`, in the detail form also
//   `gracefulRestartSecondsRemaining` (seen on an IPv4 unicast path: FRR 8.4 keeps no EVPN
//   path stale, see interop-frr.test.ts).
// - `show bgp neighbors <ip> json` → { "<ip>": { bgpState, neighborCapabilities: {
//   gracefulRestart: "advertisedAndReceived", gracefulRestartRemoteTimerMsecs,
//   addressFamiliesByPeer: { l2VpnEvpn: { preserved } } }, gracefulRestartInfo: { endOfRibSend,
//   endOfRibRecv: { l2VpnEvpn }, localGrMode, remoteGrMode, rBit, nBit, timers: {
//   configuredRestartTimer, receivedRestartTimer } } } }. `rBit` is the Restart State bit the
//   peer sent; `remoteGrMode` is "Restart" only when the peer preserves a family FRR does
//   graceful restart for (IPv4/IPv6 unicast, multicast, MPLS VPN), else "Helper".
import type { Frr } from "../../tools/netlab/index.js";

/** One path of `show bgp l2vpn evpn route detail json`. */
export interface FrrDetailPath {
  /** Label of a type 2 or type 5 route (the VNI), as a decimal string. */
  VNI?: string;
  aspath?: { string: string; segments: unknown[]; length: number };
  origin?: string;
  /** MULTI_EXIT_DISC, when the path has one. */
  metric?: number;
  locPrf?: number;
  valid?: boolean;
  /** Graceful restart helper: the path is kept although its peer is gone. */
  stale?: boolean;
  bestpath?: { overall?: boolean; selectionReason?: string };
  extendedCommunity?: { string: string };
  originatorId?: string;
  clusterList?: { list: string[] };
  /** Type 3: e.g. { tunnelType: "Ingress Replication", label: 10 }. */
  pmsi?: { tunnelType: string; label: number };
  nexthops?: { ip: string; afi: string; accessible?: boolean; used?: boolean }[];
  peer?: { peerId: string; routerId?: string; type?: string };
  [k: string]: unknown;
}

/** One route (RD + prefix) of `show bgp l2vpn evpn route detail json`. */
export interface FrrDetailRoute {
  rd: string;
  /** FRR notation, e.g. "[3]:[0]:[32]:[192.0.2.1]". */
  prefix: string;
  routeType: number;
  ethTag?: number;
  mac?: string;
  /** Type 2: the IP; type 3: the originating router's IP; type 5: the prefix address. */
  ip?: string;
  ipLen?: number;
  paths: FrrDetailPath[];
}

/**
 * `show bgp l2vpn evpn route detail json` as a map keyed "<rd> <prefix>", the form
 * formatEvpnRoute() gives for our routes.
 */
export async function evpnDetail(frr: Frr): Promise<Map<string, FrrDetailRoute>> {
  const table = await frr.vtyshJson<Record<string, unknown>>("show bgp l2vpn evpn route detail json");
  const routes = new Map<string, FrrDetailRoute>();
  for (const [rd, v] of Object.entries(table)) {
    if (typeof v !== "object" || v === null) continue;
    for (const [prefix, e] of Object.entries(v as Record<string, unknown>)) {
      if (typeof e !== "object" || e === null || !("paths" in e)) continue;
      const entry = e as Omit<FrrDetailRoute, "paths"> & { paths: FrrDetailPath[][] };
      routes.set(`${rd} ${prefix}`, { ...entry, rd, prefix, paths: entry.paths.flat() });
    }
  }
  return routes;
}

/** `show bgp neighbors <ip> json` for one neighbour (only the fields the test reads). */
export interface FrrNeighbor {
  bgpState: string;
  remoteRouterId?: string;
  neighborCapabilities?: {
    gracefulRestart?: string;
    gracefulRestartRemoteTimerMsecs?: number;
    addressFamiliesByPeer?: Record<string, { preserved?: boolean }>;
    [k: string]: unknown;
  };
  gracefulRestartInfo?: {
    endOfRibSend?: Record<string, boolean>;
    endOfRibRecv?: Record<string, boolean>;
    localGrMode?: string;
    remoteGrMode?: string;
    rBit?: boolean;
    nBit?: boolean;
    timers?: { configuredRestartTimer?: number; receivedRestartTimer?: number; restartTimerRemaining?: number };
    [k: string]: unknown;
  };
  lastResetDueTo?: string;
  [k: string]: unknown;
}

/** A neighbour as `show bgp neighbors <ip> json` shows it; undefined when FRR does not know it. */
export async function frrNeighbor(frr: Frr, ip: string): Promise<FrrNeighbor | undefined> {
  const r = await frr.vtyshJson<Record<string, FrrNeighbor>>(`show bgp neighbors ${ip} json`);
  return r[ip];
}

/** FRR's version from `show version` ("FRRouting 8.4.4 (host) on Linux(...)."). */
export async function frrVersion(frr: Frr): Promise<{ major: number; minor: number; text: string }> {
  const out = await frr.vtysh("show version");
  const m = /FRRouting (\d+)\.(\d+)\S*/.exec(out);
  if (!m) throw new Error(`no FRR version in: ${out.slice(0, 200)}`);
  return { major: Number(m[1]), minor: Number(m[2]), text: m[0] };
}

/**
 * The communities of FRR's `extendedCommunity.string`, one element each. They are separated by
 * spaces, but MAC mobility prints as "MM:<seq>, sticky MAC" (with spaces) when sticky.
 */
export function extCommunityTokens(s: string): string[] {
  return s.match(/MM:\d+, sticky MAC|\S+/g) ?? [];
}
