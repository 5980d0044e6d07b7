// ARP/ND proxy, request path: decodes the ARP or neighbour discovery message of an inner Ethernet
// frame (the bytes after the 8-byte VXLAN header) into a caller-owned ArpNdMessage. Like
// packet.ts: a function over (bytes, offset, end), no exceptions for any input, a fixed set of
// counted skip reasons. Nothing is allocated per frame: the message keeps the buffer and the
// offsets of each address in it; text forms are formatted only when asked for (one string per
// call), so a table keyed by text pays for exactly the key it looks up.
//
// Inner frame layout (offsets from the frame start `eth`):
//   0 destination MAC | 6 source MAC | 12 up to two 802.1Q/802.1ad tags (TPID, TCI: 4 bytes each)
//   | EtherType | payload
// ARP (RFC 826, Ethernet/IPv4 only), 28 bytes: htype 1, ptype 0x0800, hlen 6, plen 4, op (1
//   request, 2 reply), sha(6) spa(4) tha(6) tpa(4)
// IPv6 (RFC 8200 §3), 40 bytes: version/class/flow(4) payload length(2) next header(1) hop
//   limit(1) source(16) destination(16); then ICMPv6 (RFC 4861 §4.3 NS, §4.4 NA): type(1) code(1)
//   checksum(2) flags+reserved(4: NA R 0x80, S 0x40, O 0x20 in the first byte) target(16)
//   options (type(1), length in 8-byte units(1), data).

import { formatIpv4, formatIpv6, formatMac } from "../net/addr.js";
import { u16, u32 } from "../codec/bytes.js";
import {
  allZero,
  arpInvalid,
  BAD_OPTION,
  ETH_ARP,
  ETH_IPV6,
  ICMPV6,
  icmpv6ChecksumOk,
  INNER_SKIP_REASONS,
  linkLayerOption,
  ND_NA,
  ND_NS,
  OPT_SLLA,
  OPT_TLLA,
  skipTags,
  solicitedNode,
  TOO_MANY_TAGS,
  TRUNCATED_TAG,
  unicastMac,
} from "./packet.js";

/**
 * Why a frame is not an ARP/ND message the proxy handles; stable strings for counters. Those
 * shared with packet.ts's SkipReason mean the same there.
 */
export const ARPND_SKIP_REASONS = [
  // inner-not-arp-nd: neither ARP nor an ICMPv6 NS/NA directly after the IPv6 header;
  // arp-unsupported: not Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4);
  // binding-mac-not-unicast: ARP sender hardware address, NS source or NA target link-layer
  // address is a group or zero; truncated-icmpv6: ICMPv6 length below 24 (RFC 4861 §7.1.1, §7.1.2);
  // nd-bad-option: an option of length 0, past the message, or a link-layer address option not 8 bytes long.
  ...INNER_SKIP_REASONS,
  "nd-bad-code",
  "nd-multicast-target",
  /** A multicast IPv6 source (RFC 4291 §2.7: never a source address). */
  "nd-bad-source",
  /** DAD NS (source ::) with a source link-layer address option or not to a solicited-node group. */
  "nd-dad-invalid",
  /** NA with the Solicited flag to a multicast destination (RFC 4861 §7.1.2). */
  "nd-solicited-to-multicast",
] as const;

export type ArpNdSkipReason = (typeof ARPND_SKIP_REASONS)[number];

/**
 * "arp-probe": request with sender IP 0.0.0.0 (RFC 5227 §2.1.1). "garp": request or reply with
 * sender IP = target IP (RFC 5227 §3 announcement). "ns-dad": solicitation from :: (RFC 4862
 * §5.4). An NA is "na" whether solicited or not: `naFlags` carries S.
 */
export type ArpNdKind = "arp-request" | "arp-probe" | "garp" | "arp-reply" | "ns" | "ns-dad" | "na";

/** NA flag bits as in the first byte after the ICMPv6 checksum (RFC 4861 §4.4). */
export const NA_ROUTER = 0x80;
export const NA_SOLICITED = 0x40;
export const NA_OVERRIDE = 0x20;

const EMPTY = new Uint8Array(0);

/**
 * One decoded message, reused from frame to frame. Address fields are offsets into `buf` (-1:
 * absent); they stay valid while the caller leaves the buffer unchanged. IP addresses are
 * `ipLength` bytes long (4 for ARP, 16 for ND).
 */
