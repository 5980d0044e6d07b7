// The API's JSON, defined once: each response is a zod schema, its TypeScript type is inferred
// from it (what the handlers build), and its JSON Schema is generated from it (GET
// /api/v1/schemas, schema/api.schema.json). Keys are camelCase, enums strings; a point in time is
// RFC 3339 text (key ending in "At"), a duration a number of seconds (key ending in "Seconds").
import { z } from "zod";

const time = z.string().meta({ format: "date-time", description: "RFC 3339 time (UTC)" });
const count = z.number().int().min(0);
const address = z.string().meta({ description: "IPv4 or IPv6 address, canonical text" });

export const ErrorSchema = z
  .strictObject({
    error: z.strictObject({
      /** Stable code, e.g. ERR_API_NOT_FOUND. */
      code: z.string(),
      status: z.number().int(),
      message: z.string(),
      /** The query or path parameter at fault (400). */
      parameter: z.string().optional(),
    }),
  })
  .meta({ title: "Error", description: "Every 4xx and 5xx answer" });

export const HealthSchema = z
  .strictObject({
    status: z.literal("ok"),
    version: z.string(),
    routerId: address,
    localAs: count,
    startedAt: time,
    uptimeSeconds: count,
  })
  .meta({ title: "Health", description: "GET /api/v1/healthz: the daemon runs" });

export const ReadySchema = z
  .strictObject({
    ready: z.boolean(),
    neighbors: z.array(z.strictObject({ address, state: z.string(), endOfRibSent: z.boolean(), ready: z.boolean() })),
  })
  .meta({
    title: "Readiness",
    description: "GET /api/v1/readyz (200 or 503): every configured session Established and its End-of-RIB sent",
  });

const fsmState = z.enum(["Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"]);
const messageCounts = z.strictObject({
  total: count,
  open: count,
  update: count,
  keepalive: count,
  notification: count,
  routeRefresh: count,
});
/** EVPN route types (RFC 7432 §7, RFC 9136): counts by type. */
const byRouteType = z.strictObject({
  ethernetAutoDiscovery: count,
  macIp: count,
  inclusiveMulticast: count,
  ethernetSegment: count,
  ipPrefix: count,
  other: count,
});

export const NeighborSchema = z
  .strictObject({
    address,
    peerAs: count,
    description: z.string().nullable(),
    state: fsmState,
    uptimeSeconds: count.nullable(),
    establishedAt: time.nullable(),
    lastStateChangeAt: time.nullable(),
    /** Sessions established since the start. */
    established: count,
    /** Established sessions that went down. */
    flaps: count,
    messages: z.strictObject({ received: messageCounts, sent: messageCounts }),
    routes: z.strictObject({
      received: z.strictObject({ total: count, byType: byRouteType }),
      /** In our Adj-RIB-Out towards the neighbour; by type: our table, which every session gets. */
      advertised: z.strictObject({ total: count, byType: byRouteType }),
      accepted: count,
      withdrawn: count,
      rejectedLoop: count,
      stale: count,
      treatedAsWithdraw: count,
      pending: count,
      notSent: count,
    }),
    timers: z.strictObject({
      holdTimeSeconds: count,
      keepaliveSeconds: count.nullable(),
      negotiatedHoldTimeSeconds: count.nullable(),
      connectRetrySeconds: count,
    }),
    capabilities: z
      .strictObject({
        peerRouterId: address,
        ebgp: z.boolean(),
        families: z.array(z.string()),
        fourOctetAs: z.boolean(),
        routeRefresh: z.boolean(),
        enhancedRouteRefresh: z.boolean(),
        extendedMessage: z.boolean(),
        maxMessageSize: count,
        gracefulRestart: z.strictObject({
          local: z.boolean(),
          peer: z.boolean(),
          peerRestartTimeSeconds: count.nullable(),
        }),
      })
      .nullable(),
    endOfRibSent: z.boolean(),
    lastError: z
      .strictObject({
        direction: z.enum(["sent", "received"]),
        code: count,
        subcode: count,
        /** The code and subcode in words (RFC 4271 §4.5, RFC 4486, …). */
        reason: z.string(),
        text: z.string(),
        communication: z.string().nullable(),
        at: time,
      })
      .nullable(),
    lastDown: z
      .strictObject({
        cause: z.enum(["notification-sent", "notification-received", "tcp-failed", "hold-timer-expired"]),
        reason: z.string(),
        at: time,
      })
      .nullable(),
    notifications: z.array(
      z.strictObject({
        direction: z.enum(["sent", "received"]),
        code: count,
        subcode: count,
        reason: z.string(),
        count,
      }),
    ),
    /** The last state transitions, oldest first. */
    transitions: z.array(z.strictObject({ from: fsmState, to: fsmState, reason: z.string(), at: time })),
  })
  .meta({ title: "Neighbor", description: "GET /api/v1/bgp/neighbors/{ip}" });

