// Proof of overload: BENCH_SECONDS of ARP-in-VXLAN at BENCH_RATE datagrams/s into `evpn-proxy run`
// (as shipped, on loopback, no namespaces; test/helpers/overload-scenario.ts) while a BGP
// neighbour with a 3-second hold time is attached. The daemon first learns BENCH_KNOWN MACs, its
// max-macs-per-vtep; the flood (test/helpers/vxlan-flood.ts, the native sendmmsg(2) sender) is
// 90 % ARP of those known MACs, 5 % ARP of new MACs (refused: the table is full) and 5 % garbage.
// Goals: the session never drops, KEEPALIVEs keep their one-second cadence, event-loop delay p99
// under 50 ms, memory within what the limits imply. The daemon is pinned to core 1 (all its
// threads), the sender to core 0 (with this process, which is the BGP neighbour). Run (one
// measurement at a time on the machine):
//   npx tsc -p . --outDir dist-bench && flock /tmp/evpn-lab.lock taskset -c 0 node dist-bench/bench/overload.js
//   BENCH_RATE (200000), BENCH_SECONDS (60), BENCH_KNOWN (10000), BENCH_LEARN_RATE (2000),
//   BENCH_MAX_MACS (max-macs-per-vtep, default BENCH_KNOWN: above it, new MACs are learned during
//   the flood at max-learn-rate until the table is full)
import { execFileSync } from "node:child_process";
import { loadAverage, mib, pct } from "./figures.js";
import { runOverload } from "../test/helpers/overload-scenario.js";
import { liveBytes } from "../test/helpers/proxy-probe.js";

const RATE = Number(process.env["BENCH_RATE"] ?? 200_000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 60);
const KNOWN = Number(process.env["BENCH_KNOWN"] ?? 10_000);
const LEARN_RATE = Number(process.env["BENCH_LEARN_RATE"] ?? 2000);
const MAX_MACS = Number(process.env["BENCH_MAX_MACS"] ?? KNOWN);

const n = (x: unknown): string => Number(x).toLocaleString("en-US");

console.log(
  `node ${process.version}; ${n(RATE)} datagrams/s for ${SECONDS} s, ${n(KNOWN)} known MACs, ` +
    `max-macs-per-vtep ${n(MAX_MACS)}, ` +
    `max-learn-rate ${LEARN_RATE}; load average ${loadAverage()}`,
);
const r = await runOverload({
  rate: RATE,
  seconds: SECONDS,
  known: KNOWN,
  maxMacs: MAX_MACS,
  newEvery: 20,
  garbageEvery: 20,
  learnRate: LEARN_RATE,
  senderCore: "0",
  onDaemon: (pid) => void execFileSync("taskset", ["-a", "-p", "-c", "1", String(pid)], { stdio: "ignore" }),
});
const f = r.flood;
console.log(`load average after: ${loadAverage()}`);
console.log(
  `sent: ${n(f.datagrams)} datagrams in ${n(f.ms)} ms (${n(f.rate)}/s): ${n(f.known)} known, ${n(f.new)} new, ` +
    `${n(f.garbage)} garbage; sender drops ${f.dropped} ${JSON.stringify(f.errors)}`,
);
const before = r.counters.before as { frames: number; source: Record<string, unknown> };
const after = r.counters.after as { frames: number; source: Record<string, unknown> };
console.log(
  `kernel drops on the daemon's VXLAN socket: ${n(r.kernelDrops)} (${((100 * r.kernelDrops) / f.datagrams).toFixed(2)} %)`,
);
console.log(`learning counters before: ${JSON.stringify(r.counters.before)}`);
console.log(`learning counters after:  ${JSON.stringify(r.counters.after)}`);
console.log(
  `received by the daemon: ${n(Number(after.source["datagrams"]) - Number(before.source["datagrams"]))} datagrams, ` +
    `${n(after.frames - before.frames)} ARP/ND frames to learning`,
);
const gaps = r.session.keepaliveGapsMs;
console.log(
  `session: dropped ${r.session.dropped ? "YES" : "no"} ${JSON.stringify(r.session.notifications)}; ` +
    `${gaps.length - 1} KEEPALIVEs from the daemon, gaps p50 ${pct(gaps, 50).toFixed(0)} ms, ` +
    `p99 ${pct(gaps, 99).toFixed(0)} ms, max ${Math.max(...gaps).toFixed(0)} ms; ` +
    `longest silence ${r.session.longestSilenceMs.toFixed(0)} ms; ` +
    `UPDATEs ${r.session.updates}; MACs held by the neighbour ${n(r.session.macs)}`,
);
const e = r.eld;
console.log(
  `event-loop delay over the flood + 3 s (${n(e.samples)} samples of a 10 ms timer): ` +
    `p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms, p99.9 ${e.p999Ms} ms, max ${e.maxMs} ms (goal p99 < 50)`,
);
const m = r.memory;
const peak = Math.max(...r.rss.map((s) => s.rssBytes));
console.log(
  `memory (after full GCs: heap + array buffers / RSS): empty table ${mib(liveBytes(m.empty))} / ${mib(m.empty.rss)} MiB, ` +
    `${n(KNOWN)} MACs ${mib(liveBytes(m.loaded))} / ${mib(m.loaded.rss)} MiB, ` +
    `after the flood ${mib(liveBytes(m.after))} / ${mib(m.after.rss)} MiB; ` +
    `RSS during the flood: first ${mib(r.rss[0]!.rssBytes)}, peak ${mib(peak)} MiB (${r.rss.length} samples); ` +
    `fds ${r.rss[0]!.fds} → ${r.rss[r.rss.length - 1]!.fds}`,
);
const ok = !r.session.dropped && e.p99Ms < 50 && r.running && r.session.macs === MAX_MACS;
console.log(`still running: ${r.running}; goals met: ${ok ? "yes" : "NO"}`);
process.exit(ok ? 0 : 1);
