// Every frame the proxy sends, written into a caller's buffer at an offset: each builder returns
// the number of bytes written and allocates nothing. A builder throws InvariantError only for a
// caller's mistake (buffer too small, a request of the wrong kind); it reads nothing from the
// network.
//
// Address arguments: a MAC is 6 bytes of a Uint8Array at an offset, an IPv6 address 16 bytes at an
// offset (tables keep them in typed-array columns), an IPv4 address an unsigned 32-bit number.
// Inner 802.1Q/802.1ad tags are the exact tag bytes (4 per tag, NO_TAGS when untagged); replies
// copy the request's own tags. Inner frames are not padded to 60 bytes: VXLAN carries the frame
// as is (RFC 7348 §5), and the kernel's VXLAN device sends ARP frames of 42 bytes the same way.
//
// A datagram for a raw socket is [outer IPv4 (20) or IPv6 (40) | UDP (8) | VXLAN (8) | inner
// frame]: write the inner frame at off + OUTER_*_LENGTH + VXLAN_HEADER_LENGTH first, then the
// VXLAN header, then the outer header with payloadLength = VXLAN_HEADER_LENGTH + inner length
// (the IPv6 UDP checksum covers the payload, which must already be in place).

import { InvariantError } from "../errors.js";
import { type ArpNdMessage, NA_OVERRIDE, NA_ROUTER, NA_SOLICITED } from "./arpnd.js";
import {
  ETH_ARP,
  ETH_IPV4,
  ETH_IPV6,
  fold16,
  ICMPV6,
  ipv6PseudoSum,
  ND_NA,
  ND_NS,
  OPT_SLLA,
  OPT_TLLA,
  sum16,
} from "./packet.js";

export const VXLAN_HEADER_LENGTH = 8;
/** Outer IPv4 header (no options) + UDP header. */
export const OUTER_IPV4_UDP_LENGTH = 28;
/** Outer IPv6 header (no extension headers) + UDP header. */
export const OUTER_IPV6_UDP_LENGTH = 48;
export const NO_TAGS = new Uint8Array(0);

const ARP_LENGTH = 28;
/** ICMPv6 NS/NA (24) + one link-layer address option (8). */
const ND_LENGTH = 32;
const UDP = 17;

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** ff02::1 and its MAC 33:33:00:00:00:01 (RFC 2464 §7: 33:33 + the low 32 bits). */
const ALL_NODES = new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const ALL_NODES_MAC = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);
const ZERO = new Uint8Array(16);

function room(out: Uint8Array, off: number, n: number): void {
  if (off < 0 || off + n > out.length)
    throw new InvariantError("ERR_WIRE_BUFFER", `a ${n}-byte frame does not fit at ${off} in ${out.length} bytes`);
}

function copy(out: Uint8Array, o: number, src: Uint8Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) out[o + i] = src[from + i];
}

function put16(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 8;
  out[o + 1] = v;
}

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
}

/** Ethernet header: destination, source, `tagLen` tag bytes, EtherType; returns the payload offset. */
function ethernet(
  out: Uint8Array,
  o: number,
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  srcOff: number,
  tags: Uint8Array,
  tagsOff: number,
  tagLen: number,
  type: number,
): number {
  copy(out, o, dst, dstOff, 6);
  copy(out, o + 6, src, srcOff, 6);
  copy(out, o + 12, tags, tagsOff, tagLen);
  put16(out, o + 12 + tagLen, type);
  return o + 14 + tagLen;
}

function tagLength(tags: Uint8Array): number {
  if (tags.length !== 0 && tags.length !== 4 && tags.length !== 8)
    throw new InvariantError("ERR_WIRE_TAGS", `${tags.length} tag bytes: 0, 4 or 8 expected`);
  return tags.length;
}

// ---- ARP (RFC 826) --------------------------------------------------------------------------

