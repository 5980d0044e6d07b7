// The frames the proxy sends: every builder against a hand-checked vector (test/helpers/
// wire-vectors.ts for inner frames; the outer headers below, checksums computed independently
// with Python), the address helpers, caller mistakes, and round trips through the decoder.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ipBytes } from "../../src/net/addr.js";
import {
  type ArpNdMessage,
  decodeArpNdInto,
  NA_OVERRIDE,
  NA_ROUTER,
  NA_SOLICITED,
  newArpNdMessage,
} from "../../src/wire/arpnd.js";
import {
  buildArpRefresh,
  buildArpReply,
  buildGratuitousArp,
  buildNaReply,
  buildNsRefresh,
  buildOuterIpv4Udp,
  buildOuterIpv6Udp,
  buildUnsolicitedNa,
  buildVxlanHeader,
  linkLocalFromMac,
  NO_TAGS,
  OUTER_IPV4_UDP_LENGTH,
  OUTER_IPV6_UDP_LENGTH,
  payloadSum,
  proxyIdentity,
  proxyMacFromAddress,
  VXLAN_HEADER_LENGTH,
  vxlanSourcePort,
} from "../../src/wire/frames.js";
import { decodeIp } from "../../src/wire/packet.js";
import { h, hex, norm } from "../helpers/hex.js";
import {
  decodedWire,
  H2,
  H2_IP6,
  H2_MAC,
  H2_V4,
  H2_V6,
  internetChecksum,
  macBytes as mac,
  PROXY,
  PROXY_LL,
  PROXY_MAC,
  pseudoHeader,
  W,
  wire,
  type WireName,
} from "../helpers/wire-vectors.js";

const OFF = 5;

/**
 * Runs a builder at offset OFF of a buffer filled with 0xee; checks the returned length and that
 * nothing outside it was written; returns the hex of the frame.
 */
function built(build: (out: Uint8Array, off: number) => number): string {
  const out = new Uint8Array(300).fill(0xee);
  const n = build(out, OFF);
  assert.ok(
    out.subarray(0, OFF).every((x) => x === 0xee),
    "bytes before the frame untouched",
  );
  assert.ok(
    out.subarray(OFF + n).every((x) => x === 0xee),
    "bytes after the frame untouched",
  );
  return hex(out.subarray(OFF, OFF + n));
}

function expected(n: WireName): string {
  return norm(W[n].replace(/\s/g, ""));
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return "no error";
}

describe("ARP", () => {
  test("reply to a request: to the requester from the answered MAC, sender/target swapped", () => {
    assert.equal(
      built((o, off) => buildArpReply(o, off, decodedWire("arp-request"), H2)),
      expected("arp-reply"),
    );
  });

  test("the reply keeps the request's 802.1Q and QinQ tags", () => {
    assert.equal(
      built((o, off) => buildArpReply(o, off, decodedWire("arp-request-dot1q"), H2)),
      expected("arp-reply-dot1q"),
    );
    assert.equal(
      built((o, off) => buildArpReply(o, off, decodedWire("arp-request-qinq"), H2)),
      expected("arp-reply-qinq"),
    );
  });

  test("reply to a probe: target IP 0.0.0.0, as Linux answers", () => {
    assert.equal(
      built((o, off) => buildArpReply(o, off, decodedWire("arp-probe"), H2)),
      expected("arp-probe-reply"),
    );
  });

  test("the answered MAC may sit at an offset of a column", () => {
    const column = new Uint8Array(18);
    column.set(H2, 12);
    assert.equal(
      built((o, off) => buildArpReply(o, off, decodedWire("arp-request"), column, 12)),
      expected("arp-reply"),
    );
  });

  test("gratuitous ARP (announcement) and the refresh probe", () => {
    assert.equal(
      built((o, off) => buildGratuitousArp(o, off, H2, 0, H2_V4)),
      expected("garp"),
    );
    assert.equal(
      built((o, off) => buildArpRefresh(o, off, PROXY, H2, 0, H2_V4)),
      expected("arp-refresh"),
    );
    // tagged: the tag bytes follow the source MAC
    assert.equal(
      built((o, off) => buildGratuitousArp(o, off, H2, 0, H2_V4, h("8100001e"))),
      norm(
        "ffffffffffff 020000000102 8100001e 0806 0001080006040001 020000000102 c6336402 000000000000 c6336402".replace(
          /\s/g,
          "",
        ),
      ),
    );
  });
});

