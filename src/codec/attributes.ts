// Path attributes (RFC 4271 §4.3, §5) with RFC 7606 revised error handling.
//
// Attribute: flags(1) | type(1) | length(1, or 2 with the Extended Length flag) | value.
// Decoded attributes keep their received flag byte so that decode → encode is byte-exact; an
// attribute built locally may omit `flags` and gets the type's standard flags.

import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from "../net/addr.js";
import { u16, u32, Writer } from "./bytes.js";
import { Afi, AS_TRANS, AttrFlag, AttrType, ErrCode, Safi, UpdateSub } from "./constants.js";
import { BgpError, EncodeError, type ErrorAction } from "./errors.js";
import { decodeEvpnNlri, type EvpnRoute, encodeEvpnRoute } from "./evpn.js";
import { decodeExtCommunity, type ExtCommunity, encodeExtCommunityInto } from "./extcommunity.js";
import { decodePrefixes, encodePrefix } from "./prefix.js";

/** AS_PATH segment types, RFC 4271 §4.3 and RFC 5065 §3. */
export const AsSegmentType = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;

export interface AsPathSegment {
  type: number;
  asns: number[];
}

export interface LargeCommunity {
  global: number;
  local1: number;
  local2: number;
}

/** NLRI carried in MP_REACH_NLRI / MP_UNREACH_NLRI, by address family. */
export type MpNlri =
  /** `ignored`: routes checked but not built (CodecContext.loopIds). */
  | { family: "evpn"; routes: EvpnRoute[]; ignored?: number }
  | { family: "ipv4" | "ipv6"; prefixes: string[] }
  | { family: "raw"; data: Uint8Array };

export interface MpReachAttr {
  kind: "mp-reach";
  flags?: number;
  afi: number;
  safi: number;
  /** One address, or global + link-local for a 32-byte IPv6 next hop (RFC 2545 §3). */
  nextHop: string[];
  /** Next hop bytes for address families whose next hop this codec does not interpret. */
  nextHopRaw?: Uint8Array;
  /** The reserved octet after the next hop (RFC 4760 §3, formerly the SNPA count); 0 on send. */
  reserved?: number;
  nlri: MpNlri;
}

export interface MpUnreachAttr {
  kind: "mp-unreach";
  flags?: number;
  afi: number;
  safi: number;
  nlri: MpNlri;
}

export interface PmsiTunnelAttr {
  kind: "pmsi-tunnel";
  flags?: number;
  /** PMSI flags octet (RFC 6514 §5: bit 0x01 Leaf Information Required). */
  tunnelFlags: number;
  /** RFC 6514 §5 tunnel type; 6 = ingress replication. */
  tunnelType: number;
  /** The 24-bit label field; the VNI for VXLAN (RFC 8365 §5.1.3). */
  label: number;
  /** Tunnel endpoint for ingress replication with a 4- or 16-byte identifier. */
  endpoint?: string;
  /** The tunnel identifier bytes when it is not an ingress-replication endpoint address. */
  tunnelId?: Uint8Array;
}

export type PathAttribute =
  | { kind: "origin"; flags?: number; origin: number }
  | { kind: "as-path"; flags?: number; segments: AsPathSegment[] }
  | { kind: "next-hop"; flags?: number; nextHop: string }
  | { kind: "med"; flags?: number; med: number }
  | { kind: "local-pref"; flags?: number; localPref: number }
  | { kind: "atomic-aggregate"; flags?: number }
  | { kind: "aggregator"; flags?: number; asn: number; address: string; as4?: boolean }
  | { kind: "communities"; flags?: number; communities: number[] }
  | { kind: "originator-id"; flags?: number; originatorId: string }
  | { kind: "cluster-list"; flags?: number; clusterIds: string[] }
  | MpReachAttr
  | MpUnreachAttr
  | { kind: "ext-communities"; flags?: number; communities: ExtCommunity[] }
  | { kind: "as4-path"; flags?: number; segments: AsPathSegment[] }
  | { kind: "as4-aggregator"; flags?: number; asn: number; address: string }
  | PmsiTunnelAttr
  | { kind: "large-communities"; flags?: number; communities: LargeCommunity[] }
  | { kind: "unknown"; flags: number; code: number; value: Uint8Array };

export const ORIGIN_IGP = 0;
export const ORIGIN_EGP = 1;
export const ORIGIN_INCOMPLETE = 2;

