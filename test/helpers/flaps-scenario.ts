// The session-flap proof, shared by bench/flaps.ts and its short version in test/integration:
// `evpn-proxy run` as shipped on loopback (a child process, BGP passive, damping off for the
// neighbour, learning on its own VXLAN address), MACS MACs learned from VXLAN-carried ARP
// requests of one static VTEP, then FLAPS flaps of the neighbour's session, a clean close (Cease
// NOTIFICATION then FIN) and a TCP reset alternating. After each flap the neighbour connects
// again at once and reads the initial table up to the End-of-RIB. The daemon's RSS and open
// descriptors are read from /proc with its session up, before the first flap and after the last,
// and its live memory after two full GCs (bench/proxy-gc.ts runs it with --expose-gc).
import dgram from "node:dgram";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { arpDatagram } from "../../bench/vxlan-arp.js";
import { PEER, SPEAKER } from "./daemon-run.js";
import { type FlapKind, FlappingPeer, type InitialTable } from "./flapping-peer.js";
import { procSample, type ProcSample } from "./proc-sampler.js";
import { learningDaemonConfig, type ProxyProbe, startProbed } from "./proxy-probe.js";

/** The daemon's VXLAN socket and the static VTEP: loopback addresses of their own. */
const VXLAN = "127.0.0.41";
const VTEP = "127.0.0.42";
const VNI = 10;

export interface FlapsOptions {
  flaps: number;
  macs: number;
  /** Called with the daemon's pid once it runs (e.g. to pin it to a core). */
  onDaemon?: (pid: number) => void | Promise<void>;
  /** Called after each flap's End-of-RIB. */
  onFlap?: (f: FlapRecord) => void;
  /** Also read the live memory after two full GCs every this many flaps (default: only before and after). */
  gcEvery?: number;
}

export interface FlapRecord {
  flap: number;
  kind: FlapKind;
  attempts: number;
  /** Connection (TCP established) to End-of-RIB, ms. */
  eorMs: number;
  /** First connection attempt after the flap to End-of-RIB, ms. */
  sinceFirstAttemptMs: number;
  macs: number;
  imet: number;
  updates: number;
  /** The daemon right after the End-of-RIB. */
  proc: ProcSample;
  /** Its live memory, on the flaps gcEvery asks for. */
  live?: ProxyProbe;
}

export interface FlapsResult {
  /** The session before the first flap: its initial table after learning. */
  first: InitialTable;
  before: ProcSample;
  after: ProcSample;
  liveBefore: ProxyProbe;
  liveAfter: ProxyProbe;
  flaps: FlapRecord[];
  /** Whether the daemon was still running at the end. */
  running: boolean;
  /** Its stdout and stderr. */
  log: string;
}

export async function runFlaps(o: FlapsOptions): Promise<FlapsResult> {
  const { dir, file, port } = await learningDaemonConfig({
    name: "flaps",
    vxlan: VXLAN,
    vtep: VTEP,
    maxMacs: Math.max(10_000, o.macs),
    learnRate: 1_000_000,
    neighbor: "    damping: false\n",
    top: "management:\n  socket: false\n",
  });
  const { child, out, exited, probe: live } = startProbed(file, join(dir, "probe.json"));
  const tx = dgram.createSocket("udp4");
  try {
    await o.onDaemon?.(child.pid!);
    const peer = new FlappingPeer({ host: SPEAKER, port, local: PEER, asn: 65000, id: "192.0.2.254" });
    await peer.up(30_000);
    // Learning: every MAC once, 500 per 5 ms, then a session that must hold them all.
    await new Promise<void>((r) => tx.bind({ address: VTEP, port: 0 }, () => r()));
    for (let k = 0; k < o.macs; k++) {
      tx.send(arpDatagram(VNI, k, 1 + (k % 250)), 4789, VXLAN);
      if (k % 500 === 499) await sleep(5);
    }
    let first: InitialTable | undefined;
    for (let i = 0; i < 50 && (first?.macs.size ?? 0) < o.macs; i++) {
      await sleep(200);
      await peer.down("close");
      first = await peer.up(30_000);
    }
    if (first!.macs.size !== o.macs)
      throw new Error(`the daemon learned ${first!.macs.size} of ${o.macs} MACs:\n${out.join("")}`);
    await sleep(2000);
    const liveBefore = await live();
    await sleep(500);
    const before = procSample(child.pid!);
    const flaps: FlapRecord[] = [];
    for (let flap = 1; flap <= o.flaps; flap++) {
      const kind: FlapKind = flap % 2 === 1 ? "close" : "reset";
      await peer.down(kind);
      const t = await peer.up(60_000);
      const f: FlapRecord = {
        flap,
        kind,
        attempts: t.attempts,
        eorMs: t.eorMs,
        sinceFirstAttemptMs: t.sinceFirstAttemptMs,
        macs: t.macs.size,
        imet: t.imet,
        updates: t.updates,
        proc: procSample(child.pid!),
      };
      if (o.gcEvery && flap % o.gcEvery === 0) f.live = await live();
      flaps.push(f);
      o.onFlap?.(f);
    }
    await sleep(2000);
    const liveAfter = await live();
    await sleep(500);
    const after = procSample(child.pid!);
    await peer.down("close");
    const running = child.exitCode === null;
    return { first: first!, before, after, liveBefore, liveAfter, flaps, running, log: out.join("") };
  } finally {
    tx.close();
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
