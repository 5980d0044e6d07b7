// Route distinguishers (RFC 4364 §4.2) and the same 6-byte "administrator:assigned" layout used by
// route target / route origin extended communities (RFC 4360 §3, RFC 5668 §2).
//
//   RD:  type(2) | value(6)
//   type 0: AS(2)   | assigned(4)   text "65000:10"
//   type 1: IPv4(4) | assigned(2)   text "192.0.2.1:10"
//   type 2: AS(4)   | assigned(2)   text "4200000000:10", or "65000L:10" when the AS fits 2 octets
//   other:                          text "raw:<16 hex digits>" (the whole 8 bytes)
// The "L" suffix (as in Junos) keeps type 2 with a small AS distinct from type 0, so text ⇄ bytes
// is a bijection.

import { formatIpv4, formatMac, parseIpv4Into, parseMacInto } from "../net/addr.js";
import { HEX2, toHex, u16, u32 } from "./bytes.js";

/** Formats a 6-byte value of layout 0 (AS2:u32), 1 (IPv4:u16) or 2 (AS4:u16). */
export function formatAdminValue(layout: number, b: Uint8Array, o: number): string {
  switch (layout) {
    case 0:
      return `${u16(b, o)}:${u32(b, o + 2)}`;
    case 1:
      return `${formatIpv4(b, o)}:${u16(b, o + 4)}`;
    default: {
      const asn = u32(b, o);
      return asn > 0xffff ? `${asn}:${u16(b, o + 4)}` : `${asn}L:${u16(b, o + 4)}`;
    }
  }
}

const DEC = /^(\d{1,10})(L?):(\d{1,10})$/;

/**
 * Parses administrator:assigned text into layout and 6 value bytes written at `out[o..o+6)`.
 * Returns the layout (0, 1, 2) or -1 if the text is not valid.
 */
export function parseAdminValue(s: string, out: Uint8Array, o: number): number {
  const colon = s.lastIndexOf(":");
  if (colon <= 0) return -1;
  const admin = s.slice(0, colon);
  if (admin.includes(".")) {
    const assigned = s.slice(colon + 1);
    if (!/^\d{1,5}$/.test(assigned)) return -1;
    const n = Number(assigned);
    if (n > 0xffff || !parseIpv4Into(admin, out, o)) return -1;
    out[o + 4] = n >>> 8;
    out[o + 5] = n;
    return 1;
  }
  const m = DEC.exec(s);
  if (m === null) return -1;
  const asn = Number(m[1]);
  const assigned = Number(m[3]);
  if (asn > 0xffffffff || assigned > 0xffffffff) return -1;
  if (m[2] === "" && asn <= 0xffff) {
    out[o] = asn >>> 8;
    out[o + 1] = asn;
    out[o + 2] = assigned >>> 24;
    out[o + 3] = assigned >>> 16;
    out[o + 4] = assigned >>> 8;
    out[o + 5] = assigned;
    return 0;
  }
  if (assigned > 0xffff) return -1;
  out[o] = asn >>> 24;
  out[o + 1] = asn >>> 16;
  out[o + 2] = asn >>> 8;
  out[o + 3] = asn;
  out[o + 4] = assigned >>> 8;
  out[o + 5] = assigned;
  return 2;
}

// RD text cache: a table carries few distinct RDs (one per VTEP and service), so most decodes
// are a lookup. Keyed by type and the 6 value bytes as one exact number (< 2^53).
const RD_CACHE = new Map<number, string>();
const RD_CACHE_MAX = 65536;

/** Decodes the 8-byte RD at `o` (caller checked the length). */
export function decodeRd(b: Uint8Array, o: number): string {
  const type = u16(b, o);
  if (type > 2) return `raw:${toHex(b, o, o + 8)}`;
  const key = type * 281474976710656 + u16(b, o + 2) * 4294967296 + u32(b, o + 4);
  let s = RD_CACHE.get(key);
  if (s === undefined) {
    if (RD_CACHE.size >= RD_CACHE_MAX) RD_CACHE.clear();
    s = formatAdminValue(type, b, o + 2);
    RD_CACHE.set(key, s);
  }
  return s;
}

const RD_BYTES = new Map<string, Uint8Array>();

/** Writes the RD text as 8 bytes at `out[o]`; false if the text is not an RD. */
export function encodeRdInto(rd: string, out: Uint8Array, o: number): boolean {
  let cached = RD_BYTES.get(rd);
  if (cached === undefined) {
    const b = new Uint8Array(8);
    if (!parseRdText(rd, b, 0)) return false;
    if (RD_BYTES.size >= RD_CACHE_MAX) RD_BYTES.clear();
    RD_BYTES.set(rd, b);
    cached = b;
  }
  for (let i = 0; i < 8; i++) out[o + i] = cached[i]!;
  return true;
}

