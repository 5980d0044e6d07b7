// Start/stop churn of the live capture, then a flood through it: a stopped capture must leave
// nothing behind that libuv or the kernel could still write into (the `cap` package's
// use-after-free). Root (CAP_NET_RAW); captures on the loopback device.
//   node --expose-gc capture-churn.js [iterations=1000] [flood=100000]
// Per iteration: a capture opened on lo (every 100th on a device that does not exist, which
// leaves a retry timer to cancel; every other one with the any-frame program), a datagram sent
// through it on two of three iterations (on some of them the capture stops itself from inside
// its frame callback), stopped, one event-loop turn for libuv's close callbacks, a full GC.
// Then one capture takes `flood` datagrams. Prints one JSON line; exits non-zero on a shortfall.
// bench/capture-memcheck.ts runs this under valgrind.
import dgram from "node:dgram";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { CaptureSource } from "../src/dataplane/io/capture-source.js";
import { arpDatagram } from "./vxlan-arp.js";

const ITERATIONS = Number(process.argv[2] ?? 1000);
const FLOOD = Number(process.argv[3] ?? 100_000);
/** A VNI of this script's own, so that other VXLAN traffic on lo is not counted. */
const VNI = 0xef15;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const tx = dgram.createSocket("udp4");
await new Promise<void>((r) => tx.bind({ address: "127.0.0.1", port: 0 }, r));
// Unconnected: nothing listens on 4789, and the ICMP port unreachable must not become an error.
const send = (k: number): void => tx.send(arpDatagram(VNI, k, (k % 250) + 1), 4789, "127.0.0.1");

const t0 = performance.now();
let churnFrames = 0;
for (let i = 0; i < ITERATIONS; i++) {
  const selfStop = i % 3 === 1;
  const c: CaptureSource = new CaptureSource(
    { device: i % 100 === 99 ? "evpnnosuch0" : "lo", anyFrame: i % 2 === 1, retryMinMs: 1 },
    (f) => {
      if (f.vni !== VNI) return;
      churnFrames++;
      if (selfStop) c.stop();
    },
  );
  c.start();
  if (i % 3 !== 2) {
    send(i);
    await turn();
    await turn();
  }
  c.stop();
  await turn();
  gc();
}
const churnMs = performance.now() - t0;

let frames = 0;
const c = new CaptureSource({ device: "lo" }, (f) => {
  if (f.vni === VNI) frames++;
});
c.start();
const t1 = performance.now();
for (let k = 0; k < FLOOD; k++) {
  send(k);
  if (k % 256 === 255) await turn();
}
let seen = -1;
for (let quiet = 0; quiet < 30 && frames < FLOOD; quiet = frames === seen ? quiet + 1 : 0) {
  seen = frames;
  await sleep(100);
}
const floodMs = performance.now() - t1;
const counters = c.counters;
c.stop();
tx.close();
gc();
const result = {
  iterations: ITERATIONS,
  churnMs: Math.round(churnMs),
  churnFrames,
  flood: { sent: FLOOD, frames, kernelDrops: counters.kernelDrops, ms: Math.round(floodMs) },
  rssMiB: Math.round(process.memoryUsage().rss / 1048576),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
if (frames + counters.kernelDrops < FLOOD || churnFrames === 0) process.exitCode = 1;
