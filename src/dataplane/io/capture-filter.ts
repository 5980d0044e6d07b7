// The classic BPF programs the live capture attaches to its AF_PACKET socket (native/capture.c,
// SO_ATTACH_FILTER), so that the kernel queues only VXLAN-carried ARP and ND. Compiled once with
//   tcpdump -dd -y EN10MB "<expression>"        (tcpdump 4.99.3, libpcap 1.10.3)
// and kept as tcpdump printed them (struct sock_filter: code, jt, jf, k);
// test/unit/capture-filter.test.ts compiles the expressions again and compares.
//
// Offsets, for the Ethernet link type: the kernel runs the program on the frame without the
// VLAN tag it took out (native/capture.c), so `vlan` covers one tag left in the frame. From the
// outer UDP header u (RFC 7348 §5): VXLAN header at u+8, inner Ethernet at u+16, inner EtherType
// at u+28: ARP 0x0806, or IPv6 0x86dd with next header 58 (ICMPv6) at u+36 and type 135 (NS) or
// 136 (NA) at u+70 (RFC 4861 §4.3, §4.4); an inner frame with one 802.1Q tag has these 4 bytes
// later. libpcap's udp[] is the UDP header of unfragmented IPv4 only; outer IPv6 is written with
// ip6[] for UDP right after the fixed header (u = 40: no extension headers). UDP port 4789 only.

import { ProxyError } from "../../errors.js";

/** ARP and ND (inner frame untagged or with one tag) in VXLAN over IPv4 or IPv6. */
const VXLAN_ARP_ND = [
  "(udp dst port 4789 and (udp[28:2] = 0x0806 or (udp[28:2] = 0x86dd and udp[36] = 58 and (udp[70] = 135 or udp[70] = 136))",
  "or (udp[28:2] = 0x8100 and (udp[32:2] = 0x0806 or (udp[32:2] = 0x86dd and udp[40] = 58 and (udp[74] = 135 or udp[74] = 136))))))",
  "or (ip6 and ip6[6] = 17 and ip6[42:2] = 4789 and (ip6[68:2] = 0x0806 or (ip6[68:2] = 0x86dd and ip6[76] = 58 and (ip6[110] = 135 or ip6[110] = 136))",
  "or (ip6[68:2] = 0x8100 and (ip6[72:2] = 0x0806 or (ip6[72:2] = 0x86dd and ip6[80] = 58 and (ip6[114] = 135 or ip6[114] = 136))))))",
].join(" ");

export interface CaptureFilter {
  /** The tcpdump expression the program was compiled from. */
  readonly expression: string;
  /** `tcpdump -dd -y EN10MB` output: one `{ code, jt, jf, k },` per line. */
  readonly dd: string;
}

/** VXLAN-carried ARP and ND, in a frame with at most one VLAN tag left. */
export const ARP_ND_FILTER: CaptureFilter = {
  expression: `${VXLAN_ARP_ND} or (vlan and (${VXLAN_ARP_ND}))`,
  dd: `
{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 15, 0x000086dd },
{ 0x30, 0, 0, 0x00000014 },
{ 0x15, 0, 81, 0x00000011 },
{ 0x28, 0, 0, 0x00000038 },
{ 0x15, 0, 79, 0x000012b5 },
{ 0x28, 0, 0, 0x00000052 },
{ 0x15, 76, 0, 0x00000806 },
{ 0x15, 0, 4, 0x000086dd },
{ 0x30, 0, 0, 0x0000005a },
{ 0x15, 0, 74, 0x0000003a },
{ 0x30, 0, 0, 0x0000007c },
{ 0x15, 71, 70, 0x00000087 },
{ 0x15, 0, 71, 0x00008100 },
{ 0x28, 0, 0, 0x00000056 },
{ 0x15, 68, 0, 0x00000806 },
{ 0x15, 31, 68, 0x000086dd },
{ 0x15, 0, 18, 0x00000800 },
{ 0x30, 0, 0, 0x00000017 },
{ 0x15, 0, 65, 0x00000011 },
{ 0x28, 0, 0, 0x00000014 },
{ 0x45, 63, 0, 0x00001fff },
{ 0xb1, 0, 0, 0x0000000e },
{ 0x48, 0, 0, 0x00000010 },
{ 0x15, 0, 60, 0x000012b5 },
{ 0x48, 0, 0, 0x0000002a },
{ 0x15, 57, 0, 0x00000806 },
{ 0x15, 0, 4, 0x000086dd },
{ 0x50, 0, 0, 0x00000032 },
{ 0x15, 0, 55, 0x0000003a },
{ 0x50, 0, 0, 0x00000054 },
{ 0x15, 52, 51, 0x00000087 },
{ 0x15, 0, 52, 0x00008100 },
{ 0x48, 0, 0, 0x0000002e },
{ 0x15, 49, 0, 0x00000806 },
{ 0x15, 35, 49, 0x000086dd },
{ 0x15, 2, 0, 0x00008100 },
{ 0x15, 1, 0, 0x000088a8 },
{ 0x15, 0, 46, 0x00009100 },
{ 0x28, 0, 0, 0x00000010 },
{ 0x15, 0, 19, 0x000086dd },
{ 0x30, 0, 0, 0x00000018 },
{ 0x15, 0, 42, 0x00000011 },
{ 0x28, 0, 0, 0x0000003c },
{ 0x15, 0, 40, 0x000012b5 },
{ 0x28, 0, 0, 0x00000056 },
{ 0x15, 37, 0, 0x00000806 },
{ 0x15, 0, 4, 0x000086dd },
{ 0x30, 0, 0, 0x0000005e },
{ 0x15, 0, 35, 0x0000003a },
{ 0x30, 0, 0, 0x00000080 },
{ 0x15, 32, 31, 0x00000087 },
{ 0x15, 0, 32, 0x00008100 },
{ 0x28, 0, 0, 0x0000005a },
{ 0x15, 29, 0, 0x00000806 },
{ 0x15, 0, 29, 0x000086dd },
{ 0x30, 0, 0, 0x00000062 },
{ 0x15, 0, 27, 0x0000003a },
{ 0x30, 0, 0, 0x00000084 },
{ 0x15, 24, 23, 0x00000087 },
{ 0x15, 0, 24, 0x00000800 },
{ 0x30, 0, 0, 0x0000001b },
{ 0x15, 0, 22, 0x00000011 },
{ 0x28, 0, 0, 0x00000018 },
{ 0x45, 20, 0, 0x00001fff },
{ 0xb1, 0, 0, 0x00000012 },
{ 0x48, 0, 0, 0x00000014 },
{ 0x15, 0, 17, 0x000012b5 },
{ 0x48, 0, 0, 0x0000002e },
{ 0x15, 14, 0, 0x00000806 },
{ 0x15, 0, 4, 0x000086dd },
{ 0x50, 0, 0, 0x00000036 },
{ 0x15, 0, 12, 0x0000003a },
{ 0x50, 0, 0, 0x00000058 },
{ 0x15, 9, 8, 0x00000087 },
{ 0x15, 0, 9, 0x00008100 },
{ 0x48, 0, 0, 0x00000032 },
{ 0x15, 6, 0, 0x00000806 },
{ 0x15, 0, 6, 0x000086dd },
{ 0x50, 0, 0, 0x0000003a },
{ 0x15, 0, 4, 0x0000003a },
{ 0x50, 0, 0, 0x0000005c },
{ 0x15, 1, 0, 0x00000087 },
{ 0x15, 0, 1, 0x00000088 },
{ 0x6, 0, 0, 0x00040000 },
{ 0x6, 0, 0, 0x00000000 },
`,
};

