// Data-plane learning engine on a fake clock and a fake fabric: learning, ageing, RFC 7432 §15
// MAC mobility (sequence numbers, tie-break, sticky, duplicate detection), auto-discovery and
// limits. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Learner, type LearnConfig } from "../../src/dataplane/learning/learner.js";
import { A, B, config, E, FakeFabric, fr, LOW, M1, M2, random, S, show, STATIC } from "../helpers/learning.js";

function setup(over: Partial<LearnConfig> = {}) {
  const fabric = new FakeFabric();
  return { fabric, l: new Learner(config(over), fabric) };
}

describe("learning from a static VTEP", () => {
  test("MAC, MAC/IP, probe → MAC only; without include-ip the MAC only", () => {
    const { l } = setup();
    assert.deepEqual(show(l.frame(fr(A, M1, "198.51.100.1"), 0)), [`+${A} ${M1} 0`, `+${A} ${M1}/198.51.100.1 0`]);
    assert.deepEqual(show(l.frame(fr(A, M2, null, 10, "arp-probe"), 0)), [`+${A} ${M2} 0`]);
    const a = l.frame(fr(A, "02:00:00:00:01:03", "2001:db8::3", 10, "nd-na"), 0)[1]!;
    assert.deepEqual(a, {
      type: "announce",
      service: "vni10",
      evi: 10,
      vni: 10,
      vtep: A,
      mac: "02:00:00:00:01:03",
      ip: "2001:db8::3",
      seq: 0,
      sticky: false,
    });
    const { l: l2 } = setup({ includeIp: false });
    assert.deepEqual(show(l2.frame(fr(A, M1, "198.51.100.1"), 0)), [`+${A} ${M1} 0`]);
  });

  test("seen again unchanged: no action, only the last-seen time moves; a new IP is one route", () => {
    const { l } = setup();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    assert.deepEqual(l.frame(fr(A, M1, "198.51.100.1"), 5 * S), []);
    assert.deepEqual(l.frame(fr(A, M1, null, 10, "arp-probe"), 6 * S), []);
    assert.equal(l.table()[0]!.lastSeen, 6 * S);
    assert.deepEqual(show(l.frame(fr(A, M1, "198.51.100.9"), 7 * S)), [`+${A} ${M1}/198.51.100.9 0`]);
    assert.deepEqual(l.table()[0]!.ips, ["198.51.100.1", "198.51.100.9"]);
    assert.equal(l.counters().refreshed, 2);
  });

  test("a DAD frame teaches nothing; configured MACs are not learned (their addresses: dataplane-learn-static)", () => {
    const { l } = setup();
    assert.deepEqual(l.frame(fr(A, null, null, 10, "nd-ns"), 0), []);
    assert.deepEqual(l.frame(fr(A, STATIC, null, 10, "arp-probe"), 0), []);
    assert.equal(l.counters().noBinding, 1);
    assert.equal(l.counters().staticMac, 1);
    assert.deepEqual(l.table(), []);
  });

  test("an IP taken over by another MAC: the old MAC/IP route goes", () => {
    const { l } = setup();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(B, M2, "198.51.100.2"), 0);
    assert.deepEqual(show(l.frame(fr(B, M2, "198.51.100.1"), S)), [
      `-${A} ${M1}/198.51.100.1`,
      `+${B} ${M2}/198.51.100.1 0`,
    ]);
    assert.deepEqual(l.table()[0]!.ips, []);
  });
});

