// Data-plane packet path: byte-exact VXLAN frames decoded field by field, every skip reason, and
// random input that never throws. All vectors except the seed's captured one use documentation
// addresses (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32) and locally administered MACs; they
// were assembled by hand, with IPv4 header and ICMPv6 checksums computed independently (Python).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decodeEthernet,
  decodeEthernetInto,
  decodeInner,
  decodeIp,
  decodeVxlan,
  type DecodeOptions,
  type LearnedFrame,
  newLearnedFrame,
  type PacketResult,
  SKIP_REASONS,
  type SkipReason,
} from "../../src/wire/packet.js";
import { h } from "../helpers/hex.js";
import { SEED, V } from "../helpers/frame-vectors.js";

type Name = keyof typeof V;
const frame = (n: Name): Uint8Array => h(V[n]);

function ok(r: PacketResult): LearnedFrame {
  if (!r.ok) assert.fail(`skipped: ${r.reason}`);
  return r.value;
}

function skip(r: PacketResult): SkipReason {
  if (r.ok) assert.fail(`decoded: ${JSON.stringify(r.value)}`);
  return r.reason;
}

/** Offset of layer `i` in a "|"-separated vector. */
function layer(n: Name, i: number): number {
  return V[n]
    .split("|")
    .slice(0, i)
    .reduce((s, p) => s + p.replace(/\s/g, "").length / 2, 0);
}

/**
 * The frame cut to `len` bytes with the outer IPv4 total length, UDP length and (if `ip6` is the
 * inner IPv6 offset) inner payload length shrunk to match, as a sender would write a short frame.
 */
function shortened(b: Uint8Array, ipOff: number, len: number, ip6 = -1): Uint8Array {
  const c = b.slice(0, len);
  const set16 = (o: number, v: number) => {
    if (o + 2 <= c.length) {
      c[o] = v >>> 8;
      c[o + 1] = v & 0xff;
    }
  };
  const ihl = (c[ipOff]! & 15) * 4;
  set16(ipOff + 2, len - ipOff);
  set16(ipOff + ihl + 4, len - ipOff - ihl);
  if (ip6 >= 0) set16(ip6 + 4, Math.max(0, len - ip6 - 40));
  return c;
}

describe("the seed's captured frame", () => {
  test("decodes from the outer IPv4 header", () => {
    const f = ok(decodeIp(h(SEED)));
    assert.deepEqual(f, {
      vtep: "1.1.1.1",
      vni: 11189196,
      vlan: null,
      innerSrcMac: "aa:c1:ab:ee:23:c1",
      kind: "arp-reply",
      mac: "aa:c1:ab:ee:23:c1",
      ip: "10.0.0.101",
    });
    assert.equal(f.vni, 0xaabbcc);
  });

  test("the same frame from the VXLAN header, VTEP from the socket", () => {
    const b = h(SEED);
    const f = ok(decodeVxlan(b, 28, b.length, "1.1.1.1"));
    assert.equal(f.vtep, "1.1.1.1");
    assert.equal(f.mac, "aa:c1:ab:ee:23:c1");
    assert.equal(f.ip, "10.0.0.101");
  });
});

