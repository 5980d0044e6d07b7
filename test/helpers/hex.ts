// Hex vectors in tests: "02 25 | 00 01 ..." with spaces and "|" separators allowed.
import { fromHex, toHex } from "../../src/codec/bytes.js";

export function h(s: string): Uint8Array {
  const b = fromHex(s.replace(/\|/g, ""));
  if (b === null) throw new Error(`bad hex vector: ${s}`);
  return b;
}

export function hex(b: Uint8Array): string {
  return toHex(b);
}

/** Normalised hex of a vector string, for comparison with hex(). */
export function norm(s: string): string {
  return hex(h(s));
}

/** A whole BGP message: marker, length, type, body (given as hex). */
export function msg(type: number, bodyHex: string): Uint8Array {
  const body = h(bodyHex);
  const out = new Uint8Array(19 + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >>> 8;
  out[17] = out.length & 0xff;
  out[18] = type;
  out.set(body, 19);
  return out;
}

/** An UPDATE body with no withdrawn routes and no IPv4 NLRI around the given attribute hex. */
export function updateWithAttrs(attrsHex: string): Uint8Array {
  const a = h(attrsHex);
  const lenHex = a.length.toString(16).padStart(4, "0");
  return msg(2, `0000 ${lenHex} ${hex(a)}`);
}
