// `show` output, golden: the API's JSON (checked against its schema) rendered as text and compared
// with test/fixtures/cli/*.txt. UPDATE_GOLDEN=1 rewrites the files (then review the diff).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { type ApiJson, RESPONSE_SCHEMAS } from "../../src/api/schemas.js";
import {
  bgpNeighbor,
  bgpSummary,
  evpnFloodList,
  evpnMac,
  evpnServices,
  learning,
  MAC_HEAD,
  MAC_WIDTHS,
  macRow,
  reloadText,
  ROUTE_HEAD,
  routeRow,
  table,
  upDown,
} from "../../src/cli/show-render.js";

const DIR = new URL("../../../test/fixtures/cli/", import.meta.url);
const NOW = Date.parse("2026-01-02T03:04:05Z");

function golden(name: string, text: string): void {
  const file = new URL(`${name}.txt`, DIR);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, text);
  assert.equal(text, readFileSync(file, "utf8"), `${name}.txt`);
}

function valid<K extends keyof typeof RESPONSE_SCHEMAS>(k: K, x: ApiJson<K>): ApiJson<K> {
  RESPONSE_SCHEMAS[k].parse(x);
  return x;
}

const zero = { ethernetAutoDiscovery: 0, macIp: 0, inclusiveMulticast: 0, ethernetSegment: 0, ipPrefix: 0, other: 0 };
const msgs = (n: number) => ({ total: n, open: 1, update: n - 3, keepalive: 2, notification: 0, routeRefresh: 0 });

const up: ApiJson<"Neighbor"> = {
  address: "192.0.2.10",
  peerAs: 65000,
  description: "route reflector",
  state: "Established",
  uptimeSeconds: 3725,
  establishedAt: "2026-01-02T02:02:00.000Z",
  lastStateChangeAt: "2026-01-02T02:02:00.000Z",
  established: 2,
  flaps: 1,
  messages: { received: msgs(40), sent: msgs(25) },
  routes: {
    received: { total: 12, byType: { ...zero, macIp: 10, inclusiveMulticast: 2 } },
    advertised: { total: 7, byType: { ...zero, macIp: 5, inclusiveMulticast: 2 } },
    accepted: 14,
    withdrawn: 2,
    rejectedLoop: 7,
    stale: 0,
    treatedAsWithdraw: 0,
    pending: 0,
    notSent: 0,
  },
  timers: { holdTimeSeconds: 90, keepaliveSeconds: 30, negotiatedHoldTimeSeconds: 90, connectRetrySeconds: 10 },
  capabilities: {
    peerRouterId: "192.0.2.10",
    ebgp: false,
    families: ["l2vpn-evpn"],
    fourOctetAs: true,
    routeRefresh: true,
    enhancedRouteRefresh: false,
    extendedMessage: false,
    maxMessageSize: 4096,
    gracefulRestart: { local: true, peer: true, peerRestartTimeSeconds: 120 },
  },
  endOfRibSent: true,
  lastError: {
    direction: "received",
    code: 4,
    subcode: 0,
    reason: "Hold Timer Expired",
    text: "Hold Timer Expired",
    communication: null,
    at: "2026-01-02T02:01:00.000Z",
  },
  lastDown: { cause: "notification-received", reason: "NOTIFICATION received", at: "2026-01-02T02:01:00.000Z" },
  notifications: [{ direction: "received", code: 4, subcode: 0, reason: "Hold Timer Expired", count: 1 }],
  transitions: [
    { from: "Established", to: "Idle", reason: "NOTIFICATION received", at: "2026-01-02T02:01:00.000Z" },
    { from: "Idle", to: "Connect", reason: "connect retry", at: "2026-01-02T02:01:10.000Z" },
    { from: "OpenConfirm", to: "Established", reason: "KEEPALIVE received", at: "2026-01-02T02:02:00.000Z" },
  ],
};
const down: ApiJson<"Neighbor"> = {
  ...up,
  address: "2001:db8::10",
  peerAs: 65001,
  description: null,
  state: "Active",
  uptimeSeconds: null,
  establishedAt: null,
  lastStateChangeAt: "2026-01-02T03:00:00.000Z",
  established: 0,
  flaps: 0,
  capabilities: null,
  timers: { holdTimeSeconds: 90, keepaliveSeconds: null, negotiatedHoldTimeSeconds: null, connectRetrySeconds: 10 },
  messages: { received: msgs(3), sent: { ...msgs(4), update: 1 } },
  routes: { ...up.routes, received: { total: 0, byType: zero }, advertised: { total: 0, byType: zero } },
  endOfRibSent: false,
  lastError: null,
  lastDown: null,
  notifications: [],
  transitions: [],
};

