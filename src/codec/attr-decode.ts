// Decoding the path attributes of an UPDATE (RFC 4271 §4.3, §5) with RFC 7606 revised error
// handling: every malformed attribute yields a BgpError carrying its approach.
//
// Attribute: flags(1) | type(1) | length(1, or 2 with the Extended Length flag) | value.
// Decoded attributes keep their received flag byte so that decode → encode is byte-exact.

import { formatIpv4, formatIpv6 } from "../net/addr.js";
import { decodeMpReach, decodeMpUnreach } from "./attr-mp.js";
import {
  type AsPathSegment,
  attrName,
  type CodecContext,
  type LargeCommunity,
  type LoopIds,
  type PathAttribute,
  type PmsiTunnelAttr,
  STANDARD_FLAGS,
} from "./attr-model.js";
import { u16, u24, u32 } from "./bytes.js";
import { AttrFlag, AttrType, UpdateSub } from "./constants.js";
import { type AttrSpan, attrError, lengthError, malformedAction, updateError } from "./decode-errors.js";
import { BgpError } from "./errors.js";
import { decodeExtCommunity } from "./extcommunity.js";

/** Offset of the value of the attribute at `p`: after 3 header bytes, 4 with Extended Length. */
function valueAt(b: Uint8Array, p: number): number {
  return p + (b[p]! & AttrFlag.EXTENDED_LENGTH ? 4 : 3);
}

/** The length field of the attribute at `p`, whose header is complete. */
function valueLength(b: Uint8Array, p: number): number {
  return b[p]! & AttrFlag.EXTENDED_LENGTH ? u16(b, p + 2) : b[p + 2]!;
}

/**
 * True when the attributes in b[start, end) carry ORIGINATOR_ID = ids.originatorId or a
 * CLUSTER_LIST holding ids.clusterId. A header scan only: malformed attributes are left to
 * decodeAttributes (the loop then goes unnoticed and the routes are built).
 */
function looped(b: Uint8Array, start: number, end: number, ids: LoopIds): boolean {
  for (let p = start; p < end;) {
    const v = valueAt(b, p);
    if (v > end) return false;
    const len = valueLength(b, p);
    if (v + len > end) return false;
    const type = b[p + 1]!;
    if (type === AttrType.ORIGINATOR_ID && len === 4 && u32(b, v) === ids.originatorId) return true;
    if (type === AttrType.CLUSTER_LIST && len % 4 === 0)
      for (let i = v; i < v + len; i += 4) if (u32(b, i) === ids.clusterId) return true;
    p = v + len;
  }
  return false;
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

/** PMSI_TUNNEL (RFC 6514 §5): flags(1) | tunnel type(1) | label(3) | tunnel identifier. */
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
    label: u24(b, v + 2),
  };
  // RFC 6514 §5: for ingress replication (type 6) the identifier is the endpoint's unicast address.
  if (tunnelType === 6 && idLen === 4) attr.endpoint = formatIpv4(b, v + 5);
  else if (tunnelType === 6 && idLen === 16) attr.endpoint = formatIpv6(b, v + 5);
  else attr.tunnelId = b.slice(v + 5, end);
  return attr;
}

/**
 * A value that is a non-empty list of `size`-byte items (COMMUNITIES RFC 7606 §7.8, CLUSTER_LIST
 * §7.10, EXTENDED_COMMUNITIES §7.14, LARGE_COMMUNITIES RFC 8092 §6).
 */
function items<T>(s: AttrSpan, size: number, item: (b: Uint8Array, p: number) => T): T[] {
  const { b, v, end } = s;
  if (v === end || (end - v) % size !== 0) throw lengthError(s, `a non-zero multiple of ${size}`);
  const out: T[] = [];
  for (let p = v; p < end; p += size) out.push(item(b, p));
  return out;
}

function largeCommunity(b: Uint8Array, p: number): LargeCommunity {
  return { global: u32(b, p), local1: u32(b, p + 4), local2: u32(b, p + 8) };
}

/** A value of exactly `want` bytes (RFC 7606 §7.1, §7.3–§7.7, §7.9; RFC 6793 §6). */
function fixed(s: AttrSpan, want: number): number {
  if (s.end - s.v !== want) throw lengthError(s, String(want));
  return s.v;
}

/**
 * Decodes one attribute value. Throws BgpError carrying the RFC 7606 approach. Flag conflicts are
 * reported separately by the caller so that an MP attribute with bad flags is still parsed.
 */