/** Codec context negotiated on a session. */
export interface CodecContext {
  /** RFC 6793: both sides advertised the 4-octet AS capability. */
  as4: boolean;
  /** RFC 8654 extended message negotiated (max UPDATE size 65535). */
  extendedMessage?: boolean;
  /** True on an eBGP session: LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST are then discarded (RFC 7606 §7.5, §7.9, §7.10). */
  ebgp?: boolean;
  /**
   * Decoding only, iBGP: an UPDATE whose ORIGINATOR_ID is `originatorId` or whose CLUSTER_LIST
   * holds `clusterId` is a reflection loop whose routes the receiver ignores (RFC 4456 §8), so its
   * MP_REACH_NLRI EVPN routes are checked (errors as usual) but not built: `routes` stays empty
   * and `ignored` counts them. For a receiver that needs no key of them (nothing to replace).
   */
  loopIds?: LoopIds;
}

/** Our BGP Identifier and cluster ID as 32-bit numbers (RFC 4456 §7, §8). */
export interface LoopIds {
  originatorId: number;
  clusterId: number;
}

/**
 * True when the attributes in b[start, end) carry ORIGINATOR_ID = ids.originatorId or a
 * CLUSTER_LIST holding ids.clusterId. A header scan only: malformed attributes are left to
 * decodeAttributes (the loop then goes unnoticed and the routes are built).
 */
function looped(b: Uint8Array, start: number, end: number, ids: LoopIds): boolean {
  for (let p = start; p < end;) {
    const hdr = b[p]! & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    if (end - p < hdr) return false;
    const type = b[p + 1]!;
    const len = hdr === 4 ? u16(b, p + 2) : b[p + 2]!;
    const v = p + hdr;
    if (v + len > end) return false;
    if (type === AttrType.ORIGINATOR_ID && len === 4 && u32(b, v) === ids.originatorId) return true;
    if (type === AttrType.CLUSTER_LIST && len % 4 === 0)
      for (let i = v; i < v + len; i += 4) if (u32(b, i) === ids.clusterId) return true;
    p = v + len;
  }
  return false;
}

export const DEFAULT_CONTEXT: CodecContext = { as4: true };

const KIND_CODE: Record<PathAttribute["kind"], number> = {
  origin: AttrType.ORIGIN,
  "as-path": AttrType.AS_PATH,
  "next-hop": AttrType.NEXT_HOP,
  med: AttrType.MULTI_EXIT_DISC,
  "local-pref": AttrType.LOCAL_PREF,
  "atomic-aggregate": AttrType.ATOMIC_AGGREGATE,
  aggregator: AttrType.AGGREGATOR,
  communities: AttrType.COMMUNITIES,
  "originator-id": AttrType.ORIGINATOR_ID,
  "cluster-list": AttrType.CLUSTER_LIST,
  "mp-reach": AttrType.MP_REACH_NLRI,
  "mp-unreach": AttrType.MP_UNREACH_NLRI,
  "ext-communities": AttrType.EXTENDED_COMMUNITIES,
  "as4-path": AttrType.AS4_PATH,
  "as4-aggregator": AttrType.AS4_AGGREGATOR,
  "pmsi-tunnel": AttrType.PMSI_TUNNEL,
  "large-communities": AttrType.LARGE_COMMUNITIES,
  unknown: -1,
};

export function attrCode(a: PathAttribute): number {
  return a.kind === "unknown" ? a.code : KIND_CODE[a.kind];
}

const WK = AttrFlag.TRANSITIVE; // well-known: optional 0, transitive 1
const ON = AttrFlag.OPTIONAL; // optional non-transitive
const OT = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE; // optional transitive

/** Optional/transitive bits each known attribute must carry (RFC 4271 §5, RFC 7606 §3c). */
const STANDARD_FLAGS: Record<number, number> = {
  [AttrType.ORIGIN]: WK,
  [AttrType.AS_PATH]: WK,
  [AttrType.NEXT_HOP]: WK,
  [AttrType.MULTI_EXIT_DISC]: ON,
  [AttrType.LOCAL_PREF]: WK,
  [AttrType.ATOMIC_AGGREGATE]: WK,
  [AttrType.AGGREGATOR]: OT,
  [AttrType.COMMUNITIES]: OT,
  [AttrType.ORIGINATOR_ID]: ON,
  [AttrType.CLUSTER_LIST]: ON,
  [AttrType.MP_REACH_NLRI]: ON,
  [AttrType.MP_UNREACH_NLRI]: ON,
  [AttrType.EXTENDED_COMMUNITIES]: OT,
  [AttrType.AS4_PATH]: OT,
  [AttrType.AS4_AGGREGATOR]: OT,
  [AttrType.PMSI_TUNNEL]: OT,
  [AttrType.LARGE_COMMUNITIES]: OT,
};

