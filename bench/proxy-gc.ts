// `evpn-proxy` as shipped, plus a probe for the benchmarks (bench/learning-e2e.ts (d),
// test/helpers/flaps-scenario.ts, test/helpers/overload-scenario.ts): on SIGUSR2 it writes to the
// file named first, as JSON, process.memoryUsage() after two full garbage collections, V8's code
// statistics then (`code`: compiled code and bytecode with their metadata, what V8's compilers add
// as functions warm up), and `eld`, the event-loop delay since the previous SIGUSR2
// (bench/eld.ts), taken before those GCs. The
// next window starts 30 ms after the GCs, once the timer tick they delayed has been recorded.
//   node --max-semi-space-size=1 --expose-gc proxy-gc.js OUT-FILE run --config FILE ...
import { writeFileSync } from "node:fs";
import { getHeapCodeStatistics } from "node:v8";
import { PROXY_MAIN } from "../lab/seed.js";
import { eventLoopDelay } from "./eld.js";

const [node, , out, ...args] = process.argv;
const gc = (globalThis as { gc?: () => void }).gc;
if (!out || !gc) throw new Error("usage: node --expose-gc proxy-gc.js OUT-FILE evpn-proxy-arguments...");
const delay = eventLoopDelay();
process.on("SIGUSR2", () => {
  const eld = delay.take();
  gc();
  gc();
  const c = getHeapCodeStatistics();
  const code = { compiled: c.code_and_metadata_size, bytecode: c.bytecode_and_metadata_size };
  writeFileSync(out, JSON.stringify({ ...process.memoryUsage(), code, eld }));
  setTimeout(() => delay.reset(), 30);
});
process.argv = [node!, PROXY_MAIN, ...args];
await import(PROXY_MAIN);
