// Data-plane learning, packet path: pure decoders from a VXLAN-carried frame to what it teaches.
// Like src/codec: functions over (bytes, offset, end), no I/O, and no exceptions for anything a
// sender can put on the wire; a frame either yields a LearnedFrame or one of a fixed set of skip
// reasons the caller counts. The *Into variants write into a caller-owned object and allocate
// only the address strings of a frame that is learned from; the others allocate one result per
// learnable frame and share frozen results for skips.
//
// Entry points, by where the bytes start:
//   decodeEthernet  outer Ethernet (capture sources), optional 802.1Q / 802.1ad tags
//   decodeIp        outer IPv4 or IPv6 header (raw-IP captures; the seed's vector)
//   decodeVxlan     the VXLAN header (UDP socket source: the kernel stripped IP/UDP, the VTEP
//                   address comes from the socket)
//   decodeInner     the inner Ethernet frame alone

import { formatIpv4, formatIpv6, formatMac } from "../net/addr.js";
import { u16, u24 } from "../codec/bytes.js";

/** IANA-assigned VXLAN port (RFC 7348 §5). */
export const VXLAN_PORT = 4789;

/** Reasons of the inner frame, shared with the ARP/ND decoder (wire/arpnd.ts). */
export const INNER_SKIP_REASONS = [
  // inner Ethernet
  "truncated-inner-ethernet",
  "truncated-inner-vlan",
  "inner-too-many-tags",
  "inner-source-not-unicast",
  "inner-not-arp-nd",
  // ARP
  "truncated-arp",
  "arp-unsupported",
  "arp-bad-opcode",
  // the MAC an ARP sender hardware address or ND link-layer address option names
  "binding-mac-not-unicast",
  // inner IPv6 and neighbour discovery
  "truncated-inner-ipv6",
  "bad-inner-ipv6",
  "truncated-icmpv6",
  "nd-bad-hop-limit",
  "nd-bad-checksum",
  "nd-bad-option",
] as const;

/** Every reason a frame is skipped; stable strings, meant to key counters. */
export const SKIP_REASONS = [
  // outer Ethernet
  "truncated-outer-ethernet",
  "truncated-outer-vlan",
  "outer-too-many-tags",
  "outer-not-ip",
  // outer IPv4 / IPv6
  "truncated-outer-ip",
  "bad-outer-ip",
  "outer-ip-fragment",
  "outer-not-udp",
  // UDP
  "truncated-udp",
  "bad-udp-length",
  "not-vxlan-port",
  // VXLAN
  "truncated-vxlan",
  "vxlan-no-vni",
  ...INNER_SKIP_REASONS,
  "nd-invalid",
] as const;

export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * What the inner frame was. "garp": an ARP request or reply whose sender and target IP are the
 * same (announcement); "arp-probe": sender IP 0.0.0.0 (RFC 5227); "other": any other frame,
 * reported only with `anyFrame`.
 */
export type FrameKind = "arp-request" | "arp-reply" | "garp" | "arp-probe" | "nd-ns" | "nd-na" | "other";

export interface DecodeOptions {
  /** UDP destination port that carries VXLAN (default 4789); not used by decodeVxlan. */
  udpPort?: number;
  /** `learning.any-frame`: a frame that is neither ARP nor ND teaches its source MAC (kind "other"). */
  anyFrame?: boolean;
}

export interface LearnedFrame {
  /** The outer source IP: the VTEP behind which the MAC lives. */
  vtep: string;
  /** 24-bit VXLAN network identifier. */
  vni: number;
  /** VLAN ID of the first inner 802.1Q/802.1ad tag, null when untagged. */
  vlan: number | null;
  /** Source MAC of the inner Ethernet frame; always unicast. */
  innerSrcMac: string;
  kind: FrameKind;
  /**
   * The binding taught: `mac` is learnable (unicast, not all-zero) or null when the frame
   * teaches nothing (a DAD solicitation); `ip` is the address bound to `mac`, or null.
   *  - ARP: mac = sender hardware address; ip = sender IP unless 0.0.0.0 (probe), 0/8, 127/8,
   *    or multicast/broadcast/reserved (≥ 224.0.0.0).
   *  - NS: mac/ip = source link-layer address option and IPv6 source; without the option, mac =
   *    innerSrcMac and ip = null; from :: (DAD), both null.
   *  - NA: mac/ip = target link-layer address option and target address; without the option,
   *    mac = innerSrcMac and ip = null.
   *  - other: mac = innerSrcMac, ip = null.
   * An IPv6 ip is never ::, ::1 or multicast; link-local addresses are reported.
   */
  mac: string | null;
  ip: string | null;
}