/**
 * The RFC 7606 approach for a malformed instance of each attribute: §7.1–§7.14, RFC 6793 §6 for
 * AS4_*, RFC 8092 §6 for LARGE_COMMUNITIES. PMSI_TUNNEL (RFC 6514 is silent) follows the
 * treat-as-withdraw default of RFC 7606 §3, as FRR does.
 */
const MALFORMED_ACTION: Record<number, ErrorAction> = {
  [AttrType.ATOMIC_AGGREGATE]: "attribute-discard",
  [AttrType.AGGREGATOR]: "attribute-discard",
  [AttrType.AS4_PATH]: "attribute-discard",
  [AttrType.AS4_AGGREGATOR]: "attribute-discard",
};

function malformedAction(type: number): ErrorAction {
  return MALFORMED_ACTION[type] ?? "treat-as-withdraw";
}

const NAMES: Record<number, string> = {
  1: "ORIGIN",
  2: "AS_PATH",
  3: "NEXT_HOP",
  4: "MULTI_EXIT_DISC",
  5: "LOCAL_PREF",
  6: "ATOMIC_AGGREGATE",
  7: "AGGREGATOR",
  8: "COMMUNITIES",
  9: "ORIGINATOR_ID",
  10: "CLUSTER_LIST",
  14: "MP_REACH_NLRI",
  15: "MP_UNREACH_NLRI",
  16: "EXTENDED_COMMUNITIES",
  17: "AS4_PATH",
  18: "AS4_AGGREGATOR",
  22: "PMSI_TUNNEL",
  32: "LARGE_COMMUNITIES",
};

export function attrName(type: number): string {
  return NAMES[type] ?? `attribute ${type}`;
}

/** The attribute's bytes as sent (flags, type, length, value): the data of its NOTIFICATION. */
function rawAttr(b: Uint8Array, start: number, end: number): Uint8Array {
  return b.slice(start, end);
}

interface AttrSpan {
  b: Uint8Array;
  /** Offset of the flags octet. */
  start: number;
  /** Value span. */
  v: number;
  end: number;
  flags: number;
  type: number;
}

function attrError(
  s: AttrSpan,
  code: string,
  subcode: number,
  message: string,
  action = malformedAction(s.type),
): BgpError {
  return new BgpError({
    code,
    message: `${attrName(s.type)}: ${message}`,
    action,
    notifyCode: ErrCode.UPDATE_MESSAGE,
    notifySubcode: subcode,
    data: rawAttr(s.b, s.start, s.end),
    attrType: s.type,
  });
}

function lengthError(s: AttrSpan, expected: string): BgpError {
  return attrError(s, "ERR_ATTR_LENGTH", UpdateSub.ATTRIBUTE_LENGTH, `length ${s.end - s.v}, expected ${expected}`);
}

function decodeAsPath(s: AttrSpan, asSize: 2 | 4, four: boolean): AsPathSegment[] {
  const { b, end } = s;
  const segments: AsPathSegment[] = [];
  let p = s.v;
  // RFC 7606 §7.2 (and RFC 6793 §6 for AS4_PATH): unknown segment type, zero-length segment or an
  // overrun makes the whole attribute malformed.
  const fail = (why: string) =>
    four
      ? attrError(s, "ERR_AS4_PATH_MALFORMED", UpdateSub.OPTIONAL_ATTRIBUTE, why)
      : attrError(s, "ERR_AS_PATH_MALFORMED", UpdateSub.MALFORMED_AS_PATH, why);
  while (p < end) {
    if (end - p < 2) throw fail(`segment header truncated at offset ${p - s.v}`);
    const type = b[p]!;
    const count = b[p + 1]!;
    if (type < 1 || type > 4) throw fail(`unknown segment type ${type}`);
    if (four && type > 2) throw fail(`confederation segment type ${type} in AS4_PATH`);
    if (count === 0) throw fail("segment with zero ASes");
    const need = 2 + count * asSize;
    if (p + need > end) throw fail(`segment of ${count} AS(es) overruns the attribute`);
    const asns: number[] = new Array(count);
    for (let i = 0; i < count; i++) asns[i] = asSize === 4 ? u32(b, p + 2 + i * 4) : u16(b, p + 2 + i * 2);
    segments.push({ type, asns });
    p += need;
  }
  return segments;
}

