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