export type PacketResult = { ok: true; value: LearnedFrame } | { ok: false; reason: SkipReason };

const DEFAULT_OPTIONS: DecodeOptions = {};

/** A reusable result object for the *Into variants. */
export function newLearnedFrame(): LearnedFrame {
  return { vtep: "", vni: 0, vlan: null, innerSrcMac: "", kind: "other", mac: null, ip: null };
}

const SKIP = Object.fromEntries(SKIP_REASONS.map((r) => [r, Object.freeze({ ok: false, reason: r })])) as {
  [R in SkipReason]: { readonly ok: false; readonly reason: R };
};

function wrap(out: LearnedFrame, reason: SkipReason | null): PacketResult {
  return reason === null ? { ok: true, value: out } : SKIP[reason];
}

// ---- outer ----------------------------------------------------------------------------------

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const ETH_IPV6 = 0x86dd;
const MAX_TAGS = 2;

/** 802.1Q (0x8100) or 802.1ad (0x88a8) TPID. */
export function isTag(type: number): boolean {
  return type === 0x8100 || type === 0x88a8;
}

function clampEnd(b: Uint8Array, end: number): number {
  return end > b.length ? b.length : end;
}

export const TOO_MANY_TAGS = -1;
export const TRUNCATED_TAG = -2;

/**
 * Skips up to MAX_TAGS 802.1Q/802.1ad tags from the TPID/EtherType at `p`; returns the offset of
 * the EtherType, TOO_MANY_TAGS or TRUNCATED_TAG.
 */
export function skipTags(b: Uint8Array, p: number, end: number): number {
  for (let tags = 0; isTag(u16(b, p)); p += 4) {
    if (++tags > MAX_TAGS) return TOO_MANY_TAGS;
    if (p + 6 > end) return TRUNCATED_TAG;
  }
  return p;
}

/** A decoder step: fills `out` from b[off, end) or says why the frame is skipped. */
type Step = (out: LearnedFrame, b: Uint8Array, off: number, end: number, opts: DecodeOptions) => SkipReason | null;

/** An exported *Into entry point over `step`: `end` is clamped to the buffer; a negative `off` is `negative`. */
function entry(step: Step, negative: SkipReason) {
  return (
    out: LearnedFrame,
    b: Uint8Array,
    off = 0,
    end = b.length,
    opts: DecodeOptions = DEFAULT_OPTIONS,
  ): SkipReason | null => (off < 0 ? negative : step(out, b, off, clampEnd(b, end), opts));
}

function ethernetInto(
  out: LearnedFrame,
  b: Uint8Array,
  off: number,
  end: number,
  opts: DecodeOptions,
): SkipReason | null {
  if (off + 14 > end) return "truncated-outer-ethernet";
  const p = skipTags(b, off + 12, end);
  if (p === TOO_MANY_TAGS) return "outer-too-many-tags";
  if (p === TRUNCATED_TAG) return "truncated-outer-vlan";
  const type = u16(b, p);
  if (type === ETH_IPV4) return ipInto(out, b, p + 2, end, opts, 4);
  if (type === ETH_IPV6) return ipInto(out, b, p + 2, end, opts, 6);
  return "outer-not-ip";
}

/** Outer Ethernet frame at `off`: up to two 802.1Q/802.1ad tags, then IPv4 or IPv6. */
export const decodeEthernetInto = entry(ethernetInto, "truncated-outer-ethernet");

/** Outer IPv4 or IPv6 packet at `off` (the version nibble decides). */
export const decodeIpInto = entry((out, b, off, end, opts) => ipInto(out, b, off, end, opts, 0), "truncated-outer-ip");

