// A small mutational fuzzer: seeds (real messages and frames) are mutated — bit flips, interesting
// bytes, truncation, extension, splices, chunk copies and deletions, length-field edits — and fed
// to a target that must never throw and must return within a time limit. Deterministic from its
// seed (xorshift128+), so that a failure prints what reproduces it.

export interface FuzzTarget {
  name: string;
  seeds: Uint8Array[];
  /** Runs one input; throws (or returns a reason) when a property does not hold. */
  run(input: Uint8Array): string | null | void;
  /** Offsets of 8- or 16-bit length fields worth editing in a seed (e.g. the BGP header length). */
  lengthFields?: (seed: Uint8Array) => number[];
}

export interface FuzzResult {
  target: string;
  inputs: number;
  ms: number;
  failures: { iteration: number; input: string; error: string }[];
  /** Inputs that took longer than the hang limit. */
  hangs: { iteration: number; input: string; ms: number }[];
  slowestMs: number;
}

export class Rng {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = seed | 0 || 0x9e3779b9;
    this.b = (seed * 0x85ebca6b) | 0 || 0x7f4a7c15;
  }
  /** A 32-bit unsigned integer. */
  next(): number {
    let s1 = this.a;
    const s0 = this.b;
    this.a = s0;
    s1 ^= s1 << 23;
    s1 ^= s1 >>> 17;
    s1 ^= s0 ^ (s0 >>> 26);
    this.b = s1;
    return (s0 + s1) >>> 0;
  }
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x40];

/** One mutation of `seed` (and possibly another seed, for splices). */
export function mutate(rng: Rng, seed: Uint8Array, other: Uint8Array, lengthFields: number[]): Uint8Array {
  let b = seed.slice();
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const n = b.length;
    switch (rng.below(9)) {
      case 0: // bit flip
        if (n > 0) b[rng.below(n)]! ^= 1 << rng.below(8);
        break;
      case 1: // interesting byte
        if (n > 0) b[rng.below(n)] = INTERESTING[rng.below(INTERESTING.length)]!;
        break;
      case 2: // random byte
        if (n > 0) b[rng.below(n)] = rng.below(256);
        break;
      case 3: // truncate
        b = b.subarray(0, rng.below(n + 1)).slice();
        break;
      case 4: {
        // extend with random bytes
        const extra = new Uint8Array(1 + rng.below(64));
        for (let i = 0; i < extra.length; i++) extra[i] = rng.below(256);
        const c = new Uint8Array(n + extra.length);
        c.set(b);
        c.set(extra, n);
        b = c;
        break;
      }
      case 5: {
        // splice: a prefix of this one, a suffix of another
        const cut = rng.below(n + 1);
        const from = rng.below(other.length + 1);
        const c = new Uint8Array(cut + other.length - from);
        c.set(b.subarray(0, cut));
        c.set(other.subarray(from), cut);
        b = c;
        break;
      }
      case 6: {
        // copy a chunk over another place
        if (n < 2) break;
        const len = 1 + rng.below(Math.min(16, n));
        const src = rng.below(n - len + 1);
        const dst = rng.below(n - len + 1);
        b.copyWithin(dst, src, src + len);
        break;
      }
      case 7: {
        // delete a chunk
        if (n < 2) break;
        const at = rng.below(n);
        const len = 1 + rng.below(Math.min(16, n - at));
        const c = new Uint8Array(n - len);
        c.set(b.subarray(0, at));
        c.set(b.subarray(at + len), at);
        b = c;
        break;
      }
      case 8: {
        // edit a length field: off by one either way, zero, all ones
        if (lengthFields.length === 0 || n < 2) break;
        const at = lengthFields[rng.below(lengthFields.length)]!;
        if (at + 1 >= n) break;
        const v = (b[at]! << 8) | b[at + 1]!;
        const nv = [v + 1, v - 1, 0, 0xffff, v + 2, v - 2][rng.below(6)]! & 0xffff;
        b[at] = nv >> 8;
        b[at + 1] = nv & 0xff;
        break;
      }
    }
  }
  return b;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Runs `target` for `inputs` mutated inputs or until `deadline` (ms since epoch), whichever comes
 * first. `hangMs`: one input taking longer is a hang.
 */
export function fuzz(
  target: FuzzTarget,
  opts: { seed: number; inputs?: number; deadline?: number; hangMs?: number; maxFailures?: number },
): FuzzResult {
  const rng = new Rng(opts.seed);
  const seeds = target.seeds;
  const lengths = seeds.map((s) => target.lengthFields?.(s) ?? []);
  const hangMs = opts.hangMs ?? 100;
  const max = opts.inputs ?? Number.POSITIVE_INFINITY;
  const maxFailures = opts.maxFailures ?? 10;
  const out: FuzzResult = { target: target.name, inputs: 0, ms: 0, failures: [], hangs: [], slowestMs: 0 };
  // Warm-up: each seed once, untimed (the first calls compile code); properties still checked.
  for (const s of seeds)
    try {
      const r = target.run(s);
      if (typeof r === "string") out.failures.push({ iteration: -1, input: hex(s), error: r });
    } catch (e) {
      out.failures.push({
        iteration: -1,
        input: hex(s),
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      });
    }
  const t0 = performance.now();
  for (let i = 0; i < max; i++) {
    if ((i & 1023) === 0 && opts.deadline !== undefined && Date.now() >= opts.deadline) break;
    const k = rng.below(seeds.length);
    // every 16th input is a seed as is: the properties hold on real input too
    const input = (i & 15) === 0 ? seeds[k]! : mutate(rng, seeds[k]!, seeds[rng.below(seeds.length)]!, lengths[k]!);
    const s = performance.now();
    let error: string | null = null;
    try {
      const r = target.run(input);
      if (typeof r === "string") error = r;
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const took = performance.now() - s;
    if (took > out.slowestMs) out.slowestMs = took;
    if (took > hangMs && out.hangs.length < maxFailures) out.hangs.push({ iteration: i, input: hex(input), ms: took });
    if (error !== null && out.failures.length < maxFailures)
      out.failures.push({ iteration: i, input: hex(input), error });
    out.inputs++;
  }
  out.ms = performance.now() - t0;
  return out;
}
