// The proxy's routes (RFC 7432, RFC 8365) and its tracking of EVPN VTEPs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { digestAttributes } from "../../src/bgp/path-attrs.js";
import type { Path, PeerRef, RibChange } from "../../src/bgp/rib.js";
import { decodeMessage, encodeMessage, type EvpnRoute, type PathAttribute } from "../../src/codec/index.js";
import type { ServiceSettings as ServicePlan } from "../../src/config/model.js";
import { AttrsCache, isProxyMarked, plan, replicatorMarker } from "../../src/evpn/plan.js";
import { EvpnVtepTracker } from "../../src/evpn/vteps.js";
import { INGRESS } from "../helpers/service.js";

const S10: ServicePlan = {
  name: "vni10",
  evi: 10,
  vni: 10,
  routeTargets: ["65000:10"],
  ...INGRESS,
  staticVteps: [
    { address: "192.0.2.1", macs: [] },
    {
      address: "192.0.2.2",
      macs: [
        { mac: "02:00:00:00:01:02", ips: [] },
        { mac: "02:00:00:00:01:03", ips: ["198.51.100.3"] },
      ],
    },
  ],
};
const S20: ServicePlan = {
  name: "svc20",
  evi: 200,
  vni: 20,
  routeTargets: ["65000:2000", "65000:2001"],
  ...INGRESS,
  staticVteps: [{ address: "192.0.2.1", macs: [] }],
};
const none = () => new Set<string>();

