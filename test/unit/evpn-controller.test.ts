// The EVPN controller in-process on a fake clock, without sockets: configured routes, an EVPN
// VTEP appearing and going, learning, a move, a duplicate, ageing, a reload; the RFC 7432 §15.1
// tie-break. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import type { OwnedRoutes } from "../../src/bgp/io/speaker.js";
import { digestAttributes } from "../../src/bgp/path-attrs.js";
import type { Path, PeerRef, RibChange } from "../../src/bgp/rib.js";
import { type EvpnRoute, macIpRoute, macMobility, type PathAttribute } from "../../src/codec/index.js";
import { parseConfig } from "../../src/config/load.js";
import type { ProxyConfig } from "../../src/config/model.js";
import { Learner } from "../../src/dataplane/learning/learner.js";
import { type CopySink, ReplicationEngine } from "../../src/dataplane/replication/engine.js";
import { parseMacInto } from "../../src/net/addr.js";
import { Controller, type RouteSink } from "../../src/evpn/controller.js";
import type { EvpnEvent, EvpnEvents, TraceEvent } from "../../src/evpn/events.js";
import { bestRemoteMac, type RibView } from "../../src/evpn/fabric.js";
import type { LearnedFrame } from "../../src/wire/packet.js";
import { vni10Yaml } from "../helpers/config-yaml.js";

const A = "192.0.2.1"; // static VTEP
const B = "192.0.2.2"; // static VTEP
const E = "192.0.2.20"; // EVPN VTEP
const M1 = "02:00:00:00:01:01";
const STATIC = "02:00:00:00:0f:01";
const S = 1000;
const RR: PeerRef = { id: "192.0.2.254", address: "192.0.2.254", routerId: "192.0.2.254", asn: 65000, ebgp: false };

function yaml(extra = "", macsOfA = `["${STATIC}"]`): string {
  const vteps = `      - address: ${A}\n        macs: ${macsOfA}\n      - address: ${B}`;
  return vni10Yaml(vteps, `  max-moves: 2\n  mac-ageing-seconds: 60\n${extra}`);
}

function config(text: string): ProxyConfig {
  const r = parseConfig(text, "test.yaml");
  assert.ok(r.ok, JSON.stringify(r));
  return r.config;
}

function seqOf(attrs: OutAttrs): string {
  for (const a of attrs.attributes)
    if (a.kind === "ext-communities")
      for (const c of a.communities)
        if (c.kind === "mac-mobility") return ` seq ${c.sequence}${c.flags & 1 ? " sticky" : ""}`;
  return "";
}

function text(r: EvpnRoute, attrs?: OutAttrs): string {
  if (r.routeType === 3) return `imet ${r.originator}`;
  if (r.routeType === 2) return `mac ${r.rd} ${r.mac}${r.ip ? "/" + r.ip : ""}${attrs ? seqOf(attrs) : ""}`;
  return `type ${r.routeType}`;
}

/** Records what the controller commands the speaker, as compact lines. */
class FakeSink implements RouteSink {
  log: string[] = [];
  owned: OwnedRoutes | null = null;
  announceAll(routes: EvpnRoute[], attrs: OutAttrs): void {
    for (const r of routes) this.log.push(`+${text(r, attrs)}`);
  }
  withdraw(route: EvpnRoute): void {
    this.log.push(`-${text(route)}`);
  }
  announceOwned(route: EvpnRoute, attrs: OutAttrs): void {
    this.log.push(`+${text(route, attrs)} (learned)`);
  }
  withdrawOwned(route: EvpnRoute): void {
    this.log.push(`-${text(route)} (learned)`);
  }
  setOwnedRoutes(t: OwnedRoutes | null): void {
    this.owned = t;
  }
  take(): string[] {
    const l = this.log;
    this.log = [];
    return l;
  }
}

