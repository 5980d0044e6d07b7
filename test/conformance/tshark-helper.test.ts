// Exercises test/helpers/tshark.ts on hand-assembled BGP messages (independent of src/).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { requireTools } from "../helpers/env.js";
import { h } from "../helpers/hex.js";
import { all, dissectBgp, type FieldMap, first, formatRd } from "../helpers/tshark.js";

const TOOLS = ["tshark", "text2pcap"];

const hex = h;

function cat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function bgpMessage(type: number, body: Uint8Array): Uint8Array {
  return cat(new Uint8Array(16).fill(0xff), u16(19 + body.length), Uint8Array.of(type), body);
}

function update(...attrs: Uint8Array[]): Uint8Array {
  const pathAttrs = cat(...attrs);
  return bgpMessage(2, cat(u16(0), u16(pathAttrs.length), pathAttrs));
}

/** MP_REACH_NLRI, L2VPN/EVPN, IPv4 next hop, extended length. */
function mpReachEvpn(nextHop: string, ...nlri: string[]): Uint8Array {
  const value = cat(hex("00 19 46 04"), hex(nextHop), hex("00"), ...nlri.map(hex));
  return cat(hex("90 0e"), u16(value.length), value);
}

const RD = "00 01 01 01 01 01 DE ED"; // type 1, 1.1.1.1:57069
const ESI0 = "00".repeat(10);
const ORIGIN_IGP = hex("40 01 01 00");
const AS_PATH_EMPTY = hex("40 02 00");
const LOCAL_PREF_100 = hex("40 05 04 00 00 00 64");
const RT = "00 02 FD E8 00 00 DE ED";
const ENCAP_VXLAN = "03 0C 00 00 00 00 00 08";
const MAC_MOBILITY_SEQ1 = "06 00 00 00 00 00 00 01";
const MAC_MOBILITY_STICKY = "06 00 01 00 00 00 00 00";
const PMSI_IR = hex("C0 16 09 | 00 | 06 | AA BB CC | 01 01 01 01");

function extCommunities(...communities: string[]): Uint8Array {
  const value = cat(...communities.map(hex));
  return cat(hex("C0 10"), Uint8Array.of(value.length), value);
}

const TYPE3 = `03 11 | ${RD} | 00 00 00 00 | 20 | 01 01 01 01`;
const TYPE2_WITH_IP = `02 25 | ${RD} | ${ESI0} | 00 00 00 00 | 30 | 00 11 22 33 44 01 | 20 | 0A 00 00 65 | AA BB CC`;
const TYPE2_NO_IP = `02 21 | ${RD} | ${ESI0} | 00 00 00 00 | 30 | 00 11 22 33 44 02 | 00 | AA BB CC`;

// Attributes in ascending type-code order, as RFC 4271 recommends and an encoder would send them.
const UPDATE_TYPE3 = update(
  ORIGIN_IGP,
  AS_PATH_EMPTY,
  LOCAL_PREF_100,
  mpReachEvpn("01 01 01 01", TYPE3),
  extCommunities(RT, ENCAP_VXLAN, MAC_MOBILITY_SEQ1, MAC_MOBILITY_STICKY),
  PMSI_IR,
);
const UPDATE_TYPE2 = update(
  ORIGIN_IGP,
  AS_PATH_EMPTY,
  LOCAL_PREF_100,
  mpReachEvpn("01 01 01 01", TYPE2_WITH_IP, TYPE2_NO_IP),
  extCommunities(RT, ENCAP_VXLAN),
);
const KEEPALIVE = bgpMessage(4, new Uint8Array(0));

function one(fields: FieldMap, name: string): string {
  const values = all(fields, name);
  assert.equal(values.length, 1, `${name}: expected one value, got ${JSON.stringify(values)}`);
  return values[0];
}

