// The RIB: route keys, the attribute digest, best-path selection step by step, implicit withdraw,
// loop prevention, graceful-restart stale handling, indexes and change events; a randomised run
// against a naive model.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { digestAttributes, type PathAttrs, sameAttrs } from "../../src/bgp/path-attrs.js";
import { comparePaths, type Path, type PeerRef, Rib, type RibChange, selectBest } from "../../src/bgp/rib.js";
import { evpnRouteKey, sameEvpnRoute } from "../../src/bgp/route-key.js";
import {
  type AsPathSegment,
  encapsulation,
  type EvpnRoute,
  macIpRoute,
  type PathAttribute,
  routeTarget,
} from "../../src/codec/index.js";

const ESI0 = "00:00:00:00:00:00:00:00:00:00";
const ESI1 = "00:11:22:33:44:55:66:77:88:99";
const SEQ = 2;
const SET = 1;

function peer(n: number, more: Partial<PeerRef> = {}): PeerRef {
  const a = `10.0.0.${n}`;
  return { id: a, address: a, routerId: a, asn: 65000, ebgp: false, ...more };
}

interface AttrOpts {
  nextHop?: string;
  origin?: number;
  asPath?: AsPathSegment[];
  localPref?: number;
  med?: number;
  originatorId?: string;
  clusterList?: string[];
}

function attrs(o: AttrOpts = {}): PathAttrs {
  const list: PathAttribute[] = [
    { kind: "origin", origin: o.origin ?? 0 },
    { kind: "as-path", segments: o.asPath ?? [] },
  ];
  if (o.med !== undefined) list.push({ kind: "med", med: o.med });
  if (o.localPref !== undefined) list.push({ kind: "local-pref", localPref: o.localPref });
  if (o.originatorId !== undefined) list.push({ kind: "originator-id", originatorId: o.originatorId });
  if (o.clusterList !== undefined) list.push({ kind: "cluster-list", clusterIds: o.clusterList });
  list.push({ kind: "ext-communities", communities: [routeTarget("65000:10"), encapsulation()] });
  return digestAttributes(list, o.nextHop ?? "192.0.2.1");
}

