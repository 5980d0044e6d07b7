// Byte-exact vectors: decode → expected object → encode → identical bytes, for every message
// type, path attribute, EVPN route type, RD type and extended community. Vectors marked
// "field notes" are the verified ones from the project's field notes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CodecContext,
  decodeAttributes,
  decodeEvpnNlri,
  decodeExtCommunity,
  decodeMessage,
  decodeRd,
  type EvpnRoute,
  type ExtCommunity,
  encodeAttribute,
  encodeEvpnRoute,
  encodeExtCommunityInto,
  encodeMessage,
  encodeRdInto,
  type PathAttribute,
  Writer,
} from "../../src/codec/index.js";
import { h, hex, msg, norm, updateWithAttrs } from "../helpers/hex.js";

const AS4: CodecContext = { as4: true };
const AS2: CodecContext = { as4: false };
const ESI0 = "00:00:00:00:00:00:00:00:00:00";

describe("route distinguishers (RFC 4364 §4.2)", () => {
  const cases: [string, string][] = [
    ["0000 fde8 0000000a", "65000:10"],
    ["0001 01010101 deed", "1.1.1.1:57069"], // field notes
    ["0001 c0000201 000a", "192.0.2.1:10"],
    ["0002 fa56ea00 000a", "4200000000:10"],
    ["0002 0000fde8 000a", "65000L:10"],
    ["0007 0102030405 06", "raw:0007010203040506"],
  ];
  for (const [vec, text] of cases) {
    test(text, () => {
      assert.equal(decodeRd(h(vec), 0), text);
      const out = new Uint8Array(8);
      assert.ok(encodeRdInto(text, out, 0));
      assert.equal(hex(out), norm(vec));
    });
  }
  test("invalid RD text is rejected", () => {
    for (const bad of ["65000", "1.1.1:1", "1.1.1.1:70000", "x:1", "65536:4294967296", "raw:00"])
      assert.equal(encodeRdInto(bad, new Uint8Array(8), 0), false, bad);
  });
});

describe("extended communities", () => {
  const cases: [string, ExtCommunity][] = [
    ["00 02 FD E8 00 00 DE ED", { kind: "route-target", value: "65000:57069" }], // field notes
    ["01 02 c0000201 000a", { kind: "route-target", value: "192.0.2.1:10" }],
    ["02 02 fa56ea00 000a", { kind: "route-target", value: "4200000000:10" }],
    ["02 02 0000fde8 000a", { kind: "route-target", value: "65000L:10" }],
    ["00 03 fde8 0000000a", { kind: "route-origin", value: "65000:10" }],
    ["01 03 c0000201 0001", { kind: "route-origin", value: "192.0.2.1:1" }],
    ["03 0C 00 00 00 00 00 08", { kind: "encapsulation", tunnelType: 8 }], // field notes
    ["03 0d 00 00 00 00 00 00", { kind: "default-gateway" }],
    ["06 00 00 00 00 00 00 01", { kind: "mac-mobility", flags: 0, sequence: 1 }], // field notes
    ["06 00 01 00 00 00 00 00", { kind: "mac-mobility", flags: 1, sequence: 0 }], // field notes: sticky
    ["06 00 01 00 ff ff ff ff", { kind: "mac-mobility", flags: 1, sequence: 0xffffffff }],
    ["06 01 01 00 00 00 00 64", { kind: "esi-label", flags: 1, label: 100 }],
    ["06 02 02 00 00 00 01 01", { kind: "es-import-rt", mac: "02:00:00:00:01:01" }],
    ["06 03 02 00 00 00 0a 0b", { kind: "router-mac", mac: "02:00:00:00:0a:0b" }],
    ["06 08 09 00 00 00 00 00", { kind: "arp-nd", flags: 0x09 }],
    ["80 06 00 00 00 00 00 00", { kind: "raw", bytes: h("8006000000000000") }], // flowspec traffic-rate
    ["06 00 00 01 00 00 00 01", { kind: "raw", bytes: h("0600000100000001") }], // reserved octet set
    ["42 02 00 00 fd e8 00 0a", { kind: "raw", bytes: h("420200 00fde8000a") }], // non-transitive RT
  ];
  for (const [vec, expected] of cases) {
    test(`${expected.kind} ${norm(vec)}`, () => {
      const c = decodeExtCommunity(h(vec), 0);
      assert.deepEqual(c, expected);
      const out = new Uint8Array(8);
      encodeExtCommunityInto(c, out, 0);
      assert.equal(hex(out), norm(vec));
    });
  }
});

