// The learning engine and configured MACs: a configured MAC never moves (RFC 7432 §15.2) and its
// MAC route is the configuration's, but the addresses it uses in ARP/ND at its configured VTEP
// are learned as sticky MAC/IP routes, aged, moved between MACs, limited and reloaded like a
// learned MAC's. Fake clock, fake fabric, documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type LearnConfig, Learner } from "../../src/dataplane/learning/learner.js";
import { decodeVxlan } from "../../src/wire/packet.js";
import { h } from "../helpers/hex.js";
import { A, B, config, E, FakeFabric, fr, S, show } from "../helpers/learning.js";

// The hosts of the packet vectors (test/unit/dataplane-packet.test.ts), configured behind A.
const H1 = "02:00:00:00:01:01"; // 198.51.100.1, 2001:db8:100::1
const H2 = "02:00:00:00:01:02"; // 198.51.100.2, 2001:db8:100::2
const M1 = "02:00:00:00:02:01"; // a learned MAC

// VXLAN payloads, VNI 10 (VXLAN header | inner Ethernet | ARP or IPv6 + ICMPv6).
const VX = {
  // ARP request 198.51.100.1 (H1) → who has 198.51.100.2
  h1ArpRequest:
    "0800000000000a00 ffffffffffff02000000010108060001 080006040001020000000101c6336401000000000000c6336402",
  // NS from 2001:db8:100::1 with the source link-layer address H1 (RFC 4861 §4.3, §4.6.1)
  h1NdNs:
    "0800000000000a00 3333ff00000202000000010186dd 6000000000203aff20010db8010000000000000000000001ff0200000000000000000001ff000002 870019270000000020010db80100000000000000000000020101020000000101",
  // ARP reply 198.51.100.2 is-at H2, inner 802.1Q VLAN 30
  h2ArpReply:
    "0800000000000a00 0200000001010200000001028100001e0806 0001080006040002020000000102c6336402020000000101c6336401",
  // NA for 2001:db8:100::2 with the target link-layer address H2 (RFC 4861 §4.4, §4.6.1)
  h2NdNa:
    "0800000000000a00 02000000010102000000010286dd 6000000000203aff20010db801000000000000000000000220010db8010000000000000000000001 880086716000000020010db80100000000000000000000020201020000000102",
  // ARP probe from H2 for 198.51.100.3: sender IP 0.0.0.0 (RFC 5227 §2.1.1)
  h2ArpProbe: "0800000000000a00 ffffffffffff0200000001020806 000108000604000102000000010200000000000000000000c6336403",
  // DAD from H2 for 2001:db8:100::3: NS from :: (RFC 4862 §5.4.2)
  h2Dad:
    "0800000000000a00 3333ff00000302000000010286dd 6000000000183aff00000000000000000000000000000000ff0200000000000000000001ff000003 87004be90000000020010db8010000000000000000000003",
} as const;

function frame(name: keyof typeof VX, vtep = A) {
  const b = h(VX[name]);
  const r = decodeVxlan(b, 0, b.length, vtep);
  assert.ok(r.ok, `${name} decodes`);
  return r.value;
}

type Macs = LearnConfig["services"][number]["staticVteps"][number]["macs"];

/** VNI 10: H1 and H2 (and `more`) configured behind A, B static. */
function cfg(over: Partial<LearnConfig> = {}, more: Macs = [], atA = true): LearnConfig {
  const c = config(over);
  const macs: Macs = [{ mac: H1, ips: [] }, { mac: H2, ips: [] }, ...more];
  const staticVteps = [
    { address: A, macs: atA ? macs : [] },
    { address: B, macs: atA ? [] : macs },
  ];
  return { ...c, services: [{ ...c.services[0]!, staticVteps }] };
}

function setup(c: LearnConfig = cfg()) {
  const fabric = new FakeFabric();
  return { fabric, l: new Learner(c, fabric) };
}

/** The engine with H1's IPv4 and IPv6 addresses learned at time 0. */
function withH1() {
  const s = setup();
  s.l.frame(frame("h1ArpRequest"), 0);
  s.l.frame(frame("h1NdNs"), 0);
  return s;
}

const V4 = "198.51.100.1";
const V6 = "2001:db8:100::1";

