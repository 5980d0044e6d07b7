// The mutational fuzzer against every target for a time budget each (FUZZ_SECONDS, default 30;
// `node dist-bench/bench/fuzz.js` runs 10,000,000 inputs per target). A failure prints the input
// (hex) and the iteration; FUZZ_SEED reproduces a run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fuzz, type FuzzTarget } from "./engine.js";
import { targets } from "./targets.js";

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 30);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

for (const t of targets())
  test(`fuzz ${t.name}: ${SECONDS} s of mutated inputs, no exception, no hang, every property (seed ${SEED})`, () => {
    const r = fuzz(t, { seed: SEED, deadline: Date.now() + SECONDS * 1000, hangMs: 250 });
    process.stderr.write(
      `fuzz ${t.name}: ${r.inputs} inputs in ${(r.ms / 1000).toFixed(1)} s, slowest ${r.slowestMs.toFixed(1)} ms\n`,
    );
    assert.ok(r.inputs > 1000, `only ${r.inputs} inputs`);
    assert.deepEqual(r.failures, [], `FUZZ_SEED=${SEED} reproduces`);
    assert.deepEqual(r.hangs, [], `FUZZ_SEED=${SEED} reproduces`);
  });

test("the fuzzer finds a planted bug, an unchecked length, and a hang", () => {
  const planted: FuzzTarget = {
    name: "planted",
    seeds: [Uint8Array.of(0, 4, 1, 2, 3, 4)],
    lengthFields: () => [0],
    run(b) {
      const len = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
      if (len > b.length) throw new RangeError(`length ${len} past the end`);
      if (b.length === 3) {
        const end = performance.now() + 30;
        while (performance.now() < end);
      }
      return null;
    },
  };
  const r = fuzz(planted, { seed: 1, inputs: 20_000, hangMs: 20 });
  assert.ok(r.failures.length > 0 && r.failures[0]!.error.startsWith("RangeError: length"), JSON.stringify(r.failures));
  assert.ok(r.hangs.length > 0, "a 30 ms input is a hang at 20 ms");
});