describe("neighbour discovery", () => {
  test("NA answering an NS: S set, O from the entry, TLLA, to the NS source", () => {
    assert.equal(
      built((o, off) => buildNaReply(o, off, decodedWire("ns"), H2, 0, NA_OVERRIDE)),
      expected("na-reply-so"),
    );
    assert.equal(
      built((o, off) => buildNaReply(o, off, decodedWire("ns"), H2, 0, NA_ROUTER | NA_OVERRIDE)),
      expected("na-reply-rso"),
    );
  });

  test("the NA keeps the NS's tags; without an SLLA it goes to the frame's source MAC", () => {
    assert.equal(
      built((o, off) => buildNaReply(o, off, decodedWire("ns-dot1q"), H2, 0, NA_ROUTER | NA_OVERRIDE)),
      expected("na-reply-rso-dot1q"),
    );
    assert.equal(
      built((o, off) => buildNaReply(o, off, decodedWire("ns-no-slla"), H2, 0, NA_OVERRIDE)),
      expected("na-reply-so"),
    );
  });

  test("NA answering a DAD NS: to ff02::1, S clear even when asked for", () => {
    assert.equal(
      built((o, off) => buildNaReply(o, off, decodedWire("ns-dad"), H2, 0, NA_OVERRIDE | NA_SOLICITED)),
      expected("na-all-nodes"),
    );
  });

  test("unsolicited NA: to ff02::1, S clear, O from the entry", () => {
    assert.equal(
      built((o, off) => buildUnsolicitedNa(o, off, H2, 0, H2_V6, 0, NA_OVERRIDE | NA_SOLICITED)),
      expected("na-all-nodes"),
    );
  });

  test("refresh NS: unicast MAC, solicited-node group, from the proxy's link-local with its SLLA", () => {
    assert.equal(
      built((o, off) => buildNsRefresh(o, off, PROXY, H2, 0, H2_V6, 0)),
      expected("ns-refresh"),
    );
  });
});

// Outer vectors. IPv4: 192.0.2.4 -> 192.0.2.1, identification 0x1234, DF clear, TTL 64, UDP,
// header checksum 0xe465; UDP 53812 (0xd234) -> 4789, length 58, checksum 0; VXLAN VNI 10; the
// ARP reply. IPv6: 2001:db8::4 -> 2001:db8::1, payload 102, next header UDP, hop limit 64; UDP
// length 102, checksum 0x851b; VXLAN VNI 10; the NA with R/S/O.
const OUTER4 =
  "45 00 004e 1234 0000 40 11 e465 c0000204 c0000201 | d234 12b5 003a 0000 | 08 000000 00000a 00 | " + W["arp-reply"];
const OUTER6 =
  "60000000 0066 11 40 20010db8000000000000000000000004 20010db8000000000000000000000001 | d234 12b5 0066 851b" +
  " | 08 000000 00000a 00 | " +
  W["na-reply-rso"];

