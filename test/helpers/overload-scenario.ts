// The overload proof, shared by bench/overload.ts and its short version in test/integration:
// `evpn-proxy run` as shipped on loopback (through bench/proxy-gc.ts for its probes), learning
// from its own VXLAN address with max-macs-per-vtep = `known` (or more), and a BGP neighbour offering a
// 3-second hold time (KEEPALIVEs every second both ways, RFC 4271 §4.4, §10). The static VTEP
// first teaches it `known` MACs (paced below max-learn-rate), then test/helpers/vxlan-flood.ts
// floods its VXLAN port for `seconds` at `rate` datagrams/s: known MACs, new MACs (learned at
// max-learn-rate until the per-VTEP limit is full, refused after) and garbage. Measured: the session as the neighbour saw it (dropped or
// not, the gaps between the daemon's KEEPALIVEs, UPDATEs), the daemon's event-loop delay over the
// flood and 3 s after, its memory (RSS sampled every 250 ms; live memory after full GCs with an
// empty table, with the known MACs, after the flood), its learning counters (management API)
// and the kernel's drops on its VXLAN socket.
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { arpDatagram } from "../../bench/vxlan-arp.js";
import { freePort, PEER, SPEAKER } from "./daemon-run.js";
import { FlappingPeer } from "./flapping-peer.js";
import { type ProcSample, ProcSampler, udpSocketDrops } from "./proc-sampler.js";
import { learningDaemonConfig, type ProxyProbe, startProbed } from "./proxy-probe.js";
import type { FloodOptions, FloodResult } from "./vxlan-flood.js";

const VXLAN = "127.0.0.43";
const VTEP = "127.0.0.44";
const VNI = 10;
const FLOOD = new URL("./vxlan-flood.js", import.meta.url).pathname;

export interface OverloadOptions {
  rate: number;
  seconds: number;
  /** MACs learned before the flood. */
  known: number;
  /** The daemon's max-macs-per-vtep (default `known`: the table is full when the flood starts). */
  maxMacs?: number;
  /** One datagram in newEvery is a new MAC, one in garbageEvery garbage (vxlan-flood.ts). */
  newEvery: number;
  garbageEvery: number;
  /** The daemon's max-learn-rate (new bindings per second per VTEP). */
  learnRate: number;
  /** Called with the daemon's pid once it runs (e.g. to pin it to a core). */
  onDaemon?: (pid: number) => void;
  /** Core to pin the sender to (taskset -c), if any. */
  senderCore?: string;
}

export interface OverloadResult {
  flood: FloodResult;
  session: {
    /** The session closed or a NOTIFICATION came during the run. */
    dropped: boolean;
    notifications: { code: number; subcode: number }[];
    /** Gaps between the daemon's KEEPALIVEs from the flood's start to the end of the run, ms. */
    keepaliveGapsMs: number[];
    /** The longest time without any message from the daemon in that window, ms. */
    longestSilenceMs: number;
    /** UPDATEs from the daemon in that window. */
    updates: number;
    /** MACs the neighbour holds at the end. */
    macs: number;
  };
  /** Event-loop delay over the flood and the 3 s after it. */
  eld: ProxyProbe["eld"];
  /** Live memory after full GCs: empty table, with the known MACs, 3 s after the flood. */
  memory: { empty: ProxyProbe; loaded: ProxyProbe; after: ProxyProbe };
  /** RSS sampled every 250 ms during the flood and the 3 s after. */
  rss: ProcSample[];
  /** /api/v1/learning/counters before and after the flood. */
  counters: { before: Record<string, unknown>; after: Record<string, unknown> };
  /** Kernel drops on the daemon's VXLAN socket during the flood. */
  kernelDrops: number;
  running: boolean;
  log: string;
}

type Watch = {
  keepalives: number[];
  /** Since `last`: the longest time between two messages. */
  last: number;
  longestSilence: number;
  updates: number;
  macs: Set<string>;
  notifications: { code: number; subcode: number }[];
  closed: boolean;
};

