// The ARP/ND proxy's request decoder: the hand-checked vectors of test/helpers/wire-vectors.ts
// decoded field by field, every skip reason from a minimal change to a valid frame, the MAC
// classifier, and random or truncated input that never throws.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ARPND_SKIP_REASONS,
  type ArpNdMessage,
  type ArpNdSkipReason,
  classifyMac,
  decodeArpNdInto,
  NA_OVERRIDE,
  NA_ROUTER,
  NA_SOLICITED,
  newArpNdMessage,
} from "../../src/wire/arpnd.js";
import { h } from "../helpers/hex.js";
import {
  H1_IP,
  H1_IP6,
  H1_MAC,
  H2_IP,
  H2_IP6,
  H2_MAC,
  internetChecksum,
  pseudoHeader,
  W,
  wire,
  type WireName,
  wireLayer,
} from "../helpers/wire-vectors.js";

function decode(b: Uint8Array, off = 0, end = b.length): ArpNdMessage {
  const m = newArpNdMessage();
  const r = decodeArpNdInto(m, b, off, end);
  if (r !== null) assert.fail(`skipped: ${r}`);
  return m;
}

function reason(b: Uint8Array): ArpNdSkipReason | null {
  return decodeArpNdInto(newArpNdMessage(), b, 0, b.length);
}

/** What a test compares: the message with its offsets formatted. */
function view(m: ArpNdMessage) {
  return {
    kind: m.kind,
    tagCount: m.tagCount,
    vlan: m.vlan,
    ethDst: m.macAt(m.eth),
    ethSrc: m.ethSrcText(),
    senderMac: m.macAt(m.senderMac),
    senderIp: m.ipAt(m.senderIp),
    targetMac: m.macAt(m.targetMac),
    targetIp: m.targetIpText(),
    ipSrc: m.ipAt(m.ipSrc),
    ipDst: m.ipAt(m.ipDst),
    naFlags: m.naFlags,
  };
}

/** Recomputes the ICMPv6 checksum of the IPv6 packet at `ip`, so that a test changes one field only. */
function fixChecksum(b: Uint8Array, ip: number): Uint8Array {
  const len = (b[ip + 4]! << 8) | b[ip + 5]!;
  const icmp = ip + 40;
  b[icmp + 2] = 0;
  b[icmp + 3] = 0;
  const s = internetChecksum([...pseudoHeader(b, ip, len, 58), ...b.subarray(icmp, icmp + len)]);
  b[icmp + 2] = s >> 8;
  b[icmp + 3] = s & 255;
  return b;
}

function changed(n: WireName, f: (b: Uint8Array) => void, checksum = false): Uint8Array {
  const b = wire(n);
  f(b);
  return checksum ? fixChecksum(b, wireLayer(n, 1)) : b;
}

