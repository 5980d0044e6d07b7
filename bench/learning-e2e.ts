// Benchmark: data-plane learning end to end (issue 5, acceptance 7 a–c), in network namespaces
// (run as root):  npm run build && node dist/bench/learning-e2e.js
//
// Two namespaces joined by a veth pair: "vt" (192.0.2.1) holds bench/learning-peer.ts — a static
// VTEP sending VXLAN-carried ARP requests and the BGP peer receiving the proxy's routes, one
// process and one clock, pinned to core 0; "px" (192.0.2.2) runs `evpn-proxy run` as shipped
// (log level warn, include-ip false: one MAC route per ARP, since the ARP senders' IPs come
// from one /24), pinned to core 1.
//   (a) latency: 5,000 new MACs at 1,000/s; from the datagram sent to the route received;
//                in steady state, after a warm-up of 5,000 new MACs at 1,000/s (reported on its
//                own: at this rate V8 keeps compiling the learning path with TurboFan for 5–7 s
//                after start, on the same core — `--trace-opt`); and the floor: the same
//                datagrams through bench/learning-floor.ts, a relay that does no work;
//   (b) burst:   100,000 new MACs offered at 200,000 datagrams/s; share that became routes, time
//                from the first datagram to the last route;
//   (c) ingest:  200,000 datagrams/s for 5 s, 99 % of them ARP of known MACs (those of (b)),
//                1 % new; loss = the kernel's drop count of the proxy's VXLAN socket
//                (/proc/net/udp "drops") / datagrams sent, and new MACs that became routes.
//   (d) memory:  new MACs at 100,000/s (below the proxy's learning rate, so none is lost) until
//                the proxy holds 1,000,000 (its per-VTEP maximum); per MAC held, the proxy's
//                growth since its session came up: of its RSS (as `ps` shows it, garbage
//                included) and of its live memory (V8 heap + array buffers after two full GCs,
//                asked for through bench/proxy-gc.ts, which runs the proxy with --expose-gc).
// Also: the proxy's RSS growth per learned MAC after (b).
//   BENCH_WARMUP_MACS (5000), BENCH_LATENCY_MACS, BENCH_BURST_MACS, BENCH_RATE,
//   BENCH_INGEST_SECONDS, BENCH_NEW_EVERY (100), BENCH_MEMORY_MACS (1000000 held at the end; 0 skips (d)),
//   BENCH_MEMORY_RATE (100000) override the sizes; BENCH_ONLY=d runs (d) alone; BENCH_MEMORY_ND=1
//   makes (d) MAC/IP: neighbour solicitations, one IPv6 address per MAC, include-ip true;
//   BENCH_MEMORY_VNIS=4000 (with BENCH_ONLY=d) makes it MAC/IP over ARP: 4,000 services, MAC k
//   in VNI 10 + k mod 4000 with sender IP 198.51.100.(k / 4000 mod 250 + 1), include-ip true; EVPN_PROXY_VXLAN_RECEIVER (native|dgram) is
//   passed on to the proxy.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROXY_MAIN, proxyArgv } from "../lab/seed.js";
import { nativeReceiver } from "../src/dataplane/io/udp-source.js";
import { Lab, sleep } from "../tools/netlab/index.js";

const WARMUP_MACS = Number(process.env["BENCH_WARMUP_MACS"] ?? 5000);
const LATENCY_MACS = Number(process.env["BENCH_LATENCY_MACS"] ?? 5000);
const BURST_MACS = Number(process.env["BENCH_BURST_MACS"] ?? 100_000);
const RATE = Number(process.env["BENCH_RATE"] ?? 200_000);
const INGEST_SECONDS = Number(process.env["BENCH_INGEST_SECONDS"] ?? 5);
/** (c): one datagram in this many is a new MAC. */
const NEW_EVERY = Number(process.env["BENCH_NEW_EVERY"] ?? 100);
const MEMORY_MACS = Number(process.env["BENCH_MEMORY_MACS"] ?? 1_000_000);
const MEMORY_RATE = Number(process.env["BENCH_MEMORY_RATE"] ?? 100_000);
const ONLY_D = process.env["BENCH_ONLY"] === "d";
const MEMORY_ND = process.env["BENCH_MEMORY_ND"] === "1";
/** (d) over this many VNIs (10, 11, …), 250 MACs each, ARP sender IPs 198.51.100.1–250 in each. */
const MEMORY_VNIS = Number(process.env["BENCH_MEMORY_VNIS"] ?? 1);
const INCLUDE_IP = MEMORY_ND || MEMORY_VNIS > 1;
const VT = "192.0.2.1";
const PX = "192.0.2.2";
const VNI = 10;
const PEER = new URL("./learning-peer.js", import.meta.url).pathname;
const FLOOR = new URL("./learning-floor.js", import.meta.url).pathname;
const PROXY_GC = new URL("./proxy-gc.js", import.meta.url).pathname;

