// The BGP FSM (RFC 4271 §8.2.2) and the peer controller on a fake clock: transitions, timers,
// errors, collision detection (§6.8), damping back-off, graceful restart receiver (RFC 4724).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type BgpMessage,
  type Capability,
  decodeMessage,
  encodeMessage,
  endOfRib,
  ipv4Number,
  KEEPALIVE,
  macIpRoute,
  makeOpen,
  type NotificationMessage,
  shutdownCommunication,
} from "../../src/codec/index.js";
import { Fsm, type FsmAction, type FsmConfig } from "../../src/bgp/fsm.js";
import type { LocalSpeaker } from "../../src/bgp/negotiate.js";
import { Peer, type PeerAction, type PeerConfig, SESSION_TIMERS } from "../../src/bgp/peer.js";
import { h, updateWithAttrs } from "../helpers/hex.js";

const EVPN = { afi: 25, safi: 70 };
const LOCAL: LocalSpeaker = { localAs: 65000, routerId: "192.0.2.4", holdTime: 90, families: [EVPN] };
const S = 1000;

function cfg(over: Partial<FsmConfig> = {}): FsmConfig {
  return { local: LOCAL, peerAs: 65000, connectRetry: 10, passive: false, random: () => 0, ...over };
}

function peerCaps(extra: Capability[] = []): Capability[] {
  return [{ code: 1, afi: 25, safi: 70 }, { code: 2 }, { code: 65, asn: 65000 }, ...extra];
}

function open(o: { as?: number; id?: string; hold?: number; caps?: Capability[] } = {}): Uint8Array {
  return encodeMessage(
    makeOpen({
      asn: o.as ?? 65000,
      holdTime: o.hold ?? 90,
      bgpId: o.id ?? "192.0.2.10",
      capabilities: o.caps ?? peerCaps(),
    }),
  );
}
const KA = encodeMessage(KEEPALIVE);

function written(actions: (FsmAction | PeerAction)[]): BgpMessage[] {
  return actions.flatMap((a) => {
    if (a.type !== "write") return [];
    const r = decodeMessage(a.bytes);
    assert.ok(r.ok, "we only write valid messages");
    return [r.message];
  });
}

function notif(actions: (FsmAction | PeerAction)[]): NotificationMessage | undefined {
  return written(actions).find((m): m is NotificationMessage => m.type === 3);
}

function types(actions: (FsmAction | PeerAction)[]): string[] {
  return actions.map((a) => (a.type === "state" ? `state:${a.to}` : a.type));
}

/** An FSM driven to Established at t=0 with the given peer OPEN. */
function established(peerOpen = open(), c = cfg()): Fsm {
  const f = new Fsm(c);
  f.handle({ type: "ManualStart" }, 0);
  f.handle({ type: "TcpConnected" }, 0);
  f.handle({ type: "Data", bytes: peerOpen }, 0);
  const a = f.handle({ type: "Data", bytes: KA }, 0);
  assert.equal(f.state, "Established", JSON.stringify(types(a)));
  return f;
}