describe("a configured MAC's addresses are learned at its configured VTEP", () => {
  test("IPv4 from ARP, IPv6 from NS and NA: sticky MAC/IP routes at sequence 0; probes and DAD teach nothing", () => {
    const { l } = setup();
    assert.deepEqual(l.frame(frame("h1ArpRequest"), 0), [
      { type: "announce", service: "vni10", evi: 10, vni: 10, vtep: A, mac: H1, ip: V4, seq: 0, sticky: true },
    ]);
    assert.deepEqual(show(l.frame(frame("h1NdNs"), 0)), [`+${A} ${H1}/${V6} 0 sticky`]);
    assert.deepEqual(show(l.frame(frame("h2ArpReply"), S)), [`+${A} ${H2}/198.51.100.2 0 sticky`]);
    assert.deepEqual(show(l.frame(frame("h2NdNa"), S)), [`+${A} ${H2}/2001:db8:100::2 0 sticky`]);
    assert.deepEqual(l.frame(frame("h2ArpProbe"), 2 * S), []);
    assert.deepEqual(l.frame(frame("h2Dad"), 2 * S), []);
    assert.deepEqual(l.frame(frame("h1ArpRequest"), 3 * S), []); // seen again: a refresh
    const c = l.counters();
    assert.deepEqual([c.staticMac, c.learnedIps, c.refreshed, c.noBinding, c.learned], [6, 4, 1, 1, 0]);
    assert.deepEqual(
      l.table().map((r) => [r.mac, r.vtep, r.ips, r.seq, r.configured, r.announced, r.lastSeen]),
      [
        [H1, A, [V4, V6], 0, true, true, 3 * S],
        [H2, A, ["198.51.100.2", "2001:db8:100::2"], 0, true, true, 2 * S],
      ],
    );
    // The MAC routes are the configuration's: the engine has only the MAC/IP routes.
    assert.equal(l.announcedRoutes(), 4);
    const all: ReturnType<Learner["frame"]> = [];
    l.cursor()(10, all);
    assert.deepEqual(show(all).sort(), [
      `+${A} ${H1}/${V4} 0 sticky`,
      `+${A} ${H1}/${V6} 0 sticky`,
      `+${A} ${H2}/198.51.100.2 0 sticky`,
      `+${A} ${H2}/2001:db8:100::2 0 sticky`,
    ]);
  });

  test("an address configured for the MAC is the configuration's route: not learned, no entry", () => {
    const { l } = setup(cfg({}, [{ mac: H2, ips: ["198.51.100.2"] }]));
    assert.deepEqual(l.frame(frame("h2ArpReply"), 0), []);
    assert.deepEqual(l.table(), []);
    assert.deepEqual(show(l.frame(frame("h2NdNa"), 0)), [`+${A} ${H2}/2001:db8:100::2 0 sticky`]);
  });

  test("without include-ip nothing is learned", () => {
    const { l } = setup(cfg({ includeIp: false }));
    assert.deepEqual(l.frame(frame("h1ArpRequest"), 0), []);
    assert.deepEqual(l.frame(frame("h1NdNs"), 0), []);
    assert.deepEqual(l.table(), []);
    assert.equal(l.counters().staticMac, 2);
  });

  test("seen at another VTEP: nothing changes (sticky), counted, one event per interval", () => {
    const { l } = withH1();
    assert.deepEqual(show(l.frame(frame("h1ArpRequest", B), S)), [`!sticky-blocked ${H1}`]);
    assert.deepEqual(l.frame(frame("h1NdNs", B), 2 * S), []);
    assert.deepEqual(l.frame(fr(B, H1, "198.51.100.9"), 3 * S), []);
    assert.equal(l.counters().stickyBlocked, 3);
    assert.deepEqual(
      l.table().map((r) => [r.mac, r.vtep, r.ips, r.lastSeen]),
      [[H1, A, [V4, V6], 0]],
    );
  });

  test("the fabric's routes for the MAC never move its addresses", () => {
    const { l, fabric } = withH1();
    fabric.set(H1, E, 7);
    assert.deepEqual(l.remoteChanged(10, H1, S), []);
    fabric.set(H1, E, 0, true);
    assert.deepEqual(l.remoteChanged(10, H1, 2 * S), []);
    assert.equal(l.announcedRoutes(), 2);
  });
});

