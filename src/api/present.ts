// The read models (src/mgmt) as the API's JSON (schemas.ts): times as RFC 3339 text, durations
// in seconds, NOTIFICATION codes in words, route types by name.

import type { NeighborStatus } from "../bgp/view.js";
import { type EvpnRoute, type ExtCommunity, formatEvpnPrefix, notificationName } from "../codec/index.js";
import type { NeighborSettings, ServiceSettings } from "../config/model.js";
import type { CountersView, ServiceView } from "../mgmt/views.js";
import type { History } from "../mgmt/history.js";
import type { MacView } from "../mgmt/macs.js";
import type { RouteRow } from "../mgmt/routes.js";
import type { ApiJson } from "./schemas.js";

export const rfc3339 = (ms: number): string => new Date(ms).toISOString();
const seconds = (ms: number): number => Math.max(0, Math.floor(ms / 1000));

type ByType = ApiJson<"Neighbor">["routes"]["received"]["byType"];
export const noRoutes = (): ByType => ({
  ethernetAutoDiscovery: 0,
  macIp: 0,
  inclusiveMulticast: 0,
  ethernetSegment: 0,
  ipPrefix: 0,
  other: 0,
});
const TYPE_KEYS: (keyof ByType)[] = [
  "other",
  "ethernetAutoDiscovery",
  "macIp",
  "inclusiveMulticast",
  "ethernetSegment",
  "ipPrefix",
];

/** Adds one route of `type` (RFC 7432 §7 types 1–4, RFC 9136 type 5) to `by`. */
export function countRoute(by: ByType, type: number | "unknown"): void {
  by[typeof type === "number" ? (TYPE_KEYS[type] ?? "other") : "other"]++;
}

export interface NeighborExtras {
  cfg: NeighborSettings | undefined;
  history: History;
  received: ByType;
  advertised: ByType;
  now: number;
}

export function neighborJson(n: NeighborStatus, x: NeighborExtras): ApiJson<"Neighbor"> {
  const c = n.counters;
  const neg = n.negotiated;
  const opens = (total: number, ...others: number[]) => Math.max(0, total - others.reduce((a, b) => a + b, 0));
  const established = n.uptimeMs === null ? null : x.now - n.uptimeMs;
  const down = x.history.lastDown(n.address);
  return {
    address: n.address,
    peerAs: n.peerAs,
    description: n.description ?? null,
    state: n.state,
    uptimeSeconds: n.uptimeMs === null ? null : seconds(n.uptimeMs),
    establishedAt: established === null ? null : rfc3339(established),
    lastStateChangeAt: n.lastStateChange === null ? null : rfc3339(n.lastStateChange),
    established: c.established,
    flaps: c.flaps,
    messages: {
      received: {
        total: c.messagesIn,
        open: opens(c.messagesIn, c.updatesIn, c.keepalivesIn, c.notificationsIn, c.routeRefreshIn),
        update: c.updatesIn,
        keepalive: c.keepalivesIn,
        notification: c.notificationsIn,
        routeRefresh: c.routeRefreshIn,
      },
      sent: {
        total: c.messagesOut,
        open: opens(c.messagesOut, c.updatesOut, c.keepalivesOut, c.notificationsOut, c.routeRefreshOut),
        update: c.updatesOut,
        keepalive: c.keepalivesOut,
        notification: c.notificationsOut,
        routeRefresh: c.routeRefreshOut,
      },
    },
    routes: {
      received: { total: n.rib.received, byType: x.received },
      advertised: { total: n.advertised, byType: x.advertised },
      accepted: n.rib.accepted,
      withdrawn: n.rib.withdrawn,
      rejectedLoop: n.rib.rejectedLoop,
      stale: n.rib.stale,
      treatedAsWithdraw: n.rib.treatedAsWithdraw,
      pending: n.pendingUpdates,
      notSent: n.notSent,
    },
    timers: {
      holdTimeSeconds: x.cfg?.holdTime ?? 0,
      keepaliveSeconds: x.cfg?.keepalive ?? (neg ? Math.floor(neg.holdTime / 3) : null),
      negotiatedHoldTimeSeconds: neg?.holdTime ?? null,
      connectRetrySeconds: x.cfg?.connectRetry ?? 0,
    },
    capabilities: neg
      ? {
          peerRouterId: neg.peerRouterId,
          ebgp: neg.ebgp,
          families: neg.families.map((f) =>
            f.afi === 25 && f.safi === 70 ? "l2vpn-evpn" : `afi ${f.afi} safi ${f.safi}`,
          ),
          fourOctetAs: neg.as4,
          routeRefresh: neg.routeRefresh,
          enhancedRouteRefresh: neg.enhancedRouteRefresh,
          extendedMessage: neg.extendedMessage,
          maxMessageSize: neg.maxMessageSize,
          gracefulRestart: {
            local: neg.localGracefulRestart,
            peer: neg.peerGracefulRestart !== undefined,
            peerRestartTimeSeconds: neg.peerGracefulRestart?.restartTime ?? null,
          },
        }
      : null,
    endOfRibSent: n.endOfRibSent,
    lastError: n.lastError
      ? {
          direction: n.lastError.direction,
          code: n.lastError.code,
          subcode: n.lastError.subcode,
          reason: notificationName(n.lastError.code, n.lastError.subcode),
          text: n.lastError.text,
          communication: n.lastError.communication ?? null,
          at: rfc3339(n.lastError.at),
        }
      : null,
    lastDown: down ? { cause: down.cause, reason: down.reason, at: rfc3339(down.at) } : null,
    notifications: x.history
      .notifications(n.address)
      .map((k) => ({ ...k, reason: notificationName(k.code, k.subcode) })),
    transitions: x.history
      .transitions(n.address)
      .map((t) => ({ from: t.from, to: t.to, reason: t.reason, at: rfc3339(t.at) })),
  };
}

