// Benchmark: EVPN type-2 (MAC/IP) NLRI decode and encode rates on one core, and heap bytes per
// decoded route.  Run: npm run bench   (pin a core with: taskset -c 1 npm run bench)
//
// Rates are measured on a stream of UPDATEs (90 routes each, as FRR packs them into 4096-byte
// messages) whose decoded routes are dropped after each message, which is what the codec does
// on a session; keeping every decoded route alive is reported separately because then the
// garbage collector, not the codec, sets the pace.
import { performance } from "node:perf_hooks";
import {
  decodeEvpnNlri,
  decodeMessage,
  type EvpnMacIp,
  type EvpnRoute,
  encodeEvpnRoute,
  encodeMessage,
  ipv4Number,
  type UpdateMessage,
  Writer,
} from "../src/codec/index.js";

const N = Number(process.env["BENCH_ROUTES"] ?? 200_000);
const RETAINED = Number(process.env["BENCH_RETAINED"] ?? 1_000_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 9);
const PER_UPDATE = 90;
const HEX = (v: number) => v.toString(16).padStart(2, "0");

/** Route i: VTEP (and so RD and next hop) changes every PER_UPDATE routes, like a real table. */
function route(i: number): EvpnMacIp {
  const vtep = Math.floor(i / PER_UPDATE) % 250;
  return {
    routeType: 2,
    rd: `192.0.2.${1 + vtep}:10`,
    esi: "00:00:00:00:00:00:00:00:00:00",
    ethernetTag: 0,
    mac: `02:00:${HEX((i >>> 24) & 0xff)}:${HEX((i >>> 16) & 0xff)}:${HEX((i >>> 8) & 0xff)}:${HEX(i & 0xff)}`,
    ip: `198.51.100.${i & 0xff}`,
    label1: 10,
    label2: undefined,
  };
}

function update(routes: EvpnRoute[], nh: string): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    nlri: [],
    attributes: [
      { kind: "origin", origin: 0 },
      { kind: "as-path", segments: [] },
      { kind: "local-pref", localPref: 100 },
      { kind: "mp-reach", afi: 25, safi: 70, nextHop: [nh], nlri: { family: "evpn", routes } },
      {
        kind: "ext-communities",
        communities: [
          { kind: "route-target", value: "65000:10" },
          { kind: "encapsulation", tunnelType: 8 },
          { kind: "mac-mobility", flags: 0, sequence: 1 },
        ],
      },
    ],
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error("run with node --expose-gc");
  g();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function rate(label: string, count: number, fn: () => void): number {
  fn();
  fn(); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    gc();
    const t0 = performance.now();
    fn();
    rates.push(count / ((performance.now() - t0) / 1000));
  }
  const m = median(rates);
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log(
    `${label.padEnd(52)} ${fmt(m).padStart(11)} /s  (median of ${ROUNDS}; min ${fmt(Math.min(...rates))}, max ${fmt(Math.max(...rates))})`,
  );
  return m;
}

const routes = Array.from({ length: N }, (_, i) => route(i));
const updates: UpdateMessage[] = [];
for (let i = 0; i < N; i += PER_UPDATE)
  updates.push(update(routes.slice(i, i + PER_UPDATE), `192.0.2.${1 + ((i / PER_UPDATE) % 250)}`));
const encoded = updates.map((u) => encodeMessage(u));
// The same UPDATEs as a route reflector sends our own routes back: ORIGINATOR_ID = us (RFC 4456).
const US = "192.0.2.254";
const reflected = updates.map((u) =>
  encodeMessage({ ...u, attributes: [...u.attributes, { kind: "originator-id", originatorId: US }] }),
);
const LOOP_CTX = { as4: true, loopIds: { originatorId: ipv4Number(US), clusterId: ipv4Number(US) } };
// Where each UPDATE's EVPN NLRI sits inside MP_REACH_NLRI (RFC 4760 §3).
const spans = encoded.map((b) => {
  let p = 19 + 2 + ((b[19]! << 8) | b[20]!);
  const end = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  p += 2;
  while (p < end) {
    const ext = (b[p]! & 0x10) !== 0;
    const len = ext ? (b[p + 2]! << 8) | b[p + 3]! : b[p + 2]!;
    const v = p + (ext ? 4 : 3);
    if (b[p + 1] === 14) return { start: v + 4 + b[v + 3]! + 1, end: v + len };
    p = v + len;
  }
  throw new Error("bench setup: no MP_REACH_NLRI");
});

console.log(
  `node ${process.version}; ${N.toLocaleString("en-US")} type-2 routes (MAC + IPv4, ESI 0, one label) in ${encoded.length} UPDATEs of ${PER_UPDATE}`,
);

const sink: { n: number } = { n: 0 };
const results = {
  decodeNlri: rate("decode type-2 NLRI", N, () => {
    for (let k = 0; k < encoded.length; k++) {
      const out: EvpnRoute[] = [];
      decodeEvpnNlri(encoded[k]!, spans[k]!.start, spans[k]!.end, out, 25, 70);
      sink.n += out.length;
    }
  }),
  encodeNlri: rate("encode type-2 NLRI", N, () => {
    const w = new Writer(4096);
    for (let k = 0; k < routes.length; k++) {
      if (k % PER_UPDATE === 0) w.pos = 0;
      encodeEvpnRoute(w, routes[k]!);
    }
    sink.n += w.pos;
  }),
  decodeUpdates: rate("decode whole UPDATE messages, per route", N, () => {
    for (const b of encoded) {
      const r = decodeMessage(b);
      if (!r.ok) throw r.error;
    }
  }),
  decodeReflected: rate("decode reflected UPDATEs, per route", N, () => {
    for (const b of reflected) {
      const r = decodeMessage(b);
      if (!r.ok) throw r.error;
    }
  }),
  decodeReflectedLoopIds: rate("decode reflected UPDATEs with loop ids, per route", N, () => {
    for (const b of reflected) {
      const r = decodeMessage(b, LOOP_CTX);
      if (!r.ok) throw r.error;
    }
  }),
  encodeUpdates: rate("encode whole UPDATE messages, per route", N, () => {
    for (const u of updates) sink.n += encodeMessage(u).length;
  }),
};

// Retention: decode RETAINED routes and keep them all (as a RIB would), for rate and heap use.
const big = new Writer(RETAINED * 40);
for (let i = 0; i < RETAINED; i++) encodeEvpnRoute(big, route(i));
const bigNlri = big.finish();
gc();
const before = process.memoryUsage().heapUsed;
const t0 = performance.now();
const kept: EvpnRoute[] = [];
decodeEvpnNlri(bigNlri, 0, bigNlri.length, kept, 25, 70);
const retainedRate = kept.length / ((performance.now() - t0) / 1000);
gc();
const perRoute = (process.memoryUsage().heapUsed - before) / kept.length;
console.log(
  `${`decode ${RETAINED.toLocaleString("en-US")} type-2 NLRI keeping every route`.padEnd(52)} ${Math.round(retainedRate).toLocaleString("en-US").padStart(11)} /s  (one run)`,
);
console.log(`${"heap per decoded type-2 route, retained".padEnd(52)} ${perRoute.toFixed(1).padStart(11)} bytes`);
console.log(
  JSON.stringify({
    node: process.version,
    routes: N,
    ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)])),
    retainedDecode: Math.round(retainedRate),
    heapBytesPerRoute: Math.round(perRoute),
  }),
);
if (sink.n < 0) console.log(sink.n);
