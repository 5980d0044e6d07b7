// A child process that floods a VXLAN port with ARP-in-VXLAN at a fixed rate through the native
// sendmmsg(2) sender (src/dataplane/io/vxlan-sender.ts, "proxy" mode: every datagram leaves from
// the socket bound to `from`), pacing itself by the clock: each turn sends what is due, in
// batches of 1,024, then yields. The mix, by datagram index i:
//   i % garbageEvery === 0       garbage, cycling over GARBAGE (each counted by the receiver)
//   i % newEvery === 1           ARP from a new MAC (bench/vxlan-arp.ts index newFrom, newFrom+1, …)
//   otherwise                    ARP from a known MAC, cycling over indexes [0, known)
// A newEvery or garbageEvery of 0 leaves that kind out. Prints one JSON line when done:
//   {"datagrams","known","new","garbage","ms","rate","dropped","errors"}
// Usage: node vxlan-flood.js '{"from":"127.0.0.44","to":"127.0.0.43","vni":10,"rate":200000,
//          "seconds":5,"known":10000,"newEvery":20,"garbageEvery":20,"newFrom":1000000}'
import { performance } from "node:perf_hooks";
import { arpDatagram } from "../../bench/vxlan-arp.js";
import { VxlanSender } from "../../src/dataplane/io/vxlan-sender.js";

export interface FloodOptions {
  from: string;
  to: string;
  vni: number;
  rate: number;
  seconds: number;
  known: number;
  newEvery: number;
  garbageEvery: number;
  newFrom: number;
}

export interface FloodResult {
  datagrams: number;
  known: number;
  new: number;
  garbage: number;
  ms: number;
  rate: number;
  dropped: number;
  errors: Record<string, number>;
}

/** Datagrams the proxy must count and skip, never learn from (RFC 7348 §5, RFC 826). */
function garbage(vni: number): Uint8Array[] {
  const arp = arpDatagram(vni, 0xfffff0, 1);
  const noI = arp.slice();
  noI[0] = 0; // I flag clear: no valid VNI
  const short = arp.slice(0, 8 + 14 + 10); // ARP cut short
  const badHlen = arp.slice();
  badHlen[8 + 14 + 4] = 8; // hardware address length 8
  const ipv4 = arp.slice();
  ipv4[20] = 0x08; // EtherType IPv4 with an ARP body: not ARP/ND
  ipv4[21] = 0x00;
  const otherVni = arpDatagram(vni + 1000, 0xfffff1, 1); // a VNI no service has
  const noise = Uint8Array.from({ length: 68 }, (_, i) => (i * 37 + 11) & 0xff);
  return [noI, short, badHlen, ipv4, otherVni, noise];
}

export async function flood(o: FloodOptions): Promise<FloodResult> {
  const tx = new VxlanSender({ mode: "proxy", local: o.from, sender: "native", payloadBytes: 1 << 20 });
  await tx.start();
  const to = Uint8Array.from(o.to.split(".").map(Number));
  const known = Array.from({ length: o.known }, (_, k) => arpDatagram(o.vni, k, 1 + (k % 250)));
  const bad = garbage(o.vni);
  const total = Math.round(o.rate * o.seconds);
  const counts = { known: 0, new: 0, garbage: 0, dropped: 0 };
  let sent = 0;
  let k = 0;
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * o.rate) / 1000) + 1);
    for (; sent < due; sent++) {
      let d: Uint8Array;
      if (o.garbageEvery && sent % o.garbageEvery === 0) {
        d = bad[counts.garbage++ % bad.length]!;
      } else if (o.newEvery && sent % o.newEvery === 1) {
        d = arpDatagram(o.vni, o.newFrom + counts.new, 1 + (counts.new % 250));
        counts.new++;
      } else {
        d = known[k]!;
        if (++k === known.length) k = 0;
        counts.known++;
      }
      tx.add(tx.payload(d), d.length, to, to, 0);
    }
    counts.dropped += tx.flush().dropped;
    await new Promise((r) => setImmediate(r));
  }
  const ms = performance.now() - t0;
  return {
    datagrams: sent,
    ...counts,
    ms: Math.round(ms),
    rate: Math.round((sent / ms) * 1000),
    errors: { ...tx.counters.errors },
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const r = await flood(JSON.parse(process.argv[2] ?? "{}") as FloodOptions);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}
