// BGP extended communities (RFC 4360): 8 bytes each, type(1) | subtype(1) | value(6).
//
//   route target / origin   0x00|0x01|0x02, sub 0x02/0x03   RFC 4360 §4, RFC 5668 (4-octet AS)
//   encapsulation           0x03, sub 0x0c: reserved(4) | tunnel type(2)      RFC 9012 §4.1
//   default gateway         0x03, sub 0x0d: reserved(6)                       RFC 7432 §7.8
//   MAC mobility            0x06, sub 0x00: flags(1) | res(1) | seq(4)        RFC 7432 §7.7
//   ESI label               0x06, sub 0x01: flags(1) | res(2) | label(3)      RFC 7432 §7.5
//   ES-import route target  0x06, sub 0x02: MAC(6)                            RFC 7432 §7.6
//   router's MAC            0x06, sub 0x03: MAC(6)                            RFC 9135 §8.1
//   ARP/ND                  0x06, sub 0x08: flags(1) | res(5)                 RFC 9047 §2
// Anything else, or a known type whose reserved bytes are not zero, stays raw so that it is
// re-encoded byte for byte.

import { formatMac, parseMacInto } from "../net/addr.js";
import { u16, u24, u32 } from "./bytes.js";
import { EncodeError } from "./errors.js";
import { put16, put24, put32 } from "./put.js";
import { formatAdminValue, parseAdminValue } from "./rd.js";

/** RFC 9012 §4.1 / IANA "BGP Tunnel Encapsulation Attribute Tunnel Types". */
export const TunnelType = {
  VXLAN: 8,
  NVGRE: 9,
  MPLS: 10,
  MPLS_GRE: 11,
  VXLAN_GPE: 12,
  MPLS_UDP: 13,
  GENEVE: 19,
} as const;

/** RFC 7432 §7.7: the low-order bit of the MAC mobility flags is the sticky/static flag. */
export const MAC_MOBILITY_STICKY = 0x01;
/** RFC 7432 §7.5: the low-order bit of the ESI label flags means single-active. */
export const ESI_LABEL_SINGLE_ACTIVE = 0x01;
/** RFC 9047 §2 ARP/ND flags, bit 7 (0x01) Router, bit 6 (0x02) Override, bit 4 (0x08) Immutable. */
export const ArpNdFlag = { ROUTER: 0x01, OVERRIDE: 0x02, IMMUTABLE: 0x08 } as const;

export type ExtCommunity =
  | { kind: "route-target"; value: string }
  | { kind: "route-origin"; value: string }
  | { kind: "encapsulation"; tunnelType: number }
  | { kind: "default-gateway" }
  | { kind: "mac-mobility"; flags: number; sequence: number }
  | { kind: "esi-label"; flags: number; label: number }
  | { kind: "es-import-rt"; mac: string }
  | { kind: "router-mac"; mac: string }
  | { kind: "arp-nd"; flags: number }
  | { kind: "raw"; bytes: Uint8Array };

export function routeTarget(value: string): ExtCommunity {
  return { kind: "route-target", value };
}
export function macMobility(sequence: number, sticky = false): ExtCommunity {
  return { kind: "mac-mobility", flags: sticky ? MAC_MOBILITY_STICKY : 0, sequence };
}
export function encapsulation(tunnelType: number = TunnelType.VXLAN): ExtCommunity {
  return { kind: "encapsulation", tunnelType };
}

function zero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decodes the 8-byte extended community at `o`. Never fails: unknown forms stay raw. */
export function decodeExtCommunity(b: Uint8Array, o: number): ExtCommunity {
  const type = b[o]!;
  const sub = b[o + 1]!;
  if (type <= 0x02 && (sub === 0x02 || sub === 0x03)) {
    const value = formatAdminValue(type, b, o + 2);
    return sub === 0x02 ? { kind: "route-target", value } : { kind: "route-origin", value };
  }
  if (type === 0x03) {
    if (sub === 0x0c && zero(b, o + 2, o + 6)) return { kind: "encapsulation", tunnelType: u16(b, o + 6) };
    if (sub === 0x0d && zero(b, o + 2, o + 8)) return { kind: "default-gateway" };
  } else if (type === 0x06) {
    switch (sub) {
      case 0x00:
        if (b[o + 3] === 0) return { kind: "mac-mobility", flags: b[o + 2]!, sequence: u32(b, o + 4) };
        break;
      case 0x01:
        if (b[o + 3] === 0 && b[o + 4] === 0)
          return {
            kind: "esi-label",
            flags: b[o + 2]!,
            label: u24(b, o + 5),
          };
        break;
      case 0x02:
        return { kind: "es-import-rt", mac: formatMac(b, o + 2) };
      case 0x03:
        return { kind: "router-mac", mac: formatMac(b, o + 2) };
      case 0x08:
        if (zero(b, o + 3, o + 8)) return { kind: "arp-nd", flags: b[o + 2]! };
        break;
    }
  }
  return { kind: "raw", bytes: b.slice(o, o + 8) };
}

