// IPv4, IPv6 and MAC addresses: wire bytes <-> the text operators use. Hand-written so the codec
// needs no node:net; formatting is on the per-route hot path, so it avoids intermediate arrays.

const DEC: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * Dotted quad. V8 keeps a concatenation of 13 or more characters as a tree of pieces; reading a
 * character flattens it in place, so that a retained address costs one string (this runs once
 * per decoded route).
 */
export function formatIpv4(b: Uint8Array, o: number): string {
  const s = `${DEC[b[o]!]}.${DEC[b[o + 1]!]}.${DEC[b[o + 2]!]}.${DEC[b[o + 3]!]}`;
  if (s.length >= 13) s.charCodeAt(0);
  return s;
}

/** RFC 5952 §4 canonical text: lowercase, no leading zeros, the longest run (≥2) of zero groups as "::". */
export function formatIpv6(b: Uint8Array, o: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let g = 0; g < 8; g++) {
    const zero = b[o + g * 2] === 0 && b[o + g * 2 + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
      const len = g - runStart + 1;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
    } else runStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  let s = "";
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += g === 0 ? "::" : ":";
      g += bestLen - 1;
      continue;
    }
    s += ((b[o + g * 2]! << 8) | b[o + g * 2 + 1]!).toString(16);
    if (g < 7) s += ":";
  }
  return s;
}

const HEXC = Array.from({ length: 16 }, (_, i) => "0123456789abcdef".charCodeAt(i));

/** "02:00:00:00:01:01". One flat string allocation: this runs once per decoded type-2 route. */
export function formatMac(b: Uint8Array, o: number): string {
  const a = b[o]!;
  const c = b[o + 1]!;
  const d = b[o + 2]!;
  const e = b[o + 3]!;
  const f = b[o + 4]!;
  const g = b[o + 5]!;
  // prettier-ignore
  return String.fromCharCode(
    HEXC[a >>> 4]!, HEXC[a & 15]!, 58, HEXC[c >>> 4]!, HEXC[c & 15]!, 58, HEXC[d >>> 4]!, HEXC[d & 15]!, 58,
    HEXC[e >>> 4]!, HEXC[e & 15]!, 58, HEXC[f >>> 4]!, HEXC[f & 15]!, 58, HEXC[g >>> 4]!, HEXC[g & 15]!,
  );
}

/** Formats 4 or 16 bytes as an address. */
export function formatIp(b: Uint8Array, o: number, len: 4 | 16): string {
  return len === 4 ? formatIpv4(b, o) : formatIpv6(b, o);
}

/** Writes a dotted-quad IPv4 address into `out` at `o`; false if it is not one. */
export function parseIpv4Into(s: string, out: Uint8Array, o: number): boolean {
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 2) return false;
      out[o + part++] = n;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && n === 0) return false; // no leading zeros (ambiguous octal)
      n = n * 10 + (c - 48);
      if (n > 255 || ++digits > 3) return false;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[o + 3] = n;
  return true;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Writes an IPv6 address (RFC 4291 §2.2 text forms, including an embedded IPv4 tail). */
/** A dotted-quad IPv4 address as an unsigned 32-bit number (a BGP Identifier, RFC 6286 §2.1); NaN if it is not one. */
export function ipv4Number(s: string): number {
  const b = new Uint8Array(4);
  return parseIpv4Into(s, b, 0) ? ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!) : NaN;
}

export function parseIpv6Into(s: string, out: Uint8Array, o: number): boolean {
  const dbl = s.indexOf("::");
  if (dbl !== -1 && s.indexOf("::", dbl + 1) !== -1) return false;
  const head = dbl === -1 ? s : s.slice(0, dbl);
  const tail = dbl === -1 ? "" : s.slice(dbl + 2);
  const groups: number[] = [];
  const tailGroups: number[] = [];
  const parse = (part: string, into: number[], allowV4: boolean): boolean => {
    if (part === "") return true;
    const fields = part.split(":");
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (allowV4 && i === fields.length - 1 && f.includes(".")) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4Into(f, v4, 0)) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (f.length === 0 || f.length > 4) return false;
      let v = 0;
      for (let k = 0; k < f.length; k++) {
        const h = hexVal(f.charCodeAt(k));
        if (h < 0) return false;
        v = (v << 4) | h;
      }
      into.push(v);
    }
    return true;
  };
  if (dbl === -1) {
    if (!parse(head, groups, true) || groups.length !== 8) return false;
  } else {
    if (!parse(head, groups, false) || !parse(tail, tailGroups, true)) return false;
    if (groups.length + tailGroups.length > 7) return false;
    while (groups.length + tailGroups.length < 8) groups.push(0);
    groups.push(...tailGroups);
  }
  for (let g = 0; g < 8; g++) {
    out[o + g * 2] = groups[g]! >>> 8;
    out[o + g * 2 + 1] = groups[g]!;
  }
  return true;
}

/** Parses "aa:bb:cc:dd:ee:ff" (also "-" separated, any case) into `out` at `o`. */
export function parseMacInto(s: string, out: Uint8Array, o: number): boolean {
  if (s.length !== 17) return false;
  for (let i = 0; i < 6; i++) {
    const p = i * 3;
    const hi = hexVal(s.charCodeAt(p));
    const lo = hexVal(s.charCodeAt(p + 1));
    if (hi < 0 || lo < 0) return false;
    if (i < 5) {
      const sep = s.charCodeAt(p + 2);
      if (sep !== 58 && sep !== 45) return false;
    }
    out[o + i] = (hi << 4) | lo;
  }
  return true;
}

/** Canonical lowercase colon form of a MAC string, or null. */
export function normalizeMac(s: string): string | null {
  const b = new Uint8Array(6);
  return parseMacInto(s, b, 0) ? formatMac(b, 0) : null;
}

/** Canonical text of an IP address string (RFC 5952 for IPv6), or null. */
export function normalizeIp(s: string): string | null {
  const b = new Uint8Array(16);
  if (s.includes(":")) return parseIpv6Into(s, b, 0) ? formatIpv6(b, 0) : null;
  return parseIpv4Into(s, b, 0) ? formatIpv4(b, 0) : null;
}

/** Address bytes (4 or 16) of IP text, or null. */
export function ipBytes(s: string): Uint8Array | null {
  if (s.includes(":")) {
    const b = new Uint8Array(16);
    return parseIpv6Into(s, b, 0) ? b : null;
  }
  const b = new Uint8Array(4);
  return parseIpv4Into(s, b, 0) ? b : null;
}

const scratchA = new Uint8Array(16);
const scratchB = new Uint8Array(16);

/**
 * Numeric order of two addresses: IPv4 before IPv6, then by value; text order if either does not
 * parse. The tie-breaks of RFC 4271 §9.1.2.2 (f, g) and RFC 7432 §15.1 (lower VTEP IP) use it:
 * 192.0.2.9 comes before 192.0.2.10.
 */
export function compareAddresses(a: string, b: string): number {
  if (a === b) return 0;
  const la = a.includes(":") ? (parseIpv6Into(a, scratchA, 0) ? 16 : 0) : parseIpv4Into(a, scratchA, 0) ? 4 : 0;
  const lb = b.includes(":") ? (parseIpv6Into(b, scratchB, 0) ? 16 : 0) : parseIpv4Into(b, scratchB, 0) ? 4 : 0;
  if (la === 0 || lb === 0) return a < b ? -1 : 1;
  if (la !== lb) return la - lb;
  for (let i = 0; i < la; i++) if (scratchA[i] !== scratchB[i]) return scratchA[i]! - scratchB[i]!;
  return 0;
}