describe("plan", () => {
  test("a type 3 per static VTEP and a sticky type 2 per static MAC, as the issue specifies", () => {
    const g = plan({ localAs: 65000, services: [S10] }, none, new AttrsCache());
    assert.equal(g.length, 3);
    const [imet1, imet2, macs2] = g;
    assert.deepEqual(imet1!.routes, [{ routeType: 3, rd: "192.0.2.1:10", ethernetTag: 0, originator: "192.0.2.1" }]);
    assert.equal(imet1!.attrs.nextHop, "192.0.2.1");
    assert.deepEqual(imet1!.attrs.attributes, [
      { kind: "origin", origin: 0 },
      { kind: "as-path", segments: [] },
      { kind: "local-pref", localPref: 100 },
      {
        kind: "ext-communities",
        communities: [
          { kind: "route-target", value: "65000:10" },
          { kind: "encapsulation", tunnelType: 8 },
        ],
      },
      { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: "192.0.2.1" },
      { kind: "large-communities", communities: [{ global: 65000, local1: 0x45565058, local2: 1 }] },
    ]);
    assert.equal((imet2!.routes[0] as { rd: string }).rd, "192.0.2.2:10");
    assert.deepEqual(
      macs2!.routes.map((r) => (r.routeType === 2 ? [r.rd, r.mac, r.ip, r.label1, r.esi] : [])),
      [
        ["192.0.2.2:10", "02:00:00:00:01:02", undefined, 10, "00:00:00:00:00:00:00:00:00:00"],
        ["192.0.2.2:10", "02:00:00:00:01:03", undefined, 10, "00:00:00:00:00:00:00:00:00:00"],
        ["192.0.2.2:10", "02:00:00:00:01:03", "198.51.100.3", 10, "00:00:00:00:00:00:00:00:00:00"],
      ],
    );
    const ext = macs2!.attrs.attributes.find((a) => a.kind === "ext-communities");
    assert.deepEqual(ext && ext.kind === "ext-communities" && ext.communities.at(-1), {
      kind: "mac-mobility",
      flags: 1,
      sequence: 0,
    });
    assert.ok(!macs2!.attrs.attributes.some((a) => a.kind === "pmsi-tunnel"), "PMSI only on IMET routes");
    // Every group encodes (the speaker would send it).
    for (const x of g)
      encodeMessage({
        type: 2,
        withdrawn: [],
        nlri: [],
        attributes: [
          ...x.attrs.attributes,
          {
            kind: "mp-reach",
            afi: 25,
            safi: 70,
            nextHop: [x.attrs.nextHop],
            nlri: { family: "evpn", routes: x.routes },
          },
        ],
      });
  });

  test("a MAC with several configured addresses: its MAC route and a MAC/IP route per address, each once", () => {
    const s: ServicePlan = {
      ...S10,
      staticVteps: [
        {
          address: "192.0.2.2",
          macs: [
            { mac: "02:00:00:00:01:02", ips: ["198.51.100.2", "2001:db8::2", "198.51.100.22"] },
            { mac: "02:00:00:00:01:02", ips: ["2001:db8::2", "2001:db8::22"] },
          ],
        },
      ],
    };
    const [, macs] = plan({ localAs: 65000, services: [s] }, none, new AttrsCache());
    assert.deepEqual(
      macs!.routes.map((r) => (r.routeType === 2 ? `${r.rd} ${r.mac} ${r.ip ?? "-"} ${r.label1}` : "")),
      [
        "192.0.2.2:10 02:00:00:00:01:02 - 10",
        "192.0.2.2:10 02:00:00:00:01:02 198.51.100.2 10",
        "192.0.2.2:10 02:00:00:00:01:02 2001:db8::2 10",
        "192.0.2.2:10 02:00:00:00:01:02 198.51.100.22 10",
        "192.0.2.2:10 02:00:00:00:01:02 2001:db8::22 10",
      ],
    );
    // one attribute object: next hop the static VTEP, MAC mobility sticky at sequence 0 (RFC 7432 §15.2)
    assert.equal(macs!.attrs.nextHop, "192.0.2.2");
    const ext = macs!.attrs.attributes.find((a) => a.kind === "ext-communities");
    assert.deepEqual(ext && ext.kind === "ext-communities" && ext.communities.at(-1), {
      kind: "mac-mobility",
      flags: 1,
      sequence: 0,
    });
    // the routes encode and decode back, each with its IP Address Length (RFC 7432 §7.2: 32 or 128)
    const bytes = encodeMessage({
      type: 2,
      withdrawn: [],
      nlri: [],
      attributes: [
        ...macs!.attrs.attributes,
        { kind: "mp-reach", afi: 25, safi: 70, nextHop: ["192.0.2.2"], nlri: { family: "evpn", routes: macs!.routes } },
      ],
    });
    const r = decodeMessage(bytes, { as4: true });
    const reach = r.ok ? r.message.type === 2 && r.message.attributes.find((a) => a.kind === "mp-reach") : undefined;
    assert.ok(reach && reach.kind === "mp-reach" && reach.nlri.family === "evpn");
    assert.deepEqual(
      reach.nlri.routes.map((x) => (x.routeType === 2 ? `${x.mac} ${x.ip ?? "-"}` : "")),
      macs!.routes.map((x) => (x.routeType === 2 ? `${x.mac} ${x.ip ?? "-"}` : "")),
    );
  });

  test("EVI ≠ VNI: RD from the EVI, label from the VNI, the configured route targets", () => {
    const g = plan({ localAs: 65000, services: [S20] }, none, new AttrsCache());
    assert.equal((g[0]!.routes[0] as { rd: string }).rd, "192.0.2.1:200");
    const pmsi = g[0]!.attrs.attributes.find((a) => a.kind === "pmsi-tunnel");
    assert.equal(pmsi && pmsi.kind === "pmsi-tunnel" && pmsi.label, 20);
    const ext = g[0]!.attrs.attributes.find((a) => a.kind === "ext-communities");
    assert.deepEqual(ext && ext.kind === "ext-communities" && ext.communities.slice(0, 2), [
      { kind: "route-target", value: "65000:2000" },
      { kind: "route-target", value: "65000:2001" },
    ]);
  });

  test("identical configurations give identical routes and shared attribute objects", () => {
    const cache = new AttrsCache();
    const a = plan({ localAs: 65000, services: [S10, S20] }, none, cache);
    const b = plan({ localAs: 65000, services: [structuredClone(S10), structuredClone(S20)] }, none, cache);
    assert.deepEqual(a, b);
    a.forEach((g, i) => assert.equal(g.attrs, b[i]!.attrs, "same object: nothing is re-sent"));
    const other = plan({ localAs: 65000, services: [S10, S20] }, none, new AttrsCache());
    assert.deepEqual(other, a, "another proxy with the same configuration announces the same");
  });

  test("a static VTEP that announces itself is not proxied for that service", () => {
    const g = plan(
      { localAs: 65000, services: [S10, S20] },
      (s) => new Set(s.name === "vni10" ? ["192.0.2.1"] : []),
      new AttrsCache(),
    );
    assert.deepEqual(
      g.flatMap((x) => x.routes.map((r) => (r as { rd: string }).rd)),
      ["192.0.2.2:10", "192.0.2.2:10", "192.0.2.2:10", "192.0.2.2:10", "192.0.2.1:200"],
    );
  });

  test("replication: proxy — one IMET route of the proxy's own, with the replicator marker; MAC routes stay at their VTEPs", () => {
    const svc = { ...S10, replication: "proxy" as const };
    const g = plan({ localAs: 65000, services: [svc, S20], vxlanAddress: "192.0.2.4" }, none, new AttrsCache());
    assert.deepEqual(
      g.map((x) => [x.attrs.nextHop, ...x.routes.map((r) => `${r.routeType} ${(r as { rd: string }).rd}`)]),
      [
        ["192.0.2.4", "3 192.0.2.4:10"],
        ["192.0.2.2", "2 192.0.2.2:10", "2 192.0.2.2:10", "2 192.0.2.2:10"],
        ["192.0.2.1", "3 192.0.2.1:200"],
      ],
    );
    assert.deepEqual(g[0]!.routes[0], { routeType: 3, rd: "192.0.2.4:10", ethernetTag: 0, originator: "192.0.2.4" });
    assert.deepEqual(g[0]!.attrs.attributes.slice(3), [
      {
        kind: "ext-communities",
        communities: [
          { kind: "route-target", value: "65000:10" },
          { kind: "encapsulation", tunnelType: 8 },
        ],
      },
      // RFC 6514 §5: ingress replication towards the proxy
      { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: "192.0.2.4" },
      { kind: "large-communities", communities: [{ global: 65000, local1: 0x45565058, local2: 2 }] },
    ]);
    assert.deepEqual(replicatorMarker(65000), { global: 65000, local1: 0x45565058, local2: 2 });
  });
});

