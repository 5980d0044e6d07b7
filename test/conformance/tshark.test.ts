// Conformance with an independent dissector: UPDATEs we encode (every EVPN route type, IPv4 and
// IPv6, every extended community, PMSI) are written as a TCP stream to port 179 in a pcap,
// dissected by `tshark -T json`, and must show no malformed or expert-error frame and the very
// values we encoded.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type BgpMessage,
  ceaseNotification,
  type EvpnRoute,
  type ExtCommunity,
  encodeMessage,
  endOfRib,
  formatIpv4,
  KEEPALIVE,
  makeEsi,
  makeOpen,
  type PathAttribute,
  parseIpv6Into,
  type UpdateMessage,
} from "../../src/codec/index.js";
import { requireTools } from "../helpers/env.js";
import { all, type DissectedBgpMessage, dissectBgp, type FieldMap, first, formatRd } from "../helpers/tshark.js";

const ESI0 = "00:00:00:00:00:00:00:00:00:00";
const ESI_LACP = makeEsi({ type: 1, systemMac: "02:00:00:00:aa:01", portKey: 7 })!;
const ESI_AS = makeEsi({ type: 5, asn: 65000, localDiscriminator: 42 })!;

function update(
  routes: EvpnRoute[],
  nextHop: string,
  communities: ExtCommunity[],
  extra: PathAttribute[] = [],
): UpdateMessage {
  // Ascending type-code order (RFC 4271 §5): MP_REACH (14) before EXTENDED_COMMUNITIES (16), PMSI (22).
  const attrs: PathAttribute[] = [
    { kind: "origin", origin: 0 },
    { kind: "as-path", segments: [{ type: 2, asns: [65001, 4200000000] }] },
    { kind: "local-pref", localPref: 100 },
    { kind: "mp-reach", afi: 25, safi: 70, nextHop: [nextHop], nlri: { family: "evpn", routes } },
    { kind: "ext-communities", communities },
    ...extra,
  ];
  return { type: 2, withdrawn: [], attributes: attrs, nlri: [] };
}

const RTS: ExtCommunity[] = [
  { kind: "route-target", value: "65000:10" },
  { kind: "route-target", value: "192.0.2.1:10" },
  { kind: "route-target", value: "4200000000:10" },
];
const VXLAN: ExtCommunity = { kind: "encapsulation", tunnelType: 8 };

interface Case {
  name: string;
  message: BgpMessage;
  /** Per NLRI, in order. */
  routes?: EvpnRoute[];
  communities?: ExtCommunity[];
  pmsiEndpoint?: string;
  nextHop?: string;
}