function decodeValue(s: AttrSpan, ctx: CodecContext, ignoreRoutes: boolean): PathAttribute {
  const { b, flags } = s;
  switch (s.type) {
    case AttrType.ORIGIN: {
      const origin = b[fixed(s, 1)]!;
      if (origin > 2) throw attrError(s, "ERR_ORIGIN_INVALID", UpdateSub.INVALID_ORIGIN, `undefined value ${origin}`);
      return { kind: "origin", flags, origin };
    }
    case AttrType.AS_PATH:
      return { kind: "as-path", flags, segments: decodeAsPath(s, ctx.as4 ? 4 : 2, false) };
    case AttrType.NEXT_HOP:
      return { kind: "next-hop", flags, nextHop: formatIpv4(b, fixed(s, 4)) };
    case AttrType.MULTI_EXIT_DISC:
      return { kind: "med", flags, med: u32(b, fixed(s, 4)) };
    case AttrType.LOCAL_PREF:
      return { kind: "local-pref", flags, localPref: u32(b, fixed(s, 4)) };
    case AttrType.ATOMIC_AGGREGATE:
      fixed(s, 0);
      return { kind: "atomic-aggregate", flags };
    case AttrType.AGGREGATOR: {
      const v = fixed(s, ctx.as4 ? 8 : 6);
      return ctx.as4
        ? { kind: "aggregator", flags, asn: u32(b, v), address: formatIpv4(b, v + 4), as4: true }
        : { kind: "aggregator", flags, asn: u16(b, v), address: formatIpv4(b, v + 2), as4: false };
    }
    case AttrType.COMMUNITIES:
      return { kind: "communities", flags, communities: items(s, 4, u32) };
    case AttrType.ORIGINATOR_ID:
      return { kind: "originator-id", flags, originatorId: formatIpv4(b, fixed(s, 4)) };
    case AttrType.CLUSTER_LIST:
      return { kind: "cluster-list", flags, clusterIds: items(s, 4, formatIpv4) };
    case AttrType.MP_REACH_NLRI:
      return decodeMpReach(s, ignoreRoutes);
    case AttrType.MP_UNREACH_NLRI:
      return decodeMpUnreach(s);
    case AttrType.EXTENDED_COMMUNITIES:
      return { kind: "ext-communities", flags, communities: items(s, 8, decodeExtCommunity) };
    case AttrType.AS4_PATH:
      return { kind: "as4-path", flags, segments: decodeAsPath(s, 4, true) };
    case AttrType.AS4_AGGREGATOR: {
      const v = fixed(s, 8);
      return { kind: "as4-aggregator", flags, asn: u32(b, v), address: formatIpv4(b, v + 4) };
    }
    case AttrType.PMSI_TUNNEL:
      return decodePmsi(s);
    case AttrType.LARGE_COMMUNITIES:
      return { kind: "large-communities", flags, communities: items(s, 12, largeCommunity) };
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
      return { kind: "unknown", flags, code: s.type, value: b.slice(s.v, s.end) };
  }
}

/** Outcome of decoding the path attribute field of one UPDATE. */
export interface AttributesDecode {
  attributes: PathAttribute[];
  errors: BgpError[];
}

/** The error for an attribute seen before in the same UPDATE (RFC 7606 §3g). */
function repeated(s: AttrSpan, mp: boolean): BgpError {
  // RFC 7606 §3g: a repeated MP_REACH/MP_UNREACH resets the session; other repeats are discarded.
  return mp
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
      );
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
    const v = valueAt(b, p);
    if (v > end) {
      // RFC 7606 §4: fewer than 3 (4) octets left for an attribute header: treat-as-withdraw.
      const why = `path attribute header truncated: ${end - p} byte(s) left, need ${v - p}`;
      errors.push(updateError("treat-as-withdraw", UpdateSub.MALFORMED_ATTRIBUTE_LIST, "ERR_ATTR_TRUNCATED", why));
      break;
    }
    const type = b[p + 1]!;
    const len = valueLength(b, p);
    if (v + len > end) {
      // RFC 7606 §4: the attribute overruns the Total Path Attribute Length: treat-as-withdraw.
      const why = `${attrName(type)}: length ${len} overruns the path attributes by ${v + len - end} byte(s)`;
      const extra = { data: b.slice(p, end), attrType: type };
      errors.push(updateError("treat-as-withdraw", UpdateSub.ATTRIBUTE_LENGTH, "ERR_ATTR_OVERRUN", why, extra));
      break;
    }
    const s: AttrSpan = { b, start: p, v, end: v + len, flags, type };
    p = v + len;
    if (seen[type]) {
      const mp = type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI;
      errors.push(repeated(s, mp));
      if (mp) break;
      continue;
    }
    seen[type] = 1;
    const std = STANDARD_FLAGS[type]!;
    let flagsOk = true;
    if (std !== 0 && (flags & 0xc0) !== std) {
      // RFC 7606 §3c: conflicting Optional/Transitive bits make the attribute malformed.
      flagsOk = false;
      const why = `flags 0x${flags.toString(16).padStart(2, "0")} conflict with the attribute type`;
      errors.push(attrError(s, "ERR_ATTR_FLAGS", UpdateSub.ATTRIBUTE_FLAGS, why));
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
      const why = "received from an external peer; discarded";
      errors.push(attrError(s, "ERR_ATTR_FROM_EBGP", UpdateSub.MALFORMED_ATTRIBUTE_LIST, why, "attribute-discard"));
      continue;
    }
    attributes.push(attr);
  }
  return { attributes, errors };
}