/** Ethernet/IPv4 ARP fixed part: htype 1, ptype 0x0800, hlen 6, plen 4, `op`; returns the sha offset. */
function arpHeader(out: Uint8Array, o: number, op: number): number {
  put16(out, o, 1);
  put16(out, o + 2, ETH_IPV4);
  out[o + 4] = 6;
  out[o + 5] = 4;
  put16(out, o + 6, op);
  return o + 8;
}

/**
 * The reply to an ARP request or probe `req` (decoded by decodeArpNdInto, buffer unchanged) for
 * the MAC `mac[macOff..+6]`: RFC 826's reply swaps the sender and target fields — sha = mac,
 * spa = the requested IP, tha/tpa = the requester's sha/spa — sent to the requester's sha from
 * `mac`, with the request's VLAN tags. A probe (spa 0.0.0.0) thereby gets tpa 0.0.0.0, as Linux
 * answers one (net/ipv4/arp.c, arp_process: "IPv4 duplicate address detection packet", reply to
 * sip 0), which is what an RFC 5227 §2.1.1 prober watches for.
 */
export function buildArpReply(out: Uint8Array, off: number, req: ArpNdMessage, mac: Uint8Array, macOff = 0): number {
  if (req.kind !== "arp-request" && req.kind !== "arp-probe")
    throw new InvariantError("ERR_WIRE_REQUEST", `an ARP reply answers a request or probe, not ${req.kind}`);
  const tagLen = req.tagCount * 4;
  const n = 14 + tagLen + ARP_LENGTH;
  room(out, off, n);
  const b = req.buf;
  let o = ethernet(out, off, b, req.senderMac, mac, macOff, b, req.eth + 12, tagLen, ETH_ARP);
  o = arpHeader(out, o, 2);
  copy(out, o, mac, macOff, 6);
  copy(out, o + 6, b, req.targetIp, 4);
  copy(out, o + 10, b, req.senderMac, 6);
  copy(out, o + 16, b, req.senderIp, 4);
  return n;
}

/** A broadcast ARP request from `sha`: the common shape of announcements and probes. */
function arpRequest(
  out: Uint8Array,
  off: number,
  ethDst: Uint8Array,
  ethDstOff: number,
  sha: Uint8Array,
  shaOff: number,
  spa: number,
  tpa: number,
  tags: Uint8Array,
): number {
  const tagLen = tagLength(tags);
  const n = 14 + tagLen + ARP_LENGTH;
  room(out, off, n);
  let o = ethernet(out, off, ethDst, ethDstOff, sha, shaOff, tags, 0, tagLen, ETH_ARP);
  o = arpHeader(out, o, 1);
  copy(out, o, sha, shaOff, 6);
  put32(out, o + 6, spa);
  copy(out, o + 10, ZERO, 0, 6); // tha: ignored in a request, zero (RFC 5227 §2.1.1, §3)
  put32(out, o + 16, tpa);
  return n;
}

/**
 * Gratuitous ARP for `ip` at `mac`: an RFC 5227 §3 ARP Announcement — a broadcast request with
 * sender IP = target IP = ip, target hardware address zero — as RFC 9161 §3.2 sends when a static
 * or EVPN entry appears. `ip` is the IPv4 address as an unsigned 32-bit number.
 */
export function buildGratuitousArp(
  out: Uint8Array,
  off: number,
  mac: Uint8Array,
  macOff: number,
  ip: number,
  tags: Uint8Array = NO_TAGS,
): number {
  return arpRequest(out, off, BROADCAST, 0, mac, macOff, ip, ip, tags);
}

/**
 * Refresh of a dynamic entry (RFC 9161 §3.5): an ARP probe unicast to the host's MAC — sender
 * the proxy's MAC and 0.0.0.0, target the host's IP (a number). The host answers with a reply
 * that carries its binding (see buildArpReply) and, the sender IP being 0.0.0.0, without adding
 * the proxy to its ARP cache.
 */
