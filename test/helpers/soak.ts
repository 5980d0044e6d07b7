// The soak scenario, shared by bench/soak.ts (30 minutes) and test/integration/soak.test.ts (about
// a minute): `evpn-proxy run` on loopback under steady churn, its footprint sampled throughout.
//
//   this process                                          evpn-proxy (bench/proxy-gc.js: as shipped,
//   VTEP A 127.0.N.3 ─┐ VXLAN ARP                          plus full GC + memoryUsage on SIGUSR2)
//   VTEP B 127.0.N.4 ─┴──────────────────────────────────▶ 127.0.N.1:4789, learning
//   SoakPeer 127.0.0.2 ◀──────────── iBGP, EVPN ─────────▶ 127.0.0.1:<free port>, passive
//   sampler ◀── /proc/PID, /metrics over the API socket ── state saved every 5 s in the work directory
//
// The churn: new MACs at both static VTEPs (never seen again, so they age out), one in
// `moveEvery` of A's moved to B and back (RFC 7432 §15 sequence numbers), stable hosts refreshed
// well within the ageing time (they must be in every initial table), a few MACs bounced between
// A and B until duplicate detection freezes them, new MACs in service vni20; a SIGHUP with a
// changed file every reloadEverySeconds (a static MAC at A added or removed each time, service
// vni20 added or removed every second time); the BGP session flapped every flapEverySeconds (a
// Cease and a close, then a TCP reset, alternating; the peer connects again at once).
// At the end the moving churn stops, everything but the stable hosts ages out, and the peer's
// table, the daemon's learned count and its descriptors are compared with the start.
import dgram from "node:dgram";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import parse from "parse-prometheus-text-format";
import type { EventLoopDelay } from "../../bench/eld.js";
import { arpDatagram, benchMac } from "../../bench/vxlan-arp.js";
import { sample } from "./api.js";
import { daemonYaml, freePort, PEER, SPEAKER } from "./daemon-run.js";
import { procSample } from "./proc-sampler.js";
import { startProbed } from "./proxy-probe.js";
import { LogReader, type LogVerdict } from "./soak-log.js";
import { type SessionRecord, SoakPeer } from "./soak-peer.js";

const STATIC_MAC = "02:00:00:00:ff:01";
/** MAC index ranges (bench/vxlan-arp.ts benchMac): one per kind of churn. */
const STABLE = 0x0100_0000;
const NEW_A = 0x0200_0000;
const NEW_B = 0x0300_0000;
const BOUNCING = 0x0400_0000;
const NEW_20 = 0x0500_0000;

export interface SoakOptions {
  seconds: number;
  /** Loopback addresses 127.0.<net>.1 (VXLAN), .3 and .4 (static VTEPs A and B): one net per concurrent soak. */
  net: number;
  workDir: string;
  reloadEverySeconds: number;
  flapEverySeconds: number;
  /** Peer oscillation damping of the daemon's neighbour (RFC 4271 §8.1.1): the default when absent. */
  damping?: false;
  /** The first flap comes this long after the start (between two reloads). */
  flapOffsetSeconds: number;
  sampleEverySeconds: number;
  /** Full GC + memoryUsage() in the daemon (live memory) this often. */
  gcEverySeconds: number;
  /** Samples before this are left out of the fits. */
  warmupSeconds: number;
  ageingSeconds: number;
  /** freeze-seconds of the daemon (how long a duplicate stays frozen). */
  freezeSeconds: number;
  /** New MACs per second at each static VTEP (vni10). */
  newPerSecond: number;
  vni20PerSecond: number;
  /** One in this many of A's new MACs moves to B after moveAfterSeconds, and back after as long again. */
  moveEvery: number;
  moveAfterSeconds: number;
  stableHosts: number;
  stableRefreshSeconds: number;
  bouncing: number;
  bounceEverySeconds: number;
  /** Progress lines (a sample, a flap, a reload). */
  say?: (line: string) => void;
}

export interface SoakSample {
  /** Seconds since the start. */
  t: number;
  rss: number;
  fds: number;
  cpuSeconds: number;
  /** From /metrics: V8 heap used and total, external memory (no GC forced). */
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** Learned MACs (all services) from /metrics, routes the peer holds. */
  learned: number;
  peerRoutes: number;
  load1: number;
}

