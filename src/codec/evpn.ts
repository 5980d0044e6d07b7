// EVPN NLRI (RFC 7432 §7, RFC 9136 §3): route type(1) | length(1) | route-type specific value.
//
//   1 Ethernet A-D   RD(8) ESI(10) EthTag(4) Label(3)                                   = 25
//   2 MAC/IP         RD(8) ESI(10) EthTag(4) MACLen(1)=48 MAC(6) IPLen(1)=0|32|128 IP(0|4|16)
//                    Label1(3) [Label2(3)]                                             = 33..52
//   3 IMET           RD(8) EthTag(4) IPLen(1)=32|128 OriginatorIP(4|16)                = 17|29
//   4 ES             RD(8) ESI(10) IPLen(1)=32|128 OriginatorIP(4|16)                  = 23|35
//   5 IP Prefix      RD(8) ESI(10) EthTag(4) PrefixLen(1) Prefix(4|16) GW(4|16) Label(3) = 34|58
//
// Labels are kept as the raw 24-bit field: for VXLAN it carries the whole VNI (RFC 8365 §5.1.3),
// for MPLS the label is the high 20 bits (use mplsLabel()).

import {
  formatIp,
  formatIpv4,
  formatIpv6,
  formatMac,
  parseIpv4Into,
  parseIpv6Into,
  parseMacInto,
} from "../net/addr.js";
import type { Writer } from "./bytes.js";
import { u24, u32 } from "./bytes.js";
import { UpdateSub } from "./constants.js";
import { updateError } from "./decode-errors.js";
import { type BgpError, EncodeError } from "./errors.js";
import { put24, put32 } from "./put.js";
import { decodeEsi, decodeRd, encodeEsiInto, encodeRdInto } from "./rd.js";

export const EvpnRouteType = {
  ETHERNET_AD: 1,
  MAC_IP: 2,
  IMET: 3,
  ETHERNET_SEGMENT: 4,
  IP_PREFIX: 5,
} as const;

export interface EvpnEthernetAd {
  routeType: 1;
  rd: string;
  esi: string;
  ethernetTag: number;
  label: number;
}

export interface EvpnMacIp {
  routeType: 2;
  rd: string;
  esi: string;
  ethernetTag: number;
  mac: string;
  /** IPv4 or IPv6 address; undefined for a MAC-only route. */
  ip: string | undefined;
  label1: number;
  /** Second label (RFC 7432 §7.2, e.g. the L3 VNI of RFC 9135); undefined when absent. */
  label2: number | undefined;
}

export interface EvpnImet {
  routeType: 3;
  rd: string;
  ethernetTag: number;
  /** Originating router's IP address: FRR builds its flood list from this field. */
  originator: string;
}

export interface EvpnEthernetSegment {
  routeType: 4;
  rd: string;
  esi: string;
  originator: string;
}

export interface EvpnIpPrefix {
  routeType: 5;
  rd: string;
  esi: string;
  ethernetTag: number;
  /** "203.0.113.0/24" or "2001:db8::/32"; the bytes are kept as sent (host bits included). */
  prefix: string;
  gateway: string;
  label: number;
}

/** A route type this codec does not know (RFC 7606 §5.4): kept so it can be re-encoded. */
export interface EvpnUnknown {
  routeType: "unknown";
  code: number;
  value: Uint8Array;
}

export type EvpnRoute = EvpnEthernetAd | EvpnMacIp | EvpnImet | EvpnEthernetSegment | EvpnIpPrefix | EvpnUnknown;

/** Convenience constructor for a type-2 route with defaults (ESI 0, tag 0, no IP, one label). */
export function macIpRoute(f: {
  rd: string;
  mac: string;
  ip?: string;
  label1: number;
  label2?: number;
  esi?: string;
  ethernetTag?: number;
}): EvpnMacIp {
  return {
    routeType: 2,
    rd: f.rd,
    esi: f.esi ?? "00:00:00:00:00:00:00:00:00:00",
    ethernetTag: f.ethernetTag ?? 0,
    mac: f.mac,
    ip: f.ip,
    label1: f.label1,
    label2: f.label2,
  };
}

/** The MPLS label in a 24-bit label field (RFC 3032: high 20 bits). */
export function mplsLabel(field: number): number {
  return field >>> 4;
}

function nlriError(code: string, message: string, afi: number, safi: number): BgpError {
  // RFC 7606 §5.3: an NLRI that cannot be parsed in MP_REACH/MP_UNREACH means AFI/SAFI disable,
  // or session reset where that is not supported; the NOTIFICATION is the fallback's.
  return updateError("afi-safi-disable", UpdateSub.OPTIONAL_ATTRIBUTE, code, message, { afi, safi });
}

function ipLenBytes(bits: number): number {
  return bits === 32 ? 4 : bits === 128 ? 16 : -1;
}

function badRoute(type: number, afi: number, safi: number, why: string): BgpError {
  return nlriError("ERR_EVPN_ROUTE_LENGTH", `EVPN route type ${type}: ${why}`, afi, safi);
}

