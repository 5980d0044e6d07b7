/**
 * Shapes of FRR's JSON as printed by FRR 8.4 (only the fields the tests use; see
 * lab-helper.test.ts).
 *
 * Found on this machine: `show evpn vni <vni> json` names the LIST of remote VTEPs
 * `numRemoteVteps` (absent when none); `show evpn arp-cache vni <vni> json` prints nothing at all
 * when empty.
 */
/** One peer of `show bgp <afi> <safi> summary json` (key: peer address). */
export interface FrrSummaryPeer {
  /** "Established", "Active", "Connect", "Idle", "OpenSent", ... */
  state: string;
  remoteAs: number;
  localAs: number;
  version: number;
  msgRcvd: number;
  msgSent: number;
  peerUptime: string;
  peerUptimeMsec: number;
  /** Prefixes received (present once Established). */
  pfxRcd?: number;
  pfxSnt?: number;
  /** Set for peers accepted through `bgp listen range`. */
  dynamicPeer?: boolean;
  /** Peer group name when the peer is in one. */
  peerGroup?: string;
  [k: string]: unknown;
}

/** `show bgp l2vpn evpn summary json` ({} when BGP is not configured). */
export interface FrrBgpSummary {
  routerId?: string;
  as?: number;
  vrfName?: string;
  peerCount?: number;
  dynamicPeers?: number;
  peers?: Record<string, FrrSummaryPeer>;
  failedPeers?: number;
  totalPeers?: number;
  [k: string]: unknown;
}

/** One path of `show bgp l2vpn evpn route json`. */
export interface FrrEvpnPath {
  valid?: boolean;
  bestpath?: boolean;
  /** "local" for routes originated here, "internal"/"external" for learnt ones. */
  pathFrom?: string;
  /** Route type 1..5. */
  routeType: number;
  ethTag?: number;
  ipLen?: number;
  ip?: string;
  mac?: string;
  /** Originating router IP (type 3). */
  originatorIp?: string;
  /** Space-separated extended communities, e.g. "RT:65000:10 ET:8". */
  extendedCommunity?: { string: string };
  nexthops?: { ip: string; hostname?: string; afi: string; used: boolean }[];
  peerId?: string;
  [k: string]: unknown;
}

/** A prefix entry: `{ prefix, prefixLen, paths: [[path, ...]] }` (paths is an array of arrays). */
export interface FrrEvpnPrefix {
  prefix: string;
  prefixLen: number;
  paths: FrrEvpnPath[][];
}

/**
 * `show bgp l2vpn evpn route json`: keyed by route distinguisher (plus a few counters). Under each
 * RD: `rd` and the prefixes keyed by their FRR notation, e.g. "[3]:[0]:[32]:[192.0.2.1]".
 */
export type FrrEvpnRouteTable = Record<string, unknown> & {
  numPrefix?: number;
  numPaths?: number;
};

/** Flattened route of `show bgp l2vpn evpn route json` (see `Frr.evpnRoutes`). */
export interface FrrEvpnRoute {
  rd: string;
  /** FRR notation, e.g. "[3]:[0]:[32]:[192.0.2.1]" or "[2]:[0]:[48]:[02:00:00:00:01:0a]". */
  prefix: string;
  paths: FrrEvpnPath[];
}

/**
 * `show evpn vni <vni> json`. FRR 8.4 quirk: here `numRemoteVteps` is the LIST of remote VTEP
 * IPs (absent when there is none), while `show evpn vni json` has a count `numRemoteVteps` and a
 * list `remoteVteps` per VNI. Use `Frr.remoteVteps(vni)`.
 */
export interface FrrEvpnVni {
  vni: number;
  /** "L2" or "L3". */
  type: string;
  vrf?: string;
  vxlanInterface?: string;
  sviInterface?: string;
  vtepIp?: string;
  mcastGroup?: string;
  numMacs?: number;
  numArpNd?: number;
  numRemoteVteps?: string[] | number;
  [k: string]: unknown;
}

/** One MAC of `show evpn mac vni <vni> json` (`{ numMacs, macs: { "<mac>": FrrEvpnMac } }`). */
export interface FrrEvpnMac {
  /** "local" or "remote". */
  type: string;
  /** Local MACs: the bridge port. */
  intf?: string;
  /** Remote MACs: the VTEP. */
  remoteVtep?: string;
  localSequence?: number;
  remoteSequence?: number;
  isDuplicate?: boolean;
  [k: string]: unknown;
}

/** Turns FRR's RD-keyed `show bgp l2vpn evpn route json` into a list. */
export function flattenFrrEvpn(table: FrrEvpnRouteTable): FrrEvpnRoute[] {
  const routes: FrrEvpnRoute[] = [];
  for (const [rd, v] of Object.entries(table)) {
    if (typeof v !== "object" || v === null) continue;
    for (const [prefix, e] of Object.entries(v as Record<string, unknown>)) {
      if (typeof e !== "object" || e === null || !("paths" in e)) continue;
      const entry = e as FrrEvpnPrefix;
      routes.push({ rd, prefix, paths: entry.paths.flat() });
    }
  }
  return routes;
}
