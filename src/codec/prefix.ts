// IP prefixes as carried in the UPDATE NLRI/withdrawn fields (RFC 4271 §4.3) and in MP_REACH /
// MP_UNREACH for IPv4/IPv6 unicast (RFC 4760 §5): length in bits(1) | ceil(len/8) prefix bytes.
// Host bits are kept as sent so that decode → encode is byte-exact.

import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from "../net/addr.js";
import type { Writer } from "./bytes.js";
import { EncodeError } from "./errors.js";

/**
 * Decodes prefixes of `addrLen` bytes (4 or 16) in b[start, end) into `out`. Returns null on
 * success or a description of what is wrong.
 */
export function decodePrefixes(
  b: Uint8Array,
  start: number,
  end: number,
  addrLen: 4 | 16,
  out: string[],
): string | null {
  const tmp = new Uint8Array(16);
  let p = start;
  while (p < end) {
    const bits = b[p]!;
    if (bits > addrLen * 8) return `prefix length ${bits} exceeds ${addrLen * 8}`;
    const n = (bits + 7) >>> 3;
    if (p + 1 + n > end) return `prefix of length ${bits} overruns the field by ${p + 1 + n - end} byte(s)`;
    tmp.fill(0);
    tmp.set(b.subarray(p + 1, p + 1 + n));
    out.push(`${addrLen === 4 ? formatIpv4(tmp, 0) : formatIpv6(tmp, 0)}/${bits}`);
    p += 1 + n;
  }
  return null;
}

/** Appends one prefix ("198.51.100.0/24", "2001:db8::/32"). Throws EncodeError. */
export function encodePrefix(w: Writer, prefix: string, addrLen: 4 | 16): void {
  const slash = prefix.indexOf("/");
  const bitsText = prefix.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  const tmp = new Uint8Array(16);
  const addr = prefix.slice(0, slash);
  const ok = slash > 0 && (addrLen === 4 ? parseIpv4Into(addr, tmp, 0) : parseIpv6Into(addr, tmp, 0));
  if (!ok || !Number.isInteger(bits) || bits < 0 || bits > addrLen * 8)
    throw new EncodeError("ERR_ENCODE_PREFIX", `invalid IPv${addrLen === 4 ? 4 : 6} prefix "${prefix}"`);
  const n = (bits + 7) >>> 3;
  w.u8(bits);
  w.bytes(tmp.subarray(0, n));
}