const CASES: Case[] = [
  {
    name: "type 3 IMET, IPv4, PMSI ingress replication, three route target forms",
    routes: [{ routeType: 3, rd: "192.0.2.1:10", ethernetTag: 0, originator: "192.0.2.1" }],
    communities: [...RTS, VXLAN],
    pmsiEndpoint: "192.0.2.1",
    nextHop: "192.0.2.1",
    message: update(
      [{ routeType: 3, rd: "192.0.2.1:10", ethernetTag: 0, originator: "192.0.2.1" }],
      "192.0.2.1",
      [...RTS, VXLAN],
      [{ kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: "192.0.2.1" }],
    ),
  },
  {
    name: "type 3 IMET, IPv6",
    routes: [{ routeType: 3, rd: "65000:20", ethernetTag: 0, originator: "2001:db8::1" }],
    communities: [{ kind: "route-target", value: "65000:20" }, VXLAN],
    pmsiEndpoint: "2001:db8::1",
    nextHop: "2001:db8::1",
    message: update(
      [{ routeType: 3, rd: "65000:20", ethernetTag: 0, originator: "2001:db8::1" }],
      "2001:db8::1",
      [{ kind: "route-target", value: "65000:20" }, VXLAN],
      [{ kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 20, endpoint: "2001:db8::1" }],
    ),
  },
  (() => {
    const routes: EvpnRoute[] = [
      {
        routeType: 2,
        rd: "192.0.2.1:10",
        esi: ESI0,
        ethernetTag: 0,
        mac: "02:00:00:00:01:01",
        ip: undefined,
        label1: 10,
        label2: undefined,
      },
      {
        routeType: 2,
        rd: "192.0.2.1:10",
        esi: ESI0,
        ethernetTag: 0,
        mac: "02:00:00:00:01:01",
        ip: "198.51.100.101",
        label1: 10,
        label2: undefined,
      },
      {
        routeType: 2,
        rd: "192.0.2.1:10",
        esi: ESI_LACP,
        ethernetTag: 100,
        mac: "02:00:00:00:01:02",
        ip: "2001:db8::102",
        label1: 0x123450,
        label2: 0x0abcd0,
      },
    ];
    const communities: ExtCommunity[] = [
      RTS[0]!,
      VXLAN,
      { kind: "mac-mobility", flags: 1, sequence: 7 },
      { kind: "router-mac", mac: "02:00:00:00:00:aa" },
      { kind: "default-gateway" },
      { kind: "arp-nd", flags: 0x09 },
    ];
    return {
      name: "type 2 MAC, MAC/IPv4, MAC/IPv6 with two labels; MAC mobility sticky, router MAC, default gateway, ARP/ND",
      routes,
      communities,
      nextHop: "192.0.2.1",
      message: update(routes, "192.0.2.1", communities),
    };
  })(),
  (() => {
    const routes: EvpnRoute[] = [
      { routeType: 1, rd: "192.0.2.2:1", esi: ESI_AS, ethernetTag: 0xffffffff, label: 0 },
      { routeType: 4, rd: "192.0.2.2:0", esi: ESI_AS, originator: "192.0.2.2" },
      { routeType: 4, rd: "192.0.2.2:0", esi: ESI_LACP, originator: "2001:db8::2" },
    ];
    const communities: ExtCommunity[] = [
      { kind: "esi-label", flags: 1, label: 0x000640 },
      { kind: "es-import-rt", mac: "00:00:fd:e8:00:00" },
      { kind: "route-origin", value: "65000:1" },
    ];
    return {
      name: "type 1 Ethernet A-D and type 4 Ethernet Segment; ESI label, ES-import RT",
      routes,
      communities,
      nextHop: "192.0.2.2",
      message: update(routes, "192.0.2.2", communities),
    };
  })(),
  (() => {
    const routes: EvpnRoute[] = [
      {
        routeType: 5,
        rd: "192.0.2.3:5",
        esi: ESI0,
        ethernetTag: 0,
        prefix: "203.0.113.0/24",
        gateway: "0.0.0.0",
        label: 0x1389,
      },
      {
        routeType: 5,
        rd: "192.0.2.3:5",
        esi: ESI0,
        ethernetTag: 0,
        prefix: "2001:db8:5::/48",
        gateway: "::",
        label: 0x1389,
      },
    ];
    const communities: ExtCommunity[] = [
      { kind: "route-target", value: "65000:5000" },
      VXLAN,
      { kind: "router-mac", mac: "02:00:00:00:00:03" },
    ];
    return {
      name: "type 5 IP prefix IPv4 and IPv6",
      routes,
      communities,
      nextHop: "192.0.2.3",
      message: update(routes, "192.0.2.3", communities),
    };
  })(),
];

const OTHER: [string, BgpMessage][] = [
  [
    "OPEN",
    makeOpen({
      asn: 65000,
      holdTime: 90,
      bgpId: "192.0.2.4",
      capabilities: [
        { code: 1, afi: 25, safi: 70 },
        { code: 2 },
        { code: 70 },
        { code: 6 },
        { code: 65, asn: 65000 },
        {
          code: 64,
          restartFlags: 0,
          restartTime: 120,
          families: [{ afi: 25, safi: 70, flags: 0x80 }],
        },
      ],
    }),
  ],
  ["KEEPALIVE", KEEPALIVE],
  [
    "UPDATE withdrawals",
    {
      type: 2,
      withdrawn: [],
      attributes: [
        {
          kind: "mp-unreach",
          afi: 25,
          safi: 70,
          nlri: {
            family: "evpn",
            routes: [
              {
                routeType: 2,
                rd: "192.0.2.1:10",
                esi: ESI0,
                ethernetTag: 0,
                mac: "02:00:00:00:01:01",
                ip: "198.51.100.101",
                label1: 10,
                label2: undefined,
              },
            ],
          },
        },
      ],
      nlri: [],
    },
  ],
  ["End-of-RIB", endOfRib(25, 70)],
  ["ROUTE-REFRESH", { type: 5, afi: 25, safi: 70, subtype: 1 }],
  ["NOTIFICATION", ceaseNotification(2, "maintenance window")],
];

function values(m: FieldMap, ...names: string[]): string[] {
  return names.flatMap((n) => all(m, n));
}

