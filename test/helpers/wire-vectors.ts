// Inner Ethernet frames of the ARP/ND proxy, as hex with "|" between layers: Ethernet [+ tags] |
// ARP, or Ethernet | IPv6 | ICMPv6. Assembled by hand from RFC 826 / RFC 4861 §4.3-4.4 layouts;
// the ICMPv6 checksums were computed by an independent implementation (Python: struct +
// RFC 1071 sum over the RFC 8200 §8.1 pseudo-header), and the NS/NA ones agree with the
// vectors of dataplane-packet.test.ts that share their addresses.
//
// Documentation addresses only. H1 (requester) 02:00:00:00:01:01 198.51.100.1 2001:db8:100::1;
// H2 (answered) 02:00:00:00:01:02 198.51.100.2 2001:db8:100::2; the proxy 192.0.2.4 with MAC
// 02:00:c0:00:02:04 and link-local fe80::c0ff:fe00:204. Tags: 802.1Q VLAN 30 (8100 001e);
// QinQ 802.1ad VLAN 200 + 802.1Q VLAN 100 (88a8 00c8 8100 0064).
import assert from "node:assert/strict";
import { ipBytes, parseMacInto } from "../../src/net/addr.js";
import { type ArpNdMessage, decodeArpNdInto, newArpNdMessage } from "../../src/wire/arpnd.js";
import { proxyIdentity } from "../../src/wire/frames.js";
import { h } from "./hex.js";

export const H1_MAC = "02:00:00:00:01:01";
export const H2_MAC = "02:00:00:00:01:02";
export const PROXY_MAC = "02:00:c0:00:02:04";
export const H1_IP = "198.51.100.1";
export const H2_IP = "198.51.100.2";
export const H1_IP6 = "2001:db8:100::1";
export const H2_IP6 = "2001:db8:100::2";
export const PROXY_LL = "fe80::c0ff:fe00:204";

export function macBytes(s: string): Uint8Array {
  const b = new Uint8Array(6);
  assert.ok(parseMacInto(s, b, 0), s);
  return b;
}

/** H2 as the builders take it: MAC bytes, IPv4 as a number, IPv6 bytes; the proxy's identity. */
export const H2 = macBytes(H2_MAC);
export const H2_V4 = 0xc6336402;
export const H2_V6 = ipBytes(H2_IP6)!;
export const PROXY = proxyIdentity(macBytes(PROXY_MAC));