function nextHopLengthOk(afi: number, safi: number, len: number): boolean | null {
  if (afi === Afi.L2VPN && safi === Safi.EVPN) return len === 4 || len === 16 || len === 32;
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) return len === 4 || len === 16 || len === 32; // RFC 8950
  if (afi === Afi.IPV6 && safi === Safi.UNICAST) return len === 16 || len === 32;
  return null; // family not interpreted
}

function decodeMpNlri(
  b: Uint8Array,
  p: number,
  end: number,
  afi: number,
  safi: number,
  s: AttrSpan,
  ignore = false,
): MpNlri {
  if (afi === Afi.L2VPN && safi === Safi.EVPN) {
    const routes: EvpnRoute[] = [];
    if (ignore) return { family: "evpn", routes, ignored: decodeEvpnNlri(b, p, end, null, afi, safi) };
    decodeEvpnNlri(b, p, end, routes, afi, safi);
    return { family: "evpn", routes };
  }
  if ((afi === Afi.IPV4 || afi === Afi.IPV6) && safi === Safi.UNICAST) {
    const prefixes: string[] = [];
    const err = decodePrefixes(b, p, end, afi === Afi.IPV4 ? 4 : 16, prefixes);
    if (err !== null)
      throw new BgpError({
        code: "ERR_MP_NLRI",
        message: `${attrName(s.type)}: ${err}`,
        action: "afi-safi-disable", // RFC 7606 §5.3
        notifyCode: ErrCode.UPDATE_MESSAGE,
        notifySubcode: UpdateSub.OPTIONAL_ATTRIBUTE,
        data: rawAttr(s.b, s.start, s.end),
        attrType: s.type,
        afi,
        safi,
      });
    return { family: afi === Afi.IPV4 ? "ipv4" : "ipv6", prefixes };
  }
  return { family: "raw", data: b.slice(p, end) };
}

function mpShort(s: AttrSpan, min: number): BgpError {
  // RFC 7606 §5.3/§7.11: without AFI/SAFI the attribute cannot be parsed at all: session reset.
  return attrError(
    s,
    "ERR_MP_LENGTH",
    UpdateSub.OPTIONAL_ATTRIBUTE,
    `length ${s.end - s.v}, need at least ${min}`,
    "session-reset",
  );
}

function decodeMpReach(s: AttrSpan, ignoreRoutes: boolean): MpReachAttr {
  const { b, v, end } = s;
  if (end - v < 5) throw mpShort(s, 5);
  const afi = u16(b, v);
  const safi = b[v + 2]!;
  const nhLen = b[v + 3]!;
  const nh = v + 4;
  const ok = nextHopLengthOk(afi, safi, nhLen);
  if (nh + nhLen + 1 > end || ok === false)
    // RFC 7606 §7.11: an inconsistent next-hop length hides where the NLRI start.
    throw new BgpError({
      code: "ERR_MP_NEXT_HOP_LENGTH",
      message: `MP_REACH_NLRI: next hop length ${nhLen} invalid for AFI ${afi}/SAFI ${safi} in an attribute of ${end - v} bytes`,
      action: "afi-safi-disable",
      notifyCode: ErrCode.UPDATE_MESSAGE,
      notifySubcode: UpdateSub.OPTIONAL_ATTRIBUTE,
      data: rawAttr(b, s.start, end),
      attrType: s.type,
      afi,
      safi,
    });
  const nextHop: string[] = [];
  let nextHopRaw: Uint8Array | undefined;
  if (ok === null) nextHopRaw = b.slice(nh, nh + nhLen);
  else if (nhLen === 4) nextHop.push(formatIpv4(b, nh));
  else {
    nextHop.push(formatIpv6(b, nh));
    if (nhLen === 32) nextHop.push(formatIpv6(b, nh + 16));
  }
  const reserved = b[nh + nhLen]!;
  const nlri = decodeMpNlri(b, nh + nhLen + 1, end, afi, safi, s, ignoreRoutes);
  const attr: MpReachAttr = {
    kind: "mp-reach",
    flags: s.flags,
    afi,
    safi,
    nextHop,
    reserved,
    nlri,
  };
  if (nextHopRaw !== undefined) attr.nextHopRaw = nextHopRaw;
  return attr;
}

function decodeMpUnreach(s: AttrSpan): MpUnreachAttr {
  const { b, v, end } = s;
  if (end - v < 3) throw mpShort(s, 3);
  const afi = u16(b, v);
  const safi = b[v + 2]!;
  return {
    kind: "mp-unreach",
    flags: s.flags,
    afi,
    safi,
    nlri: decodeMpNlri(b, v + 3, end, afi, safi, s),
  };
}

