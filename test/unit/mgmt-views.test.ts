// The operator's read models over a real RIB, the EVPN controller and the learning engine,
// in-process: services with their flood lists, VTEPs, MACs, routes, counters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { digestAttributes } from "../../src/bgp/path-attrs.js";
import { type PeerRef, Rib } from "../../src/bgp/rib.js";
import { type EvpnRoute, macIpRoute, type PathAttribute } from "../../src/codec/index.js";
import { parseConfig } from "../../src/config/load.js";
import { Learner } from "../../src/dataplane/learning/learner.js";
import { type CopySink, ReplicationEngine } from "../../src/dataplane/replication/engine.js";
import { Controller, type RouteSink } from "../../src/evpn/controller.js";
import { NO_EVENTS } from "../../src/evpn/events.js";
import { MacLister } from "../../src/mgmt/macs.js";
import { views } from "../../src/mgmt/views.js";
import { vni10Yaml } from "../helpers/config-yaml.js";

const A = "192.0.2.1";
const B = "192.0.2.2";
const E = "192.0.2.20";
const STATIC = "02:00:00:00:0f:01";
const M1 = "02:00:00:00:01:01";
const RR: PeerRef = { id: "192.0.2.254", address: "192.0.2.254", routerId: "192.0.2.254", asn: 65000, ebgp: false };

const loaded = parseConfig(
  vni10Yaml(`      - address: ${A}\n        macs: ["${STATIC} 2001:db8::f1"]\n      - address: ${B}`),
  "views.yaml",
);

const sink: RouteSink = {
  announceAll: () => undefined,
  withdraw: () => undefined,
  announceOwned: () => undefined,
  withdrawOwned: () => undefined,
  setOwnedRoutes: () => undefined,
};

const NO_COPIES: CopySink = { stage: () => 0, copy: () => undefined };

const imet = (vtep: string): EvpnRoute => ({ routeType: 3, rd: `${vtep}:1`, ethernetTag: 0, originator: vtep });