export class ArpNdMessage {
  kind: ArpNdKind = "arp-request";
  /** The buffer the offsets point into. */
  buf: Uint8Array = EMPTY;
  /** The inner Ethernet frame: destination MAC at `eth`, source MAC at `eth + 6`. */
  eth = 0;
  /** 802.1Q/802.1ad tags (0–2) at `eth + 12`, 4 bytes each: a reply carries the same bytes. */
  tagCount = 0;
  /** VLAN ID of the first tag, -1 when untagged. */
  vlan = -1;
  /** The ARP packet or the IPv6 header. */
  l3 = 0;
  /** One past the message: ARP + 28, or the end of the IPv6 payload. */
  end = 0;
  ipLength: 4 | 16 = 4;
  /** ARP sha; NS source link-layer address option (-1 without); NA -1. */
  senderMac = -1;
  /** ARP spa; NS/NA IPv6 source. */
  senderIp = 0;
  /** ARP tha; NA target link-layer address option (-1 without); NS -1. */
  targetMac = -1;
  /** ARP tpa; NS/NA target address. */
  targetIp = 0;
  /** IPv6 source and destination (ND); -1 for ARP. */
  ipSrc = -1;
  ipDst = -1;
  /** NA: R/S/O bits (NA_ROUTER, NA_SOLICITED, NA_OVERRIDE); 0 otherwise. */
  naFlags = 0;

  /** "aa:bb:cc:dd:ee:ff" at `off` in buf; null for -1. */
  macAt(off: number): string | null {
    return off < 0 ? null : formatMac(this.buf, off);
  }

  /** The IP address (ipLength bytes) at `off` in buf as text; null for -1. */
  ipAt(off: number): string | null {
    if (off < 0) return null;
    return this.ipLength === 4 ? formatIpv4(this.buf, off) : formatIpv6(this.buf, off);
  }

  /** The address asked for (ARP tpa, ND target) as text: the usual table key. */
  targetIpText(): string {
    return this.ipAt(this.targetIp)!;
  }

  /**
   * ARP only: the target IPv4 address as an unsigned 32-bit number. V8 boxes numbers above 2^30
   * once they leave optimised code (a Map key does), so this allocates where the bytes
   * buf[targetIp..+4] would not.
   */
  targetIpv4(): number {
    return u32(this.buf, this.targetIp);
  }

  /** The inner source MAC as text. */
  ethSrcText(): string {
    return formatMac(this.buf, this.eth + 6);
  }

  /** True for the kinds the proxy answers: ARP request or probe, NS or DAD NS. */
  isRequest(): boolean {
    const k = this.kind;
    return k === "arp-request" || k === "arp-probe" || k === "ns" || k === "ns-dad";
  }
}

/** A reusable message for decodeArpNdInto. */
export function newArpNdMessage(): ArpNdMessage {
  return new ArpNdMessage();
}

/**
 * Decodes the inner Ethernet frame at b[off, end) into `out`; null when it is an ARP/ND message
 * (out filled), else the skip reason (out partly overwritten). `end` is clamped to the buffer.
 */
export function decodeArpNdInto(out: ArpNdMessage, b: Uint8Array, off: number, end: number): ArpNdSkipReason | null {
  if (end > b.length) end = b.length;
  if (off < 0 || off + 14 > end) return "truncated-inner-ethernet";
  if (!unicastMac(b, off + 6)) return "inner-source-not-unicast";
  const et = skipTags(b, off + 12, end);
  if (et === TOO_MANY_TAGS) return "inner-too-many-tags";
  if (et === TRUNCATED_TAG) return "truncated-inner-vlan";
  out.buf = b;
  out.eth = off;
  out.tagCount = (et - off - 12) >>> 2;
  out.vlan = out.tagCount === 0 ? -1 : u16(b, off + 14) & 0x0fff;
  out.l3 = et + 2;
  out.naFlags = 0;
  const type = u16(b, et);
  if (type === ETH_ARP) return arpInto(out, b, et + 2, end);
  if (type === ETH_IPV6) return ndInto(out, b, et + 2, end);
  return "inner-not-arp-nd";
}

