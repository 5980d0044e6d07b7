// Soak: evpn-proxy under 30 minutes of churn (test/helpers/soak.ts has the scenario): new MACs
// learned at two static VTEPs and aged out, moves between them, duplicates, a second service
// learning, a reload with a changed file every minute, a BGP flap every 2 minutes. Reports the
// least-squares slope of RSS, V8 heap and live memory (after full GCs) after a warm-up, the
// descriptors at the start and the end, every End-of-RIB, and every warn/error line of the
// daemon's log with what explains it. Loopback only (no namespaces, no root); one lab or
// benchmark at a time on the machine:
//   npx tsc -p . --outDir dist-bench && flock /tmp/evpn-lab.lock node dist-bench/bench/soak.js [--minutes 30]
// --minutes (30), --warmup-minutes (5), --net N (loopback 127.0.N.0/24, 61), --out FILE (the
// samples and the result as JSON; default soak-<date>.json in the work directory, kept with
// the daemon's log), --reload-seconds (60) and --flap-seconds (120): shorter ones compress hours
// of reloads and flaps into the run (with --damping off, or the daemon's idle hold outgrows them).
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Fit, runSoak } from "../test/helpers/soak.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    "warmup-minutes": { type: "string", default: "5" },
    net: { type: "string", default: "61" },
    out: { type: "string" },
    "reload-seconds": { type: "string", default: "60" },
    "flap-seconds": { type: "string", default: "120" },
    damping: { type: "string", default: "on" },
  },
});
const minutes = Number(values.minutes);
const warmup = Number(values["warmup-minutes"]);
const reloadEvery = Number(values["reload-seconds"]);
const flapEvery = Number(values["flap-seconds"]);
if (!(minutes > 0) || !(warmup >= 0) || warmup >= minutes) throw new Error("--minutes > --warmup-minutes >= 0");
// A flap takes the daemon's 2 s idle hold and the initial table.
if (!(reloadEvery >= 1) || !(flapEvery >= 5)) throw new Error("--reload-seconds >= 1, --flap-seconds >= 5");
if (values.damping !== "on" && values.damping !== "off") throw new Error("--damping on|off");
const workDir = mkdtempSync(join(tmpdir(), "evpn-proxy-soak-"));
const out = values.out ?? join(workDir, `soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
// Checked before the run: the result is written after it.
if (statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--out ${out}: a directory, not a file`);
const stamp = () => new Date().toISOString().slice(11, 19);

const options = {
  seconds: minutes * 60,
  net: Number(values.net),
  workDir,
  reloadEverySeconds: reloadEvery,
  flapEverySeconds: flapEvery,
  ...(values.damping === "off" ? { damping: false as const } : {}),
  flapOffsetSeconds: 30,
  sampleEverySeconds: 10,
  gcEverySeconds: 30,
  warmupSeconds: warmup * 60,
  ageingSeconds: 60,
  freezeSeconds: 60,
  newPerSecond: 50,
  vni20PerSecond: 10,
  // Every MAC new at A moves to B and back: 50 moved MACs/s fill the daemon's bounded MAC
  // history (10,000 MACs, src/mgmt/history.ts) in 200 s, within the warm-up.
  moveEvery: 1,
  moveAfterSeconds: 10,
  stableHosts: 2000,
  stableRefreshSeconds: 20,
  bouncing: 4,
  bounceEverySeconds: 5,
};
console.log(`soak: ${minutes} min, warm-up ${warmup} min, node ${process.version}, work directory ${workDir}`);
console.log(JSON.stringify(options));
const r = await runSoak({ ...options, say: (l) => console.log(`${stamp()} ${l}`) });
writeFileSync(out, JSON.stringify({ options, ...r }));

const f2 = (x: number) => x.toFixed(2);
const line = (name: string, f: Fit, unit: string) =>
  console.log(
    `${name.padEnd(36)} ${f2(f.per10Min).padStart(7)} ${unit}/10 min  (${f.samples} samples; first ${f2(f.first)}, ` +
      `last ${f2(f.last)}, min ${f2(f.min)}, max ${f2(f.max)} ${unit})`,
  );
console.log(`\nslopes after the ${warmup}-minute warm-up (least squares):`);
line("RSS", r.fits.rss, "MiB");
line("V8 heap used (/metrics, no GC forced)", r.fits.heapUsed, "MiB");
line("live: heap + array buffers after GC", r.fits.live, "MiB");
line("  of it V8 code and bytecode", r.fits.code, "MiB");
line("  of it the rest (the daemon's data)", r.fits.data, "MiB");
line("RSS right after that GC", r.fits.liveRss, "MiB");
line("open descriptors", r.fits.fds, "fds");
const eor = r.sessions.filter((s) => s.n > 1).map((s) => (s.eorAt ?? NaN) - s.flapAt);
console.log(
  `sessions: ${r.sessions.length} (${r.sessions.length - 1} flaps); End-of-RIB in ${r.sessions.filter((s) => s.eorAt !== null).length}; ` +
    `flap → End-of-RIB ms: min ${Math.min(...eor)}, max ${Math.max(...eor)}; expected routes missing at End-of-RIB: ` +
    `${r.sessions.reduce((a, s) => a + s.missingAtEor.length, 0)}; routes at End-of-RIB: ${r.sessions.map((s) => s.routesAtEor).join(" ")}`,
);
console.log(`reloads sent ${r.reloadsSent}, applied (logged) ${r.log.reloads}`);
console.log(`sent: ${JSON.stringify(r.sent)}`);
console.log(`log lines by level: ${JSON.stringify(r.log.levels)}`);
console.log(`explained warn/error: ${JSON.stringify(r.log.explained)}`);
console.log(`unexplained warn/error: ${r.log.unexplained.length}`);
for (const l of r.log.unexplained.slice(0, 50)) console.log(`  ${l}`);
console.log(
  `end: fds ${r.final.fdsBaseline} at the start, ${r.final.fdsEnd} at the end; learned ${r.final.daemonLearned}; ` +
    `peer holds ${r.final.peerExtra.length} learned routes beyond the stable hosts, lacks ${r.final.peerMissing.length}`,
);
const load = r.samples.map((s) => s.load1);
console.log(
  `evpn-proxy CPU ${r.daemonCpuSeconds.toFixed(1)} s over ${minutes} min; machine load (1 min) ` +
    `min ${Math.min(...load)}, median ${[...load].sort((a, b) => a - b)[load.length >> 1]}, max ${Math.max(...load)}; exit code ${r.exitCode}`,
);
const cpu = process.cpuUsage();
console.log(`this process (peer, VTEPs, sampler) CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`);
console.log(`samples and result: ${out}; daemon log: ${r.logFile}`);