/** Type and sub-type octets of the kinds with a fixed pair (see the table at the top). */
const TYPE_SUB: Record<Exclude<ExtCommunity["kind"], "route-target" | "route-origin" | "raw">, number> = {
  encapsulation: 0x030c,
  "default-gateway": 0x030d,
  "mac-mobility": 0x0600,
  "esi-label": 0x0601,
  "es-import-rt": 0x0602,
  "router-mac": 0x0603,
  "arp-nd": 0x0608,
};

/** Writes one extended community as 8 bytes at `out[o]`. Throws EncodeError on invalid input. */
export function encodeExtCommunityInto(c: ExtCommunity, out: Uint8Array, o: number): void {
  out.fill(0, o, o + 8);
  if (c.kind === "route-target" || c.kind === "route-origin") {
    const layout = parseAdminValue(c.value, out, o + 2);
    if (layout < 0) throw new EncodeError("ERR_ENCODE_EXTCOMM", `invalid ${c.kind} "${c.value}"`);
    out[o] = layout;
    out[o + 1] = c.kind === "route-target" ? 0x02 : 0x03;
    return;
  }
  if (c.kind === "raw") {
    if (c.bytes.length !== 8) throw new EncodeError("ERR_ENCODE_EXTCOMM", "raw extended community must be 8 bytes");
    out.set(c.bytes, o);
    return;
  }
  put16(out, o, TYPE_SUB[c.kind]);
  switch (c.kind) {
    case "encapsulation":
      put16(out, o + 6, c.tunnelType);
      return;
    case "default-gateway":
      return;
    case "mac-mobility":
      out[o + 2] = c.flags;
      put32(out, o + 4, c.sequence);
      return;
    case "esi-label":
      out[o + 2] = c.flags;
      put24(out, o + 5, c.label);
      return;
    case "es-import-rt":
    case "router-mac":
      if (!parseMacInto(c.mac, out, o + 2)) throw new EncodeError("ERR_ENCODE_EXTCOMM", `invalid MAC "${c.mac}"`);
      return;
    case "arp-nd":
      out[o + 2] = c.flags;
      return;
  }
}

/** Operator text, close to FRR's "show bgp" notation. */
export function formatExtCommunity(c: ExtCommunity): string {
  switch (c.kind) {
    case "route-target":
      return `RT:${c.value}`;
    case "route-origin":
      return `SoO:${c.value}`;
    case "encapsulation":
      return `ET:${c.tunnelType}`;
    case "default-gateway":
      return "Default Gateway";
    case "mac-mobility":
      return c.flags & MAC_MOBILITY_STICKY ? `MM:${c.sequence}, sticky MAC` : `MM:${c.sequence}`;
    case "esi-label":
      return `ESI-label-Rt:${c.flags & ESI_LABEL_SINGLE_ACTIVE ? "SA" : "AA"}:${c.label}`;
    case "es-import-rt":
      return `ES-Import-Rt:${c.mac}`;
    case "router-mac":
      return `Rmac:${c.mac}`;
    case "arp-nd": {
      const f: string[] = [];
      if (c.flags & ArpNdFlag.ROUTER) f.push("Router");
      if (c.flags & ArpNdFlag.OVERRIDE) f.push("Override");
      if (c.flags & ArpNdFlag.IMMUTABLE) f.push("Immutable");
      return `ND:${f.join(",") || "none"}`;
    }
    case "raw": {
      let s = "raw:";
      for (const v of c.bytes) s += v.toString(16).padStart(2, "0");
      return s;
    }
  }
}