const CONFIG = `router-id: ${PX}
local-as: 65000
state-directory: false
neighbors:
  - address: ${VT}
    peer-as: 65000
    connect-retry: 1
services:
${Array.from(
  { length: MEMORY_VNIS },
  (_, i) => `  - name: vni${VNI + i}
    evi: ${VNI + i}
    vni: ${VNI + i}
    static-vteps:
      - address: ${VT}
`,
).join("")}learning:
  vxlan-listen: ${PX}
  include-ip: ${INCLUDE_IP}
  max-macs-per-vtep: 1000000
  max-macs-per-vni: 10000000
  max-learn-rate: 1000000
`;

type Event = Record<string, unknown>;

class Peer {
  readonly child: ChildProcess;
  private events: Event[] = [];
  private waiters: (() => void)[] = [];
  constructor(ns: string) {
    const args = JSON.stringify({ local: VT, proxy: PX, as: 65000, vni: VNI });
    this.child = spawn("ip", ["netns", "exec", ns, "taskset", "-c", "0", process.execPath, PEER, args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (l) => {
      this.events.push(JSON.parse(l) as Event);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  /** The next event named `name` (consumed), failing on an error event. */
  async event(name: string, timeoutMs = 120_000): Promise<Event> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((x) => x["event"] === name);
      if (i >= 0) return this.events.splice(i, 1)[0]!;
      const bad = this.events.find((x) => x["event"] === "error" || x["event"] === "notification");
      if (bad) throw new Error(`peer: ${JSON.stringify(bad)}`);
      if (Date.now() > end) throw new Error(`peer: no ${name} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  async run(cmd: object): Promise<{ sent: Event; result: Event }> {
    this.child.stdin!.write(`${JSON.stringify({ cmd: "run", ...cmd })}\n`);
    const sent = await this.event("sent");
    return { sent, result: await this.event("result") };
  }
  stop(): void {
    this.child.stdin!.write(`${JSON.stringify({ cmd: "stop" })}\n`);
    setTimeout(() => this.child.kill("SIGKILL"), 1000).unref();
  }
}

/** Kernel drop count of the UDP socket bound to port 4789 in `ns` (/proc/net/udp, last column). */
async function udpDrops(lab: Lab, ns: string): Promise<number> {
  const out = (await lab.exec(ns, "cat", ["/proc/net/udp"])).stdout;
  for (const l of out.split("\n").slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f[1]?.endsWith(":12B5")) return Number(f[f.length - 1]);
  }
  throw new Error("no socket on port 4789 in /proc/net/udp");
}

/** The proxy's live memory: V8 heap and array buffers after two full GCs (bench/proxy-gc.ts). */
async function liveOf(pid: number, file: string): Promise<number> {
  rmSync(file, { force: true });
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 200 && !existsSync(file); i++) await sleep(50);
  const m = JSON.parse(readFileSync(file, "utf8")) as { heapUsed: number; arrayBuffers: number };
  return m.heapUsed + m.arrayBuffers;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The pid of the node process under `ip netns exec … taskset … node`. */
function nodePid(pid: number): number {
  for (let p = pid, depth = 0; depth < 4; depth++) {
    if (readFileSync(`/proc/${p}/comm`, "utf8").trim() === "node") return p;
    const children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/);
    if (!children[0]) break;
    p = Number(children[0]);
  }
  return pid;
}

const n = (x: unknown) => Math.round(Number(x)).toLocaleString("en-US");
const ms = (x: unknown) => (x === null ? "-" : Number(x).toFixed(3));

/** (a), (b), (c); returns how many MACs the proxy holds afterwards. */
async function phasesAtoC(
  lab: Lab,
  px: string,
  pid: number,
  peer: Peer,
  results: Record<string, Event>,
): Promise<number> {
  // (a) latency when idle: warm-up, measured, and the floor of the path
  const latency = (label: string, r: Event) =>
    console.log(
      `${label}: ${n(r["received"])} arrived; latency p50 ${ms(r["p50Ms"])} ms, p99 ${ms(r["p99Ms"])} ms, max ${ms(r["maxMs"])} ms`,
    );
  const w = await peer.run({ first: 2_000_000, count: WARMUP_MACS, rate: 1000 });
  latency(`(a) warm-up, first ${n(WARMUP_MACS)} new MACs at 1,000/s after start`, w.result);
  const a = await peer.run({ first: 0, count: LATENCY_MACS, rate: 1000 });
  latency(`(a) ${n(LATENCY_MACS)} new MACs at 1,000/s`, a.result);
  const f = await peer.run({ first: 0, count: LATENCY_MACS, rate: 1000, floor: true });
  latency(`    floor: the same datagrams through a relay that does no work`, f.result);

  // (b) burst
  await sleep(1000);
  const rss0 = rssOf(pid);
  const drops0 = await udpDrops(lab, px);
  const bFirst = 1_000_000;
  const b = await peer.run({ first: bFirst, count: BURST_MACS, rate: RATE });
  const drops1 = await udpDrops(lab, px);
  await sleep(1000);
  const rss1 = rssOf(pid);
  const got = Number(b.result["received"]);
  console.log(
    `(b) ${n(BURST_MACS)} new MACs offered at ${n(RATE)}/s (sent at ${n(b.sent["rate"])}/s in ${ms(b.sent["ms"])} ms): ` +
      `${n(got)} routes (${((got / BURST_MACS) * 100).toFixed(2)} %), last after ${ms(b.result["lastMs"])} ms; ` +
      `socket drops ${n(drops1 - drops0)}; p50 ${ms(b.result["p50Ms"])} ms, p99 ${ms(b.result["p99Ms"])} ms`,
  );
  console.log(`    evpn-proxy RSS +${n((rss1 - rss0) / Math.max(1, got))} bytes per learned MAC (whole process)`);

  // (c) ingest of mostly known MACs
  await sleep(1000);
  const newMacs = Math.max(1, Math.round((RATE * INGEST_SECONDS) / NEW_EVERY));
  const drops2 = await udpDrops(lab, px);
  const c = await peer.run({
    first: 3_000_000,
    count: newMacs,
    rate: RATE,
    known: [bFirst, bFirst + BURST_MACS],
    ratio: NEW_EVERY,
  });
  const drops3 = await udpDrops(lab, px);
  const sent = Number(c.sent["datagrams"]);
  const lost = drops3 - drops2;
  const cGot = Number(c.result["received"]);
  console.log(
    `(c) ${n(sent)} datagrams offered at ${n(RATE)}/s (sent at ${n(c.sent["rate"])}/s), 99 % known: socket drops ${n(lost)} ` +
      `(${((lost / sent) * 100).toFixed(3)} %); new MACs ${n(cGot)} of ${n(newMacs)} became routes`,
  );
  Object.assign(results, {
    warmup: w.result,
    a: a.result,
    floor: f.result,
    b: { ...b.sent, ...b.result, drops: drops1 - drops0 },
    c: { ...c.sent, ...c.result, drops: lost },
  });
  return [w, a, b, c].reduce((sum, x) => sum + Number(x.result["received"]), 0);
}

async function main(): Promise<void> {
  const lab = await Lab.create("blrn");
  let peer: Peer | undefined;
  try {
    const vt = await lab.ns("vt");
    const px = await lab.ns("px");
    await lab.link("vt", `${VT}/24`, "px", `${PX}/24`);
    const cfg = join(lab.workDir, "evpn-proxy.yaml");
    writeFileSync(cfg, CONFIG);
    peer = new Peer(vt);
    await peer.event("ready", 10_000);
    const memFile = join(lab.workDir, "memory.json");
    const argv = proxyArgv(cfg, "warn"); // V8 flags, main.js, its arguments
    const at = argv.indexOf(PROXY_MAIN);
    const flags = [...argv.slice(0, at), "--expose-gc"];
    const proxy = lab.spawn(
      px,
      "taskset",
      ["-c", "1", process.execPath, ...flags, PROXY_GC, memFile, ...argv.slice(at + 1)],
      {
        name: "evpn-proxy",
      },
    );
    lab.spawn(px, "taskset", ["-c", "1", process.execPath, FLOOR, JSON.stringify({ local: PX, peer: VT })], {
      name: "floor-relay",
    });
    await peer.event("established", 30_000);
    await sleep(1000);
    const pid = nodePid(proxy.pid);
    const rssUp = rssOf(pid);
    const liveUp = await liveOf(pid, memFile);
    const receiver =
      process.env["EVPN_PROXY_VXLAN_RECEIVER"] === "dgram" || nativeReceiver() instanceof Error ? "dgram" : "native";
    console.log(`node ${process.version}; peer + VTEP on core 0, evpn-proxy (receiver ${receiver}) on core 1`);

    const results: Record<string, Event> = {};
    let held = 0;
    if (!ONLY_D && INCLUDE_IP) throw new Error("BENCH_MEMORY_ND and BENCH_MEMORY_VNIS need BENCH_ONLY=d");
    if (!ONLY_D) held = await phasesAtoC(lab, px, pid, peer, results);

    // (d) memory per learned MAC, a million more
    if (MEMORY_MACS > held) {
      await sleep(2000);
      const rss2 = rssOf(pid);
      const drops4 = await udpDrops(lab, px);
      const r = await peer.run({
        first: 5_000_000,
        count: MEMORY_MACS - held,
        rate: MEMORY_RATE,
        nd: MEMORY_ND,
        vnis: MEMORY_VNIS,
      });

      const drops5 = await udpDrops(lab, px);
      await sleep(2000);
      const rss3 = rssOf(pid);
      const live = await liveOf(pid, memFile);
      await sleep(1000);
      const rssGc = rssOf(pid);
      const dGot = Number(r.result["received"]);
      results["d"] = {
        ...r.sent,
        ...r.result,
        drops: drops5 - drops4,
        held: held + dGot,
        rssUp,
        rssBefore: rss2,
        rssAfter: rss3,
        rssAfterGc: rssGc,
        liveUp,
        liveAfter: live,
      };
      console.log(
        `(d) ${n(MEMORY_MACS - held)} more new MACs${MEMORY_ND ? " (ND, MAC/IP routes)" : MEMORY_VNIS > 1 ? ` (ARP over ${n(MEMORY_VNIS)} VNIs, MAC/IP routes)` : ""} at ${n(MEMORY_RATE)}/s: ${n(dGot)} routes, socket drops ${n(drops5 - drops4)}, ` +
          `${n(held + dGot)} MACs held; evpn-proxy RSS ${n(rss2 / 2 ** 20)} → ${n(rss3 / 2 ** 20)} MiB: ` +
          `+${n((rss3 - rss2) / Math.max(1, dGot))} bytes per MAC added; ` +
          `${n((rss3 - rssUp) / Math.max(1, held + dGot))} bytes per MAC held since the session came up (${n(rssUp / 2 ** 20)} MiB); ` +
          `live memory (heap + array buffers after full GC) ${n(liveUp / 2 ** 20)} → ${n(live / 2 ** 20)} MiB: ` +
          `${n((live - liveUp) / Math.max(1, held + dGot))} bytes per MAC held; RSS after that GC ${n(rssGc / 2 ** 20)} MiB: ` +
          `${n((rssGc - rssUp) / Math.max(1, held + dGot))} bytes per MAC held`,
      );
    }
    console.log(JSON.stringify(results));
    if (!proxy.running) throw new Error(`evpn-proxy exited: ${JSON.stringify(proxy.exitStatus)}`);
  } finally {
    peer?.stop();
    const problems = await lab.teardown();
    if (problems.length) console.error(problems);
  }
}

await main();
