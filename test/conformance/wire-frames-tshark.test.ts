// Conformance of the proxy's frames with an independent dissector: every frame src/wire/frames.ts
// builds, as a whole VXLAN datagram over outer IPv4 and over outer IPv6, is written to a
// raw-IP pcap (link type 101) by text2pcap, then dissected by tshark with IPv4 and UDP checksum
// validation on. No frame may be malformed or carry an expert info of severity error, and the
// fields tshark reads (opcodes, flags, addresses, link-layer options, VNI, checksum status) must
// be the ones built.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ipBytes } from "../../src/net/addr.js";
import { NA_OVERRIDE, NA_ROUTER } from "../../src/wire/arpnd.js";
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
  OUTER_IPV4_UDP_LENGTH,
  OUTER_IPV6_UDP_LENGTH,
  VXLAN_HEADER_LENGTH,
  vxlanSourcePort,
} from "../../src/wire/frames.js";
import { requireTools } from "../helpers/env.js";
import { h } from "../helpers/hex.js";
import {
  decodedWire,
  H1_IP,
  H1_IP6,
  H1_MAC,
  H2,
  H2_IP,
  H2_IP6,
  H2_MAC,
  H2_V4,
  H2_V6,
  PROXY,
  PROXY_LL,
  PROXY_MAC,
} from "../helpers/wire-vectors.js";

const VNI = 0xabcdef;
const DOT1Q = h("8100001e");
const QINQ = h("88a800c881000064");

/** The fields each frame must show; "" for a field tshark must not report. */
interface Expect {
  name: string;
  build: (out: Uint8Array, off: number) => number;
  fields: Record<string, string>;
}

const ARP_REPLY = { "arp.opcode": "2", "arp.src.hw_mac": H2_MAC, "arp.src.proto_ipv4": H2_IP };
const NA_TO_H1 = {
  "icmpv6.type": "136",
  "icmpv6.nd.na.target_address": H2_IP6,
  "icmpv6.opt.linkaddr": H2_MAC,
  "icmpv6.checksum.status": "1",
};
const NA_ALL = {
  ...NA_TO_H1,
  "eth.dst": "33:33:00:00:00:01",
  "icmpv6.nd.na.flag.r": "0",
  "icmpv6.nd.na.flag.s": "0",
  "icmpv6.nd.na.flag.o": "1",
};