describe("VXLAN and outer headers", () => {
  test("VXLAN header: I flag, 24-bit VNI", () => {
    assert.equal(
      built((o, off) => buildVxlanHeader(o, off, 10)),
      "0800000000000a00",
    );
    assert.equal(
      built((o, off) => buildVxlanHeader(o, off, 0xaabbcc)),
      "08000000aabbcc00",
    );
    assert.equal(
      built((o, off) => buildVxlanHeader(o, off, 0xffffff)),
      "08000000ffffff00",
    );
  });

  test("an IPv4 datagram: inner frame, then VXLAN, then the outer header", () => {
    const got = built((o, off) => {
      const inner = buildArpReply(o, off + OUTER_IPV4_UDP_LENGTH + VXLAN_HEADER_LENGTH, decodedWire("arp-request"), H2);
      buildVxlanHeader(o, off + OUTER_IPV4_UDP_LENGTH, 10);
      const payload = VXLAN_HEADER_LENGTH + inner;
      return buildOuterIpv4Udp(o, off, 0xc0000204, 0xc0000201, 0xd234, 4789, payload, 64, 0x1234) + payload;
    });
    assert.equal(got, norm(OUTER4.replace(/\s/g, "")));
    // the learning decoder reads it as a datagram from 192.0.2.4 teaching H2
    const r = decodeIp(h(got));
    assert.ok(r.ok);
    assert.deepEqual([r.value.vtep, r.value.vni, r.value.mac, r.value.kind], ["192.0.2.4", 10, H2_MAC, "arp-reply"]);
  });

  test("an IPv6 datagram: UDP checksum over the payload, or from its payloadSum", () => {
    const src = ipBytes("2001:db8::4")!;
    const dst = ipBytes("2001:db8::1")!;
    const build = (presum: boolean) => (o: Uint8Array, off: number) => {
      const at = off + OUTER_IPV6_UDP_LENGTH;
      const inner = buildNaReply(o, at + VXLAN_HEADER_LENGTH, decodedWire("ns"), H2, 0, NA_ROUTER | NA_OVERRIDE);
      buildVxlanHeader(o, at, 10);
      const payload = VXLAN_HEADER_LENGTH + inner;
      const sum = presum ? payloadSum(o, at, payload) : -1;
      return buildOuterIpv6Udp(o, off, src, dst, 0xd234, 4789, payload, 64, sum) + payload;
    };
    assert.equal(built(build(false)), norm(OUTER6.replace(/\s/g, "")));
    assert.equal(built(build(true)), norm(OUTER6.replace(/\s/g, "")));
    const r = decodeIp(h(built(build(false))));
    assert.ok(r.ok);
    assert.deepEqual([r.value.vtep, r.value.ip, r.value.mac], ["2001:db8::4", H2_IP6, H2_MAC]);
  });

  test("a UDP checksum that computes to 0 is sent as 0xffff", () => {
    // Find a payload whose checksum would be 0 by solving for its last word.
    const src = ipBytes("2001:db8::4")!;
    const dst = ipBytes("2001:db8::1")!;
    const out = new Uint8Array(OUTER_IPV6_UDP_LENGTH + 10);
    buildOuterIpv6Udp(out, 0, src, dst, 0xd234, 4789, 10, 64);
    const sum = (out[46]! << 8) | out[47]!;
    // Adding the current checksum into the last payload word makes the true sum 0xffff, i.e. a
    // computed checksum of 0 (sent as 0xffff; receivers accept both forms, RFC 1071 §1).
    out[OUTER_IPV6_UDP_LENGTH + 8] = sum >> 8;
    out[OUTER_IPV6_UDP_LENGTH + 9] = sum & 255;
    buildOuterIpv6Udp(out, 0, src, dst, 0xd234, 4789, 10, 64);
    assert.equal(hex(out.subarray(46, 48)), "ffff");
    const udp = out.subarray(40);
    assert.equal(internetChecksum([...pseudoHeader(out, 0, udp.length, 17), ...udp]), 0);
  });

  test("source port: FNV-1a of the inner Ethernet header, in 49152-65535", () => {
    assert.equal(vxlanSourcePort(wire("arp-reply"), 0), 0xec2b);
    assert.equal(vxlanSourcePort(wire("ns"), 0), 0xd365);
    const b = new Uint8Array(20);
    b.set(wire("ns").subarray(0, 14), 6);
    assert.equal(vxlanSourcePort(b, 6), 0xd365, "at an offset");
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 14, maxLength: 14 }), (x) => {
        const p = vxlanSourcePort(x, 0);
        assert.ok(p >= 49152 && p <= 65535);
      }),
    );
  });
});