/**
 * Types 3 and 4 end in IPLen(1) at v + `at` and the originating router's IPv4 or IPv6 address
 * (RFC 7432 §7.3, §7.4): checks the route length against it; returns the address length.
 */
function originatorLength(
  b: Uint8Array,
  v: number,
  at: number,
  len: number,
  type: number,
  afi: number,
  safi: number,
): 4 | 16 {
  if (len !== at + 5 && len !== at + 17)
    throw badRoute(type, afi, safi, `length ${len}, expected ${at + 5} or ${at + 17}`);
  const ipBits = b[v + at]!;
  const ipLen = ipLenBytes(ipBits);
  if (ipLen < 0 || at + 1 + ipLen !== len)
    throw badRoute(type, afi, safi, `IP address length ${ipBits} does not match route length ${len}`);
  return ipLen as 4 | 16;
}

/**
 * Checks the value b[v, v + len) of a route of `type`; returns the length of its IP address,
 * prefix or originator (0 for none). Throws BgpError.
 */
function checkRoute(b: Uint8Array, v: number, type: number, len: number, afi: number, safi: number): number {
  switch (type) {
    case 1:
      if (len !== 25) throw badRoute(type, afi, safi, `length ${len}, expected 25`);
      return 0;
    case 2: {
      if (len < 33) throw badRoute(type, afi, safi, `length ${len}, expected at least 33`);
      if (b[v + 22] !== 48) throw badRoute(type, afi, safi, `MAC address length ${b[v + 22]}, expected 48`);
      const ipBits = b[v + 29]!;
      const ipLen = ipBits === 0 ? 0 : ipLenBytes(ipBits);
      if (ipLen < 0) throw badRoute(type, afi, safi, `IP address length ${ipBits}, expected 0, 32 or 128`);
      const base = 33 + ipLen;
      if (len !== base && len !== base + 3)
        throw badRoute(type, afi, safi, `length ${len}, expected ${base} or ${base + 3} for IP length ${ipBits}`);
      return ipLen;
    }
    case 3:
    case 4:
      return originatorLength(b, v, type === 3 ? 12 : 18, len, type, afi, safi);
    case 5: {
      // RFC 9136 §3.1: the route length (34 or 58) tells IPv4 from IPv6.
      if (len !== 34 && len !== 58) throw badRoute(type, afi, safi, `length ${len}, expected 34 or 58`);
      const ipLen = len === 34 ? 4 : 16;
      const plen = b[v + 22]!;
      if (plen > ipLen * 8) throw badRoute(type, afi, safi, `IP prefix length ${plen} exceeds ${ipLen * 8}`);
      return ipLen;
    }
    default:
      // RFC 7606 §5.4: unrecognized route types are skipped by length; kept raw for re-encoding.
      return 0;
  }
}

/** Builds a route that checkRoute accepted; `ipLen` is what it returned (4 or 16 for types 3, 4, 5). */
function buildRoute(b: Uint8Array, v: number, type: number, len: number, ipLen: number): EvpnRoute {
  if (type === 2) {
    const l = v + 30 + ipLen;
    return {
      routeType: 2,
      rd: decodeRd(b, v),
      esi: decodeEsi(b, v + 8),
      ethernetTag: u32(b, v + 18),
      mac: formatMac(b, v + 23),
      ip: ipLen === 0 ? undefined : ipLen === 4 ? formatIpv4(b, v + 30) : formatIpv6(b, v + 30),
      label1: u24(b, l),
      label2: len === 33 + ipLen ? undefined : u24(b, l + 3),
    };
  }
  if (type < 1 || type > 5) return { routeType: "unknown", code: type, value: b.slice(v, v + len) };
  const rd = decodeRd(b, v);
  const n = ipLen as 4 | 16;
  if (type === 3) return { routeType: 3, rd, ethernetTag: u32(b, v + 8), originator: formatIp(b, v + 13, n) };
  if (type === 4) return { routeType: 4, rd, esi: decodeEsi(b, v + 8), originator: formatIp(b, v + 19, n) };
  const esi = decodeEsi(b, v + 8);
  const ethernetTag = u32(b, v + 18);
  if (type === 1) return { routeType: 1, rd, esi, ethernetTag, label: u24(b, v + 22) };
  const a = v + 23;
  const prefix = `${formatIp(b, a, n)}/${b[v + 22]}`;
  const gateway = formatIp(b, a + n, n);
  return { routeType: 5, rd, esi, ethernetTag, prefix, gateway, label: u24(b, a + 2 * n) };
}