function decodePmsi(s: AttrSpan): PmsiTunnelAttr {
  const { b, v, end } = s;
  if (end - v < 5) throw lengthError(s, "at least 5");
  const tunnelType = b[v + 1]!;
  const idLen = end - v - 5;
  const attr: PmsiTunnelAttr = {
    kind: "pmsi-tunnel",
    flags: s.flags,
    tunnelFlags: b[v]!,
    tunnelType,
    label: (b[v + 2]! << 16) | (b[v + 3]! << 8) | b[v + 4]!,
  };
  // RFC 6514 §5: for ingress replication (type 6) the identifier is the endpoint's unicast address.
  if (tunnelType === 6 && idLen === 4) attr.endpoint = formatIpv4(b, v + 5);
  else if (tunnelType === 6 && idLen === 16) attr.endpoint = formatIpv6(b, v + 5);
  else attr.tunnelId = b.slice(v + 5, end);
  return attr;
}

/**
 * Decodes one attribute value. Throws BgpError carrying the RFC 7606 approach. Flag conflicts are
 * reported separately by the caller so that an MP attribute with bad flags is still parsed.
 */
function decodeValue(s: AttrSpan, ctx: CodecContext, ignoreRoutes: boolean): PathAttribute {
  const { b, v, end, flags } = s;
  const len = end - v;
  switch (s.type) {
    case AttrType.ORIGIN:
      if (len !== 1) throw lengthError(s, "1"); // RFC 7606 §7.1
      if (b[v]! > 2) throw attrError(s, "ERR_ORIGIN_INVALID", UpdateSub.INVALID_ORIGIN, `undefined value ${b[v]}`);
      return { kind: "origin", flags, origin: b[v]! };
    case AttrType.AS_PATH:
      return { kind: "as-path", flags, segments: decodeAsPath(s, ctx.as4 ? 4 : 2, false) };
    case AttrType.NEXT_HOP:
      if (len !== 4) throw lengthError(s, "4"); // RFC 7606 §7.3
      return { kind: "next-hop", flags, nextHop: formatIpv4(b, v) };
    case AttrType.MULTI_EXIT_DISC:
      if (len !== 4) throw lengthError(s, "4"); // RFC 7606 §7.4
      return { kind: "med", flags, med: u32(b, v) };
    case AttrType.LOCAL_PREF:
      if (len !== 4) throw lengthError(s, "4"); // RFC 7606 §7.5
      return { kind: "local-pref", flags, localPref: u32(b, v) };
    case AttrType.ATOMIC_AGGREGATE:
      if (len !== 0) throw lengthError(s, "0"); // RFC 7606 §7.6: attribute discard
      return { kind: "atomic-aggregate", flags };
    case AttrType.AGGREGATOR: {
      const want = ctx.as4 ? 8 : 6; // RFC 7606 §7.7: attribute discard
      if (len !== want) throw lengthError(s, String(want));
      return want === 8
        ? { kind: "aggregator", flags, asn: u32(b, v), address: formatIpv4(b, v + 4), as4: true }
        : { kind: "aggregator", flags, asn: u16(b, v), address: formatIpv4(b, v + 2), as4: false };
    }
    case AttrType.COMMUNITIES: {
      if (len === 0 || len % 4 !== 0) throw lengthError(s, "a non-zero multiple of 4"); // RFC 7606 §7.8
      const communities: number[] = [];
      for (let p = v; p < end; p += 4) communities.push(u32(b, p));
      return { kind: "communities", flags, communities };
    }
    case AttrType.ORIGINATOR_ID:
      if (len !== 4) throw lengthError(s, "4"); // RFC 7606 §7.9
      return { kind: "originator-id", flags, originatorId: formatIpv4(b, v) };
    case AttrType.CLUSTER_LIST: {
      if (len === 0 || len % 4 !== 0) throw lengthError(s, "a non-zero multiple of 4"); // RFC 7606 §7.10
      const clusterIds: string[] = [];
      for (let p = v; p < end; p += 4) clusterIds.push(formatIpv4(b, p));
      return { kind: "cluster-list", flags, clusterIds };
    }
    case AttrType.MP_REACH_NLRI:
      return decodeMpReach(s, ignoreRoutes);
    case AttrType.MP_UNREACH_NLRI:
      return decodeMpUnreach(s);
    case AttrType.EXTENDED_COMMUNITIES: {
      if (len === 0 || len % 8 !== 0) throw lengthError(s, "a non-zero multiple of 8"); // RFC 7606 §7.14
      const communities: ExtCommunity[] = [];
      for (let p = v; p < end; p += 8) communities.push(decodeExtCommunity(b, p));
      return { kind: "ext-communities", flags, communities };
    }
    case AttrType.AS4_PATH:
      return { kind: "as4-path", flags, segments: decodeAsPath(s, 4, true) }; // RFC 6793 §6
    case AttrType.AS4_AGGREGATOR:
      if (len !== 8) throw lengthError(s, "8"); // RFC 6793 §6: attribute discard
      return { kind: "as4-aggregator", flags, asn: u32(b, v), address: formatIpv4(b, v + 4) };
    case AttrType.PMSI_TUNNEL:
      return decodePmsi(s);
    case AttrType.LARGE_COMMUNITIES: {
      if (len === 0 || len % 12 !== 0) throw lengthError(s, "a non-zero multiple of 12"); // RFC 8092 §6
      const communities: LargeCommunity[] = [];
      for (let p = v; p < end; p += 12)
        communities.push({ global: u32(b, p), local1: u32(b, p + 4), local2: u32(b, p + 8) });
      return { kind: "large-communities", flags, communities };
    }
    default:
      if ((flags & AttrFlag.OPTIONAL) === 0)
        // RFC 4271 §6.3; RFC 7606 keeps this a session reset.
        throw attrError(
          s,
          "ERR_ATTR_UNRECOGNIZED_WELL_KNOWN",
          UpdateSub.UNRECOGNIZED_WELL_KNOWN,
          "unrecognized well-known attribute",
          "session-reset",
        );
      return { kind: "unknown", flags, code: s.type, value: b.slice(v, end) };
  }
}