const RD1 = "00 01 01 01 01 01 DE ED"; // 1.1.1.1:57069
const RD2 = "0001 c0000201 000a"; // 192.0.2.1:10
const ESI3 = "03 02 00 00 00 01 01 00 00 01"; // type 3 MAC-based

describe("EVPN NLRI (RFC 7432 §7, RFC 9136 §3)", () => {
  const cases: [string, string, EvpnRoute][] = [
    [
      "type 1 Ethernet A-D",
      `01 19 | ${RD2} | ${ESI3} | 00 00 00 00 | 00 00 64`,
      {
        routeType: 1,
        rd: "192.0.2.1:10",
        esi: "03:02:00:00:00:01:01:00:00:01",
        ethernetTag: 0,
        label: 100,
      },
    ],
    [
      "type 2 MAC/IPv4 (field notes)",
      `02 25 | ${RD1} | ${"00".repeat(10)} | 00 00 00 00 | 30 | 00 11 22 33 44 01 | 20 | 0A 00 00 65 | AA BB CC`,
      {
        routeType: 2,
        rd: "1.1.1.1:57069",
        esi: ESI0,
        ethernetTag: 0,
        mac: "00:11:22:33:44:01",
        ip: "10.0.0.101",
        label1: 0xaabbcc,
        label2: undefined,
      },
    ],
    [
      "type 2 MAC only (field notes)",
      `02 21 | ${RD1} | ${"00".repeat(10)} | 00 00 00 00 | 30 | 00 11 22 33 44 01 | 00 | AA BB CC`,
      {
        routeType: 2,
        rd: "1.1.1.1:57069",
        esi: ESI0,
        ethernetTag: 0,
        mac: "00:11:22:33:44:01",
        ip: undefined,
        label1: 0xaabbcc,
        label2: undefined,
      },
    ],
    [
      "type 2 MAC/IPv6 with two labels",
      `02 34 | ${RD2} | ${ESI3} | 00 00 00 05 | 30 | 02 00 00 00 01 01 | 80 | 20010db8000000000000000000000065 | 00 00 0a | 00 03 e8`,
      {
        routeType: 2,
        rd: "192.0.2.1:10",
        esi: "03:02:00:00:00:01:01:00:00:01",
        ethernetTag: 5,
        mac: "02:00:00:00:01:01",
        ip: "2001:db8::65",
        label1: 10,
        label2: 1000,
      },
    ],
    [
      "type 2 MAC/IPv4 with two labels",
      `02 28 | ${RD2} | ${"00".repeat(10)} | 00 00 00 00 | 30 | 02 00 00 00 01 01 | 20 | c6 33 64 65 | 00 00 0a | 00 00 64`,
      {
        routeType: 2,
        rd: "192.0.2.1:10",
        esi: ESI0,
        ethernetTag: 0,
        mac: "02:00:00:00:01:01",
        ip: "198.51.100.101",
        label1: 10,
        label2: 100,
      },
    ],
    [
      "type 3 IMET IPv4 (field notes)",
      `03 11 | ${RD1} | 00 00 00 00 | 20 | 01 01 01 01`,
      { routeType: 3, rd: "1.1.1.1:57069", ethernetTag: 0, originator: "1.1.1.1" },
    ],
    [
      "type 3 IMET IPv6",
      `03 1d | ${RD2} | 00 00 00 00 | 80 | 20010db8000000000000000000000001`,
      { routeType: 3, rd: "192.0.2.1:10", ethernetTag: 0, originator: "2001:db8::1" },
    ],
    [
      "type 4 Ethernet Segment IPv4",
      `04 17 | ${RD2} | ${ESI3} | 20 | c0 00 02 01`,
      {
        routeType: 4,
        rd: "192.0.2.1:10",
        esi: "03:02:00:00:00:01:01:00:00:01",
        originator: "192.0.2.1",
      },
    ],
    [
      "type 4 Ethernet Segment IPv6",
      `04 23 | ${RD2} | ${ESI3} | 80 | 20010db8000000000000000000000001`,
      {
        routeType: 4,
        rd: "192.0.2.1:10",
        esi: "03:02:00:00:00:01:01:00:00:01",
        originator: "2001:db8::1",
      },
    ],
    [
      "type 5 IP prefix IPv4",
      `05 22 | ${RD2} | ${"00".repeat(10)} | 00 00 00 00 | 18 | cb 00 71 00 | c0 00 02 01 | 00 00 0a`,
      {
        routeType: 5,
        rd: "192.0.2.1:10",
        esi: ESI0,
        ethernetTag: 0,
        prefix: "203.0.113.0/24",
        gateway: "192.0.2.1",
        label: 10,
      },
    ],
    [
      "type 5 IP prefix IPv6",
      `05 3a | ${RD2} | ${"00".repeat(10)} | 00 00 00 00 | 40 | 20010db8000100000000000000000000 | ${"00".repeat(16)} | 00 00 14`,
      {
        routeType: 5,
        rd: "192.0.2.1:10",
        esi: ESI0,
        ethernetTag: 0,
        prefix: "2001:db8:1::/64",
        gateway: "::",
        label: 20,
      },
    ],
    ["unknown route type 9", "09 03 aa bb cc", { routeType: "unknown", code: 9, value: h("aabbcc") }],
  ];
  for (const [name, vec, expected] of cases) {
    test(name, () => {
      const b = h(vec);
      const out: EvpnRoute[] = [];
      decodeEvpnNlri(b, 0, b.length, out, 25, 70);
      assert.equal(out.length, 1);
      assert.deepEqual(out[0], expected);
      const w = new Writer(8);
      encodeEvpnRoute(w, out[0]!);
      assert.equal(hex(w.finish()), norm(vec));
    });
  }
  test("several routes back to back", () => {
    const vec = cases.map(([, v]) => norm(v)).join("");
    const b = h(vec);
    const out: EvpnRoute[] = [];
    decodeEvpnNlri(b, 0, b.length, out, 25, 70);
    assert.equal(out.length, cases.length);
    const w = new Writer(8);
    for (const r of out) encodeEvpnRoute(w, r);
    assert.equal(hex(w.finish()), vec);
  });
});

