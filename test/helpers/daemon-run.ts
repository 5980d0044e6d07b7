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
 * default /var/lib/evpn-proxy).
 */
export function daemonYaml(
  port: number,
  vteps: string[],
  macs: string[],
  extra = "",
  stateDirectory: string | false = false,
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
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
${vteps.map((v, i) => `      - address: ${v}${i === 0 ? first : ""}`).join("\n")}
${extra}`;
}

export async function freePort(address: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, address, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function start(file: string): { child: ChildProcess; out: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, "run", "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
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