export const NeighborsSchema = z
  .strictObject({ neighbors: z.array(NeighborSchema) })
  .meta({ title: "Neighbors", description: "GET /api/v1/bgp/neighbors" });

const vtepOrigin = z.enum(["static", "discovered", "evpn", "proxy"]);
export const ServiceSchema = z
  .strictObject({
    name: z.string(),
    evi: count,
    vni: count,
    routeTargets: z.array(z.string()),
    /** Route distinguishers of the routes the proxy announces for the service. */
    routeDistinguishers: z.array(z.string()),
    replication: z.strictObject({
      mode: z.enum(["ingress", "proxy"]),
      source: z.enum(["vtep", "proxy"]),
      replicators: z.array(address),
      elected: address.nullable(),
      forwarding: z.boolean(),
    }),
    /**
     * Every VTEP of the service: "proxied" (we announce its IMET route), "self-announced" (a static
     * VTEP with its own IMET route), "replicated" (the proxy floods to it), "active" (an EVPN VTEP),
     * "elected"/"standby" (replicating proxies).
     */
    vteps: z.array(
      z.strictObject({
        address,
        origin: vtepOrigin,
        state: z.enum(["proxied", "self-announced", "replicated", "active", "elected", "standby"]),
        /** Flooded to by EVPN VTEPs (in the flood list they build from IMET routes). */
        inFloodList: z.boolean(),
        configuredMacs: count,
        learnedMacs: count,
      }),
    ),
    /** The flood list EVPN VTEPs build for the service, as addresses. */
    floodList: z.array(address),
    macs: z.strictObject({ static: count, learned: count }),
  })
  .meta({ title: "Service", description: "GET /api/v1/evpn/services/{name}" });

export const ServicesSchema = z
  .strictObject({ services: z.array(ServiceSchema) })
  .meta({ title: "Services", description: "GET /api/v1/evpn/services" });

export const MacSchema = z
  .strictObject({
    service: z.string(),
    vni: count,
    mac: z.string(),
    ips: z.array(address),
    vtep: address,
    source: z.enum(["static", "learned", "evpn"]),
    sequence: count,
    sticky: z.boolean(),
    duplicate: z.boolean(),
    announced: z.boolean(),
    ageSeconds: count.nullable(),
    lastSeenAt: time.nullable(),
    lastMove: z.strictObject({ vtep: address, at: time }).nullable(),
  })
  .meta({ title: "Mac" });

export const MacPageSchema = z
  .strictObject({
    items: z.array(MacSchema),
    /** Pass as ?cursor= for the next page; null after the last. A page may hold fewer than limit. */
    nextCursor: z.string().nullable(),
  })
  .meta({ title: "MacPage", description: "GET /api/v1/evpn/macs?service=&vtep=&source=&limit=&cursor=" });

export const MacDetailSchema = z
  .strictObject({
    mac: z.string(),
    entries: z.array(MacSchema),
    /** Recent moves and duplicate states, per VNI, oldest first. */
    history: z.array(
      z.strictObject({
        vni: count,
        steps: z.array(
          z.strictObject({
            event: z.enum(["learned", "moved", "aged", "duplicate", "duplicate-released"]),
            vtep: address.nullable(),
            at: time,
          }),
        ),
      }),
    ),
  })
  .meta({ title: "MacDetail", description: "GET /api/v1/evpn/macs/{mac}" });

export const RouteSchema = z
  .strictObject({
    routeType: z.union([z.number().int(), z.literal("unknown")]),
    rd: z.string().nullable(),
    /** FRR's notation, e.g. [2]:[0]:[48]:[02:00:00:00:01:01]:[32]:[198.51.100.1]. */
    prefix: z.string(),
    mac: z.string().nullable(),
    ip: z.string().nullable(),
    nextHop: address,
    /** "configured" (our plan) or the neighbour it came from. */
    from: z.string(),
    best: z.boolean(),
    stale: z.boolean(),
    routeTargets: z.array(z.string()),
    sequence: count.nullable(),
    sticky: z.boolean(),
  })
  .meta({ title: "Route" });

