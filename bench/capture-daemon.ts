// evpn-proxy's daemon as `evpn-proxy run` builds it (log level warn), plus what
// bench/capture-flood.ts measures: on SIGUSR2 it writes to OUT, as JSON, the event-loop delay
// since the previous SIGUSR2 (perf_hooks.monitorEventLoopDelay: a timer every 10 ms, how late
// each one ran) and the live captures' counters; SIGTERM stops it as `run` does.
//   node --max-semi-space-size=1 capture-daemon.js CONFIG OUT
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Daemon } from "../src/app/daemon.js";
import { daemonLogger } from "../src/app/log.js";
import { loadConfig } from "../src/config/load.js";

const [file, out] = process.argv.slice(2);
if (!file || !out) throw new Error("usage: capture-daemon.js CONFIG OUT");
const loaded = loadConfig(file);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
const daemon = new Daemon(loaded.config, daemonLogger("warn"));
await daemon.start();
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
process.on("SIGUSR2", () => {
  const eld = {
    samples: delay.count,
    p50Ms: ms(delay.percentile(50)),
    p99Ms: ms(delay.percentile(99)),
    p999Ms: ms(delay.percentile(99.9)),
    maxMs: ms(delay.max),
  };
  writeFileSync(
    out,
    JSON.stringify({ eld, captures: daemon.captureCounters(), rssMiB: process.memoryUsage().rss >> 20 }),
  );
  delay.reset();
});
process.on("SIGTERM", () => void daemon.stop("bench done").then(() => process.exit(0)));