describe("ARP", () => {
  test("request: sender H1, target H2, untagged", () => {
    const m = decode(wire("arp-request"));
    assert.deepEqual(view(m), {
      kind: "arp-request",
      tagCount: 0,
      vlan: -1,
      ethDst: "ff:ff:ff:ff:ff:ff",
      ethSrc: H1_MAC,
      senderMac: H1_MAC,
      senderIp: H1_IP,
      targetMac: "00:00:00:00:00:00",
      targetIp: H2_IP,
      ipSrc: null,
      ipDst: null,
      naFlags: 0,
    });
    assert.equal(m.ipLength, 4);
    assert.equal(m.l3, 14);
    assert.equal(m.end, 42);
    assert.equal(m.targetIpv4(), 0xc6336402);
    assert.ok(m.isRequest());
  });

  test("802.1Q and QinQ tags: count, first VLAN ID, offsets past the tags", () => {
    const q = decode(wire("arp-request-dot1q"));
    assert.equal(q.tagCount, 1);
    assert.equal(q.vlan, 30);
    assert.equal(q.l3, 18);
    assert.equal(q.targetIpText(), H2_IP);
    const qq = decode(wire("arp-request-qinq"));
    assert.equal(qq.tagCount, 2);
    assert.equal(qq.vlan, 200, "the outer (802.1ad) tag's VLAN ID");
    assert.equal(qq.l3, 22);
    assert.equal(qq.macAt(qq.senderMac), H1_MAC);
  });

  test("kinds: probe (spa 0.0.0.0), announcement (spa = tpa), reply", () => {
    assert.equal(decode(wire("arp-probe")).kind, "arp-probe");
    assert.equal(decode(wire("arp-probe")).ipAt(decode(wire("arp-probe")).senderIp), "0.0.0.0");
    assert.equal(decode(wire("garp")).kind, "garp");
    assert.equal(decode(wire("arp-reply")).kind, "arp-reply");
    assert.equal(decode(wire("arp-probe-reply")).kind, "arp-reply");
    assert.equal(decode(wire("arp-refresh")).kind, "arp-probe");
    const reply = decode(wire("arp-reply"));
    assert.equal(reply.macAt(reply.targetMac), H1_MAC);
    assert.equal(reply.isRequest(), false);
    // a gratuitous reply (op 2, spa = tpa) is an announcement too
    const garpReply = changed("garp", (b) => (b[21] = 2));
    assert.equal(decode(garpReply).kind, "garp");
  });

  test("at an offset, with Ethernet padding and an end inside the buffer", () => {
    const f = wire("arp-request");
    const b = new Uint8Array(8 + 60 + 5).fill(0xee);
    b.set(f, 8);
    b.fill(0, 8 + f.length, 8 + 60); // padded to 60 bytes
    const m = decode(b, 8, 8 + 60);
    assert.equal(m.eth, 8);
    assert.equal(m.ethSrcText(), H1_MAC);
    assert.equal(m.targetIpText(), H2_IP);
    assert.equal(decodeArpNdInto(newArpNdMessage(), b, 8, 8 + 41), "truncated-arp");
  });
});

describe("neighbour discovery", () => {
  test("NS with a source link-layer address", () => {
    const m = decode(wire("ns"));
    assert.deepEqual(view(m), {
      kind: "ns",
      tagCount: 0,
      vlan: -1,
      ethDst: "33:33:ff:00:00:02",
      ethSrc: H1_MAC,
      senderMac: H1_MAC,
      senderIp: H1_IP6,
      targetMac: null,
      targetIp: H2_IP6,
      ipSrc: H1_IP6,
      ipDst: "ff02::1:ff00:2",
      naFlags: 0,
    });
    assert.equal(m.ipLength, 16);
    assert.equal(m.end, 14 + 40 + 32);
    assert.ok(m.isRequest());
  });

  test("NS without the option, tagged NS, DAD NS", () => {
    const bare = decode(wire("ns-no-slla"));
    assert.equal(bare.kind, "ns");
    assert.equal(bare.senderMac, -1);
    const tagged = decode(wire("ns-dot1q"));
    assert.equal(tagged.tagCount, 1);
    assert.equal(tagged.vlan, 30);
    assert.equal(tagged.targetIpText(), H2_IP6);
    const dad = decode(wire("ns-dad"));
    assert.equal(dad.kind, "ns-dad");
    assert.equal(dad.ipAt(dad.ipSrc), "::");
    assert.equal(dad.senderMac, -1);
    assert.ok(dad.isRequest());
  });

  test("NA: flags and the target link-layer address", () => {
    const m = decode(wire("na-reply-rso"));
    assert.deepEqual(view(m), {
      kind: "na",
      tagCount: 0,
      vlan: -1,
      ethDst: H1_MAC,
      ethSrc: H2_MAC,
      senderMac: null,
      senderIp: H2_IP6,
      targetMac: H2_MAC,
      targetIp: H2_IP6,
      ipSrc: H2_IP6,
      ipDst: H1_IP6,
      naFlags: NA_ROUTER | NA_SOLICITED | NA_OVERRIDE,
    });
    assert.equal(decode(wire("na-reply-so")).naFlags, NA_SOLICITED | NA_OVERRIDE);
    const all = decode(wire("na-all-nodes"));
    assert.equal(all.naFlags, NA_OVERRIDE);
    assert.equal(all.ipAt(all.ipDst), "ff02::1");
    assert.equal(all.isRequest(), false);
  });

  test("reserved NA bits are not flags; unknown options are skipped", () => {
    const n = "na-reply-so";
    const ip = wireLayer(n, 1);
    assert.equal(decode(changed(n, (b) => (b[ip + 44] |= 0x1f), true)).naFlags, NA_SOLICITED | NA_OVERRIDE);
    // an NS with an unknown option (type 14, nonce, 8 bytes) before its SLLA
    const ns = wire("ns");
    const b = new Uint8Array(ns.length + 8);
    b.set(ns.subarray(0, 14 + 40 + 24));
    b.set([14, 1, 1, 2, 3, 4, 5, 6], 14 + 40 + 24);
    b.set(ns.subarray(14 + 40 + 24), 14 + 40 + 32);
    b[14 + 5] = 40;
    const m = decode(fixChecksum(b, 14));
    assert.equal(m.macAt(m.senderMac), H1_MAC);
  });
});