describe("FSM transitions (RFC 4271 §8.2.2)", () => {
  test("Idle → Connect → OpenSent → OpenConfirm → Established", () => {
    const f = new Fsm(cfg());
    let a = f.handle({ type: "ManualStart" }, 0);
    assert.deepEqual(types(a), ["connect", "state:Connect"]);
    assert.equal(f.connectRetryAt, 7.5 * S, "ConnectRetryTimer with jitter factor 0.75");
    a = f.handle({ type: "TcpConnected" }, 100);
    assert.deepEqual(types(a), ["write", "state:OpenSent"]);
    const sent = written(a)[0]!;
    assert.equal(sent.type, 1);
    assert.equal(f.connectRetryAt, undefined);
    assert.equal(f.holdAt, 100 + 240 * S, "large hold timer while waiting for the OPEN");
    a = f.handle({ type: "Data", bytes: open({ hold: 30 }) }, 200);
    assert.deepEqual(types(a), ["write", "state:OpenConfirm", "open-received"]);
    assert.equal(written(a)[0]!.type, 4);
    assert.equal(f.holdAt, 200 + 30 * S, "negotiated hold time is the smaller one");
    assert.equal(f.keepaliveAt, 200 + 7.5 * S, "keepalive at a third of it, jittered");
    a = f.handle({ type: "Data", bytes: KA }, 300);
    assert.deepEqual(types(a), ["state:Established", "established"]);
    const est = a.find((x) => x.type === "established");
    assert.ok(est && est.type === "established");
    assert.deepEqual(est.negotiated.families, [EVPN]);
    assert.equal(est.negotiated.as4, true);
    assert.equal(est.negotiated.ebgp, false);
  });

  test("our OPEN carries every capability we implement", () => {
    const f = new Fsm(cfg({ local: { ...LOCAL, gracefulRestart: { restartTime: 120, restarting: true } } }));
    f.handle({ type: "ManualStart" }, 0);
    const m = written(f.handle({ type: "TcpConnected" }, 0))[0]!;
    assert.ok(m.type === 1);
    assert.equal(m.holdTime, 90);
    assert.deepEqual(m.params[0], {
      type: 2,
      capabilities: [
        { code: 1, afi: 25, safi: 70, reserved: 0 },
        { code: 2 },
        { code: 70 },
        { code: 6 },
        { code: 65, asn: 65000 },
        { code: 64, restartFlags: 8, restartTime: 120, families: [{ afi: 25, safi: 70, flags: 0x80 }] },
      ],
    });
  });

  test("extended messages can be left out of our OPEN and the negotiation", () => {
    const f = new Fsm(cfg({ local: { ...LOCAL, extendedMessage: false } }));
    f.handle({ type: "ManualStart" }, 0);
    const m = written(f.handle({ type: "TcpConnected" }, 0))[0]!;
    assert.ok(m.type === 1 && m.params[0]?.type === 2);
    assert.ok(!m.params[0].capabilities.some((c) => c.code === 6));
    const a = f.handle({ type: "Data", bytes: open({ caps: peerCaps([{ code: 6 }]) }) }, 0);
    const o = a.find((x) => x.type === "open-received");
    assert.ok(o && o.type === "open-received");
    assert.equal(o.negotiated.extendedMessage, false);
    assert.equal(o.negotiated.maxMessageSize, 4096);
  });

  test("connection failure in Connect → Active; ConnectRetryTimer → Connect again", () => {
    const f = new Fsm(cfg());
    f.handle({ type: "ManualStart" }, 0);
    let a = f.handle({ type: "TcpFailed", reason: "ECONNREFUSED" }, 50);
    assert.deepEqual(types(a), ["state:Active"]);
    assert.equal(f.connectRetryAt, 50 + 7.5 * S);
    assert.deepEqual(f.handle({ type: "Tick" }, 7 * S), []);
    a = f.handle({ type: "Tick" }, 50 + 7.5 * S);
    assert.deepEqual(types(a), ["connect", "state:Connect"]);
  });

  test("ConnectRetryTimer in Connect drops the attempt and tries again", () => {
    const f = new Fsm(cfg());
    f.handle({ type: "ManualStart" }, 0);
    assert.deepEqual(types(f.handle({ type: "Tick" }, 7.5 * S)), ["close", "connect"]);
    assert.equal(f.state, "Connect");
  });

  test("passive: Active without connecting, accepts the peer's connection", () => {
    const f = new Fsm(cfg({ passive: true }));
    assert.deepEqual(types(f.handle({ type: "ManualStart" }, 0)), ["state:Active"]);
    assert.deepEqual(f.handle({ type: "Tick" }, 100 * S), []);
    assert.deepEqual(types(f.handle({ type: "TcpAccepted" }, 101 * S)), ["write", "state:OpenSent"]);
  });

  test("keepalive cadence and hold timer restart", () => {
    const f = established(open({ hold: 9 }));
    assert.equal(f.keepaliveAt, 2.25 * S);
    const times: number[] = [];
    for (let t = 0; t <= 8 * S; t += 250) {
      const a = f.handle({ type: "Tick" }, t);
      if (written(a).some((m) => m.type === 4)) times.push(t);
      if (t % (3 * S) === 0) f.handle({ type: "Data", bytes: KA }, t); // the peer's keepalives
    }
    assert.deepEqual(times, [2250, 4500, 6750]);
    assert.equal(f.state, "Established");
  });

  test("sending UPDATEs restarts the KeepaliveTimer", () => {
    const f = established(open({ hold: 9 }));
    f.handle({ type: "SendUpdates", messages: [updateWithAttrs("")] }, 2 * S);
    assert.equal(f.keepaliveAt, 2 * S + 2.25 * S);
  });

  test("hold timer expiry: NOTIFICATION Hold Timer Expired, Idle, session down", () => {
    const f = established(open({ hold: 9 }));
    f.handle({ type: "Data", bytes: KA }, 5 * S);
    let a = f.handle({ type: "Tick" }, 13 * S);
    assert.equal(f.state, "Established", "hold timer restarted by the KEEPALIVE at 5 s");
    a = f.handle({ type: "Tick" }, 14 * S);
    assert.deepEqual([notif(a)?.code, notif(a)?.subcode], [4, 0]);
    assert.equal(f.state, "Idle");
    assert.ok(a.some((x) => x.type === "down" && x.cause === "hold-timer-expired"));
    assert.ok(a.some((x) => x.type === "close"));
  });

  test("hold time 0 disables keepalives and the hold timer", () => {
    const f = established(open({ hold: 0 }));
    assert.equal(f.holdAt, undefined);
    assert.equal(f.keepaliveAt, undefined);
    assert.deepEqual(f.handle({ type: "Tick" }, 3600 * S), []);
  });

  test("OpenSent hold timer (4 minutes) expires without an OPEN", () => {
    const f = new Fsm(cfg());
    f.handle({ type: "ManualStart" }, 0);
    f.handle({ type: "TcpConnected" }, 0);
    const a = f.handle({ type: "Tick" }, 240 * S);
    assert.equal(notif(a)?.code, 4);
    assert.equal(f.state, "Idle");
    assert.ok(!a.some((x) => x.type === "down"), "no session was up");
  });

  test("unexpected messages: FSM Error with the RFC 6608 subcode per state", () => {
    const upd = updateWithAttrs("");
    const f1 = new Fsm(cfg());
    f1.handle({ type: "ManualStart" }, 0);
    f1.handle({ type: "TcpConnected" }, 0);
    let n = notif(f1.handle({ type: "Data", bytes: upd }, 0));
    assert.deepEqual([n?.code, n?.subcode, n?.data[0]], [5, 1, 2]);
    const f2 = new Fsm(cfg());
    f2.handle({ type: "ManualStart" }, 0);
    f2.handle({ type: "TcpConnected" }, 0);
    f2.handle({ type: "Data", bytes: open() }, 0);
    n = notif(f2.handle({ type: "Data", bytes: upd }, 0));
    assert.deepEqual([n?.code, n?.subcode], [5, 2]);
    const f3 = established();
    const a = f3.handle({ type: "Data", bytes: open() }, 0);
    n = notif(a);
    assert.deepEqual([n?.code, n?.subcode, n?.data[0]], [5, 3, 1]);
    assert.equal(f3.state, "Idle");
    assert.ok(a.some((x) => x.type === "down" && x.cause === "notification-sent"));
  });

  test("OPEN errors: bad peer AS, unsupported version, our own identifier, no common family", () => {
    const run = (bytes: Uint8Array) => {
      const f = new Fsm(cfg());
      f.handle({ type: "ManualStart" }, 0);
      f.handle({ type: "TcpConnected" }, 0);
      const a = f.handle({ type: "Data", bytes }, 0);
      assert.equal(f.state, "Idle");
      const m = notif(a)!;
      return [m.code, m.subcode];
    };
    assert.deepEqual(
      run(
        open({
          as: 65001,
          caps: [
            { code: 1, afi: 25, safi: 70 },
            { code: 65, asn: 65001 },
          ],
        }),
      ),
      [2, 2],
    );
    const v3 = open();
    v3[19] = 3;
    assert.deepEqual(run(v3), [2, 1]);
    assert.deepEqual(run(open({ id: "192.0.2.4" })), [2, 3]);
    assert.deepEqual(
      run(
        open({
          caps: [
            { code: 1, afi: 1, safi: 1 },
            { code: 65, asn: 65000 },
          ],
        }),
      ),
      [2, 7],
    );
  });

  test("header error: Connection Not Synchronized", () => {
    const f = established();
    const bad = KA.slice();
    bad[0] = 0;
    const n = notif(f.handle({ type: "Data", bytes: bad }, 0));
    assert.deepEqual([n?.code, n?.subcode], [1, 1]);
    assert.equal(f.state, "Idle");
  });

  test("a NOTIFICATION received closes without answering", () => {
    const f = established();
    const a = f.handle(
      { type: "Data", bytes: encodeMessage({ type: 3, code: 6, subcode: 2, data: new Uint8Array(0) }) },
      0,
    );
    assert.equal(notif(a), undefined);
    assert.ok(a.some((x) => x.type === "notification-received"));
    assert.ok(a.some((x) => x.type === "down" && x.cause === "notification-received"));
    assert.equal(f.state, "Idle");
  });

  test("ManualStop sends Cease / Administrative Shutdown with the shutdown communication", () => {
    const f = established();
    const a = f.handle({ type: "ManualStop", communication: "maintenance" }, 0);
    const n = notif(a)!;
    assert.deepEqual([n.code, n.subcode, shutdownCommunication(n)], [6, 2, "maintenance"]);
    assert.equal(f.state, "Idle");
  });

  test("UPDATE handling: RFC 7606 treat-as-withdraw keeps the session, AFI/SAFI disable resets it", () => {
    const f = established();
    const T3 = "03 11 0001c0000201000a 00000000 20 c0000201";
    let a = f.handle(
      { type: "Data", bytes: updateWithAttrs(`40 01 01 09 40 02 00 90 0e 001c 0019 46 04 c0000201 00 ${T3}`) },
      0,
    );
    const u = a.find((x) => x.type === "update");
    assert.ok(u && u.type === "update");
    assert.equal(u.action, "treat-as-withdraw");
    assert.equal(f.state, "Established");
    a = f.handle(
      { type: "Data", bytes: updateWithAttrs(`40 01 01 00 40 02 00 90 0e 000a 0019 46 05 c000020101 00`) },
      0,
    );
    assert.deepEqual([notif(a)?.code, notif(a)?.subcode], [3, 9]);
    assert.equal(f.state, "Idle");
  });

  test("End-of-RIB and ROUTE-REFRESH", () => {
    const f = established();
    let a = f.handle({ type: "Data", bytes: encodeMessage(endOfRib(25, 70)) }, 0);
    assert.deepEqual(a, [{ type: "end-of-rib", afi: 25, safi: 70 }]);
    a = f.handle({ type: "Data", bytes: encodeMessage({ type: 5, afi: 25, safi: 70, subtype: 0 }) }, 0);
    assert.equal(a[0]?.type, "route-refresh");
    a = f.handle({ type: "Data", bytes: encodeMessage({ type: 5, afi: 1, safi: 1, subtype: 0 }) }, 0);
    assert.deepEqual(a, [], "RFC 2918 §4: a family not negotiated is ignored");
  });

  test("several messages in one chunk and a message split over chunks", () => {
    const f = new Fsm(cfg());
    f.handle({ type: "ManualStart" }, 0);
    f.handle({ type: "TcpConnected" }, 0);
    const both = new Uint8Array([...open(), ...KA]);
    f.handle({ type: "Data", bytes: both.subarray(0, 10) }, 0);
    const a = f.handle({ type: "Data", bytes: both.subarray(10) }, 0);
    assert.deepEqual(types(a), ["write", "state:OpenConfirm", "open-received", "state:Established", "established"]);
  });
});