describe("which frames are learned from", () => {
  test("an EVPN VTEP is never proxied; an unconfigured VNI is dropped", () => {
    const { l } = setup();
    assert.deepEqual(l.frame(fr(E, M1, "198.51.100.1"), 0), []);
    assert.deepEqual(l.frame(fr(A, M1, "198.51.100.1", 99), 0), []);
    assert.equal(l.counters().evpnVtep, 1);
    assert.equal(l.counters().unknownVni, 1);
    assert.deepEqual(l.table(), []);
  });

  test("auto-discovery inside the allowed prefixes; outside, or when off, counted and dropped", () => {
    const { l } = setup({ autoDiscover: true });
    assert.deepEqual(show(l.frame(fr("198.51.100.77", M1), 0)), ["imet 198.51.100.77 10", `+198.51.100.77 ${M1} 0`]);
    assert.deepEqual(show(l.frame(fr("198.51.100.77", M2), 0)), [`+198.51.100.77 ${M2} 0`]); // discovered once
    assert.deepEqual(l.discovered(10), ["198.51.100.77"]);
    assert.deepEqual(show(l.frame(fr("203.0.113.5", M1), 0)), ["!unknown-vtep"]);
    assert.deepEqual(show(l.frame(fr("203.0.113.6", M1), S)), []); // the event is throttled
    assert.equal(l.counters().unknownVtep, 2);
    const { l: off } = setup({ autoDiscover: false });
    assert.deepEqual(show(off.frame(fr("198.51.100.77", M1), 0)), ["!unknown-vtep"]);
    assert.deepEqual(off.table(), []);
  });

  test("IPv6 prefixes, and a bad prefix is refused", () => {
    const { l } = setup({ autoDiscover: true, allowedPrefixes: ["2001:db8:1::/48"] });
    assert.equal(show(l.frame(fr("2001:db8:1:2::5", M1), 0))[0], "imet 2001:db8:1:2::5 10");
    assert.deepEqual(show(l.frame(fr("2001:db8:2::5", M1), 0)), ["!unknown-vtep"]);
    assert.throws(() => setup({ allowedPrefixes: ["192.0.2.0/33"] }), /not a CIDR/);
  });
});

describe("ageing", () => {
  test("a binding not seen for mac-ageing-seconds is withdrawn; a refresh postpones it", () => {
    const { l } = setup();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M2), 0);
    l.frame(fr(A, M1, null, 10, "arp-probe"), 100 * S); // M1 refreshed, its IP not
    assert.equal(l.nextDeadline(), 301 * S);
    assert.deepEqual(l.tick(300 * S), []); // never early
    assert.deepEqual(show(l.tick(301 * S)), [`-${A} ${M1}/198.51.100.1`, `-${A} ${M2}`]);
    assert.deepEqual(
      l.table().map((b) => [b.mac, b.ips]),
      [[M1, []]],
    );
    assert.equal(l.nextDeadline(), 401 * S);
    assert.deepEqual(l.tick(400 * S), []);
    assert.deepEqual(show(l.tick(401 * S)), [`-${A} ${M1}`]);
    assert.deepEqual(l.table(), []);
    assert.equal(l.nextDeadline(), undefined);
    assert.equal(l.counters().aged, 2);
    assert.equal(l.counters().agedIps, 1);
  });
});

