// Benchmark: head-end replication of one BUM frame to 100 VTEPs, our sender against the Linux
// kernel's own VXLAN replication, side by side in one run (run as root, under the lab lock):
//   npx tsc -p . --outDir dist-bench && flock /tmp/evpn-lab.lock taskset -c 0 node dist-bench/bench/replication-send.js
//
// One namespace "rep" holds both replicators and the underlay link "ul0" (198.51.100.1/24) to a
// namespace "sink" (198.51.100.2, a permanent neighbour entry in "rep"); the 100 VTEPs are
// 203.0.113.1–100, routed through the sink. Two sinks, one after the other (BENCH_SINKS):
//   down  the sink's end of the veth is down: copies go through rep's whole output path and die
//         in the veth's transmit (a blackhole device, as near as this kernel has one: no dummy);
//   ns    the sink receives them and drops them in its routing (forwarding off).
// Copies per second = the growth of ul0's tx_packets + tx_dropped over a window of steady
// sending, the sender pinned to one core (BENCH_CORE, default 1; the veth's softirq work, the
// sink's drop included, runs on that core too, for both sides alike).
//   ours:   a child process with VxlanSender (native, "preserve": outer source 192.0.2.10 claimed
//           for every copy); per frame it writes the 68-byte payload (VXLAN header + a 60-byte
//           broadcast ARP request) into the payload area once and queues 100 copies, one UDP
//           source port per frame; batches of 1,024 copies go out with sendmmsg(2).
//   ours-proxy (BENCH_PROXY=1): the same with "proxy" mode (a UDP socket bound to 198.51.100.1).
//   kernel: a VXLAN device (VNI 10, local 198.51.100.1, nolearning) in bridge br0 with 100
//           `bridge fdb append 00:00:00:00:00:00 dev vx dst 203.0.113.x` entries; the same 60-byte
//           frame enters br0 through the veth pair feed/feedbr, written to "feed" by a python3
//           AF_PACKET socket as fast as it goes; the bridge floods it to vx, which replicates.
// Rounds alternate (ours, kernel, …; BENCH_ROUNDS, default 3) and the medians give the ratio.
// BENCH_SECONDS (window, default 4), BENCH_VTEPS (default 100), BENCH_CORE override.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { VxlanSender, nativeSender } from "../src/dataplane/io/vxlan-sender.js";
import { Lab, sleep } from "../tools/netlab/index.js";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const WINDOW_S = Number(process.env["BENCH_SECONDS"] ?? 4);
const VTEPS = Number(process.env["BENCH_VTEPS"] ?? 100);
const CORE = process.env["BENCH_CORE"] ?? "1";
const WITH_PROXY = process.env["BENCH_PROXY"] === "1";
const SINKS = (process.env["BENCH_SINKS"] ?? "down,ns").split(",");
const UP = "198.51.100.1";
const SINK = "198.51.100.2";
const SINK_MAC = "02:00:5e:00:53:fe";
const CLAIMED = "192.0.2.10";
const VNI = 10;
const vtep = (i: number): string => `203.0.113.${i + 1}`;
/** Start-up and JIT warm-up before the window opens; the sender runs this long past it. */
const LEAD_S = 1;

/** The 60-byte inner frame: a broadcast ARP request (RFC 826) from 02:00:5e:00:53:01 for 198.51.100.200. */
function arpFrame(): Uint8Array {
  const f = new Uint8Array(60);
  const mac = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x01];
  f.fill(0xff, 0, 6);
  f.set(mac, 6);
  f.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], 12);
  f.set(mac, 22);
  f.set([198, 51, 100, 100], 28);
  f.set([198, 51, 100, 200], 38);
  return f;
}

/** The VXLAN payload: RFC 7348 §5 header (I flag, VNI) + the frame. */
function vxlanPayload(): Uint8Array {
  const p = new Uint8Array(8 + 60);
  p[0] = 0x08;
  p[4] = (VNI >> 16) & 0xff;
  p[5] = (VNI >> 8) & 0xff;
  p[6] = VNI & 0xff;
  p.set(arpFrame(), 8);
  return p;
}

// ------------------------------------------------------------------------------ child: ours --

/** Sends for `seconds` as fast as it goes; prints "go" when it starts and its counters at the end. */
async function childOurs(mode: "preserve" | "proxy", seconds: number): Promise<void> {
  const tx = new VxlanSender({ mode, local: UP, sender: "native" });
  await tx.start();
  const payload = vxlanPayload();
  const src = Uint8Array.from(CLAIMED.split(".").map(Number));
  const dsts = Array.from({ length: VTEPS }, (_, i) => Uint8Array.from(vtep(i).split(".").map(Number)));
  console.log("go");
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let frames = 0;
  for (;;) {
    const off = tx.payload(payload);
    const port = 49152 + (frames & 0x3fff);
    for (let i = 0; i < VTEPS; i++) tx.add(off, payload.length, src, dsts[i]!, port);
    frames++;
    if ((frames & 63) === 0 && performance.now() >= end) break;
  }
  tx.flush();
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ frames, seconds: s, counters: tx.counters }));
  await tx.stop();
}

// ---------------------------------------------------------------------------- child: kernel --

/** python3: writes the frame to `ifname` through an AF_PACKET socket for `dur` seconds. */
const FEEDER = `
import socket, sys, time
ifname, dur, frame = sys.argv[1], float(sys.argv[2]), bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
send = s.send
print("go", flush=True)
n = 0
t0 = time.monotonic()
end = t0 + dur
while True:
    for _ in range(64):
        send(frame)
    n += 64
    if time.monotonic() >= end:
        break
print('{"frames": %d, "seconds": %f}' % (n, time.monotonic() - t0), flush=True)
`;