/** Outcome of decoding the path attribute field of one UPDATE. */
export interface AttributesDecode {
  attributes: PathAttribute[];
  errors: BgpError[];
}

/**
 * Decodes the path attributes in b[start, end). Errors are collected, never thrown; the caller
 * derives the UPDATE's approach from them (the strongest wins, RFC 7606 §3).
 */
export function decodeAttributes(b: Uint8Array, start: number, end: number, ctx: CodecContext): AttributesDecode {
  const attributes: PathAttribute[] = [];
  const errors: BgpError[] = [];
  const seen = new Uint8Array(256);
  // RFC 7606 §7.9/§7.10: on eBGP these attributes are disregarded, so no loop is seen there.
  const ignoreRoutes = ctx.loopIds !== undefined && ctx.ebgp !== true && looped(b, start, end, ctx.loopIds);
  let p = start;
  while (p < end) {
    const flags = b[p]!;
    const hdr = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    if (end - p < hdr) {
      // RFC 7606 §4: fewer than 3 (4) octets left for an attribute header: treat-as-withdraw.
      errors.push(
        new BgpError({
          code: "ERR_ATTR_TRUNCATED",
          message: `path attribute header truncated: ${end - p} byte(s) left, need ${hdr}`,
          action: "treat-as-withdraw",
          notifyCode: ErrCode.UPDATE_MESSAGE,
          notifySubcode: UpdateSub.MALFORMED_ATTRIBUTE_LIST,
        }),
      );
      break;
    }
    const type = b[p + 1]!;
    const len = hdr === 4 ? u16(b, p + 2) : b[p + 2]!;
    const v = p + hdr;
    if (v + len > end) {
      // RFC 7606 §4: the attribute overruns the Total Path Attribute Length: treat-as-withdraw.
      errors.push(
        new BgpError({
          code: "ERR_ATTR_OVERRUN",
          message: `${attrName(type)}: length ${len} overruns the path attributes by ${v + len - end} byte(s)`,
          action: "treat-as-withdraw",
          notifyCode: ErrCode.UPDATE_MESSAGE,
          notifySubcode: UpdateSub.ATTRIBUTE_LENGTH,
          data: b.slice(p, end),
          attrType: type,
        }),
      );
      break;
    }
    const s: AttrSpan = { b, start: p, v, end: v + len, flags, type };
    p = v + len;
    if (seen[type]) {
      // RFC 7606 §3g: repeated MP_REACH/MP_UNREACH resets the session; other repeats are discarded.
      const mp = type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI;
      errors.push(
        mp
          ? attrError(
              s,
              "ERR_ATTR_DUPLICATE_MP",
              UpdateSub.MALFORMED_ATTRIBUTE_LIST,
              "appears more than once",
              "session-reset",
            )
          : attrError(
              s,
              "ERR_ATTR_DUPLICATE",
              UpdateSub.MALFORMED_ATTRIBUTE_LIST,
              "appears more than once; later copies discarded",
              "attribute-discard",
            ),
      );
      if (mp) break;
      continue;
    }
    seen[type] = 1;
    const std = STANDARD_FLAGS[type];
    let flagsOk = true;
    if (std !== undefined && (flags & 0xc0) !== std) {
      // RFC 7606 §3c: conflicting Optional/Transitive bits make the attribute malformed.
      flagsOk = false;
      errors.push(
        attrError(
          s,
          "ERR_ATTR_FLAGS",
          UpdateSub.ATTRIBUTE_FLAGS,
          `flags 0x${flags.toString(16).padStart(2, "0")} conflict with the attribute type`,
        ),
      );
    }
    let attr: PathAttribute;
    try {
      attr = decodeValue(s, ctx, ignoreRoutes);
    } catch (e) {
      if (!(e instanceof BgpError)) throw e;
      errors.push(e);
      if (e.action === "session-reset") break;
      continue;
    }
    if (!flagsOk && malformedAction(type) === "attribute-discard") continue;
    if (
      ctx.ebgp &&
      (type === AttrType.LOCAL_PREF || type === AttrType.ORIGINATOR_ID || type === AttrType.CLUSTER_LIST)
    ) {
      // RFC 7606 §7.5, §7.9, §7.10: received from an external neighbor, disregarded.
      errors.push(
        attrError(
          s,
          "ERR_ATTR_FROM_EBGP",
          UpdateSub.MALFORMED_ATTRIBUTE_LIST,
          "received from an external peer; discarded",
          "attribute-discard",
        ),
      );
      continue;
    }
    attributes.push(attr);
  }
  return { attributes, errors };
}

