// CRC-32C (Castagnoli, RFC 3720 §12.1 and appendix B.4: reflected polynomial 0x82F63B78,
// initial value and final XOR 0xFFFFFFFF), eight bytes per step (slicing-by-8).

const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++)
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  return t;
})();

/**
 * CRC-32C of `b[start..end)`, continuing `crc` (the CRC of the bytes before them, 0 for none):
 * crc32c(y, crc32c(x)) is the CRC of x followed by y.
 */
export function crc32c(b: Uint8Array, crc = 0, start = 0, end = b.length): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    c =
      t[7 * 256 + (c & 0xff)]! ^
      t[6 * 256 + ((c >>> 8) & 0xff)]! ^
      t[5 * 256 + ((c >>> 16) & 0xff)]! ^
      t[4 * 256 + (c >>> 24)]! ^
      t[3 * 256 + b[i + 4]!]! ^
      t[2 * 256 + b[i + 5]!]! ^
      t[256 + b[i + 6]!]! ^
      t[b[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
