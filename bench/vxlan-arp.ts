// VXLAN-carried ARP requests for the learning benchmarks: one MAC per index.

/** The MAC of index `k`: 02:00 (locally administered) and k in the low 32 bits. */
export function benchMac(k: number): string {
  const h = (v: number) => (v & 0xff).toString(16).padStart(2, "0");
  return `02:00:${h(k >>> 24)}:${h(k >>> 16)}:${h(k >>> 8)}:${h(k)}`;
}

/** The index of a MAC made by benchMac, or -1. */
export function benchMacIndex(mac: string): number {
  if (!mac.startsWith("02:00:")) return -1;
  return parseInt(mac.slice(6).replace(/:/g, ""), 16);
}

/**
 * A VXLAN datagram (RFC 7348 §5: I flag, 24-bit VNI) carrying an Ethernet broadcast ARP request
 * (RFC 826) from MAC index `k` with sender IP 198.51.100.`host`,
 * padded to a 60-byte inner frame: 68 bytes.
 */
export function arpDatagram(vni: number, k: number, host: number): Uint8Array {
  const b = new Uint8Array(8 + 60);
  b[0] = 0x08; // I flag
  b[4] = (vni >> 16) & 0xff;
  b[5] = (vni >> 8) & 0xff;
  b[6] = vni & 0xff;
  const src = [0x02, 0x00, (k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff];
  b.fill(0xff, 8, 14); // broadcast destination
  b.set(src, 14);
  b[20] = 0x08; // EtherType ARP
  b[21] = 0x06;
  const a = 22;
  b.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], a); // Ethernet/IPv4, request
  b.set(src, a + 8); // sender MAC
  b.set([198, 51, 100, host], a + 14); // sender IP
  b.set([198, 51, 100, host === 254 ? 253 : 254], a + 24); // target IP
  return b;
}

/** The IPv6 address of index `k`: 2001:db8::2:0:<k> (documentation range, RFC 3849). */
export function benchIpv6(k: number): Uint8Array {
  const a = new Uint8Array(16);
  a.set([0x20, 0x01, 0x0d, 0xb8], 0);
  a[9] = 2;
  a[12] = (k >>> 24) & 0xff;
  a[13] = (k >>> 16) & 0xff;
  a[14] = (k >>> 8) & 0xff;
  a[15] = k & 0xff;
  return a;
}

/**
 * A VXLAN datagram carrying an IPv6 neighbour solicitation (RFC 4861 §4.3) from MAC index `k`
 * and source address benchIpv6(k), with the source link-layer address option (§4.6.1), to the
 * solicited-node multicast group of 2001:db8::1: 94 bytes.
 */
export function ndDatagram(vni: number, k: number): Uint8Array {
  const b = new Uint8Array(8 + 14 + 40 + 32);
  b[0] = 0x08; // I flag
  b[4] = (vni >> 16) & 0xff;
  b[5] = (vni >> 8) & 0xff;
  b[6] = vni & 0xff;
  const src = [0x02, 0x00, (k >>> 24) & 0xff, (k >>> 16) & 0xff, (k >>> 8) & 0xff, k & 0xff];
  const target = benchIpv6(0);
  target[9] = 0;
  target[15] = 1; // 2001:db8::1
  // RFC 4291 §2.7.1: ff02::1:ff00:0/104 plus the target's low 24 bits; RFC 2464 §7: 33:33 + low 32.
  const group = new Uint8Array(16);
  group.set([0xff, 0x02], 0);
  group.set([0x00, 0x01, 0xff, target[13]!, target[14]!, target[15]!], 10);
  b.set([0x33, 0x33, ...group.subarray(12)], 8);
  b.set(src, 14);
  b[20] = 0x86; // EtherType IPv6
  b[21] = 0xdd;
  const ip = 22;
  b[ip] = 0x60;
  b[ip + 5] = 32; // payload length: NS 24 + option 8
  b[ip + 6] = 58; // ICMPv6
  b[ip + 7] = 255; // hop limit (RFC 4861 §7.1.1)
  b.set(benchIpv6(k), ip + 8);
  b.set(group, ip + 24);
  const icmp = ip + 40;
  b[icmp] = 135;
  b.set(target, icmp + 8);
  b[icmp + 24] = 1; // source link-layer address option, length 1 (8 octets)
  b[icmp + 25] = 1;
  b.set(src, icmp + 26);
  // RFC 4443 §2.3: checksum over the pseudo-header (RFC 8200 §8.1) and the message.
  let sum = 32 + 58;
  for (let i = ip + 8; i < ip + 40; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  for (let i = icmp; i < icmp + 32; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[icmp + 2] = c >> 8;
  b[icmp + 3] = c & 0xff;
  return b;
}