export function buildArpRefresh(
  out: Uint8Array,
  off: number,
  proxy: ProxyIdentity,
  hostMac: Uint8Array,
  hostMacOff: number,
  hostIp: number,
  tags: Uint8Array = NO_TAGS,
): number {
  return arpRequest(out, off, hostMac, hostMacOff, proxy.mac, 0, 0, hostIp, tags);
}

// ---- neighbour discovery (RFC 4861) ---------------------------------------------------------

/**
 * IPv6 header (RFC 8200 §3) with traffic class and flow label 0, hop limit 255 (RFC 4861 §7.1),
 * next header ICMPv6, source src[srcOff..+16], destination dst[dstOff..+16].
 */
function ndIpv6(out: Uint8Array, o: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): number {
  put32(out, o, 0x60000000);
  put16(out, o + 4, ND_LENGTH);
  out[o + 6] = ICMPV6;
  out[o + 7] = 255;
  copy(out, o + 8, src, srcOff, 16);
  copy(out, o + 24, dst, dstOff, 16);
  return o + 40;
}

/**
 * ICMPv6 NS or NA after the IPv6 header at `ip`: type, code 0, checksum, flags byte + 3 reserved
 * bytes, target, one link-layer address option (type `opt`, length 1) with the MAC.
 */
function ndMessage(
  out: Uint8Array,
  ip: number,
  type: number,
  flags: number,
  target: Uint8Array,
  targetOff: number,
  opt: number,
  mac: Uint8Array,
  macOff: number,
): void {
  const o = ip + 40;
  out[o] = type;
  out[o + 1] = 0;
  put16(out, o + 2, 0);
  put32(out, o + 4, flags << 24);
  copy(out, o + 8, target, targetOff, 16);
  out[o + 24] = opt;
  out[o + 25] = 1;
  copy(out, o + 26, mac, macOff, 6);
  // RFC 4443 §2.3: one's complement of the sum over the pseudo-header and the message
  put16(out, o + 2, ~fold16(sum16(out, o, o + ND_LENGTH, ipv6PseudoSum(out, ip, ND_LENGTH, ICMPV6))) & 0xffff);
}

/** An NA for target[targetOff..+16] at mac, from the target address: the shape of both NA builders. */
function advertisement(
  out: Uint8Array,
  off: number,
  ethDst: Uint8Array,
  ethDstOff: number,
  tags: Uint8Array,
  tagsOff: number,
  tagLen: number,
  ipDst: Uint8Array,
  ipDstOff: number,
  flags: number,
  target: Uint8Array,
  targetOff: number,
  mac: Uint8Array,
  macOff: number,
): number {
  const n = 14 + tagLen + 40 + ND_LENGTH;
  room(out, off, n);
  const ip = ethernet(out, off, ethDst, ethDstOff, mac, macOff, tags, tagsOff, tagLen, ETH_IPV6);
  ndIpv6(out, ip, target, targetOff, ipDst, ipDstOff);
  ndMessage(out, ip, ND_NA, flags, target, targetOff, OPT_TLLA, mac, macOff);
  return n;
}

/**
 * The NA answering an NS `req` (decoded by decodeArpNdInto, buffer unchanged) for the MAC
 * `mac[macOff..+6]`, per RFC 4861 §7.2.4: from the target address, with the target link-layer
 * address option = mac, hop limit 255. To the solicitation's source — at its source link-layer
 * address option, or without one at the frame's source MAC — with S = 1; for a DAD solicitation
 * (source ::) to ff02::1 at 33:33:00:00:00:01 with S = 0. R and O come from `flags` (NA_ROUTER,
 * NA_OVERRIDE: the entry's flags, RFC 9161 §3.2 / RFC 9047); other bits are ignored. The
 * request's VLAN tags are kept.
 */
