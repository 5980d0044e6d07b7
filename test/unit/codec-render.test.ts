// Rendering: FRR notation, stable JSON, helpers for addresses, ESIs, OPEN and NOTIFICATION.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  attributesForPropagation,
  capabilitiesOf,
  ceaseNotification,
  decodeMessage,
  describeEsi,
  describeNotification,
  encodeMessage,
  endOfRib,
  endOfRibFamily,
  evpnRouteToJson,
  formatEvpnPrefix,
  formatEvpnRoute,
  formatExtCommunity,
  macIpRoute,
  makeEsi,
  makeOpen,
  messageToJson,
  normalizeIp,
  normalizeMac,
  normalizeRd,
  peerAsOf,
} from "../../src/codec/index.js";
import { hex, msg } from "../helpers/hex.js";

describe("FRR notation", () => {
  test("type 2 with and without IP, as in the issue", () => {
    const r = macIpRoute({
      rd: "192.0.2.1:10",
      mac: "02:00:00:00:01:01",
      ip: "198.51.100.101",
      label1: 10,
    });
    assert.equal(formatEvpnPrefix(r), "[2]:[0]:[48]:[02:00:00:00:01:01]:[32]:[198.51.100.101]");
    assert.equal(formatEvpnRoute(r), "192.0.2.1:10 [2]:[0]:[48]:[02:00:00:00:01:01]:[32]:[198.51.100.101]");
    assert.equal(formatEvpnPrefix({ ...r, ip: undefined }), "[2]:[0]:[48]:[02:00:00:00:01:01]");
    assert.equal(formatEvpnPrefix({ ...r, ip: "2001:db8::1" }), "[2]:[0]:[48]:[02:00:00:00:01:01]:[128]:[2001:db8::1]");
  });
  test("types 1, 3, 4, 5 and unknown", () => {
    const esi = "00:11:22:33:44:55:66:77:88:99";
    assert.equal(
      formatEvpnPrefix({ routeType: 1, rd: "192.0.2.1:1", esi, ethernetTag: 4294967295, label: 0 }),
      `[1]:[4294967295]:[${esi}]`,
    );
    assert.equal(
      formatEvpnPrefix({
        routeType: 3,
        rd: "192.0.2.1:1",
        ethernetTag: 0,
        originator: "192.0.2.1",
      }),
      "[3]:[0]:[32]:[192.0.2.1]",
    );
    assert.equal(
      formatEvpnPrefix({ routeType: 4, rd: "192.0.2.1:1", esi, originator: "2001:db8::1" }),
      `[4]:[${esi}]:[128]:[2001:db8::1]`,
    );
    assert.equal(
      formatEvpnPrefix({
        routeType: 5,
        rd: "192.0.2.1:1",
        esi,
        ethernetTag: 0,
        prefix: "203.0.113.0/24",
        gateway: "0.0.0.0",
        label: 5,
      }),
      "[5]:[0]:[24]:[203.0.113.0]",
    );
    assert.equal(formatEvpnPrefix({ routeType: "unknown", code: 9, value: Uint8Array.of(1, 2) }), "[9]:[0102]");
  });
  test("extended communities in words", () => {
    assert.equal(formatExtCommunity({ kind: "route-target", value: "65000:10" }), "RT:65000:10");
    assert.equal(formatExtCommunity({ kind: "mac-mobility", flags: 1, sequence: 3 }), "MM:3, sticky MAC");
    assert.equal(formatExtCommunity({ kind: "encapsulation", tunnelType: 8 }), "ET:8");
    assert.equal(formatExtCommunity({ kind: "arp-nd", flags: 0x09 }), "ND:Router,Immutable");
  });
});