const FRAMES: Expect[] = [
  {
    name: "ARP reply",
    build: (o, off) => buildArpReply(o, off, decodedWire("arp-request"), H2),
    fields: { ...ARP_REPLY, "eth.dst": H1_MAC, "arp.dst.hw_mac": H1_MAC, "arp.dst.proto_ipv4": H1_IP, "vlan.id": "" },
  },
  {
    name: "ARP reply, 802.1Q",
    build: (o, off) => buildArpReply(o, off, decodedWire("arp-request-dot1q"), H2),
    fields: { ...ARP_REPLY, "vlan.id": "30", "arp.dst.proto_ipv4": H1_IP },
  },
  {
    name: "ARP reply, QinQ",
    build: (o, off) => buildArpReply(o, off, decodedWire("arp-request-qinq"), H2),
    fields: { ...ARP_REPLY, "ieee8021ad.id": "200", "vlan.id": "100", "arp.dst.proto_ipv4": H1_IP },
  },
  {
    name: "ARP reply to a probe",
    build: (o, off) => buildArpReply(o, off, decodedWire("arp-probe"), H2),
    fields: { ...ARP_REPLY, "arp.dst.hw_mac": H1_MAC, "arp.dst.proto_ipv4": "0.0.0.0" },
  },
  {
    name: "gratuitous ARP",
    build: (o, off) => buildGratuitousArp(o, off, H2, 0, H2_V4, DOT1Q),
    fields: {
      "eth.dst": "ff:ff:ff:ff:ff:ff",
      "arp.opcode": "1",
      "arp.src.hw_mac": H2_MAC,
      "arp.src.proto_ipv4": H2_IP,
      "arp.dst.proto_ipv4": H2_IP,
      "arp.isannouncement": "1",
      "vlan.id": "30",
    },
  },
  {
    name: "ARP refresh probe",
    build: (o, off) => buildArpRefresh(o, off, PROXY, H2, 0, H2_V4),
    fields: {
      "eth.dst": H2_MAC,
      "eth.src": PROXY_MAC,
      "arp.opcode": "1",
      "arp.src.hw_mac": PROXY_MAC,
      "arp.src.proto_ipv4": "0.0.0.0",
      "arp.dst.proto_ipv4": H2_IP,
      "arp.isprobe": "1",
    },
  },
  {
    name: "NA answering an NS, S+O",
    build: (o, off) => buildNaReply(o, off, decodedWire("ns"), H2, 0, NA_OVERRIDE),
    fields: {
      ...NA_TO_H1,
      "eth.dst": H1_MAC,
      "eth.src": H2_MAC,
      "icmpv6.nd.na.flag.r": "0",
      "icmpv6.nd.na.flag.s": "1",
      "icmpv6.nd.na.flag.o": "1",
      "icmpv6.opt.type": "2",
    },
  },
  {
    name: "NA answering an NS, R+S+O, 802.1Q",
    build: (o, off) => buildNaReply(o, off, decodedWire("ns-dot1q"), H2, 0, NA_ROUTER | NA_OVERRIDE),
    fields: {
      ...NA_TO_H1,
      "vlan.id": "30",
      "icmpv6.nd.na.flag.r": "1",
      "icmpv6.nd.na.flag.s": "1",
      "icmpv6.nd.na.flag.o": "1",
    },
  },
  {
    name: "NA answering a DAD NS",
    build: (o, off) => buildNaReply(o, off, decodedWire("ns-dad"), H2, 0, NA_OVERRIDE),
    fields: NA_ALL,
  },
  {
    name: "unsolicited NA",
    build: (o, off) => buildUnsolicitedNa(o, off, H2, 0, H2_V6, 0, NA_OVERRIDE, QINQ),
    fields: { ...NA_ALL, "ieee8021ad.id": "200", "vlan.id": "100" },
  },
  {
    name: "NS refresh",
    build: (o, off) => buildNsRefresh(o, off, PROXY, H2, 0, H2_V6, 0),
    fields: {
      "eth.dst": H2_MAC,
      "eth.src": PROXY_MAC,
      "icmpv6.type": "135",
      "icmpv6.nd.ns.target_address": H2_IP6,
      "icmpv6.opt.type": "1",
      "icmpv6.opt.linkaddr": PROXY_MAC,
      "icmpv6.checksum.status": "1",
    },
  },
];

/** The inner IPv6 header's addresses per frame, after the outer ones in ipv6.src/ipv6.dst. */
const INNER_IPV6: Record<string, [string, string]> = {
  "NA answering an NS, S+O": [H2_IP6, H1_IP6],
  "NA answering an NS, R+S+O, 802.1Q": [H2_IP6, H1_IP6],
  "NA answering a DAD NS": [H2_IP6, "ff02::1"],
  "unsolicited NA": [H2_IP6, "ff02::1"],
  "NS refresh": [PROXY_LL, "ff02::1:ff00:2"],
};

const V4_SRC = 0xc0000204; // 192.0.2.4
const V4_DST = 0xc0000201; // 192.0.2.1
const V6_SRC = ipBytes("2001:db8::4")!;
const V6_DST = ipBytes("2001:db8::1")!;

/** A whole datagram: inner frame, VXLAN header, outer header (the composition frames.ts documents). */
function datagram(f: Expect, v6: boolean, ident: number): Uint8Array {
  const out = new Uint8Array(256);
  const outer = v6 ? OUTER_IPV6_UDP_LENGTH : OUTER_IPV4_UDP_LENGTH;
  const innerAt = outer + VXLAN_HEADER_LENGTH;
  const inner = f.build(out, innerAt);
  buildVxlanHeader(out, outer, VNI);
  const payload = VXLAN_HEADER_LENGTH + inner;
  const port = vxlanSourcePort(out, innerAt);
  if (v6) buildOuterIpv6Udp(out, 0, V6_SRC, V6_DST, port, 4789, payload, 64);
  else buildOuterIpv4Udp(out, 0, V4_SRC, V4_DST, port, 4789, payload, 64, ident);
  return out.slice(0, outer + payload);
}