describe("outer encapsulations", () => {
  test("untagged Ethernet, IPv4, ARP request", () => {
    assert.deepEqual(ok(decodeEthernet(frame("eth-ipv4-arp-request"))), {
      vtep: "192.0.2.1",
      vni: 10,
      vlan: null,
      innerSrcMac: "02:00:00:00:01:01",
      kind: "arp-request",
      mac: "02:00:00:00:01:01",
      ip: "198.51.100.1",
    });
  });

  test("802.1Q-tagged outer Ethernet, gratuitous ARP", () => {
    const f = ok(decodeEthernet(frame("dot1q-ipv4-garp")));
    assert.equal(f.vtep, "192.0.2.1");
    assert.equal(f.vni, 10);
    assert.equal(f.vlan, null, "outer tags are not the inner VLAN");
    assert.equal(f.kind, "garp");
    assert.equal(f.mac, "02:00:00:00:01:01");
    assert.equal(f.ip, "198.51.100.1");
  });

  test("QinQ (802.1ad + 802.1Q) outer Ethernet, ARP probe teaches the MAC only", () => {
    const f = ok(decodeEthernet(frame("qinq-ipv4-arp-probe")));
    assert.equal(f.vtep, "192.0.2.1");
    assert.equal(f.kind, "arp-probe");
    assert.equal(f.mac, "02:00:00:00:01:02");
    assert.equal(f.ip, null);
  });

  test("IPv4 header options are skipped by IHL", () => {
    const f = ok(decodeEthernet(frame("ipv4-options-arp-request")));
    assert.equal(f.vtep, "192.0.2.1");
    assert.equal(f.kind, "arp-request");
    assert.equal(f.ip, "198.51.100.1");
  });

  test("IPv6 outer, neighbour solicitation with a source link-layer address", () => {
    assert.deepEqual(ok(decodeEthernet(frame("ipv6-outer-nd-ns"))), {
      vtep: "2001:db8::1",
      vni: 10,
      vlan: null,
      innerSrcMac: "02:00:00:00:01:01",
      kind: "nd-ns",
      mac: "02:00:00:00:01:01",
      ip: "2001:db8:100::1",
    });
  });

  test("a VXLAN header without the I flag is skipped", () => {
    assert.equal(skip(decodeEthernet(frame("no-i-flag"))), "vxlan-no-vni");
  });

  test("reserved VXLAN bits are ignored", () => {
    const b = frame("eth-ipv4-arp-request");
    const vx = layer("eth-ipv4-arp-request", 3);
    b[vx] = 0xff;
    b[vx + 1] = 0xff;
    b[vx + 7] = 0xff;
    assert.equal(ok(decodeEthernet(b)).vni, 10);
  });

  test("the UDP port: 4789 by default, configurable", () => {
    assert.equal(skip(decodeEthernet(frame("port-4790"))), "not-vxlan-port");
    assert.equal(ok(decodeEthernet(frame("port-4790"), 0, undefined, { udpPort: 4790 })).vni, 10);
    assert.equal(
      skip(decodeEthernet(frame("eth-ipv4-arp-request"), 0, undefined, { udpPort: 4790 })),
      "not-vxlan-port",
    );
  });

  test("IPv4 fragments other than the first are skipped; a first fragment is decoded", () => {
    const ip = 14;
    const later = frame("eth-ipv4-arp-request");
    later[ip + 6] = 0x00;
    later[ip + 7] = 0xb9; // offset 185 * 8
    assert.equal(skip(decodeEthernet(later)), "outer-ip-fragment");
    const first = frame("eth-ipv4-arp-request");
    first[ip + 6] = 0x20; // MF, offset 0; the UDP length claims more than this fragment holds
    first[ip + 20 + 4] = 0x05; // UDP length 0x053a
    assert.equal(ok(decodeEthernet(first)).ip, "198.51.100.1");
    first[ip + 6] = 0x40; // DF: the same UDP length is now a truncated datagram
    assert.equal(skip(decodeEthernet(first)), "truncated-udp");
  });

  test("not IP, not UDP, bad IP headers", () => {
    const b = frame("eth-ipv4-arp-request");
    b[12] = 0x08;
    b[13] = 0x06;
    assert.equal(skip(decodeEthernet(b)), "outer-not-ip");
    const tcp = frame("eth-ipv4-arp-request");
    tcp[14 + 9] = 6;
    assert.equal(skip(decodeEthernet(tcp)), "outer-not-udp");
    const v6 = frame("eth-ipv4-arp-request");
    v6[14] = 0x65; // version 6 under EtherType IPv4
    assert.equal(skip(decodeEthernet(v6)), "bad-outer-ip");
    const ihl = frame("eth-ipv4-arp-request");
    ihl[14] = 0x44;
    assert.equal(skip(decodeEthernet(ihl)), "bad-outer-ip");
    const nh = frame("ipv6-outer-nd-ns");
    nh[14 + 6] = 0; // hop-by-hop options: extension headers are not followed
    assert.equal(skip(decodeEthernet(nh)), "outer-not-udp");
    const udpLen = frame("eth-ipv4-arp-request");
    udpLen[14 + 20 + 5] = 7;
    assert.equal(skip(decodeEthernet(udpLen)), "bad-udp-length");
    const three = h("020000000004020000000001 8100 0001 8100 0002 8100 0003 0800");
    assert.equal(skip(decodeEthernet(three)), "outer-too-many-tags");
    assert.equal(skip(decodeIp(h("10"))), "bad-outer-ip");
  });

  test("trailing bytes after the IP packet (padding, FCS) are ignored", () => {
    const b = frame("eth-ipv4-arp-request");
    const padded = new Uint8Array(b.length + 4);
    padded.set(b);
    padded.fill(0xee, b.length);
    assert.equal(ok(decodeEthernet(padded)).ip, "198.51.100.1");
  });
});

