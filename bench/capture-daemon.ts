// evpn-proxy's daemon as `evpn-proxy run` builds it (log level warn), plus what
// bench/capture-flood.ts measures: on SIGUSR2 it writes to OUT, as JSON, the event-loop delay
// since the previous SIGUSR2 (bench/eld.ts) and the live captures' counters; SIGTERM stops it as `run` does.
//   node --max-semi-space-size=1 capture-daemon.js CONFIG OUT
import { writeFileSync } from "node:fs";
import { Daemon } from "../src/app/daemon.js";
import { daemonLogger } from "../src/app/log.js";
import { loadConfig } from "../src/config/load.js";
import { eventLoopDelay } from "./eld.js";

const [file, out] = process.argv.slice(2);
if (!file || !out) throw new Error("usage: capture-daemon.js CONFIG OUT");
const loaded = loadConfig(file);
if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
const daemon = new Daemon(loaded.config, daemonLogger("warn"));
await daemon.start();
const delay = eventLoopDelay();
process.on("SIGUSR2", () => {
  const eld = delay.take();
  writeFileSync(
    out,
    JSON.stringify({ eld, captures: daemon.captureCounters(), rssMiB: process.memoryUsage().rss >> 20 }),
  );
});
process.on("SIGTERM", () => void daemon.stop("bench done").then(() => process.exit(0)));