describe("MAC mobility (RFC 7432 §15)", () => {
  test("a move between two static VTEPs: sequence + 1, the new route before the old one goes", () => {
    const { l, fabric } = setup();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    assert.deepEqual(show(l.frame(fr(B, M1, "198.51.100.1"), S)), [
      `+${B} ${M1} 1`,
      `+${B} ${M1}/198.51.100.1 1`,
      `-${A} ${M1}/198.51.100.1`,
      `-${A} ${M1}`,
    ]);
    // the fabric may hold a higher sequence (another proxy's or an EVPN VTEP's earlier route)
    fabric.set(M1, B, 7); // our own location from another proxy: not a winner
    // The MAC's IP binding moves with it, although this frame (an ARP probe, say) names no IP.
    assert.deepEqual(show(l.frame(fr(A, M1), 2 * S)), [
      `+${A} ${M1} 8`,
      `+${A} ${M1}/198.51.100.1 8`,
      `-${B} ${M1}/198.51.100.1`,
      `-${B} ${M1}`,
    ]);
    assert.equal(l.counters().moves, 2);
  });

  test("taken over by an EVPN VTEP with a higher sequence → withdrawn; moved back → higher sequence", () => {
    const { l, fabric } = setup();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    fabric.set(M1, E, 0); // equal sequence, higher VTEP IP: ours stands
    assert.deepEqual(l.remoteChanged(10, M1, S), []);
    fabric.set(M1, E, 1);
    assert.deepEqual(show(l.remoteChanged(10, M1, 2 * S)), [`-${A} ${M1}/198.51.100.1`, `-${A} ${M1}`]);
    assert.equal(l.table()[0]!.announced, false);
    assert.deepEqual(l.remoteChanged(10, M1, 2 * S), []); // nothing left to withdraw
    assert.deepEqual(show(l.frame(fr(A, M1, "198.51.100.1"), 3 * S)), [`+${A} ${M1} 2`, `+${A} ${M1}/198.51.100.1 2`]);
    assert.equal(l.counters().withdrawnByRemote, 1);
  });

  test("equal sequence: the lower VTEP IP wins", () => {
    const { l, fabric } = setup();
    l.frame(fr(A, M1), 0);
    fabric.set(M1, LOW, 0);
    assert.deepEqual(show(l.remoteChanged(10, M1, S)), [`-${A} ${M1}`]);
  });

  test("a lower sequence from the fabric does not win", () => {
    const { l, fabric } = setup();
    l.frame(fr(A, M1), 0);
    l.frame(fr(B, M1), S); // seq 1
    fabric.set(M1, LOW, 0);
    assert.deepEqual(l.remoteChanged(10, M1, 2 * S), []);
  });

  test("another proxy's route at our location with a higher sequence is adopted, never a lower one", () => {
    const { l, fabric } = setup();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    fabric.set(M1, A, 3);
    assert.deepEqual(show(l.remoteChanged(10, M1, S)), [`+${A} ${M1} 3`, `+${A} ${M1}/198.51.100.1 3`]);
    fabric.set(M1, A, 2);
    assert.deepEqual(l.remoteChanged(10, M1, 2 * S), []);
    // a new MAC already announced here by another proxy: the identical route, no move
    fabric.set(M2, B, 4);
    assert.deepEqual(show(l.frame(fr(B, M2), 3 * S)), [`+${B} ${M2} 4`]);
    assert.equal(l.counters().moves, 0);
  });

  test("sticky MACs never move", () => {
    const { l, fabric } = setup();
    // configured at A, seen at B
    assert.deepEqual(show(l.frame(fr(B, STATIC), 0)), [`!sticky-blocked ${STATIC}`]);
    // sticky in the fabric (an EVPN VTEP's static MAC)
    fabric.set(M1, E, 0, true);
    assert.deepEqual(l.frame(fr(A, M1), S), []); // event throttled
    assert.deepEqual(l.table(), []);
    // a sticky route arriving for a MAC we announce wins, whatever its sequence
    l.frame(fr(A, M2), 2 * S);
    l.frame(fr(B, M2), 3 * S); // seq 1
    fabric.set(M2, E, 0, true);
    assert.deepEqual(show(l.remoteChanged(10, M2, 4 * S)), [`-${B} ${M2}`]);
    assert.deepEqual(l.frame(fr(B, M2), 5 * S), []);
    assert.equal(l.counters().stickyBlocked, 3);
  });

  test("more than max-moves moves within the window: duplicate, frozen, released after freeze-seconds", () => {
    const { l } = setup();
    l.frame(fr(A, M1), 0);
    const seqs: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const out = l.frame(fr(i % 2 === 1 ? B : A, M1), i * 10 * S);
      assert.equal(out[0]!.type, "announce");
      seqs.push((out[0] as { seq: number }).seq);
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
    // the sixth move: not announced, duplicate
    assert.deepEqual(show(l.frame(fr(A, M1), 60 * S)), [`!duplicate ${M1}`]);
    assert.deepEqual(
      l.table().map((b) => [b.vtep, b.seq, b.announced, b.duplicate]),
      [[B, 5, true, true]],
    );
    assert.deepEqual(l.frame(fr(A, M1), 61 * S), []);
    assert.deepEqual(l.frame(fr(B, M1), 62 * S), []);
    assert.equal(l.counters().frozenDropped, 2);
    assert.deepEqual(show(l.tick(659 * S)), []); // ageing waits for the release
    assert.equal(l.nextDeadline(), 660 * S);
    assert.deepEqual(show(l.tick(660 * S)), [`!duplicate-released ${M1}`]);
    assert.deepEqual(show(l.frame(fr(A, M1), 661 * S)), [`+${A} ${M1} 6`, `-${B} ${M1}`]);
    assert.equal(l.counters().duplicates, 1);
  });

  test("duplicate and release events: at most one per VTEP and event interval, the next with a count", () => {
    const { l } = setup({ maxMoves: 1, eventIntervalSeconds: 60 });
    const macs = [M1, M2, "02:00:00:00:00:03"];
    const dup = (mac: string, t: number) => [A, B, A].flatMap((v) => show(l.frame(fr(v, mac), t)));
    assert.deepEqual(dup(macs[0]!, 10 * S), [
      `+${A} ${macs[0]} 0`,
      `+${B} ${macs[0]} 1`,
      `-${A} ${macs[0]}`,
      `!duplicate ${macs[0]}`,
    ]);
    // two more duplicates at B within the interval: frozen and counted, not reported
    for (const m of macs.slice(1)) assert.ok(!dup(m, 20 * S).some((x) => x.startsWith("!")));
    assert.equal(l.counters().duplicates, 3);
    assert.deepEqual(
      l.table().map((b) => b.duplicate),
      [true, true, true],
    );
    // the next one after the interval says how many were not
    assert.deepEqual(
      dup("02:00:00:00:00:04", 70 * S).filter((x) => x.startsWith("!")),
      [`!duplicate 02:00:00:00:00:04 (2)`],
    );
    // releases (freeze-seconds 600 after each): the first reported, the two within 60 s counted,
    // the next one after the interval with that count
    const released = [610, 620].flatMap((t) => show(l.tick(t * S)).filter((x) => x.startsWith("!")));
    assert.deepEqual(released, [`!duplicate-released ${macs[0]}`]);
    assert.deepEqual(
      show(l.tick(670 * S)).filter((x) => x.startsWith("!")),
      [`!duplicate-released 02:00:00:00:00:04 (2)`],
    );
  });

  test("moves spread wider than the window are not a duplicate", () => {
    const { l } = setup();
    l.frame(fr(A, M1), 0);
    for (let i = 1; i <= 12; i++) {
      const out = l.frame(fr(i % 2 === 1 ? B : A, M1), i * 40 * S); // at most 5 within 180 s
      assert.equal(out[0]!.type, "announce", `move ${i}`);
    }
    assert.equal(l.counters().duplicates, 0);
  });
});

