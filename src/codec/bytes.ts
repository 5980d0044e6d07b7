// Byte helpers shared by every codec module: big-endian reads, a growable writer, hex.

import { put16, put24, put32 } from "./put.js";

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u24(b: Uint8Array, o: number): number {
  return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/** Growable output buffer; encoders append to it and patch length fields in place. */
export class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 512) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Ensures room for `n` more bytes at `pos`; returns the buffer, which growing replaces. */
  private room(n: number): Uint8Array {
    this.ensure(n);
    return this.buf;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.pos = put16(this.room(2), this.pos, v);
  }

  u24(v: number): void {
    this.pos = put24(this.room(3), this.pos, v);
  }

  u32(v: number): void {
    this.pos = put32(this.room(4), this.pos, v);
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  setU8(at: number, v: number): void {
    this.buf[at] = v;
  }

  setU16(at: number, v: number): void {
    put16(this.buf, at, v);
  }

  /** Moves bytes [from, pos) one position right, opening a gap of `n` bytes at `from`. */
  insertGap(from: number, n: number): void {
    this.ensure(n);
    this.buf.copyWithin(from + n, from, this.pos);
    this.pos += n;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Two lowercase hex digits for every byte value. */
export const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(b: Uint8Array, start = 0, end = b.length): string {
  let s = "";
  for (let i = start; i < end; i++) s += HEX2[b[i]!];
  return s;
}

/** Parses hex, ignoring whitespace; returns null on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array | null {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