/** Decodes one EVPN route at `p` (checks it only when `out` is null); returns the offset after it. Throws BgpError. */
function decodeOne(b: Uint8Array, p: number, end: number, out: EvpnRoute[] | null, afi: number, safi: number): number {
  if (end - p < 2)
    throw nlriError("ERR_EVPN_TRUNCATED", `EVPN NLRI truncated: ${end - p} byte(s) left, need 2`, afi, safi);
  const type = b[p]!;
  const len = b[p + 1]!;
  const v = p + 2;
  const next = v + len;
  if (next > end)
    throw nlriError(
      "ERR_EVPN_OVERRUN",
      `EVPN route type ${type} length ${len} overruns the attribute by ${next - end} byte(s)`,
      afi,
      safi,
    );
  const ipLen = checkRoute(b, v, type, len, afi, safi);
  if (out !== null) out.push(buildRoute(b, v, type, len, ipLen));
  return next;
}

/**
 * Decodes all EVPN routes in b[start, end) into `out` (null: checks them only); returns how many
 * there are. Throws BgpError (afi-safi-disable).
 */
export function decodeEvpnNlri(
  b: Uint8Array,
  start: number,
  end: number,
  out: EvpnRoute[] | null,
  afi: number,
  safi: number,
): number {
  let p = start;
  let n = 0;
  for (; p < end; n++) p = decodeOne(b, p, end, out, afi, safi);
  return n;
}

function encErr(r: EvpnRoute, what: string): EncodeError {
  return new EncodeError(
    "ERR_ENCODE_EVPN",
    `EVPN route type ${r.routeType === "unknown" ? r.code : r.routeType}: invalid ${what}`,
  );
}

function putIp(ip: string, out: Uint8Array, o: number): 4 | 16 | 0 {
  if (ip.includes(":")) return parseIpv6Into(ip, out, o) ? 16 : 0;
  return parseIpv4Into(ip, out, o) ? 4 : 0;
}

/** Types 3 and 4: IPLen(1) at v + `at`, then the originator's address; returns the route length. */
function putOriginator(r: EvpnImet | EvpnEthernetSegment, b: Uint8Array, v: number, at: number): number {
  const ipLen = putIp(r.originator, b, v + at + 1);
  if (ipLen === 0) throw encErr(r, `originator "${r.originator}"`);
  b[v + at] = ipLen * 8;
  return at + 1 + ipLen;
}

/** Appends one EVPN route. Throws EncodeError on invalid fields (local input, not peer input). */
export function encodeEvpnRoute(w: Writer, r: EvpnRoute): void {
  w.ensure(2 + 58);
  const b = w.buf;
  const p = w.pos;
  const v = p + 2;
  let len: number;
  if (r.routeType === "unknown") {
    if (r.value.length > 255) throw encErr(r, `value of ${r.value.length} bytes (at most 255)`);
    w.u8(r.code);
    w.u8(r.value.length);
    w.bytes(r.value);
    return;
  }
  // RD(8) leads every route; all but type 3 follow it with ESI(10), types 1, 2 and 5 then with
  // the Ethernet Tag(4).
  if (!encodeRdInto(r.rd, b, v)) throw encErr(r, `RD "${r.rd}"`);
  if (r.routeType !== 3 && !encodeEsiInto(r.esi, b, v + 8)) throw encErr(r, `ESI "${r.esi}"`);
  if (r.routeType !== 3 && r.routeType !== 4) put32(b, v + 18, r.ethernetTag);
  switch (r.routeType) {
    case 1:
      put24(b, v + 22, r.label);
      len = 25;
      break;
    case 2: {
      b[v + 22] = 48;
      if (!parseMacInto(r.mac, b, v + 23)) throw encErr(r, `MAC "${r.mac}"`);
      let ipLen = 0;
      if (r.ip !== undefined) {
        ipLen = putIp(r.ip, b, v + 30);
        if (ipLen === 0) throw encErr(r, `IP "${r.ip}"`);
      }
      b[v + 29] = ipLen * 8;
      put24(b, v + 30 + ipLen, r.label1);
      len = 33 + ipLen;
      if (r.label2 !== undefined) {
        put24(b, v + len, r.label2);
        len += 3;
      }
      break;
    }
    case 3:
      put32(b, v + 8, r.ethernetTag);
      len = putOriginator(r, b, v, 12);
      break;
    case 4:
      len = putOriginator(r, b, v, 18);
      break;
    case 5: {
      const slash = r.prefix.indexOf("/");
      const plenText = r.prefix.slice(slash + 1);
      const plen = /^\d{1,3}$/.test(plenText) ? Number(plenText) : -1;
      const ipLen = slash > 0 ? putIp(r.prefix.slice(0, slash), b, v + 23) : 0;
      if (ipLen === 0 || !Number.isInteger(plen) || plen < 0 || plen > ipLen * 8)
        throw encErr(r, `prefix "${r.prefix}"`);
      b[v + 22] = plen;
      if (putIp(r.gateway, b, v + 23 + ipLen) !== ipLen)
        throw encErr(r, `gateway "${r.gateway}" (must match the prefix family)`);
      put24(b, v + 23 + 2 * ipLen, r.label);
      len = 26 + 2 * ipLen;
      break;
    }
  }
  b[p] = r.routeType;
  b[p + 1] = len;
  w.pos = v + len;
}
