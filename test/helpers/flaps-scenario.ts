// The session-flap proof, shared by bench/flaps.ts and its short version in test/integration:
// `evpn-proxy run` as shipped on loopback (a child process, BGP passive, damping off for the
// neighbour, learning on its own VXLAN address), MACS MACs learned from VXLAN-carried ARP
// requests of one static VTEP, then FLAPS flaps of the neighbour's session, a clean close (Cease
// NOTIFICATION then FIN) and a TCP reset alternating. After each flap the neighbour connects
// again at once and reads the initial table up to the End-of-RIB. The daemon's RSS and open
// descriptors are read from /proc with its session up, before the first flap and after the last.
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { arpDatagram } from "../../bench/vxlan-arp.js";
import { daemonYaml, freePort, PEER, SPEAKER, start } from "./daemon-run.js";
import { type FlapKind, FlappingPeer, type InitialTable } from "./flapping-peer.js";
import { procSample, type ProcSample } from "./proc-sampler.js";

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
}

export interface FlapsResult {
  /** The session before the first flap: its initial table after learning. */
  first: InitialTable;
  before: ProcSample;
  after: ProcSample;
  flaps: FlapRecord[];
  /** Whether the daemon was still running at the end. */
  running: boolean;
  /** Its stdout and stderr (log level warn). */
  log: string;
}

export async function runFlaps(o: FlapsOptions): Promise<FlapsResult> {
  const dir = mkdtempSync(join(tmpdir(), "evpn-flaps-"));
  const port = await freePort(SPEAKER);
  const file = join(dir, "evpn-proxy.yaml");
  writeFileSync(
    file,
    daemonYaml(
      port,
      [VTEP],
      [],
      `learning:
  vxlan-listen: ${VXLAN}
  include-ip: false
  max-macs-per-vtep: ${Math.max(10_000, o.macs)}
  max-learn-rate: 1000000
  mac-ageing-seconds: 86400
management:
  socket: false
`,
      false,
      "    damping: false\n",
    ),
  );
  const d = start(file);
  const tx = dgram.createSocket("udp4");
  try {
    await o.onDaemon?.(d.child.pid!);
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
      throw new Error(`the daemon learned ${first!.macs.size} of ${o.macs} MACs:\n${d.out.join("")}`);
    await sleep(2000);
    const before = procSample(d.child.pid!);
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
        proc: procSample(d.child.pid!),
      };
      flaps.push(f);
      o.onFlap?.(f);
    }
    await sleep(2000);
    const after = procSample(d.child.pid!);
    await peer.down("close");
    return { first: first!, before, after, flaps, running: d.child.exitCode === null, log: d.out.join("") };
  } finally {
    tx.close();
    d.child.kill("SIGTERM");
    await d.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
