// Proof of durable learned state: 20 × SIGKILL of evpn-proxy while it learns new MACs at
// 1,000/s, with gobgpd as the graceful-restart helper (test/helpers/crash-lab.ts has the lab).
// After each restart: MACs sent more than state-save-seconds before the kill that are missing
// from the initial table (the goal: none), and the time from the restart to End-of-RIB.
// Run (root; namespaces, gobgpd; one lab at a time on the machine):
//   npm run build && flock /tmp/evpn-lab.lock node dist/bench/crash-restart.js
//   BENCH_CYCLES (20), BENCH_RATE (1000 MACs/s), BENCH_SAVE_SECONDS (5), BENCH_SEED (1),
//   BENCH_AGEING_SECONDS (40: keeps gobgpd's table small enough for it to keep up)
import { crashCycles } from "../test/helpers/crash-lab.js";
import { Lab } from "../tools/netlab/index.js";

const cycles = Number(process.env["BENCH_CYCLES"] ?? 20);
const rate = Number(process.env["BENCH_RATE"] ?? 1000);
const saveSeconds = Number(process.env["BENCH_SAVE_SECONDS"] ?? 5);
const seed = Number(process.env["BENCH_SEED"] ?? 1);
const ageingSeconds = Number(process.env["BENCH_AGEING_SECONDS"] ?? 40);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const lab = await Lab.create("crash");
try {
  console.log(
    `${cycles} kills, ${rate} new MACs/s, state-save-seconds ${saveSeconds}, mac-ageing-seconds ${ageingSeconds}, kill after 6-10 s of learning`,
  );
  console.log(
    "cycle    old  lost  recent kept   table  →up ms  →EoR ms  →gobgpd ms  →swept ms  gobgpd paths kill/down/after",
  );
  const out = await crashCycles(lab, {
    cycles,
    saveSeconds,
    ageingSeconds,
    rate,
    killAfterMs: [6000, 10_000],
    seed,
    onCycle: (c) =>
      console.log(
        `${String(c.cycle).padStart(5)} ${String(c.old).padStart(6)} ${String(c.lost).padStart(5)} ` +
          `${`${c.recentKept}/${c.recent}`.padStart(12)} ${String(c.table).padStart(7)} ` +
          `${String(c.restartToUpMs).padStart(7)} ${String(c.restartToEorMs).padStart(8)} ` +
          `${String(c.restartToGobgpMs ?? "-").padStart(11)} ${String(c.restartToSweptMs ?? "-").padStart(10)}  ` +
          `${`${c.gobgpPaths.atKill}/${c.gobgpPaths.down}/${c.gobgpPaths.after}`.padStart(27)}  (${c.restoreLog})`,
      ),
  });
  const eor = out.map((c) => c.restartToEorMs);
  const lost = out.reduce((a, c) => a + c.lost, 0);
  const old = out.reduce((a, c) => a + c.old, 0);
  const kept = out.reduce((a, c) => a + c.recentKept, 0);
  const recent = out.reduce((a, c) => a + c.recent, 0);
  console.log(
    `lost beyond the save interval: ${lost} of ${old} (over ${out.length} restarts); ` +
      `within it kept ${kept} of ${recent}; restart→End-of-RIB p50 ${pct(eor, 50)} ms, max ${Math.max(...eor)} ms`,
  );
} finally {
  const problems = await lab.teardown();
  if (problems.length > 0) console.error(`teardown: ${problems.join("; ")}`);
}
