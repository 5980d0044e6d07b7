// Benchmark: the management API with 1,000,000 learned MACs (issue 13, acceptance 6), loopback only:
//   flock /tmp/evpn-lab.lock node dist/bench/api-paging.js
//
// `evpn-proxy run` as shipped learns 1,000,000 MACs (ARP replies in VXLAN from 10 static VTEPs,
// 127.0.1.1–10, 100,000 each, include-ip true) while a BGP peer (this process, hold time 3 s:
// a KEEPALIVE every second) receives its routes. Then, measured one after the other:
//   (a) /metrics: 5 scrapes over TCP, each timed;
//   (b) the MAC table paged through the API socket, limit 500 (the default and what `show` asks), 1,000 and 5,000: total time, slowest page;
//   (c) `evpn-proxy show evpn macs --json` and the table, as processes, to /dev/null: wall time;
// and during each, the daemon's own event-loop delay (monitorEventLoopDelay, 10 ms resolution:
// its p99 and max, read from /metrics, whose collector resets them at each scrape) and the
// largest gap between two KEEPALIVEs the peer received (1 s apart when nothing delays them).
//   BENCH_MACS (1000000) overrides the size.
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import parse from "parse-prometheus-text-format";
import { apiRequest } from "../src/cli/api-client.js";
import { NODE_FLAGS } from "../src/cli/node-flags.js";
import { type Capability, encodeMessage, KEEPALIVE, makeOpen } from "../src/codec/index.js";
import { arpReply, sample } from "../test/helpers/api.js";
import { freePort, start } from "../test/helpers/daemon-run.js";