describe("limits against abuse", () => {
  test("learned MACs per VTEP", () => {
    const { l } = setup({ maxMacsPerVtep: 2 });
    l.frame(fr(A, "02:00:00:00:02:01"), 0);
    l.frame(fr(A, "02:00:00:00:02:02"), 0);
    assert.deepEqual(show(l.frame(fr(A, "02:00:00:00:02:03"), 0)), ["!limit-vtep 02:00:00:00:02:03"]);
    assert.deepEqual(l.frame(fr(A, "02:00:00:00:02:04"), 30 * S), []); // once per interval
    assert.deepEqual(show(l.frame(fr(A, "02:00:00:00:02:05"), 60 * S)), ["!limit-vtep 02:00:00:00:02:05 (1)"]);
    assert.equal(show(l.frame(fr(B, "02:00:00:00:02:03"), 60 * S))[0], `+${B} 02:00:00:00:02:03 0`);
    assert.equal(l.counters().limitVtep, 3);
    assert.equal(l.table().length, 3);
  });

  test("learned MACs per VNI; a move within the VNI is not a new MAC", () => {
    const { l } = setup({ maxMacsPerVni: 2 });
    l.frame(fr(A, M1), 0);
    l.frame(fr(B, M2), 0);
    assert.deepEqual(show(l.frame(fr(B, "02:00:00:00:02:03"), 0)), ["!limit-vni 02:00:00:00:02:03"]);
    assert.equal(show(l.frame(fr(B, M1), S))[0], `+${B} ${M1} 1`);
    assert.equal(l.counters().limitVni, 1);
  });

  test("learning rate per VTEP (token bucket, one second of burst); refreshes are free", () => {
    const { l } = setup({ maxLearnPerVtepPerSecond: 3 });
    const mac = (i: number) => `02:00:00:00:03:${i.toString(16).padStart(2, "0")}`;
    for (let i = 0; i < 3; i++) assert.equal(l.frame(fr(A, mac(i)), 0).length, 1);
    assert.deepEqual(show(l.frame(fr(A, mac(3)), 0)), [`!limit-rate ${mac(3)}`]);
    assert.deepEqual(l.frame(fr(A, mac(0)), 0), []); // known: no token needed
    assert.equal(l.frame(fr(B, mac(4)), 0).length, 1); // another VTEP has its own bucket
    assert.deepEqual(l.frame(fr(A, mac(5)), 100), []); // 0.3 token
    assert.equal(l.frame(fr(A, mac(5)), 400).length, 1); // 1.2 tokens
    assert.equal(l.counters().limitRate, 2);
  });

  test("IPs per MAC", () => {
    const { l } = setup({ maxIpsPerMac: 2 });
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1, "198.51.100.2"), 0);
    assert.deepEqual(show(l.frame(fr(A, M1, "198.51.100.3"), 0)), [`!limit-ips ${M1}`]);
    assert.equal(l.counters().limitIps, 1);
  });
});