function parseRdText(rd: string, out: Uint8Array, o: number): boolean {
  if (rd.startsWith("raw:")) {
    const hex = rd.slice(4);
    if (!/^[0-9a-fA-F]{16}$/.test(hex)) return false;
    for (let i = 0; i < 8; i++) out[o + i] = Number.parseInt(hex.substr(i * 2, 2), 16);
    return true;
  }
  const layout = parseAdminValue(rd, out, o + 2);
  if (layout < 0) return false;
  out[o] = 0;
  out[o + 1] = layout;
  return true;
}

/** Canonical text of an RD, or null if invalid. */
export function normalizeRd(rd: string): string | null {
  const b = new Uint8Array(8);
  return encodeRdInto(rd, b, 0) ? decodeRd(b, 0) : null;
}

// Ethernet Segment Identifier, RFC 7432 §5: type(1) | value(9). Text: 10 colon-separated hex bytes,
// as FRR prints it.

export const ESI_ZERO = "00:00:00:00:00:00:00:00:00:00";

export function decodeEsi(b: Uint8Array, o: number): string {
  let any = 0;
  for (let i = 0; i < 10; i++) any |= b[o + i]!;
  if (any === 0) return ESI_ZERO;
  let s = HEX2[b[o]!]!;
  for (let i = 1; i < 10; i++) s += `:${HEX2[b[o + i]!]}`;
  return s;
}

export function encodeEsiInto(esi: string, out: Uint8Array, o: number): boolean {
  if (esi === ESI_ZERO) {
    out.fill(0, o, o + 10);
    return true;
  }
  if (esi.length !== 29) return false;
  for (let i = 0; i < 10; i++) {
    const p = i * 3;
    if (i < 9 && esi.charCodeAt(p + 2) !== 58) return false;
    const v = Number.parseInt(esi.substr(p, 2), 16);
    if (!/^[0-9a-fA-F]{2}$/.test(esi.substr(p, 2))) return false;
    out[o + i] = v;
  }
  return true;
}

/** The ESI types of RFC 7432 §5, decoded for display and construction. */
export type EsiFields =
  | { type: 0; value: string } // operator configured: 9 bytes hex
  | { type: 1; systemMac: string; portKey: number } // LACP
  | { type: 2; rootBridgeMac: string; rootBridgePriority: number } // L2 bridge protocol
  | { type: 3; systemMac: string; localDiscriminator: number } // MAC-based
  | { type: 4; routerId: string; localDiscriminator: number } // router-ID based
  | { type: 5; asn: number; localDiscriminator: number } // AS-based
  | { type: number; value: string }; // reserved types: 9 bytes hex

export function describeEsi(esi: string): EsiFields | null {
  const b = new Uint8Array(10);
  if (!encodeEsiInto(esi, b, 0)) return null;
  switch (b[0]) {
    case 1:
      return { type: 1, systemMac: formatMac(b, 1), portKey: u16(b, 7) };
    case 2:
      return { type: 2, rootBridgeMac: formatMac(b, 1), rootBridgePriority: u16(b, 7) };
    case 3:
      return {
        type: 3,
        systemMac: formatMac(b, 1),
        localDiscriminator: (b[7]! << 16) | (b[8]! << 8) | b[9]!,
      };
    case 4:
      return { type: 4, routerId: formatIpv4(b, 1), localDiscriminator: u32(b, 5) };
    case 5:
      return { type: 5, asn: u32(b, 1), localDiscriminator: u32(b, 5) };
    default:
      return { type: b[0]!, value: toHex(b, 1, 10) };
  }
}

/** Builds the ESI text from its fields (RFC 7432 §5); null on invalid fields. */
export function makeEsi(f: EsiFields): string | null {
  const b = new Uint8Array(10);
  b[0] = f.type;
  const put32 = (o: number, v: number) => {
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
  };
  if ("systemMac" in f && "portKey" in f) {
    if (!parseMacInto(f.systemMac, b, 1)) return null;
    b[7] = f.portKey >>> 8;
    b[8] = f.portKey;
  } else if ("rootBridgeMac" in f) {
    if (!parseMacInto(f.rootBridgeMac, b, 1)) return null;
    b[7] = f.rootBridgePriority >>> 8;
    b[8] = f.rootBridgePriority;
  } else if ("systemMac" in f) {
    if (!parseMacInto(f.systemMac, b, 1)) return null;
    b[7] = f.localDiscriminator >>> 16;
    b[8] = f.localDiscriminator >>> 8;
    b[9] = f.localDiscriminator;
  } else if ("routerId" in f) {
    if (!parseIpv4Into(f.routerId, b, 1)) return null;
    put32(5, f.localDiscriminator);
  } else if ("asn" in f) {
    put32(1, f.asn);
    put32(5, f.localDiscriminator);
  } else {
    if (!/^[0-9a-fA-F]{18}$/.test(f.value)) return null;
    for (let i = 0; i < 9; i++) b[1 + i] = Number.parseInt(f.value.substr(i * 2, 2), 16);
  }
  return decodeEsi(b, 0);
}
