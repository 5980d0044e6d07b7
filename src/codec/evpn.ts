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
import { u32 } from "./bytes.js";
import { ErrCode, UpdateSub } from "./constants.js";
import { BgpError, EncodeError } from "./errors.js";
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
  return new BgpError({
    code,
    message,
    action: "afi-safi-disable",
    notifyCode: ErrCode.UPDATE_MESSAGE,
    notifySubcode: UpdateSub.OPTIONAL_ATTRIBUTE,
    afi,
    safi,
  });
}

function ipLenBytes(bits: number): number {
  return bits === 32 ? 4 : bits === 128 ? 16 : -1;
}

function badRoute(type: number, afi: number, safi: number, why: string): BgpError {
  return nlriError("ERR_EVPN_ROUTE_LENGTH", `EVPN route type ${type}: ${why}`, afi, safi);
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
  switch (type) {
    case 1:
      if (len !== 25) throw badRoute(type, afi, safi, `length ${len}, expected 25`);
      if (out !== null)
        out.push({
          routeType: 1,
          rd: decodeRd(b, v),
          esi: decodeEsi(b, v + 8),
          ethernetTag: u32(b, v + 18),
          label: (b[v + 22]! << 16) | (b[v + 23]! << 8) | b[v + 24]!,
        });
      return next;
    case 2: {
      if (len < 33) throw badRoute(type, afi, safi, `length ${len}, expected at least 33`);
      if (b[v + 22] !== 48) throw badRoute(type, afi, safi, `MAC address length ${b[v + 22]}, expected 48`);
      const ipBits = b[v + 29]!;
      const ipLen = ipBits === 0 ? 0 : ipLenBytes(ipBits);
      if (ipLen < 0) throw badRoute(type, afi, safi, `IP address length ${ipBits}, expected 0, 32 or 128`);
      const base = 33 + ipLen;
      if (len !== base && len !== base + 3)
        throw badRoute(type, afi, safi, `length ${len}, expected ${base} or ${base + 3} for IP length ${ipBits}`);
      const l = v + 30 + ipLen;
      if (out !== null)
        out.push({
          routeType: 2,
          rd: decodeRd(b, v),
          esi: decodeEsi(b, v + 8),
          ethernetTag: u32(b, v + 18),
          mac: formatMac(b, v + 23),
          ip: ipLen === 0 ? undefined : ipLen === 4 ? formatIpv4(b, v + 30) : formatIpv6(b, v + 30),
          label1: (b[l]! << 16) | (b[l + 1]! << 8) | b[l + 2]!,
          label2: len === base ? undefined : (b[l + 3]! << 16) | (b[l + 4]! << 8) | b[l + 5]!,
        });
      return next;
    }
    case 3: {
      if (len !== 17 && len !== 29) throw badRoute(type, afi, safi, `length ${len}, expected 17 or 29`);
      const ipBits = b[v + 12]!;
      const ipLen = ipLenBytes(ipBits);
      if (ipLen < 0 || 13 + ipLen !== len)
        throw badRoute(type, afi, safi, `IP address length ${ipBits} does not match route length ${len}`);
      if (out !== null)
        out.push({
          routeType: 3,
          rd: decodeRd(b, v),
          ethernetTag: u32(b, v + 8),
          originator: formatIp(b, v + 13, ipLen as 4 | 16),
        });
      return next;
    }
    case 4: {
      if (len !== 23 && len !== 35) throw badRoute(type, afi, safi, `length ${len}, expected 23 or 35`);
      const ipBits = b[v + 18]!;
      const ipLen = ipLenBytes(ipBits);
      if (ipLen < 0 || 19 + ipLen !== len)
        throw badRoute(type, afi, safi, `IP address length ${ipBits} does not match route length ${len}`);
      if (out !== null)
        out.push({
          routeType: 4,
          rd: decodeRd(b, v),
          esi: decodeEsi(b, v + 8),
          originator: formatIp(b, v + 19, ipLen as 4 | 16),
        });
      return next;
    }
    case 5: {
      // RFC 9136 §3.1: the route length (34 or 58) tells IPv4 from IPv6.
      if (len !== 34 && len !== 58) throw badRoute(type, afi, safi, `length ${len}, expected 34 or 58`);
      const ipLen = len === 34 ? 4 : 16;
      const plen = b[v + 22]!;
      if (plen > ipLen * 8) throw badRoute(type, afi, safi, `IP prefix length ${plen} exceeds ${ipLen * 8}`);
      const a = v + 23;
      if (out !== null)
        out.push({
          routeType: 5,
          rd: decodeRd(b, v),
          esi: decodeEsi(b, v + 8),
          ethernetTag: u32(b, v + 18),
          prefix: `${formatIp(b, a, ipLen)}/${plen}`,
          gateway: formatIp(b, a + ipLen, ipLen),
          label: (b[a + 2 * ipLen]! << 16) | (b[a + 2 * ipLen + 1]! << 8) | b[a + 2 * ipLen + 2]!,
        });
      return next;
    }
    default:
      // RFC 7606 §5.4: unrecognized route types are skipped by length; kept raw for re-encoding.
      if (out !== null) if (out !== null) out.push({ routeType: "unknown", code: type, value: b.slice(v, next) });
      return next;
  }
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

function put24(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 16;
  out[o + 1] = v >>> 8;
  out[o + 2] = v;
}

function put32(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
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
  if (!encodeRdInto(r.rd, b, v)) throw encErr(r, `RD "${r.rd}"`);
  switch (r.routeType) {
    case 1:
      if (!encodeEsiInto(r.esi, b, v + 8)) throw encErr(r, `ESI "${r.esi}"`);
      put32(b, v + 18, r.ethernetTag);
      put24(b, v + 22, r.label);
      len = 25;
      break;
    case 2: {
      if (!encodeEsiInto(r.esi, b, v + 8)) throw encErr(r, `ESI "${r.esi}"`);
      put32(b, v + 18, r.ethernetTag);
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
    case 3: {
      put32(b, v + 8, r.ethernetTag);
      const ipLen = putIp(r.originator, b, v + 13);
      if (ipLen === 0) throw encErr(r, `originator "${r.originator}"`);
      b[v + 12] = ipLen * 8;
      len = 13 + ipLen;
      break;
    }
    case 4: {
      if (!encodeEsiInto(r.esi, b, v + 8)) throw encErr(r, `ESI "${r.esi}"`);
      const ipLen = putIp(r.originator, b, v + 19);
      if (ipLen === 0) throw encErr(r, `originator "${r.originator}"`);
      b[v + 18] = ipLen * 8;
      len = 19 + ipLen;
      break;
    }
    case 5: {
      if (!encodeEsiInto(r.esi, b, v + 8)) throw encErr(r, `ESI "${r.esi}"`);
      put32(b, v + 18, r.ethernetTag);
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