function ipInto(
  out: LearnedFrame,
  b: Uint8Array,
  off: number,
  end: number,
  opts: DecodeOptions,
  version: 0 | 4 | 6,
): SkipReason | null {
  if (off >= end) return "truncated-outer-ip";
  const v = b[off] >>> 4;
  if (version !== 0 && v !== version) return "bad-outer-ip";
  if (v === 4) {
    if (off + 20 > end) return "truncated-outer-ip";
    const ihl = (b[off] & 15) * 4;
    const total = u16(b, off + 2);
    if (ihl < 20 || total < ihl) return "bad-outer-ip";
    if (off + total > end) return "truncated-outer-ip";
    const frag = u16(b, off + 6);
    if ((frag & 0x1fff) !== 0) return "outer-ip-fragment"; // only a first fragment has the headers
    if (b[off + 9] !== 17) return "outer-not-udp";
    const r = udpInto(out, b, off + ihl, off + total, (frag & 0x2000) !== 0, opts);
    if (r === null) out.vtep = formatIpv4(b, off + 12);
    return r;
  }
  if (v === 6) {
    if (off + 40 > end) return "truncated-outer-ip";
    const plen = u16(b, off + 4);
    if (off + 40 + plen > end) return "truncated-outer-ip";
    if (b[off + 6] !== 17) return "outer-not-udp"; // extension headers are not followed
    const r = udpInto(out, b, off + 40, off + 40 + plen, false, opts);
    if (r === null) out.vtep = formatIpv6(b, off + 8);
    return r;
  }
  return "bad-outer-ip";
}

function udpInto(
  out: LearnedFrame,
  b: Uint8Array,
  off: number,
  end: number,
  firstFragment: boolean,
  opts: DecodeOptions,
): SkipReason | null {
  if (off + 8 > end) return "truncated-udp";
  if (u16(b, off + 2) !== (opts.udpPort ?? VXLAN_PORT)) return "not-vxlan-port";
  const len = u16(b, off + 4);
  if (len < 8) return "bad-udp-length";
  let udpEnd = off + len;
  if (udpEnd > end) {
    if (!firstFragment) return "truncated-udp";
    udpEnd = end; // the rest of the datagram is in later fragments; the inner headers are here
  }
  return vxlanInto(out, b, off + 8, udpEnd, opts);
}

/**
 * VXLAN header at `off` (RFC 7348 §5), for the UDP socket source: `vtep` is the datagram's
 * source address as the socket reported it.
 */
export function decodeVxlanInto(
  out: LearnedFrame,
  b: Uint8Array,
  off: number,
  end: number,
  vtep: string,
  opts: DecodeOptions = DEFAULT_OPTIONS,
): SkipReason | null {
  end = clampEnd(b, end);
  if (off < 0) return "truncated-vxlan";
  const r = vxlanInto(out, b, off, end, opts);
  if (r === null) out.vtep = vtep;
  return r;
}

function vxlanInto(out: LearnedFrame, b: Uint8Array, off: number, end: number, opts: DecodeOptions): SkipReason | null {
  if (off + 8 > end) return "truncated-vxlan";
  if ((b[off] & 0x08) === 0) return "vxlan-no-vni"; // the I flag; all other bits are reserved, ignored
  const r = innerInto(out, b, off + 8, end, opts);
  if (r === null) out.vni = u24(b, off + 4);
  return r;
}

// ---- inner ----------------------------------------------------------------------------------

/**
 * The inner Ethernet frame at `off`, without VXLAN context: fills vlan, innerSrcMac, kind, mac
 * and ip (vtep and vni are left as they are).
 */
export const decodeInnerInto = entry(innerInto, "truncated-inner-ethernet");

function innerInto(out: LearnedFrame, b: Uint8Array, off: number, end: number, opts: DecodeOptions): SkipReason | null {
  if (off + 14 > end) return "truncated-inner-ethernet";
  const src = off + 6;
  if (!unicastMac(b, src)) return "inner-source-not-unicast";
  const et = skipTags(b, off + 12, end);
  if (et === TOO_MANY_TAGS) return "inner-too-many-tags";
  if (et === TRUNCATED_TAG) return "truncated-inner-vlan";
  const type = u16(b, et);
  const p = et + 2;
  let r: SkipReason | null;
  if (type === ETH_ARP) r = arpInto(out, b, p, end);
  else if (type === ETH_IPV6) r = ipv6Into(out, b, p, end, src, opts);
  else r = other(out, b, src, opts);
  if (r !== null) return r;
  out.vlan = et === off + 12 ? null : u16(b, off + 14) & 0x0fff; // the first tag's VLAN ID
  // The binding's MAC is usually the frame's source (ARP sender hardware address at p + 8): one string.
  const same = out.mac !== null && (out.kind === "other" || (type === ETH_ARP && sameBytes(b, src, p + 8, 6)));
  out.innerSrcMac = same ? out.mac! : formatMac(b, src);
  return null;
}

function sameBytes(b: Uint8Array, x: number, y: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}