const RR: PeerRef = { id: "192.0.2.254", address: "192.0.2.254", routerId: "192.0.2.254", asn: 65000, ebgp: false };

function path(route: EvpnRoute, nextHop: string, attrs: PathAttribute[]): Path {
  return { key: "k", route, attrs: digestAttributes(attrs, nextHop), source: RR, stale: false };
}

function imetChange(key: string, vtep: string, nextHop: string, rts: string[], marked: boolean | 2 = false): RibChange {
  const route: EvpnRoute = { routeType: 3, rd: `${vtep}:1`, ethernetTag: 0, originator: vtep };
  const local2 = marked === 2 ? 2 : 1;
  const attrs: PathAttribute[] = [
    { kind: "ext-communities", communities: rts.map((value) => ({ kind: "route-target" as const, value })) },
    ...(marked !== false
      ? [{ kind: "large-communities" as const, communities: [{ global: 65000, local1: 0x45565058, local2 }] }]
      : []),
  ];
  return { key, route, new: path(route, nextHop, attrs) };
}

describe("plan with the proxy-ARP/ND function", () => {
  test("configured bindings and static entries: MAC/IP routes with the ARP/ND community, immutable and override (RFC 9047)", () => {
    const svc: ServicePlan = {
      ...S10,
      staticVteps: [
        { address: "192.0.2.1", macs: [] },
        {
          address: "192.0.2.2",
          macs: [
            { mac: "02:00:00:00:01:02", ips: [] },
            { mac: "02:00:00:00:01:03", ips: ["198.51.100.3", "2001:db8::3"] },
          ],
        },
      ],
      replication: "proxy",
      arpNdProxy: {
        static: [{ ip: "2001:db8::3", mac: "02:00:00:00:01:03" }],
        floodUnknown: true,
        floodGratuitous: true,
        duplicateMaxMoves: 5,
        duplicateWindowSeconds: 180,
        duplicateHoldSeconds: 540,
        requestRate: 10,
        requestBurst: 100,
      },
    };
    const g = plan({ localAs: 65000, services: [svc], vxlanAddress: "192.0.2.4" }, none, new AttrsCache());
    const text = (x: (typeof g)[number]) =>
      x.routes.map((r) => (r.routeType === 2 ? `${r.mac}${r.ip ? "/" + r.ip : ""}` : `imet ${x.attrs.nextHop}`));
    assert.deepEqual(g.map(text), [
      ["imet 192.0.2.4"],
      ["02:00:00:00:01:02", "02:00:00:00:01:03"],
      ["02:00:00:00:01:03/198.51.100.3", "02:00:00:00:01:03/2001:db8::3"],
    ]);
    const ext = g[2]!.attrs.attributes.find((a) => a.kind === "ext-communities");
    assert.deepEqual(ext && ext.kind === "ext-communities" && ext.communities.slice(-2), [
      { kind: "mac-mobility", flags: 1, sequence: 0 },
      { kind: "arp-nd", flags: 0x0a },
    ]);
  });
});

