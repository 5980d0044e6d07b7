// The speaker's events from peer actions (events.ts) and the neighbour view built from them
// (view.ts): uptime, last state change, last NOTIFICATION either way, counters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BgpError, ceaseNotification, CeaseSub } from "../../src/codec/index.js";
import { actionEvent } from "../../src/bgp/events.js";
import { NeighborRecord, neighborStatus } from "../../src/bgp/view.js";

const P = "192.0.2.2";

test("peer actions as events: NOTIFICATIONs carry text and RFC 9003 communication", () => {
  const shut = ceaseNotification(CeaseSub.ADMIN_SHUTDOWN, "maintenance");
  assert.deepEqual(actionEvent(P, { type: "notification-received", message: shut }), {
    kind: "notification-received",
    peer: P,
    code: 6,
    subcode: 2,
    text: 'Cease / Administrative Shutdown: "maintenance"',
    communication: "maintenance",
  });
  const error = new BgpError({
    code: "ERR_X",
    message: "bad",
    action: "session-reset",
    notifyCode: 3,
    notifySubcode: 1,
  });
  const sent = actionEvent(P, {
    type: "notification-sent",
    message: ceaseNotification(CeaseSub.PEER_DECONFIGURED),
    error,
  });
  assert.deepEqual(sent, {
    kind: "notification-sent",
    peer: P,
    code: 6,
    subcode: CeaseSub.PEER_DECONFIGURED,
    text: "Cease / Peer De-configured",
    error: { code: "ERR_X", message: "bad" },
  });
  assert.equal(actionEvent(P, { type: "flush" }), null);
  assert.deepEqual(actionEvent(P, { type: "stale", families: [{ afi: 25, safi: 70 }] }), {
    kind: "stale-kept",
    peer: P,
    families: [{ afi: 25, safi: 70 }],
  });
});

test("the record: uptime while Established, last state change, last NOTIFICATION, counters", () => {
  const r = new NeighborRecord();
  assert.equal(r.uptimeMs(5), null);
  r.observe({ kind: "state", peer: P, from: "OpenConfirm", to: "Established", reason: "KEEPALIVE received" }, 1000);
  assert.equal(r.uptimeMs(4000), 3000);
  assert.equal(r.lastStateChange, 1000);
  r.observe({ kind: "notification-received", peer: P, code: 6, subcode: 2, text: "t", communication: "c" }, 5000);
  r.observe({ kind: "state", peer: P, from: "Established", to: "Idle", reason: "NOTIFICATION received" }, 5000);
  assert.equal(r.uptimeMs(6000), null);
  assert.deepEqual(r.lastError, {
    direction: "received",
    code: 6,
    subcode: 2,
    text: "t",
    communication: "c",
    at: 5000,
  });
  r.observe({ kind: "treat-as-withdraw", peer: P, routes: 1, errors: 1 }, 6000);
  r.observe({ kind: "route-not-sent", peer: P, route: "r", error: "e" }, 6000);
  const s = neighborStatus(
    { address: P, peerAs: 65000, description: "rr1" },
    { state: "Idle", negotiated: undefined, counters: {} as never },
    undefined,
    undefined,
    r,
    7000,
  );
  assert.deepEqual(
    [s.description, s.uptimeMs, s.lastStateChange, s.rib.treatedAsWithdraw, s.notSent, s.advertised, s.lastError?.at],
    ["rr1", null, 5000, 1, 1, 0, 5000],
  );
  assert.equal("negotiated" in s, false);
});
