// Benchmark: heap bytes per route of the RIB holding type-2 routes received from one peer, and the
// speed of Rib.applyUpdate and AdjRibOut.drain.
// Run: npm run build && node --expose-gc dist/bench/rib-memory.js   (BENCH_ROUTES, default 100000)
//
// The routes arrive as real UPDATEs (encoded, then decoded by the codec as a session would): 90
// routes per UPDATE as FRR packs them, RD and next hop changing every UPDATE over 250 VTEPs. The
// decoded routes and their attribute digests are the RIB's own data, so the figure that matters
// is the total; the RIB's structures on top of the decoded routes are reported separately.
import { performance } from "node:perf_hooks";
import { AdjRibOut, type OutAttrs } from "../src/bgp/adj-rib-out.js";
import { digestAttributes, type PathAttrs } from "../src/bgp/path-attrs.js";
import { type PeerRef, Rib } from "../src/bgp/rib.js";
import {
  decodeMessage,
  encapsulation,
  encodeMessage,
  type EvpnRoute,
  findAttr,
  macIpRoute,
  type PathAttribute,
  routeTarget,
  type UpdateMessage,
} from "../src/codec/index.js";

const N = Number(process.env["BENCH_ROUTES"] ?? 100_000);
const PER_UPDATE = 90;
const HEX = (v: number) => v.toString(16).padStart(2, "0");

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error("run with node --expose-gc");
  g();
  g();
}

function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const shared: PathAttribute[] = [
  { kind: "origin", origin: 0 },
  { kind: "as-path", segments: [] },
  { kind: "local-pref", localPref: 100 },
  { kind: "ext-communities", communities: [routeTarget("65000:10"), encapsulation()] },
];

function route(i: number): EvpnRoute {
  const vtep = Math.floor(i / PER_UPDATE) % 250;
  return macIpRoute({
    rd: `192.0.2.${1 + vtep}:10`,
    mac: `02:00:${HEX((i >>> 24) & 0xff)}:${HEX((i >>> 16) & 0xff)}:${HEX((i >>> 8) & 0xff)}:${HEX(i & 0xff)}`,
    ip: `198.51.100.${i & 0xff}`,
    label1: 10,
  });
}

/** The wire: N routes in UPDATEs of PER_UPDATE. */
const wire: Uint8Array[] = [];
for (let i = 0; i < N; i += PER_UPDATE) {
  const routes: EvpnRoute[] = [];
  for (let k = i; k < Math.min(N, i + PER_UPDATE); k++) routes.push(route(k));
  const u: UpdateMessage = {
    type: 2,
    withdrawn: [],
    nlri: [],
    attributes: [
      ...shared.slice(0, 3),
      {
        kind: "mp-reach",
        afi: 25,
        safi: 70,
        nextHop: [`192.0.2.${1 + ((i / PER_UPDATE) % 250)}`],
        nlri: { family: "evpn", routes },
      },
      shared[3]!,
    ],
  };
  wire.push(encodeMessage(u));
}

interface Received {
  routes: EvpnRoute[];
  attrs: PathAttrs;
}

function decodeAll(): Received[] {
  const out: Received[] = [];
  for (const b of wire) {
    const r = decodeMessage(b);
    if (!r.ok || r.message.type !== 2) throw new Error("bench setup: decode failed");
    const reach = findAttr(r.message.attributes, "mp-reach")!;
    if (reach.nlri.family !== "evpn") throw new Error("bench setup: not EVPN");
    out.push({ routes: reach.nlri.routes, attrs: digestAttributes(r.message.attributes, reach.nextHop[0]!) });
  }
  return out;
}

const peer: PeerRef = { id: "192.0.2.254", address: "192.0.2.254", routerId: "192.0.2.254", asn: 65000, ebgp: false };
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const line = (label: string, value: string) => console.log(`${label.padEnd(60)} ${value}`);

function ribRun(indexes: boolean): Record<string, number> {
  const h0 = heap();
  let received: Received[] | null = decodeAll();
  const h1 = heap();
  const rib = new Rib({ routerId: "192.0.2.100", indexes });
  const t0 = performance.now();
  let changes = 0;
  for (const u of received) changes += rib.applyUpdate(peer, u.routes, u.attrs, []).length;
  const tApply = performance.now() - t0;
  if (changes !== N || rib.size !== N) throw new Error(`bench: ${changes} changes, ${rib.size} routes`);
  const h2 = heap();
  // The same UPDATEs again (route refresh, or re-announcement after a graceful restart).
  let again: Received[] | null = decodeAll();
  const t1 = performance.now();
  for (const u of again) changes += rib.applyUpdate(peer, u.routes, u.attrs, []).length;
  const tRepeat = performance.now() - t1;
  if (changes !== N) throw new Error("bench: a repeated announcement changed the RIB");
  received = again = null; // the RIB holds the routes now
  const h3 = heap();
  const t2 = performance.now();
  const gone = rib.withdrawAll(peer.id).length;
  const tWithdraw = performance.now() - t2;
  if (gone !== N || rib.size !== 0) throw new Error("bench: withdrawAll");
  return {
    decodedBytesPerRoute: (h1 - h0) / N,
    ribBytesPerRoute: (h2 - h1) / N,
    totalBytesPerRoute: (h3 - h0) / N,
    applyPerSec: N / (tApply / 1000),
    applyMs: tApply,
    repeatPerSec: N / (tRepeat / 1000),
    withdrawAllMs: tWithdraw,
  };
}