describe("tshark helper", () => {
  test("formatRd renders RDs like tshark's text view", () => {
    assert.equal(formatRd("00:01:01:01:01:01:de:ed"), "1.1.1.1:57069");
    assert.equal(formatRd("00:00:fd:e8:00:00:00:64"), "65000:100");
    assert.equal(formatRd("00:02:00:01:00:00:00:64"), "65536:100");
    assert.equal(formatRd("00:03:01:02:03:04:05:06"), "Unknown (0x0003) RD type");
    assert.throws(() => formatRd("00:01"));
  });

  test("dissects a type 3 UPDATE with PMSI and extended communities", async (t) => {
    if (!requireTools(t, TOOLS)) return;
    const frames = await dissectBgp([KEEPALIVE, UPDATE_TYPE3]);
    assert.equal(frames.length, 2);
    for (const f of frames) assert.deepEqual(f.problems, [], `frame ${f.frame}`);

    assert.equal(frames[0].frame, 1);
    assert.equal(frames[0].messages.length, 1);
    assert.equal(frames[0].messages[0].type, 4);

    const [msg] = frames[1].messages;
    assert.equal(frames[1].messages.length, 1);
    assert.equal(msg.type, 2);
    const f = msg.fields;
    assert.equal(one(f, "bgp.length"), String(UPDATE_TYPE3.length));
    assert.equal(one(f, "bgp.update.path_attribute.origin"), "0");
    assert.equal(one(f, "bgp.update.path_attribute.local_pref"), "100");
    assert.equal(one(f, "bgp.update.path_attribute.mp_reach_nlri.afi"), "25");
    assert.equal(one(f, "bgp.update.path_attribute.mp_reach_nlri.safi"), "70");
    assert.equal(one(f, "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4"), "1.1.1.1");
    // Route target 65000:57069, VXLAN encapsulation, MAC mobility seq 1 and sticky.
    assert.equal(one(f, "bgp.ext_com.value_as2"), "65000");
    assert.equal(one(f, "bgp.ext_com.value_an4"), "57069");
    assert.equal(one(f, "bgp.ext_com.tunnel_type"), "8");
    assert.deepEqual(all(f, "bgp.ext_com_evpn.mmac.seq"), ["1", "0"]);
    assert.deepEqual(all(f, "bgp.ext_com_evpn.mmac.flags.sticky"), ["0", "1"]);
    // PMSI: ingress replication to 1.1.1.1; the VXLAN encapsulation community came first, so
    // tshark shows the 3-byte label as a 24-bit VNI.
    assert.equal(one(f, "bgp.update.path_attribute.pmsi.tunnel.type"), "6");
    assert.equal(one(f, "bgp.update.path_attribute.pmsi.ingress_rep_ip"), "1.1.1.1");
    assert.equal(one(f, "bgp.evpn.nlri.vni"), String(0xaabbcc));

    assert.equal(msg.nlri.length, 1);
    assert.equal(msg.withdrawn.length, 0);
    const r = msg.nlri[0];
    assert.equal(one(r, "bgp.evpn.nlri.rt"), "3");
    assert.equal(one(r, "bgp.evpn.nlri.len"), "17");
    assert.equal(one(r, "bgp.evpn.nlri.rd"), "00:01:01:01:01:01:de:ed");
    assert.equal(formatRd(one(r, "bgp.evpn.nlri.rd")), "1.1.1.1:57069");
    assert.equal(one(r, "bgp.evpn.nlri.etag"), "0");
    assert.equal(one(r, "bgp.evpn.nlri.iplen"), "32");
    assert.equal(one(r, "bgp.evpn.nlri.ip.addr"), "1.1.1.1"); // originating router
    // NLRI maps hold only their own subtree.
    assert.equal(first(r, "bgp.update.path_attribute.origin"), undefined);
  });

  test("dissects an UPDATE with two type 2 routes", async (t) => {
    if (!requireTools(t, TOOLS)) return;
    const [frame] = await dissectBgp([UPDATE_TYPE2]);
    // The route without IP raises a NOTE ("IP Address: NOT INCLUDED"), which is not a problem.
    assert.deepEqual(frame.problems, []);
    const [msg] = frame.messages;
    assert.equal(msg.type, 2);
    assert.equal(msg.nlri.length, 2);
    const [a, b] = msg.nlri;
    for (const r of [a, b]) {
      assert.equal(one(r, "bgp.evpn.nlri.rt"), "2");
      assert.equal(formatRd(one(r, "bgp.evpn.nlri.rd")), "1.1.1.1:57069");
      assert.equal(one(r, "bgp.evpn.nlri.esi"), "00:00:00:00:00:00:00:00:00:00");
      assert.equal(one(r, "bgp.evpn.nlri.esi.type"), "0");
      assert.equal(one(r, "bgp.evpn.nlri.etag"), "0");
      assert.equal(one(r, "bgp.evpn.nlri.maclen"), "48");
      // MP_REACH precedes the encapsulation community, so tshark decodes the label as a 20-bit
      // MPLS label: VNI 0xAABBCC shows as 0xAABBC.
      assert.equal(one(r, "bgp.evpn.nlri.mpls_ls1"), String(0xaabbcc >> 4));
      assert.equal(first(r, "bgp.evpn.nlri.mpls_ls2"), undefined);
    }
    assert.equal(one(a, "bgp.evpn.nlri.len"), "37");
    assert.equal(one(a, "bgp.evpn.nlri.mac_addr"), "00:11:22:33:44:01");
    assert.equal(one(a, "bgp.evpn.nlri.iplen"), "32");
    assert.equal(one(a, "bgp.evpn.nlri.ip.addr"), "10.0.0.101");
    assert.equal(one(b, "bgp.evpn.nlri.len"), "33");
    assert.equal(one(b, "bgp.evpn.nlri.mac_addr"), "00:11:22:33:44:02");
    assert.equal(one(b, "bgp.evpn.nlri.iplen"), "0");
    assert.equal(first(b, "bgp.evpn.nlri.ip.addr"), undefined);
    // Message-level map holds the values of all routes, in order.
    assert.deepEqual(all(msg.fields, "bgp.evpn.nlri.mac_addr"), ["00:11:22:33:44:01", "00:11:22:33:44:02"]);
  });

  test("several messages in one frame, a withdrawal and a non-default port", async (t) => {
    if (!requireTools(t, TOOLS)) return;
    const withdraw = update(
      cat(hex("90 0f"), u16(3 + 19), hex("00 19 46"), hex(TYPE3)), // MP_UNREACH_NLRI
    );
    const frames = await dissectBgp([[KEEPALIVE, UPDATE_TYPE3, KEEPALIVE], withdraw], {
      port: 1179,
    });
    for (const f of frames) assert.deepEqual(f.problems, [], `frame ${f.frame}`);
    assert.deepEqual(
      frames[0].messages.map((m) => m.type),
      [4, 2, 4],
    );
    assert.equal(frames[0].messages[1].nlri.length, 1);
    const [w] = frames[1].messages;
    assert.equal(w.nlri.length, 0);
    assert.equal(w.withdrawn.length, 1);
    assert.equal(one(w.withdrawn[0], "bgp.evpn.nlri.rt"), "3");
    assert.equal(one(w.withdrawn[0], "bgp.evpn.nlri.ip.addr"), "1.1.1.1");
  });

  test("reports problems for malformed messages", async (t) => {
    if (!requireTools(t, TOOLS)) return;
    // MP_REACH_NLRI whose attribute length (0x40) overruns the path attributes: the type 3 NLRI
    // is followed by nothing. tshark: "Path attribute length is invalid" (error) + malformed.
    const overrun = update(ORIGIN_IGP, AS_PATH_EMPTY, cat(hex("90 0e 00 40 00 19 46 04 01 01 01 01 00"), hex(TYPE3)));
    // EVPN route type 9 does not exist: "Invalid EVPN Route Type" (error) + malformed.
    const badRouteType = update(
      mpReachEvpn("01 01 01 01", `09 11 | ${RD} | 00 00 00 00 | 20 | 01 01 01 01`),
      ORIGIN_IGP,
      AS_PATH_EMPTY,
    );
    // Broken marker: tshark does not see a BGP message at all (only "bgp.continuation").
    const badMarker = KEEPALIVE.slice();
    badMarker[0] = 0;

    const frames = await dissectBgp([KEEPALIVE, overrun, badRouteType, badMarker, KEEPALIVE]);
    assert.equal(frames.length, 5);
    assert.deepEqual(frames[0].problems, []);
    assert.deepEqual(frames[4].problems, []);

    const [, o, r, m] = frames;
    assert.ok(o.problems.length > 0);
    assert.ok(
      o.problems.some((p) => p.includes("expert error: Path attribute length is invalid")),
      o.problems.join("\n"),
    );
    assert.ok(
      o.problems.some((p) => p.includes("_ws.malformed")),
      o.problems.join("\n"),
    );
    assert.ok(
      o.problems.some((p) => p.startsWith("display filter matched")),
      o.problems.join("\n"),
    );

    assert.ok(
      r.problems.some((p) => p.includes("Invalid EVPN Route Type (9) [bgp.evpn.type]")),
      r.problems.join("\n"),
    );
    assert.ok(
      r.problems.some((p) => p.startsWith("display filter matched")),
      r.problems.join("\n"),
    );

    assert.ok(
      m.problems.some((p) => p.includes("not recognised as a BGP message")),
      m.problems.join("\n"),
    );
  });
});
