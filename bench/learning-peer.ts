// The far side of the end-to-end learning benchmark (bench/learning-e2e.ts), in one process and
// one clock: a static VTEP that sends VXLAN-carried ARP requests to the proxy, and the BGP peer
// that receives the proxy's type-2 routes. Per new MAC it records when its first datagram left
// and when its route arrived. Talks JSON lines: arguments in argv, commands on stdin, events on
// stdout.
//   node learning-peer.js '{"local":"192.0.2.1","proxy":"192.0.2.2","as":65000,"vni":10}'
//   stdin: {"cmd":"run","first":0,"count":5000,"rate":1000}                       new MACs
//          {"cmd":"run","first":9e5,"count":10000,"rate":200000,"known":[0,100000],"ratio":100}
//            every ratio-th datagram a new MAC, the others cycle over known MAC indexes [from, to)
//          {"cmd":"run","first":0,"count":5000,"rate":1000,"floor":true}
//            the same datagrams to bench/learning-floor.ts (UDP 4790), arrivals from its TCP
//            connection (port 7000) instead of BGP: the floor of the latency on this path
//          {"cmd":"run","first":0,"count":5000,"rate":1000,"nd":true}
//            neighbour solicitations instead of ARP: one IPv6 address per MAC (MAC/IP routes)
//          {"cmd":"run","first":0,"count":5000,"rate":1000,"vnis":4000}
//            MAC first+i in VNI vni + i mod vnis, sender IP 198.51.100.(i / vnis mod 250 + 1)
//          {"cmd":"stop"}
import dgram from "node:dgram";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { decodeMessage, encodeMessage, KEEPALIVE, makeOpen, MessageFramer } from "../src/codec/index.js";
import { arpDatagram, benchMacIndex, ndDatagram } from "./vxlan-arp.js";

const o = JSON.parse(process.argv[2] ?? "{}") as { local: string; proxy: string; as: number; vni: number };
const say = (x: object): void => void process.stdout.write(`${JSON.stringify(x)}\n`);
const clock = (): number => performance.now();

interface Run {
  first: number;
  count: number;
  rate: number;
  known?: [number, number];
  ratio?: number;
  floor?: boolean;
  nd?: boolean;
  vnis?: number;
}

// ---- the BGP peer (passive; the proxy connects) ----

let arrived: Float64Array = new Float64Array(0);
let sentAt: Float64Array = new Float64Array(0);
let runFirst = 0;
let received = 0;
let lastArrival = 0;
let routesIn = 0;
let withdrawnIn = 0;

const server = net.createServer({ noDelay: true }, (sock) => {
  const framer = new MessageFramer(65535);
  sock.write(
    encodeMessage(
      makeOpen({
        asn: o.as,
        holdTime: 180,
        bgpId: o.local,
        capabilities: [{ code: 1, afi: 25, safi: 70 }, { code: 2 }, { code: 65, asn: o.as }],
      }),
    ),
  );
  let established = false;
  sock.on("data", (b: Buffer) => {
    const t = clock();
    framer.push(b);
    for (let f = framer.next(); f; f = framer.next()) {
      if (!f.ok) throw f.error;
      const type = f.frame[18];
      if (type === 1) sock.write(encodeMessage(KEEPALIVE));
      else if (type === 4 && !established) {
        established = true;
        say({ event: "established" });
      } else if (type === 3) {
        say({ event: "notification", code: f.frame[19], subcode: f.frame[20] });
        process.exit(1);
      } else if (type === 2) update(f.frame, t);
    }
  });
  sock.on("error", (e) => say({ event: "error", message: e.message }));
  setInterval(() => sock.write(encodeMessage(KEEPALIVE)), 30_000).unref();
});
server.listen(179, o.local);

function arrive(index: number, t: number): void {
  const i = index - runFirst;
  if (i < 0 || i >= arrived.length || arrived[i]! > 0) return;
  arrived[i] = t;
  received++;
  lastArrival = t;
}

// ---- the floor relay's connection: 4-byte MAC indexes ----

net
  .createServer({ noDelay: true }, (sock) => {
    let rest: Buffer = Buffer.alloc(0);
    sock.on("data", (b: Buffer) => {
      const t = clock();
      const d = rest.length ? Buffer.concat([rest, b]) : b;
      let k = 0;
      for (; k + 4 <= d.length; k += 4) arrive(d.readUInt32BE(k), t);
      rest = d.subarray(k);
    });
  })
  .listen(7000, o.local);

