// Data-plane source 3, capture files: the classic pcap format in both byte orders and both
// timestamp resolutions, each supported link type, malformed files (typed errors, never thrown),
// and acceptance 6 for the replay — the same traffic replayed from a capture and fed through the
// UDP source's datagram path gives the same learned table.
//
// Captures are built here by `pcap()`; test/fixtures/pcap/vxlan-arp-nd.pcap was written by an
// independent writer, text2pcap 4.0 (Wireshark), from vxlan-arp-nd.txt next to it:
//   text2pcap -q -F pcap -t "%Y-%m-%dT%H:%M:%S.%f" -4 192.0.2.1,192.0.2.4 -u 49152,4789 \
//     vxlan-arp-nd.txt vxlan-arp-nd.pcap
// Addresses are documentation ones (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32); inner frames
// are the hand-checked vectors of dataplane-packet.test.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type LearnConfig, Learner } from "../../src/dataplane/learning/learner.js";
import { decodeEthernet, type LearnedFrame } from "../../src/wire/packet.js";
import {
  decodeRecordInto,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  parsePcap,
  replayPcap,
} from "../../src/wire/pcap.js";
import { VxlanUdpSource } from "../../src/dataplane/io/udp-source.js";
import { h } from "../helpers/hex.js";

const FIXTURE = new URL("../../../test/fixtures/pcap/vxlan-arp-nd.pcap", import.meta.url);

// ---- building captures ----------------------------------------------------------------------

interface Rec {
  sec: number;
  /** µs or ns, as the file says. */
  frac: number;
  data: Uint8Array;
  orig?: number;
}

function pcap(recs: Rec[], o: { le?: boolean; ns?: boolean; linkType?: number; snap?: number } = {}): Uint8Array {
  const le = o.le ?? true;
  const parts: number[] = [];
  const u32 = (v: number) => {
    const b = [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    parts.push(...(le ? b.reverse() : b));
  };
  const u16 = (v: number) => {
    const b = [(v >>> 8) & 255, v & 255];
    parts.push(...(le ? b.reverse() : b));
  };
  u32(o.ns ? 0xa1b23c4d : 0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(o.snap ?? 65535);
  u32(o.linkType ?? LINKTYPE_ETHERNET);
  for (const r of recs) {
    u32(r.sec);
    u32(r.frac);
    u32(r.data.length);
    u32(r.orig ?? r.data.length);
    parts.push(...r.data);
  }
  return Uint8Array.from(parts);
}

function cat(...bs: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(bs.flatMap((b) => [...b]));
}

const be16 = (v: number) => [(v >>> 8) & 255, v & 255];

function ipBytes(a: string): number[] {
  if (!a.includes(":")) return a.split(".").map(Number);
  const [l, r] = a.split("::") as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(":").map((w) => parseInt(w, 16)) : []);
  const left = words(l);
  const right = words(r);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right].flatMap(be16);
}

/** Outer IP + UDP (to 4789 unless `port`) around a VXLAN payload; IPv4 with its header checksum. */
function outerIp(src: string, dst: string, vxlan: Uint8Array, port = 4789): Uint8Array {
  const udp = cat(be16(49152), be16(port), be16(8 + vxlan.length), [0, 0], vxlan);
  if (src.includes(":")) return cat([0x60, 0, 0, 0], be16(udp.length), [17, 64], ipBytes(src), ipBytes(dst), udp);
  const hdr = [0x45, 0, ...be16(20 + udp.length), 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, ...ipBytes(src), ...ipBytes(dst)];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (hdr[i]! << 8) | hdr[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  hdr.splice(10, 2, ...be16(~sum & 0xffff));
  return cat(hdr, udp);
}

const ETH_DST_SRC = h("020000000004020000000001");
function ethernet(ip: Uint8Array): Uint8Array {
  return cat(ETH_DST_SRC, be16(ip[0]! >>> 4 === 6 ? 0x86dd : 0x0800), ip);
}
function sll(ip: Uint8Array, tag?: number): Uint8Array {
  const type = be16(ip[0]! >>> 4 === 6 ? 0x86dd : 0x0800);
  // packet type 0 (to us), ARPHRD_ETHER, address length 6, address padded to 8, protocol
  const head = cat([0, 0], [0, 1], [0, 6], h("0200000000010000"));
  return tag === undefined ? cat(head, type, ip) : cat(head, be16(0x8100), be16(tag), type, ip);
}
function sll2(ip: Uint8Array, tag?: number): Uint8Array {
  const type = be16(ip[0]! >>> 4 === 6 ? 0x86dd : 0x0800);
  // protocol, reserved, interface index 2, ARPHRD_ETHER, packet type 0, address length 6, address
  const rest = cat([0, 0], [0, 0, 0, 2], [0, 1], [0], [6], h("0200000000010000"));
  return tag === undefined ? cat(type, rest, ip) : cat(be16(0x8100), rest, be16(tag), type, ip);
}

/** Wraps an outer IP packet for a link type. */
function link(linkType: number, ip: Uint8Array): Uint8Array {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return ethernet(ip);
    case LINKTYPE_RAW:
      return ip;
    case LINKTYPE_LINUX_SLL:
      return sll(ip);
    default:
      return sll2(ip);
  }
}

