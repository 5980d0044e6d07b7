// Big-endian stores into a buffer the caller has sized; each returns the offset after the value.
// Internal to the codec: index.ts does not re-export this module.

export function put16(b: Uint8Array, o: number, v: number): number {
  b[o] = v >>> 8;
  b[o + 1] = v;
  return o + 2;
}

export function put24(b: Uint8Array, o: number, v: number): number {
  b[o] = v >>> 16;
  b[o + 1] = v >>> 8;
  b[o + 2] = v;
  return o + 3;
}

export function put32(b: Uint8Array, o: number, v: number): number {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
  return o + 4;
}
