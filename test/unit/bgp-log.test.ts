// The speaker's events as log lines (src/mgmt/bgp-log.ts): each kind's level, fields and message,
// which the labs and operators match on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import type { SpeakerEvent, SpeakerEventKind } from "../../src/bgp/events.js";
import { bgpEventLogger } from "../../src/mgmt/bgp-log.js";

const P = "192.0.2.2";
const EVPN = { afi: 25, safi: 70 };

/** Event, then the line: level, fields (beyond pino's own) and message. */
const CASES: [SpeakerEvent, "info" | "warn" | "error", Record<string, unknown>, string][] = [
  [
    { kind: "listening", address: "192.0.2.1", port: 179 },
    "info",
    { address: "192.0.2.1", port: 179 },
    "listening for BGP connections",
  ],
  [
    { kind: "unconfigured-connection", remote: "192.0.2.9", remotePort: 40000 },
    "warn",
    { remote: "192.0.2.9", remotePort: 40000 },
    "connection from an unconfigured address closed",
  ],
  [
    { kind: "state", peer: P, from: "OpenConfirm", to: "Established", reason: "KEEPALIVE received" },
    "info",
    { peer: P, from: "OpenConfirm", to: "Established", reason: "KEEPALIVE received" },
    `peer ${P} OpenConfirm -> Established`,
  ],
  [
    { kind: "established", peer: P, peerAs: 65000, holdTime: 90, families: [EVPN], gracefulRestart: true },
    "info",
    { peer: P, peerAs: 65000, holdTime: 90, families: [EVPN], gracefulRestart: true },
    `session with ${P} established`,
  ],
  [
    { kind: "session-down", peer: P, cause: "tcp-failed", reason: "closed by peer", gracefulRestart: true },
    "warn",
    { peer: P, cause: "tcp-failed", reason: "closed by peer", gracefulRestart: true },
    `session with ${P} down`,
  ],
  [
    {
      kind: "notification-sent",
      peer: P,
      code: 3,
      subcode: 1,
      text: "UPDATE Message Error / Malformed Attribute List",
      error: { code: "ERR_ATTR_DUPLICATE", message: "duplicate ORIGIN" },
    },
    "warn",
    { peer: P, code: 3, subcode: 1, error: "ERR_ATTR_DUPLICATE" },
    `NOTIFICATION sent to ${P}: UPDATE Message Error / Malformed Attribute List (duplicate ORIGIN)`,
  ],
  [
    { kind: "notification-sent", peer: P, code: 6, subcode: 2, text: "Cease / Administrative Shutdown" },
    "warn",
    { peer: P, code: 6, subcode: 2 },
    `NOTIFICATION sent to ${P}: Cease / Administrative Shutdown`,
  ],
  [
    {
      kind: "notification-received",
      peer: P,
      code: 6,
      subcode: 2,
      text: 'Cease / Administrative Shutdown: "maintenance"',
      communication: "maintenance",
    },
    "warn",
    { peer: P, code: 6, subcode: 2 },
    `NOTIFICATION received from ${P}: Cease / Administrative Shutdown: "maintenance"`,
  ],
  [{ kind: "end-of-rib", peer: P, ...EVPN }, "info", { peer: P, ...EVPN }, `End-of-RIB from ${P}`],
  [
    { kind: "stale-kept", peer: P, families: [EVPN] },
    "info",
    { peer: P, families: [EVPN] },
    `keeping routes of ${P} as stale (graceful restart)`,
  ],
  [
    { kind: "stale-swept", peer: P, removed: 3, reason: "End-of-RIB received" },
    "info",
    { peer: P, removed: 3, reason: "End-of-RIB received" },
    `stale routes of ${P} swept`,
  ],
  [
    { kind: "connection-refused", peer: P, reason: "session already established (RFC 4271 §6.8)" },
    "info",
    { peer: P, reason: "session already established (RFC 4271 §6.8)" },
    `connection from ${P} refused`,
  ],
  [
    { kind: "refusals-summed", reason: "unconfigured", source: "192.0.2.9", count: 1999, windowMs: 60000 },
    "warn",
    { reason: "unconfigured", source: "192.0.2.9", count: 1999, windowMs: 60000 },
    "1999 more connection(s) from 192.0.2.9 (unconfigured address) closed within 60 s",
  ],
  [
    { kind: "refusals-summed", reason: "refused", source: "*", count: 3, windowMs: 60000 },
    "warn",
    { reason: "refused", source: "*", count: 3, windowMs: 60000 },
    "3 more connection(s) from other addresses refused within 60 s",
  ],
  [
    { kind: "treat-as-withdraw", peer: P, routes: 2, errors: 1 },
    "warn",
    { peer: P, routes: 2, errors: 1 },
    "malformed UPDATE treated as withdraw",
  ],
  [
    { kind: "route-refresh", peer: P, ...EVPN },
    "info",
    { peer: P, ...EVPN },
    `ROUTE-REFRESH from ${P}: re-sending our routes`,
  ],
  [
    { kind: "route-not-sent", peer: P, route: "[2]:[192.0.2.1:10]", error: "too long" },
    "error",
    { peer: P, route: "[2]:[192.0.2.1:10]", error: "too long" },
    "route not sent: cannot be encoded",
  ],
];

function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: "debug" },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

function own(line: Record<string, unknown>): Record<string, unknown> {
  const { level: _l, time: _t, pid: _p, hostname: _h, msg: _m, ...rest } = line;
  return rest;
}

test("each event is one line: level, fields and message as the speaker wrote them", () => {
  const { log, lines } = capture();
  const onEvent = bgpEventLogger(log);
  for (const [e] of CASES) onEvent(e);
  assert.equal(lines.length, CASES.length);
  CASES.forEach(([e, level, fields, msg], i) => {
    const line = lines[i]!;
    assert.equal(line["level"], log.levels.values[level], `${e.kind}: level`);
    assert.deepEqual(own(line), fields, `${e.kind}: fields`);
    assert.equal(line["msg"], msg, `${e.kind}: message`);
  });
});

test("a listener error is logged with pino's error serializer", () => {
  const { log, lines } = capture();
  bgpEventLogger(log)({
    kind: "listener-error",
    error: Object.assign(new Error("EADDRINUSE"), { code: "EADDRINUSE" }),
  });
  assert.equal(lines[0]!["level"], log.levels.values["error"]);
  assert.equal(lines[0]!["msg"], "listener error");
  const err = lines[0]!["err"] as Record<string, unknown>;
  assert.deepEqual([err["type"], err["message"], err["code"]], ["Error", "EADDRINUSE", "EADDRINUSE"]);
});

test("every kind of event is covered", () => {
  const kinds = new Set<SpeakerEventKind>([...CASES.map(([e]) => e.kind), "listener-error"]);
  const all: Record<SpeakerEventKind, true> = {
    listening: true,
    "listener-error": true,
    "unconfigured-connection": true,
    state: true,
    established: true,
    "session-down": true,
    "notification-sent": true,
    "notification-received": true,
    "end-of-rib": true,
    "stale-kept": true,
    "stale-swept": true,
    "connection-refused": true,
    "refusals-summed": true,
    "treat-as-withdraw": true,
    "route-refresh": true,
    "route-not-sent": true,
  };
  assert.deepEqual([...kinds].sort(), Object.keys(all).sort());
});
