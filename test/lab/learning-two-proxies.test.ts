// Two proxies learning side by side (issue 5, acceptance point 5), in the seed's topology
// (lab/seed.ts) plus a second proxy namespace "px2" (192.0.2.5) on the underlay bridge. Both run
// with `learning:` (vxlan-listen on their own address, include-ip) and no configured MAC; the
// static VTEPs s1/s2 flood to both. The RR accepts px2 through `bgp listen range`.
//
// 1. After h10s1/h10s2 ping EVPN hosts, both proxies log the learning announce of each MAC, and the
//    RR has each MAC route twice (one path per proxy, same RD, same attributes: identical routes).
// 2. Proxy 1 stops (SIGTERM): from the signal until 3 s after its exit the FRR VTEPs keep both MACs
//    remote at their static VTEPs and their flood lists unchanged; every VNI 10 host pair pings.
// 3. Proxy 1 restarts and learns again (two paths at the RR again); then proxy 2 stops: the same.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EVPN_VTEPS,
  type Host,
  PROXY_IP,
  proxyArgv,
  STATIC_VTEPS,
  UNDERLAY_IF,
  formatMatrix,
  proxyLogLines,
  startProxy,
  writeProxyConfig,
} from "../../lab/seed.js";
import { requireTools } from "../helpers/env.js";
import {
  E1,
  E2,
  H1,
  H2,
  LEARNING_LAB_TOOLS,
  learningConfigYaml,
  S1,
  S2,
  VNI,
  buildLearningLab,
} from "./learning-fixtures.js";
import { labNote, labSteps } from "../helpers/lab-steps.js";
import { type FrrEvpnPath, type Lab, type LabProcess, sleep, withLab } from "../../tools/netlab/index.js";

const PREFIX = "t5pp";
const PROXY2_IP = "192.0.2.5";
const LEARNED: [Host, string][] = [
  [H1, S1],
  [H2, S2],
];

/** The fields of an RR path that say what the route is (not which peer sent it, nor when). */
function pathAttrs(p: FrrEvpnPath): string {
  const keep = [
    "valid",
    "routeType",
    "ethTag",
    "macLen",
    "mac",
    "ipLen",
    "ip",
    "origin",
    "locPrf",
    "metric",
    "weight",
    "extendedCommunity",
    "largeCommunity",
    "community",
    "aspath",
  ];
  const o: Record<string, unknown> = {};
  for (const k of keep) if (k in p) o[k] = p[k];
  o.nexthops = (p.nexthops ?? []).map((n) => n.ip);
  return JSON.stringify(o);
}