function attrRoundTrip(vec: string, expected: PathAttribute, ctx: CodecContext = AS4): void {
  const b = h(vec);
  const r = decodeAttributes(b, 0, b.length, ctx);
  assert.deepEqual(r.errors, []);
  assert.equal(r.attributes.length, 1);
  assert.deepEqual(r.attributes[0], expected);
  const w = new Writer(4);
  encodeAttribute(w, r.attributes[0]!, ctx);
  assert.equal(hex(w.finish()), norm(vec));
}

const T3_NLRI = `03 11 | ${RD1} | 00 00 00 00 | 20 | 01 01 01 01`;
const T3_ROUTE: EvpnRoute = {
  routeType: 3,
  rd: "1.1.1.1:57069",
  ethernetTag: 0,
  originator: "1.1.1.1",
};

describe("path attributes", () => {
  const cases: [string, string, PathAttribute, CodecContext?][] = [
    ["ORIGIN IGP", "40 01 01 00", { kind: "origin", flags: 0x40, origin: 0 }],
    ["ORIGIN INCOMPLETE, extended length flag kept", "50 01 0001 02", { kind: "origin", flags: 0x50, origin: 2 }],
    ["AS_PATH empty", "40 02 00", { kind: "as-path", flags: 0x40, segments: [] }],
    [
      "AS_PATH 4-octet, AS_SEQUENCE + AS_SET",
      "40 02 14 | 02 03 0000fde8 0000fde9 fa56ea00 | 01 01 0000fdea",
      {
        kind: "as-path",
        flags: 0x40,
        segments: [
          { type: 2, asns: [65000, 65001, 4200000000] },
          { type: 1, asns: [65002] },
        ],
      },
    ],
    [
      "AS_PATH 2-octet with AS_TRANS",
      "40 02 0a | 02 02 fde8 fde9 | 01 01 5ba0",
      {
        kind: "as-path",
        flags: 0x40,
        segments: [
          { type: 2, asns: [65000, 65001] },
          { type: 1, asns: [23456] },
        ],
      },
      AS2,
    ],
    [
      "AS_PATH confederation sequence",
      "40 02 06 | 03 01 0000fde8",
      { kind: "as-path", flags: 0x40, segments: [{ type: 3, asns: [65000] }] },
    ],
    ["NEXT_HOP", "40 03 04 c0 00 02 01", { kind: "next-hop", flags: 0x40, nextHop: "192.0.2.1" }],
    ["MULTI_EXIT_DISC", "80 04 04 00 00 00 64", { kind: "med", flags: 0x80, med: 100 }],
    ["LOCAL_PREF", "40 05 04 00 00 00 64", { kind: "local-pref", flags: 0x40, localPref: 100 }],
    ["ATOMIC_AGGREGATE", "40 06 00", { kind: "atomic-aggregate", flags: 0x40 }],
    [
      "AGGREGATOR 4-octet",
      "c0 07 08 0000fde8 c0000201",
      { kind: "aggregator", flags: 0xc0, asn: 65000, address: "192.0.2.1", as4: true },
    ],
    [
      "AGGREGATOR 2-octet",
      "c0 07 06 fde8 c0000201",
      { kind: "aggregator", flags: 0xc0, asn: 65000, address: "192.0.2.1", as4: false },
      AS2,
    ],
    [
      "COMMUNITIES",
      "c0 08 08 fde80064 ffffff01",
      { kind: "communities", flags: 0xc0, communities: [0xfde80064, 0xffffff01] },
    ],
    ["ORIGINATOR_ID", "80 09 04 c0 00 02 01", { kind: "originator-id", flags: 0x80, originatorId: "192.0.2.1" }],
    [
      "CLUSTER_LIST",
      "80 0a 08 c0000202 c0000203",
      { kind: "cluster-list", flags: 0x80, clusterIds: ["192.0.2.2", "192.0.2.3"] },
    ],
    [
      "MP_REACH_NLRI EVPN, IPv4 next hop",
      `90 0e 001c | 0019 46 04 c0000201 00 | ${T3_NLRI}`,
      {
        kind: "mp-reach",
        flags: 0x90,
        afi: 25,
        safi: 70,
        nextHop: ["192.0.2.1"],
        reserved: 0,
        nlri: { family: "evpn", routes: [T3_ROUTE] },
      },
    ],
    [
      "MP_REACH_NLRI EVPN, global + link-local IPv6 next hop",
      `80 0e 38 | 0019 46 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00 | ${T3_NLRI}`,
      {
        kind: "mp-reach",
        flags: 0x80,
        afi: 25,
        safi: 70,
        nextHop: ["2001:db8::1", "fe80::1"],
        reserved: 0,
        nlri: { family: "evpn", routes: [T3_ROUTE] },
      },
    ],
    [
      "MP_REACH_NLRI IPv4 unicast",
      "80 0e 0d | 0001 01 04 c0000201 00 | 18 c63364",
      {
        kind: "mp-reach",
        flags: 0x80,
        afi: 1,
        safi: 1,
        nextHop: ["192.0.2.1"],
        reserved: 0,
        nlri: { family: "ipv4", prefixes: ["198.51.100.0/24"] },
      },
    ],
    [
      "MP_REACH_NLRI IPv6 unicast",
      "80 0e 1a | 0002 01 10 20010db8000000000000000000000001 00 | 20 20010db8",
      {
        kind: "mp-reach",
        flags: 0x80,
        afi: 2,
        safi: 1,
        nextHop: ["2001:db8::1"],
        reserved: 0,
        nlri: { family: "ipv6", prefixes: ["2001:db8::/32"] },
      },
    ],
    [
      "MP_REACH_NLRI unknown family kept raw",
      "80 0e 0c | 0001 80 05 0102030405 00 | ab cd",
      {
        kind: "mp-reach",
        flags: 0x80,
        afi: 1,
        safi: 128,
        nextHop: [],
        nextHopRaw: h("0102030405"),
        reserved: 0,
        nlri: { family: "raw", data: h("abcd") },
      },
    ],
    [
      "MP_UNREACH_NLRI EVPN",
      `90 0f 0016 | 0019 46 | ${T3_NLRI}`,
      {
        kind: "mp-unreach",
        flags: 0x90,
        afi: 25,
        safi: 70,
        nlri: { family: "evpn", routes: [T3_ROUTE] },
      },
    ],
    [
      "MP_UNREACH_NLRI empty (End-of-RIB)",
      "90 0f 0003 0019 46",
      { kind: "mp-unreach", flags: 0x90, afi: 25, safi: 70, nlri: { family: "evpn", routes: [] } },
    ],
    [
      "EXTENDED_COMMUNITIES",
      "c0 10 10 | 0002fde80000000a | 030c000000000008",
      {
        kind: "ext-communities",
        flags: 0xc0,
        communities: [
          { kind: "route-target", value: "65000:10" },
          { kind: "encapsulation", tunnelType: 8 },
        ],
      },
    ],
    [
      "AS4_PATH",
      "c0 11 06 | 02 01 fa56ea00",
      { kind: "as4-path", flags: 0xc0, segments: [{ type: 2, asns: [4200000000] }] },
      AS2,
    ],
    [
      "AS4_AGGREGATOR",
      "c0 12 08 fa56ea00 c0000201",
      { kind: "as4-aggregator", flags: 0xc0, asn: 4200000000, address: "192.0.2.1" },
      AS2,
    ],
    [
      "PMSI_TUNNEL ingress replication (field notes)",
      "C0 16 09 | 00 | 06 | AA BB CC | 01 01 01 01",
      {
        kind: "pmsi-tunnel",
        flags: 0xc0,
        tunnelFlags: 0,
        tunnelType: 6,
        label: 0xaabbcc,
        endpoint: "1.1.1.1",
      },
    ],
    [
      "PMSI_TUNNEL ingress replication IPv6",
      "c0 16 15 | 00 | 06 | 00 00 0a | 20010db8000000000000000000000001",
      {
        kind: "pmsi-tunnel",
        flags: 0xc0,
        tunnelFlags: 0,
        tunnelType: 6,
        label: 10,
        endpoint: "2001:db8::1",
      },
    ],
    [
      "PMSI_TUNNEL PIM-SSM tree kept raw",
      "c0 16 0d | 01 | 03 | 00 00 00 | c0000201 e8000001",
      {
        kind: "pmsi-tunnel",
        flags: 0xc0,
        tunnelFlags: 1,
        tunnelType: 3,
        label: 0,
        tunnelId: h("c0000201e8000001"),
      },
    ],
    [
      "LARGE_COMMUNITIES",
      "c0 20 0c 0000fde8 00000001 00000002",
      {
        kind: "large-communities",
        flags: 0xc0,
        communities: [{ global: 65000, local1: 1, local2: 2 }],
      },
    ],
    [
      "unknown optional transitive",
      "e0 63 03 01 02 03",
      { kind: "unknown", flags: 0xe0, code: 99, value: h("010203") },
    ],
    [
      "unknown optional non-transitive",
      "80 64 02 ab cd",
      { kind: "unknown", flags: 0x80, code: 100, value: h("abcd") },
    ],
  ];
  for (const [name, vec, expected, ctx] of cases) test(name, () => attrRoundTrip(vec, expected, ctx));

  test("a value over 255 bytes gets the extended length flag when encoded", () => {
    const communities = Array.from({ length: 70 }, (_, i) => i);
    const w = new Writer(4);
    encodeAttribute(w, { kind: "communities", communities }, AS4);
    const b = w.finish();
    assert.equal(b[0], 0xd0);
    assert.equal((b[2]! << 8) | b[3]!, 280);
    const r = decodeAttributes(b, 0, b.length, AS4);
    assert.deepEqual(r.attributes[0], { kind: "communities", flags: 0xd0, communities });
  });

  test("locally built attributes get their standard flags", () => {
    const w = new Writer(4);
    encodeAttribute(w, { kind: "origin", origin: 0 }, AS4);
    encodeAttribute(w, { kind: "med", med: 5 }, AS4);
    encodeAttribute(w, { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: "192.0.2.1" }, AS4);
    assert.equal(hex(w.finish()), norm("40 01 01 00 | 80 04 04 00000005 | c0 16 09 00 06 00000a c0000201"));
  });

  test("4-octet ASes become AS_TRANS towards a 2-octet speaker (RFC 6793 §4.2.2)", () => {
    const w = new Writer(4);
    encodeAttribute(w, { kind: "as-path", segments: [{ type: 2, asns: [4200000000, 65000] }] }, AS2);
    assert.equal(hex(w.finish()), norm("40 02 06 02 02 5ba0 fde8"));
  });
});