export const W = {
  // ARP request "who has 198.51.100.2, tell 198.51.100.1": broadcast, op 1, sha H1, spa H1,
  // tha 0, tpa H2.
  "arp-request": "ffffffffffff 020000000101 0806 | 0001 0800 06 04 0001 020000000101 c6336401 000000000000 c6336402",
  "arp-request-dot1q":
    "ffffffffffff 020000000101 8100001e 0806 | 0001 0800 06 04 0001 020000000101 c6336401 000000000000 c6336402",
  "arp-request-qinq":
    "ffffffffffff 020000000101 88a800c8 81000064 0806 | 0001 0800 06 04 0001 020000000101 c6336401 000000000000 c6336402",
  // The proxy's answer for H2: to H1 from H2, op 2, sha H2, spa H2, tha H1, tpa H1.
  "arp-reply": "020000000101 020000000102 0806 | 0001 0800 06 04 0002 020000000102 c6336402 020000000101 c6336401",
  "arp-reply-dot1q":
    "020000000101 020000000102 8100001e 0806 | 0001 0800 06 04 0002 020000000102 c6336402 020000000101 c6336401",
  "arp-reply-qinq":
    "020000000101 020000000102 88a800c8 81000064 0806 | 0001 0800 06 04 0002 020000000102 c6336402 020000000101 c6336401",
  // RFC 5227 probe from H1 for 198.51.100.2: spa 0.0.0.0; its reply has tpa 0.0.0.0.
  "arp-probe": "ffffffffffff 020000000101 0806 | 0001 0800 06 04 0001 020000000101 00000000 000000000000 c6336402",
  "arp-probe-reply":
    "020000000101 020000000102 0806 | 0001 0800 06 04 0002 020000000102 c6336402 020000000101 00000000",
  // RFC 5227 §3 announcement of H2: broadcast request, spa = tpa = H2, tha 0.
  garp: "ffffffffffff 020000000102 0806 | 0001 0800 06 04 0001 020000000102 c6336402 000000000000 c6336402",
  // RFC 9161 §3.5 refresh: unicast probe to H2 from the proxy, spa 0.0.0.0, tpa H2.
  "arp-refresh": "020000000102 0200c0000204 0806 | 0001 0800 06 04 0001 0200c0000204 00000000 000000000000 c6336402",
  // NS from H1 for H2: to 33:33:ff:00:00:02 / ff02::1:ff00:2, hop limit 255, payload 32;
  // type 135 code 0 checksum 0x1927, reserved, target H2, option 1 (SLLA) length 1 = H1.
  ns:
    "3333ff000002 020000000101 86dd | 60000000 0020 3a ff 20010db8010000000000000000000001 ff0200000000000000000001ff000002" +
    " | 87 00 1927 00000000 20010db8010000000000000000000002 01 01 020000000101",
  "ns-dot1q":
    "3333ff000002 020000000101 8100001e 86dd | 60000000 0020 3a ff 20010db8010000000000000000000001 ff0200000000000000000001ff000002" +
    " | 87 00 1927 00000000 20010db8010000000000000000000002 01 01 020000000101",
  // The same NS without the SLLA option: payload 24, checksum 0x1d31.
  "ns-no-slla":
    "3333ff000002 020000000101 86dd | 60000000 0018 3a ff 20010db8010000000000000000000001 ff0200000000000000000001ff000002" +
    " | 87 00 1d31 00000000 20010db8010000000000000000000002",
  // DAD NS (RFC 4862 §5.4) for H2's address: source ::, no option, checksum 0x4beb.
  "ns-dad":
    "3333ff000002 020000000101 86dd | 60000000 0018 3a ff 00000000000000000000000000000000 ff0200000000000000000001ff000002" +
    " | 87 00 4beb 00000000 20010db8010000000000000000000002",
  // NA answering the NS for H2: to H1 from H2 (IPv6 src = target), type 136, flags S+O (0x60),
  // target H2, option 2 (TLLA) length 1 = H2; checksum 0x8671.
  "na-reply-so":
    "020000000101 020000000102 86dd | 60000000 0020 3a ff 20010db8010000000000000000000002 20010db8010000000000000000000001" +
    " | 88 00 8671 60000000 20010db8010000000000000000000002 02 01 020000000102",
  // The same with R as well (0xe0): checksum 0x0671.
  "na-reply-rso":
    "020000000101 020000000102 86dd | 60000000 0020 3a ff 20010db8010000000000000000000002 20010db8010000000000000000000001" +
    " | 88 00 0671 e0000000 20010db8010000000000000000000002 02 01 020000000102",
  "na-reply-rso-dot1q":
    "020000000101 020000000102 8100001e 86dd | 60000000 0020 3a ff 20010db8010000000000000000000002 20010db8010000000000000000000001" +
    " | 88 00 0671 e0000000 20010db8010000000000000000000002 02 01 020000000102",
  // NA answering the DAD NS, and the unsolicited NA of H2 (identical): to 33:33:00:00:00:01 /
  // ff02::1, flags O only (0x20), TLLA H2; checksum 0xf627.
  "na-all-nodes":
    "333300000001 020000000102 86dd | 60000000 0020 3a ff 20010db8010000000000000000000002 ff020000000000000000000000000001" +
    " | 88 00 f627 20000000 20010db8010000000000000000000002 02 01 020000000102",
  // RFC 9161 §3.5 refresh NS: to H2's MAC but to ff02::1:ff00:2, from the proxy's link-local
  // fe80::c0ff:fe00:204, target H2, SLLA = the proxy's MAC; checksum 0xc757.
  "ns-refresh":
    "020000000102 0200c0000204 86dd | 60000000 0020 3a ff fe800000000000000000c0fffe000204 ff0200000000000000000001ff000002" +
    " | 87 00 c757 00000000 20010db8010000000000000000000002 01 01 0200c0000204",
} as const;

export type WireName = keyof typeof W;

export function wire(n: WireName): Uint8Array {
  return h(W[n].replace(/\s/g, ""));
}

/** A vector decoded by decodeArpNdInto (which must accept it). */
export function decodedWire(n: WireName): ArpNdMessage {
  const m = newArpNdMessage();
  const b = wire(n);
  assert.equal(decodeArpNdInto(m, b, 0, b.length), null, n);
  return m;
}

/** Byte offset of layer `i` ("|"-separated) of a vector. */
export function wireLayer(n: WireName, i: number): number {
  return W[n]
    .split("|")
    .slice(0, i)
    .reduce((s, p) => s + p.replace(/\s/g, "").length / 2, 0);
}

/**
 * RFC 1071 Internet checksum of `bytes` (an odd last byte padded), written apart from src/wire
 * so that tests check the builders against a second implementation.
 */
export function internetChecksum(bytes: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The IPv6 pseudo-header (RFC 8200 §8.1) of the IPv6 header at `ip` followed by `length` bytes. */
export function pseudoHeader(b: Uint8Array, ip: number, length: number, nextHeader: number): number[] {
  return [...b.subarray(ip + 8, ip + 40), 0, 0, length >> 8, length & 255, 0, 0, 0, nextHeader];
}