describe("the proxy's addresses", () => {
  test("link-local from a MAC: modified EUI-64", () => {
    const out = new Uint8Array(16);
    const text = (m: string) => {
      linkLocalFromMac(mac(m), 0, out, 0);
      return hex(out);
    };
    assert.equal(text(PROXY_MAC), hex(ipBytes(PROXY_LL)!));
    assert.equal(text("02:00:00:00:00:01"), hex(ipBytes("fe80::ff:fe00:1")!));
    assert.equal(text("00:11:22:33:44:55"), hex(ipBytes("fe80::211:22ff:fe33:4455")!));
    assert.equal(hex(PROXY.linkLocal), hex(ipBytes(PROXY_LL)!));
  });

  test("proxy MAC from its address: 02:00 + IPv4, 02 + the low 40 bits of IPv6", () => {
    const out = new Uint8Array(7);
    const m = (ip: string) => {
      proxyMacFromAddress(ipBytes(ip)!, out, 1);
      return hex(out.subarray(1));
    };
    assert.equal(m("192.0.2.4"), hex(mac(PROXY_MAC)));
    assert.equal(m("2001:db8::4"), "020000000004");
    assert.equal(m("2001:db8::1:2:3:4"), "020200030004");
    assert.equal(
      code(() => proxyMacFromAddress(new Uint8Array(5), out)),
      "ERR_WIRE_ADDRESS",
    );
  });
});

describe("caller mistakes throw InvariantError", () => {
  test("buffer too small, wrong request kind, bad tags, oversized datagram", () => {
    const small = new Uint8Array(41);
    assert.equal(
      code(() => buildArpReply(small, 0, decodedWire("arp-request"), H2)),
      "ERR_WIRE_BUFFER",
    );
    assert.equal(
      code(() => buildGratuitousArp(new Uint8Array(50), 10, H2, 0, H2_V4)),
      "ERR_WIRE_BUFFER",
    );
    assert.equal(
      code(() => buildVxlanHeader(new Uint8Array(8), -1, 10)),
      "ERR_WIRE_BUFFER",
    );
    assert.equal(
      code(() => buildArpReply(new Uint8Array(99), 0, decodedWire("ns"), H2)),
      "ERR_WIRE_REQUEST",
    );
    assert.equal(
      code(() => buildArpReply(new Uint8Array(99), 0, decodedWire("garp"), H2)),
      "ERR_WIRE_REQUEST",
    );
    assert.equal(
      code(() => buildNaReply(new Uint8Array(99), 0, decodedWire("arp-request"), H2, 0, 0)),
      "ERR_WIRE_REQUEST",
    );
    assert.equal(
      code(() => buildNaReply(new Uint8Array(99), 0, decodedWire("na-reply-so"), H2, 0, 0)),
      "ERR_WIRE_REQUEST",
    );
    assert.equal(
      code(() => buildGratuitousArp(new Uint8Array(99), 0, H2, 0, 1, h("810000"))),
      "ERR_WIRE_TAGS",
    );
    assert.equal(
      code(() => buildOuterIpv4Udp(new Uint8Array(28), 0, 1, 2, 3, 4, 65535 - 27, 64, 0)),
      "ERR_WIRE_LENGTH",
    );
    assert.equal(
      code(() => buildOuterIpv4Udp(new Uint8Array(28), 0, 1, 2, 3, 4, 65535 - 28, 64, 0)),
      "no error",
    );
  });
});

// ---- round trips ----------------------------------------------------------------------------

const unicastMac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => {
    b[0] &= 0xfe;
    return b;
  })
  .filter((b) => b.some((x) => x !== 0));
const ipv4 = fc.integer({ min: 1, max: 0xffffffff });
/** Unicast IPv6 (not ff00::/8, not ::). */
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => b[0] !== 0xff && b.some((x) => x !== 0));
/** 0-2 tags: 802.1Q, or 802.1ad + 802.1Q, with random TCIs. */
const tags = fc.oneof(
  fc.constant(NO_TAGS),
  fc.integer({ min: 0, max: 0xffff }).map((tci) => h(`8100${tci.toString(16).padStart(4, "0")}`)),
  fc
    .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
    .map(([a, b]) => h(`88a8${a.toString(16).padStart(4, "0")}8100${b.toString(16).padStart(4, "0")}`)),
);
const naFlags = fc.integer({ min: 0, max: 255 });

