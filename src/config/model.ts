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
}

export type StaticMac = MacEntry;

export interface StaticVtepSettings {
  /** Canonical address. */
  address: string;
  macs: StaticMac[];
}

export interface ServiceSettings {
  name: string;
  evi: number;
  vni: number;
  /** Canonical text as the codec prints it ("65000:10", "192.0.2.1:10", "4200000000:10"). */
  routeTargets: string[];
  staticVteps: StaticVtepSettings[];
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
}
