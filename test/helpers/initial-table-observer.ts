// A child process of the crash scenario (crash-lab.ts): a BGP neighbour of the proxy that records
// what each session announced. It connects (again and again: the proxy is killed and restarted)
// and advertises graceful restart for EVPN (RFC 4724 §3). It prints one JSON line at the
// proxy's End-of-RIB (kind "eor": the initial table) and one when the session ends (kind
// "closed": everything the session held then): the session number, the time (epoch ms; for
// "eor" also when the session came up), and the MAC indices (bench/vxlan-arp.ts) of the type 2
// routes, as [first, last] ranges. Every 500 ms a "status" line gives how many it holds.
// Usage: node initial-table-observer.js <local address> <proxy address> <port>
import { setTimeout as sleep } from "node:timers/promises";
import { benchMacIndex } from "../../bench/vxlan-arp.js";
import { encodeMessage, endOfRibFamily, GR_FORWARDING_PRESERVED, KEEPALIVE } from "../../src/codec/index.js";
import { ScriptedPeer } from "./scripted-peer.js";

const [local, proxy, portText] = process.argv.slice(2);
const port = Number(portText);

function ranges(sorted: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (const k of sorted) {
    const last = out[out.length - 1];
    if (last && k === last[1] + 1) last[1] = k;
    else if (!last || k !== last[1]) out.push([k, k]);
  }
  return out;
}

function report(head: Record<string, unknown>, macs: Set<number>): void {
  const sorted = Int32Array.from(macs).sort();
  process.stdout.write(`${JSON.stringify({ ...head, count: macs.size, ranges: ranges(sorted) })}\n`);
}

for (let session = 1; ;) {
  let p: ScriptedPeer | undefined;
  while (!p) {
    p = await ScriptedPeer.connect(proxy!, port, local!).catch(() => undefined);
    if (!p) await sleep(50);
  }
  const ok = await p
    .handshake({
      asn: 65000,
      id: "192.0.2.254",
      hold: 90,
      extra: [
        {
          code: 64,
          restartFlags: 0,
          restartTime: 120,
          families: [{ afi: 25, safi: 70, flags: GR_FORWARDING_PRESERVED }],
        },
      ],
    })
    .then(() => true)
    .catch(() => false);
  if (!ok) {
    p.close();
    continue;
  }
  const up = Date.now(); // a session: numbered from here (a failed handshake is none)
  const macs = new Set<number>();
  const keepalive = setInterval(() => p.send(encodeMessage(KEEPALIVE)), 20_000);
  const status = setInterval(
    () => process.stdout.write(`${JSON.stringify({ kind: "status", session, at: Date.now(), count: macs.size })}\n`),
    500,
  );
  for (;;) {
    const m = await p.next(600_000).catch(() => null);
    if (m === null) break;
    if (m.type !== 2) continue;
    if (endOfRibFamily(m)?.afi === 25) {
      report({ kind: "eor", session, up, at: Date.now() }, macs);
      continue;
    }
    for (const a of m.attributes) {
      if (a.kind === "mp-reach" && a.nlri.family === "evpn")
        for (const r of a.nlri.routes) if (r.routeType === 2) macs.add(benchMacIndex(r.mac));
      if (a.kind === "mp-unreach" && a.nlri.family === "evpn")
        for (const r of a.nlri.routes) if (r.routeType === 2) macs.delete(benchMacIndex(r.mac));
    }
  }
  report({ kind: "closed", session, at: Date.now() }, macs);
  clearInterval(keepalive);
  clearInterval(status);
  p.close();
  session++;
}