export function buildNaReply(
  out: Uint8Array,
  off: number,
  req: ArpNdMessage,
  mac: Uint8Array,
  macOff: number,
  flags: number,
): number {
  const b = req.buf;
  const tagsOff = req.eth + 12;
  const tagLen = req.tagCount * 4;
  const ro = flags & (NA_ROUTER | NA_OVERRIDE);
  if (req.kind === "ns-dad")
    return advertisement(
      out,
      off,
      ALL_NODES_MAC,
      0,
      b,
      tagsOff,
      tagLen,
      ALL_NODES,
      0,
      ro,
      b,
      req.targetIp,
      mac,
      macOff,
    );
  if (req.kind !== "ns")
    throw new InvariantError("ERR_WIRE_REQUEST", `a neighbour advertisement answers a solicitation, not ${req.kind}`);
  const dstMac = req.senderMac >= 0 ? req.senderMac : req.eth + 6;
  const f = ro | NA_SOLICITED;
  return advertisement(out, off, b, dstMac, b, tagsOff, tagLen, b, req.ipSrc, f, b, req.targetIp, mac, macOff);
}

/**
 * Unsolicited NA (RFC 4861 §7.2.6) for ip6[ip6Off..+16] at mac[macOff..+6]: from the address,
 * to ff02::1 at 33:33:00:00:00:01, S = 0, R and O from `flags` (NA_ROUTER, NA_OVERRIDE; the
 * entry's, usually O = 1), target link-layer address option = mac; RFC 9161 §3.2 sends it when a
 * static or EVPN entry appears.
 */
export function buildUnsolicitedNa(
  out: Uint8Array,
  off: number,
  mac: Uint8Array,
  macOff: number,
  ip6: Uint8Array,
  ip6Off: number,
  flags: number,
  tags: Uint8Array = NO_TAGS,
): number {
  const ro = flags & (NA_ROUTER | NA_OVERRIDE);
  return advertisement(
    out,
    off,
    ALL_NODES_MAC,
    0,
    tags,
    0,
    tagLength(tags),
    ALL_NODES,
    0,
    ro,
    ip6,
    ip6Off,
    mac,
    macOff,
  );
}

/**
 * Refresh of a dynamic IPv6 entry (RFC 9161 §3.5): an NS for hostIp6[hostIp6Off..+16], unicast
 * to the host's MAC at the Ethernet level but to its solicited-node group ff02::1:ffXX:XXXX
 * (RFC 4291 §2.7.1) at the IPv6 level — Linux includes the target link-layer address option in
 * its NA only when the NS went to a multicast address (net/ipv6/ndisc.c, ndisc_recv_ns) — from
 * the proxy's link-local address, with the source link-layer address option = the proxy's MAC
 * (required with a unicast source, RFC 4861 §4.3).
 */
export function buildNsRefresh(
  out: Uint8Array,
  off: number,
  proxy: ProxyIdentity,
  hostMac: Uint8Array,
  hostMacOff: number,
  hostIp6: Uint8Array,
  hostIp6Off: number,
  tags: Uint8Array = NO_TAGS,
): number {
  const tagLen = tagLength(tags);
  const n = 14 + tagLen + 40 + ND_LENGTH;
  room(out, off, n);
  const ip = ethernet(out, off, hostMac, hostMacOff, proxy.mac, 0, tags, 0, tagLen, ETH_IPV6);
  ndIpv6(out, ip, proxy.linkLocal, 0, ALL_NODES, 0);
  // destination: the solicited-node group ff02::1:ff00:0/104 + the low 24 bits of the target
  out[ip + 35] = 1;
  out[ip + 36] = 0xff;
  copy(out, ip + 37, hostIp6, hostIp6Off + 13, 3);
  ndMessage(out, ip, ND_NS, 0, hostIp6, hostIp6Off, OPT_SLLA, proxy.mac, 0);
  return n;
}

// ---- the proxy's own addresses --------------------------------------------------------------