function other(out: LearnedFrame, b: Uint8Array, src: number, opts: DecodeOptions): SkipReason | null {
  if (opts.anyFrame !== true) return "inner-not-arp-nd";
  out.kind = "other";
  out.mac = formatMac(b, src);
  out.ip = null;
  return null;
}

/**
 * RFC 826 for Ethernet/IPv4 only: the ARP packet at b[p, end) is whole (28 bytes), Ethernet/IPv4
 * (htype 1, ptype 0x0800, hlen 6, plen 4), a request or reply, its sender hardware address
 * unicast. Shared by both decoders.
 */
export function arpInvalid(b: Uint8Array, p: number, end: number): (typeof INNER_SKIP_REASONS)[number] | null {
  if (p + 28 > end) return "truncated-arp";
  if (u16(b, p) !== 1 || u16(b, p + 2) !== ETH_IPV4 || b[p + 4] !== 6 || b[p + 5] !== 4) return "arp-unsupported";
  const op = u16(b, p + 6);
  if (op !== 1 && op !== 2) return "arp-bad-opcode";
  if (!unicastMac(b, p + 8)) return "binding-mac-not-unicast";
  return null;
}

function arpInto(out: LearnedFrame, b: Uint8Array, p: number, end: number): SkipReason | null {
  const bad = arpInvalid(b, p, end);
  if (bad !== null) return bad;
  const op = u16(b, p + 6);
  const sha = p + 8;
  const spa = p + 14;
  const tpa = p + 24;
  if ((b[spa] | b[spa + 1] | b[spa + 2] | b[spa + 3]) === 0) {
    out.kind = op === 1 ? "arp-probe" : "arp-reply"; // a probe teaches the MAC only
    out.ip = null;
  } else {
    const announce =
      b[spa] === b[tpa] && b[spa + 1] === b[tpa + 1] && b[spa + 2] === b[tpa + 2] && b[spa + 3] === b[tpa + 3];
    out.kind = announce ? "garp" : op === 1 ? "arp-request" : "arp-reply";
    out.ip = unicastIpv4(b, spa) ? formatIpv4(b, spa) : null;
  }
  out.mac = formatMac(b, sha);
  return null;
}

export const ICMPV6 = 58;
export const ND_NS = 135;
export const ND_NA = 136;
export const OPT_SLLA = 1;
export const OPT_TLLA = 2;

/** Inner IPv6: neighbour solicitations/advertisements are learned; anything else is "other". */
function ipv6Into(
  out: LearnedFrame,
  b: Uint8Array,
  ip: number,
  end: number,
  ethSrc: number,
  opts: DecodeOptions,
): SkipReason | null {
  if (ip + 40 > end) return "truncated-inner-ipv6";
  if (b[ip] >>> 4 !== 6) return "bad-inner-ipv6";
  const plen = u16(b, ip + 4);
  const icmp = ip + 40;
  const icmpEnd = icmp + plen;
  if (icmpEnd > end) return "truncated-inner-ipv6";
  if (b[ip + 6] !== ICMPV6 || plen < 1 || (b[icmp] !== ND_NS && b[icmp] !== ND_NA)) return other(out, b, ethSrc, opts);
  // RFC 4861 §7.1.1 / §7.1.2 validity checks
  if (plen < 24) return "truncated-icmpv6";
  if (b[ip + 7] !== 255) return "nd-bad-hop-limit";
  if (!icmpv6ChecksumOk(b, ip, icmp, icmpEnd)) return "nd-bad-checksum";
  if (b[icmp + 1] !== 0) return "nd-invalid"; // code
  const type = b[icmp];
  const target = icmp + 8;
  if (b[target] === 0xff) return "nd-invalid"; // multicast target
  const lla = linkLayerOption(b, icmp + 24, icmpEnd, type === ND_NS ? OPT_SLLA : OPT_TLLA);
  if (lla === BAD_OPTION) return "nd-bad-option";
  const src = ip + 8;
  const dst = ip + 24;
  if (type === ND_NS) {
    out.kind = "nd-ns";
    if (b[src] === 0xff) return "nd-invalid";
    if (allZero(b, src, 16)) {
      // DAD: no source link-layer option allowed, solicited-node multicast destination; teaches nothing
      if (lla >= 0 || !solicitedNode(b, dst)) return "nd-invalid";
      out.mac = null;
      out.ip = null;
      return null;
    }
  } else {
    out.kind = "nd-na";
    if (b[dst] === 0xff && (b[icmp + 4] & 0x40) !== 0) return "nd-invalid"; // Solicited to multicast
  }
  if (lla < 0) {
    out.mac = formatMac(b, ethSrc);
    out.ip = null;
    return null;
  }
  if (!unicastMac(b, lla)) return "binding-mac-not-unicast";
  const addr = type === ND_NS ? src : target;
  out.mac = formatMac(b, lla);
  out.ip = unicastIpv6(b, addr) ? formatIpv6(b, addr) : null;
  return null;
}

