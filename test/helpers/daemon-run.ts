// Running `evpn-proxy run` as a child process and reading what a scripted BGP peer receives.
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";
import type { BgpMessage, EvpnRoute, UpdateMessage } from "../../src/codec/index.js";
import { setTimeout as sleep } from "node:timers/promises";
import { ScriptedPeer } from "./scripted-peer.js";

const MAIN = new URL("../../src/cli/main.js", import.meta.url).pathname;
/** The daemon listens here; the scripted peer connects from PEER. */
export const SPEAKER = "127.0.0.1";
export const PEER = "127.0.0.2";

/**
 * `evpn-proxy run` on loopback: service vni10 with `vteps`, the first with `macs` configured;
 * the learned table saved in `stateDirectory` (by default nowhere: tests never write to the
 * default /var/lib/evpn-proxy); `neighbor`: more lines of the neighbour's mapping (e.g.
 * "    damping: false\n").
 */
export function daemonYaml(
  port: number,
  vteps: string[],
  macs: string[],
  extra = "",
  stateDirectory: string | false = false,
  neighbor = "",
): string {
  const first = macs.length ? `\n        macs: [${macs.map((m) => `"${m}"`).join(", ")}]` : "";
  return `router-id: 192.0.2.4
local-as: 65000
state-directory: ${stateDirectory}
listen:
  address: ${SPEAKER}
  port: ${port}
neighbors:
  - address: ${PEER}
    peer-as: 65000
    passive: true
${neighbor}services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
${vteps.map((v, i) => `      - address: ${v}${i === 0 ? first : ""}`).join("\n")}
${extra}`;
}

/** VXLAN (VNI 10) | broadcast ARP request from MAC 02:00:00:<v>:<i> (a gratuitous one is fine too). */
export function arpInVxlan(v: number, i: number): Buffer {
  const mac = Buffer.from([0x02, 0, 0, v, i >> 8, i & 0xff]);
  const b = Buffer.alloc(8 + 14 + 28);
  b.writeUInt32BE(0x08000000, 0);
  b.writeUInt32BE(10 << 8, 4);
  b.fill(0xff, 8, 14);
  mac.copy(b, 14);
  b.writeUInt16BE(0x0806, 20);
  const arpAt = 22;
  b.writeUInt16BE(1, arpAt); // Ethernet
  b.writeUInt16BE(0x0800, arpAt + 2);
  b[arpAt + 4] = 6;
  b[arpAt + 5] = 4;
  b.writeUInt16BE(1, arpAt + 6); // request
  mac.copy(b, arpAt + 8);
  Buffer.from([198, 51, 100, 1 + (i % 200)]).copy(b, arpAt + 14);
  Buffer.from([198, 51, 100, 254]).copy(b, arpAt + 24);
  return b;
}

export async function freePort(address: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, address, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

// Daemons still running when this process ends are killed, also when it is ended by a signal
// (a bench interrupted, a test file timed out): none is left behind holding ports or sockets.
const running = new Set<ChildProcess>();
let reaper = false;
function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (reaper) return;
  reaper = true;
  const reap = () => {
    for (const c of running) c.kill("SIGKILL");
  };
  process.once("exit", reap);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.once(sig, () => {
      reap();
      process.kill(process.pid, sig);
    });
}

/**
 * `evpn-proxy run --config file`; `via` runs it through a wrapper instead (node flags, script and
 * its arguments, e.g. ["--expose-gc", "bench/proxy-gc.js", OUT]).
 */
export function start(
  file: string,
  via: string[] = [MAIN],
): { child: ChildProcess; out: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...via, "run", "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  reapOnExit(child);
  const out: string[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(b.toString()));
  child.stderr!.on("data", (b: Buffer) => out.push(b.toString()));
  return { child, out, exited: new Promise((r) => child.on("exit", (c) => r(c))) };
}

/** Routes announced (MP_REACH) and withdrawn (MP_UNREACH) by the UPDATEs in `msgs`. */
export function routesOf(msgs: BgpMessage[]): {
  announced: { route: EvpnRoute; u: UpdateMessage }[];
  withdrawn: EvpnRoute[];
} {
  const announced: { route: EvpnRoute; u: UpdateMessage }[] = [];
  const withdrawn: EvpnRoute[] = [];
  for (const m of msgs) {
    if (m.type !== 2) continue;
    for (const a of m.attributes) {
      if (a.kind === "mp-reach" && a.nlri.family === "evpn")
        for (const r of a.nlri.routes) announced.push({ route: r, u: m });
      if (a.kind === "mp-unreach" && a.nlri.family === "evpn") withdrawn.push(...a.nlri.routes);
    }
  }
  return { announced, withdrawn };
}

/** Messages until `n` ms pass without one. */
export async function collect(p: ScriptedPeer, quietMs = 500): Promise<BgpMessage[]> {
  const got: BgpMessage[] = [];
  for (;;) {
    const m = await p.next(quietMs).catch(() => null);
    if (m === null) return got;
    got.push(m);
  }
}

/** Connects to the daemon at `port` (retrying while it starts) and completes the OPEN exchange. */
export async function openSession(port: number, out: string[]): Promise<ScriptedPeer> {
  let p: ScriptedPeer | undefined;
  for (let i = 0; i < 100 && !p; i++)
    p = await ScriptedPeer.connect(SPEAKER, port, PEER).catch(() => sleep(50).then(() => undefined));
  if (!p) throw new Error(`daemon never listened:\n${out.join("")}`);
  await p.handshake({ asn: 65000, id: "192.0.2.254", hold: 90 });
  return p;
}