/** process.memoryUsage() in the daemon right after two full GCs; its event-loop delay since the previous one. */
export interface GcSample {
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8's compiled code and bytecode, metadata included (in heapUsed). */
  code: { compiled: number; bytecode: number };
  eld: EventLoopDelay;
}

export interface Fit {
  /** Growth per 10 minutes from the least-squares line through the samples after the warm-up. */
  per10Min: number;
  samples: number;
  first: number;
  last: number;
  min: number;
  max: number;
}

export interface SoakResult {
  node: string;
  samples: SoakSample[];
  gc: GcSample[];
  sessions: SessionRecord[];
  reloadsSent: number;
  log: LogVerdict;
  logFile: string;
  sent: { datagrams: number; newMacs: number; moves: number; vni20: number; refreshes: number; bounces: number };
  fits: {
    rss: Fit;
    heapUsed: Fit;
    live: Fit;
    /** Compiled code and bytecode with their metadata, after GC (in live). */
    code: Fit;
    /** Live memory less that code: the daemon's own data. */
    data: Fit;
    liveRss: Fit;
    fds: Fit;
  };
  /** After the churn stopped and the rest aged out. */
  final: {
    fdsBaseline: number;
    fdsEnd: number;
    /** Learned MAC routes the peer holds that are not stable hosts, stable ones it lacks. */
    peerExtra: string[];
    peerMissing: string[];
    daemonLearned: number;
  };
  daemonCpuSeconds: number;
  exitCode: number | null;
}

function getText(socket: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // agent: false — one connection per request, closed after it (no keep-alive descriptor in the daemon).
    const req = http.request({ socketPath: socket, path, agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (b: Buffer) => chunks.push(b));
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} within 15 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** utime + stime of /proc/PID/stat (fields 14 and 15, after the parenthesised name), seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
}

/** The slope of the least-squares line through (xs, ys). */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

function fit(ts: number[], ys: number[], scale: number): Fit {
  return {
    per10Min: (slope(ts, ys) * 600) / scale,
    samples: ys.length,
    first: (ys[0] ?? NaN) / scale,
    last: (ys[ys.length - 1] ?? NaN) / scale,
    min: Math.min(...ys) / scale,
    max: Math.max(...ys) / scale,
  };
}

