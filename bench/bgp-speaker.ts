// Benchmark: the BGP speaker against FRR 8.4 and gobgpd 3, side by side in one run, in network
// namespaces (run as root):  npm run build && node dist/bench/bgp-speaker.js [routes] [gobgpRoutes] [runs]
//
//   receive: a pre-encoded sender (bgp-blaster, 90 type-2 routes per UPDATE) → FRR, evpn-proxy,
//            gobgpd; time from the first byte written until the receiver counts every route;
//            RSS growth of the receiving process per route.
//   send:    evpn-proxy announces the routes (API call to End-of-RIB, its own encoding included)
//            → FRR; compared with the pre-encoded sender → FRR.
// gobgpd 3.10 is quadratic on type-2 routes, so it is compared at a smaller count.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { neighbor } from "../test/helpers/neighbor.js";
import { Lab, sleep } from "../tools/netlab/index.js";
import { SpeakerProc } from "../test/helpers/speaker-proc.js";

const ROUTES = Number(process.argv[2] ?? 100_000);
const GOBGP_ROUTES = Number(process.argv[3] ?? 20_000);
const RUNS = Number(process.argv[4] ?? 3);
const TX = "192.0.2.1";
const RX = "192.0.2.2";
const BLASTER = new URL("./bgp-blaster.js", import.meta.url).pathname;
const clock = (): number => performance.timeOrigin + performance.now();
const POLL_MS = 20;
/** Extra V8 flags for the evpn-proxy processes (they run with src/cli/node-flags.ts already). */
const NODE_ARGS = (process.env["BENCH_NODE_ARGS"] ?? "").split(" ").filter((x) => x !== "");

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

