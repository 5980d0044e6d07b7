// Proof of session flaps: `evpn-proxy run` as shipped on loopback (no namespaces) with BENCH_MACS
// learned MACs and damping off for its neighbour; BENCH_FLAPS flaps of the session, a clean close
// (Cease NOTIFICATION, FIN) and a TCP reset alternating, the neighbour connecting again at once
// (test/helpers/flaps-scenario.ts). Each session must receive the whole table and End-of-RIB.
// Measured: per flap the time from the connection to End-of-RIB (p50, max), the daemon's RSS
// and open descriptors (/proc) before the first flap and after the last, both with a session up
// and 2 s after its End-of-RIB, and its live memory (V8 heap and array buffers after two full
// GCs, through bench/proxy-gc.ts) there and every 25 flaps; the machine's load average before and after.
// The daemon is pinned to core 1 (all its threads), this process to core 0. Run (one measurement
// at a time on the machine):
//   npx tsc -p . --outDir dist-bench && flock /tmp/evpn-lab.lock taskset -c 0 node dist-bench/bench/flaps.js
//   BENCH_FLAPS (100), BENCH_MACS (10000)
import { execFileSync } from "node:child_process";
import { loadAverage, mib, pct } from "./figures.js";
import { runFlaps } from "../test/helpers/flaps-scenario.js";
import { liveBytes } from "../test/helpers/proxy-probe.js";

const FLAPS = Number(process.env["BENCH_FLAPS"] ?? 100);
const MACS = Number(process.env["BENCH_MACS"] ?? 10_000);

console.log(`node ${process.version}; ${FLAPS} flaps, ${MACS} learned MACs; load average ${loadAverage()}`);
console.log("flap  kind   attempts  →EoR ms  MACs  UPDATEs  RSS MiB  fds");
const r = await runFlaps({
  flaps: FLAPS,
  macs: MACS,
  gcEvery: 25,
  onDaemon: (pid) => void execFileSync("taskset", ["-a", "-p", "-c", "1", String(pid)], { stdio: "ignore" }),
  onFlap: (f) =>
    console.log(
      `${String(f.flap).padStart(4)}  ${f.kind.padEnd(5)}  ${String(f.attempts).padStart(8)}  ` +
        `${f.eorMs.toFixed(0).padStart(7)}  ${String(f.macs).padStart(5)}  ${String(f.updates).padStart(7)}  ` +
        `${mib(f.proc.rssBytes).padStart(7)}  ${String(f.proc.fds).padStart(3)}` +
        (f.live ? `  live ${mib(liveBytes(f.live))} MiB after GC` : ""),
    ),
});
const eor = r.flaps.map((f) => f.eorMs);
const whole = r.flaps.filter((f) => f.macs === MACS && f.imet === 1).length;
const byKind = (k: string): string => {
  const xs = r.flaps.filter((f) => f.kind === k).map((f) => f.eorMs);
  return `p50 ${pct(xs, 50).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
};
console.log(`load average after: ${loadAverage()}`);
console.log(`sessions with the whole table (${MACS} MACs, 1 IMET) and End-of-RIB: ${whole} of ${r.flaps.length}`);
console.log(
  `connection → End-of-RIB: p50 ${pct(eor, 50).toFixed(0)} ms, p99 ${pct(eor, 99).toFixed(0)} ms, ` +
    `max ${Math.max(...eor).toFixed(0)} ms (after a clean close: ${byKind("close")}; after a reset: ${byKind("reset")})`,
);
const since = r.flaps.map((f) => f.sinceFirstAttemptMs);
console.log(
  `connection attempts per flap: max ${Math.max(...r.flaps.map((f) => f.attempts))}; first attempt → End-of-RIB: ` +
    `p50 ${pct(since, 50).toFixed(0)} ms, max ${Math.max(...since).toFixed(0)} ms`,
);
console.log(
  `daemon before → after: RSS ${mib(r.before.rssBytes)} → ${mib(r.after.rssBytes)} MiB, ` +
    `live (heap + array buffers after two full GCs) ${mib(liveBytes(r.liveBefore))} → ${mib(liveBytes(r.liveAfter))} MiB, ` +
    `fds ${r.before.fds} → ${r.after.fds}, threads ${r.before.threads} → ${r.after.threads}; still running: ${r.running}`,
);
process.exit(whole === r.flaps.length && r.running && r.after.fds <= r.before.fds ? 0 : 1);
