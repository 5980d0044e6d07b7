// Running `evpn-proxy run` as a child process and reading what a scripted BGP peer receives.
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";
import type { BgpMessage, EvpnRoute, UpdateMessage } from "../../src/codec/index.js";
import type { ScriptedPeer } from "./scripted-peer.js";

const MAIN = new URL("../../src/cli/main.js", import.meta.url).pathname;

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