/** Every VXLAN datagram (learning.any-frame). */
export const ANY_FRAME_FILTER: CaptureFilter = {
  expression: "udp dst port 4789 or (vlan and udp dst port 4789)",
  dd: `
{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 4, 0x000086dd },
{ 0x30, 0, 0, 0x00000014 },
{ 0x15, 0, 28, 0x00000011 },
{ 0x28, 0, 0, 0x00000038 },
{ 0x15, 25, 26, 0x000012b5 },
{ 0x15, 0, 7, 0x00000800 },
{ 0x30, 0, 0, 0x00000017 },
{ 0x15, 0, 23, 0x00000011 },
{ 0x28, 0, 0, 0x00000014 },
{ 0x45, 21, 0, 0x00001fff },
{ 0xb1, 0, 0, 0x0000000e },
{ 0x48, 0, 0, 0x00000010 },
{ 0x15, 17, 18, 0x000012b5 },
{ 0x15, 2, 0, 0x00008100 },
{ 0x15, 1, 0, 0x000088a8 },
{ 0x15, 0, 15, 0x00009100 },
{ 0x28, 0, 0, 0x00000010 },
{ 0x15, 0, 4, 0x000086dd },
{ 0x30, 0, 0, 0x00000018 },
{ 0x15, 0, 11, 0x00000011 },
{ 0x28, 0, 0, 0x0000003c },
{ 0x15, 8, 9, 0x000012b5 },
{ 0x15, 0, 8, 0x00000800 },
{ 0x30, 0, 0, 0x0000001b },
{ 0x15, 0, 6, 0x00000011 },
{ 0x28, 0, 0, 0x00000018 },
{ 0x45, 4, 0, 0x00001fff },
{ 0xb1, 0, 0, 0x00000012 },
{ 0x48, 0, 0, 0x00000014 },
{ 0x15, 0, 1, 0x000012b5 },
{ 0x6, 0, 0, 0x00040000 },
{ 0x6, 0, 0, 0x00000000 },
`,
};

/** The instructions of `tcpdump -dd` output, [code, jt, jf, k] each, as native/capture.c takes them. */
export function filterProgram(dd: string): Uint32Array {
  const rows = dd
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const out = new Uint32Array(rows.length * 4);
  rows.forEach((row, i) => {
    const m = /^\{\s*(0x[0-9a-f]+|\d+),\s*(\d+),\s*(\d+),\s*(0x[0-9a-f]+|\d+)\s*\},?$/i.exec(row);
    if (m === null) throw new ProxyError("ERR_CAPTURE_FILTER", `not a tcpdump -dd line: ${row}`);
    for (let k = 0; k < 4; k++) out[i * 4 + k] = Number(m[k + 1]);
  });
  return out;
}