/** The proxy's MAC and the link-local address derived from it: the source of refresh requests. */
export interface ProxyIdentity {
  readonly mac: Uint8Array;
  readonly linkLocal: Uint8Array;
}

/** A ProxyIdentity for mac[macOff..+6]; allocates (configuration time). */
export function proxyIdentity(mac: Uint8Array, macOff = 0): ProxyIdentity {
  const own = mac.slice(macOff, macOff + 6);
  const linkLocal = new Uint8Array(16);
  linkLocalFromMac(own, 0, linkLocal, 0);
  return { mac: own, linkLocal };
}

/**
 * fe80::/64 with the modified EUI-64 interface identifier of a MAC (RFC 4291 §2.5.1 and
 * Appendix A, RFC 2464 §4-§5): the MAC's first three bytes with the universal/local bit (0x02 of
 * the first byte) inverted, ff:fe, the last three bytes. 02:00:00:00:00:01 → fe80::ff:fe00:1.
 */
export function linkLocalFromMac(mac: Uint8Array, macOff: number, out: Uint8Array, off: number): void {
  out[off] = 0xfe;
  out[off + 1] = 0x80;
  for (let i = 2; i < 8; i++) out[off + i] = 0;
  out[off + 8] = mac[macOff] ^ 0x02;
  out[off + 9] = mac[macOff + 1];
  out[off + 10] = mac[macOff + 2];
  out[off + 11] = 0xff;
  out[off + 12] = 0xfe;
  out[off + 13] = mac[macOff + 3];
  out[off + 14] = mac[macOff + 4];
  out[off + 15] = mac[macOff + 5];
}

/**
 * A locally administered unicast MAC for the proxy derived from its address (4 or 16 bytes):
 * first byte 0x02 (IEEE 802: U/L bit set, I/G bit clear), then for IPv4 a zero byte and the
 * four address bytes (192.0.2.1 → 02:00:c0:00:02:01), for IPv6 the low 40 bits of the address
 * (2001:db8::4 → 02:00:00:00:00:04). Two proxies with different addresses in the same IPv4
 * network or IPv6 /88 get different MACs.
 */
export function proxyMacFromAddress(ip: Uint8Array, out: Uint8Array, off = 0): void {
  if (ip.length !== 4 && ip.length !== 16)
    throw new InvariantError("ERR_WIRE_ADDRESS", `${ip.length}-byte address: 4 or 16 expected`);
  out[off] = 0x02;
  if (ip.length === 4) {
    out[off + 1] = 0;
    copy(out, off + 2, ip, 0, 4);
  } else copy(out, off + 1, ip, 11, 5);
}

// ---- VXLAN and the outer headers ------------------------------------------------------------

/** VXLAN header (RFC 7348 §5): flags 0x08 (I: VNI valid), 24 reserved bits, 24-bit VNI, 8 reserved bits. */
export function buildVxlanHeader(out: Uint8Array, off: number, vni: number): number {
  room(out, off, VXLAN_HEADER_LENGTH);
  put32(out, off, 0x08000000);
  put32(out, off + 4, (vni & 0xffffff) << 8);
  return VXLAN_HEADER_LENGTH;
}

/**
 * Outer IPv4 + UDP header (RFC 791 §3.1, RFC 768) for `payloadLength` bytes of VXLAN header and
 * inner frame: version 4, IHL 5, DSCP/ECN 0, identification `ident` (a counter of the caller's),
 * DF clear — as the kernel's VXLAN device sends by default, so that a router may fragment a copy
 * too big for its next link (RFC 7348 §4.3 forbids only the VTEP to fragment) — TTL `ttl`,
 * protocol UDP, header checksum; UDP checksum 0, which RFC 7348 §5 allows over IPv4. `src` and
 * `dst` are unsigned 32-bit numbers.
 */
