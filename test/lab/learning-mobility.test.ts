// Data-plane learning, MAC mobility, ageing and auto-discovery in the seed's topology (issue 5,
// acceptance points 3 and 4), in network namespaces built by lab/seed.ts. One proxy runs with
// `learning:` (vxlan-listen 192.0.2.4, include-ip) and no configured MAC; later phases change its
// configuration with SIGHUP (a reload keeps what was learned).
//
// 3a. H1's MAC/IP, learned at s1, is taken over by the host behind FRR VTEP e1 (h10s1 down, h10e1
//     gets H1's MAC and IP and pings) → FRR announces it with a higher sequence → the proxy
//     withdraws its routes; e1 has the MAC local, e2 remote at e1.
// 3b. Moved back: h10s1 up and pinging while e1 still announces the MAC, then h10e1 down → the
//     proxy re-announces at s1 with a sequence above e1's; both FRR VTEPs show it remote at s1.
// 3c. h10s1 and h10s2 swap MAC/IP repeatedly → at its sixth move within the window (max-moves 5,
//     move-window-seconds 60) each MAC is marked duplicate ("learning: duplicate" in the log), and
//     a further swap changes nothing at the RR.
// 3d. The proxy restarts: the duplicates of 3c stay frozen across a reload (freeze-seconds 120).
// 4a. SIGHUP to mac-ageing-seconds 5: a binding is withdrawn 5–6 s after its host goes quiet.
// 4b. SIGHUP to VNI 10 with only s1 configured, auto-discover-static-vteps, allowed
//     192.0.2.0/30 → s2's IMET appears at the RR once h10s2 sends ARP and the FRR VTEPs flood to
//     it; SIGHUP to allowed 192.0.2.1/32 → s2 is ignored ("learning: unknown-vtep", no IMET).
import assert from "node:assert/strict";
import { test } from "node:test";
import { EVPN_VTEPS, type Host, PROXY_IP, proxyLogLines, startProxy, writeProxyConfig } from "../../lab/seed.js";
import { requireTools } from "../helpers/env.js";
import {
  E1,
  E2,
  EVPN_IPS,
  H1,
  H2,
  LEARNING_LAB_TOOLS,
  learningConfigYaml,
  S1,
  S2,
  VNI,
  buildLearningLab,
  proxyAndFrrLogs,
} from "./learning-fixtures.js";
import { labNote, labSteps, waitWhileRunning } from "../helpers/lab-steps.js";
import { type Frr, type FrrEvpnMac, type Lab, type LabProcess, sleep, withLab } from "../../tools/netlab/index.js";

const PREFIX = "t5mv";
const E1IP = EVPN_VTEPS[0]!.ip;

const MOBILITY = { "max-moves": 5, "move-window-seconds": 60, "freeze-seconds": 120 };