// ---------------------------------------------------------------------------------------------
// Encoding

function defaultFlags(a: PathAttribute): number {
  if (a.kind === "unknown") return a.flags;
  // MP attributes are usually long; like FRR, always give them a 2-byte length.
  if (a.kind === "mp-reach" || a.kind === "mp-unreach") return ON | AttrFlag.EXTENDED_LENGTH;
  return STANDARD_FLAGS[KIND_CODE[a.kind]] ?? OT;
}

function putAddr(w: Writer, ip: string, what: string): void {
  w.ensure(16);
  if (ip.includes(":")) {
    if (!parseIpv6Into(ip, w.buf, w.pos)) throw new EncodeError("ERR_ENCODE_ATTR", `invalid ${what} "${ip}"`);
    w.pos += 16;
  } else {
    if (!parseIpv4Into(ip, w.buf, w.pos)) throw new EncodeError("ERR_ENCODE_ATTR", `invalid ${what} "${ip}"`);
    w.pos += 4;
  }
}

function putIpv4(w: Writer, ip: string, what: string): void {
  w.ensure(4);
  if (ip.includes(":") || !parseIpv4Into(ip, w.buf, w.pos))
    throw new EncodeError("ERR_ENCODE_ATTR", `invalid ${what} "${ip}"`);
  w.pos += 4;
}

function encodeSegments(w: Writer, segments: AsPathSegment[], as4: boolean): void {
  for (const seg of segments) {
    if (seg.asns.length === 0 || seg.asns.length > 255)
      throw new EncodeError("ERR_ENCODE_ATTR", `AS_PATH segment must hold 1..255 ASes, has ${seg.asns.length}`);
    w.u8(seg.type);
    w.u8(seg.asns.length);
    // RFC 6793 §4.2.2: towards a 2-octet speaker, ASes above 65535 become AS_TRANS.
    for (const asn of seg.asns) {
      if (as4) w.u32(asn);
      else w.u16(asn > 0xffff ? AS_TRANS : asn);
    }
  }
}

export function encodeMpNlri(w: Writer, nlri: MpNlri): void {
  switch (nlri.family) {
    case "evpn":
      for (const r of nlri.routes) encodeEvpnRoute(w, r);
      return;
    case "ipv4":
    case "ipv6":
      for (const pfx of nlri.prefixes) encodePrefix(w, pfx, nlri.family === "ipv4" ? 4 : 16);
      return;
    case "raw":
      w.bytes(nlri.data);
      return;
  }
}

