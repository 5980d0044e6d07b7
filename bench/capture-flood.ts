// Benchmark: live capture under a flood with a short BGP hold time, in network namespaces (root):
//   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/capture-flood.js
// Two namespaces joined by a veth pair: "vt" (192.0.2.1) runs bench/capture-peer.ts on core 0 —
// a BGP peer offering a 3-second hold time (keepalives every second), and a static VTEP that
// sends VXLAN-carried ARP requests to 192.0.2.3, a host that does not exist, through the veth;
// "px" (192.0.2.2) runs evpn-proxy's daemon (bench/capture-daemon.ts: the Daemon as `run` builds
// it, log level warn) on core 1 with `capture-interfaces: [cap0]` and no vxlan-listen: every
// frame it learns from, it captured. After the session is up and an idle second: RATE datagrams/s
// for SECONDS seconds (99 % ARP of 100,000 known MACs, 1 % new), then 3 s more. Measured: the
// session (dropped or not, the longest silence of the proxy as the peer saw it), the proxy's
// event-loop delay during the flood (p50, p99, max of a 10 ms timer's lateness), what the
// capture received, decoded, and the kernel dropped (its socket buffer full).
//   BENCH_RATE (200000), BENCH_SECONDS (30) override the flood.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { NODE_FLAGS } from "../src/cli/node-flags.js";
import { Lab, sleep } from "../tools/netlab/index.js";

const RATE = Number(process.env["BENCH_RATE"] ?? 200_000);
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 30);
const VT = "192.0.2.1";
const PX = "192.0.2.2";
const TO = "192.0.2.3";
const PEER = new URL("./capture-peer.js", import.meta.url).pathname;
const DAEMON = new URL("./capture-daemon.js", import.meta.url).pathname;

const CONFIG = `router-id: ${PX}
local-as: 65000
listen: false
neighbors:
  - address: ${VT}
    peer-as: 65000
    hold-time: 3
    connect-retry: 1
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
      - address: ${VT}
learning:
  capture-interfaces: [cap0]
  include-ip: false
  max-macs-per-vtep: 1000000
  max-macs-per-vni: 10000000
  max-learn-rate: 1000000
`;

type Event = Record<string, unknown>;

class Peer {
  readonly child: ChildProcess;
  private readonly events: Event[] = [];
  constructor(ns: string) {
    const args = JSON.stringify({ local: VT, to: TO, as: 65000, vni: 10 });
    this.child = spawn("ip", ["netns", "exec", ns, "taskset", "-c", "0", process.execPath, PEER, args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (l) => this.events.push(JSON.parse(l) as Event));
  }
  async event(name: string, timeoutMs = 120_000): Promise<Event> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((x) => x["event"] === name);
      if (i >= 0) return this.events.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error(`peer: no ${name} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
  command(c: object): void {
    this.child.stdin!.write(`${JSON.stringify(c)}\n`);
  }
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

/** What bench/capture-daemon.ts writes on SIGUSR2 (and the event-loop histogram starts again). */
async function probe(pid: number, file: string): Promise<Event> {
  rmSync(file, { force: true });
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 200 && !existsSync(file); i++) await sleep(50);
  return JSON.parse(readFileSync(file, "utf8")) as Event;
}

const lab = await Lab.create("bcapf");
let failed = false;
try {
  await lab.ns("vt");
  const px = await lab.ns("px");
  await lab.link("vt", `${VT}/24`, "px", `${PX}/24`, { aIf: "vt0", bIf: "cap0" });
  await lab.ip("vt", ["neigh", "replace", TO, "lladdr", "02:00:00:00:00:03", "dev", "vt0", "nud", "permanent"]);
  const cfg = join(lab.workDir, "evpn-proxy.yaml");
  writeFileSync(cfg, CONFIG);
  const out = join(lab.workDir, "probe.json");
  const peer = new Peer(`${lab.prefix}-vt`);
  await peer.event("listening");
  const proxy = lab.spawn(px, "taskset", ["-c", "1", process.execPath, ...NODE_FLAGS, DAEMON, cfg, out], {
    name: "evpn-proxy",
  });
  await peer.event("established", 30_000);
  const pid = nodePid(proxy.pid);
  await sleep(1000);
  const idle = await probe(pid, out);
  console.log(`node ${process.version}; peer + VTEP on core 0, evpn-proxy (live capture on cap0) on core 1`);
  console.log(`idle: event-loop delay ${JSON.stringify(idle["eld"])}`);

  peer.command({ cmd: "flood", rate: RATE, seconds: SECONDS, known: 100_000, newEvery: 100 });
  const flooded = await peer.event("flooded", (SECONDS + 60) * 1000);
  await sleep(3000);
  const during = await probe(pid, out);
  peer.command({ cmd: "status" });
  const session = await peer.event("status");
  const eld = during["eld"] as Record<string, number>;
  const cap = (during["captures"] as { counters: Record<string, unknown> }[])[0]!.counters;
  console.log(
    `flood: ${Number(flooded["datagrams"]).toLocaleString("en-US")} datagrams in ${flooded["ms"]} ms ` +
      `(${Number(flooded["rate"]).toLocaleString("en-US")}/s), ${flooded["newMacs"]} new MACs`,
  );
  console.log(`capture: ${JSON.stringify(cap)}`);
  console.log(
    `proxy event-loop delay during the flood and 3 s after: ${JSON.stringify(eld)}; RSS ${during["rssMiB"]} MiB`,
  );
  console.log(`session (peer's view): ${JSON.stringify(session)}`);
  const dropped = Number(session["closed"]) > 0 || (session["notifications"] as unknown[]).length > 0;
  console.log(`session dropped: ${dropped ? "YES" : "no"}; event-loop delay p99 ${eld["p99Ms"]} ms (limit 50)`);
  failed = dropped || !(eld["p99Ms"]! < 50) || !proxy.running;
  await proxy.stop();
} finally {
  const problems = await lab.teardown();
  if (problems.length) console.error(`teardown: ${problems.join("; ")}`);
}
process.exit(failed ? 1 : 0);