function hexDump(packets: Uint8Array[]): string {
  const lines: string[] = [];
  for (const p of packets) {
    for (let off = 0; off < p.length; off += 16)
      lines.push(
        `${off.toString(16).padStart(6, "0")} ${Buffer.from(p.subarray(off, off + 16))
          .toString("hex")
          .replace(/(..)/g, "$1 ")}`,
      );
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

const FIELDS = [
  "ip.src",
  "ip.dst",
  "ip.checksum.status",
  "ip.flags.df",
  "ipv6.src",
  "ipv6.dst",
  "ipv6.hlim",
  "udp.dstport",
  "udp.srcport",
  "udp.checksum.status",
  "vxlan.vni",
  "eth.dst",
  "eth.src",
  "vlan.id",
  "ieee8021ad.id",
  "arp.opcode",
  "arp.src.hw_mac",
  "arp.src.proto_ipv4",
  "arp.dst.hw_mac",
  "arp.dst.proto_ipv4",
  "arp.isannouncement",
  "arp.isprobe",
  "icmpv6.type",
  "icmpv6.code",
  "icmpv6.checksum.status",
  "icmpv6.nd.na.flag.r",
  "icmpv6.nd.na.flag.s",
  "icmpv6.nd.na.flag.o",
  "icmpv6.nd.na.target_address",
  "icmpv6.nd.ns.target_address",
  "icmpv6.opt.type",
  "icmpv6.opt.linkaddr",
];

function tshark(pcap: string, configDir: string, args: string[]): string {
  return execFileSync(
    "tshark",
    ["-n", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", ...args],
    { encoding: "utf8", env: { ...process.env, WIRESHARK_CONFIG_DIR: configDir }, timeout: 60_000 },
  );
}

describe("tshark dissects the frames the proxy builds", () => {
  test("no malformed or expert-error frame; opcodes, flags and addresses as built", (t) => {
    if (!requireTools(t, ["tshark", "text2pcap"])) return;
    const packets: { f: Expect; v6: boolean; bytes: Uint8Array }[] = [];
    for (const v6 of [false, true])
      for (const f of FRAMES) packets.push({ f, v6, bytes: datagram(f, v6, packets.length + 1) });
    const dir = mkdtempSync(join(tmpdir(), "wire-tshark-"));
    try {
      const dump = join(dir, "frames.txt");
      const pcap = join(dir, "frames.pcap");
      const configDir = join(dir, "config"); // an empty profile: the user's preferences stay out
      writeFileSync(dump, hexDump(packets.map((p) => p.bytes)));
      execFileSync("text2pcap", ["-q", "-F", "pcap", "-l", "101", dump, pcap], { timeout: 60_000 });

      const problems = tshark(pcap, configDir, ["-Y", '_ws.malformed or _ws.expert.severity >= "error"']);
      assert.equal(problems, "", `tshark reports problems:\n${problems}`);

      const rows = tshark(pcap, configDir, [
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
        ...FIELDS.flatMap((f) => ["-e", f]),
      ])
        .split("\n")
        .filter((l) => l !== "");
      assert.equal(rows.length, packets.length);
      for (const [i, row] of rows.entries()) {
        const { f, v6 } = packets[i]!;
        const got = Object.fromEntries(row.split("\t").map((v, k) => [FIELDS[k]!, v]));
        const inner6 = INNER_IPV6[f.name];
        const want: Record<string, string> = {
          "vxlan.vni": String(VNI),
          "udp.dstport": "4789",
          "udp.checksum.status": v6 ? "1" : "3", // 1 good, 3 not present (0 over IPv4)
          "ip.src": v6 ? "" : "192.0.2.4",
          "ip.dst": v6 ? "" : "192.0.2.1",
          "ip.checksum.status": v6 ? "" : "1",
          "ip.flags.df": v6 ? "" : "0",
          "ipv6.src": [...(v6 ? ["2001:db8::4"] : []), ...(inner6 ? [inner6[0]] : [])].join(","),
          "ipv6.dst": [...(v6 ? ["2001:db8::1"] : []), ...(inner6 ? [inner6[1]] : [])].join(","),
          "ipv6.hlim": [...(v6 ? ["64"] : []), ...(inner6 ? ["255"] : [])].join(","),
          "icmpv6.code": inner6 ? "0" : "",
          ...f.fields,
        };
        const where = `${f.name} over IPv${v6 ? 6 : 4}`;
        for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${where}: ${k}`);
        const port = Number(got["udp.srcport"]);
        assert.ok(port >= 49152 && port <= 65535, `${where}: source port ${port}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