function encodeValue(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  switch (a.kind) {
    case "origin":
      w.u8(a.origin);
      return;
    case "as-path":
      encodeSegments(w, a.segments, ctx.as4);
      return;
    case "as4-path":
      encodeSegments(w, a.segments, true);
      return;
    case "next-hop":
      putIpv4(w, a.nextHop, "NEXT_HOP");
      return;
    case "med":
      w.u32(a.med);
      return;
    case "local-pref":
      w.u32(a.localPref);
      return;
    case "atomic-aggregate":
      return;
    case "aggregator":
      if (a.as4 ?? ctx.as4) w.u32(a.asn);
      else w.u16(a.asn > 0xffff ? AS_TRANS : a.asn);
      putIpv4(w, a.address, "AGGREGATOR address");
      return;
    case "as4-aggregator":
      w.u32(a.asn);
      putIpv4(w, a.address, "AS4_AGGREGATOR address");
      return;
    case "communities":
      for (const c of a.communities) w.u32(c);
      return;
    case "originator-id":
      putIpv4(w, a.originatorId, "ORIGINATOR_ID");
      return;
    case "cluster-list":
      for (const id of a.clusterIds) putIpv4(w, id, "CLUSTER_LIST id");
      return;
    case "mp-reach": {
      w.u16(a.afi);
      w.u8(a.safi);
      const lenAt = w.pos;
      w.u8(0);
      if (a.nextHopRaw !== undefined) w.bytes(a.nextHopRaw);
      else for (const nh of a.nextHop) putAddr(w, nh, "MP_REACH next hop");
      w.setU8(lenAt, w.pos - lenAt - 1);
      w.u8(a.reserved ?? 0);
      encodeMpNlri(w, a.nlri);
      return;
    }
    case "mp-unreach":
      w.u16(a.afi);
      w.u8(a.safi);
      encodeMpNlri(w, a.nlri);
      return;
    case "ext-communities":
      w.ensure(a.communities.length * 8);
      for (const c of a.communities) {
        encodeExtCommunityInto(c, w.buf, w.pos);
        w.pos += 8;
      }
      return;
    case "pmsi-tunnel":
      w.u8(a.tunnelFlags);
      w.u8(a.tunnelType);
      w.u24(a.label);
      if (a.endpoint !== undefined) putAddr(w, a.endpoint, "PMSI tunnel endpoint");
      else if (a.tunnelId !== undefined) w.bytes(a.tunnelId);
      return;
    case "large-communities":
      for (const c of a.communities) {
        w.u32(c.global);
        w.u32(c.local1);
        w.u32(c.local2);
      }
      return;
    case "unknown":
      w.bytes(a.value);
      return;
  }
}

/** Appends one attribute: flags, type, length (extended when needed or when the flags ask). */
export function encodeAttribute(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  let flags = a.flags ?? defaultFlags(a);
  const start = w.pos;
  const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
  w.u8(flags);
  w.u8(attrCode(a));
  if (ext) w.u16(0);
  else w.u8(0);
  const v = w.pos;
  encodeValue(w, a, ctx);
  let len = w.pos - v;
  if (len > 0xffff)
    throw new EncodeError("ERR_ENCODE_ATTR", `${attrName(attrCode(a))} value of ${len} bytes exceeds 65535`);
  if (ext) w.setU16(v - 2, len);
  else if (len <= 0xff) w.setU8(v - 1, len);
  else {
    // RFC 4271 §4.3: a value over 255 bytes needs the Extended Length bit and a 2-byte length.
    w.insertGap(v, 1);
    flags |= AttrFlag.EXTENDED_LENGTH;
    w.setU8(start, flags);
    len = w.pos - v - 1;
    w.setU16(v - 1, len);
  }
}

export function encodeAttributes(w: Writer, attrs: readonly PathAttribute[], ctx: CodecContext): void {
  for (const a of attrs) encodeAttribute(w, a, ctx);
}

/**
 * Attributes to pass on to another peer: optional transitive attributes this speaker does not
 * recognise get the Partial bit, unrecognised optional non-transitive ones are dropped
 * (RFC 4271 §5 and §9.1.4).
 */
export function attributesForPropagation(attrs: readonly PathAttribute[]): PathAttribute[] {
  const out: PathAttribute[] = [];
  for (const a of attrs) {
    if (a.kind !== "unknown") out.push(a);
    else if (a.flags & AttrFlag.TRANSITIVE) out.push({ ...a, flags: a.flags | AttrFlag.PARTIAL });
  }
  return out;
}

/** First attribute of a kind, typed. */
export function findAttr<K extends PathAttribute["kind"]>(
  attrs: readonly PathAttribute[],
  kind: K,
): Extract<PathAttribute, { kind: K }> | undefined {
  for (const a of attrs) if (a.kind === kind) return a as Extract<PathAttribute, { kind: K }>;
  return undefined;
}

// Re-exported so that callers building attributes need one import.
export { Writer };