test(
  "learning lab: MAC mobility, duplicates, ageing, auto-discovery (issue 5: 3, 4)",
  { timeout: 240_000 },
  async (t) => {
    if (!requireTools(t, LEARNING_LAB_TOOLS, { root: true })) return;
    const note = labNote(t);

    await withLab(t, PREFIX, async (lab: Lab) => {
      const { seed, evpn } = await buildLearningLab(lab);
      const [, frrE1] = evpn[0]!;
      const [, frrE2] = evpn[1]!;
      note("lab built, FRR VTEPs flood to each other");
      let proxy: LabProcess | undefined;

      const diagnostics = proxyAndFrrLogs(() => proxy, evpn);
      const wait = waitWhileRunning(lab, () => proxy, diagnostics);

      const step = labSteps(t, lab, PREFIX, 90_000);

      const macOn = async (frr: Frr, mac: string): Promise<FrrEvpnMac | undefined> => (await frr.evpnMacs(VNI))[mac];
      /** Both FRR VTEPs have `mac` remote at `vtep`, with a remoteSequence above `above` if given. */
      const macAt = (mac: string, vtep: string, above = -1) =>
        Promise.all(
          evpn.map(async ([, frr]) => {
            const m = await macOn(frr, mac);
            return m && m.type === "remote" && m.remoteVtep === vtep && (m.remoteSequence ?? 0) > above ? m : undefined;
          }),
        ).then((all) => (all.every(Boolean) ? (all as FrrEvpnMac[]) : undefined));

      /** The proxy's (non-EVPN-VTEP RD) routes at the RR, "<rd> <prefix>". */
      const proxied = async (): Promise<string[]> =>
        (await seed.rr.evpnRoutes())
          .filter((r) => !EVPN_IPS.has(r.rd.split(":")[0]!))
          .map((r) => `${r.rd} ${r.prefix}`)
          .sort();
      const macRoutes = async (mac: string): Promise<string[]> =>
        (await proxied()).filter((k) => k.includes(`[2]:[0]:[48]:[${mac}]`));

      const pingFrom = async (from: Host, to: string, count = 3): Promise<boolean> => {
        await lab.exec(from.name, "ip", ["neigh", "flush", "all"]);
        const r = await lab.exec(from.name, "ping", ["-n", "-q", "-c", String(count), "-i", "0.2", "-W", "1", to], {
          check: false,
        });
        return r.code === 0;
      };
      /** Gives host namespace `ns` the MAC and IPv4 address of `as` (link left down if `up` is false). */
      const become = async (ns: Host, as: Host, up = true): Promise<void> => {
        await lab.ip(ns.name, ["link", "set", "dev", "eth0", "down"]);
        await lab.ip(ns.name, ["link", "set", "dev", "eth0", "address", as.mac]);
        await lab.ip(ns.name, ["addr", "flush", "dev", "eth0"]);
        await lab.ip(ns.name, ["addr", "add", `${as.ip}/24`, "dev", "eth0"]);
        if (up) await lab.ip(ns.name, ["link", "set", "dev", "eth0", "up"]);
      };
      const linkUp = (h: Host, up: boolean) => lab.ip(h.name, ["link", "set", "dev", "eth0", up ? "up" : "down"]);
      const logEvents = (msg: string) => (proxy ? proxyLogLines(proxy).filter((l) => l.msg === msg) : []);
      const reload = async (yaml: string, what: string): Promise<void> => {
        const before = logEvents("configuration reloaded").length;
        writeProxyConfig(lab, yaml);
        process.kill(proxy!.pid, "SIGHUP");
        await wait(`proxy log: configuration reloaded (${what})`, async () =>
          logEvents("configuration reloaded").length > before ? true : undefined,
        );
      };

      const startLearningProxy = async (): Promise<void> => {
        proxy = startProxy(lab, writeProxyConfig(lab, learningConfigYaml({ learning: MOBILITY })), "debug");
        await wait(
          "RR: session with the proxy Established",
          async () => (await seed.rr.peerState(PROXY_IP)) === "Established",
        );
        await wait("proxy log: learning from VXLAN datagrams", async () =>
          /learning from VXLAN datagrams/.test(proxy!.log()),
        );
      };

      await step("0. proxy with learning (max-moves 5, window 60 s): Established, H1/H2 learned at s1/s2", async () => {
        await startLearningProxy();
        await Promise.all([pingFrom(H1, E1.ip), pingFrom(H2, E2.ip)]);
        await wait(`${H1.mac} remote at ${S1} on both FRR VTEPs`, () => macAt(H1.mac, S1));
        await wait(`${H2.mac} remote at ${S2} on both FRR VTEPs`, () => macAt(H2.mac, S2));
        note(`learned: ${(await proxied()).filter((k) => k.includes("[2]")).join(", ")}`);
      });

      let e1Seq = 0;
      await step("3a. H1's MAC taken over behind FRR VTEP e1: FRR's higher sequence, the proxy withdraws", async () => {
        // h10e1 without IPv6: its router solicitations would re-teach e1's bridge the MAC after 3b
        await lab.exec(E1.name, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        await linkUp(H1, false); // h10s1 goes quiet
        await become(E1, H1); // h10e1 takes H1's MAC and IP
        const ok = await pingFrom(E1, E2.ip);
        note(`ping h10e1(now ${H1.ip}, ${H1.mac}) -> h10e2 ${ok ? "ok" : "FAILED"}`);
        const local = await wait(`e1: ${H1.mac} local`, async () => {
          const m = await macOn(frrE1, H1.mac);
          return m?.type === "local" ? m : undefined;
        });
        const atE1 = await wait(`e2: ${H1.mac} remote at ${E1IP}`, async () => {
          const m = await macOn(frrE2, H1.mac);
          return m?.type === "remote" && m.remoteVtep === E1IP ? m : undefined;
        });
        note(`e1: ${JSON.stringify(local)}; e2: ${JSON.stringify(atE1)}`);
        e1Seq = Math.max(local.localSequence ?? 0, atE1.remoteSequence ?? 0);
        assert.ok(e1Seq >= 1, `FRR announces ${H1.mac} with sequence ${e1Seq} >= 1`);
        await wait(`RR: no proxy route for ${H1.mac}`, async () =>
          (await macRoutes(H1.mac)).length === 0 ? true : undefined,
        );
        const w = logEvents("learning: withdraw").filter((l) => l.mac === H1.mac);
        note(`proxy withdrew ${w.length} route(s) of ${H1.mac}: ${JSON.stringify(w.map((l) => l.ip ?? null))}`);
      });

      await step("3b. moved back to s1: re-announced with a sequence above e1's", async () => {
        // h10s1 sends while e1 still announces the MAC, then h10e1 stops using it
        await linkUp(H1, true);
        const ok = await pingFrom(H1, E2.ip);
        await linkUp(E1, false);
        note(`ping h10s1 -> h10e2 ${ok ? "ok" : "failed"}; h10e1 down`);
        const ms = await wait(`${H1.mac} remote at ${S1} with remoteSequence > ${e1Seq} on both FRR VTEPs`, () =>
          macAt(H1.mac, S1, e1Seq),
        );
        note(`FRR: ${JSON.stringify(ms)}`);
        await wait(`RR: the proxy's ${H1.mac} routes at ${S1}`, async () => {
          const r = await macRoutes(H1.mac);
          return r.some((k) => k === `${S1}:${VNI} [2]:[0]:[48]:[${H1.mac}]`) &&
            r.some((k) => k === `${S1}:${VNI} [2]:[0]:[48]:[${H1.mac}]:[32]:[${H1.ip}]`)
            ? r
            : undefined;
        });
        // h10e1 back to its own MAC and address (left down: it plays no further part)
        await become(E1, E1, false);
      });

      await step("3c. h10s1/h10s2 swap MAC and IP repeatedly: duplicate at the sixth move", async () => {
        // moves so far: H2's MAC 0; H1's MAC 2 (to e1, back to s1), plus 2 for every further
        // round trip to e1 (each shows as one more announce of its MAC route)
        const h1Announces = logEvents("learning: announce").filter((l) => l.mac === H1.mac && l.ip === null).length;
        const moves: Record<string, number> = { [H1.mac]: 2 + 2 * (h1Announces - 2), [H2.mac]: 0 };
        note(`moves before the swaps: ${JSON.stringify(moves)} (${h1Announces} announces of ${H1.mac})`);
        const dupAt: Record<string, number> = {};
        const dups = () => logEvents("learning: duplicate");
        let swapped = false; // false: H1 at s1, H2 at s2
        for (let i = 1; i <= 8 && Object.keys(dupAt).length < 2; i++) {
          swapped = !swapped;
          const [a, b] = swapped ? [H2, H1] : [H1, H2]; // identities of h10s1, h10s2
          await Promise.all([become(H1, a), become(H2, b)]);
          await Promise.all([pingFrom(H1, E2.ip, 2), pingFrom(H2, E2.ip, 2)]);
          for (const [h, vtep] of [
            [a, S1],
            [b, S2],
          ] as const) {
            if (dupAt[h.mac] !== undefined) continue;
            moves[h.mac]!++;
            await wait(`swap ${i}: ${h.mac} at ${vtep} at the RR, or a duplicate event`, async () => {
              if (dups().some((l) => l.mac === h.mac)) return true;
              return (await macRoutes(h.mac)).includes(`${vtep}:${VNI} [2]:[0]:[48]:[${h.mac}]`) ? true : undefined;
            });
            if (dups().some((l) => l.mac === h.mac)) dupAt[h.mac] = moves[h.mac]!;
          }
          note(`swap ${i}: moves ${JSON.stringify(moves)}, duplicates ${JSON.stringify(dupAt)}`);
        }
        assert.deepEqual(dupAt, { [H1.mac]: 6, [H2.mac]: 6 }, "each MAC marked duplicate at its sixth move");
        // frozen: another swap changes nothing at the RR
        const before = await proxied();
        swapped = !swapped;
        const [a, b] = swapped ? [H2, H1] : [H1, H2];
        await Promise.all([become(H1, a), become(H2, b)]);
        await Promise.all([pingFrom(H1, E2.ip, 2), pingFrom(H2, E2.ip, 2)]);
        await sleep(2000);
        assert.deepEqual(await proxied(), before, "a duplicate MAC's changes are not announced");
        note(`frozen; the RR keeps:\n${before.filter((k) => k.includes("[2]")).join("\n")}`);
        // back to the original identities for what follows
        await Promise.all([become(H1, H1), become(H2, H2)]);
      });

      await step(
        "3d. a fresh proxy: 3c's duplicates stay frozen across reloads, which keep learned state",
        async () => {
          await proxy!.stop();
          await startLearningProxy();
        },
      );

      await step("4a. mac-ageing-seconds 5: a binding is withdrawn ~5 s after its host goes quiet", async () => {
        await reload(learningConfigYaml({ learning: { "mac-ageing-seconds": 5 } }), "ageing 5 s");
        await pingFrom(H1, E2.ip, 1);
        await wait(`RR: ${H1.mac} at ${S1}`, async () =>
          (await macRoutes(H1.mac)).includes(`${S1}:${VNI} [2]:[0]:[48]:[${H1.mac}]`) ? true : undefined,
        );
        await linkUp(H1, false);
        const quiet = Date.now();
        await sleep(3500);
        assert.ok((await macRoutes(H1.mac)).length > 0, `${H1.mac} still announced 3.5 s after its host went quiet`);
        await wait(
          `RR: ${H1.mac} withdrawn`,
          async () => ((await macRoutes(H1.mac)).length === 0 ? true : undefined),
          10_000,
        );
        const took = Date.now() - quiet;
        note(`${H1.mac} withdrawn ${took} ms after h10s1 went down`);
        assert.ok(took <= 8000, `withdrawn after ${took} ms`);
        await linkUp(H1, true);
      });

      await step("4b. auto-discovery: s2 inside 192.0.2.0/30 announced, outside 192.0.2.1/32 ignored", async () => {
        const imet = `${S2}:${VNI} [3]:[0]:[32]:[${S2}]`;
        const floodsToS2 = async () => {
          for (const [, frr] of evpn) if (!(await frr.remoteVteps(VNI)).includes(S2)) return false;
          return true;
        };
        await reload(
          learningConfigYaml({
            learning: { "auto-discover-static-vteps": true, "allowed-vtep-prefixes": ["192.0.2.0/30"] },
            vni10Vteps: [S1],
          }),
          "s1 only, allowed 192.0.2.0/30",
        );
        await wait(`RR: no IMET of ${S2} before it sends`, async () =>
          !(await proxied()).includes(imet) ? true : undefined,
        );
        await pingFrom(H2, E2.ip);
        await wait(`RR: IMET of ${S2}`, async () => ((await proxied()).includes(imet) ? true : undefined));
        await wait(`both FRR VTEPs flood VNI ${VNI} to ${S2}`, async () => ((await floodsToS2()) ? true : undefined));
        await wait(`RR: ${H2.mac} learned at ${S2}`, async () =>
          (await macRoutes(H2.mac)).includes(`${S2}:${VNI} [2]:[0]:[48]:[${H2.mac}]`) ? true : undefined,
        );
        note(`s2 discovered: IMET at the RR, FRR floods to it, ${H2.mac} learned`);

        await reload(
          learningConfigYaml({
            learning: { "auto-discover-static-vteps": true, "allowed-vtep-prefixes": ["192.0.2.1/32"] },
            vni10Vteps: [S1],
          }),
          "s1 only, allowed 192.0.2.1/32",
        );
        await wait(`RR: IMET of ${S2} withdrawn`, async () => (!(await proxied()).includes(imet) ? true : undefined));
        const unknownBefore = logEvents("learning: unknown-vtep").length;
        await pingFrom(H2, E2.ip);
        await wait("proxy log: learning: unknown-vtep for s2", async () =>
          logEvents("learning: unknown-vtep")
            .slice(unknownBefore)
            .some((l) => l.vtep === S2)
            ? true
            : undefined,
        );
        await sleep(1500);
        const now = await proxied();
        assert.ok(!now.includes(imet), `no IMET of ${S2}:\n${now.join("\n")}`);
        assert.deepEqual(await macRoutes(H2.mac), [], `nothing learned at ${S2}`);
        assert.equal(await floodsToS2(), false, "FRR does not flood to s2");
        note("s2 outside the allowed prefix: counted as unknown, no IMET, nothing learned");
      });

      if (proxy) {
        assert.ok(proxy.running, `the proxy still runs\n${proxy.logTail(20)}`);
        await proxy.stop();
      }
    });
  },
);