function checkRoute(n: FieldMap, r: EvpnRoute, where: string): void {
  assert.ok(r.routeType !== "unknown");
  assert.equal(first(n, "bgp.evpn.nlri.rt"), String(r.routeType), `${where}: route type`);
  assert.equal(formatRd(first(n, "bgp.evpn.nlri.rd") ?? ""), r.rd.replace(/L:/, ":"), `${where}: RD`);
  const ip = (s: string | undefined) => (s === undefined ? [] : [s]);
  switch (r.routeType) {
    case 1:
      assert.equal(first(n, "bgp.evpn.nlri.esi"), r.esi, `${where}: ESI`);
      assert.equal(first(n, "bgp.evpn.nlri.etag"), String(r.ethernetTag), `${where}: tag`);
      assert.equal(first(n, "bgp.evpn.nlri.mpls_ls1"), String(r.label >>> 4), `${where}: label`);
      break;
    case 2:
      assert.equal(first(n, "bgp.evpn.nlri.esi"), r.esi, `${where}: ESI`);
      assert.equal(first(n, "bgp.evpn.nlri.mac_addr"), r.mac, `${where}: MAC`);
      assert.deepEqual(values(n, "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr"), ip(r.ip), `${where}: IP`);
      // tshark shows a 20-bit MPLS label unless VXLAN encapsulation precedes MP_REACH.
      assert.deepEqual(
        values(n, "bgp.evpn.nlri.mpls_ls1", "bgp.evpn.nlri.mpls_ls2"),
        [r.label1, ...(r.label2 === undefined ? [] : [r.label2])].map((l) => String(l >>> 4)),
        `${where}: labels`,
      );
      break;
    case 3:
      assert.deepEqual(
        values(n, "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr"),
        [r.originator],
        `${where}: originator`,
      );
      break;
    case 4:
      assert.equal(first(n, "bgp.evpn.nlri.esi"), r.esi, `${where}: ESI`);
      assert.deepEqual(
        values(n, "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr"),
        [r.originator],
        `${where}: originator`,
      );
      break;
    case 5: {
      const [addr, len] = r.prefix.split("/");
      assert.equal(first(n, "bgp.evpn.nlri.prefix_len"), len, `${where}: prefix length`);
      assert.deepEqual(values(n, "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr"), [addr], `${where}: prefix`);
      assert.deepEqual(
        values(n, "bgp.evpn.nlri.ipv4.gtw_addr", "bgp.evpn.nlri.ipv6.gtw_addr"),
        [r.gateway],
        `${where}: gateway`,
      );
      assert.equal(first(n, "bgp.update.path_attribute.mpls_label_value"), String(r.label), `${where}: label`);
      break;
    }
  }
}

function checkCommunities(m: DissectedBgpMessage, communities: ExtCommunity[], where: string): void {
  const f = m.fields;
  const rt = communities
    .filter((c): c is { kind: "route-target"; value: string } => c.kind === "route-target")
    .map((c) => c.value);
  const seen = [
    ...all(f, "bgp.ext_com.value_as2").map((a, i) => `${a}:${all(f, "bgp.ext_com.value_an4")[i]}`),
    ...all(f, "bgp.ext_com.value_IP4").map((a, i) => `${a}:${all(f, "bgp.ext_com.value_an2")[i]}`),
  ];
  // 4-octet-AS route targets share value_an2 with the IPv4 form: pair them after the IPv4 ones.
  const an2 = all(f, "bgp.ext_com.value_an2").slice(all(f, "bgp.ext_com.value_IP4").length);
  seen.push(...all(f, "bgp.ext_com.value_as4").map((a, i) => `${a}:${an2[i]}`));
  const expectedValues = communities
    .filter(
      (c): c is { kind: "route-target" | "route-origin"; value: string } =>
        c.kind === "route-target" || c.kind === "route-origin",
    )
    .map((c) => c.value);
  assert.deepEqual([...seen].sort(), [...expectedValues].sort(), `${where}: route targets/origins`);
  assert.ok(rt.length === 0 || seen.length > 0);
  for (const c of communities) {
    switch (c.kind) {
      case "encapsulation":
        assert.deepEqual(all(f, "bgp.ext_com.tunnel_type"), [String(c.tunnelType)], `${where}: encapsulation`);
        break;
      case "mac-mobility":
        assert.deepEqual(all(f, "bgp.ext_com_evpn.mmac.seq"), [String(c.sequence)], `${where}: MAC mobility sequence`);
        assert.deepEqual(all(f, "bgp.ext_com_evpn.mmac.flags.sticky"), [c.flags & 1 ? "1" : "0"], `${where}: sticky`);
        break;
      case "router-mac":
        assert.deepEqual(all(f, "bgp.ext_com_evpn.esi.router_mac"), [c.mac], `${where}: router MAC`);
        break;
      case "es-import-rt":
        assert.deepEqual(all(f, "bgp.ext_com_evpn.esi.rt"), [c.mac], `${where}: ES-import RT`);
        break;
      case "esi-label":
        assert.deepEqual(
          all(f, "bgp.ext_com_l2.esi_label_flag"),
          [c.flags & 1 ? "1" : "0"],
          `${where}: ESI label flag`,
        );
        assert.ok(
          all(f, "bgp.update.path_attribute.mpls_label_value").includes(String(c.label)),
          `${where}: ESI label`,
        );
        break;
      case "default-gateway":
        assert.ok(all(f, "bgp.ext_com.stype_tr_opaque").includes("0x0d"), `${where}: default gateway`);
        break;
      case "arp-nd":
        assert.ok(all(f, "bgp.ext_com.stype_tr_evpn").includes("0x08"), `${where}: ARP/ND`);
        break;
      case "route-target":
      case "route-origin":
        break; // compared above, all together
      case "raw":
        assert.fail(`${where}: raw communities are not part of this set`);
    }
  }
}