const MIB = 2 ** 20;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const say = o.say ?? (() => undefined);
  const vxlan = `127.0.${o.net}.1`;
  const A = `127.0.${o.net}.3`;
  const B = `127.0.${o.net}.4`;
  const port = await freePort(SPEAKER);
  const file = join(o.workDir, "proxy.yaml");
  const socket = join(o.workDir, "api.sock");
  const memFile = join(o.workDir, "memory.json");
  const logFile = join(o.workDir, "evpn-proxy.log");
  // daemonYaml's extra continues the file after vni10's static VTEPs: service vni20 first.
  const config = (staticMac: boolean, vni20: boolean) =>
    daemonYaml(
      port,
      [A, B],
      staticMac ? [STATIC_MAC] : [],
      `${vni20 ? `  - name: vni20\n    evi: 20\n    vni: 20\n    static-vteps:\n      - address: ${A}\n` : ""}learning:
  vxlan-listen: ${vxlan}
  include-ip: true
  mac-ageing-seconds: ${o.ageingSeconds}
  max-moves: 5
  move-window-seconds: 180
  freeze-seconds: ${o.freezeSeconds}
  max-learn-rate: 100000
  max-macs-per-vtep: 100000
management:
  socket: ${socket}
state-save-seconds: 5
`,
      join(o.workDir, "state"),
      o.damping === false ? "    damping: false\n" : "",
    );
  writeFileSync(file, config(false, true));

  const bouncing = new Set(Array.from({ length: o.bouncing }, (_, i) => benchMac(BOUNCING + i)));
  const logs = new LogReader({ peer: PEER, bouncing });
  const logOut = createWriteStream(logFile);
  const daemon = startProbed(file, memFile);
  const child = daemon.child;
  for (const st of [child.stdout!, child.stderr!])
    st.on("data", (b: Buffer) => {
      logOut.write(b);
      logs.push(b.toString());
    });
  const pid = child.pid!;

  const t0 = Date.now();
  const now = () => (Date.now() - t0) / 1000;
  const stableAt = (i: number) => (i % 2 === 0 ? A : B);
  const stableKeys = Array.from({ length: o.stableHosts }, (_, i) => `${stableAt(i)}:10 ${benchMac(STABLE + i)} -`);
  const confirmed = new Set<string>();
  const peer = new SoakPeer(port, t0, () => [`imet ${A}:10`, `imet ${B}:10`, ...confirmed]);

  const senders = { [A]: dgram.createSocket("udp4"), [B]: dgram.createSocket("udp4") };
  const sent = { datagrams: 0, newMacs: 0, moves: 0, vni20: 0, refreshes: 0, bounces: 0 };
  const samples: SoakSample[] = [];
  const gc: GcSample[] = [];
  let ticker: NodeJS.Timeout | undefined;
  let reloadsSent = 0;
  try {
    await Promise.all(
      Object.entries(senders).map(([a, s]) => new Promise<void>((r) => s.bind({ address: a, port: 0 }, r))),
    );
    const send = (from: string, vni: number, k: number) => {
      senders[from]!.send(arpDatagram(vni, k, 1 + (k % 250)), 4789, vxlan);
      sent.datagrams++;
    };
    await peer.connect("first", 0);
    say(`${now().toFixed(0)} s: session 1 up`);

    // ---- the churn, every 100 ms ----
    let owedNew = 0;
    let owed20 = 0;
    let owedStable = 0;
    let nextStable = 0;
    let nextBounce = 0;
    let bounceSide = 0;
    let churn = true;
    const moves: { due: number; k: number; to: string; back: boolean }[] = [];
    ticker = setInterval(() => {
      const t = now();
      if (churn) {
        for (owedNew += o.newPerSecond / 10; owedNew >= 1; owedNew--, sent.newMacs++) {
          const k = sent.newMacs;
          send(A, 10, NEW_A + k);
          send(B, 10, NEW_B + k);
          if (k % o.moveEvery === 0) moves.push({ due: t + o.moveAfterSeconds, k: NEW_A + k, to: B, back: true });
        }
        for (owed20 += o.vni20PerSecond / 10; owed20 >= 1; owed20--, sent.vni20++) send(A, 20, NEW_20 + sent.vni20);
        while (moves.length > 0 && moves[0]!.due <= t) {
          const m = moves.shift()!;
          send(m.to, 10, m.k);
          sent.moves++;
          if (m.back) moves.push({ due: t + o.moveAfterSeconds, k: m.k, to: A, back: false });
        }
        if (o.bouncing > 0 && t >= nextBounce) {
          nextBounce = t + o.bounceEverySeconds;
          bounceSide ^= 1;
          for (let i = 0; i < o.bouncing; i++, sent.bounces++) send(bounceSide ? B : A, 10, BOUNCING + i);
        }
      }
      for (owedStable += o.stableHosts / o.stableRefreshSeconds / 10; owedStable >= 1; owedStable--) {
        const i = nextStable;
        nextStable = (nextStable + 1) % o.stableHosts;
        send(stableAt(i), 10, STABLE + i);
        sent.refreshes++;
      }
    }, 100);

    // ---- sampling, reloads and flaps ----
    const takeSample = async () => {
      for (const k of stableKeys) if (!confirmed.has(k) && peer.table.has(k)) confirmed.add(k);
      const p = procSample(pid);
      const cpu = cpuSeconds(pid);
      const m = parse(await getText(socket, "/metrics"));
      const learned = m
        .find((f) => f.name === "evpn_proxy_macs")
        ?.metrics.filter((x) => x.labels?.["source"] === "learned")
        .reduce((a, x) => a + Number(x.value), 0);
      const s: SoakSample = {
        t: now(),
        rss: p.rssBytes,
        fds: p.fds,
        cpuSeconds: cpu,
        heapUsed: sample(m, "evpn_proxy_nodejs_heap_size_used_bytes") ?? NaN,
        heapTotal: sample(m, "evpn_proxy_nodejs_heap_size_total_bytes") ?? NaN,
        external: sample(m, "evpn_proxy_nodejs_external_memory_bytes") ?? NaN,
        learned: learned ?? NaN,
        peerRoutes: peer.table.size,
        load1: loadavg()[0]!,
      };
      samples.push(s);
      return s;
    };
    const takeGc = async () => {
      gc.push({ t: now(), ...(await daemon.probe()) });
    };

    let nextSample = 0;
    let nextGc = o.gcEverySeconds;
    let nextReload = o.reloadEverySeconds;
    let nextFlap = o.flapOffsetSeconds;
    let flaps = 0;
    while (now() < o.seconds) {
      const t = now();
      if (t >= nextSample) {
        nextSample += o.sampleEverySeconds;
        const s = await takeSample();
        say(
          `${s.t.toFixed(0)} s: RSS ${(s.rss / MIB).toFixed(1)} MiB, heap ${(s.heapUsed / MIB).toFixed(1)} MiB, ` +
            `${s.fds} fds, ${s.learned} learned, peer holds ${s.peerRoutes} routes, load ${s.load1}`,
        );
      }
      if (t >= nextGc) {
        nextGc += o.gcEverySeconds;
        await takeGc();
        const g = gc[gc.length - 1]!;
        say(
          `${g.t.toFixed(0)} s: after GC heap ${(g.heapUsed / MIB).toFixed(2)} MiB (code and bytecode ` +
            `${((g.code.compiled + g.code.bytecode) / MIB).toFixed(2)}), RSS ${(g.rss / MIB).toFixed(1)} MiB`,
        );
      }
      if (t >= nextReload) {
        nextReload += o.reloadEverySeconds;
        reloadsSent++;
        writeFileSync(file, config(reloadsSent % 2 === 1, Math.floor(reloadsSent / 2) % 2 === 0));
        child.kill("SIGHUP");
      }
      if (t >= nextFlap) {
        nextFlap += o.flapEverySeconds;
        const how = flaps++ % 2 === 0 ? "close" : "reset";
        await peer.flap(how);
        await peer.connect(how, Math.round(t * 1000));
        const s = peer.sessions[peer.sessions.length - 1]!;
        say(`${now().toFixed(0)} s: flap ${flaps} (${how}), session ${s.n} up after ${s.attempts} attempt(s)`);
      }
      await sleep(50);
    }

    // ---- the end: churn stops, all but the stable hosts age out ----
    // A bounced MAC frozen in the last seconds is released freezeSeconds later and then ages.
    churn = false;
    await sleep((o.freezeSeconds + o.ageingSeconds + 5) * 1000 + 1000 * Math.max(0, o.moveAfterSeconds));
    const last = await takeSample();
    await takeGc();
    // A descriptor open for a moment (a state save in progress) is not growth: the least of five
    // readings 200 ms apart.
    let fdsEnd = last.fds;
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      fdsEnd = Math.min(fdsEnd, procSample(pid).fds);
    }
    const held = [...peer.table].filter((k) => !k.startsWith("imet ") && !k.includes(STATIC_MAC) && k.endsWith(" -"));
    const stable = new Set(stableKeys);
    const final = {
      fdsBaseline: samples[0]!.fds,
      fdsEnd,
      peerExtra: held.filter((k) => !stable.has(k)),
      peerMissing: stableKeys.filter((k) => !peer.table.has(k)),
      daemonLearned: last.learned,
    };
    await peer.flap("close");
    const daemonCpuSeconds = cpuSeconds(pid);
    child.kill("SIGTERM");
    const exitCode = await daemon.exited;
    await new Promise<void>((r) => logOut.end(r));

    const warm = samples.filter((s) => s.t >= o.warmupSeconds && s.t <= o.seconds);
    const warmGc = gc.filter((s) => s.t >= o.warmupSeconds && s.t <= o.seconds);
    const fitOf = <T extends { t: number }>(xs: T[], y: (x: T) => number, scale = MIB) =>
      fit(
        xs.map((x) => x.t),
        xs.map(y),
        scale,
      );
    return {
      node: process.version,
      samples,
      gc,
      sessions: peer.sessions,
      reloadsSent,
      log: logs.end(),
      logFile,
      sent,
      fits: {
        rss: fitOf(warm, (s) => s.rss),
        heapUsed: fitOf(warm, (s) => s.heapUsed),
        live: fitOf(warmGc, (s) => s.heapUsed + s.arrayBuffers),
        code: fitOf(warmGc, (s) => s.code.compiled + s.code.bytecode),
        data: fitOf(warmGc, (s) => s.heapUsed + s.arrayBuffers - s.code.compiled - s.code.bytecode),
        liveRss: fitOf(warmGc, (s) => s.rss),
        fds: fitOf(warm, (s) => s.fds, 1),
      },
      final,
      daemonCpuSeconds,
      exitCode,
    };
  } finally {
    if (ticker) clearInterval(ticker);
    for (const s of Object.values(senders)) s.close();
    if (peer.up) await peer.flap("reset").catch(() => undefined);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