const MACS = Number(process.env["BENCH_MACS"] ?? 1_000_000);
const VTEPS = 10;
const VXLAN = "127.0.0.44";
const MAIN = new URL("../src/cli/main.js", import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-bench-api-"));
const socket = join(dir, "api.sock");
const bgpPort = await freePort("127.0.0.1");
const httpPort = await freePort("127.0.0.1");
const vteps = Array.from({ length: VTEPS }, (_, i) => `127.0.1.${i + 1}`);
writeFileSync(
  join(dir, "proxy.yaml"),
  `router-id: 192.0.2.4
local-as: 65000
listen: {address: 127.0.0.1, port: ${bgpPort}}
neighbors:
  - {address: 127.0.0.2, peer-as: 65000, passive: true}
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
${vteps.map((v) => `      - address: ${v}`).join("\n")}
learning:
  vxlan-listen: ${VXLAN}
  mac-ageing-seconds: 86400
  max-macs-per-vtep: 1000000
  max-macs-per-vni: 10000000
  max-learn-rate: 1000000
management:
  socket: ${socket}
  http: {port: ${httpPort}}
`,
);

const d = start(join(dir, "proxy.yaml"));
const keepalives: number[] = [];
let peer: net.Socket | undefined;
try {
  // The BGP peer: OPEN (hold 3 s), KEEPALIVE, then only message headers are read.
  for (let i = 0; i < 100 && !peer; i++) {
    peer = await new Promise<net.Socket | undefined>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port: bgpPort, localAddress: "127.0.0.2" }, () => resolve(s));
      s.once("error", () => resolve(undefined));
    });
    if (!peer) await sleep(100);
  }
  if (!peer) throw new Error(`the daemon never listened:\n${d.out.join("")}`);
  const caps: Capability[] = [{ code: 1, afi: 25, safi: 70 }, { code: 2 }, { code: 65, asn: 65000 }];
  peer.write(encodeMessage(makeOpen({ asn: 65000, holdTime: 3, bgpId: "192.0.2.254", capabilities: caps })));
  peer.write(encodeMessage(KEEPALIVE));
  let buf: Buffer = Buffer.alloc(0);
  peer.on("data", (b: Buffer) => {
    buf = buf.length === 0 ? b : Buffer.concat([buf, b]);
    let off = 0;
    while (buf.length - off >= 19) {
      const len = buf.readUInt16BE(off + 16);
      if (buf.length - off < len) break;
      if (buf[off + 18] === 4) keepalives.push(performance.now());
      off += len;
    }
    buf = buf.subarray(off);
  });
  const ka = setInterval(() => peer!.write(encodeMessage(KEEPALIVE)), 1000);

  const learned = async () => {
    const r = await apiRequest(socket, "GET", "/api/v1/learning/counters");
    return (r.body as { learned: { macs: number } }).learned.macs;
  };
  for (let i = 0; i < 100; i++)
    if ((await learned().catch(() => -1)) >= 0) break;
    else await sleep(100);

  // Learning: every MAC once per pass, paced; a second pass for what the kernel dropped.
  const t0 = performance.now();
  const senders = await Promise.all(
    vteps.map(async (address) => {
      const s = dgram.createSocket("udp4");
      await new Promise<void>((r) => s.bind({ address, port: 0 }, () => r()));
      return s;
    }),
  );
  for (let pass = 0; pass < 3 && (await learned()) < MACS; pass++)
    for (let i = 0; i < MACS; i += 2000) {
      const sent: Promise<void>[] = [];
      for (let k = i; k < Math.min(MACS, i + 2000); k++) {
        const mac = `02:${[k >>> 24, k >>> 16, k >>> 8, k].map((x) => (x & 255).toString(16).padStart(2, "0")).join(":")}:01`;
        const frame = arpReply(mac, `10.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`);
        sent.push(new Promise((r) => senders[k % VTEPS]!.send(frame, 4789, VXLAN, () => r())));
      }
      await Promise.all(sent);
      await sleep(8);
    }
  for (const s of senders) s.close();
  const n = await learned();
  const learnSeconds = (performance.now() - t0) / 1000;
  console.log(`learned ${n} MACs in ${learnSeconds.toFixed(1)} s (includes pacing)`);
  await sleep(3000); // the routes reach the peer

  const metrics = async () => parse(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
  /** Runs `work`, then reads the daemon's event-loop delay since the scrape before it, and the KEEPALIVE gaps. */
  const measured = async (name: string, work: () => Promise<string>) => {
    await metrics(); // resets the delay histogram of the default metrics
    const k0 = keepalives.length;
    const w0 = performance.now();
    const detail = await work();
    const ms = performance.now() - w0;
    const m = await metrics();
    const p99 = sample(m, "evpn_proxy_nodejs_eventloop_lag_p99_seconds")! * 1000;
    const max = sample(m, "evpn_proxy_nodejs_eventloop_lag_max_seconds")! * 1000;
    const ks = keepalives.slice(Math.max(0, k0 - 1));
    let gap = 0;
    for (let i = 1; i < ks.length; i++) gap = Math.max(gap, ks[i]! - ks[i - 1]!);
    console.log(
      `${name}: ${(ms / 1000).toFixed(2)} s ${detail}; event-loop delay p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; ` +
        `largest KEEPALIVE gap ${gap.toFixed(0)} ms (${ks.length} KEEPALIVEs)`,
    );
  };

  await measured("(a) /metrics x5", async () => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      bytes = (await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).length;
      times.push(performance.now() - s);
    }
    return `(each: ${times.map((t) => t.toFixed(0)).join(", ")} ms; ${bytes} bytes)`;
  });
  for (const limit of [500, 1000, 5000])
    await measured(`(b) API pages of ${limit}`, async () => {
      let cursor: string | null = null;
      let rows = 0;
      let pages = 0;
      let slowest = 0;
      do {
        const s = performance.now();
        const r = await apiRequest(
          socket,
          "GET",
          `/api/v1/evpn/macs?limit=${limit}${cursor === null ? "" : `&cursor=${cursor}`}`,
        );
        slowest = Math.max(slowest, performance.now() - s);
        const page = r.body as { items: unknown[]; nextCursor: string | null };
        rows += page.items.length;
        pages++;
        cursor = page.nextCursor;
      } while (cursor !== null);
      return `(${rows} MACs, ${pages} pages, slowest page ${slowest.toFixed(0)} ms)`;
    });
  for (const json of [true, false])
    await measured(`(c) evpn-proxy show evpn macs${json ? " --json" : ""}`, async () => {
      const out = openSync("/dev/null", "w");
      const args = [...NODE_FLAGS, MAIN, "show", "evpn", "macs", "--socket", socket, ...(json ? ["--json"] : [])];
      const child = spawn(process.execPath, args, { stdio: ["ignore", out, "inherit"] });
      const code = await new Promise((r) => child.on("exit", r));
      return `(exit ${String(code)})`;
    });
  const rss = (await metrics()).find((f) => f.name === "evpn_proxy_process_resident_memory_bytes");
  console.log(`daemon RSS ${(Number(rss?.metrics[0]?.value) / 2 ** 20).toFixed(0)} MiB`);
  clearInterval(ka);
} finally {
  peer?.destroy();
  d.child.kill("SIGTERM");
  await d.exited;
  rmSync(dir, { recursive: true, force: true });
}