/** A broadcast ARP request or probe (spa 0) from (sha, spa) for tpa, with tags, built apart from src/wire. */
function arpRequestFrame(sha: Uint8Array, spa: number, tpa: number, t: Uint8Array): Uint8Array {
  const u32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return Uint8Array.from([
    ...[255, 255, 255, 255, 255, 255],
    ...sha,
    ...t,
    8,
    6,
    ...[0, 1, 8, 0, 6, 4, 0, 1],
    ...sha,
    ...u32(spa),
    ...[0, 0, 0, 0, 0, 0],
    ...u32(tpa),
  ]);
}

function decodeOk(b: Uint8Array, end: number): ArpNdMessage {
  const m = newArpNdMessage();
  const r = decodeArpNdInto(m, b, 0, end);
  assert.equal(r, null);
  return m;
}

describe("round trips through the decoder", () => {
  test("ARP request or probe -> reply: the answered binding, back to the requester, same tags", () => {
    fc.assert(
      fc.property(unicastMac, fc.oneof(fc.constant(0), ipv4), ipv4, unicastMac, tags, (sha, spa, tpa, answer, t) => {
        fc.pre(spa !== tpa);
        const req = decodeOk(arpRequestFrame(sha, spa, tpa, t), 1000);
        assert.equal(req.kind, spa === 0 ? "arp-probe" : "arp-request");
        const out = new Uint8Array(100);
        const n = buildArpReply(out, 0, req, answer);
        const r = decodeOk(out, n);
        assert.equal(r.kind, "arp-reply");
        assert.deepEqual(out.subarray(0, 6), sha, "to the requester's MAC");
        assert.deepEqual(out.subarray(6, 12), answer, "from the answered MAC");
        assert.deepEqual(out.subarray(12, 12 + t.length), t, "the request's tags");
        assert.equal(r.tagCount, t.length / 4);
        assert.deepEqual(out.subarray(r.senderMac, r.senderMac + 6), answer);
        assert.equal(r.ipAt(r.senderIp), req.targetIpText());
        assert.equal(r.macAt(r.targetMac), req.macAt(req.senderMac));
        assert.equal(r.ipAt(r.targetIp), req.ipAt(req.senderIp));
      }),
    );
  });

  test("gratuitous ARP decodes as an announcement of the binding", () => {
    fc.assert(
      fc.property(unicastMac, ipv4, tags, (m, ip, t) => {
        const out = new Uint8Array(100);
        const r = decodeOk(out, buildGratuitousArp(out, 0, m, 0, ip, t));
        assert.equal(r.kind, "garp");
        assert.deepEqual(r.buf.subarray(r.senderMac, r.senderMac + 6), m);
        assert.equal(r.targetIpv4(), ip);
        assert.equal(r.tagCount, t.length / 4);
      }),
    );
  });

  test("ARP refresh decodes as a probe from the proxy; a reply to it is the host's binding", () => {
    fc.assert(
      fc.property(unicastMac, unicastMac, ipv4, tags, (proxyMac, host, ip, t) => {
        const proxy = proxyIdentity(proxyMac);
        const out = new Uint8Array(100);
        const probe = decodeOk(out, buildArpRefresh(out, 0, proxy, host, 0, ip, t));
        assert.equal(probe.kind, "arp-probe");
        assert.deepEqual(out.subarray(0, 6), host);
        assert.equal(probe.macAt(probe.senderMac), probe.macAt(probe.eth + 6));
        const back = new Uint8Array(100);
        const reply = decodeOk(back, buildArpReply(back, 0, probe, host));
        assert.equal(reply.kind, "arp-reply");
        assert.equal(reply.ipAt(reply.targetIp), "0.0.0.0");
        assert.deepEqual(back.subarray(0, 6), proxyMac, "the answer goes to the proxy's MAC");
      }),
    );
  });

  test("refresh NS -> NA: S set, R/O from the entry, TLLA, back to the proxy's link-local", () => {
    fc.assert(
      fc.property(unicastMac, unicastMac, ipv6, naFlags, tags, (proxyMac, host, ip6, flags, t) => {
        const proxy = proxyIdentity(proxyMac);
        const out = new Uint8Array(120);
        const ns = decodeOk(out, buildNsRefresh(out, 0, proxy, host, 0, ip6, 0, t));
        assert.equal(ns.kind, "ns");
        assert.deepEqual(out.subarray(ns.senderMac, ns.senderMac + 6), proxyMac);
        assert.deepEqual(out.subarray(ns.ipSrc, ns.ipSrc + 16), proxy.linkLocal);
        assert.deepEqual(out.subarray(ns.ipDst + 13, ns.ipDst + 16), ip6.subarray(13));
        assert.equal(hex(out.subarray(ns.ipDst, ns.ipDst + 13)), "ff0200000000000000000001ff");
        assert.deepEqual(out.subarray(ns.targetIp, ns.targetIp + 16), ip6);
        const back = new Uint8Array(120);
        const na = decodeOk(back, buildNaReply(back, 0, ns, host, 0, flags));
        assert.equal(na.kind, "na");
        assert.equal(na.naFlags, (flags & (NA_ROUTER | NA_OVERRIDE)) | NA_SOLICITED);
        assert.deepEqual(back.subarray(na.targetMac, na.targetMac + 6), host);
        assert.deepEqual(back.subarray(na.ipDst, na.ipDst + 16), proxy.linkLocal);
        assert.deepEqual(back.subarray(na.ipSrc, na.ipSrc + 16), ip6);
        assert.deepEqual(back.subarray(0, 6), proxyMac);
        assert.deepEqual(back.subarray(12, 12 + t.length), t);
      }),
    );
  });

  test("unsolicited NA decodes with S clear, to all nodes", () => {
    fc.assert(
      fc.property(unicastMac, ipv6, naFlags, tags, (m, ip6, flags, t) => {
        const out = new Uint8Array(120);
        const na = decodeOk(out, buildUnsolicitedNa(out, 0, m, 0, ip6, 0, flags, t));
        assert.equal(na.kind, "na");
        assert.equal(na.naFlags, flags & (NA_ROUTER | NA_OVERRIDE));
        assert.equal(na.ipAt(na.ipDst), "ff02::1");
        assert.equal(na.macAt(na.eth), "33:33:00:00:00:01");
        assert.deepEqual(out.subarray(na.targetMac, na.targetMac + 6), m);
      }),
    );
  });

  test("outer headers: the IPv4 header and the IPv6 UDP checksums verify", () => {
    fc.assert(
      fc.property(
        ipv4,
        ipv4,
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 300 }),
        (src, dst, port, ttl, ident, payload) => {
          const out = new Uint8Array(OUTER_IPV4_UDP_LENGTH + payload.length);
          out.set(payload, OUTER_IPV4_UDP_LENGTH);
          buildOuterIpv4Udp(out, 0, src, dst, port, 4789, payload.length, ttl, ident);
          assert.equal(internetChecksum(out.subarray(0, 20)), 0);
          assert.equal((out[2]! << 8) | out[3]!, out.length);
          const out6 = new Uint8Array(OUTER_IPV6_UDP_LENGTH + payload.length);
          out6.set(payload, OUTER_IPV6_UDP_LENGTH);
          const s6 = Uint8Array.from({ length: 16 }, (_, i) => (src >>> (i % 4)) & 255);
          const d6 = Uint8Array.from({ length: 16 }, (_, i) => (dst >>> (i % 3)) & 255);
          buildOuterIpv6Udp(out6, 0, s6, d6, port, 4789, payload.length, ttl);
          const udp = out6.subarray(40);
          assert.equal(internetChecksum([...pseudoHeader(out6, 0, udp.length, 17), ...udp]), 0);
          assert.notEqual((out6[46]! << 8) | out6[47]!, 0, "0 would mean no checksum");
        },
      ),
    );
  });
});
