// Benchmark: the ARP/ND proxy's answer path in src/wire alone, without a table or sockets:
// decode the request in a VXLAN datagram (decodeArpNdInto) and build the whole answer datagram
// (reply or NA, VXLAN header, source port, outer IPv4 or IPv6 + UDP header) into one buffer.
// Run: npx tsc -p . --outDir dist-bench && node dist-bench/bench/wire-arpnd.js
//   BENCH_N: answers per case (default 5,000,000).
//
// Input: 4,096 distinct requests (ARP: 198.51.100.x asking for 198.51.100.y; ND: NS for
// 2001:db8:100::y with SLLA), read round-robin. The answered MAC comes from a typed-array column
// indexed by the low byte of the target, standing in for the table. Cases:
//   arp-v4:     ARP request -> ARP reply over outer IPv4, key = the target's last byte read from buf
//   arp-v4-txt: the same with the text key targetIpText() (one string per request)
//   ns-v6:      NS -> NA over outer IPv6 (ICMPv6 and UDP checksums computed)
// Reported per case: answers per second on one core and the number of young-generation
// collections (scavenges) during the timed loop: 0 means nothing was allocated per answer.
import { PerformanceObserver, performance } from "node:perf_hooks";
import { decodeArpNdInto, NA_OVERRIDE, newArpNdMessage } from "../src/wire/arpnd.js";
import {
  buildArpReply,
  buildNaReply,
  buildOuterIpv4Udp,
  buildOuterIpv6Udp,
  buildVxlanHeader,
  OUTER_IPV4_UDP_LENGTH,
  OUTER_IPV6_UDP_LENGTH,
  VXLAN_HEADER_LENGTH,
  vxlanSourcePort,
} from "../src/wire/frames.js";

const N = Number(process.env["BENCH_N"] ?? 5_000_000);
const COUNT = 4096;
const SLOT = 128;

/** COUNT requests, each a VXLAN datagram in a SLOT-byte slot of one buffer. */
function requests(v6: boolean): Uint8Array {
  const b = new Uint8Array(COUNT * SLOT);
  for (let i = 0; i < COUNT; i++) {
    const o = i * SLOT;
    b.set([0x08, 0, 0, 0, 0, 0, 10, 0], o);
    const e = o + 8;
    const mac = [0x02, 0, 0, 0, i >> 8, i & 255];
    const y = (i * 7 + 3) & 255;
    if (!v6) {
      b.set([255, 255, 255, 255, 255, 255, ...mac, 0x08, 0x06], e);
      b.set([0, 1, 8, 0, 6, 4, 0, 1, ...mac, 198, 51, 100, i & 255, 0, 0, 0, 0, 0, 0, 198, 51, 100, y], e + 14);
      continue;
    }
    const src = [0x20, 0x01, 0x0d, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 255];
    const target = [0x20, 0x01, 0x0d, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, y];
    const dst = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, y];
    b.set([0x33, 0x33, 0xff, 0, 0, y, ...mac, 0x86, 0xdd], e);
    b.set([0x60, 0, 0, 0, 0, 32, 58, 255, ...src, ...dst], e + 14);
    const icmp = e + 54;
    b.set([135, 0, 0, 0, 0, 0, 0, 0, ...target, 1, 1, ...mac], icmp);
    let s = 32 + 58;
    for (let k = e + 22; k < icmp + 32; k += 2) s += (b[k]! << 8) | b[k + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    b[icmp + 2] = (~s >> 8) & 255;
    b[icmp + 3] = ~s & 255;
  }
  return b;
}

let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
}).observe({ entryTypes: ["gc"] });

const macs = new Uint8Array(256 * 6);
for (let i = 0; i < 256; i++) macs.set([0x02, 0, 0, 0, 0xaa, i], i * 6);
const byText = new Map<string, number>();
for (let i = 0; i < 256; i++) byText.set(`198.51.100.${i}`, i);
const out = new Uint8Array(256);
const V6_SRC = new Uint8Array(16).fill(0x11);
const V6_DST = new Uint8Array(16).fill(0x22);

type Answer = (b: Uint8Array, off: number) => number;

/** Observers report collections asynchronously, some time after they happened. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 100));
}

async function run(name: string, reqs: Uint8Array, answer: Answer): Promise<void> {
  for (let i = 0; i < 200_000; i++) answer(reqs, (i % COUNT) * SLOT); // warm-up
  await settle(); // the warm-up's collections (code not yet optimised allocates) are counted before
  const before = scavenges;
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) bytes += answer(reqs, (i % COUNT) * SLOT);
  const ms = performance.now() - t0;
  await settle();
  const rate = Math.round(N / (ms / 1000));
  console.log(
    `${name.padEnd(11)} ${rate.toLocaleString("en")} answers/s  ${((ms * 1e6) / N).toFixed(0)} ns/answer` +
      `  scavenges ${scavenges - before}  (${(bytes / N).toFixed(0)} bytes/answer)`,
  );
}

const m = newArpNdMessage();

const arpV4 = (text: boolean): Answer => {
  return (b, off) => {
    if (decodeArpNdInto(m, b, off + 8, off + SLOT) !== null || !m.isRequest()) return 0;
    const slot = text ? byText.get(m.targetIpText())! : b[m.targetIp + 3]!;
    const inner = OUTER_IPV4_UDP_LENGTH + VXLAN_HEADER_LENGTH;
    const n = buildArpReply(out, inner, m, macs, slot * 6);
    buildVxlanHeader(out, OUTER_IPV4_UDP_LENGTH, 10);
    const port = vxlanSourcePort(out, inner);
    return buildOuterIpv4Udp(out, 0, 0xc0000204, 0xc0000201, port, 4789, VXLAN_HEADER_LENGTH + n, 64, off) + 8 + n;
  };
};

const nsV6: Answer = (b, off) => {
  if (decodeArpNdInto(m, b, off + 8, off + SLOT) !== null || !m.isRequest()) return 0;
  const slot = b[m.targetIp + 15]!;
  const inner = OUTER_IPV6_UDP_LENGTH + VXLAN_HEADER_LENGTH;
  const n = buildNaReply(out, inner, m, macs, slot * 6, NA_OVERRIDE);
  buildVxlanHeader(out, OUTER_IPV6_UDP_LENGTH, 10);
  const port = vxlanSourcePort(out, inner);
  return buildOuterIpv6Udp(out, 0, V6_SRC, V6_DST, port, 4789, VXLAN_HEADER_LENGTH + n, 64) + 8 + n;
};

const v4 = requests(false);
const v6 = requests(true);
if (arpV4(false)(v4, 0) === 0 || nsV6(v6, 0) === 0) throw new Error("a request did not decode");
await run("arp-v4", v4, arpV4(false));
await run("arp-v4-txt", v4, arpV4(true));
await run("ns-v6", v6, nsV6);
