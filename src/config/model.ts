// The configuration model: the one typed form of a validated configuration (camelCase,
// canonical addresses, every default applied by schema.ts). Subsystems take their slice of it
// (`NeighborSettings`, `ServiceSettings`, `LearningSettings`) instead of declaring their own.

import type { MacEntry } from "./schema.js";

export interface NeighborSettings {
  /** Canonical address (RFC 5952 for IPv6). */
  address: string;
  peerAs: number;
  localAddress?: string;
  port: number;
  passive: boolean;
  /** Seconds; 0 or 3..65535. */
  holdTime: number;
  /** Seconds; absent: a third of the negotiated hold time. */
  keepalive?: number;
  description?: string;
  /** Negotiate graceful restart with this neighbour (when ProxyConfig.gracefulRestart is not null). */
  gracefulRestart: boolean;
  /** Seconds between connection attempts. */
  connectRetry: number;
  /**
   * Peer oscillation damping (RFC 4271 §8.1.1), seconds: the idle hold after a failure, doubled
   * per further failure up to the maximum; null: no damping, the session restarts at once.
   */
  damping: { idleHoldTime: number; maxIdleHoldTime: number } | null;
}

export type StaticMac = MacEntry;

export interface StaticVtepSettings {
  /** Canonical address. */
  address: string;
  macs: StaticMac[];
}

/** An RFC 9161 static proxy-ARP/ND entry. */
export interface ArpNdStaticEntry {
  /** Canonical address. */
  ip: string;
  mac: string;
}

/** The RFC 9161 proxy-ARP/ND function of a service (with `replication: proxy` only). */
export interface ArpNdProxySettings {
  static: ArpNdStaticEntry[];
  /** Requests for addresses not in the table are replicated; false: dropped. */
  floodUnknown: boolean;
  /** Gratuitous ARP and unsolicited NA are replicated; false: learned from, then dropped. */
  floodGratuitous: boolean;
  /** RFC 9161 §3.7: more MAC changes of one IP than this within the window make it a duplicate. */
  duplicateMaxMoves: number;
  duplicateWindowSeconds: number;
  /** How long a duplicate IP is not answered. */
  duplicateHoldSeconds: number;
  /** Requests per second one requester (VTEP and MAC) may have replicated; beyond, they are dropped. */
  requestRate: number;
  /** Requests one requester may send at once above the rate. */
  requestBurst: number;
}

/**
 * BUM traffic of a service: "ingress", static VTEPs replicate themselves (each gets its own IMET
 * route); "proxy", static VTEPs list only the proxy, which replicates (one IMET route, the proxy's).
 */
export type ReplicationMode = "ingress" | "proxy";

/** The outer source address of copies and answers: the original VTEP's, or the proxy's own. */
export type ReplicationSource = "vtep" | "proxy";

export interface ServiceSettings {
  name: string;
  evi: number;
  vni: number;
  /** Canonical text as the codec prints it ("65000:10", "192.0.2.1:10", "4200000000:10"). */
  routeTargets: string[];
  staticVteps: StaticVtepSettings[];
  replication: ReplicationMode;
  replicationSource: ReplicationSource;
  /** null: the proxy answers no ARP/ND for this service. */
  arpNdProxy: ArpNdProxySettings | null;
}

export interface LearningSettings {
  vxlanListen?: string;
  includeIp: boolean;
  captureInterfaces: string[];
  anyFrame: boolean;
  autoDiscover: boolean;
  allowedPrefixes: string[];
  ageingSeconds: number;
  maxMoves: number;
  moveWindowSeconds: number;
  freezeSeconds: number;
  maxMacsPerVtep: number;
  maxMacsPerVni: number;
  maxLearnPerVtepPerSecond: number;
}

/** The management API (src/api): where it listens and the token of TCP clients. */
export interface ManagementSettings {
  /** Unix socket path (read and write); null: none. */
  socket: string | null;
  /** File mode of the socket. */
  socketMode: number;
  /** TCP listener (read-only without the token); null: none. */
  http: { address: string; port: number } | null;
  /** File of the bearer token TCP clients send; null: writes only through the socket. */
  tokenFile: string | null;
}

export interface ProxyConfig {
  routerId: string;
  localAs: number;
  /** Where to accept BGP connections; null: nowhere. */
  listen: { address: string; port: number } | null;
  /** Graceful restart advertised to neighbours; null: disabled. */
  gracefulRestart: { restartTime: number } | null;
  neighbors: NeighborSettings[];
  services: ServiceSettings[];
  learning: LearningSettings;
  management: ManagementSettings;
  /** Where the learned table is saved across restarts, and the least seconds between saves; null: nowhere. */
  state: { directory: string; saveSeconds: number } | null;
}
