// The event recorder: transitions (last 10), the last session down, NOTIFICATIONs by code, MAC
// moves (only MACs that moved or were duplicates; bounded), reloads by result, per-VNI counts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventBus } from "../../src/mgmt/events.js";
import { History } from "../../src/mgmt/history.js";

const P = "192.0.2.10";
const M = "02:00:00:00:01:01";

test("peers: transitions bounded, last down, NOTIFICATIONs counted by direction, code and subcode", () => {
  const bus = new EventBus();
  let now = 1000;
  const h = new History(bus, () => now, { transitions: 3, macSteps: 2, macs: 2 });
  for (const [from, to] of [
    ["Idle", "Connect"],
    ["Connect", "OpenSent"],
    ["OpenSent", "OpenConfirm"],
    ["OpenConfirm", "Established"],
  ] as const)
    bus.publish("bgp", { kind: "state", peer: P, from, to, reason: "r" });
  assert.deepEqual(
    h.transitions(P).map((t) => t.to),
    ["OpenSent", "OpenConfirm", "Established"],
  );
  assert.equal(h.transitionCount(P), 4);
  now = 2000;
  bus.publish("bgp", { kind: "notification-sent", peer: P, code: 6, subcode: 4, text: "Cease / Administrative Reset" });
  bus.publish("bgp", { kind: "notification-sent", peer: P, code: 6, subcode: 4, text: "Cease / Administrative Reset" });
  bus.publish("bgp", {
    kind: "session-down",
    peer: P,
    cause: "notification-sent",
    reason: "reset",
    gracefulRestart: false,
  });
  assert.deepEqual(h.notifications(P), [{ direction: "sent", code: 6, subcode: 4, count: 2 }]);
  assert.deepEqual(h.lastDown(P), { cause: "notification-sent", reason: "reset", at: 2000 });
  assert.equal(h.lastDown("192.0.2.99"), null);
  h.close();
  bus.publish("bgp", { kind: "state", peer: P, from: "Established", to: "Idle", reason: "r" });
  assert.equal(h.transitionCount(P), 4, "closed: no longer recording");
});

test("MACs: a move starts a history, a learned MAC that never moved has none; bounded per MAC and in MACs", () => {
  const bus = new EventBus();
  let now = 0;
  const h = new History(bus, () => now, { transitions: 10, macSteps: 2, macs: 2 });
  bus.publish("trace", { type: "mac", event: "learned", vni: 10, vtep: "192.0.2.1", mac: M });
  assert.deepEqual(h.macHistory(10, M), []);
  now = 5;
  bus.publish("trace", { type: "mac", event: "moved", vni: 10, vtep: "192.0.2.2", mac: M });
  now = 6;
  bus.publish("evpn", { type: "learning", event: "duplicate", vni: 10, vtep: "192.0.2.2", mac: M });
  bus.publish("trace", { type: "mac", event: "moved", vni: 10, vtep: "192.0.2.1", mac: M });
  assert.deepEqual(
    h.macHistory(10, M).map((s) => s.event),
    ["duplicate", "moved"],
  );
  assert.deepEqual(h.lastMove(10, M), { vtep: "192.0.2.1", at: 6 });
  assert.deepEqual(h.perVni.get(10), { moves: 2, duplicates: 1, limits: {} });
  for (const mac of ["02:00:00:00:02:01", "02:00:00:00:02:02"])
    bus.publish("trace", { type: "mac", event: "moved", vni: 10, vtep: "192.0.2.3", mac });
  assert.deepEqual(h.macHistory(10, M), [], "the least recently moved MAC went");
  bus.publish("evpn", { type: "learning", event: "limit-rate", vni: 10, vtep: "192.0.2.3", suppressed: 4 });
  assert.deepEqual(h.perVni.get(10)?.limits, { rate: 5 });
});

test("reloads by result, the last one; learned routes counted", () => {
  const bus = new EventBus();
  const h = new History(bus, () => 7);
  bus.publish("daemon", { type: "config-reloaded", file: "f", result: "applied" });
  bus.publish("daemon", { type: "config-reloaded", file: "f", result: "rejected" });
  assert.deepEqual(h.reloads, { applied: 1, rejected: 1, failed: 0 });
  assert.deepEqual(h.lastReload, { result: "rejected", at: 7 });
  bus.publish("trace", { type: "learned-route", action: "announce", vni: 10, vtep: "v", mac: M, ip: null });
  assert.deepEqual(h.learnedRoutes, { announced: 1, withdrawn: 0 });
});