export function buildOuterIpv4Udp(
  out: Uint8Array,
  off: number,
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  payloadLength: number,
  ttl: number,
  ident: number,
): number {
  const total = OUTER_IPV4_UDP_LENGTH + payloadLength;
  if (total > 0xffff) throw new InvariantError("ERR_WIRE_LENGTH", `an IPv4 datagram of ${total} bytes`);
  room(out, off, OUTER_IPV4_UDP_LENGTH);
  put32(out, off, 0x45000000 | total);
  put32(out, off + 4, (ident & 0xffff) << 16); // flags 0 (DF clear, MF clear), fragment offset 0
  out[off + 8] = ttl;
  out[off + 9] = UDP;
  put16(out, off + 10, 0);
  put32(out, off + 12, src);
  put32(out, off + 16, dst);
  put16(out, off + 10, ~fold16(sum16(out, off, off + 20)) & 0xffff);
  const u = off + 20;
  put16(out, u, srcPort);
  put16(out, u + 2, dstPort);
  put16(out, u + 4, 8 + payloadLength);
  put16(out, u + 6, 0);
  return OUTER_IPV4_UDP_LENGTH;
}

/**
 * The one's-complement sum of b[off, off + length) for buildOuterIpv6Udp: a frame replicated to
 * many VTEPs over IPv6 sums its payload once. Only valid for a payload that starts at an even
 * offset from the UDP header, which VXLAN's does.
 */
export function payloadSum(b: Uint8Array, off: number, length: number): number {
  return sum16(b, off, off + length);
}

/**
 * Outer IPv6 + UDP header (RFC 8200 §3, RFC 768): traffic class and flow label 0, next header
 * UDP, hop limit `hopLimit`, src/dst 16 bytes each; the UDP checksum is mandatory over IPv6 (RFC
 * 8200 §8.1) and covers the payload, which must already follow at off + 48 — or pass its
 * payloadSum. A computed checksum of 0 is sent as 0xffff (RFC 768).
 */
export function buildOuterIpv6Udp(
  out: Uint8Array,
  off: number,
  src: Uint8Array,
  dst: Uint8Array,
  srcPort: number,
  dstPort: number,
  payloadLength: number,
  hopLimit: number,
  sumOfPayload = -1,
): number {
  const udpLength = 8 + payloadLength;
  if (udpLength > 0xffff) throw new InvariantError("ERR_WIRE_LENGTH", `a UDP datagram of ${udpLength} bytes`);
  room(out, off, OUTER_IPV6_UDP_LENGTH + (sumOfPayload < 0 ? payloadLength : 0));
  put32(out, off, 0x60000000);
  put16(out, off + 4, udpLength);
  out[off + 6] = UDP;
  out[off + 7] = hopLimit;
  copy(out, off + 8, src, 0, 16);
  copy(out, off + 24, dst, 0, 16);
  const u = off + 40;
  put16(out, u, srcPort);
  put16(out, u + 2, dstPort);
  put16(out, u + 4, udpLength);
  put16(out, u + 6, 0);
  const body = sumOfPayload < 0 ? sum16(out, u + 8, u + udpLength) : sumOfPayload;
  const sum = ~fold16(sum16(out, u, u + 8, ipv6PseudoSum(out, off, udpLength, UDP) + body)) & 0xffff;
  put16(out, u + 6, sum === 0 ? 0xffff : sum);
  return OUTER_IPV6_UDP_LENGTH;
}

/**
 * A UDP source port for a VXLAN datagram from a hash of the inner Ethernet header at b[off]
 * (destination, source, first TPID/EtherType: 14 bytes), in 49152–65535 as RFC 7348 §5
 * recommends, so that ECMP in the underlay spreads flows; FNV-1a (32-bit), upper and lower
 * halves folded, 14 bits kept. The caller ensures off + 14 <= b.length.
 */
export function vxlanSourcePort(b: Uint8Array, off: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + 14; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return 0xc000 | ((h ^ (h >>> 16)) & 0x3fff);
}