function mac(i: number): string {
  return `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
}

function r2(i: number, more: { rd?: string; ip?: string; label1?: number; esi?: string } = {}): EvpnRoute {
  return macIpRoute({
    rd: more.rd ?? "192.0.2.1:10",
    mac: mac(i),
    ip: more.ip,
    label1: more.label1 ?? 10,
    esi: more.esi,
  });
}

function imet(originator: string, rd = `${originator}:10`): EvpnRoute {
  return { routeType: 3, rd, ethernetTag: 0, originator };
}

function path(source: PeerRef | "local", a: PathAttrs, stale = false): Path {
  const route = r2(1);
  return { key: evpnRouteKey(route), route, attrs: a, source, stale };
}

/** Asserts `a` is preferred to `b` in both argument orders and by selectBest. */
function prefers(a: Path, b: Path): void {
  assert.ok(comparePaths(a, b) < 0, "a before b");
  assert.ok(comparePaths(b, a) > 0, "b after a");
  assert.equal(selectBest([a, b]), a);
  assert.equal(selectBest([b, a]), a);
}

describe("route keys (RFC 7432 §7, RFC 9136 §3.2)", () => {
  test("type 2: RD, Ethernet Tag, MAC, IP; ESI and labels are attributes", () => {
    const r = macIpRoute({ rd: "192.0.2.1:10", mac: "02:00:00:00:01:01", ip: "198.51.100.1", label1: 10 });
    assert.equal(evpnRouteKey(r), "2|192.0.2.1:10|0|02:00:00:00:01:01|198.51.100.1");
    const other = { ...r, esi: ESI1, label1: 20, label2: 30 };
    assert.equal(evpnRouteKey(other), evpnRouteKey(r));
    assert.equal(sameEvpnRoute(other, r), false);
    assert.equal(evpnRouteKey({ ...r, ip: undefined }), "2|192.0.2.1:10|0|02:00:00:00:01:01|");
    assert.notEqual(evpnRouteKey({ ...r, ethernetTag: 5 }), evpnRouteKey(r));
    assert.notEqual(evpnRouteKey({ ...r, rd: "192.0.2.2:10" }), evpnRouteKey(r));
    assert.notEqual(evpnRouteKey({ ...r, ip: "2001:db8::1" }), evpnRouteKey(r));
  });

  test("type 1: RD, ESI, Ethernet Tag; the label is an attribute", () => {
    const r: EvpnRoute = { routeType: 1, rd: "192.0.2.1:1", esi: ESI1, ethernetTag: 0xffffffff, label: 0 };
    assert.equal(evpnRouteKey(r), `1|192.0.2.1:1|${ESI1}|4294967295`);
    assert.equal(evpnRouteKey({ ...r, label: 99 }), evpnRouteKey(r));
    assert.notEqual(evpnRouteKey({ ...r, esi: ESI0 }), evpnRouteKey(r));
  });

  test("types 3 and 4: the originating router is part of the key", () => {
    assert.equal(evpnRouteKey(imet("192.0.2.7", "192.0.2.7:10")), "3|192.0.2.7:10|0|192.0.2.7");
    assert.notEqual(evpnRouteKey(imet("192.0.2.8", "192.0.2.7:10")), evpnRouteKey(imet("192.0.2.7", "192.0.2.7:10")));
    const es: EvpnRoute = { routeType: 4, rd: "192.0.2.1:0", esi: ESI1, originator: "2001:db8::1" };
    assert.equal(evpnRouteKey(es), `4|192.0.2.1:0|${ESI1}|2001:db8::1`);
  });

  test("type 5: RD, Ethernet Tag, prefix; ESI, gateway and label are attributes", () => {
    const r: EvpnRoute = {
      routeType: 5,
      rd: "65000:5",
      esi: ESI0,
      ethernetTag: 0,
      prefix: "203.0.113.0/24",
      gateway: "0.0.0.0",
      label: 5000,
    };
    assert.equal(evpnRouteKey(r), "5|65000:5|0|203.0.113.0/24");
    assert.equal(evpnRouteKey({ ...r, esi: ESI1, gateway: "192.0.2.1", label: 1 }), evpnRouteKey(r));
    assert.notEqual(evpnRouteKey({ ...r, prefix: "203.0.113.0/25" }), evpnRouteKey(r));
  });

  test("unknown types: code and value", () => {
    assert.equal(evpnRouteKey({ routeType: "unknown", code: 9, value: Uint8Array.of(1, 0xab) }), "u9|01ab");
  });

  test("keys of different routes differ across types", () => {
    const routes: EvpnRoute[] = [
      r2(1),
      r2(1, { ip: "0.0.0.0" }),
      { routeType: 1, rd: "192.0.2.1:10", esi: ESI0, ethernetTag: 0, label: 0 },
      imet("192.0.2.1", "192.0.2.1:10"),
      { routeType: 4, rd: "192.0.2.1:10", esi: ESI0, originator: "192.0.2.1" },
      {
        routeType: 5,
        rd: "192.0.2.1:10",
        esi: ESI0,
        ethernetTag: 0,
        prefix: "0.0.0.0/0",
        gateway: "0.0.0.0",
        label: 0,
      },
      { routeType: "unknown", code: 2, value: new Uint8Array(0) },
    ];
    assert.equal(new Set(routes.map(evpnRouteKey)).size, routes.length);
  });
});

describe("attribute digest", () => {
  test("AS_PATH length: AS_SET counts 1 (RFC 4271 §9.1.2.2a), confederation segments 0 (RFC 5065 §5.3)", () => {
    const a = attrs({
      asPath: [
        { type: 3, asns: [64512, 64513] },
        { type: SEQ, asns: [65001, 65002, 65003] },
        { type: SET, asns: [1, 2, 3] },
      ],
    });
    assert.equal(a.asPathLength, 4);
    assert.equal(a.firstAs, 0, "a path entering through the confederation is local");
    assert.equal(attrs({ asPath: [{ type: SEQ, asns: [65001, 65002] }] }).firstAs, 65001);
    assert.equal(attrs({ asPath: [{ type: SET, asns: [65001] }] }).firstAs, 0);
    assert.equal(attrs().firstAs, 0);
  });

  test("defaults: LOCAL_PREF 100, MED 0; MP attributes are left out", () => {
    const d = digestAttributes(
      [
        { kind: "origin", origin: 1 },
        { kind: "mp-reach", afi: 25, safi: 70, nextHop: ["192.0.2.9"], nlri: { family: "evpn", routes: [] } },
        { kind: "as-path", segments: [] },
      ],
      "192.0.2.9",
    );
    assert.equal(d.localPref, 100);
    assert.equal(d.med, 0);
    assert.equal(d.origin, 1);
    assert.equal(d.originatorId, undefined);
    assert.deepEqual(d.clusterList, []);
    assert.deepEqual(
      d.attributes.map((x) => x.kind),
      ["origin", "as-path"],
    );
    const full = attrs({ localPref: 200, med: 7, originatorId: "192.0.2.50", clusterList: ["1.1.1.1", "2.2.2.2"] });
    assert.deepEqual(
      [full.localPref, full.med, full.originatorId, full.clusterListLength, full.extCommunities.length],
      [200, 7, "192.0.2.50", 2, 2],
    );
  });

  test("RFC 6793 §4.2.3: AS4_PATH supplies the neighbour AS hidden behind AS_TRANS", () => {
    const as4 = (asPath: number[], as4Path: number[]) =>
      digestAttributes(
        [
          { kind: "as-path", segments: [{ type: SEQ, asns: asPath }] },
          { kind: "as4-path", segments: [{ type: SEQ, asns: as4Path }] },
        ],
        "192.0.2.1",
      );
    assert.equal(as4([23456, 23456], [4200000001, 4200000002]).firstAs, 4200000001);
    assert.equal(as4([23456, 23456], [4200000001, 4200000002]).asPathLength, 2);
    assert.equal(as4([23456, 65001, 23456], [65001, 4200000002]).firstAs, 23456, "leading AS from AS_PATH");
    assert.equal(as4([23456], [4200000001, 4200000002]).firstAs, 23456, "longer AS4_PATH ignored");
  });

  test("sameAttrs compares content, not identity", () => {
    assert.equal(sameAttrs(attrs({ med: 5 }), attrs({ med: 5 })), true);
    assert.equal(sameAttrs(attrs({ med: 5 }), attrs({ med: 6 })), false);
    assert.equal(sameAttrs(attrs(), attrs({ nextHop: "192.0.2.2" })), false);
    const unknown = (v: number) =>
      digestAttributes([{ kind: "unknown", flags: 0xc0, code: 99, value: Uint8Array.of(v) }], "192.0.2.1");
    assert.equal(sameAttrs(unknown(1), unknown(1)), true);
    assert.equal(sameAttrs(unknown(1), unknown(2)), false);
  });
});

describe("best path, step by step (RFC 4271 §9.1.2.2, RFC 4456 §9)", () => {
  const p1 = peer(1);
  const p2 = peer(2);

  test("local routes first, whatever their attributes", () => {
    prefers(path("local", attrs({ localPref: 1, origin: 2 })), path(p1, attrs({ localPref: 500 })));
  });

  test("higher LOCAL_PREF", () => {
    prefers(path(p2, attrs({ localPref: 200, asPath: [{ type: SEQ, asns: [1, 2, 3] }] })), path(p1, attrs()));
  });

  test("shorter AS_PATH; an AS_SET counts as one", () => {
    prefers(
      path(p2, attrs({ asPath: [{ type: SEQ, asns: [1] }] })),
      path(p1, attrs({ asPath: [{ type: SEQ, asns: [1, 2] }] })),
    );
    prefers(
      path(
        p2,
        attrs({
          asPath: [
            { type: SEQ, asns: [1] },
            { type: SET, asns: [2, 3, 4] },
          ],
        }),
      ),
      path(p1, attrs({ asPath: [{ type: SEQ, asns: [1, 2, 3] }] })),
    );
  });

  test("lower ORIGIN", () => {
    prefers(path(p2, attrs({ origin: 0 })), path(p1, attrs({ origin: 1 })));
    prefers(path(p2, attrs({ origin: 1 })), path(p1, attrs({ origin: 2 })));
  });

  test("lower MED, only between paths from the same neighbour AS", () => {
    const as1 = [{ type: SEQ, asns: [65001] }];
    const as2 = [{ type: SEQ, asns: [65002] }];
    prefers(path(p2, attrs({ asPath: as1, med: 10 })), path(p1, attrs({ asPath: as1, med: 20 })));
    prefers(path(p2, attrs({ asPath: as1 })), path(p1, attrs({ asPath: as1, med: 1 })));
    // Different neighbour AS: MED is skipped and the lower router-id decides.
    prefers(path(p1, attrs({ asPath: as1, med: 500 })), path(p2, attrs({ asPath: as2, med: 1 })));
  });

  test("eBGP over iBGP", () => {
    prefers(path(peer(9, { ebgp: true }), attrs()), path(p1, attrs()));
  });

  test("lower BGP Identifier, the ORIGINATOR_ID standing in for it (RFC 4456 §9)", () => {
    prefers(path(peer(2, { routerId: "1.1.1.1" }), attrs()), path(peer(1, { routerId: "2.2.2.2" }), attrs()));
    prefers(
      path(peer(1, { routerId: "9.9.9.9" }), attrs({ originatorId: "1.1.1.1" })),
      path(peer(2, { routerId: "2.2.2.2" }), attrs()),
    );
    // Numeric, not text order.
    prefers(path(peer(2, { routerId: "9.0.0.1" }), attrs()), path(peer(1, { routerId: "10.0.0.1" }), attrs()));
  });

  test("shorter CLUSTER_LIST (RFC 4456 §9)", () => {
    const same = { routerId: "1.1.1.1" };
    prefers(
      path(peer(2, same), attrs({ clusterList: ["3.3.3.3"] })),
      path(peer(1, same), attrs({ clusterList: ["3.3.3.3", "4.4.4.4"] })),
    );
  });

  test("lower peer address, numerically", () => {
    const same = { routerId: "1.1.1.1" };
    prefers(path(peer(9, same), attrs()), path(peer(10, same), attrs()));
    prefers(
      path({ id: "a", address: "192.0.2.1", routerId: "1.1.1.1", asn: 1, ebgp: false }, attrs()),
      path({ id: "b", address: "2001:db8::1", routerId: "1.1.1.1", asn: 1, ebgp: false }, attrs()),
    );
  });

  test("MED is not transitive: selection eliminates per neighbour AS whatever the order", () => {
    const a = path(peer(1, { routerId: "1.1.1.1" }), attrs({ asPath: [{ type: SEQ, asns: [100] }], med: 20 }));
    const b = path(peer(3, { routerId: "3.3.3.3" }), attrs({ asPath: [{ type: SEQ, asns: [100] }], med: 10 }));
    const c = path(peer(2, { routerId: "2.2.2.2" }), attrs({ asPath: [{ type: SEQ, asns: [200] }], med: 0 }));
    // Pairwise, the order decides: a beats c, b beats a, c beats b.
    assert.ok(comparePaths(a, c) < 0 && comparePaths(b, a) < 0 && comparePaths(c, b) < 0);
    for (const order of [
      [a, b, c],
      [a, c, b],
      [b, a, c],
      [b, c, a],
      [c, a, b],
      [c, b, a],
    ])
      assert.equal(selectBest(order), c, "a loses on MED to b, then c wins on router-id");
  });

  test("stale paths stay eligible (RFC 4724 §4.2)", () => {
    prefers(path(p1, attrs({ localPref: 200 }), true), path(p2, attrs()));
  });
});

describe("Rib", () => {
  const ROUTER_ID = "192.0.2.100";
  const p1 = peer(1);
  const p2 = peer(2);
  const newRib = (more: Partial<ConstructorParameters<typeof Rib>[0]> = {}) =>
    new Rib({ routerId: ROUTER_ID, ...more });

  test("a new route makes a new destination; a replacement is an implicit withdraw (RFC 4271 §9)", () => {
    const rib = newRib();
    const a = attrs();
    let ch = rib.applyUpdate(p1, [r2(1), r2(2)], a, []);
    assert.equal(ch.length, 2);
    assert.equal(ch[0]!.old, undefined);
    assert.equal(ch[0]!.new!.route, ch[0]!.route);
    assert.equal(ch[0]!.new!.attrs, a, "the digest is shared, not copied");
    assert.equal(rib.size, 2);
    const key = evpnRouteKey(r2(1));
    const first = rib.best(key)!;
    const moved = r2(1, { label1: 20 });
    ch = rib.applyUpdate(p1, [moved], attrs(), []);
    assert.equal(ch.length, 1);
    assert.equal(ch[0]!.old, first);
    assert.equal(ch[0]!.new!.route, moved, "the route object is kept, not copied");
    assert.equal(rib.paths(key).length, 1);
    assert.equal(rib.size, 2);
    assert.deepEqual(rib.counters(p1.id), { paths: 2, accepted: 3, withdrawn: 0, rejectedLoop: 0, stale: 0 });
  });

  test("an identical repeat changes nothing", () => {
    const rib = newRib();
    rib.applyUpdate(p1, [r2(1)], attrs({ med: 3 }), []);
    const before = rib.best(evpnRouteKey(r2(1)));
    assert.deepEqual(rib.applyUpdate(p1, [r2(1)], attrs({ med: 3 }), []), []);
    assert.equal(rib.best(evpnRouteKey(r2(1))), before);
    assert.equal(rib.applyUpdate(p1, [r2(1)], attrs({ med: 4 }), []).length, 1, "other attributes: a change");
  });

  test("withdrawals match by key, whatever the label and ESI", () => {
    const rib = newRib();
    rib.applyUpdate(p1, [r2(1)], attrs(), []);
    const ch = rib.applyUpdate(p1, [], null, [r2(1, { label1: 0, esi: ESI1 })]);
    assert.equal(ch.length, 1);
    assert.equal(ch[0]!.new, undefined);
    assert.equal(ch[0]!.route.routeType, 2);
    assert.equal(rib.size, 0);
    assert.deepEqual(rib.applyUpdate(p1, [], null, [r2(1)]), [], "unknown route: nothing");
    assert.equal(rib.counters(p1.id)!.withdrawn, 1);
  });

  test("a route both withdrawn and announced in one UPDATE is announced (RFC 4271 §4.3)", () => {
    const rib = newRib();
    rib.applyUpdate(p1, [r2(1)], attrs(), []);
    const ch = rib.applyUpdate(p1, [r2(1, { label1: 99 })], attrs(), [r2(1)]);
    assert.equal(ch.length, 1);
    assert.ok(ch[0]!.old && ch[0]!.new);
    assert.equal(rib.size, 1);
  });

  test("announcing without attributes is a programming error", () => {
    assert.throws(() => newRib().applyUpdate(p1, [r2(1)], null, []), TypeError);
  });

  test("change events only when the best path changes", () => {
    const rib = newRib();
    const key = evpnRouteKey(r2(1));
    rib.applyUpdate(p1, [r2(1)], attrs({ localPref: 200 }), []);
    assert.deepEqual(rib.applyUpdate(p2, [r2(1)], attrs(), []), [], "a worse second path");
    assert.equal(rib.paths(key).length, 2);
    assert.deepEqual(rib.applyUpdate(p2, [r2(1, { label1: 5 })], attrs({ localPref: 150 }), []), []);
    const better = rib.applyUpdate(p2, [r2(1)], attrs({ localPref: 300 }), []);
    assert.equal(better.length, 1);
    assert.equal((better[0]!.old!.source as PeerRef).id, p1.id);
    assert.equal((better[0]!.new!.source as PeerRef).id, p2.id);
    const back = rib.applyUpdate(p2, [], null, [r2(1)]);
    assert.equal((back[0]!.new!.source as PeerRef).id, p1.id);
    assert.equal(rib.paths(key).length, 1);
    const gone = rib.applyUpdate(p1, [], null, [r2(1)]);
    assert.equal(gone.length, 1);
    assert.equal(gone[0]!.new, undefined);
    assert.equal(rib.best(key), undefined);
    assert.deepEqual(rib.paths(key), []);
  });

  test("route-reflection loops are ignored and counted (RFC 4456 §8)", () => {
    const rib = newRib();
    assert.deepEqual(rib.applyUpdate(p1, [r2(1), r2(2)], attrs({ originatorId: ROUTER_ID }), []), []);
    assert.deepEqual(rib.applyUpdate(p1, [r2(3)], attrs({ clusterList: ["1.1.1.1", ROUTER_ID] }), []), []);
    assert.equal(rib.size, 0);
    assert.equal(rib.counters(p1.id)!.rejectedLoop, 3);
    assert.equal(
      rib.applyUpdate(p1, [r2(4)], attrs({ clusterList: ["1.1.1.1"], originatorId: "1.1.1.1" }), []).length,
      1,
    );
    // A looped announcement replaces what the peer had under that key: the old path goes.
    const ch = rib.applyUpdate(p1, [r2(4)], attrs({ originatorId: ROUTER_ID }), []);
    assert.equal(ch.length, 1);
    assert.equal(ch[0]!.new, undefined);
    assert.equal(rib.counters(p1.id)!.paths, 0);
  });

  test("a configured cluster-id replaces the router-id in the CLUSTER_LIST check", () => {
    const rib = newRib({ clusterId: "9.9.9.9" });
    assert.equal(rib.applyUpdate(p1, [r2(1)], attrs({ clusterList: [ROUTER_ID] }), []).length, 1);
    assert.deepEqual(rib.applyUpdate(p1, [r2(2)], attrs({ clusterList: ["9.9.9.9"] }), []), []);
  });

  test("AS loops are ignored when the local AS is configured (RFC 4271 §9.1.2)", () => {
    const rib = newRib({ localAs: 65000 });
    assert.deepEqual(rib.applyUpdate(p1, [r2(1)], attrs({ asPath: [{ type: SEQ, asns: [65001, 65000] }] }), []), []);
    assert.equal(rib.counters(p1.id)!.rejectedLoop, 1);
    assert.equal(rib.applyUpdate(p1, [r2(1)], attrs({ asPath: [{ type: SEQ, asns: [65001] }] }), []).length, 1);
  });

  test("local routes win, and loop prevention does not apply to them", () => {
    const rib = newRib();
    const key = evpnRouteKey(r2(1));
    rib.applyUpdate(p1, [r2(1)], attrs({ localPref: 1000 }), []);
    const ch = rib.addLocal(r2(1, { label1: 77 }), attrs({ originatorId: ROUTER_ID }));
    assert.equal(ch.length, 1);
    assert.equal(rib.best(key)!.source, "local");
    assert.equal([...rib.localPaths()].length, 1);
    const back = rib.withdrawLocal(r2(1));
    assert.equal((back[0]!.new!.source as PeerRef).id, p1.id);
    assert.deepEqual(rib.withdrawLocal(r2(1)), []);
  });

  test("withdrawAll removes the peer's paths and falls back to others", () => {
    const rib = newRib();
    rib.applyUpdate(p1, [r2(1), r2(2)], attrs({ localPref: 200 }), []);
    rib.applyUpdate(p2, [r2(1)], attrs(), []);
    const ch = rib.withdrawAll(p1.id);
    assert.equal(ch.length, 2);
    const byKey = new Map(ch.map((c) => [c.key, c]));
    assert.equal((byKey.get(evpnRouteKey(r2(1)))!.new!.source as PeerRef).id, p2.id);
    assert.equal(byKey.get(evpnRouteKey(r2(2)))!.new, undefined);
    assert.equal(rib.size, 1);
    assert.equal(rib.counters(p1.id)!.paths, 0);
    assert.deepEqual([...rib.adjIn(p1.id)], []);
    assert.deepEqual(rib.withdrawAll("nobody"), []);
  });

  test("graceful restart: stale paths are kept and used, refreshed, then swept (RFC 4724 §4.2)", () => {
    const rib = newRib();
    const a = attrs({ localPref: 200 });
    rib.applyUpdate(p1, [r2(1), r2(2), r2(3)], a, []);
    rib.applyUpdate(p2, [r2(3)], attrs(), []);
    rib.markStale(p1.id);
    assert.equal(rib.counters(p1.id)!.stale, 3);
    assert.ok([...rib.adjIn(p1.id)].every((p) => p.stale));
    assert.equal((rib.best(evpnRouteKey(r2(3)))!.source as PeerRef).id, p1.id, "a stale path stays best");
    // After the restart: r2(1) identical (no event), r2(3) changed, r2(2) never comes back.
    assert.deepEqual(rib.applyUpdate(p1, [r2(1)], attrs({ localPref: 200 }), []), []);
    assert.equal(rib.applyUpdate(p1, [r2(3, { label1: 33 })], a, []).length, 1);
    assert.equal(rib.best(evpnRouteKey(r2(1)))!.stale, false);
    assert.equal(rib.best(evpnRouteKey(r2(3)))!.stale, false);
    assert.equal(rib.counters(p1.id)!.stale, 1);
    const ch = rib.sweepStale(p1.id);
    assert.equal(ch.length, 1);
    assert.equal(ch[0]!.key, evpnRouteKey(r2(2)));
    assert.equal(ch[0]!.new, undefined);
    assert.deepEqual(rib.counters(p1.id), { paths: 2, accepted: 5, withdrawn: 0, rejectedLoop: 0, stale: 0 });
    assert.deepEqual(rib.sweepStale(p1.id), []);
  });

  test("a stale path withdrawn or replaced leaves the stale count", () => {
    const rib = newRib();
    rib.applyUpdate(p1, [r2(1), r2(2)], attrs(), []);
    rib.markStale(p1.id);
    rib.applyUpdate(p1, [], null, [r2(1)]);
    assert.equal(rib.counters(p1.id)!.stale, 1);
    rib.withdrawAll(p1.id);
    assert.equal(rib.counters(p1.id)!.stale, 0);
  });

  test("MAC index: type-2 destinations under any RD (RFC 7432 §15)", () => {
    const rib = newRib();
    const a = r2(1, { rd: "192.0.2.1:10" });
    const b = r2(1, { rd: "192.0.2.2:10", ip: "198.51.100.1" });
    rib.applyUpdate(p1, [a], attrs(), []);
    rib.applyUpdate(p2, [b, r2(2)], attrs(), []);
    assert.deepEqual(rib.byMac(mac(1)).sort(), [evpnRouteKey(a), evpnRouteKey(b)].sort());
    rib.applyUpdate(p1, [], null, [a]);
    assert.deepEqual(rib.byMac(mac(1)), [evpnRouteKey(b)]);
    rib.withdrawAll(p2.id);
    assert.deepEqual(rib.byMac(mac(1)), []);
    assert.deepEqual(rib.byMac(mac(2)), []);
  });

  test("VTEP index: next hops and type-3 originators, kept while any path refers to them", () => {
    const rib = newRib();
    const key = evpnRouteKey(r2(1));
    rib.applyUpdate(p1, [r2(1)], attrs({ nextHop: "192.0.2.11" }), []);
    rib.applyUpdate(p2, [r2(1)], attrs({ nextHop: "192.0.2.11" }), []); // the same route via a second reflector
    rib.applyUpdate(p2, [imet("192.0.2.12")], attrs({ nextHop: "192.0.2.13" }), []);
    assert.deepEqual(rib.byVtep("192.0.2.11"), [key]);
    assert.deepEqual(rib.byVtep("192.0.2.12"), [evpnRouteKey(imet("192.0.2.12"))]);
    assert.deepEqual(rib.byVtep("192.0.2.13"), [evpnRouteKey(imet("192.0.2.12"))]);
    rib.applyUpdate(p1, [], null, [r2(1)]);
    assert.deepEqual(rib.byVtep("192.0.2.11"), [key], "p2's path still uses the VTEP");
    rib.applyUpdate(p2, [r2(1)], attrs({ nextHop: "192.0.2.14" }), []); // the MAC moved
    assert.deepEqual(rib.byVtep("192.0.2.11"), []);
    assert.deepEqual(rib.byVtep("192.0.2.14"), [key]);
  });

  test("indexes cover learned paths only: local routes are known to their owner", () => {
    const rib = newRib();
    const local = r2(1, { rd: "192.0.2.1:10" });
    rib.addLocal(local, attrs({ nextHop: "192.0.2.11" }));
    assert.deepEqual(rib.byMac(mac(1)), []);
    assert.deepEqual(rib.byVtep("192.0.2.11"), []);
    rib.applyUpdate(p1, [local], attrs({ nextHop: "192.0.2.11" }), []); // the same destination, learned too
    assert.deepEqual(rib.byMac(mac(1)), [evpnRouteKey(local)]);
    assert.deepEqual(rib.byVtep("192.0.2.11"), [evpnRouteKey(local)]);
    rib.applyUpdate(p1, [], null, [local]);
    assert.deepEqual(rib.byMac(mac(1)), [], "only the local path is left");
    assert.deepEqual(rib.byVtep("192.0.2.11"), []);
  });

  test("indexes can be turned off", () => {
    const rib = newRib({ indexes: false });
    rib.applyUpdate(p1, [r2(1)], attrs(), []);
    assert.throws(() => rib.byMac(mac(1)));
    assert.throws(() => rib.byVtep("192.0.2.1"));
  });

  test("queries: adjIn holds non-best paths; locRib and destination list every path", () => {
    const rib = newRib();
    rib.applyUpdate(p1, [r2(1), r2(2)], attrs({ localPref: 50 }), []);
    rib.applyUpdate(p2, [r2(1)], attrs(), []);
    assert.equal([...rib.adjIn(p1.id)].length, 2);
    assert.equal(rib.adjInPath(p1.id, evpnRouteKey(r2(1)))!.attrs.localPref, 50);
    const dests = [...rib.locRib()];
    assert.equal(dests.length, 2);
    const d = rib.destination(evpnRouteKey(r2(1)))!;
    assert.equal(d.paths.length, 2);
    assert.equal((d.best.source as PeerRef).id, p2.id);
    assert.deepEqual(rib.peerIds().sort(), [p1.id, p2.id]);
  });
});

describe("Rib against a naive model (fast-check)", () => {
  type Op =
    | { op: "announce"; peer: number; routes: number[]; pref: number; nh: number; label: number }
    | { op: "withdraw"; peer: number; routes: number[] }
    | { op: "withdrawAll"; peer: number }
    | { op: "stale"; peer: number }
    | { op: "sweep"; peer: number }
    | { op: "local"; route: number; add: boolean };
  const peers = [peer(1), peer(2), peer(3)];
  const routeIx = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 });
  const peerIx = fc.integer({ min: 0, max: 2 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant("announce" as const),
      peer: peerIx,
      routes: routeIx,
      pref: fc.integer({ min: 99, max: 101 }),
      nh: fc.integer({ min: 1, max: 3 }),
      label: fc.integer({ min: 1, max: 2 }),
    }),
    fc.record({ op: fc.constant("withdraw" as const), peer: peerIx, routes: routeIx }),
    fc.record({ op: fc.constant("withdrawAll" as const), peer: peerIx }),
    fc.record({ op: fc.constant("stale" as const), peer: peerIx }),
    fc.record({ op: fc.constant("sweep" as const), peer: peerIx }),
    fc.record({ op: fc.constant("local" as const), route: fc.integer({ min: 0, max: 5 }), add: fc.boolean() }),
  );
  // Routes 0–2 share a MAC under different RDs; 3–5 are type-3 routes.
  const route = (i: number, label = 1): EvpnRoute =>
    i < 3 ? r2(7, { rd: `192.0.2.${i + 1}:10`, label1: label }) : imet(`192.0.2.${i}`);

  test("best paths, change events and indexes match a recomputation from scratch", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const rib = new Rib({ routerId: "192.0.2.100" });
        // Model: per source ("local" or peer id) → key → { route, attrs, stale }.
        const model = new Map<string, Map<string, { route: EvpnRoute; attrs: PathAttrs; stale: boolean }>>();
        const src = (id: string) => model.get(id) ?? model.set(id, new Map()).get(id)!;
        const seen = new Map<string, Path>(); // best paths as told by change events
        const apply = (changes: RibChange[]) => {
          for (const c of changes) {
            assert.equal(seen.get(c.key), c.old, "old is the previous best");
            if (c.new === undefined) seen.delete(c.key);
            else seen.set(c.key, c.new);
          }
        };
        for (const o of ops) {
          switch (o.op) {
            case "announce": {
              const p = peers[o.peer]!;
              const a = attrs({ localPref: o.pref, nextHop: `192.0.2.${10 + o.nh}` });
              const rs = o.routes.map((i) => route(i, o.label));
              apply(rib.applyUpdate(p, rs, a, []));
              for (const r of rs) src(p.id).set(evpnRouteKey(r), { route: r, attrs: a, stale: false });
              break;
            }
            case "withdraw": {
              const p = peers[o.peer]!;
              const rs = o.routes.map((i) => route(i));
              apply(rib.applyUpdate(p, [], null, rs));
              for (const r of rs) src(p.id).delete(evpnRouteKey(r));
              break;
            }
            case "withdrawAll":
              apply(rib.withdrawAll(peers[o.peer]!.id));
              src(peers[o.peer]!.id).clear();
              break;
            case "stale":
              rib.markStale(peers[o.peer]!.id);
              for (const e of src(peers[o.peer]!.id).values()) e.stale = true;
              break;
            case "sweep": {
              apply(rib.sweepStale(peers[o.peer]!.id));
              const m = src(peers[o.peer]!.id);
              for (const [k, e] of m) if (e.stale) m.delete(k);
              break;
            }
            case "local": {
              const r = route(o.route);
              if (o.add) {
                const a = attrs({ nextHop: "192.0.2.99" });
                apply(rib.addLocal(r, a));
                src("local").set(evpnRouteKey(r), { route: r, attrs: a, stale: false });
              } else {
                apply(rib.withdrawLocal(r));
                src("local").delete(evpnRouteKey(r));
              }
              break;
            }
          }
        }
        // Recompute from the model.
        const dests = new Map<string, Path[]>();
        for (const [id, m] of model)
          for (const [key, e] of m) {
            const source = id === "local" ? ("local" as const) : peers.find((p) => p.id === id)!;
            const list = dests.get(key) ?? dests.set(key, []).get(key)!;
            list.push({ key, route: e.route, attrs: e.attrs, source, stale: e.stale });
          }
        assert.equal(rib.size, dests.size);
        assert.equal(seen.size, dests.size);
        const macKeys: string[] = [];
        const vteps = new Map<string, Set<string>>();
        for (const [key, list] of dests) {
          const want = selectBest(list)!;
          const got = rib.best(key)!;
          assert.equal(got, seen.get(key), "change events tell the current best");
          assert.equal(
            got.source === "local" ? "local" : got.source.id,
            want.source === "local" ? "local" : want.source.id,
          );
          assert.ok(sameEvpnRoute(got.route, want.route));
          assert.equal(got.stale, want.stale);
          assert.equal(rib.paths(key).length, list.length);
          // The indexes cover learned paths only (local routes are known to their owner).
          if (want.route.routeType === 2 && list.some((p) => p.source !== "local")) macKeys.push(key);
          for (const p of list) {
            if (p.source === "local") continue;
            const ips = [p.attrs.nextHop, ...(p.route.routeType === 3 ? [p.route.originator] : [])];
            for (const ip of ips) (vteps.get(ip) ?? vteps.set(ip, new Set()).get(ip)!).add(key);
          }
        }
        assert.deepEqual(rib.byMac(mac(7)).sort(), macKeys.sort());
        for (let i = 0; i < 20; i++) {
          const ip = `192.0.2.${i}`;
          assert.deepEqual(rib.byVtep(ip).sort(), [...(vteps.get(ip) ?? [])].sort(), `VTEP ${ip}`);
        }
        for (const [i, p] of peers.entries()) {
          const m = model.get(p.id);
          const c = rib.counters(p.id);
          if (c === undefined) continue;
          assert.equal(c.paths, m?.size ?? 0, `paths of peer ${i}`);
          assert.equal(c.stale, [...(m?.values() ?? [])].filter((e) => e.stale).length, `stale of peer ${i}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