// ---- helpers --------------------------------------------------------------------------------

export const BAD_OPTION = -2;

/**
 * Walks the ND options in b[from, end) (RFC 4861 §4.6: type, length in 8-byte units, data) and
 * returns the offset of the Ethernet address in the last option of type `want` (1 source, 2
 * target link-layer address), -1 when there is none, or BAD_OPTION for an option of length 0,
 * one past `end`, or an address option that is not 8 bytes (RFC 2464 §8). Other options are
 * skipped (RFC 4861 §4.6: unrecognised options are ignored).
 */
export function linkLayerOption(b: Uint8Array, from: number, end: number, want: number): number {
  let lla = -1;
  for (let o = from; o < end;) {
    if (o + 2 > end) return BAD_OPTION;
    const len = b[o + 1] * 8;
    if (len === 0 || o + len > end) return BAD_OPTION;
    if (b[o] === want) {
      if (len !== 8) return BAD_OPTION;
      lla = o + 2;
    }
    o += len;
  }
  return lla;
}

/** Neither group (multicast/broadcast) nor all-zero: the only MACs ever learned. */
export function unicastMac(b: Uint8Array, o: number): boolean {
  if ((b[o] & 1) !== 0) return false;
  return (b[o] | b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5]) !== 0;
}

/** Not 0/8, 127/8 or 224/3 (multicast, reserved, broadcast). */
function unicastIpv4(b: Uint8Array, o: number): boolean {
  const a = b[o];
  return a !== 0 && a !== 127 && a < 224;
}

/** Not ::, ::1 or ff00::/8. */
function unicastIpv6(b: Uint8Array, o: number): boolean {
  if (b[o] === 0xff) return false;
  return !allZero(b, o, 15) || b[o + 15] > 1;
}

export function allZero(b: Uint8Array, o: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0) return false;
  return true;
}

/** ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
export function solicitedNode(b: Uint8Array, o: number): boolean {
  if (b[o] !== 0xff || b[o + 1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (b[o + i] !== 0) return false;
  return b[o + 11] === 1 && b[o + 12] === 0xff;
}

/** RFC 1071: the 16-bit one's-complement sum of b[from, to) (an odd last byte padded with zero) added to `sum`, not folded. */
export function sum16(b: Uint8Array, from: number, to: number, sum = 0): number {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < to) sum += b[i] << 8;
  return sum;
}

/** Folds a sum from sum16 to 16 bits (end-around carry). */
export function fold16(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source and destination address of the IPv6
 * header at `ip`, the upper-layer packet length and the next header value.
 */
export function ipv6PseudoSum(b: Uint8Array, ip: number, length: number, nextHeader: number): number {
  return sum16(b, ip + 8, ip + 40, (length >>> 16) + (length & 0xffff) + nextHeader);
}

/** RFC 4443 §2.3: the one's-complement sum over the pseudo-header and the message is 0xffff. */
export function icmpv6ChecksumOk(b: Uint8Array, ip: number, icmp: number, icmpEnd: number): boolean {
  return fold16(sum16(b, icmp, icmpEnd, ipv6PseudoSum(b, ip, icmpEnd - icmp, ICMPV6))) === 0xffff;
}

// ---- allocating variants --------------------------------------------------------------------

/** The allocating variant of an *Into entry point. */
function allocating(into: ReturnType<typeof entry>) {
  return (b: Uint8Array, off = 0, end = b.length, opts: DecodeOptions = DEFAULT_OPTIONS): PacketResult => {
    const out = newLearnedFrame();
    return wrap(out, into(out, b, off, end, opts));
  };
}

export const decodeEthernet = allocating(decodeEthernetInto);
export const decodeIp = allocating(decodeIpInto);
export const decodeInner = allocating(decodeInnerInto);

export function decodeVxlan(
  b: Uint8Array,
  off: number,
  end: number,
  vtep: string,
  opts: DecodeOptions = DEFAULT_OPTIONS,
): PacketResult {
  const out = newLearnedFrame();
  return wrap(out, decodeVxlanInto(out, b, off, end, vtep, opts));
}