test("show bgp summary and show bgp neighbor", () => {
  golden("bgp-summary", bgpSummary(valid("Neighbors", { neighbors: [up, down] }), NOW));
  golden("bgp-neighbor", bgpNeighbor(valid("Neighbor", up)));
  golden("bgp-neighbor-down", bgpNeighbor(valid("Neighbor", down)));
});

const service: ApiJson<"Service"> = {
  name: "vni10",
  evi: 10,
  vni: 10,
  routeTargets: ["65000:10"],
  routeDistinguishers: ["192.0.2.1:10"],
  replication: { mode: "ingress", source: "vtep", replicators: [], elected: null, forwarding: false },
  vteps: [
    { address: "192.0.2.1", origin: "static", state: "proxied", inFloodList: true, configuredMacs: 2, learnedMacs: 3 },
    {
      address: "192.0.2.2",
      origin: "static",
      state: "self-announced",
      inFloodList: true,
      configuredMacs: 0,
      learnedMacs: 0,
    },
    { address: "192.0.2.2", origin: "evpn", state: "active", inFloodList: true, configuredMacs: 0, learnedMacs: 0 },
    { address: "192.0.2.20", origin: "evpn", state: "active", inFloodList: true, configuredMacs: 0, learnedMacs: 0 },
  ],
  floodList: ["192.0.2.1", "192.0.2.2", "192.0.2.20"],
  macs: { static: 2, learned: 3 },
};

test("show evpn services and show evpn flood-list", () => {
  const proxy: ApiJson<"Service"> = {
    ...service,
    name: "vni20",
    evi: 20,
    vni: 20,
    routeTargets: ["65000:20"],
    routeDistinguishers: ["192.0.2.4:20"],
    replication: { mode: "proxy", source: "vtep", replicators: ["192.0.2.4"], elected: "192.0.2.4", forwarding: true },
  };
  golden("evpn-services", evpnServices(valid("Services", { services: [service, proxy] })));
  golden("evpn-flood-list", evpnFloodList(valid("Service", service)));
});

const mac = (over: Partial<ApiJson<"Mac">>): ApiJson<"Mac"> =>
  valid("Mac", {
    service: "vni10",
    vni: 10,
    mac: "02:00:00:00:01:01",
    ips: ["198.51.100.1"],
    vtep: "192.0.2.1",
    source: "learned",
    sequence: 0,
    sticky: false,
    duplicate: false,
    announced: true,
    ageSeconds: 42,
    lastSeenAt: "2026-01-02T03:03:23.000Z",
    lastMove: null,
    ...over,
  });