describe("inner frames", () => {
  test("inner 802.1Q tag: ARP reply", () => {
    assert.deepEqual(ok(decodeEthernet(frame("ipv4-inner-dot1q-arp-reply"))), {
      vtep: "192.0.2.1",
      vni: 10,
      vlan: 30,
      innerSrcMac: "02:00:00:00:01:02",
      kind: "arp-reply",
      mac: "02:00:00:00:01:02",
      ip: "198.51.100.2",
    });
  });

  test("from the VXLAN header (socket source)", () => {
    const b = frame("vxlan-only-arp-reply");
    const f = ok(decodeVxlan(b, 0, b.length, "192.0.2.7"));
    assert.equal(f.vtep, "192.0.2.7");
    assert.equal(f.vni, 0xaabbcc);
    assert.equal(f.vlan, 30);
    assert.equal(f.ip, "198.51.100.2");
    assert.equal(skip(decodeVxlan(b, 0, 7, "192.0.2.7")), "truncated-vxlan");
  });

  test("neighbour advertisement with a target link-layer address", () => {
    const f = ok(decodeEthernet(frame("ipv4-nd-na")));
    assert.equal(f.kind, "nd-na");
    assert.equal(f.innerSrcMac, "02:00:00:00:01:02");
    assert.equal(f.mac, "02:00:00:00:01:02");
    assert.equal(f.ip, "2001:db8:100::2");
  });

  test("a DAD solicitation from :: teaches nothing", () => {
    const f = ok(decodeEthernet(frame("ipv4-nd-dad")));
    assert.equal(f.kind, "nd-ns");
    assert.equal(f.mac, null);
    assert.equal(f.ip, null);
  });

  test("an NS with hop limit 64 is rejected", () => {
    assert.equal(skip(decodeEthernet(frame("ipv4-nd-ns-hl64"))), "nd-bad-hop-limit");
  });

  test("ND validity: checksum, code, options, multicast target", () => {
    const icmp = layer("ipv4-nd-na", 6);
    const sum = frame("ipv4-nd-na");
    sum[icmp + 3] ^= 1;
    assert.equal(skip(decodeEthernet(sum)), "nd-bad-checksum");
    // changes that keep the checksum right: move 1 from one 16-bit word to another
    const code = frame("ipv4-nd-na");
    code[icmp + 1] = 1;
    code[icmp + 3] -= 1;
    assert.equal(skip(decodeEthernet(code)), "nd-invalid");
    const opt = frame("ipv4-nd-na");
    opt[icmp + 25] = 0; // option length 0
    opt[icmp + 3] += 1;
    assert.equal(skip(decodeEthernet(opt)), "nd-bad-option");
  });

  test("an NA without a target link-layer address teaches the frame's source MAC only", () => {
    const b = frame("ipv4-nd-na");
    const ip6 = layer("ipv4-nd-na", 5);
    const c = shortened(b, 14, b.length - 8, ip6);
    // the checksum covers the payload length and the dropped option: recompute it by hand
    const icmp = ip6 + 40;
    c[icmp + 2] = 0;
    c[icmp + 3] = 0;
    let s = 0;
    for (let i = ip6 + 8; i < ip6 + 40; i += 2) s += (c[i]! << 8) | c[i + 1]!;
    s += c.length - icmp + 58;
    for (let i = icmp; i < c.length; i += 2) s += (c[i]! << 8) | c[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    c[icmp + 2] = (~s >>> 8) & 0xff;
    c[icmp + 3] = ~s & 0xff;
    const f = ok(decodeEthernet(c));
    assert.equal(f.kind, "nd-na");
    assert.equal(f.mac, "02:00:00:00:01:02");
    assert.equal(f.ip, null);
  });

  test("any other frame teaches its source MAC only with anyFrame", () => {
    assert.equal(skip(decodeEthernet(frame("ipv4-inner-ipv4-other"))), "inner-not-arp-nd");
    const f = ok(decodeEthernet(frame("ipv4-inner-ipv4-other"), 0, undefined, { anyFrame: true }));
    assert.equal(f.kind, "other");
    assert.equal(f.innerSrcMac, "02:00:00:00:01:01");
    assert.equal(f.mac, "02:00:00:00:01:01");
    assert.equal(f.ip, null);
  });

  test("multicast and broadcast MACs are never learned", () => {
    const eth = layer("eth-ipv4-arp-request", 4);
    const mcast = frame("eth-ipv4-arp-request");
    mcast[eth + 6] = 0x03; // group bit in the inner source
    assert.equal(skip(decodeEthernet(mcast)), "inner-source-not-unicast");
    const bcast = frame("eth-ipv4-arp-request");
    bcast.fill(0xff, eth + 6, eth + 12);
    assert.equal(skip(decodeEthernet(bcast, 0, undefined, { anyFrame: true })), "inner-source-not-unicast");
    const sha = frame("eth-ipv4-arp-request");
    sha[eth + 14 + 8] = 0x01; // ARP sender hardware address 01:00:00:00:01:01
    assert.equal(skip(decodeEthernet(sha)), "binding-mac-not-unicast");
  });

  test("three inner tags; an inner IPv6 header that is not version 6", () => {
    const three = h("020000000001 020000000002 8100 0001 8100 0002 8100 0003 0806");
    assert.equal(skip(decodeInner(three)), "inner-too-many-tags");
    const v = frame("ipv4-nd-na");
    v[layer("ipv4-nd-na", 5)] = 0x40;
    assert.equal(skip(decodeEthernet(v)), "bad-inner-ipv6");
  });

  test("ARP that is not Ethernet/IPv4, or not a request/reply", () => {
    const arp = layer("eth-ipv4-arp-request", 5);
    const htype = frame("eth-ipv4-arp-request");
    htype[arp + 1] = 6;
    assert.equal(skip(decodeEthernet(htype)), "arp-unsupported");
    const op = frame("eth-ipv4-arp-request");
    op[arp + 7] = 3; // RARP
    assert.equal(skip(decodeEthernet(op)), "arp-bad-opcode");
    const bcastIp = frame("eth-ipv4-arp-request");
    bcastIp.fill(0xff, arp + 14, arp + 18);
    assert.equal(ok(decodeEthernet(bcastIp)).ip, null);
  });
});

describe("truncation: every layer has its reason", () => {
  const cases: [Name, number, SkipReason, number?][] = [
    ["eth-ipv4-arp-request", 13, "truncated-outer-ethernet"],
    ["dot1q-ipv4-garp", 17, "truncated-outer-vlan"],
    ["qinq-ipv4-arp-probe", 20, "truncated-outer-vlan"],
    ["eth-ipv4-arp-request", 14 + 19, "truncated-outer-ip"],
    ["ipv6-outer-nd-ns", 14 + 39, "truncated-outer-ip"],
    ["eth-ipv4-arp-request", 14 + 20 + 7, "truncated-udp"],
    ["eth-ipv4-arp-request", 14 + 28 + 7, "truncated-vxlan"],
    ["eth-ipv4-arp-request", 14 + 36 + 13, "truncated-inner-ethernet"],
    ["ipv4-inner-dot1q-arp-reply", 14 + 36 + 17, "truncated-inner-vlan"],
    ["eth-ipv4-arp-request", 14 + 36 + 14 + 27, "truncated-arp"],
    ["ipv4-nd-na", 14 + 36 + 14 + 39, "truncated-inner-ipv6"],
    ["ipv4-nd-na", 14 + 36 + 14 + 40 + 23, "truncated-icmpv6", 14 + 36 + 14],
  ];
  for (const [n, len, reason, ip6] of cases) {
    test(`${n} cut to ${len} bytes: ${reason}`, () => {
      assert.equal(skip(decodeEthernet(shortened(frame(n), layer(n, 1), len, ip6))), reason);
    });
  }

  test("a snapshot cut anywhere inside the IP packet is a truncated outer IP packet", () => {
    for (const n of ["eth-ipv4-arp-request", "ipv4-options-arp-request", "ipv6-outer-nd-ns"] as const) {
      const b = frame(n);
      for (let len = 14; len < b.length; len++) assert.equal(skip(decodeEthernet(b, 0, len)), "truncated-outer-ip");
    }
    const s = h(SEED);
    for (let len = 0; len < s.length; len++) assert.equal(skip(decodeIp(s, 0, len)), "truncated-outer-ip");
  });

  test("an inner IPv6 payload length beyond the frame", () => {
    const b = frame("ipv4-nd-na");
    b[layer("ipv4-nd-na", 5) + 5] += 1;
    assert.equal(skip(decodeEthernet(b)), "truncated-inner-ipv6");
  });

  test("decodeInner on its own", () => {
    const b = frame("eth-ipv4-arp-request");
    const inner = layer("eth-ipv4-arp-request", 4);
    const f = ok(decodeInner(b, inner));
    assert.equal(f.mac, "02:00:00:00:01:01");
    assert.equal(skip(decodeInner(b, b.length - 3)), "truncated-inner-ethernet");
  });
});

describe("the Into variant", () => {
  test("reuses one result object", () => {
    const out = newLearnedFrame();
    assert.equal(decodeEthernetInto(out, frame("eth-ipv4-arp-request")), null);
    assert.equal(out.kind, "arp-request");
    assert.equal(decodeEthernetInto(out, frame("ipv6-outer-nd-ns")), null);
    assert.equal(out.vtep, "2001:db8::1");
    assert.equal(out.ip, "2001:db8:100::1");
    assert.equal(decodeEthernetInto(out, frame("no-i-flag")), "vxlan-no-vni");
  });

  test("skips are shared, frozen objects", () => {
    const a = decodeEthernet(frame("no-i-flag"));
    const b = decodeEthernet(frame("no-i-flag"));
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
  });
});

describe("random input", () => {
  const known = new Set<string>(SKIP_REASONS);
  const check = (r: PacketResult) => {
    if (r.ok) {
      assert.ok(r.value.mac === null || /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(r.value.mac));
      assert.equal(parseInt(r.value.innerSrcMac.slice(0, 2), 16) & 1, 0);
    } else assert.ok(known.has(r.reason), r.reason);
  };
  const opts = fc.record<DecodeOptions>({ anyFrame: fc.boolean() });

  test("random bytes never throw and always give a frame or a known reason", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(220), opts, (b, end, o) => {
        check(decodeEthernet(b, 0, end, o));
        check(decodeIp(b, 0, end, o));
        check(decodeVxlan(b, 0, end, "192.0.2.1", o));
        check(decodeInner(b, 0, end, o));
      }),
      { numRuns: 3000 },
    );
  });

  test("mutations of real frames never throw", () => {
    const names = Object.keys(V) as Name[];
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        opts,
        (n, edits, cut, o) => {
          const b = frame(n);
          for (const [i, v] of edits) b[i % b.length] = v;
          check(decodeEthernet(b, 0, cut % (b.length + 1), o));
          check(decodeVxlan(b, 0, b.length, "192.0.2.1", o));
          check(
            decodeIp(
              h(SEED).map((x, i) => (i === edits[0]![0] % 78 ? edits[0]![1] : x)),
              0,
              78,
              o,
            ),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
