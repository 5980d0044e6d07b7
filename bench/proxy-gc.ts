// `evpn-proxy` as shipped, plus a memory probe for bench/learning-e2e.ts (d): on SIGUSR2 it runs
// two full garbage collections and writes process.memoryUsage() as JSON to the file named first.
//   node --max-semi-space-size=1 --expose-gc proxy-gc.js OUT-FILE run --config FILE ...
import { writeFileSync } from "node:fs";
import { PROXY_MAIN } from "../lab/seed.js";

const [node, , out, ...args] = process.argv;
const gc = (globalThis as { gc?: () => void }).gc;
if (!out || !gc) throw new Error("usage: node --expose-gc proxy-gc.js OUT-FILE evpn-proxy-arguments...");
process.on("SIGUSR2", () => {
  gc();
  gc();
  writeFileSync(out, JSON.stringify(process.memoryUsage()));
});
process.argv = [node!, PROXY_MAIN, ...args];
await import(PROXY_MAIN);
