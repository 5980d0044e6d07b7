// IP prefixes in CIDR text ("192.0.2.0/24", "2001:db8::/32"): parsed once, then matched against
// address bytes without allocation.

import { ipBytes } from "./addr.js";

export interface Prefix {
  bytes: Uint8Array;
  /** 4 or 16. */
  len: number;
  /** Prefix length in bits. */
  bits: number;
}

/** Parses CIDR text (an address alone is a host prefix), or null when it is not a prefix. */
export function parsePrefix(s: string): Prefix | null {
  const slash = s.indexOf("/");
  const bytes = ipBytes(slash < 0 ? s : s.slice(0, slash));
  if (bytes === null) return null;
  const text = slash < 0 ? "" : s.slice(slash + 1);
  const bits = slash < 0 ? bytes.length * 8 : /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) return null;
  return { bytes, len: bytes.length, bits };
}

/** Whether address bytes `a` (4 or 16) lie inside `p`. */
export function inPrefix(p: Prefix, a: Uint8Array): boolean {
  if (a.length !== p.len) return false;
  let bits = p.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (p.bytes[i]! & mask)) return false;
  }
  return true;
}
