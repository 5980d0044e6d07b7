// A configured MAC's addresses, learned from its ARP/ND, in the seed's topology (namespaces built
// by lab/seed.ts). The proxy runs with `learning:` (vxlan-listen 192.0.2.4, include-ip) and
// h10s2's MAC configured under its static VTEP s2 (`macs: ["02:00:00:00:10:02"]`, no address):
//
// 0. Before any traffic both FRR VTEPs have the MAC remote at s2 and sticky (the configured route;
//    FRR 8.4 shows `stickyMac` only in `show evpn mac vni 10 mac <mac> json`) and none of h10s2's
//    addresses in `show evpn arp-cache vni 10 json`.
// 1. h10s2 pings an EVPN host over IPv4 and IPv6 (2001:db8:10::<octet>/64, nodad): its ARP
//    request and its neighbour solicitation (source link-layer address option) reach the proxy,
//    and both FRR VTEPs show both addresses as remote at s2; the MAC stays remote at s2, and the
//    RR has the proxy's MAC, MAC/IPv4 and MAC/IPv6 routes for it, each "MM:0, sticky MAC".
// 2. h10s1 takes h10s2's MAC and pings: behind s1 the configured MAC changes nothing (the proxy
//    logs "learning: sticky-blocked"); the FRR VTEPs keep it and its addresses at s2.
// 3. SIGHUP without the MAC configured: the MAC route and both MAC/IP routes are withdrawn.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Host, PROXY_IP, proxyLogLines, startProxy, writeProxyConfig } from "../../lab/seed.js";
import { requireTools } from "../helpers/env.js";
import {
  E2,
  EVPN_IPS,
  H1,
  H2,
  LEARNING_LAB_TOOLS,
  S2,
  VNI,
  arpCache,
  buildLearningLab,
  ip6,
  ipAtAll,
  learningConfigYaml,
  macAtAll,
  pingFrom,
  proxyAndFrrLogs,
} from "./learning-fixtures.js";
import { extCommunityTokens } from "./frr-json.js";
import { labNote, labSteps, waitWhileRunning } from "../helpers/lab-steps.js";
import { type Lab, type LabProcess, withLab } from "../../tools/netlab/index.js";

const PREFIX = "t16s";