describe("stable JSON", () => {
  test("routes have a fixed key order whatever the construction order", () => {
    const a = macIpRoute({ rd: "192.0.2.1:10", mac: "02:00:00:00:01:01", label1: 10 });
    const b = {
      label2: undefined,
      label1: 10,
      ip: undefined,
      mac: "02:00:00:00:01:01",
      ethernetTag: 0,
      esi: a.esi,
      rd: a.rd,
      routeType: 2 as const,
    };
    assert.equal(JSON.stringify(evpnRouteToJson(a)), JSON.stringify(evpnRouteToJson(b)));
    assert.equal(
      JSON.stringify(evpnRouteToJson(a)),
      '{"routeType":2,"rd":"192.0.2.1:10","esi":"00:00:00:00:00:00:00:00:00:00","ethernetTag":0,"mac":"02:00:00:00:01:01","label1":10}',
    );
  });
  test("messages: bytes as hex, NOTIFICATION with words and communication", () => {
    const n = ceaseNotification(2, "maintenance");
    assert.deepEqual(messageToJson(n), {
      type: 3,
      code: 6,
      subcode: 2,
      data: "0b6d61696e74656e616e6365",
      text: "Cease / Administrative Shutdown",
      communication: "maintenance",
    });
    assert.equal(describeNotification(n), 'Cease / Administrative Shutdown: "maintenance"');
    const u = decodeMessage(msg(2, "0000 0010 90 0f 000c 0019 46 09 07 00000000000000"));
    assert.ok(u.ok);
    assert.deepEqual(messageToJson(u.message), {
      type: 2,
      withdrawn: [],
      attributes: [
        {
          kind: "mp-unreach",
          afi: 25,
          flags: 144,
          nlri: {
            family: "evpn",
            routes: [{ routeType: "unknown", code: 9, value: "00000000000000" }],
          },
          safi: 70,
        },
      ],
      nlri: [],
    });
  });
});

describe("helpers", () => {
  test("normalisation of addresses and RDs", () => {
    assert.equal(normalizeMac("02-00-00-00-01-0A"), "02:00:00:00:01:0a");
    assert.equal(normalizeMac("02:00:00:00:01"), null);
    assert.equal(normalizeIp("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
    assert.equal(normalizeIp("::ffff:192.0.2.1"), "::ffff:c000:201");
    assert.equal(normalizeIp("2001:db8::1::2"), null);
    assert.equal(normalizeIp("192.0.2.01"), null);
    assert.equal(normalizeIp("192.0.2.256"), null);
    assert.equal(normalizeRd("192.0.2.1:010"), "192.0.2.1:10");
    assert.equal(normalizeRd("70000:1"), "70000:1");
    assert.equal(normalizeRd("70000:65536"), null);
  });
  test("ESI types 0–5 (RFC 7432 §5)", () => {
    const cases = [
      { type: 0, value: "112233445566778899" },
      { type: 1, systemMac: "02:00:00:00:00:01", portKey: 258 },
      { type: 2, rootBridgeMac: "02:00:00:00:00:02", rootBridgePriority: 32768 },
      { type: 3, systemMac: "02:00:00:00:00:03", localDiscriminator: 0x010203 },
      { type: 4, routerId: "192.0.2.1", localDiscriminator: 7 },
      { type: 5, asn: 4200000000, localDiscriminator: 9 },
    ] as const;
    for (const f of cases) {
      const esi = makeEsi(f);
      assert.ok(esi !== null);
      assert.equal(esi.slice(0, 2), `0${f.type}`);
      assert.deepEqual(describeEsi(esi), f);
    }
    assert.equal(makeEsi({ type: 4, routerId: "192.0.2.1", localDiscriminator: 7 }), "04:c0:00:02:01:00:00:00:07:00");
  });
  test("OPEN builder and capability helpers", () => {
    const open = makeOpen({
      asn: 4200000000,
      holdTime: 90,
      bgpId: "192.0.2.4",
      capabilities: [{ code: 65, asn: 4200000000 }, { code: 2 }],
    });
    assert.equal(open.myAs, 23456);
    assert.equal(peerAsOf(open), 4200000000);
    const r = decodeMessage(encodeMessage(open));
    assert.ok(r.ok && r.message.type === 1);
    assert.deepEqual(capabilitiesOf(r.message), [{ code: 65, asn: 4200000000 }, { code: 2 }]);
  });
  test("End-of-RIB markers (RFC 4724 §2)", () => {
    assert.equal(
      hex(encodeMessage(endOfRib(25, 70))),
      `${"ff".repeat(16)}001e020000000790 0f00030019 46`.replace(/ /g, ""),
    );
    assert.deepEqual(endOfRibFamily(endOfRib(25, 70)), { afi: 25, safi: 70 });
    assert.deepEqual(endOfRibFamily(endOfRib(1, 1)), { afi: 1, safi: 1 });
    assert.equal(endOfRibFamily({ type: 2, withdrawn: ["192.0.2.0/24"], attributes: [], nlri: [] }), null);
  });
  test("propagation sets the partial bit on unknown optional transitive attributes", () => {
    const out = attributesForPropagation([
      { kind: "origin", origin: 0 },
      { kind: "unknown", flags: 0xc0, code: 99, value: new Uint8Array(1) },
      { kind: "unknown", flags: 0x80, code: 100, value: new Uint8Array(1) },
    ]);
    assert.deepEqual(
      out.map((a) => [a.kind, a.flags]),
      [
        ["origin", undefined],
        ["unknown", 0xe0],
      ],
    );
  });
});
