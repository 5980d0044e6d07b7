// Encoding path attributes (RFC 4271 §4.3): flags(1) | type(1) | length(1 or 2) | value.
// An attribute built locally may omit `flags` and gets its type's standard flags.

import { parseIpv4Into, parseIpv6Into } from "../net/addr.js";
import { encodeMpNlri } from "./attr-mp.js";
import {
  type AsPathSegment,
  attrCode,
  attrName,
  type CodecContext,
  kindFlags,
  ON,
  type PathAttribute,
} from "./attr-model.js";
import type { Writer } from "./bytes.js";
import { AS_TRANS, AttrFlag } from "./constants.js";
import { EncodeError } from "./errors.js";
import { encodeExtCommunityInto } from "./extcommunity.js";

function defaultFlags(a: PathAttribute): number {
  // MP attributes are usually long; like FRR, always give them a 2-byte length.
  if (a.kind === "mp-reach" || a.kind === "mp-unreach") return ON | AttrFlag.EXTENDED_LENGTH;
  return kindFlags(a);
}

/** Appends an IPv4 address, or an IPv6 one unless `v4only`. */
function putAddr(w: Writer, ip: string, what: string, v4only = false): void {
  w.ensure(16);
  const v6 = ip.includes(":");
  if (v6 ? v4only || !parseIpv6Into(ip, w.buf, w.pos) : !parseIpv4Into(ip, w.buf, w.pos))
    throw new EncodeError("ERR_ENCODE_ATTR", `invalid ${what} "${ip}"`);
  w.pos += v6 ? 16 : 4;
}

/** Appends a 2- or 4-octet AS; towards a 2-octet speaker, ASes above 65535 become AS_TRANS (RFC 6793 §4.2.2). */
function putAs(w: Writer, asn: number, as4: boolean): void {
  if (as4) w.u32(asn);
  else w.u16(asn > 0xffff ? AS_TRANS : asn);
}

function encodeSegments(w: Writer, segments: AsPathSegment[], as4: boolean): void {
  for (const seg of segments) {
    if (seg.asns.length === 0 || seg.asns.length > 255)
      throw new EncodeError("ERR_ENCODE_ATTR", `AS_PATH segment must hold 1..255 ASes, has ${seg.asns.length}`);
    w.u8(seg.type);
    w.u8(seg.asns.length);
    for (const asn of seg.asns) putAs(w, asn, as4);
  }
}

function encodeValue(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  switch (a.kind) {
    case "origin":
      w.u8(a.origin);
      return;
    case "as-path":
    case "as4-path":
      encodeSegments(w, a.segments, a.kind === "as4-path" || ctx.as4);
      return;
    case "next-hop":
      putAddr(w, a.nextHop, "NEXT_HOP", true);
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
    case "as4-aggregator":
      putAs(w, a.asn, a.kind === "as4-aggregator" || (a.as4 ?? ctx.as4));
      putAddr(w, a.address, a.kind === "aggregator" ? "AGGREGATOR address" : "AS4_AGGREGATOR address", true);
      return;
    case "communities":
      for (const c of a.communities) w.u32(c);
      return;
    case "originator-id":
      putAddr(w, a.originatorId, "ORIGINATOR_ID", true);
      return;
    case "cluster-list":
      for (const id of a.clusterIds) putAddr(w, id, "CLUSTER_LIST id", true);
      return;
    case "mp-reach": {
      // RFC 4760 §3: AFI(2) | SAFI(1) | next hop length(1) | next hop | reserved(1) | NLRI
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