test(
  "learning lab: a configured MAC's IPv4 and IPv6 addresses are learned at its static VTEP, sticky",
  { timeout: 150_000 },
  async (t) => {
    if (!requireTools(t, LEARNING_LAB_TOOLS, { root: true })) return;
    const note = labNote(t);

    await withLab(t, PREFIX, async (lab: Lab) => {
      const { seed, evpn } = await buildLearningLab(lab);
      note("lab built, FRR VTEPs flood to each other");
      let proxy: LabProcess | undefined;
      const wait = waitWhileRunning(
        lab,
        () => proxy,
        proxyAndFrrLogs(() => proxy, evpn),
      );
      const step = labSteps(t, lab, PREFIX, 60_000);
      const configured = learningConfigYaml({ vni10Macs: { [S2]: [H2.mac] } });
      const addrs = [H2.ip, ip6(H2)];

      /** The proxy's type 2 routes for H2's MAC at the RR: "<rd> <prefix> <MAC mobility>". */
      const rrRoutes = async (): Promise<string[]> =>
        (await seed.rr.evpnRoutes())
          .filter((r) => !EVPN_IPS.has(r.rd.split(":")[0]!) && r.prefix.includes(`[48]:[${H2.mac}]`))
          .map((r) => {
            const ext = extCommunityTokens(r.paths[0]?.extendedCommunity?.string ?? "");
            return `${r.rd} ${r.prefix} ${ext.filter((c) => c.startsWith("MM:")).join(" ") || "-"}`;
          })
          .sort();
      /** Every FRR VTEP has H2's MAC remote at s2 and sticky (`stickyMac` of the detailed MAC JSON, FRR 8.4). */
      const stickyAtS2 = () =>
        macAtAll(evpn, H2.mac, S2).then(async (all) => {
          if (!all) return undefined;
          for (const [, frr] of evpn) {
            const d = await frr.vtyshJson<Record<string, { stickyMac?: boolean }>>(
              `show evpn mac vni ${VNI} mac ${H2.mac} json`,
            );
            if (d[H2.mac]?.stickyMac !== true) return undefined;
          }
          return all;
        });
      /** What an FRR VTEP shows of H2: its MAC (summary and detail) and the arp-cache entries of its addresses. */
      const shown = async (): Promise<string> => {
        const parts: string[] = [];
        for (const [ip, frr] of evpn) {
          const mac = (await frr.evpnMacs(VNI))[H2.mac];
          const detail = await frr.vtyshJson<unknown>(`show evpn mac vni ${VNI} mac ${H2.mac} json`);
          const cache = await arpCache(frr, VNI);
          const ips = Object.fromEntries(addrs.map((a) => [a, cache[a]]));
          parts.push(
            `${ip}: mac ${JSON.stringify(mac)}`,
            `${ip}: mac detail ${JSON.stringify(detail)}`,
            `${ip}: arp-cache ${JSON.stringify(ips)}`,
          );
        }
        return parts.join("\n");
      };

      await step("0. proxy with H2's MAC configured at s2: the sticky MAC route, no address yet", async () => {
        assert.match(configured, new RegExp(`- address: ${S2}\\n +macs: \\["${H2.mac}"\\]`));
        proxy = startProxy(lab, writeProxyConfig(lab, configured));
        await wait(
          "RR: session with the proxy Established",
          async () => (await seed.rr.peerState(PROXY_IP)) === "Established",
        );
        await wait("proxy log: learning from VXLAN datagrams", async () =>
          /learning from VXLAN datagrams/.test(proxy!.log()),
        );
        await wait(`${H2.mac} remote at ${S2}, sticky, on both FRR VTEPs`, stickyAtS2);
        for (const [ip, frr] of evpn) {
          const cache = await arpCache(frr, VNI);
          for (const a of addrs) assert.equal(cache[a], undefined, `${ip}: ${a} before any traffic`);
        }
        note(`before traffic:\n${await shown()}`);
      });

      await step("1. H2 pings an EVPN host over IPv4 and IPv6: both addresses remote at s2, MAC sticky", async () => {
        await Promise.all(
          [H2, E2].map((h: Host) => lab.ip(h.name, ["-6", "addr", "add", `${ip6(h)}/64`, "dev", "eth0", "nodad"])),
        );
        const ok4 = await pingFrom(lab, H2, E2.ip);
        const ok6 = await pingFrom(lab, H2, ip6(E2), true);
        note(`ping h10s2->h10e2 ${ok4 ? "ok" : "FAILED"}, ping -6 ${ok6 ? "ok" : "FAILED"}`);
        for (const a of addrs)
          await wait(`${a} -> ${H2.mac} remote at ${S2} in both arp-caches`, () => ipAtAll(evpn, a, H2.mac, S2));
        await wait(`${H2.mac} still remote at ${S2}, sticky`, stickyAtS2);
        const want = [
          `${S2}:${VNI} [2]:[0]:[48]:[${H2.mac}] MM:0, sticky MAC`,
          `${S2}:${VNI} [2]:[0]:[48]:[${H2.mac}]:[128]:[${ip6(H2)}] MM:0, sticky MAC`,
          `${S2}:${VNI} [2]:[0]:[48]:[${H2.mac}]:[32]:[${H2.ip}] MM:0, sticky MAC`,
        ];
        await wait("RR: the MAC route and both MAC/IP routes, sticky", async () => {
          const r = (await rrRoutes()).filter((k) => !k.includes("[fe80:"));
          return JSON.stringify(r) === JSON.stringify(want) ? r : undefined;
        }).catch(async (e: unknown) => {
          throw new Error(`${String(e)}\nRR has:\n${(await rrRoutes()).join("\n")}`);
        });
        note(`after the pings:\n${await shown()}`);
        note(`RR: the proxy's routes for ${H2.mac}:\n${(await rrRoutes()).join("\n")}`);
        assert.ok(ok4 && ok6, "h10s2 -> h10e2 pings answered");
      });

      await step("2. the configured MAC behind s1: nothing changes, sticky-blocked logged", async () => {
        const blocked = () => proxyLogLines(proxy!).filter((l) => l.msg === "learning: sticky-blocked");
        const before = blocked().length;
        await lab.ip(H1.name, ["link", "set", "dev", "eth0", "down"]);
        await lab.ip(H1.name, ["link", "set", "dev", "eth0", "address", H2.mac]);
        await lab.ip(H1.name, ["link", "set", "dev", "eth0", "up"]);
        await pingFrom(lab, H1, E2.ip);
        await wait("proxy log: learning: sticky-blocked", async () => blocked().length > before);
        note(`proxy log: ${JSON.stringify(blocked().at(-1))}`);
        await wait(`${H2.mac} still remote at ${S2}, sticky`, stickyAtS2);
        for (const a of addrs) assert.ok(await ipAtAll(evpn, a, H2.mac, S2), `${a} still at ${S2}`);
      });

      await step("3. reload without the MAC configured: its MAC and MAC/IP routes are withdrawn", async () => {
        // both hosts with H2's MAC quiet: nothing learns it again as an unconfigured MAC
        for (const h of [H1, H2]) await lab.ip(h.name, ["link", "set", "dev", "eth0", "down"]);
        const reloads = () => proxyLogLines(proxy!).filter((l) => l.msg === "configuration reloaded").length;
        const before = reloads();
        writeProxyConfig(lab, learningConfigYaml());
        process.kill(proxy!.pid, "SIGHUP");
        await wait("proxy log: configuration reloaded", async () => reloads() > before);
        await wait("RR: no route of the proxy for the MAC", async () => (await rrRoutes()).length === 0);
        for (const [ip, frr] of evpn)
          await wait(`${ip}: neither address in the arp-cache`, async () => {
            const cache = await arpCache(frr, VNI);
            return addrs.every((a) => cache[a] === undefined);
          });
        note(`after the reload:\n${await shown()}`);
      });

      if (proxy) {
        assert.ok(proxy.running, `the proxy still runs\n${proxy.logTail(20)}`);
        await proxy.stop();
      }
    });
  },
);