export function serviceJson(v: ServiceView, svc: ServiceSettings, self: string): ApiJson<"Service"> {
  const proxy = v.replication.mode === "proxy";
  const flood = new Set(v.floodList);
  const vteps: ApiJson<"Service">["vteps"] = [];
  for (const s of v.staticVteps)
    vteps.push({
      address: s.address,
      origin: s.source === "configured" ? "static" : "discovered",
      state: !s.proxied ? "self-announced" : proxy ? "replicated" : "proxied",
      inFloodList: flood.has(s.address),
      configuredMacs: s.configuredMacs,
      learnedMacs: s.learnedMacs,
    });
  for (const e of v.evpnVteps)
    vteps.push({
      address: e,
      origin: "evpn",
      state: "active",
      inFloodList: flood.has(e),
      configuredMacs: 0,
      learnedMacs: 0,
    });
  for (const r of v.replication.replicators)
    vteps.push({
      address: r,
      origin: "proxy",
      state: r === v.replication.elected ? "elected" : "standby",
      inFloodList: flood.has(r),
      configuredMacs: 0,
      learnedMacs: 0,
    });
  // RFC 7432 §7.9: the RD of a proxied VTEP's routes is <vtep>:<evi>; with replication by the proxy its IMET route's is ours.
  const rds = v.staticVteps.filter((s) => s.proxied).map((s) => `${s.address}:${svc.evi}`);
  if (proxy) rds.push(`${self}:${svc.evi}`);
  return {
    name: v.name,
    evi: v.evi,
    vni: v.vni,
    routeTargets: v.routeTargets,
    routeDistinguishers: [...new Set(rds)],
    replication: v.replication,
    vteps,
    floodList: v.floodList,
    macs: { static: v.macs.configured, learned: v.macs.learned },
  };
}

export function macJson(m: MacView, now: number): ApiJson<"Mac"> {
  return {
    service: m.service,
    vni: m.vni,
    mac: m.mac,
    ips: m.ips,
    vtep: m.vtep,
    source: m.source,
    sequence: m.sequence,
    sticky: m.sticky,
    duplicate: m.duplicate,
    announced: m.announced,
    ageSeconds: m.lastSeen === null ? null : seconds(now - m.lastSeen),
    lastSeenAt: m.lastSeen === null ? null : rfc3339(m.lastSeen),
    lastMove: m.lastMove === null ? null : { vtep: m.lastMove.vtep, at: rfc3339(m.lastMove.at) },
  };
}

function routeTargets(ext: readonly ExtCommunity[]): string[] {
  const out: string[] = [];
  for (const c of ext) if (c.kind === "route-target") out.push(c.value);
  return out;
}

function mobility(ext: readonly ExtCommunity[]): { sequence: number | null; sticky: boolean } {
  for (const c of ext) if (c.kind === "mac-mobility") return { sequence: c.sequence, sticky: (c.flags & 1) === 1 };
  return { sequence: null, sticky: false };
}

function routeFields(r: EvpnRoute): { rd: string | null; mac: string | null; ip: string | null } {
  if (r.routeType === "unknown") return { rd: null, mac: null, ip: null };
  if (r.routeType === 2) return { rd: r.rd, mac: r.mac, ip: r.ip ?? null };
  return { rd: r.rd, mac: null, ip: null };
}

export function routeJson(r: RouteRow): ApiJson<"Route"> {
  return {
    routeType: r.route.routeType,
    ...routeFields(r.route),
    prefix: formatEvpnPrefix(r.route),
    nextHop: r.nextHop,
    from: r.from,
    best: r.best,
    stale: r.stale,
    routeTargets: routeTargets(r.extCommunities),
    ...mobility(r.extCommunities),
  };
}

export function learningJson(c: CountersView): ApiJson<"LearningCounters"> {
  const l = c.learning;
  const src = c.source;
  const num = (r: Partial<Record<string, number>>) => {
    const o: Record<string, number> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) o[k] = v;
    return o;
  };
  return {
    enabled: l !== null,
    frames: l?.frames ?? 0,
    learned: {
      macs: l?.learned ?? 0,
      ips: l?.learnedIps ?? 0,
      moves: l?.moves ?? 0,
      ipMoves: l?.ipMoves ?? 0,
      discovered: l?.discovered ?? 0,
    },
    aged: { macs: l?.aged ?? 0, ips: l?.agedIps ?? 0 },
    refreshed: l?.refreshed ?? 0,
    duplicates: l?.duplicates ?? 0,
    skipped: l
      ? {
          unknownVni: l.unknownVni,
          evpnVtep: l.evpnVtep,
          unknownVtep: l.unknownVtep,
          noBinding: l.noBinding,
          staticMac: l.staticMac,
          stickyBlocked: l.stickyBlocked,
          frozenDropped: l.frozenDropped,
        }
      : {},
    limits: { vtep: l?.limitVtep ?? 0, vni: l?.limitVni ?? 0, rate: l?.limitRate ?? 0, ips: l?.limitIps ?? 0 },
    source: src
      ? {
          datagrams: src.datagrams,
          frames: src.frames,
          truncated: src.truncated,
          kernelDrops: src.kernelDrops ?? 0,
          skipped: num(src.skipped),
        }
      : null,
    replication: { ...c.replication, dropped: num(c.replication.dropped) },
  };
}