test(
  "two learning proxies: both learn; stopping either keeps FRR's tables and pings (issue 5: 5)",
  {
    timeout: 120_000,
  },
  async (t) => {
    if (!requireTools(t, LEARNING_LAB_TOOLS, { root: true })) return;
    const note = labNote(t);

    await withLab(t, PREFIX, async (lab: Lab) => {
      const { seed, evpn } = await buildLearningLab(lab);
      note("lab built, FRR VTEPs flood to each other");

      // the second proxy: namespace px2 on the underlay bridge, flooded to by both static VTEPs
      await lab.ns("px2");
      const { aIf } = await lab.link("sw", null, "px2", `${PROXY2_IP}/24`, { aIf: "px2", bIf: UNDERLAY_IF });
      await lab.ip("sw", ["link", "set", aIf, "master", "fabric"]);
      await lab.ip("sw", ["link", "set", aIf, "up"]);
      for (const v of STATIC_VTEPS)
        for (const dev of ["vx10", "vx20"])
          await lab.exec(v.name, "bridge", ["fdb", "append", "00:00:00:00:00:00", "dev", dev, "dst", PROXY2_IP]);

      const yaml1 = learningConfigYaml();
      assert.doesNotMatch(yaml1, /macs:/);
      const yaml2 = learningConfigYaml({ listen: PROXY2_IP }).replace(/^router-id: \S+/m, `router-id: ${PROXY2_IP}`);
      assert.match(yaml2, new RegExp(`^router-id: ${PROXY2_IP.replace(/\./g, "\\.")}`, "m"));
      const cfg1 = writeProxyConfig(lab, yaml1, "evpn-proxy-1.yaml");
      const cfg2 = writeProxyConfig(lab, yaml2, "evpn-proxy-2.yaml");
      const start2 = (): LabProcess =>
        lab.spawn("px2", process.execPath, proxyArgv(cfg2, "debug"), { name: "evpn-proxy-2" });

      const proxies: Record<string, LabProcess | undefined> = { [PROXY_IP]: undefined, [PROXY2_IP]: undefined };
      const diagnostics = (): string => {
        const parts: string[] = [];
        for (const [ip, p] of Object.entries(proxies))
          parts.push(`--- proxy ${ip} log (${p?.logFile ?? "not started"}) ---`, p ? p.logTail(30) : "");
        for (const [ip, frr] of evpn) parts.push(`--- FRR ${ip} ---`, frr.logTail(15));
        parts.push("--- FRR rr ---", seed.rr.logTail(15));
        return parts.join("\n");
      };
      const wait = <T>(
        what: string,
        fn: () => Promise<T | undefined | null | false>,
        timeoutMs = 20_000,
        intervalMs = 100,
      ): Promise<T> => lab.waitFor(what, fn, { timeoutMs, intervalMs, diagnostics });

      const step = labSteps(t, lab, PREFIX, 60_000, diagnostics);

      const pingFrom = async (from: Host, to: string): Promise<boolean> => {
        await lab.exec(from.name, "ip", ["neigh", "flush", "all"]);
        const r = await lab.exec(from.name, "ping", ["-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", to], {
          check: false,
        });
        return r.code === 0;
      };
      const logsAnnounce = (p: LabProcess, mac: string, vtep: string): boolean =>
        proxyLogLines(p).some((l) => l.msg === "learning: announce" && l.mac === mac && l.vtep === vtep);
      /** The RR's paths of the MAC route of `mac` under RD <vtep>:<evi>. */
      const rrPaths = async (mac: string, vtep: string): Promise<FrrEvpnPath[]> =>
        (await seed.rr.evpnRoutes()).find((r) => r.rd === `${vtep}:${VNI}` && r.prefix === `[2]:[0]:[48]:[${mac}]`)
          ?.paths ?? [];
      /** Both proxies' paths at the RR, identical apart from the peer. */
      const twoPaths = async (mac: string, vtep: string): Promise<FrrEvpnPath[] | undefined> => {
        const paths = await rrPaths(mac, vtep);
        const peers = paths.map((p) => p.peerId).sort();
        return JSON.stringify(peers) === JSON.stringify([PROXY_IP, PROXY2_IP].sort()) ? paths : undefined;
      };
      /** What must not change while a proxy stops: each MAC remote at its VTEP, the flood lists. */
      const fabricState = async (): Promise<string> => {
        const parts: string[] = [];
        for (const [ip, frr] of evpn) {
          const macs = await frr.evpnMacs(VNI);
          for (const [h] of LEARNED) {
            const m = macs[h.mac];
            parts.push(`${ip} ${h.mac} ${m?.type ?? "absent"} ${m?.remoteVtep ?? "-"}`);
          }
        }
        // canonical order: floodLists() fills its object in the order its queries finish
        const fl = await seed.floodLists();
        const sorted: Record<string, Record<number, string[]>> = {};
        for (const v of EVPN_VTEPS) sorted[v.name] = fl[v.name]!;
        parts.push(`flood ${JSON.stringify(sorted)}`);
        return parts.join("; ");
      };
      const fabricOk = (s: string): boolean =>
        evpn.every(([ip]) => LEARNED.every(([h, vtep]) => s.includes(`${ip} ${h.mac} remote ${vtep}`))) &&
        /* every FRR VTEP floods to both static VTEPs, in both VNIs */
        (() => {
          const fl = JSON.parse(s.slice(s.indexOf("flood ") + 6)) as Record<string, Record<number, string[]>>;
          return Object.values(fl).every((per) =>
            Object.values(per).every((l) => STATIC_VTEPS.every((v) => l.includes(v.ip))),
          );
        })();

      /** Both proxies learn both MACs: each logs the announce, the RR has two identical paths. */
      const bothLearn = async (who: string[]): Promise<void> => {
        const [ok1, ok2] = await Promise.all([pingFrom(H1, E1.ip), pingFrom(H2, E2.ip)]);
        note(`pings h10s1->h10e1 ${ok1 ? "ok" : "FAILED"}, h10s2->h10e2 ${ok2 ? "ok" : "FAILED"}`);
        for (const [h, vtep] of LEARNED) {
          for (const ip of who)
            await wait(`proxy ${ip} logs learning: announce ${h.mac} at ${vtep}`, async () =>
              logsAnnounce(proxies[ip]!, h.mac, vtep),
            );
          const paths = await wait(`RR: ${vtep}:${VNI} [2] ${h.mac} from both proxies`, () => twoPaths(h.mac, vtep));
          const [a, b] = paths.map(pathAttrs);
          assert.equal(a, b, `the two proxies' routes for ${h.mac} differ`);
          note(`RR ${vtep}:${VNI} ${h.mac}: 2 paths (${paths.map((p) => p.peerId).join(", ")}), attributes ${a}`);
          const ipPaths = await wait(`RR: ${vtep}:${VNI} [2] ${h.mac}/${h.ip} from both proxies`, async () => {
            const r = (await seed.rr.evpnRoutes()).find(
              (x) => x.rd === `${vtep}:${VNI}` && x.prefix === `[2]:[0]:[48]:[${h.mac}]:[32]:[${h.ip}]`,
            );
            return r && r.paths.length === 2 ? r.paths : undefined;
          });
          assert.equal(pathAttrs(ipPaths[0]!), pathAttrs(ipPaths[1]!));
        }
        const s = await wait("FRR VTEPs have both MACs remote at their static VTEPs", async () => {
          const st = await fabricState();
          return fabricOk(st) ? st : undefined;
        });
        note(`FRR: ${s}`);
      };

      /** SIGTERM to one proxy; the fabric state sampled from the signal until 3 s after its exit. */
      const stopAndCheck = async (ip: string): Promise<void> => {
        const p = proxies[ip]!;
        const before = await fabricState();
        assert.ok(fabricOk(before), before);
        const sent = Date.now();
        let exitedAt: number | undefined;
        const stopping = p.stop().then(() => (exitedAt = Date.now()));
        let samples = 0;
        const bad: string[] = [];
        while (exitedAt === undefined || Date.now() - exitedAt < 3000) {
          const s = await fabricState();
          samples++;
          if (s !== before) bad.push(`${Date.now() - sent} ms: ${s}`);
          if (Date.now() - sent > 10_000) break;
          await sleep(50);
        }
        await stopping;
        note(
          `proxy ${ip} exited ${JSON.stringify(p.exitStatus)} ${exitedAt! - sent} ms after SIGTERM; ${samples} samples until 3 s after`,
        );
        assert.deepEqual(p.exitStatus, { code: 0, signal: null }, `proxy ${ip} exit\n${p.logTail(20)}`);
        assert.deepEqual(bad, [], `fabric state changed (before: ${before})`);
        // the RR keeps only the other proxy's path
        const other = ip === PROXY_IP ? PROXY2_IP : PROXY_IP;
        for (const [h, vtep] of LEARNED) {
          const paths = await rrPaths(h.mac, vtep);
          assert.deepEqual(
            paths.map((x) => x.peerId),
            [other],
            `RR paths of ${h.mac} after the stop`,
          );
        }
        const m = await seed.pingMatrix();
        const fails = m.filter((r) => !r.ok);
        note(`ping matrix with proxy ${ip} stopped:\n${formatMatrix(m, "after")}`);
        assert.deepEqual(
          fails.filter((r) => r.service.vni === VNI).map((r) => `${r.from.name}->${r.to.name}`),
          [],
          "VNI 10 pairs that do not ping",
        );
        assert.ok(proxies[other]!.running, `proxy ${other} still runs`);
      };

      await step("0. both proxies Established with the RR; each learns from VXLAN datagrams", async () => {
        proxies[PROXY_IP] = startProxy(lab, cfg1, "debug");
        proxies[PROXY2_IP] = start2();
        for (const ip of [PROXY_IP, PROXY2_IP]) {
          await wait(`RR: session with ${ip} Established`, async () => (await seed.rr.peerState(ip)) === "Established");
          await wait(`proxy ${ip}: learning from VXLAN datagrams`, async () =>
            /learning from VXLAN datagrams/.test(proxies[ip]!.log()),
          );
        }
        for (const [ip, frr] of evpn)
          await wait(`${ip}: VNI 10 floods to both static VTEPs`, async () => {
            const fl = await frr.remoteVteps(VNI);
            return fl.includes(S1) && fl.includes(S2);
          });
        note("both proxies Established");
      });

      await step("1. both proxies learn h10s1's and h10s2's MACs: two identical paths at the RR", () =>
        bothLearn([PROXY_IP, PROXY2_IP]),
      );

      await step("2. proxy 1 stops: FRR's tables unchanged, every VNI 10 pair pings", () => stopAndCheck(PROXY_IP));

      await step("3. proxy 1 restarts and learns again; proxy 2 stops: the same", async () => {
        proxies[PROXY_IP] = startProxy(lab, cfg1, "debug");
        await wait(
          `RR: session with ${PROXY_IP} Established again`,
          async () => (await seed.rr.peerState(PROXY_IP)) === "Established",
        );
        await wait(`proxy ${PROXY_IP}: learning from VXLAN datagrams`, async () =>
          /learning from VXLAN datagrams/.test(proxies[PROXY_IP]!.log()),
        );
        await bothLearn([PROXY_IP]);
        await stopAndCheck(PROXY2_IP);
      });

      for (const p of Object.values(proxies)) if (p?.running) await p.stop();
    });
  },
);