test("views: services with flood lists, VTEPs, MACs, routes and counters", () => {
  assert.ok(loaded.ok);
  const config = loaded.config;
  const rib = new Rib({ routerId: "192.0.2.4" });
  const engine = new ReplicationEngine("192.0.2.4", NO_COPIES, () => undefined);
  const ctl = new Controller(config, {
    sink,
    rib,
    events: NO_EVENTS,
    newLearner: (cfg, fabric) => new Learner(cfg, fabric),
    replication: engine,
  });
  ctl.start();
  // E is an EVPN VTEP; B, configured as static, announces its own IMET route too.
  const rt: PathAttribute[] = [{ kind: "ext-communities", communities: [{ kind: "route-target", value: "65000:10" }] }];
  ctl.ribChanged(rib.applyUpdate(RR, [imet(E)], digestAttributes(rt, E), []));
  ctl.ribChanged(rib.applyUpdate(RR, [imet(B)], digestAttributes(rt, B), []));
  const now = 5_000_000;
  ctl.settle(now);
  ctl.frame({ vtep: A, vni: 10, vlan: null, innerSrcMac: M1, kind: "arp-request", mac: M1, ip: "198.51.100.1" }, now);
  // the configured MAC's address, learned at its VTEP: shown with its configured one, not as a learned MAC
  const own = { vtep: A, vni: 10, vlan: null, innerSrcMac: STATIC, kind: "arp-request", mac: STATIC } as const;
  ctl.frame({ ...own, ip: "198.51.100.15" }, now);

  const v = views({
    config: () => config,
    neighbors: () => [],
    rib: () => rib,
    controller: () => ctl,
    sources: () => undefined,
    replication: () => engine,
    senders: () => [],
    now: () => now + 42_500,
  });

  assert.deepEqual(v.services(), [
    {
      name: "vni10",
      evi: 10,
      vni: 10,
      routeTargets: ["65000:10"],
      staticVteps: [
        { address: A, source: "configured", proxied: true, configuredMacs: 1, learnedMacs: 1 },
        { address: B, source: "configured", proxied: false, configuredMacs: 0, learnedMacs: 0 },
      ],
      evpnVteps: [B, E],
      floodList: [A, B, E],
      macs: { configured: 1, learned: 1 },
      replication: { mode: "ingress", source: "vtep", replicators: [], elected: null, forwarding: false },
    },
  ]);
  assert.deepEqual(v.vteps(), [
    { address: A, kind: "static", services: ["vni10"] },
    { address: B, kind: "evpn", services: ["vni10"] },
    { address: B, kind: "static", services: ["vni10"] },
    { address: E, kind: "evpn", services: ["vni10"] },
  ]);
  const lister = new MacLister(
    { config: () => config, controller: () => ctl, rib: () => rib, now: () => now + 42_500 },
    null,
  );
  const learned = {
    service: "vni10",
    vni: 10,
    mac: M1,
    vtep: A,
    source: "learned",
    ips: ["198.51.100.1"],
    sequence: 0,
    sticky: false,
    duplicate: false,
    announced: true,
    lastSeen: now,
    lastMove: null,
  };
  const configured = {
    service: "vni10",
    vni: 10,
    mac: STATIC,
    vtep: A,
    source: "static",
    ips: ["198.51.100.15", "2001:db8::f1"],
    sequence: 0,
    sticky: true,
    duplicate: false,
    announced: true,
    lastSeen: null,
    lastMove: null,
  };
  assert.deepEqual(lister.page({ limit: 10 }), { items: [configured, learned], next: null });
  // One row a page: the cursor moves from the configuration to the learning engine, then the RIB.
  const p1 = lister.page({ limit: 1 })!;
  assert.deepEqual(p1.items, [configured]);
  const p2 = lister.page({ limit: 1, cursor: p1.next })!;
  assert.deepEqual(p2.items, [learned]);
  assert.deepEqual(lister.page({ limit: 1, cursor: p2.next }), { items: [], next: null });
  assert.deepEqual(lister.page({ limit: 10, source: "learned" })!.items, [learned]);
  assert.deepEqual(lister.page({ limit: 10, vtep: B })!.items, []);
  assert.deepEqual(lister.page({ limit: 10, service: "none" })!.items, []);
  assert.deepEqual(lister.find(M1), [learned]);
  assert.deepEqual(lister.find(STATIC), [configured]);
  const routes = v.routes();
  assert.deepEqual(
    routes.advertised.planned.map((r) => `${r.route.routeType} ${r.nextHop}`),
    [`3 ${A}`, `2 ${A}`, `2 ${A}`],
  );
  assert.equal(routes.advertised.learned, 3);
  assert.deepEqual(
    routes.received.map((r) => `${r.route.routeType} ${r.nextHop} from ${r.from} best ${r.best}`).sort(),
    [`3 ${B} from 192.0.2.254 best true`, `3 ${E} from 192.0.2.254 best true`],
  );
  const c = v.counters();
  assert.deepEqual(c.routes, { planned: 3, learned: 3, received: 2 });
  assert.equal(c.learning?.learned, 1);
  assert.equal(c.source, null);
  // A MAC of the fabric: its MAC route and MAC/IP route from E, sequence 3.
  const M9 = "02:00:00:00:09:09";
  const mobility: PathAttribute[] = [
    {
      kind: "ext-communities",
      communities: [
        { kind: "route-target", value: "65000:10" },
        { kind: "mac-mobility", flags: 0, sequence: 3 },
      ],
    },
  ];
  const mac = (ip?: string): EvpnRoute => macIpRoute({ rd: `${E}:1`, mac: M9, ...(ip ? { ip } : {}), label1: 10 });
  ctl.ribChanged(rib.applyUpdate(RR, [mac(), mac("198.51.100.9")], digestAttributes(mobility, E), []));
  const fabric = { ...learned, mac: M9, vtep: E, source: "evpn", ips: ["198.51.100.9"], sequence: 3, announced: false };
  assert.deepEqual(lister.page({ limit: 10, source: "evpn" })!.items, [{ ...fabric, lastSeen: null }]);
  assert.deepEqual(lister.find(M9), [{ ...fabric, lastSeen: null }]);
  // Plain data: JSON round-trips unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(v.services())), v.services());
});

test("views: a service the proxy replicates — its election, flood list and counters", () => {
  const text = vni10Yaml(`      - address: ${A}\n      - address: ${B}`).replace(
    "    static-vteps:",
    "    replication: proxy\n    static-vteps:",
  );
  const r = parseConfig(text, "views.yaml");
  assert.ok(r.ok);
  const rib = new Rib({ routerId: "192.0.2.4" });
  const engine = new ReplicationEngine("192.0.2.4", NO_COPIES, () => undefined);
  const ctl = new Controller(r.config, {
    sink,
    rib,
    events: NO_EVENTS,
    newLearner: (cfg, fabric) => new Learner(cfg, fabric),
    replication: engine,
  });
  let now = 1_000_000;
  ctl.start(now);
  const rt: PathAttribute[] = [{ kind: "ext-communities", communities: [{ kind: "route-target", value: "65000:10" }] }];
  ctl.ribChanged(rib.applyUpdate(RR, [imet(E)], digestAttributes(rt, E), []));
  ctl.settle(now);
  const v = views({
    config: () => r.config,
    neighbors: () => [],
    rib: () => rib,
    controller: () => ctl,
    sources: () => undefined,
    replication: () => engine,
    senders: () => [],
    now: () => now,
  });
  const svc = v.services()[0]!;
  assert.deepEqual(svc.floodList, ["192.0.2.4", E], "EVPN VTEPs flood to the proxy alone (and each other)");
  assert.deepEqual(svc.replication, {
    mode: "proxy",
    source: "vtep",
    replicators: ["192.0.2.4"],
    elected: "192.0.2.4",
    forwarding: false,
  });
  now += 3000; // RFC 7432 §8.5 wait
  assert.equal(v.services()[0]!.replication.forwarding, true);
  assert.deepEqual(v.counters().replication, { datagrams: 0, flooded: 0, unicast: 0, copies: 0, dropped: {} });
});