describe("messages", () => {
  const OPEN_BODY =
    "04 fde8 00b4 c0000201 29 | 02 27 | 01 04 0019 00 46 | 01 04 0001 00 01 | 02 00 | 46 00 | 06 00 | 41 04 0000fde8 | 40 06 8078 0019 46 80 | 49 05 03 667272 00";
  const cases: [string, Uint8Array][] = [
    ["KEEPALIVE", msg(4, "")],
    ["OPEN with every capability", msg(1, OPEN_BODY)],
    ["OPEN without optional parameters", msg(1, "04 fde8 0000 c0000201 00")],
    [
      "OPEN with RFC 9072 extended optional parameters",
      msg(1, "04 fde8 005a c0000201 ff ff 000b | 02 0008 | 41 04 fa56ea00 | 02 00"),
    ],
    [
      "OPEN with one parameter per capability",
      msg(1, "04 5ba0 005a c0000201 10 | 02 06 41 04 fa56ea00 | 02 06 01 04 0019 00 46"),
    ],
    ["NOTIFICATION Cease/Administrative Shutdown with communication", msg(3, "06 02 0b 6d61696e74656e616e6365")],
    ["NOTIFICATION Hold Timer Expired", msg(3, "04 00")],
    ["NOTIFICATION UPDATE error with data", msg(3, "03 05 40 01 02 0000")],
    ["ROUTE-REFRESH", msg(5, "0019 00 46")],
    ["ROUTE-REFRESH BoRR", msg(5, "0019 01 46")],
    ["ROUTE-REFRESH EoRR", msg(5, "0019 02 46")],
    ["ROUTE-REFRESH with ORF entries", msg(5, "0001 00 01 01 0003 aabbcc")],
    [
      "UPDATE IPv4 with withdrawn routes and NLRI",
      msg(2, "0004 18 c63364 | 000e | 40 01 01 00 | 40 02 00 | 40 03 04 c0000201 | 18 cb0071"),
    ],
    ["UPDATE End-of-RIB IPv4 (empty)", msg(2, "0000 0000")],
    ["UPDATE End-of-RIB EVPN", updateWithAttrs("90 0f 0003 0019 46")],
    [
      "UPDATE proxied IMET (field notes vectors)",
      updateWithAttrs(
        `40 01 01 00 | 40 02 00 | 40 05 04 00000064 | c0 10 10 0002fde80000deed 030c000000000008 | C0 16 09 00 06 AABBCC 01010101 | 90 0e 001c 0019 46 04 01010101 00 ${T3_NLRI}`,
      ),
    ],
    [
      "UPDATE type-2 withdrawals",
      updateWithAttrs(
        `90 0f 004d | 0019 46 | 02 21 ${RD1} ${"00".repeat(10)} 00000000 30 001122334401 00 aabbcc | 02 25 ${RD1} ${"00".repeat(10)} 00000000 30 001122334401 20 0a000065 aabbcc`,
      ),
    ],
  ];
  for (const [name, b] of cases) {
    test(name, () => {
      const r = decodeMessage(b);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
      assert.equal(r.action, null);
      assert.deepEqual(r.errors, []);
      assert.equal(hex(encodeMessage(r.message)), hex(b));
    });
  }

  test("OPEN decodes to typed capabilities", () => {
    const r = decodeMessage(msg(1, OPEN_BODY));
    assert.ok(r.ok);
    assert.deepEqual(r.message, {
      type: 1,
      version: 4,
      myAs: 65000,
      holdTime: 180,
      bgpId: "192.0.2.1",
      params: [
        {
          type: 2,
          capabilities: [
            { code: 1, afi: 25, safi: 70, reserved: 0 },
            { code: 1, afi: 1, safi: 1, reserved: 0 },
            { code: 2 },
            { code: 70 },
            { code: 6 },
            { code: 65, asn: 65000 },
            {
              code: 64,
              restartFlags: 8,
              restartTime: 120,
              families: [{ afi: 25, safi: 70, flags: 0x80 }],
            },
            { code: "unknown", type: 73, value: h("03667272 00") },
          ],
        },
      ],
    });
  });

  test("UPDATE with IPv4 NLRI decodes to prefixes", () => {
    const r = decodeMessage(msg(2, "0004 18 c63364 | 000e | 40 01 01 00 | 40 02 00 | 40 03 04 c0000201 | 18 cb0071"));
    assert.ok(r.ok && r.message.type === 2);
    assert.deepEqual(r.message.withdrawn, ["198.51.100.0/24"]);
    assert.deepEqual(r.message.nlri, ["203.0.113.0/24"]);
  });

  test("ROUTE-REFRESH subtypes", () => {
    const r = decodeMessage(msg(5, "0019 01 46"));
    assert.ok(r.ok);
    assert.deepEqual(r.message, { type: 5, afi: 25, safi: 70, subtype: 1 });
  });
});

describe("encoder input checks", () => {
  test("a Writer of size 0 grows", () => {
    const w = new Writer(0);
    w.u32(1);
    assert.equal(hex(w.finish()), "00000001");
  });
  test("an unknown route type longer than 255 bytes is refused", () => {
    assert.throws(
      () => encodeEvpnRoute(new Writer(), { routeType: "unknown", code: 9, value: new Uint8Array(256) }),
      /at most 255/,
    );
  });
  test("prefixes without a length are refused", () => {
    const r: EvpnRoute = {
      routeType: 5,
      rd: "192.0.2.1:1",
      esi: ESI0,
      ethernetTag: 0,
      prefix: "203.0.113.0/",
      gateway: "0.0.0.0",
      label: 1,
    };
    assert.throws(() => encodeEvpnRoute(new Writer(), r), /prefix/);
    assert.throws(() => encodeMessage({ type: 2, withdrawn: [], attributes: [], nlri: ["203.0.113.0/"] }), /prefix/);
  });
});