/** One frame per skip reason, each a valid vector with one change. */
const SKIPS: [ArpNdSkipReason, () => Uint8Array][] = [
  ["truncated-inner-ethernet", () => wire("arp-request").subarray(0, 13)],
  ["truncated-inner-vlan", () => wire("arp-request-dot1q").subarray(0, 17)],
  ["inner-too-many-tags", () => h("ffffffffffff020000000101 88a800c8 88a800c9 81000064 0806")],
  ["inner-source-not-unicast", () => changed("arp-request", (b) => (b[6] = 0x03))],
  ["inner-not-arp-nd", () => changed("arp-request", (b) => (b[13] = 0x00))], // EtherType 0x0800
  ["truncated-arp", () => wire("arp-request").subarray(0, 41)],
  ["arp-unsupported", () => changed("arp-request", (b) => (b[15] = 6))], // htype 6
  ["arp-bad-opcode", () => changed("arp-request", (b) => (b[21] = 3))],
  ["binding-mac-not-unicast", () => changed("arp-request", (b) => (b[22] = 0x01))], // sha multicast
  ["truncated-inner-ipv6", () => wire("ns").subarray(0, 14 + 39)],
  ["bad-inner-ipv6", () => changed("ns", (b) => (b[14] = 0x40))],
  ["truncated-icmpv6", () => changed("ns-no-slla", (b) => (b[14 + 5] = 8))],
  ["nd-bad-hop-limit", () => changed("ns", (b) => (b[14 + 7] = 64))],
  ["nd-bad-checksum", () => changed("ns", (b) => (b[14 + 43] ^= 1))],
  ["nd-bad-code", () => changed("ns", (b) => (b[14 + 41] = 1), true)],
  ["nd-bad-option", () => changed("ns", (b) => (b[14 + 40 + 25] = 0), true)], // option length 0
  ["nd-multicast-target", () => changed("ns", (b) => (b[14 + 48] = 0xff), true)],
  ["nd-bad-source", () => changed("na-reply-so", (b) => (b[14 + 8] = 0xff), true)],
  ["nd-dad-invalid", () => changed("ns-dad", (b) => (b[14 + 24 + 11] = 0), true)], // to ff02::ff00:2
  ["nd-solicited-to-multicast", () => changed("na-reply-so", (b) => b.set([0xff, 0x02], 14 + 24), true)],
];