describe("tshark dissects what we encode", () => {
  test("EVPN UPDATEs: no malformed or expert-error frame, every value as encoded", async (t) => {
    if (!requireTools(t, ["tshark", "text2pcap"])) return;
    const frames = await dissectBgp(
      CASES.map((c) => encodeMessage(c.message)),
      { prefs: { "bgp.asn_len": "4 octet" } },
    );
    assert.equal(frames.length, CASES.length);
    for (const [i, c] of CASES.entries()) {
      const frame = frames[i]!;
      assert.deepEqual(frame.problems, [], `${c.name}: tshark problems`);
      const m = frame.messages[0]!;
      assert.equal(m.type, 2);
      assert.equal(m.nlri.length, c.routes!.length, `${c.name}: NLRI count`);
      for (const [k, r] of c.routes!.entries()) checkRoute(m.nlri[k]!, r, `${c.name} route ${k}`);
      checkCommunities(m, c.communities!, c.name);
      assert.deepEqual(
        values(
          m.fields,
          "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4",
          "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6",
        ),
        [c.nextHop],
        `${c.name}: next hop`,
      );
      if (c.pmsiEndpoint !== undefined) {
        assert.deepEqual(all(m.fields, "bgp.update.path_attribute.pmsi.tunnel.type"), ["6"], `${c.name}: PMSI type`);
        const v6 = all(m.fields, "bgp.update.path_attribute.pmsi.ingress_rep_ip6");
        if (!c.pmsiEndpoint.includes(":") || v6.length > 0)
          assert.deepEqual(
            [...all(m.fields, "bgp.update.path_attribute.pmsi.ingress_rep_ip"), ...v6],
            [c.pmsiEndpoint],
            `${c.name}: PMSI endpoint`,
          );
        else {
          // tshark 4.0 reads an ingress-replication endpoint as IPv4 only: it shows the first 4 of
          // the 16 bytes, and the attribute length (5 + 16) proves the whole address was sent.
          const b = new Uint8Array(16);
          assert.ok(parseIpv6Into(c.pmsiEndpoint, b, 0));
          assert.deepEqual(
            all(m.fields, "bgp.update.path_attribute.pmsi.ingress_rep_ip"),
            [formatIpv4(b, 0)],
            `${c.name}: PMSI endpoint (first 4 bytes)`,
          );
          assert.ok(all(m.fields, "bgp.update.path_attribute.length").includes("21"), `${c.name}: PMSI length`);
        }
      }
      assert.deepEqual(
        all(m.fields, "bgp.update.path_attribute.as_path_segment.as4"),
        ["65001", "4200000000"],
        `${c.name}: AS_PATH`,
      );
      assert.deepEqual(all(m.fields, "bgp.update.path_attribute.local_pref"), ["100"], `${c.name}: LOCAL_PREF`);
    }
  });

  test("OPEN, KEEPALIVE, withdrawals, End-of-RIB, ROUTE-REFRESH, NOTIFICATION", async (t) => {
    if (!requireTools(t, ["tshark", "text2pcap"])) return;
    const frames = await dissectBgp(OTHER.map(([, m]) => encodeMessage(m)));
    for (const [i, [name, m]] of OTHER.entries()) {
      assert.deepEqual(frames[i]!.problems, [], `${name}: tshark problems`);
      assert.equal(frames[i]!.messages[0]!.type, m.type, `${name}: type`);
    }
    const open = frames[0]!.messages[0]!.fields;
    assert.deepEqual(all(open, "bgp.cap.type"), ["1", "2", "70", "6", "65", "64"]);
    assert.equal(first(open, "bgp.cap.gr.restart_time") ?? first(open, "bgp.cap.gr.timers.restart_time"), "120");
    const wd = frames[2]!.messages[0]!;
    assert.equal(wd.withdrawn.length, 1);
    assert.equal(first(wd.withdrawn[0]!, "bgp.evpn.nlri.mac_addr"), "02:00:00:00:01:01");
    assert.equal(first(frames[4]!.messages[0]!.fields, "bgp.route_refresh.subtype"), "1");
    assert.equal(first(frames[5]!.messages[0]!.fields, "bgp.notify.communication"), "maintenance window");
  });
});
