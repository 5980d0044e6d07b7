// The long fuzzing run: 10,000,000 mutated inputs per target (FUZZ_INPUTS to change), one seed
// per run (FUZZ_SEED), crashes (exceptions or broken properties) and hangs (> 100 ms) counted.
//   npx tsc -p . --outDir dist-bench && node dist-bench/bench/fuzz.js [target]
// (a target name, e.g. state-file, runs that one only)
import { fuzz } from "../test/fuzz/engine.js";
import { targets } from "../test/fuzz/targets.js";

const inputs = Number(process.env.FUZZ_INPUTS ?? 10_000_000);
const seed = Number(process.env.FUZZ_SEED ?? 20261203);
const only = process.argv[2];
let bad = 0;
process.stdout.write(`seed ${seed}, ${inputs} inputs per target\n`);
process.stdout.write(
  `${"target".padEnd(14)} ${"inputs".padStart(11)} ${"s".padStart(7)} ${"inputs/s".padStart(10)} crashes hangs slowest\n`,
);
for (const t of targets()) {
  if (only !== undefined && t.name !== only) continue;
  const r = fuzz(t, { seed, inputs, hangMs: 100, maxFailures: 5 });
  bad += r.failures.length + r.hangs.length;
  process.stdout.write(
    `${t.name.padEnd(14)} ${String(r.inputs).padStart(11)} ${(r.ms / 1000).toFixed(1).padStart(7)} ${String(Math.round(r.inputs / (r.ms / 1000))).padStart(10)} ${String(r.failures.length).padStart(7)} ${String(r.hangs.length).padStart(5)} ${r.slowestMs.toFixed(1)} ms\n`,
  );
  for (const f of r.failures) process.stdout.write(`  crash at ${f.iteration}: ${f.error}\n    ${f.input}\n`);
  for (const x of r.hangs) process.stdout.write(`  hang at ${x.iteration}: ${x.ms.toFixed(1)} ms\n    ${x.input}\n`);
}
process.exitCode = bad === 0 ? 0 : 1;