describe("skip reasons", () => {
  test("every reason has a frame here, and only listed reasons exist", () => {
    assert.deepEqual(SKIPS.map(([r]) => r).sort(), [...ARPND_SKIP_REASONS].sort());
  });

  for (const [r, frame] of SKIPS) test(r, () => assert.equal(reason(frame()), r));

  test("more ways to the same reasons", () => {
    const ip = 14;
    const icmp = ip + 40;
    const cases: [ArpNdSkipReason, Uint8Array][] = [
      ["inner-not-arp-nd", changed("ns", (b) => (b[ip + 6] = 17))], // UDP after IPv6
      ["inner-not-arp-nd", changed("ns", (b) => (b[icmp] = 128), true)], // echo request
      ["inner-not-arp-nd", changed("ns-no-slla", (b) => (b[ip + 5] = 0))], // no ICMPv6 bytes
      ["arp-unsupported", changed("arp-request", (b) => (b[19] = 16))], // plen 16
      ["truncated-inner-ipv6", changed("ns", (b) => (b[ip + 5] = 40))], // payload past the end
      ["nd-bad-option", changed("ns", (b) => (b[icmp + 25] = 2), true)], // overruns the message
      ["binding-mac-not-unicast", changed("ns", (b) => b.fill(0, icmp + 26, icmp + 32), true)], // SLLA zero
      ["binding-mac-not-unicast", changed("na-reply-so", (b) => (b[icmp + 26] = 0x33), true)], // TLLA group
      ["nd-bad-source", changed("ns", (b) => (b[ip + 8] = 0xff), true)],
      ["nd-dad-invalid", changed("ns", (b) => b.fill(0, ip + 8, ip + 24), true)], // DAD with an SLLA
    ];
    for (const [r, b] of cases) assert.equal(reason(b), r);
    // An SLLA option of 16 bytes (length 2) is refused (RFC 2464 §8: 8 bytes on Ethernet).
    const ns = wire("ns");
    const long = new Uint8Array(ns.length + 8);
    long.set(ns);
    long[ip + 5] = 40;
    long[icmp + 25] = 2;
    assert.equal(reason(fixChecksum(long, ip)), "nd-bad-option");
  });

  test("negative offsets and ends before the frame", () => {
    const b = wire("arp-request");
    const m = newArpNdMessage();
    assert.equal(decodeArpNdInto(m, b, -1, b.length), "truncated-inner-ethernet");
    assert.equal(decodeArpNdInto(m, b, 0, -5), "truncated-inner-ethernet");
    assert.equal(decodeArpNdInto(m, b, 0, b.length + 100), null, "end is clamped to the buffer");
  });
});

describe("classifyMac", () => {
  test("broadcast, multicast, unicast", () => {
    const b = h("ffffffffffff 333300000001 01005e000001 020000000101 000000000000 fffffffffffe");
    assert.equal(classifyMac(b, 0), "broadcast");
    assert.equal(classifyMac(b, 6), "multicast");
    assert.equal(classifyMac(b, 12), "multicast");
    assert.equal(classifyMac(b, 18), "unicast");
    assert.equal(classifyMac(b, 24), "unicast");
    assert.equal(classifyMac(b, 30), "multicast");
  });
});

describe("random input", () => {
  const REASONS = new Set<string>(ARPND_SKIP_REASONS);
  const names = Object.keys(W) as WireName[];

  test("random bytes, offsets and ends: never throws, always null or a listed reason", () => {
    const m = newArpNdMessage();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), fc.integer({ min: -4, max: 170 }), fc.nat(200), (b, off, end) => {
        const r = decodeArpNdInto(m, b, off, end);
        assert.ok(r === null || REASONS.has(r), String(r));
      }),
      { numRuns: 5000 },
    );
  });

  test("valid frames cut short or with a byte changed: never throws; a cut frame never decodes past its end", () => {
    const m = newArpNdMessage();
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        (n, cut, edits) => {
          const b = wire(n);
          for (const [at, v] of edits) b[at % b.length] = v;
          const end = cut % (b.length + 1);
          const r = decodeArpNdInto(m, b, 0, end);
          assert.ok(r === null || REASONS.has(r), String(r));
          if (r === null) assert.ok(m.end <= end);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
