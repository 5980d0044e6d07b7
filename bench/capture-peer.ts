// The far side of bench/capture-flood.ts, in namespace vt: a BGP peer (passive; the proxy
// connects) that offers a 3-second hold time and sends a KEEPALIVE every second, and a static
// VTEP that floods VXLAN-carried ARP requests to an address beyond the proxy's interface (the
// proxy only captures them). JSON lines: arguments in argv, commands on stdin, events on stdout.
//   node capture-peer.js '{"local":"192.0.2.1","to":"192.0.2.3","as":65000,"vni":10}'
//   stdin: {"cmd":"flood","rate":200000,"seconds":30,"known":100000,"newEvery":100}
//            every newEvery-th datagram a new MAC (from index 10,000,000), the others cycle over
//            MAC indexes [0, known)
//          {"cmd":"status"}   the session as the peer saw it
import dgram from "node:dgram";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { encodeMessage, KEEPALIVE, makeOpen, MessageFramer } from "../src/codec/index.js";
import { arpDatagram } from "./vxlan-arp.js";

const o = JSON.parse(process.argv[2] ?? "{}") as { local: string; to: string; as: number; vni: number };
const say = (x: object): void => void process.stdout.write(`${JSON.stringify(x)}\n`);
const clock = (): number => performance.now();
const HOLD = 3;

const session = {
  established: 0,
  closed: 0,
  notifications: [] as { code: number; subcode: number }[],
  updates: 0,
  /** Longest time between two messages from the proxy once established (keepalives every second). */
  maxGapMs: 0,
};
let last = 0;

net
  .createServer({ noDelay: true }, (sock) => {
    const framer = new MessageFramer(65535);
    sock.write(
      encodeMessage(
        makeOpen({
          asn: o.as,
          holdTime: HOLD,
          bgpId: o.local,
          capabilities: [{ code: 1, afi: 25, safi: 70 }, { code: 2 }, { code: 65, asn: o.as }],
        }),
      ),
    );
    let up = false;
    const keepalive = setInterval(() => sock.write(encodeMessage(KEEPALIVE)), 1000);
    sock.on("data", (b: Buffer) => {
      const t = clock();
      if (up) session.maxGapMs = Math.max(session.maxGapMs, t - last);
      last = t;
      framer.push(b);
      for (let f = framer.next(); f; f = framer.next()) {
        if (!f.ok) throw f.error;
        const type = f.frame[18];
        if (type === 1) sock.write(encodeMessage(KEEPALIVE));
        else if (type === 4 && !up) {
          up = true;
          session.established++;
          say({ event: "established" });
        } else if (type === 3) session.notifications.push({ code: f.frame[19]!, subcode: f.frame[20]! });
        else if (type === 2) session.updates++;
      }
    });
    sock.on("close", () => {
      clearInterval(keepalive);
      if (up) session.closed++;
      say({ event: "closed" });
    });
    sock.on("error", () => undefined);
  })
  .listen(179, o.local, () => say({ event: "listening" }));

const udp = dgram.createSocket("udp4");
udp.bind({ address: o.local, port: 0 }, () => udp.connect(4789, o.to));

async function flood(c: { rate: number; seconds: number; known: number; newEvery: number }): Promise<void> {
  const total = c.rate * c.seconds;
  const known = Array.from({ length: c.known }, (_, i) => arpDatagram(o.vni, i, (i % 250) + 1));
  const fresh = Array.from({ length: Math.ceil(total / c.newEvery) }, (_, i) =>
    arpDatagram(o.vni, 10_000_000 + i, (i % 250) + 1),
  );
  const t0 = clock();
  let sent = 0;
  let k = 0;
  let n = 0;
  // Paced by the clock: each turn sends what is due (at most 512), then yields to the event loop.
  while (sent < total) {
    const due = Math.min(total, Math.floor(((clock() - t0) * c.rate) / 1000) + 1, sent + 512);
    for (; sent < due; sent++) {
      if (sent % c.newEvery === c.newEvery - 1) udp.send(fresh[n++]!);
      else {
        udp.send(known[k]!);
        if (++k === known.length) k = 0;
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  const ms = clock() - t0;
  say({ event: "flooded", datagrams: sent, newMacs: n, ms: Math.round(ms), rate: Math.round((sent / ms) * 1000) });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const c = JSON.parse(line) as { cmd: string; rate: number; seconds: number; known: number; newEvery: number };
  if (c.cmd === "flood") void flood(c);
  if (c.cmd === "status") say({ event: "status", ...session, maxGapMs: Math.round(session.maxGapMs) });
});