/** The fabric's routes as the RIB holds them, with the best-path changes the speaker would report. */
class FakeRib implements RibView {
  private readonly byKey = new Map<string, Path[]>();
  byMac(mac: string): string[] {
    return [...this.byKey.keys()].filter((k) => k.startsWith(`mac|${mac}|`));
  }
  paths(key: string): Path[] {
    return this.byKey.get(key) ?? [];
  }
  put(key: string, route: EvpnRoute, nextHop: string, attrs: PathAttribute[]): RibChange {
    const p: Path = { key, route, attrs: digestAttributes(attrs, nextHop), source: RR, stale: false };
    const old = this.byKey.get(key)?.[0];
    this.byKey.set(key, [p]);
    return { key, route, ...(old ? { old } : {}), new: p };
  }
  remove(key: string): RibChange {
    const old = this.byKey.get(key)![0]!;
    this.byKey.delete(key);
    return { key, route: old.route, old };
  }
}

const rt10: PathAttribute = {
  kind: "ext-communities",
  communities: [{ kind: "route-target", value: "65000:10" }],
};

function setup(text = yaml(), replication?: ReplicationEngine) {
  const sink = new FakeSink();
  const rib = new FakeRib();
  const events: EvpnEvent[] = [];
  const traces: TraceEvent[] = [];
  const ev: EvpnEvents = { emit: (e) => events.push(e), tracing: true, trace: (e) => traces.push(e) };
  const ctl = new Controller(config(text), {
    sink,
    rib,
    events: ev,
    newLearner: (cfg, fabric) => new Learner(cfg, fabric),
    ...(replication ? { replication } : {}),
  });
  return { ctl, sink, rib, events, traces };
}

function arp(vtep: string, mac: string, ip: string | null = null): LearnedFrame {
  return { vtep, vni: 10, vlan: null, innerSrcMac: mac, kind: "arp-request", mac, ip };
}

