// Benchmark: the learned table saved and restored at 1,000,000 MACs — how long the save keeps the
// event loop (the goal: never more than 10 ms), how long it takes, the file's size, and how long
// a start spends decoding and restoring it.
// Run: npm run build && node --expose-gc dist/bench/state-save.js
//   BENCH_MACS (default 1000000); BENCH_SAVES (default 3); BENCH_DIR (default a new directory
//   under the OS temporary directory, removed afterwards).
//
// Table: as bench/learning-engine.ts, 250 MACs per VNI over BENCH_MACS / 250 VNIs, 250 static
// VTEPs, one IPv4 binding per MAC. Saves run through StateSaver into a real file (temporary file,
// fsync, rename, directory fsync) while a 1 ms interval timer probes the event loop: its largest
// lateness and perf_hooks' event-loop delay histogram (max, p99) are reported with the saver's own
// longest slice.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { type FabricView, type LearnConfig, Learner } from "../src/dataplane/learning/learner.js";
import { changeStamp } from "../src/dataplane/learning/persist.js";
import { decodeState } from "../src/state/codec.js";
import { type SaveEvent, StateSaver } from "../src/state/io/saver.js";
import { StateStore } from "../src/state/io/store.js";
import { saveTiming } from "../src/state/policy.js";
import { benchMac } from "./vxlan-arp.js";

const N = Number(process.env["BENCH_MACS"] ?? 1_000_000);
const SAVES = Number(process.env["BENCH_SAVES"] ?? 3);
const PER_VNI = 250;
const VTEPS = Array.from({ length: 250 }, (_, i) => `192.0.2.${i + 1}`);
const fabric: FabricView = { isEvpnVtep: () => false, remoteMac: () => undefined };
const config: LearnConfig = {
  services: Array.from({ length: Math.ceil(N / PER_VNI) }, (_, i) => ({
    name: `vni${i + 1}`,
    evi: i + 1,
    vni: i + 1,
    staticVteps: VTEPS.map((address) => ({ address, macs: [] })),
  })),
  includeIp: true,
  ageingSeconds: 300,
  autoDiscover: false,
  allowedPrefixes: [],
  maxMoves: 5,
  moveWindowSeconds: 180,
  freezeSeconds: 600,
  maxMacsPerVtep: 0,
  maxMacsPerVni: 0,
  maxLearnPerVtepPerSecond: 0,
};

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error("run with node --expose-gc");
  g();
}

const t0 = Date.now();
const learner = new Learner(config, fabric);
for (let i = 0; i < N; i++) {
  const host = (i % PER_VNI) + 1;
  learner.frame(
    {
      vtep: VTEPS[i % VTEPS.length]!,
      vni: Math.floor(i / PER_VNI) + 1,
      vlan: null,
      innerSrcMac: benchMac(i),
      kind: "arp-request",
      mac: benchMac(i),
      ip: `198.51.100.${host}`,
    },
    t0 + i / 1000,
  );
}
gc();

const dir = process.env["BENCH_DIR"] ?? mkdtempSync(join(tmpdir(), "evpn-proxy-state-bench-"));
const store = new StateStore(dir);
await store.prepare();
const events: SaveEvent[] = [];
const saver = new StateSaver({
  store,
  source: () => ({ records: () => learner.records(), stamp: () => changeStamp(learner.counters()) }),
  timing: saveTiming(5, 300),
  clock: Date.now,
  onEvent: (e) => events.push(e),
});

/** Runs `work` while a 1 ms timer and the event-loop delay histogram watch the loop. */
async function watched(work: () => Promise<void>): Promise<string> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let late = 0;
  const probe = setInterval(() => {
    const t = performance.now();
    late = Math.max(late, t - last - 1);
    last = t;
  }, 1);
  await new Promise((r) => setTimeout(r, 50));
  late = 0;
  h.enable();
  await work();
  h.disable();
  clearInterval(probe);
  return `probe lateness max ${late.toFixed(2)} ms; event-loop delay max ${(h.max / 1e6).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms`;
}

const rows: string[] = [];
// The machine's own noise: the same watch over an idle loop for as long as a save takes.
const idle = await watched(() => new Promise((r) => setTimeout(r, 1500)));
rows.push(`idle 1.5 s: ${idle}`);
for (let k = 0; k < SAVES; k++) {
  const loop = await watched(() => saver.save());
  const e = events[events.length - 1]!;
  if (e.type !== "state-saved") throw new Error(`save failed: ${JSON.stringify(e)}`);
  rows.push(
    `save ${k + 1}: ${e.records} records, ${(e.bytes / 1e6).toFixed(1)} MB in ${e.ms.toFixed(0)} ms; ` +
      `longest slice ${e.longestSliceMs.toFixed(2)} ms; ${loop}`,
  );
  gc();
}

let t = performance.now();
const bytes = readFileSync(store.file);
const readMs = performance.now() - t;
t = performance.now();
const decoded = decodeState(bytes);
const decodeMs = performance.now() - t;
if (!decoded.ok) throw new Error("the saved file does not decode");
const fresh = new Learner(config, fabric);
t = performance.now();
const report = fresh.restore(decoded.state.records(), Date.now());
const restoreMs = performance.now() - t;
if (report.restored !== N) throw new Error(`restored ${report.restored} of ${N}: ${JSON.stringify(report)}`);

console.log(`${N} MACs (each with one IPv4 binding), ${config.services.length} VNIs, ${VTEPS.length} VTEPs`);
for (const r of rows) console.log(r);
console.log(
  `start: read ${readMs.toFixed(0)} ms, check (CRC-32C, layout) ${decodeMs.toFixed(0)} ms, ` +
    `decode and restore ${restoreMs.toFixed(0)} ms (${report.restored} MACs, ${report.restoredIps} IPs)`,
);
if (process.env["BENCH_DIR"] === undefined) rmSync(dir, { recursive: true, force: true });
