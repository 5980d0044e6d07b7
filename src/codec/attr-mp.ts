// MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4):
//
//   MP_REACH_NLRI    AFI(2) | SAFI(1) | next hop length(1) | next hop | reserved(1) | NLRI
//   MP_UNREACH_NLRI  AFI(2) | SAFI(1) | withdrawn routes
//
// EVPN NLRI (AFI 25 / SAFI 70) are decoded by evpn.ts, IPv4/IPv6 unicast prefixes by prefix.ts;
// any other family is kept raw.

import { formatIpv4, formatIpv6 } from "../net/addr.js";
import type { MpNlri, MpReachAttr, MpUnreachAttr } from "./attr-model.js";
import { u16, type Writer } from "./bytes.js";
import { Afi, Safi, UpdateSub } from "./constants.js";
import { type AttrSpan, attrError } from "./decode-errors.js";
import type { BgpError } from "./errors.js";
import { decodeEvpnNlri, type EvpnRoute, encodeEvpnRoute } from "./evpn.js";
import { decodePrefixes, encodePrefix } from "./prefix.js";

function nextHopLengthOk(afi: number, safi: number, len: number): boolean | null {
  if (afi === Afi.L2VPN && safi === Safi.EVPN) return len === 4 || len === 16 || len === 32;
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) return len === 4 || len === 16 || len === 32; // RFC 8950
  if (afi === Afi.IPV6 && safi === Safi.UNICAST) return len === 16 || len === 32;
  return null; // family not interpreted
}

function decodeMpNlri(s: AttrSpan, p: number, afi: number, safi: number, ignore = false): MpNlri {
  const { b, end } = s;
  if (afi === Afi.L2VPN && safi === Safi.EVPN) {
    const routes: EvpnRoute[] = [];
    if (ignore) return { family: "evpn", routes, ignored: decodeEvpnNlri(b, p, end, null, afi, safi) };
    decodeEvpnNlri(b, p, end, routes, afi, safi);
    return { family: "evpn", routes };
  }
  if ((afi === Afi.IPV4 || afi === Afi.IPV6) && safi === Safi.UNICAST) {
    const prefixes: string[] = [];
    const err = decodePrefixes(b, p, end, afi === Afi.IPV4 ? 4 : 16, prefixes);
    // RFC 7606 §5.3
    if (err !== null)
      throw attrError(s, "ERR_MP_NLRI", UpdateSub.OPTIONAL_ATTRIBUTE, err, "afi-safi-disable", { afi, safi });
    return { family: afi === Afi.IPV4 ? "ipv4" : "ipv6", prefixes };
  }
  return { family: "raw", data: b.slice(p, end) };
}

function mpShort(s: AttrSpan, min: number): BgpError {
  // RFC 7606 §5.3/§7.11: without AFI/SAFI the attribute cannot be parsed at all: session reset.
  const why = `length ${s.end - s.v}, need at least ${min}`;
  return attrError(s, "ERR_MP_LENGTH", UpdateSub.OPTIONAL_ATTRIBUTE, why, "session-reset");
}

export function decodeMpReach(s: AttrSpan, ignoreRoutes: boolean): MpReachAttr {
  const { b, v, end } = s;
  if (end - v < 5) throw mpShort(s, 5);
  const afi = u16(b, v);
  const safi = b[v + 2]!;
  const nhLen = b[v + 3]!;
  const nh = v + 4;
  const ok = nextHopLengthOk(afi, safi, nhLen);
  if (nh + nhLen + 1 > end || ok === false) {
    // RFC 7606 §7.11: an inconsistent next-hop length hides where the NLRI start.
    const why = `next hop length ${nhLen} invalid for AFI ${afi}/SAFI ${safi} in an attribute of ${end - v} bytes`;
    throw attrError(s, "ERR_MP_NEXT_HOP_LENGTH", UpdateSub.OPTIONAL_ATTRIBUTE, why, "afi-safi-disable", { afi, safi });
  }
  const nextHop: string[] = [];
  let nextHopRaw: Uint8Array | undefined;
  if (ok === null) nextHopRaw = b.slice(nh, nh + nhLen);
  else if (nhLen === 4) nextHop.push(formatIpv4(b, nh));
  else {
    nextHop.push(formatIpv6(b, nh));
    if (nhLen === 32) nextHop.push(formatIpv6(b, nh + 16));
  }
  const reserved = b[nh + nhLen]!;
  const nlri = decodeMpNlri(s, nh + nhLen + 1, afi, safi, ignoreRoutes);
  const attr: MpReachAttr = { kind: "mp-reach", flags: s.flags, afi, safi, nextHop, reserved, nlri };
  if (nextHopRaw !== undefined) attr.nextHopRaw = nextHopRaw;
  return attr;
}

export function decodeMpUnreach(s: AttrSpan): MpUnreachAttr {
  const { b, v, end } = s;
  if (end - v < 3) throw mpShort(s, 3);
  const afi = u16(b, v);
  const safi = b[v + 2]!;
  return { kind: "mp-unreach", flags: s.flags, afi, safi, nlri: decodeMpNlri(s, v + 3, afi, safi) };
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