function update(frame: Uint8Array, t: number): void {
  const r = decodeMessage(frame);
  if (!r.ok || r.message.type !== 2) throw new Error(`bad UPDATE: ${r.ok ? r.message.type : r.error.message}`);
  for (const a of r.message.attributes) {
    if (a.kind === "mp-unreach" && a.nlri.family === "evpn") withdrawnIn += a.nlri.routes.length;
    if (a.kind !== "mp-reach" || a.nlri.family !== "evpn") continue;
    for (const route of a.nlri.routes) {
      routesIn++;
      if (route.routeType === 2) arrive(benchMacIndex(route.mac), t);
    }
  }
}

// ---- the static VTEP ----

const udp = dgram.createSocket("udp4");
udp.bind({ address: o.local, port: 0 }, () => udp.connect(4789, o.proxy, () => say({ event: "ready" })));
const udpFloor = dgram.createSocket("udp4");
udpFloor.bind({ address: o.local, port: 0 }, () => udpFloor.connect(4790, o.proxy));

const percentile = (xs: Float64Array, p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function run(r: Run): Promise<void> {
  const ratio = r.known ? (r.ratio ?? 100) : 1;
  const total = r.count * ratio; // datagrams
  const fresh = Array.from({ length: r.count }, (_, i) =>
    r.nd
      ? ndDatagram(o.vni, r.first + i)
      : r.vnis && r.vnis > 1
        ? arpDatagram(o.vni + (i % r.vnis), r.first + i, (Math.floor(i / r.vnis) % 250) + 1)
        : arpDatagram(o.vni, r.first + i, (i % 250) + 1),
  );
  const known = r.known
    ? Array.from({ length: r.known[1] - r.known[0] }, (_, i) => arpDatagram(o.vni, r.known![0] + i, (i % 250) + 1))
    : [];
  arrived = new Float64Array(r.count);
  sentAt = new Float64Array(r.count);
  runFirst = r.first;
  received = 0;
  lastArrival = 0;
  const tx = r.floor ? udpFloor : udp;
  const t0 = clock();
  let sent = 0;
  let newSent = 0;
  let k = 0;
  // Paced by the clock: each turn sends what is due (at most 512, so that UPDATEs are read in
  // between), then yields to the event loop; at low rates it sleeps until the next datagram is
  // due instead of spinning, so that this process does not hold its core.
  while (sent < total) {
    const due = Math.min(total, Math.floor(((clock() - t0) * r.rate) / 1000) + 1, sent + 512);
    for (; sent < due; sent++) {
      if (sent % ratio === ratio - 1 || ratio === 1) {
        sentAt[newSent] = clock();
        tx.send(fresh[newSent++]!);
      } else {
        tx.send(known[k]!);
        if (++k === known.length) k = 0;
      }
    }
    const wait = t0 + (sent * 1000) / r.rate - clock();
    await new Promise((res) =>
      r.rate <= 20_000 && wait > 0.2 ? setTimeout(res, Math.max(1, Math.floor(wait))) : setImmediate(res),
    );
  }
  const t1 = clock();
  say({ event: "sent", datagrams: sent, newMacs: newSent, ms: t1 - t0, rate: Math.round((sent / (t1 - t0)) * 1000) });
  // Until every new MAC arrived, or 3 s without a new arrival.
  let seen = -1;
  let quietSince = clock();
  while (received < r.count && clock() - quietSince < 3000) {
    if (received !== seen) {
      seen = received;
      quietSince = clock();
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  const lat = new Float64Array(received);
  let j = 0;
  for (let i = 0; i < r.count; i++) if (arrived[i]! > 0) lat[j++] = arrived[i]! - sentAt[i]!;
  lat.sort();
  say({
    event: "result",
    newMacs: r.count,
    received,
    lastMs: received ? lastArrival - t0 : null,
    p50Ms: received ? percentile(lat, 0.5) : null,
    p99Ms: received ? percentile(lat, 0.99) : null,
    maxMs: received ? lat[received - 1] : null,
    routesIn,
    withdrawnIn,
  });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const c = JSON.parse(line) as { cmd: string } & Run;
  if (c.cmd === "run")
    run(c).catch((e: unknown) => {
      say({ event: "error", message: String(e) });
      process.exit(1);
    });
  if (c.cmd === "stop") process.exit(0);
});