function outRun(ctx: { as4: boolean; extendedMessage?: boolean }): Record<string, number> {
  const attrs: OutAttrs = { nextHop: "192.0.2.100", attributes: shared };
  // Decoded routes, as the RIB hands them over (flat strings; built text would be cons strings).
  const routes = decodeAll().flatMap((u) => u.routes);
  const h0 = heap();
  const out = new AdjRibOut({ ctx });
  const t0 = performance.now();
  for (const r of routes) out.announce(r, attrs);
  const tAnnounce = performance.now() - t0;
  const t1 = performance.now();
  const msgs = out.drain(Number.MAX_SAFE_INTEGER);
  const tDrain = performance.now() - t1;
  let bytes = 0;
  for (const m of msgs) bytes += m.length;
  const h1 = heap();
  if (out.size !== N || out.hasPending()) throw new Error("bench: drain left routes behind");
  const tw = performance.now();
  for (const r of routes) out.withdraw(r);
  const wMsgs = out.drain(Number.MAX_SAFE_INTEGER);
  const tWithdraw = performance.now() - tw;
  if (out.size !== 0) throw new Error("bench: withdrawals left routes behind");
  return {
    announcePerSec: N / (tAnnounce / 1000),
    drainMs: tDrain,
    drainPerSec: N / (tDrain / 1000),
    messages: msgs.length,
    avgMessageBytes: bytes / msgs.length,
    withdrawMessages: wMsgs.length,
    withdrawAndDrainMs: tWithdraw,
    adjRibOutBytesPerRoute: (h1 - h0) / N,
  };
}

console.log(`node ${process.version}; ${fmt(N)} type-2 routes (MAC + IPv4) from one peer in ${wire.length} UPDATEs`);
ribRun(true); // warm-up
const withIx = ribRun(true);
const noIx = ribRun(false);
line("heap per decoded route (route object + shared digest)", `${withIx["decodedBytesPerRoute"]!.toFixed(1)} bytes`);
line("heap per route, RIB structures (indexes on)", `${withIx["ribBytesPerRoute"]!.toFixed(1)} bytes`);
line("heap per route, RIB structures (indexes off)", `${noIx["ribBytesPerRoute"]!.toFixed(1)} bytes`);
line("heap per route, total: decoded routes + RIB (indexes on)", `${withIx["totalBytesPerRoute"]!.toFixed(1)} bytes`);
line("Rib.applyUpdate, new routes", `${fmt(withIx["applyPerSec"]!)} routes/s (${fmt(withIx["applyMs"]!)} ms)`);
line("Rib.applyUpdate, identical repeat (no change)", `${fmt(withIx["repeatPerSec"]!)} routes/s`);
line("Rib.withdrawAll", `${fmt(withIx["withdrawAllMs"]!)} ms`);
outRun({ as4: true }); // warm-up
const o = outRun({ as4: true });
const ox = outRun({ as4: true, extendedMessage: true });
line("AdjRibOut.announce", `${fmt(o["announcePerSec"]!)} routes/s`);
line(
  "AdjRibOut.drain, 4096-byte UPDATEs",
  `${fmt(o["drainPerSec"]!)} routes/s (${fmt(o["drainMs"]!)} ms, ${fmt(o["messages"]!)} UPDATEs of ${fmt(o["avgMessageBytes"]!)} bytes)`,
);
line(
  "AdjRibOut.drain, 65535-byte UPDATEs (RFC 8654)",
  `${fmt(ox["drainPerSec"]!)} routes/s (${fmt(ox["drainMs"]!)} ms, ${fmt(ox["messages"]!)} UPDATEs)`,
);
line("AdjRibOut withdraw all + drain", `${fmt(o["withdrawAndDrainMs"]!)} ms, ${fmt(o["withdrawMessages"]!)} UPDATEs`);
line("heap per route, AdjRibOut (advertised state)", `${o["adjRibOutBytesPerRoute"]!.toFixed(1)} bytes`);
console.log(JSON.stringify({ node: process.version, routes: N, rib: withIx, ribNoIndexes: noIx, out: o, outExt: ox }));