describe("storage (slots, IP keys, a clock that goes back)", () => {
  test("IPv4, IPv6 and non-canonical IP text are distinct bindings; a moving MAC's IPs follow in binding order", () => {
    const { l } = setup();
    l.frame(fr(A, M1, "198.51.100.2"), 0);
    l.frame(fr(A, M1, "2001:db8::1"), 0);
    l.frame(fr(A, M1, "198.051.100.2"), 0); // not canonical: its own binding, reported as given
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    assert.deepEqual(show(l.frame(fr(B, M2, "2001:db8::1"), S)), [
      `+${B} ${M2} 0`,
      `-${A} ${M1}/2001:db8::1`,
      `+${B} ${M2}/2001:db8::1 0`,
    ]);
    assert.deepEqual(show(l.frame(fr(B, M1), 2 * S)), [
      `+${B} ${M1} 1`,
      `+${B} ${M1}/198.51.100.2 1`,
      `+${B} ${M1}/198.051.100.2 1`,
      `+${B} ${M1}/198.51.100.1 1`,
      `-${A} ${M1}/198.051.100.2`,
      `-${A} ${M1}/198.51.100.1`,
      `-${A} ${M1}/198.51.100.2`,
      `-${A} ${M1}`,
    ]);
    assert.deepEqual(l.table()[0]!.ips, ["198.051.100.2", "198.51.100.1", "198.51.100.2"]);
  });

  test("thousands of MACs: storage grows, and slots freed by ageing are reused", () => {
    const { l } = setup();
    const mac = (i: number) =>
      `02:00:00:00:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
    const ip = (i: number) => `10.0.${i >> 8}.${i & 255}`;
    for (let i = 0; i < 1500; i++) l.frame(fr(i % 2 ? A : B, mac(i), ip(i)), 0);
    assert.equal(l.tick(301 * S).length, 3000);
    // new MACs take the freed slots; their IPs are new bindings (the old ones aged with their MACs)
    for (let i = 0; i < 1500; i++) l.frame(fr(A, mac(i + 5000), ip(i)), 302 * S);
    for (let i = 0; i < 500; i++) l.frame(fr(A, mac(i + 5000), ip(i + 2000)), 302 * S);
    const t = l.table();
    assert.equal(t.length, 1500);
    assert.deepEqual(t[0]!.ips, [ip(0), ip(2000)].sort());
    assert.deepEqual(t[1499]!.ips, [ip(1499)]);
    assert.equal(l.nextDeadline(), 603 * S);
    assert.equal(l.counters().learnedIps, 3500);
    assert.equal(l.counters().ipMoves, 0);
  });

  test("a clock that went back: a frozen MAC aged out before its release is still released", () => {
    const { l } = setup({ maxMoves: 1 });
    for (const v of [A, B, A]) l.frame(fr(v, M2), 1000 * S); // duplicate, frozen until 1600 s
    for (const v of [A, B, A]) l.frame(fr(v, M1, "198.51.100.1"), 100 * S); // until 700 s, released after M2
    assert.deepEqual(show(l.tick(1400 * S)), [`-${B} ${M1}/198.51.100.1`, `-${B} ${M1}`]); // M2 is requeued
    assert.deepEqual(show(l.frame(fr(A, M1), 1401 * S)), [`+${A} ${M1} 0`]); // a new entry, not frozen
    assert.deepEqual(
      l.table().map((b) => [b.mac, b.duplicate]),
      [
        [M1, false],
        [M2, true],
      ],
    );
    assert.equal(l.nextDeadline(), 1600 * S);
    // both at B: the second release event of B within the event interval is only counted
    assert.deepEqual(show(l.tick(1600 * S)), [`!duplicate-released ${M2}`]);
    assert.deepEqual(show(l.frame(fr(B, M1), 1601 * S)), [`+${B} ${M1} 1`, `-${A} ${M1}`]);
  });
});

test("two learners fed the same frames and fabric produce identical actions", () => {
  const f1 = new FakeFabric();
  const f2 = new FakeFabric();
  const l1 = new Learner(config({ autoDiscover: true, maxLearnPerVtepPerSecond: 50 }), f1);
  const l2 = new Learner(config({ autoDiscover: true, maxLearnPerVtepPerSecond: 50 }), f2);
  const vteps = [A, B, E, "198.51.100.9", "203.0.113.1"];
  const rnd = random(7);
  const a1: string[] = [];
  const a2: string[] = [];
  for (let t = 0; t < 3000; t++) {
    const now = t * 500;
    const mac = `02:00:00:00:04:0${rnd(8)}`;
    const r = rnd(20);
    if (r === 0) {
      const route = { vtep: LOW, seq: rnd(10), sticky: false };
      f1.routes.set(`10/${mac}`, route);
      f2.routes.set(`10/${mac}`, { ...route });
      a1.push(...show(l1.remoteChanged(10, mac, now)));
      a2.push(...show(l2.remoteChanged(10, mac, now)));
    } else if (r === 1) {
      a1.push(...show(l1.tick(now)));
      a2.push(...show(l2.tick(now)));
    } else {
      const f = fr(vteps[rnd(vteps.length)]!, mac, rnd(2) === 0 ? `198.51.100.${rnd(4) + 1}` : null);
      a1.push(...show(l1.frame(f, now)));
      a2.push(...show(l2.frame({ ...f }, now)));
    }
  }
  assert.ok(a1.some((s) => s.startsWith("+")) && a1.some((s) => s.startsWith("-")));
  assert.deepEqual(a1, a2);
  assert.deepEqual(l1.table(), l2.table());
});