describe("EVPN controller", () => {
  test("configured routes, EVPN VTEPs, learning, a move, a duplicate, ageing and a reload on a fake clock", () => {
    const { ctl, sink, rib, events, traces } = setup();
    let now = 1_000_000;

    // Configured routes: an IMET per static VTEP, a sticky MAC route per configured MAC.
    ctl.start();
    assert.deepEqual(sink.take(), [`+imet ${A}`, `+mac ${A}:10 ${STATIC} seq 0 sticky`, `+imet ${B}`]);
    assert.ok(sink.owned, "the learned table is handed to the speaker");
    assert.deepEqual(events.splice(0), [
      { type: "routes-synced", reason: "start", announced: 3, withdrawn: 0, routes: 3, before: 0 },
    ]);

    // A static VTEP that starts announcing its own IMET route is no longer proxied (RFC 7432 §11.1).
    const imetB = rib.put("imet|B", { routeType: 3, rd: `${B}:1`, ethernetTag: 0, originator: B }, B, [rt10]);
    ctl.ribChanged([imetB]);
    assert.equal(ctl.pending, true);
    ctl.settle(now);
    assert.deepEqual(sink.take(), [`-imet ${B}`]);
    assert.deepEqual(events.splice(0), [{ type: "vtep-suppressed", service: "vni10", vtep: B }]);
    ctl.ribChanged([rib.remove("imet|B")]);
    ctl.settle(now);
    assert.deepEqual(sink.take(), [`+imet ${B}`]);
    assert.deepEqual(events.splice(0), [{ type: "vtep-proxied", service: "vni10", vtep: B }]);

    // An EVPN VTEP speaks for itself: its frames teach nothing.
    ctl.ribChanged([rib.put("imet|E", { routeType: 3, rd: `${E}:1`, ethernetTag: 0, originator: E }, E, [rt10])]);
    ctl.settle(now);
    assert.deepEqual(sink.take(), []);
    assert.equal(ctl.frame(arp(E, M1), now), false);

    // Learning: the MAC and its IP at A (a plain first announcement, no MAC mobility).
    assert.equal(ctl.frame(arp(A, M1, "198.51.100.1"), now), true);
    assert.deepEqual(sink.take(), [`+mac ${A}:10 ${M1} (learned)`, `+mac ${A}:10 ${M1}/198.51.100.1 (learned)`]);
    const traced = () => traces.splice(0).map((t) => `${t.type === "mac" ? t.event : t.action} ${t.vtep}`);
    assert.deepEqual(traced(), [`learned ${A}`, `announce ${A}`, `announce ${A}`]);

    // A move to B: announced there with sequence 1 (RFC 7432 §15.1), then withdrawn at A.
    now += S;
    ctl.frame(arp(B, M1), now);
    assert.deepEqual(sink.take(), [
      `+mac ${B}:10 ${M1} seq 1 (learned)`,
      `+mac ${B}:10 ${M1}/198.51.100.1 seq 1 (learned)`,
      `-mac ${A}:10 ${M1}/198.51.100.1 (learned)`,
      `-mac ${A}:10 ${M1} (learned)`,
    ]);
    assert.deepEqual(traced(), [`moved ${B}`, `announce ${B}`, `announce ${B}`, `withdraw ${A}`, `withdraw ${A}`]);

    // max-moves 2: the third move within the window marks it duplicate and is not announced.
    now += S;
    ctl.frame(arp(A, M1), now);
    sink.take();
    now += S;
    ctl.frame(arp(B, M1), now);
    assert.deepEqual(sink.take(), []);
    assert.deepEqual(events.splice(0), [{ type: "learning", event: "duplicate", vni: 10, vtep: A, mac: M1 }]);

    // A reload that adds one static MAC: one announcement, nothing withdrawn, learned state kept.
    now += S;
    const before = ctl.learner!.table();
    ctl.reconfigure(config(yaml("", `["${STATIC}", "02:00:00:00:0f:02"]`)), now);
    assert.deepEqual(sink.take(), [`+mac ${A}:10 02:00:00:00:0f:02 seq 0 sticky`]);
    assert.deepEqual(ctl.learner!.table(), before);
    assert.deepEqual(events.splice(0), [
      { type: "routes-synced", reason: "reload", announced: 1, withdrawn: 0, routes: 4, before: 3 },
    ]);

    // Ageing (60 s) withdraws the learned routes once the duplicate is released (freeze 180 s).
    const due = ctl.nextDeadline()!;
    assert.ok(due > now);
    now += 400 * S;
    ctl.tick(now);
    assert.deepEqual(sink.take().sort(), [`-mac ${A}:10 ${M1} (learned)`, `-mac ${A}:10 ${M1}/198.51.100.1 (learned)`]);
    assert.equal(ctl.learner!.table().length, 0);
    assert.deepEqual(
      traced()
        .filter((t) => !t.startsWith("announce") && !t.startsWith("withdraw"))
        .slice(-1),
      [`aged ${A}`],
    );

    // The EVPN VTEP goes: nothing of ours changes (it was not a static VTEP).
    ctl.ribChanged([rib.remove("imet|E")]);
    ctl.settle(now);
    assert.deepEqual(sink.take(), []);
  });

  test("a configured MAC: its configured addresses planned, those it uses learned sticky, all withdrawn when it goes", () => {
    const macs = `["${STATIC} 198.51.100.15 2001:db8::f1"]`;
    const { ctl, sink, events } = setup(yaml("", macs));
    ctl.start();
    assert.deepEqual(sink.take(), [
      `+imet ${A}`,
      `+mac ${A}:10 ${STATIC} seq 0 sticky`,
      `+mac ${A}:10 ${STATIC}/198.51.100.15 seq 0 sticky`,
      `+mac ${A}:10 ${STATIC}/2001:db8::f1 seq 0 sticky`,
      `+imet ${B}`,
    ]);
    let now = 1_000_000;
    assert.equal(ctl.frame(arp(A, STATIC, "198.51.100.16"), now), true);
    assert.equal(ctl.frame(arp(A, STATIC, "198.51.100.15"), now), false); // the configured route
    assert.equal(ctl.frame(arp(B, STATIC, "198.51.100.17"), now), true); // sticky: only an event
    assert.deepEqual(sink.take(), [`+mac ${A}:10 ${STATIC}/198.51.100.16 seq 0 sticky (learned)`]);
    assert.deepEqual(events.splice(1), [{ type: "learning", event: "sticky-blocked", vni: 10, vtep: B, mac: STATIC }]);
    // kept by a reload that keeps the MAC
    now += S;
    ctl.reconfigure(config(yaml("", `["${STATIC} 198.51.100.15 2001:db8::f1", "02:00:00:00:0f:02"]`)), now);
    assert.deepEqual(sink.take(), [`+mac ${A}:10 02:00:00:00:0f:02 seq 0 sticky`]);
    // withdrawn, learned and configured, by a reload that removes it
    now += S;
    ctl.reconfigure(config(yaml("", "[]")), now);
    assert.deepEqual(sink.take().sort(), [
      `-mac ${A}:10 ${STATIC}`,
      `-mac ${A}:10 ${STATIC}/198.51.100.15`,
      `-mac ${A}:10 ${STATIC}/198.51.100.16 (learned)`,
      `-mac ${A}:10 ${STATIC}/2001:db8::f1`,
      `-mac ${A}:10 02:00:00:00:0f:02`,
    ]);
    assert.deepEqual(ctl.learner!.table(), []);
  });

  test("a reload that removes a static VTEP withdraws exactly that VTEP's learned routes and its IMET", () => {
    const { ctl, sink } = setup();
    ctl.start();
    sink.take();
    const now = 1_000_000;
    for (let i = 0; i < 10; i++) {
      ctl.frame(arp(A, `02:00:00:00:0a:${i.toString(16).padStart(2, "0")}`), now);
      ctl.frame(arp(B, `02:00:00:00:0b:${i.toString(16).padStart(2, "0")}`), now);
    }
    sink.take();
    const withoutB = yaml().replace(`      - address: ${B}\n`, "");
    ctl.reconfigure(config(withoutB), now + S);
    const out = sink.take();
    assert.equal(out.filter((l) => l.startsWith(`-mac ${B}:10 02:00:00:00:0b:`)).length, 10);
    assert.deepEqual(
      out.filter((l) => !l.startsWith(`-mac ${B}:10 02:00:00:00:0b:`)),
      [`-imet ${B}`],
    );
    assert.equal(ctl.learner!.table().length, 10);
  });

  test("a reload that turns learning off withdraws every learned route", () => {
    const { ctl, sink } = setup();
    ctl.start();
    ctl.frame(arp(A, M1), 1_000_000);
    sink.take();
    ctl.reconfigure(config(yaml().replace("  vxlan-listen: 192.0.2.4\n", "")), 1_000_000 + S);
    assert.deepEqual(sink.take(), [`-mac ${A}:10 ${M1} (learned)`]);
    assert.equal(ctl.learner, undefined);
    assert.equal(sink.owned, null);
  });
});

