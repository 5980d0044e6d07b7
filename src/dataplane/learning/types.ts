// The learning engine's interface: its slice of the configuration, the fabric view it asks, the
// actions and rows it returns, its counters.

import type { LearningSettings, ServiceSettings } from "../../config/model.js";

/**
 * The engine's slice of the configuration (`learning` and the services). Limits of 0 mean no
 * limit; `allowedPrefixes` entries that do not parse are an error. Engine-only knobs:
 * `maxIpsPerMac`, IPs bound to one learned MAC (default 16; 0: no limit), and
 * `eventIntervalSeconds`, the least time between two throttled events of one key (default 60).
 */
export type LearnConfig = Pick<
  LearningSettings,
  | "includeIp"
  | "ageingSeconds"
  | "autoDiscover"
  | "allowedPrefixes"
  | "maxMoves"
  | "moveWindowSeconds"
  | "freezeSeconds"
  | "maxMacsPerVtep"
  | "maxMacsPerVni"
  | "maxLearnPerVtepPerSecond"
> & {
  services: Pick<ServiceSettings, "name" | "evi" | "vni" | "staticVteps">[];
  maxIpsPerMac?: number;
  eventIntervalSeconds?: number;
};

/** Answered by the daemon from the RIB. */
export interface FabricView {
  /** The VTEP announces its own IMET route for this VNI. */
  isEvpnVtep(vni: number, vtep: string): boolean;
  /**
   * The best remote (not ours) type-2 route for this MAC in this service: its VTEP (next hop),
   * MAC mobility sequence (0 when the community is absent, RFC 7432 §15), sticky flag.
   */
  remoteMac(vni: number, mac: string): { vtep: string; seq: number; sticky: boolean } | undefined;
}

export interface RouteKey {
  service: string;
  evi: number;
  vni: number;
  /** The static VTEP: RD `<vtep>:<evi>`, next hop. */
  vtep: string;
  mac: string;
  /** null: the MAC route; otherwise the MAC/IP route. */
  ip: string | null;
}

export type LearnEventKind =
  | "duplicate" // a MAC moved more than max-moves times within the window: frozen
  | "duplicate-released"
  | "limit-vtep"
  | "limit-vni"
  | "limit-rate"
  | "limit-ips"
  | "unknown-vtep"
  | "sticky-blocked"
  // A MAC's life (one event per MAC, not per route), while Learner.macEvents (moves: or moveEvents) is set:
  | "learned" // a new MAC at a VTEP
  | "moved" // seen at another VTEP: announced there with a higher sequence (RFC 7432 §15.1)
  | "aged"; // not seen for mac-ageing-seconds: withdrawn

export type LearnAction =
  /** Announce (or replace) a type 2 route; `seq` 0 and not sticky: the MAC mobility community may be left out. */
  | ({ type: "announce"; seq: number; sticky: boolean } & RouteKey)
  | ({ type: "withdraw" } & RouteKey)
  /** An auto-discovered static VTEP: announce its IMET route for the service. */
  | { type: "discover-vtep"; service: string; evi: number; vni: number; vtep: string }
  /** To log; `suppressed`: throttled occurrences since the previous event of this key. */
  | {
      type: "event";
      event: LearnEventKind;
      vni: number;
      vtep?: string;
      mac?: string;
      suppressed?: number;
    };

export type LearnEvent = LearnAction & { type: "event" };

export interface LearnedBinding {
  service: string;
  vni: number;
  mac: string;
  vtep: string;
  ips: string[];
  seq: number;
  /**
   * A configured MAC at its configured VTEP: only its IP bindings are learned, announced sticky
   * (RFC 7432 §15.2); its MAC route and configured addresses are the configuration's.
   */
  configured: boolean;
  /** false: the fabric's route for the MAC won (RFC 7432 §15.1) and ours is withdrawn. */
  announced: boolean;
  duplicate: boolean;
  lastSeen: number;
}

export interface LearnCounters {
  frames: number;
  learned: number;
  learnedIps: number;
  refreshed: number;
  moves: number;
  withdrawnByRemote: number;
  adopted: number;
  aged: number;
  agedIps: number;
  ipMoves: number;
  unknownVni: number;
  evpnVtep: number;
  unknownVtep: number;
  discovered: number;
  noBinding: number;
  staticMac: number;
  stickyBlocked: number;
  frozenDropped: number;
  duplicates: number;
  limitVtep: number;
  limitVni: number;
  limitRate: number;
  limitIps: number;
  /** Learned MACs dropped by a reconfiguration: service or VTEP gone, or the MAC now configured elsewhere. */
  reloadRemoved: number;
  /**
   * IP bindings dropped by a reconfiguration: include-ip turned off, or the bindings of a
   * configured MAC whose configuration went (MAC removed or moved, VTEP or service gone).
   */
  reloadRemovedIps: number;
  /** Learned MACs and IP bindings dropped by a reconfiguration that lowered a limit. */
  reloadLimited: number;
  /** Entries and IP bindings restored from the state file at start. */
  restored: number;
  restoredIps: number;
  /** Saved entries the configuration at start no longer allowed (persist.ts RestoreDrop). */
  restoreDropped: number;
}

export function newCounters(): LearnCounters {
  return {
    frames: 0,
    learned: 0,
    learnedIps: 0,
    refreshed: 0,
    moves: 0,
    withdrawnByRemote: 0,
    adopted: 0,
    aged: 0,
    agedIps: 0,
    ipMoves: 0,
    unknownVni: 0,
    evpnVtep: 0,
    unknownVtep: 0,
    discovered: 0,
    noBinding: 0,
    staticMac: 0,
    stickyBlocked: 0,
    frozenDropped: 0,
    duplicates: 0,
    limitVtep: 0,
    limitVni: 0,
    limitRate: 0,
    limitIps: 0,
    reloadRemoved: 0,
    reloadRemovedIps: 0,
    reloadLimited: 0,
    restored: 0,
    restoredIps: 0,
    restoreDropped: 0,
  };
}

/** Granularity of the ageing queues: a binding expires at most this late, never early. */
export const AGE_GRANULARITY_MS = 1000;

/** A configured service and what was learned in it. */
export interface Service {
  name: string;
  evi: number;
  vni: number;
  staticVteps: Set<string>;
  discovered: Set<string>;
  /** Configured (sticky) MACs → their VTEP. */
  staticMacs: Map<string, string>;
  /** Configured MAC/IP routes, `mac/ip` (canonical): the configuration's, never learned. */
  staticIps: Set<string>;
  /** Index in `LearnTable.svcs` (the MAC table's service column). */
  idx: number;
  /** Learned MACs: MAC text (the string the entry keeps) → MAC slot. */
  macs: Map<string, number>;
  /** IP bindings: ipKey → binding slot. */
  ips: Map<number | string, number>;
}