// ---- peer controller -------------------------------------------------------------------------

function newPeer(over: Partial<PeerConfig> = {}, local: LocalSpeaker = LOCAL): Peer {
  const defaults = {
    ...SESSION_TIMERS,
    damping: { idleHoldTime: 2, maxIdleHoldTime: 120 },
    passive: false,
    holdTime: 90,
    connectRetry: 10,
  };
  return new Peer({ ...defaults, ...over, address: "192.0.2.10", peerAs: 65000 }, local, () => 0);
}

function connOf(actions: PeerAction[], type: "connect"): number {
  const a = actions.find((x) => x.type === type);
  assert.ok(a && a.type === "connect");
  return a.conn;
}

/** Brings a peer to Established over an outgoing connection; returns the connection number. */
function up(p: Peer, now: number, peerOpen = open()): number {
  const conn = connOf(p.start(now), "connect");
  p.connected(conn, now);
  p.data(conn, peerOpen, now);
  const a = p.data(conn, KA, now);
  assert.ok(a.some((x) => x.type === "established"));
  return conn;
}

describe("peer controller", () => {
  test("collision: a higher remote identifier keeps the connection the peer opened (RFC 4271 §6.8)", () => {
    const p = newPeer();
    const ours = connOf(p.start(0), "connect");
    p.connected(ours, 0);
    p.data(ours, open({ id: "192.0.2.10" }), 0); // ours in OpenConfirm
    const { conn: theirs, actions } = p.incoming(10);
    assert.ok(
      written(actions).some((m) => m.type === 1),
      "OPEN sent on the new connection",
    );
    const a = p.data(theirs, open({ id: "192.0.2.10" }), 20);
    const dumped = a.filter((x) => x.type === "write" && x.conn === ours);
    assert.equal(dumped.length, 1);
    const n = notif(dumped)!;
    assert.deepEqual([n.code, n.subcode], [6, 7]);
    assert.ok(a.some((x) => x.type === "close" && x.conn === ours));
    const e = p.data(theirs, KA, 30);
    assert.ok(e.some((x) => x.type === "established"));
    assert.equal(p.state, "Established");
    assert.equal(p.counters.collisions, 1);
  });

  test("collision: a lower remote identifier keeps our connection", () => {
    const p = newPeer();
    const ours = connOf(p.start(0), "connect");
    p.connected(ours, 0);
    p.data(ours, open({ id: "192.0.2.1" }), 0);
    const { conn: theirs } = p.incoming(10);
    const a = p.data(theirs, open({ id: "192.0.2.1" }), 20);
    const n = notif(a.filter((x) => x.type === "write" && x.conn === theirs))!;
    assert.deepEqual([n.code, n.subcode], [6, 7]);
    assert.ok(p.data(ours, KA, 30).some((x) => x.type === "established"));
  });

  test("refuses connections while idle, stopped, or established without graceful restart", () => {
    const p = newPeer();
    assert.ok(
      p.incoming(0).actions.some((x) => x.type === "connection-refused"),
      "administratively down",
    );
    up(p, 0);
    const r = p.incoming(1);
    assert.deepEqual(types(r.actions), ["connection-refused", "close"]);
    assert.equal(p.state, "Established");
    assert.equal(p.counters.refusedConnections, 2);
  });

  test("damping: the idle hold doubles with each failure, is capped, and resets after a stable session", () => {
    const p = newPeer();
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      const conn = up(p, now);
      const a = p.data(conn, encodeMessage({ type: 3, code: 6, subcode: 4, data: new Uint8Array(0) }), now + 1);
      assert.ok(
        a.some((x) => x.type === "flush"),
        "no graceful restart: routes flushed",
      );
      waits.push((p.restartAt! - (now + 1)) / S);
      now = p.restartAt!;
      assert.ok(types(p.tick(now)).includes("connect"), "restarted automatically");
      p.stop(now);
      p.tick(now);
    }
    assert.deepEqual(waits, [2, 4, 8, 16, 32, 64, 120, 120]);
    const conn = up(p, now);
    p.closed(conn, "reset by peer", now + 61 * S);
    assert.equal((p.restartAt! - (now + 61 * S)) / S, 2, "a session up for more than 60 s resets the back-off");
  });

  test("damping per neighbour: its own idle hold times, or off (restart at the next tick)", () => {
    const fail = (p: Peer, now: number): number => {
      const conn = up(p, now);
      p.data(conn, encodeMessage({ type: 3, code: 6, subcode: 4, data: new Uint8Array(0) }), now + 1);
      const wait = (p.restartAt! - (now + 1)) / S;
      p.tick(p.restartAt!);
      p.stop(p.restartAt!);
      return wait;
    };
    const tuned = newPeer({ damping: { idleHoldTime: 5, maxIdleHoldTime: 12 } });
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => fail(tuned, i * 100 * S)),
      [5, 10, 12, 12],
    );
    const off = newPeer({ damping: null });
    for (let i = 0; i < 4; i++) {
      const now = i * 10 * S;
      const conn = up(off, now);
      off.data(conn, encodeMessage({ type: 3, code: 6, subcode: 4, data: new Uint8Array(0) }), now + 1);
      assert.equal(off.restartAt, now + 1, "no idle hold");
      assert.equal(off.nextDeadline(), now + 1);
      assert.ok(types(off.tick(now + 1)).includes("connect"), "restarted at the next tick");
      off.stop(now + 1);
    }
    // The peer reconnects before that tick: taken at once without damping, refused within an idle hold.
    const passiveOff = newPeer({ damping: null });
    const conn = up(passiveOff, 100 * S);
    passiveOff.data(conn, encodeMessage({ type: 3, code: 6, subcode: 4, data: new Uint8Array(0) }), 100 * S + 1);
    const again = passiveOff.incoming(100 * S + 1);
    assert.ok(!types(again.actions).includes("connection-refused"), JSON.stringify(again.actions));
    assert.equal(passiveOff.state, "OpenSent", "the peer's connection taken, our OPEN sent");
    const damped = newPeer();
    const c2 = up(damped, 100 * S);
    damped.data(c2, encodeMessage({ type: 3, code: 6, subcode: 4, data: new Uint8Array(0) }), 100 * S + 1);
    const refused = damped.incoming(100 * S + 1);
    assert.ok(types(refused.actions).includes("connection-refused"));
  });

  test("graceful restart receiver: stale on TCP loss, refreshed, swept after End-of-RIB", () => {
    const grCaps = peerCaps([
      { code: 64, restartFlags: 0, restartTime: 120, families: [{ afi: 25, safi: 70, flags: 0x80 }] },
    ]);
    const p = newPeer();
    const conn = up(p, 0, open({ caps: grCaps }));
    const a = p.closed(conn, "connection reset", 10 * S);
    assert.deepEqual(
      a.filter((x) => x.type === "down" || x.type === "stale"),
      [
        { type: "down", cause: "tcp-failed", reason: "connection lost: connection reset", gracefulRestart: true },
        { type: "stale", families: [EVPN] },
      ],
    );
    assert.equal(p.grRestartAt, 130 * S);
    // The restarted peer connects to us.
    p.tick(12 * S);
    const { conn: c2, actions } = p.incoming(13 * S);
    assert.ok(!actions.some((x) => x.type === "connection-refused"));
    const restarted = grCaps.map((c) => (c.code === 64 ? { ...c, restartFlags: 8 } : c));
    p.data(c2, open({ caps: restarted }), 13 * S);
    const e = p.data(c2, KA, 13 * S);
    assert.ok(e.some((x) => x.type === "established"));
    assert.equal(p.grRestartAt, undefined);
    assert.equal(p.stalePathAt, (13 + 360) * S);
    const eor = p.data(c2, encodeMessage(endOfRib(25, 70)), 14 * S);
    assert.ok(eor.some((x) => x.type === "sweep-stale" && x.family?.afi === 25 && x.reason === "End-of-RIB received"));
    assert.equal(p.stalePathAt, undefined);
  });

  test("graceful restart: a new connection while established ends the old session gracefully", () => {
    const grCaps = peerCaps([
      { code: 64, restartFlags: 0, restartTime: 90, families: [{ afi: 25, safi: 70, flags: 0x80 }] },
    ]);
    const p = newPeer();
    up(p, 0, open({ caps: grCaps }));
    const r = p.incoming(5 * S);
    assert.ok(r.actions.some((x) => x.type === "down" && x.gracefulRestart));
    assert.ok(r.actions.some((x) => x.type === "stale"));
    assert.ok(written(r.actions.filter((x) => x.type === "write" && x.conn === r.conn)).some((m) => m.type === 1));
  });

  test("graceful restart: restart time expiry sweeps the stale routes", () => {
    const grCaps = peerCaps([
      { code: 64, restartFlags: 0, restartTime: 30, families: [{ afi: 25, safi: 70, flags: 0x80 }] },
    ]);
    const p = newPeer({ passive: true });
    assert.deepEqual(types(p.start(0)), ["state:Active"]);
    const { conn, actions } = p.incoming(0);
    assert.ok(!actions.some((x) => x.type === "connection-refused"));
    p.data(conn, open({ caps: grCaps }), 0);
    assert.ok(p.data(conn, KA, 0).some((x) => x.type === "established"));
    assert.ok(p.closed(conn, "gone", S).some((x) => x.type === "stale"));
    assert.ok(!p.tick(30 * S).some((x) => x.type === "sweep-stale"));
    const a = p.tick(31 * S);
    assert.ok(a.some((x) => x.type === "sweep-stale" && x.family === undefined));
  });

  test("graceful restart: a restarted peer that lost forwarding state loses its stale routes at once", () => {
    const grCaps = peerCaps([
      { code: 64, restartFlags: 0, restartTime: 120, families: [{ afi: 25, safi: 70, flags: 0x80 }] },
    ]);
    const p = newPeer();
    const c1 = up(p, 0, open({ caps: grCaps }));
    p.closed(c1, "gone", S);
    const c2 = connOf(p.tick(p.restartAt!), "connect");
    p.connected(c2, 4 * S);
    const noFwd = grCaps.map((c) =>
      c.code === 64 ? { ...c, restartFlags: 8, families: [{ afi: 25, safi: 70, flags: 0 }] } : c,
    );
    p.data(c2, open({ caps: noFwd }), 4 * S);
    const a = p.data(c2, KA, 4 * S);
    assert.ok(a.some((x) => x.type === "sweep-stale" && x.family?.afi === 25 && /forwarding state/.test(x.reason)));
    assert.equal(p.stalePathAt, undefined);
  });

  test("a NOTIFICATION ends a graceful-restart session without keeping routes", () => {
    const grCaps = peerCaps([
      { code: 64, restartFlags: 0, restartTime: 120, families: [{ afi: 25, safi: 70, flags: 0x80 }] },
    ]);
    const p = newPeer();
    const conn = up(p, 0, open({ caps: grCaps }));
    const a = p.data(conn, encodeMessage({ type: 3, code: 6, subcode: 2, data: h("") }), S);
    assert.ok(a.some((x) => x.type === "down" && !x.gracefulRestart));
    assert.ok(a.some((x) => x.type === "flush"));
  });
});