// ------------------------------------------------------------------------------------ parent --

interface Sample {
  side: string;
  copiesPerS: number;
  detail: Record<string, unknown>;
}

/** Copies that reached `dev`'s transmit function: sent, or dropped there (peer down). */
async function txCopies(lab: Lab, ns: string, dev: string): Promise<{ copies: number; at: number }> {
  const t0 = performance.now();
  const j = JSON.parse(await lab.ip(ns, ["-j", "-s", "link", "show", "dev", dev])) as {
    stats64: { tx: { packets: number; dropped: number } };
  }[];
  const tx = j[0]!.stats64.tx;
  return { copies: tx.packets + tx.dropped, at: (t0 + performance.now()) / 2 };
}

/** Runs a pinned child in `ns`, measures "ul0"'s tx growth over the window after its "go". */
async function measure(lab: Lab, ns: string, side: string, argv: string[]): Promise<Sample> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", ns, "taskset", "-c", CORE, ...argv], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on("line", (l) => {
    lines.push(l);
    wake?.();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const next = async (): Promise<string> => {
    while (lines.length === 0) {
      const more = new Promise<void>((r) => (wake = r));
      const code = await Promise.race([more.then(() => undefined), exited]);
      if (code !== undefined && lines.length === 0) throw new Error(`${side}: child exited ${code}`);
    }
    return lines.shift()!;
  };
  const go = await next();
  if (go !== "go") throw new Error(`${side}: ${go}`);
  await sleep(LEAD_S * 1000);
  const a = await txCopies(lab, ns, "ul0");
  await sleep(WINDOW_S * 1000);
  const b = await txCopies(lab, ns, "ul0");
  const detail = JSON.parse(await next()) as Record<string, unknown>;
  await exited;
  const copiesPerS = ((b.copies - a.copies) * 1000) / (b.at - a.at);
  return { side, copiesPerS, detail };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const mod = nativeSender();
  if (mod instanceof Error) throw mod;
  const lab = await Lab.create("bxrep");
  try {
    const rep = await lab.ns("rep");
    const sink = await lab.ns("sink");
    await lab.link("rep", `${UP}/24`, "sink", `${SINK}/24`, { aIf: "ul0", bIf: "ul0", bMac: SINK_MAC });
    await lab.exec("sink", "sysctl", ["-q", "-w", "net.ipv4.conf.all.forwarding=0"]);
    // no IPv6 (router solicitations, MLD reports of br0 and vx) in the way of the count
    for (const ns of ["rep", "sink"]) await lab.exec(ns, "sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
    await lab.ip("rep", ["neigh", "replace", SINK, "lladdr", SINK_MAC, "dev", "ul0", "nud", "permanent"]);
    await lab.ip("rep", ["route", "add", "203.0.113.0/24", "via", SINK]);
    await lab.link("rep", null, "rep", null, { aIf: "feed", bIf: "feedbr" });
    await lab.bridge("rep", "br0", ["feedbr"]);
    await lab.vxlan("rep", "vx", {
      vni: VNI,
      local: UP,
      bridge: "br0",
      flood: Array.from({ length: VTEPS }, (_, i) => vtep(i)),
    });
    const self = new URL(import.meta.url).pathname;
    const runFor = String(LEAD_S + WINDOW_S + 1);
    const frameHex = Buffer.from(arpFrame()).toString("hex");
    const sides: [string, string[]][] = [
      ["ours (preserve)", [process.execPath, self, "child", "preserve", runFor]],
      ["kernel vxlan", ["python3", "-c", FEEDER, "feed", runFor, frameHex]],
    ];
    if (WITH_PROXY) sides.push(["ours (proxy)", [process.execPath, self, "child", "proxy", runFor]]);
    const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
    console.log(
      `node ${process.version}, kernel ${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}, ${cpu}; ` +
        `senders on core ${CORE}; ${VTEPS} VTEPs; ${ROUNDS} rounds of ${WINDOW_S} s windows`,
    );
    for (const sinkMode of SINKS) {
      // "down": the sink's end is down, so the copies die in rep's veth transmit (counted as tx
      // dropped); "ns": the sink receives them and drops them in its routing (no forwarding)
      await lab.ip(sink, ["link", "set", "ul0", sinkMode === "down" ? "down" : "up"]);
      await sleep(2000); // link watch settles the carrier
      const all: Sample[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        for (const [side, argv] of sides) {
          const s = await measure(lab, rep, side, argv);
          all.push(s);
          console.log(
            `sink ${sinkMode}, round ${r + 1}, ${side}: ${Math.round(s.copiesPerS).toLocaleString("en")} copies/s ${JSON.stringify(s.detail)}`,
          );
        }
      }
      const med = (side: string): number => median(all.filter((s) => s.side === side).map((s) => s.copiesPerS));
      const ours = med("ours (preserve)");
      const kernel = med("kernel vxlan");
      const fmt = (x: number): string => Math.round(x).toLocaleString("en");
      console.log(`sink ${sinkMode}: median ours (preserve) ${fmt(ours)} copies/s`);
      if (WITH_PROXY) console.log(`sink ${sinkMode}: median ours (proxy) ${fmt(med("ours (proxy)"))} copies/s`);
      console.log(`sink ${sinkMode}: median kernel vxlan ${fmt(kernel)} copies/s`);
      console.log(`sink ${sinkMode}: ratio ours/kernel ${(ours / kernel).toFixed(2)}`);
    }
  } finally {
    await lab.teardown();
  }
}

if (process.argv[2] === "child") {
  await childOurs(process.argv[3] as "preserve" | "proxy", Number(process.argv[4]));
} else {
  await main();
}