// VXLAN payloads (VNI 10): H1 02:00:00:00:01:01 198.51.100.1 2001:db8:100::1, H2 ...:02 .2 ::2.
const VX = {
  h1ArpRequest: h(
    "0800000000000a00ffffffffffff02000000010108060001080006040001020000000101c6336401000000000000c6336402",
  ),
  h2ArpReplyDot1q: h(
    "0800000000000a000200000001010200000001028100001e08060001080006040002020000000102c6336402020000000101c6336401",
  ),
  h2NdNa: h(
    "0800000000000a0002000000010102000000010286dd6000000000203aff20010db801000000000000000000000220010db8010000000000000000000001880086716000000020010db80100000000000000000000020201020000000102",
  ),
  h1NdNs: h(
    "0800000000000a003333ff00000202000000010186dd6000000000203aff20010db8010000000000000000000001ff0200000000000000000001ff000002870019270000000020010db80100000000000000000000020101020000000101",
  ),
};

// ---- the file format ------------------------------------------------------------------------

describe("pcap file format", () => {
  const a = h("00112233");
  const b = h("4455");
  for (const le of [true, false])
    for (const ns of [false, true])
      test(`${le ? "little" : "big"}-endian, ${ns ? "nanosecond" : "microsecond"} timestamps`, () => {
        const file = pcap(
          [
            { sec: 1767225600, frac: ns ? 250_000_000 : 250_000, data: a },
            { sec: 1767225601, frac: ns ? 1_500 : 1, data: b, orig: 60 },
          ],
          { le, ns, snap: 1500, linkType: LINKTYPE_RAW },
        );
        const r = parsePcap(file);
        assert.ok(r.ok);
        assert.deepEqual(r.header, {
          littleEndian: le,
          nanosecond: ns,
          versionMajor: 2,
          versionMinor: 4,
          snapLength: 1500,
          linkType: LINKTYPE_RAW,
        });
        assert.equal(r.records.length, 2);
        assert.equal(r.records[0]!.timestampMs, 1767225600250);
        assert.equal(r.records[1]!.timestampMs, 1767225601000 + (ns ? 0.0015 : 0.001));
        assert.deepEqual([...r.records[0]!.data], [...a]);
        assert.deepEqual([...r.records[1]!.data], [...b]);
        assert.equal(r.records[1]!.originalLength, 60);
        assert.equal(r.records[1]!.linkType, LINKTYPE_RAW);
      });

  test("the FCS bits of the link-type field are dropped", () => {
    const r = parsePcap(pcap([], { linkType: 0x14000000 | LINKTYPE_ETHERNET }));
    assert.ok(r.ok);
    assert.equal(r.header.linkType, LINKTYPE_ETHERNET);
    assert.equal(r.records.length, 0);
  });

  test("a file written by text2pcap", () => {
    const r = parsePcap(readFileSync(FIXTURE));
    assert.ok(r.ok);
    assert.equal(r.header.linkType, LINKTYPE_ETHERNET);
    assert.equal(r.header.littleEndian, true);
    assert.deepEqual(
      r.records.map((x) => x.timestampMs),
      [0, 1, 2, 3].map((i) => 1767225600000 + i * 1000),
    );
  });

  test("malformed files: typed errors, the records before a truncation kept", () => {
    const good = pcap([
      { sec: 1, frac: 0, data: h("0102") },
      { sec: 2, frac: 0, data: h("030405") },
    ]);
    const cases: [Uint8Array, string, number][] = [
      [new Uint8Array(0), "truncated-header", 0],
      [h("d4c3b2"), "truncated-header", 0],
      [good.subarray(0, 23), "truncated-header", 0],
      [good.subarray(0, 24 + 18 + 10), "truncated-record", 1], // second record header cut
      [good.subarray(0, good.length - 1), "truncated-record", 1], // second record's data cut
      [h("00000000000000000000000000000000000000000000000000"), "unknown-magic", 0],
      [h("0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000"), "pcapng", 0],
    ];
    for (const [file, kind, kept] of cases) {
      const r = parsePcap(file);
      assert.equal(r.ok, false, kind);
      if (r.ok) continue;
      assert.equal(r.error.kind, kind);
      assert.equal(r.records.length, kept, kind);
    }
    const ng = parsePcap(cases[6]![0]);
    assert.ok(!ng.ok && /pcapng is not supported, convert with `tshark -F pcap/.test(ng.error.message));
    // a captured length above the snap length and libpcap's maximum
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
    const r = parsePcap(huge);
    assert.ok(!r.ok && r.error.kind === "bad-record-length" && r.error.offset === 24);
  });

  test("random bytes never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, le) => {
        const file = cat(pcap([], { le }), tail);
        parsePcap(file);
        parsePcap(tail);
        replayPcap(file, () => {});
        for (const lt of [1, 101, 113, 276, 7]) decodeRecordInto({} as LearnedFrame, lt, tail);
      }),
    );
  });
});

// ---- link types -----------------------------------------------------------------------------

describe("link types map to the right decoder offset", () => {
  const v4 = outerIp("192.0.2.1", "192.0.2.4", VX.h1ArpRequest);
  const v6 = outerIp("2001:db8::1", "2001:db8::4", VX.h2NdNa);
  const expected = (ip: Uint8Array) => {
    const r = decodeEthernet(ethernet(ip));
    assert.ok(r.ok);
    return { ...r.value };
  };
  const cases: [string, number, (ip: Uint8Array) => Uint8Array][] = [
    ["Ethernet", LINKTYPE_ETHERNET, ethernet],
    ["raw IP", LINKTYPE_RAW, (ip) => ip],
    ["Linux SLL", LINKTYPE_LINUX_SLL, (ip) => sll(ip)],
    ["Linux SLL, 802.1Q tag", LINKTYPE_LINUX_SLL, (ip) => sll(ip, 100)],
    ["Linux SLL2", LINKTYPE_LINUX_SLL2, (ip) => sll2(ip)],
    ["Linux SLL2, 802.1Q tag", LINKTYPE_LINUX_SLL2, (ip) => sll2(ip, 100)],
  ];
  for (const [name, lt, wrap] of cases)
    test(name, () => {
      for (const ip of [v4, v6]) {
        const seen: LearnedFrame[] = [];
        const r = replayPcap(pcap([{ sec: 10, frac: 0, data: wrap(ip) }], { linkType: lt }), (f, now) => {
          assert.equal(now, 10_000);
          seen.push({ ...f });
        });
        assert.equal(r.error, undefined);
        assert.deepEqual(r.counters, { records: 1, snapped: 0, frames: 1, skipped: {} });
        assert.deepEqual(seen, [expected(ip)]);
      }
    });

  test("skips are counted by reason: truncation, snap length, other ports, link types", () => {
    const cut = ethernet(v4).subarray(0, 60);
    const file = pcap([
      { sec: 1, frac: 0, data: cut, orig: ethernet(v4).length },
      { sec: 2, frac: 0, data: ethernet(outerIp("192.0.2.1", "192.0.2.4", VX.h1ArpRequest, 4790)) },
      { sec: 3, frac: 0, data: h("0102") },
    ]);
    const r = replayPcap(file, () => assert.fail("nothing is learnable"));
    assert.deepEqual(r.counters, {
      records: 3,
      snapped: 1,
      frames: 0,
      skipped: { "truncated-outer-ip": 1, "not-vxlan-port": 1, "truncated-outer-ethernet": 1 },
    });
    const other = replayPcap(pcap([{ sec: 1, frac: 0, data: v4 }], { linkType: 228 }), () => assert.fail());
    assert.deepEqual(other.counters.skipped, { "unsupported-link-type": 1 });
    // SLL2 announcing IPv4 over an IPv6 packet
    const wrong = sll2(v6);
    wrong.set(be16(0x0800), 0);
    const w = replayPcap(pcap([{ sec: 1, frac: 0, data: wrong }], { linkType: LINKTYPE_LINUX_SLL2 }), () =>
      assert.fail(),
    );
    assert.deepEqual(w.counters.skipped, { "bad-outer-ip": 1 });
  });

  test("a custom VXLAN port; time never steps back", () => {
    const file = pcap([
      { sec: 5, frac: 0, data: ethernet(outerIp("192.0.2.1", "192.0.2.4", VX.h1ArpRequest, 8472)) },
      { sec: 4, frac: 0, data: ethernet(outerIp("192.0.2.1", "192.0.2.4", VX.h2NdNa, 8472)) },
    ]);
    const times: number[] = [];
    const r = replayPcap(file, (_f, now) => times.push(now), { udpPort: 8472 });
    assert.equal(r.counters.frames, 2);
    assert.deepEqual(times, [5000, 5000]);
  });
});

// ---- acceptance 6: pcap replay ≡ UDP listener -----------------------------------------------

const LEARN: LearnConfig = {
  services: [
    {
      name: "vni10",
      evi: 10,
      vni: 10,
      staticVteps: [
        { address: "192.0.2.1", macs: [] },
        { address: "192.0.2.2", macs: [] },
        { address: "2001:db8::1", macs: [] },
      ],
    },
  ],
  includeIp: true,
  ageingSeconds: 300,
  autoDiscover: true,
  allowedPrefixes: ["198.51.100.0/25"],
  maxMoves: 5,
  moveWindowSeconds: 180,
  freezeSeconds: 180,
  maxMacsPerVtep: 0,
  maxMacsPerVni: 0,
  maxLearnPerVtepPerSecond: 0,
};
const FABRIC = { isEvpnVtep: () => false, remoteMac: () => undefined };

/** The traffic: [seconds, VTEP (outer source), VXLAN payload]. */
const TRAFFIC: [number, string, Uint8Array][] = [
  [100, "192.0.2.1", VX.h1ArpRequest],
  [101, "192.0.2.2", VX.h2ArpReplyDot1q],
  [102, "2001:db8::1", VX.h2NdNa], // H2 moves to the IPv6 VTEP, with its IPv6 address
  [103, "192.0.2.1", VX.h1NdNs],
  [104, "198.51.100.9", VX.h1ArpRequest], // unknown VTEP inside the allowed prefix: discovered, H1 moves
  [105, "198.51.100.200", VX.h2ArpReplyDot1q], // outside: dropped
  [106, "192.0.2.2", VX.h2ArpReplyDot1q], // H2 moves back
];

function viaUdp(): Learner {
  const learner = new Learner(LEARN, FABRIC);
  let now = 0;
  const src = new VxlanUdpSource({ address: "192.0.2.4" }, (f) => learner.frame(f, now));
  for (const [sec, vtep, payload] of TRAFFIC) {
    now = sec * 1000;
    src.datagram(payload, vtep);
  }
  assert.equal(src.counters.frames, TRAFFIC.length);
  return learner;
}

describe("acceptance 6: a replayed capture learns what the UDP listener learns", () => {
  const udp = viaUdp();
  test("the UDP-fed table is the expected one", () => {
    assert.deepEqual(
      udp.table().map((b) => [b.mac, b.vtep, b.ips, b.seq]),
      [
        ["02:00:00:00:01:01", "198.51.100.9", ["198.51.100.1", "2001:db8:100::1"], 1],
        ["02:00:00:00:01:02", "192.0.2.2", ["198.51.100.2", "2001:db8:100::2"], 2],
      ],
    );
    assert.deepEqual([udp.counters().moves, udp.counters().discovered, udp.counters().unknownVtep], [3, 1, 1]);
  });
  for (const [name, lt] of [
    ["Ethernet", LINKTYPE_ETHERNET],
    ["raw IP", LINKTYPE_RAW],
    ["Linux SLL", LINKTYPE_LINUX_SLL],
    ["Linux SLL2", LINKTYPE_LINUX_SLL2],
  ] as const)
    for (const ns of [false, true])
      test(`${name}${ns ? ", nanosecond" : ""}: same table and learner counters`, () => {
        const recs: Rec[] = [];
        for (const [sec, vtep, payload] of TRAFFIC) {
          const dst = vtep.includes(":") ? "2001:db8::4" : "192.0.2.4";
          recs.push({ sec, frac: 0, data: link(lt, outerIp(vtep, dst, payload)) });
          // noise a capture has and a VXLAN socket never sees
          recs.push({ sec, frac: 1, data: link(lt, outerIp(vtep, dst, payload, 53)) });
        }
        const learner = new Learner(LEARN, FABRIC);
        const r = replayPcap(pcap(recs, { linkType: lt, ns, le: !ns }), (f, now) => learner.frame(f, now));
        assert.equal(r.error, undefined);
        assert.deepEqual(r.counters.skipped, { "not-vxlan-port": TRAFFIC.length });
        assert.deepEqual(learner.table(), udp.table());
        assert.deepEqual(learner.counters(), udp.counters());
      });

  test("the text2pcap fixture learns what its payloads learn over UDP", () => {
    const a = new Learner(LEARN, FABRIC);
    const r = replayPcap(readFileSync(FIXTURE), (f, now) => a.frame(f, now));
    assert.equal(r.counters.frames, 4);
    const b = new Learner(LEARN, FABRIC);
    let now = 0;
    const src = new VxlanUdpSource({ address: "192.0.2.4" }, (f) => b.frame(f, now));
    [VX.h1ArpRequest, VX.h2ArpReplyDot1q, VX.h2NdNa, VX.h1NdNs].forEach((p, i) => {
      now = 1767225600000 + i * 1000;
      src.datagram(p, "192.0.2.1");
    });
    assert.equal(a.table().length, 2);
    assert.deepEqual(a.table(), b.table());
  });
});