export async function runOverload(o: OverloadOptions): Promise<OverloadResult> {
  const apiPort = await freePort(SPEAKER);
  const { dir, file, port } = await learningDaemonConfig({
    name: "overload",
    vxlan: VXLAN,
    vtep: VTEP,
    maxMacs: o.maxMacs ?? o.known,
    learnRate: o.learnRate,
    neighbor: "    hold-time: 3\n",
    top: `management:\n  socket: false\n  http:\n    address: ${SPEAKER}\n    port: ${apiPort}\n`,
  });
  const d = startProbed(file, join(dir, "probe.json"));
  const pid = d.child.pid!;
  const tx = dgram.createSocket("udp4");
  const counters = async (): Promise<Record<string, unknown>> => {
    const r = await fetch(`http://${SPEAKER}:${apiPort}/api/v1/learning/counters`);
    return (await r.json()) as Record<string, unknown>;
  };
  try {
    o.onDaemon?.(pid);
    const peer = new FlappingPeer({ host: SPEAKER, port, local: PEER, asn: 65000, id: "192.0.2.254", hold: 3 });
    await peer.up(30_000);
    const w: Watch = {
      keepalives: [],
      last: 0,
      longestSilence: 0,
      updates: 0,
      macs: new Set(),
      notifications: [],
      closed: false,
    };
    const watching = watch(peer, w);
    const empty = await d.probe();

    // Learning the known MACs at 80 % of max-learn-rate, every 10 ms.
    await new Promise<void>((r) => tx.bind({ address: VTEP, port: 0 }, () => r()));
    const perTick = Math.max(1, Math.floor(o.learnRate / 125));
    for (let k = 0; k < o.known;) {
      for (const end = Math.min(o.known, k + perTick); k < end; k++)
        tx.send(arpDatagram(VNI, k, 1 + (k % 250)), 4789, VXLAN);
      await sleep(10);
    }
    for (let i = 0; i < 600 && w.macs.size < o.known; i++) await sleep(50);
    if (w.macs.size !== o.known) throw new Error(`the daemon announced ${w.macs.size} of ${o.known} MACs`);
    await sleep(1000);
    const loaded = await d.probe();
    const before = await counters();
    const drops0 = udpSocketDrops(VXLAN, 4789) ?? 0;
    await sleep(200);

    const sampler = new ProcSampler(pid, 250);
    const start = performance.now();
    w.keepalives = [start];
    w.last = start;
    w.longestSilence = 0;
    w.updates = 0;
    const flood = await floodChild(
      {
        from: VTEP,
        to: VXLAN,
        vni: VNI,
        rate: o.rate,
        seconds: o.seconds,
        known: o.known,
        newEvery: o.newEvery,
        garbageEvery: o.garbageEvery,
        newFrom: 1_000_000,
      },
      o.senderCore,
    );
    await sleep(3000);
    const after = await d.probe();
    const rss = sampler.stop();
    const end = performance.now();
    const drops = (udpSocketDrops(VXLAN, 4789) ?? 0) - drops0;
    const countersAfter = await counters();
    const kas = [...w.keepalives, end];
    const session = {
      dropped: w.closed || w.notifications.length > 0,
      notifications: w.notifications,
      keepaliveGapsMs: kas.slice(1).map((t, i) => t - kas[i]!),
      longestSilenceMs: Math.max(w.longestSilence, end - w.last),
      updates: w.updates,
      macs: w.macs.size,
    };
    await peer.down("close");
    await watching;
    return {
      flood,
      session,
      eld: after.eld,
      memory: { empty, loaded, after },
      rss,
      counters: { before, after: countersAfter },
      kernelDrops: drops,
      running: d.child.exitCode === null,
      log: d.out.join(""),
    };
  } finally {
    tx.close();
    d.child.kill("SIGTERM");
    await d.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records what the daemon sends until the session ends. */
async function watch(peer: FlappingPeer, w: Watch): Promise<void> {
  const p = peer.session!;
  for (;;) {
    const m = await p.next(600_000).catch(() => null);
    if (m === null) {
      w.closed = peer.session === p; // not closed by down()
      return;
    }
    const now = performance.now();
    w.longestSilence = Math.max(w.longestSilence, now - w.last);
    w.last = now;
    if (m.type === 4) w.keepalives.push(now);
    else if (m.type === 3) w.notifications.push({ code: m.code, subcode: m.subcode });
    else if (m.type === 2) {
      w.updates++;
      for (const a of m.attributes) {
        if (a.kind === "mp-reach" && a.nlri.family === "evpn")
          for (const r of a.nlri.routes) if (r.routeType === 2) w.macs.add(r.mac);
        if (a.kind === "mp-unreach" && a.nlri.family === "evpn")
          for (const r of a.nlri.routes) if (r.routeType === 2) w.macs.delete(r.mac);
      }
    }
  }
}

/** Runs test/helpers/vxlan-flood.ts in a child process (pinned to `core` if given). */
async function floodChild(f: FloodOptions, core?: string): Promise<FloodResult> {
  const args = [FLOOD, JSON.stringify(f)];
  const child = core
    ? spawn("taskset", ["-c", core, process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on("line", (l) => lines.push(l));
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  if (code !== 0 || !lines[0]) throw new Error(`vxlan-flood exited ${code}`);
  return JSON.parse(lines[0]) as FloodResult;
}