describe("RFC 7432 §15.1 tie-break", () => {
  test("at equal sequence the numerically lower VTEP wins: 192.0.2.9 beats 192.0.2.10", () => {
    const rib = new FakeRib();
    const mac = "02:00:00:00:09:10";
    const route = macIpRoute({ rd: "192.0.2.9:10", mac, label1: 10 });
    const mob = (seq: number): PathAttribute => ({ kind: "ext-communities", communities: [macMobility(seq, false)] });
    rib.put(`mac|${mac}|a`, route, "192.0.2.10", [mob(3)]);
    rib.put(`mac|${mac}|b`, { ...route, rd: "192.0.2.10:10" }, "192.0.2.9", [mob(3)]);
    assert.deepEqual(bestRemoteMac(rib, 10, mac), { vtep: "192.0.2.9", seq: 3, sticky: false });
    // Text order would have picked 192.0.2.10 ("1" < "9"); a higher sequence still wins over the address.
    rib.put(`mac|${mac}|a`, route, "192.0.2.10", [mob(4)]);
    assert.deepEqual(bestRemoteMac(rib, 10, mac), { vtep: "192.0.2.10", seq: 4, sticky: false });
  });
});

describe("EVPN controller with replication by the proxy", () => {
  const P = "192.0.2.4"; // the proxy's VXLAN address
  const P2 = "192.0.2.5"; // another replicating proxy
  const noCopies: CopySink = { stage: () => 0, copy: () => undefined };
  const marker2: PathAttribute = {
    kind: "large-communities",
    communities: [{ global: 65000, local1: 0x45565058, local2: 2 }],
  };
  const macBytes = (mac: string) => {
    const b = new Uint8Array(6);
    parseMacInto(mac, b, 0);
    return b;
  };

  test("one IMET route of its own; flood lists and the election follow the IMET routes seen; MACs are located", () => {
    const ref: { ctl?: Controller } = {};
    const engine = new ReplicationEngine(P, noCopies, (vni, b, o) => ref.ctl!.locate(vni, b, o));
    const text = yaml().replace("    static-vteps:", "    replication: proxy\n    static-vteps:");
    const { ctl, sink, rib } = setup(text, engine);
    ref.ctl = ctl;
    const now = 1_000_000;
    ctl.start(now);
    assert.deepEqual(sink.take(), [`+imet ${P}`, `+mac ${A}:10 ${STATIC} seq 0 sticky`]);
    assert.deepEqual(engine.flood.get(10)?.statics, [A, B]);
    assert.deepEqual(engine.flood.get(10)?.candidates, [P]);

    ctl.ribChanged([rib.put("imet|E", { routeType: 3, rd: `${E}:1`, ethernetTag: 0, originator: E }, E, [rt10])]);
    ctl.ribChanged([
      rib.put("imet|P2", { routeType: 3, rd: `${P2}:10`, ethernetTag: 0, originator: P2 }, P2, [rt10, marker2]),
    ]);
    ctl.settle(now + S);
    assert.deepEqual(sink.take(), [], "neither an EVPN VTEP nor another proxy changes what is announced");
    const list = engine.flood.get(10)!;
    assert.deepEqual([list.statics, list.evpn, list.candidates, list.elected], [[A, B], [E], [P, P2], P]);

    // A static VTEP that announces itself becomes an EVPN VTEP of the flood list.
    ctl.ribChanged([rib.put("imet|B", { routeType: 3, rd: `${B}:1`, ethernetTag: 0, originator: B }, B, [rt10])]);
    ctl.settle(now + 2 * S);
    assert.deepEqual([engine.flood.get(10)!.statics, engine.flood.get(10)!.evpn], [[A], [B, E]]);

    // MAC locations: configured, learned, from an EVPN VTEP's type 2 route.
    ctl.frame(arp(A, M1, "198.51.100.1"), now + 2 * S);
    assert.equal(sink.take().length, 2, "learned at A: a MAC and a MAC/IP route");
    const remote = macIpRoute({ rd: `${E}:1`, mac: "02:00:00:00:0e:01", label1: 10 });
    ctl.ribChanged([rib.put("mac|02:00:00:00:0e:01|E", remote, E, [rt10])]);
    ctl.settle(now + 3 * S);
    assert.equal(ctl.locate(10, macBytes(STATIC), 0), A);
    assert.equal(ctl.locate(10, macBytes(M1), 0), A);
    assert.equal(ctl.locate(10, macBytes("02:00:00:00:0e:01"), 0), E);
    assert.equal(ctl.locate(10, macBytes("02:00:00:00:99:99"), 0), undefined);

    // An IPv6 binding the learning engine announces (here from an NS) answers static hosts too.
    const ns: LearnedFrame = {
      vtep: A,
      vni: 10,
      vlan: null,
      innerSrcMac: M1,
      kind: "nd-ns",
      mac: M1,
      ip: "2001:db8::1",
    };
    ctl.frame(ns, now + 3 * S);
    assert.deepEqual(sink.take(), [`+mac ${A}:10 ${M1}/2001:db8::1 (learned)`]);
    const row = engine.arpNd?.table.entry(10, "2001:db8::1");
    assert.deepEqual([row?.mac, row?.vtep, row?.source], [M1, A, "dynamic"]);

    // A reload back to ingress replication: per-VTEP IMET routes again, no flood lists.
    ctl.reconfigure(config(yaml()), now + 4 * S);
    assert.deepEqual(sink.take(), [`-imet ${P}`, `+imet ${A}`]);
    assert.equal(engine.flood.get(10), undefined);
  });
});