describe("EVPN VTEP tracking", () => {
  test("IMET routes a VTEP originates for itself, by route target; withdrawals remove them", () => {
    const t = new EvpnVtepTracker(65000);
    assert.equal(t.apply([imetChange("a", "192.0.2.11", "192.0.2.11", ["65000:10"])]), true);
    assert.equal(t.apply([imetChange("b", "192.0.2.12", "192.0.2.12", ["65000:2000"])]), true);
    assert.deepEqual([...t.vteps(["65000:10"])], ["192.0.2.11"]);
    assert.deepEqual([...t.vteps(["65000:2000", "65000:10"])].sort(), ["192.0.2.11", "192.0.2.12"]);
    const gone = imetChange("a", "192.0.2.11", "192.0.2.11", ["65000:10"]);
    assert.equal(t.apply([{ key: "a", route: gone.route, old: gone.new! }]), true);
    assert.deepEqual([...t.vteps(["65000:10"])], []);
  });

  test("another proxy's routes, and IMETs whose next hop is not the originator, are not EVPN VTEPs", () => {
    const t = new EvpnVtepTracker(65000);
    assert.equal(t.apply([imetChange("a", "192.0.2.1", "192.0.2.1", ["65000:10"], true)]), false);
    assert.equal(t.apply([imetChange("b", "192.0.2.1", "192.0.2.4", ["65000:10"])]), false);
    assert.deepEqual([...t.vteps(["65000:10"])], []);
    assert.ok(
      isProxyMarked(
        [{ kind: "large-communities", communities: [{ global: 65000, local1: 0x45565058, local2: 1 }] }],
        65000,
      ),
    );
  });

  test("replicating proxies are tracked apart: never EVPN VTEPs, listed by route target", () => {
    const t = new EvpnVtepTracker(65000);
    assert.equal(t.apply([imetChange("p", "192.0.2.5", "192.0.2.5", ["65000:10"], 2)]), true);
    assert.equal(t.apply([imetChange("e", "192.0.2.11", "192.0.2.11", ["65000:10"])]), true);
    assert.deepEqual([...t.vteps(["65000:10"])], ["192.0.2.11"]);
    assert.deepEqual([...t.replicators(["65000:10"])], ["192.0.2.5"]);
    assert.deepEqual([...t.replicators(["65000:20"])], []);
    assert.deepEqual(t.all(), [{ vtep: "192.0.2.11", routeTargets: ["65000:10"] }]);
    const gone = imetChange("p", "192.0.2.5", "192.0.2.5", ["65000:10"], 2);
    assert.equal(t.apply([{ key: "p", route: gone.route, old: gone.new! }]), true);
    assert.deepEqual([...t.replicators(["65000:10"])], []);
  });
});