describe("looped routes left unbuilt (RFC 4456 §8)", () => {
  const ids = { originatorId: ipv4Number(LOCAL.routerId), clusterId: ipv4Number(LOCAL.routerId) };
  const route = (i: number) =>
    macIpRoute({ rd: "192.0.2.1:10", mac: `02:00:00:00:00:0${i}`, ip: `198.51.100.${i}`, label1: 10 });
  const upd = (i: number, originatorId: string) =>
    encodeMessage({
      type: 2,
      withdrawn: [],
      nlri: [],
      attributes: [
        { kind: "origin", origin: 0 },
        { kind: "as-path", segments: [] },
        { kind: "local-pref", localPref: 100 },
        { kind: "originator-id", originatorId },
        {
          kind: "mp-reach",
          afi: 25,
          safi: 70,
          nextHop: ["192.0.2.1"],
          reserved: 0,
          nlri: { family: "evpn", routes: [route(i)] },
        },
      ],
    });
  const reached = (actions: FsmAction[]) =>
    actions.flatMap((a) =>
      a.type === "update"
        ? a.update.attributes.flatMap((x) =>
            x.kind === "mp-reach" && x.nlri.family === "evpn" ? [`${x.nlri.routes.length}/${x.nlri.ignored ?? 0}`] : [],
          )
        : [],
    );

  test("ignored while asked; after an UPDATE that brings routes, looped ones are built again", () => {
    const f = established();
    f.ignoreLoopedRoutes(ids);
    assert.deepEqual(reached(f.handle({ type: "Data", bytes: upd(1, LOCAL.routerId) }, 0)), ["0/1"]);
    // In one chunk: a route of the peer's own, then one of ours reflected (it must replace the first
    // if it had the same key, so it is built).
    const chunk = Buffer.concat([upd(2, "192.0.2.1"), upd(3, LOCAL.routerId)]);
    assert.deepEqual(reached(f.handle({ type: "Data", bytes: chunk }, 0)), ["1/0", "1/0"]);
    f.ignoreLoopedRoutes(null);
    assert.deepEqual(reached(f.handle({ type: "Data", bytes: upd(4, LOCAL.routerId) }, 0)), ["1/0"]);
  });

  test("asked before the session is established: no effect (the session's context comes with its OPEN)", () => {
    const f = new Fsm(cfg());
    f.handle({ type: "ManualStart" }, 0);
    f.ignoreLoopedRoutes(ids);
    f.handle({ type: "TcpConnected" }, 0);
    f.handle({ type: "Data", bytes: open() }, 0);
    f.handle({ type: "Data", bytes: KA }, 0);
    assert.equal(f.state, "Established");
    assert.deepEqual(reached(f.handle({ type: "Data", bytes: upd(1, LOCAL.routerId) }, 0)), ["1/0"]);
  });
});