class Blaster {
  readonly child: ChildProcess;
  private events: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  constructor(ns: string, routes: number) {
    const opts = { peer: RX, localAs: 65000, routerId: TX, routes };
    this.child = spawn("ip", ["netns", "exec", ns, process.execPath, BLASTER, JSON.stringify(opts)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (l) => {
      this.events.push(JSON.parse(l) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async event(name: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x["event"] === name);
      if (e) return e;
      const bad = this.events.find((x) => x["event"] === "error" || x["event"] === "notification");
      if (bad) throw new Error(`blaster: ${JSON.stringify(bad)}`);
      if (Date.now() > end) throw new Error(`blaster: no ${name}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  go(): void {
    this.child.stdin!.write("go\n");
  }
  async stop(): Promise<void> {
    this.child.stdin!.write("stop\n");
    await new Promise((r) => this.child.once("exit", r));
  }
}

async function until(count: () => Promise<number>, n: number, what: string, timeoutMs = 120_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = await count().catch(() => -1);
    if (c >= n) return clock();
    if (Date.now() > end) throw new Error(`${what}: ${c} of ${n} routes after ${timeoutMs} ms`);
    // Each poll runs a process (vtysh, gobgp) or an IPC call: not so often that the polling
    // itself takes a core from the two daemons under test.
    await sleep(POLL_MS);
  }
}

interface Receiver {
  name: string;
  start(): Promise<void>;
  count(): Promise<number>;
  pid(): number;
  stop(): Promise<void>;
}

const FRR_CONF = `frr defaults datacenter
hostname rx
log file /dev/null
router bgp 65000
 bgp router-id ${RX}
 no bgp default ipv4-unicast
 neighbor ${TX} remote-as 65000
 address-family l2vpn evpn
  neighbor ${TX} activate
  neighbor ${TX} route-reflector-client
 exit-address-family
`;

const GOBGP_CONF = `[global.config]
  as = 65000
  router-id = "${RX}"
  port = 179
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${TX}"
    peer-as = 65000
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
`;

// One FRR per namespace: later runs restart it.
let frr: Awaited<ReturnType<Lab["frr"]>> | undefined;

function frrReceiver(lab: Lab, rx: string): Receiver {
  return {
    name: "FRR 8.4",
    async start() {
      if (frr) await frr.restart();
      else frr = await lab.frr(rx, FRR_CONF);
    },
    async count() {
      const s = await frr!.bgpSummary();
      return s.peers?.[TX]?.pfxRcd ?? 0;
    },
    pid() {
      return Number(readFileSync(join("/var/run/frr", rx, "bgpd.pid"), "utf8").trim());
    },
    async stop() {
      await frr!.stop();
    },
  };
}

function proxyReceiver(lab: Lab, rx: string): Receiver {
  let sp: SpeakerProc | undefined;
  return {
    name: "evpn-proxy",
    async start() {
      sp = new SpeakerProc(
        rx,
        {
          routerId: RX,
          localAs: 65000,
          listen: { address: RX, port: 179 },
          gracefulRestart: null,
          neighbors: [neighbor({ address: TX, "peer-as": 65000, passive: true })],
        },
        join(lab.workDir, `proxy-rx-${Date.now()}.log`),
        ["--expose-gc", ...NODE_ARGS],
      );
      await sp.started();
    },
    async count() {
      return (await sp!.status())[0]!.rib.received;
    },
    pid() {
      return sp!.child.pid!;
    },
    async stop() {
      await sp!.stop();
    },
  };
}

let g: Awaited<ReturnType<Lab["gobgp"]>> | undefined;

function gobgpReceiver(lab: Lab, rx: string): Receiver {
  return {
    name: "gobgpd 3.10",
    async start() {
      if (g) await g.restart();
      else g = await lab.gobgp(rx, GOBGP_CONF);
    },
    async count() {
      const n = await g!.cliJson<{ afi_safis?: { state?: { accepted?: number } }[] }>(["neighbor", TX]);
      return n.afi_safis?.[0]?.state?.accepted ?? 0;
    },
    pid() {
      return g!.process.pid;
    },
    async stop() {
      await g!.stop();
    },
  };
}

interface Sample {
  ms: number;
  rssPerRoute: number;
}

async function receiveRun(lab: Lab, tx: string, r: Receiver, n: number): Promise<Sample> {
  await r.start();
  const b = new Blaster(tx, n);
  try {
    await b.event("ready");
    await b.event("established", 30_000);
    await sleep(1000); // let the receiver settle after the session came up
    const rss0 = rssOf(r.pid());
    b.go();
    const t1 = await until(() => r.count(), n, r.name);
    const t0 = (await b.event("written"))["t0"] as number;
    await sleep(1000);
    const rss1 = rssOf(r.pid());
    return { ms: t1 - t0, rssPerRoute: (rss1 - rss0) / n };
  } finally {
    await b.stop().catch(() => undefined);
    await r.stop().catch(() => undefined);
    await sleep(500);
  }
}

async function sendRun(lab: Lab, tx: string, rx: string, n: number): Promise<Sample> {
  const frr = frrReceiver(lab, rx);
  await frr.start();
  const sp = new SpeakerProc(
    tx,
    {
      routerId: TX,
      localAs: 65000,
      listen: null,
      gracefulRestart: null,
      neighbors: [neighbor({ address: RX, "peer-as": 65000, "connect-retry": 1 })],
      ...(process.env["BENCH_EXTENDED"] === "0" ? { extendedMessage: false } : {}),
    },
    join(lab.workDir, `proxy-tx-${Date.now()}.log`),
    NODE_ARGS,
  );
  try {
    await sp.started();
    await lab.waitFor("evpn-proxy → FRR session", async () => (await sp.status())[0]!.state === "Established", {
      timeoutMs: 30_000,
    });
    await sleep(1000);
    // From the moment the route objects are handed to the speaker (announceAll) until FRR has
    // them all: the speaker's work (RIB, Adj-RIB-Out, encoding) and FRR's, overlapped.
    const g = await sp.generate(n, TX, 10);
    const t0 = g.startedAt;
    const t1 = await until(() => frr.count(), n, "FRR from evpn-proxy");
    await sleep(500);
    const back = (await sp.status())[0]!.rib.rejectedLoop; // our routes reflected back by FRR
    console.log(
      `  send run: announceAll took ${Math.round(g.announceMs)} ms, FRR complete after ${Math.round(t1 - t0)} ms` +
        ` (${back} of our routes came back reflected)`,
    );
    return { ms: t1 - t0, rssPerRoute: NaN };
  } finally {
    await sp.stop().catch(() => undefined);
    await frr.stop().catch(() => undefined);
    await sleep(500);
  }
}

function line(label: string, xs: Sample[]): Sample {
  const m = { ms: median(xs.map((x) => x.ms)), rssPerRoute: median(xs.map((x) => x.rssPerRoute)) };
  const rss = Number.isNaN(m.rssPerRoute) ? "" : `, RSS +${Math.round(m.rssPerRoute)} B/route`;
  console.log(
    `${label.padEnd(46)} ${Math.round(m.ms).toString().padStart(6)} ms (runs: ${xs.map((x) => Math.round(x.ms)).join(", ")})${rss}`,
  );
  return m;
}

async function main(): Promise<void> {
  const lab = await Lab.create("bnspk");
  try {
    const tx = await lab.ns("tx");
    const rx = await lab.ns("rx");
    await lab.link("tx", `${TX}/24`, "rx", `${RX}/24`);
    console.log(`routes ${ROUTES} (gobgpd: ${GOBGP_ROUTES}), ${RUNS} runs each, median; node ${process.version}`);
    const res: Record<string, Sample> = {};
    const only = process.env["BENCH_ONLY"]; // e.g. "send" or "receive 100000"
    const collect = async (label: string, f: () => Promise<Sample>) => {
      if (only && !label.startsWith(only) && !label.includes("FRR 8.4")) return;
      const xs: Sample[] = [];
      for (let i = 0; i < RUNS; i++) xs.push(await f());
      res[label] = line(label, xs);
    };
    await collect(`receive ${ROUTES}: FRR 8.4`, () => receiveRun(lab, tx, frrReceiver(lab, rx), ROUTES));
    await collect(`receive ${ROUTES}: evpn-proxy`, () => receiveRun(lab, tx, proxyReceiver(lab, rx), ROUTES));
    await collect(`receive ${GOBGP_ROUTES}: gobgpd 3.10`, () =>
      receiveRun(lab, tx, gobgpReceiver(lab, rx), GOBGP_ROUTES),
    );
    await collect(`receive ${GOBGP_ROUTES}: evpn-proxy`, () =>
      receiveRun(lab, tx, proxyReceiver(lab, rx), GOBGP_ROUTES),
    );
    await collect(`send ${ROUTES} to FRR: evpn-proxy`, () => sendRun(lab, tx, rx, ROUTES));
    const r = (a: string, b: string) => (res[a] && res[b] ? (res[a].ms / res[b].ms).toFixed(3) : "-");
    console.log(
      `ratio receive evpn-proxy / FRR:           ${r(`receive ${ROUTES}: evpn-proxy`, `receive ${ROUTES}: FRR 8.4`)} (goal ≤ 1.2)`,
    );
    console.log(
      `ratio receive evpn-proxy / gobgpd:        ${r(`receive ${GOBGP_ROUTES}: evpn-proxy`, `receive ${GOBGP_ROUTES}: gobgpd 3.10`)}`,
    );
    console.log(
      `ratio send via evpn-proxy / pre-encoded:  ${r(`send ${ROUTES} to FRR: evpn-proxy`, `receive ${ROUTES}: FRR 8.4`)} (goal ≤ 1.2)`,
    );
    console.log(JSON.stringify(res));
  } finally {
    const problems = await lab.teardown();
    if (problems.length) console.error(problems);
  }
}

await main();