export const RoutesSchema = z
  .strictObject({
    direction: z.enum(["advertised", "received"]),
    routes: z.array(RouteSchema),
    /** Learned routes advertised (listed by GET evpn/macs?source=learned); 0 for received. */
    learnedRoutes: count,
    nextCursor: z.string().nullable(),
  })
  .meta({ title: "Routes", description: "GET /api/v1/evpn/routes?direction=advertised|received&type=&limit=&cursor=" });

const counters = z.record(z.string(), count);
export const LearningCountersSchema = z
  .strictObject({
    enabled: z.boolean(),
    frames: count,
    learned: z.strictObject({ macs: count, ips: count, moves: count, ipMoves: count, discovered: count }),
    aged: z.strictObject({ macs: count, ips: count }),
    refreshed: count,
    duplicates: count,
    /** Frames that taught nothing, by reason. */
    skipped: counters,
    /** Bindings refused by a limit, by limit. */
    limits: z.strictObject({ vtep: count, vni: count, rate: count, ips: count }),
    /** Datagrams of the VXLAN socket and what was skipped there, by reason. */
    source: z
      .strictObject({ datagrams: count, frames: count, truncated: count, kernelDrops: count, skipped: counters })
      .nullable(),
    replication: z.strictObject({
      datagrams: count,
      flooded: count,
      unicast: count,
      copies: count,
      dropped: counters,
    }),
  })
  .meta({ title: "LearningCounters", description: "GET /api/v1/learning/counters" });

export const ConfigSchema = z
  .strictObject({
    file: z.string().nullable(),
    loadedAt: time,
    lastReload: z.strictObject({ result: z.enum(["applied", "rejected", "failed"]), at: time }).nullable(),
    /** The effective configuration: every default applied, camelCase as the daemon uses it. */
    config: z.record(z.string(), z.unknown()),
  })
  .meta({ title: "Config", description: "GET /api/v1/config" });

export const ActionSchema = z
  .strictObject({
    action: z.enum(["reset", "refresh", "clear-duplicates"]),
    target: z.string(),
    message: z.string(),
  })
  .meta({ title: "Action", description: "POST bgp/neighbors/{ip}/reset|refresh, POST evpn/duplicates/clear" });

export const ReloadSchema = z
  .strictObject({
    result: z.enum(["applied", "rejected", "failed"]),
    /** What changed (applied). */
    changes: z
      .strictObject({
        global: z.boolean(),
        neighbors: z.strictObject({ added: z.array(address), removed: z.array(address), changed: z.array(address) }),
        services: z.strictObject({
          added: z.array(z.string()),
          removed: z.array(z.string()),
          changed: z.array(z.string()),
        }),
        learning: z.boolean(),
        learningSources: z.boolean(),
        /** Listener changes take effect at the next start; the token file is read again now. */
        management: z.boolean(),
      })
      .nullable(),
    /** Why the file was refused (rejected) or could not be applied (failed). */
    errors: z.array(
      z.strictObject({ path: z.string(), message: z.string(), line: count.nullable(), column: count.nullable() }),
    ),
  })
  .meta({ title: "Reload", description: "POST /api/v1/config/reload (200 applied, 422 rejected, 500 failed)" });

/** Every response schema by name, for GET /api/v1/schemas and the committed schema file. */
export const RESPONSE_SCHEMAS = {
  Error: ErrorSchema,
  Health: HealthSchema,
  Ready: ReadySchema,
  Neighbor: NeighborSchema,
  Neighbors: NeighborsSchema,
  Service: ServiceSchema,
  Services: ServicesSchema,
  Mac: MacSchema,
  MacPage: MacPageSchema,
  MacDetail: MacDetailSchema,
  Route: RouteSchema,
  Routes: RoutesSchema,
  LearningCounters: LearningCountersSchema,
  Config: ConfigSchema,
  Action: ActionSchema,
  Reload: ReloadSchema,
} as const;

export type ApiJson<K extends keyof typeof RESPONSE_SCHEMAS> = z.infer<(typeof RESPONSE_SCHEMAS)[K]>;

/** Where the generated JSON Schema is committed, relative to the repository root. */
export const API_SCHEMA_FILE = "schema/api.schema.json";

/** One JSON Schema document (draft 2020-12) with every response under $defs. */
export function apiJsonSchema(): Record<string, unknown> {
  const $defs: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(RESPONSE_SCHEMAS)) {
    const { $schema: _, ...rest } = z.toJSONSchema(s, { target: "draft-2020-12", io: "output" }) as Record<
      string,
      unknown
    >;
    $defs[name] = rest;
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "evpn-proxy API v1 responses",
    $defs,
  };
}
