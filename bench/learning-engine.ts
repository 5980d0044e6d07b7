// Benchmark: the data-plane learning path in one process, without sockets or BGP: VXLAN datagram
// decoding (VxlanUdpSource.datagram) → learning engine (Learner.frame).
// Run: npm run build && node --expose-gc dist/bench/learning-engine.js
//   BENCH_MACS (default 1000000); BENCH_MAC_ONLY=1 turns MAC/IP routes off (include-ip: false).
//
// Input: one ARP request per MAC inside VXLAN (68-byte datagrams), 250 MACs per VNI over
// BENCH_MACS / 250 VNIs, each VNI with 250 static VTEPs (192.0.2.1–250) and its hosts at
// 198.51.100.1–250; MAC/IP routes on. Reported:
//   learn:   new MACs per second (each yields a MAC and, with MAC/IP on, a MAC/IP announce action);
//   known:   the same datagrams again (MACs already learned, nothing changes) per second — the
//            ceiling of the ingest path, the kernel's socket path not included;
//   memory:  growth of the learning engine per learned MAC (with its IP binding): the V8 heap plus
//            ArrayBuffer backing stores (typed arrays live outside the heap, heapUsed misses them).
import { performance } from "node:perf_hooks";
import { type FabricView, type LearnConfig, Learner } from "../src/dataplane/learning/learner.js";
import { VxlanUdpSource } from "../src/dataplane/io/udp-source.js";
import { arpDatagram } from "./vxlan-arp.js";

const N = Number(process.env["BENCH_MACS"] ?? 1_000_000);
const INCLUDE_IP = process.env["BENCH_MAC_ONLY"] !== "1";
const PER_MAC = INCLUDE_IP ? 2 : 1; // announce actions per new MAC
const PER_VNI = 250;
const VNIS = Math.ceil(N / PER_VNI);
const VTEPS = Array.from({ length: 250 }, (_, i) => `192.0.2.${i + 1}`);

function heap(): { heap: number; buffers: number } {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error("run with node --expose-gc");
  g();
  g();
  const u = process.memoryUsage();
  return { heap: u.heapUsed, buffers: u.arrayBuffers };
}

const fabric: FabricView = { isEvpnVtep: () => false, remoteMac: () => undefined };
const config: LearnConfig = {
  services: Array.from({ length: VNIS }, (_, i) => ({
    name: `vni${i + 1}`,
    evi: i + 1,
    vni: i + 1,
    staticVteps: VTEPS.map((address) => ({ address, macs: [] })),
  })),
  includeIp: INCLUDE_IP,
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

const packets: Uint8Array[] = [];
const from: string[] = [];
for (let i = 0; i < N; i++) {
  packets.push(arpDatagram(Math.floor(i / PER_VNI) + 1, i, (i % PER_VNI) + 1));
  from.push(VTEPS[i % VTEPS.length]!);
}

const learner = new Learner(config, fabric);
let actions = 0;
const now = 1_000_000;
const source = new VxlanUdpSource({ address: "192.0.2.254" }, (f) => {
  actions += learner.frame(f, now).length;
});

const before = heap();
let t = performance.now();
for (let i = 0; i < N; i++) source.datagram(packets[i]!, from[i]!);
const learnMs = performance.now() - t;
const after = heap();
if (actions !== PER_MAC * N) throw new Error(`expected ${PER_MAC * N} announce actions, got ${actions}`);
if (learner.table().length < N) throw new Error(`expected ${N} learned MACs, got ${learner.table().length}`);

actions = 0;
t = performance.now();
for (let i = 0; i < N; i++) source.datagram(packets[i]!, from[i]!);
const knownMs = performance.now() - t;
if (actions !== 0) throw new Error(`known frames produced ${actions} actions`);
if (source.counters.frames !== 2 * N) throw new Error(`decoded ${source.counters.frames} of ${2 * N}`);

const r = (x: number) => Math.round(x).toLocaleString("en-US");
console.log(
  `MACs ${r(N)} over ${VNIS} VNIs, ${VTEPS.length} static VTEPs, MAC/IP ${INCLUDE_IP ? "on" : "off"} (node ${process.version})`,
);
console.log(`learn: ${r(N / (learnMs / 1000))} new MACs/s (${learnMs.toFixed(0)} ms)`);
console.log(`known: ${r(N / (knownMs / 1000))} datagrams/s (${knownMs.toFixed(0)} ms)`);
const heapB = after.heap - before.heap;
const total = heapB + after.buffers - before.buffers;
console.log(
  `memory: ${r(total / N)} bytes per learned MAC, heap + array buffers (${r(total / 2 ** 20)} MiB; heap alone ${r(heapB / N)})`,
);