describe("bound, aged and limited like a learned MAC's", () => {
  test("an address not seen for mac-ageing-seconds is withdrawn; the MAC route is not the engine's", () => {
    const { l } = withH1();
    l.frame(frame("h1ArpRequest"), 200 * S);
    assert.deepEqual(l.nextDeadline(), 301 * S);
    assert.deepEqual(show(l.tick(301 * S)), [`-${A} ${H1}/${V6}`]);
    assert.deepEqual(show(l.tick(501 * S)), [`-${A} ${H1}/${V4}`]);
    assert.deepEqual(l.table(), []);
    const c = l.counters();
    assert.deepEqual([c.agedIps, c.aged], [2, 0]);
    assert.equal(l.nextDeadline(), undefined);
  });

  test("an address moves between a configured MAC and a learned one", () => {
    const { l } = withH1();
    assert.deepEqual(show(l.frame(fr(B, M1, V4), S)), [`+${B} ${M1} 0`, `-${A} ${H1}/${V4}`, `+${B} ${M1}/${V4} 0`]);
    assert.deepEqual(show(l.frame(frame("h1ArpRequest"), 2 * S)), [`-${B} ${M1}/${V4}`, `+${A} ${H1}/${V4} 0 sticky`]);
    assert.equal(l.counters().ipMoves, 2);
    // and between two configured MACs
    assert.deepEqual(show(l.frame(fr(A, H2, V6), 3 * S)), [`-${A} ${H1}/${V6}`, `+${A} ${H2}/${V6} 0 sticky`]);
  });

  test("max-ips-per-mac and the learning rate apply; configured MACs do not count as learned MACs", () => {
    const { l } = setup(cfg({ maxIpsPerMac: 2, maxLearnPerVtepPerSecond: 2, maxMacsPerVtep: 1 }));
    l.frame(fr(A, H1, "198.51.100.11"), 0);
    l.frame(fr(A, H1, "198.51.100.12"), 0);
    assert.deepEqual(show(l.frame(fr(A, H1, "198.51.100.13"), 0)), [`!limit-ips ${H1}`]);
    assert.deepEqual(show(l.frame(fr(A, H2, "198.51.100.21"), 0)), [`!limit-rate ${H2}`]);
    assert.deepEqual(l.table().length, 1, "refused by a limit: no entry without an address");
    // one learned MAC at A within max-macs-per-vtep 1, beside the configured ones
    assert.deepEqual(show(l.frame(fr(A, M1), S)), [`+${A} ${M1} 0`]);
    assert.deepEqual(show(l.frame(fr(A, H2, "198.51.100.21"), 2 * S)), [`+${A} ${H2}/198.51.100.21 0 sticky`]);
    const c = l.counters();
    assert.deepEqual([c.limitIps, c.limitRate, c.limitVtep], [1, 1, 0]);
  });

  test("a lowered max-ips-per-mac trims a configured MAC's addresses too", () => {
    const { l } = withH1();
    assert.deepEqual(show(l.reconfigure(cfg({ maxIpsPerMac: 1 }), S)), [`!limit-ips ${H1}`, `-${A} ${H1}/${V4}`]);
    assert.deepEqual(l.table()[0]!.ips, [V6]);
  });
});

describe("reloads", () => {
  test("a reload that keeps the MAC keeps its addresses and sends nothing", () => {
    const { l } = withH1();
    const before = l.table();
    const next = cfg({ maxMacsPerVtep: 5 }, [{ mac: "02:00:00:00:01:09", ips: ["198.51.100.99"] }]);
    assert.deepEqual(l.reconfigure(next, S), []);
    assert.deepEqual(l.table(), before);
    assert.deepEqual(l.frame(frame("h1NdNs"), 2 * S), []);
    assert.equal(l.announcedRoutes(), 2);
  });

  test("removed from the configuration: its MAC/IP routes are withdrawn; then it is an ordinary MAC", () => {
    const { l } = withH1();
    const next = {
      ...cfg(),
      services: [
        {
          ...cfg().services[0]!,
          staticVteps: [
            { address: A, macs: [] },
            { address: B, macs: [] },
          ],
        },
      ],
    };
    assert.deepEqual(show(l.reconfigure(next, S)), [`-${A} ${H1}/${V4}`, `-${A} ${H1}/${V6}`]);
    assert.deepEqual(l.table(), []);
    assert.deepEqual(l.counters().reloadRemovedIps, 2);
    assert.deepEqual(show(l.frame(frame("h1ArpRequest"), 2 * S)), [`+${A} ${H1} 0`, `+${A} ${H1}/${V4} 0`]);
  });

  test("configured at another VTEP now: withdrawn at the old one, blocked there", () => {
    const { l } = withH1();
    assert.deepEqual(show(l.reconfigure(cfg({}, [], false), S)), [`-${A} ${H1}/${V4}`, `-${A} ${H1}/${V6}`]);
    assert.deepEqual(show(l.frame(frame("h1ArpRequest"), 2 * S)), [`!sticky-blocked ${H1}`]);
    assert.deepEqual(show(l.frame(frame("h1ArpRequest", B), 3 * S)), [`+${B} ${H1}/${V4} 0 sticky`]);
  });

  test("an address now configured for the MAC: its binding goes unwithdrawn (the configured route replaces it)", () => {
    const { l } = withH1();
    assert.deepEqual(l.reconfigure(cfg({}, [{ mac: H1, ips: [V4] }]), S), []);
    assert.deepEqual(l.table()[0]!.ips, [V6]);
    assert.deepEqual(l.frame(frame("h1ArpRequest"), 2 * S), []);
    assert.equal(l.announcedRoutes(), 1);
  });

  test("include-ip turned off, or the service removed: the addresses are withdrawn", () => {
    const a = withH1().l;
    assert.deepEqual(show(a.reconfigure(cfg({ includeIp: false }), S)), [`-${A} ${H1}/${V4}`, `-${A} ${H1}/${V6}`]);
    assert.deepEqual(a.table(), []);
    const b = withH1().l;
    assert.deepEqual(show(b.reconfigure({ ...cfg(), services: [] }, S)), [`-${A} ${H1}/${V4}`, `-${A} ${H1}/${V6}`]);
    assert.deepEqual([b.table().length, b.counters().reloadRemovedIps, b.counters().reloadRemoved], [0, 2, 0]);
  });
});