test("show evpn macs (fixed widths: a second page lines up) and show evpn mac", () => {
  const rows = [
    mac({
      source: "static",
      mac: "02:00:00:00:0f:01",
      ips: ["198.51.100.15", "2001:db8::f1"],
      sticky: true,
      ageSeconds: null,
      lastSeenAt: null,
    }),
    mac({}),
    mac({ mac: "02:00:00:00:01:02", ips: [], vtep: "192.0.2.2", sequence: 3, duplicate: true, ageSeconds: 7 }),
    mac({
      source: "evpn",
      mac: "02:00:00:00:09:09",
      vtep: "192.0.2.20",
      sequence: 2,
      ageSeconds: null,
      announced: false,
      lastSeenAt: null,
    }),
  ];
  golden("evpn-macs", table(MAC_HEAD, rows.map(macRow), MAC_WIDTHS));
  const detail: ApiJson<"MacDetail"> = {
    mac: "02:00:00:00:01:02",
    entries: [rows[2]!],
    history: [
      {
        vni: 10,
        steps: [
          { event: "moved", vtep: "192.0.2.1", at: "2026-01-02T03:00:00.000Z" },
          { event: "moved", vtep: "192.0.2.2", at: "2026-01-02T03:00:05.000Z" },
          { event: "duplicate", vtep: "192.0.2.2", at: "2026-01-02T03:00:05.000Z" },
        ],
      },
    ],
  };
  golden("evpn-mac", evpnMac(valid("MacDetail", detail)));
});

test("show evpn routes, show learning, reload", () => {
  const routes: ApiJson<"Routes"> = {
    direction: "received",
    routes: [
      {
        routeType: 3,
        rd: "192.0.2.20:10",
        prefix: "[3]:[0]:[32]:[192.0.2.20]",
        mac: null,
        ip: null,
        nextHop: "192.0.2.20",
        from: "192.0.2.10",
        best: true,
        stale: false,
        routeTargets: ["65000:10"],
        sequence: null,
        sticky: false,
      },
      {
        routeType: 2,
        rd: "192.0.2.20:10",
        prefix: "[2]:[0]:[48]:[02:00:00:00:09:09]:[32]:[198.51.100.9]",
        mac: "02:00:00:00:09:09",
        ip: "198.51.100.9",
        nextHop: "192.0.2.20",
        from: "192.0.2.10",
        best: true,
        stale: true,
        routeTargets: ["65000:10"],
        sequence: 2,
        sticky: true,
      },
    ],
    learnedRoutes: 0,
    nextCursor: null,
  };
  golden("evpn-routes", table(ROUTE_HEAD, valid("Routes", routes).routes.map(routeRow)));
  const counters: ApiJson<"LearningCounters"> = {
    enabled: true,
    frames: 120,
    learned: { macs: 10, ips: 9, moves: 2, ipMoves: 1, discovered: 0 },
    aged: { macs: 1, ips: 1 },
    refreshed: 100,
    duplicates: 1,
    skipped: {
      unknownVni: 3,
      evpnVtep: 1,
      unknownVtep: 0,
      noBinding: 2,
      staticMac: 0,
      stickyBlocked: 0,
      frozenDropped: 4,
    },
    limits: { vtep: 0, vni: 0, rate: 5, ips: 0 },
    source: { datagrams: 130, frames: 120, truncated: 0, kernelDrops: 0, skipped: { "not-vxlan": 10 } },
    replication: { datagrams: 0, flooded: 0, unicast: 0, copies: 0, dropped: {} },
  };
  golden("learning", learning(valid("LearningCounters", counters)));
  golden("learning-off", learning(valid("LearningCounters", { ...counters, enabled: false })));
  const applied: ApiJson<"Reload"> = {
    result: "applied",
    changes: {
      global: false,
      neighbors: { added: ["192.0.2.11"], removed: [], changed: [] },
      services: { added: [], removed: [], changed: ["vni10"] },
      learning: false,
      learningSources: false,
      management: false,
    },
    errors: [],
  };
  const rejected: ApiJson<"Reload"> = {
    result: "rejected",
    changes: null,
    errors: [
      {
        path: "services[0].evi",
        message: "expected an integer from 1 to 65535, got 0",
        line: 12,
        column: 5,
      },
    ],
  };
  golden("reload", reloadText(valid("Reload", applied)) + reloadText(valid("Reload", rejected)));
});

test("Up/Down as FRR shows it", () => {
  assert.equal(upDown(null), "never");
  assert.equal(upDown(0), "00:00:00");
  assert.equal(upDown(3725), "01:02:05");
  assert.equal(upDown(86400 * 2 + 3 * 3600 + 4 * 60 + 5), "2d03h04m");
});