function arpInto(out: ArpNdMessage, b: Uint8Array, p: number, end: number): ArpNdSkipReason | null {
  const bad = arpInvalid(b, p, end);
  if (bad !== null) return bad;
  const op = u16(b, p + 6);
  const sha = p + 8;
  const spa = p + 14;
  const tpa = p + 24;
  out.end = p + 28;
  out.ipLength = 4;
  out.senderMac = sha;
  out.senderIp = spa;
  out.targetMac = p + 18;
  out.targetIp = tpa;
  out.ipSrc = -1;
  out.ipDst = -1;
  const spaZero = (b[spa] | b[spa + 1] | b[spa + 2] | b[spa + 3]) === 0;
  const announce =
    b[spa] === b[tpa] && b[spa + 1] === b[tpa + 1] && b[spa + 2] === b[tpa + 2] && b[spa + 3] === b[tpa + 3];
  if (!spaZero && announce) out.kind = "garp";
  else if (spaZero && op === 1) out.kind = "arp-probe";
  else out.kind = op === 1 ? "arp-request" : "arp-reply";
  return null;
}

/** IPv6 + ICMPv6 NS/NA with the validity checks of RFC 4861 §7.1.1 (NS) and §7.1.2 (NA). */
function ndInto(out: ArpNdMessage, b: Uint8Array, ip: number, end: number): ArpNdSkipReason | null {
  if (ip + 40 > end) return "truncated-inner-ipv6";
  if (b[ip] >>> 4 !== 6) return "bad-inner-ipv6";
  const icmp = ip + 40;
  const icmpEnd = icmp + u16(b, ip + 4);
  if (icmpEnd > end) return "truncated-inner-ipv6";
  // Extension headers are not followed: ND messages carry none in practice.
  if (b[ip + 6] !== ICMPV6 || icmpEnd === icmp) return "inner-not-arp-nd";
  const type = b[icmp];
  if (type !== ND_NS && type !== ND_NA) return "inner-not-arp-nd";
  if (icmpEnd - icmp < 24) return "truncated-icmpv6";
  if (b[ip + 7] !== 255) return "nd-bad-hop-limit"; // not forwarded by a router
  if (!icmpv6ChecksumOk(b, ip, icmp, icmpEnd)) return "nd-bad-checksum";
  if (b[icmp + 1] !== 0) return "nd-bad-code";
  const target = icmp + 8;
  if (b[target] === 0xff) return "nd-multicast-target";
  const lla = linkLayerOption(b, icmp + 24, icmpEnd, type === ND_NS ? OPT_SLLA : OPT_TLLA);
  if (lla === BAD_OPTION) return "nd-bad-option";
  if (lla >= 0 && !unicastMac(b, lla)) return "binding-mac-not-unicast";
  const src = ip + 8;
  const dst = ip + 24;
  if (b[src] === 0xff) return "nd-bad-source";
  out.end = icmpEnd;
  out.ipLength = 16;
  out.senderIp = src;
  out.targetIp = target;
  out.ipSrc = src;
  out.ipDst = dst;
  if (type === ND_NS) {
    out.senderMac = lla;
    out.targetMac = -1;
    if (allZero(b, src, 16)) {
      // RFC 4861 §7.1.1: from :: only to a solicited-node group and without the SLLA option.
      if (lla >= 0 || !solicitedNode(b, dst)) return "nd-dad-invalid";
      out.kind = "ns-dad";
    } else out.kind = "ns";
    return null;
  }
  const flags = b[icmp + 4] & (NA_ROUTER | NA_SOLICITED | NA_OVERRIDE);
  if (b[dst] === 0xff && (flags & NA_SOLICITED) !== 0) return "nd-solicited-to-multicast";
  out.kind = "na";
  out.naFlags = flags;
  out.senderMac = -1;
  out.targetMac = lla;
  return null;
}

/** How the replication path treats an inner destination MAC. */
export type MacClass = "unicast" | "multicast" | "broadcast";

/**
 * The class of the 6-byte MAC at b[off] (an inner frame's destination is its first 6 bytes):
 * ff:ff:ff:ff:ff:ff broadcast, any other with the I/G bit (bit 0 of the first byte) multicast.
 * The caller ensures off + 6 <= b.length.
 */
export function classifyMac(b: Uint8Array, off: number): MacClass {
  if ((b[off] & 1) === 0) return "unicast";
  return (b[off] & b[off + 1] & b[off + 2] & b[off + 3] & b[off + 4] & b[off + 5]) === 0xff ? "broadcast" : "multicast";
}
