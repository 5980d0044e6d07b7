// Data-plane learning in the seed's topology (issue 5, acceptance point 2 and the first move test
// of point 3), in network namespaces built by lab/seed.ts. The proxy runs with `learning:`
// (vxlan-listen 192.0.2.4, include-ip) and WITHOUT the configured static MAC, so every type 2
// route it announces here was learned from ARP/ND inside VXLAN: the static VTEPs s1/s2 list the
// proxy in their flood lists, so their hosts' broadcasts (ARP requests, and the ND solicitations
// the kernel's VXLAN device floods as BUM) reach it as VXLAN datagrams on UDP 4789.
//
// 1. h10s1 and h10s2 ping EVPN hosts over IPv4 → both FRR VTEPs show each MAC as remote at its
//    static VTEP, and its IP in `show evpn arp-cache vni 10 json` (type remote, at that VTEP).
// 2. The same hosts ping EVPN hosts over IPv6 (2001:db8:10::<octet>/64, nodad) → their IPv6
//    addresses, learned from neighbour solicitations, are in FRR's arp-cache the same way.
// 3. Move: h10s1 and h10s2 swap MAC and IPv4/IPv6 addresses and ping again → within 2 s both FRR
//    VTEPs show each MAC at its new static VTEP with a higher remoteSequence than before; the RR
//    has their MAC and MAC/IPv4 routes at the new VTEPs and none at the old ones.
//
// Found here, and fixed since: on a move the learner used to drop the MAC's IP bindings, so the
// IPv6 MAC/IP routes went with the old location until the host sent ND again; the bindings now
// move with the MAC. Link-local IPv6 bindings (fe80::ff:fe00:10xx) appear when the hosts' ND runs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Host, PROXY_IP, startProxy, writeProxyConfig } from "../../lab/seed.js";
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
  ip6,
  ipAtAll,
  macAtAll,
  pingFrom as ping,
  proxyAndFrrLogs,
} from "./learning-fixtures.js";
import { labNote, labSteps, waitWhileRunning } from "../helpers/lab-steps.js";
import { type Lab, type LabProcess, withLab } from "../../tools/netlab/index.js";

const PREFIX = "t5lr";
const VNI10_HOSTS = [H1, H2, E1, E2];

test(
  "learning lab: hosts behind static VTEPs learned from ARP/ND inside VXLAN (issue 5: 2, 3)",
  { timeout: 150_000 },
  async (t) => {
    if (!requireTools(t, LEARNING_LAB_TOOLS, { root: true })) return;
    const note = labNote(t);

    await withLab(t, PREFIX, async (lab: Lab) => {
      const { seed, evpn } = await buildLearningLab(lab);
      note("lab built, FRR VTEPs flood to each other");
      let proxy: LabProcess | undefined;

      const diagnostics = proxyAndFrrLogs(() => proxy, evpn);
      const wait = waitWhileRunning(lab, () => proxy, diagnostics);

      const step = labSteps(t, lab, PREFIX, 60_000);

      const macAt = (mac: string, vtep: string, above?: Record<string, number>) => macAtAll(evpn, mac, vtep, above);
      const ipAt = (ip: string, mac: string, vtep: string) => ipAtAll(evpn, ip, mac, vtep);
      const pingFrom = (from: Host, to: string, v6 = false) => ping(lab, from, to, v6);

      await step("0. proxy with learning and no configured MAC: Established, VNI 10 floods to s1/s2", async () => {
        const yaml = learningConfigYaml();
        assert.doesNotMatch(yaml, /macs:/);
        proxy = startProxy(lab, writeProxyConfig(lab, yaml));
        await wait(
          "RR: session with the proxy Established",
          async () => (await seed.rr.peerState(PROXY_IP)) === "Established",
        );
        for (const [ip, frr] of evpn)
          await wait(`${ip}: VNI 10 floods to both static VTEPs`, async () => {
            const fl = await frr.remoteVteps(VNI);
            return fl.includes(S1) && fl.includes(S2);
          });
        await wait("proxy log: learning from VXLAN datagrams", async () =>
          /learning from VXLAN datagrams/.test(proxy!.log()),
        );
        // nothing learned yet: the FRR VTEPs do not know the static hosts
        for (const [ip, frr] of evpn) {
          const macs = await frr.evpnMacs(VNI);
          assert.equal(macs[H1.mac], undefined, `${ip}: ${H1.mac} before any traffic`);
          assert.equal(macs[H2.mac], undefined, `${ip}: ${H2.mac} before any traffic`);
        }
        note("proxy Established, VNI 10 flood lists include s1 and s2");
      });

      await step("1. IPv4: after pinging EVPN hosts, both FRR VTEPs have MAC and IP at the static VTEP", async () => {
        const [ok1, ok2] = await Promise.all([pingFrom(H1, E1.ip), pingFrom(H2, E2.ip)]);
        note(`pings h10s1->h10e1 ${ok1 ? "ok" : "FAILED"}, h10s2->h10e2 ${ok2 ? "ok" : "FAILED"}`);
        for (const [h, vtep] of [
          [H1, S1],
          [H2, S2],
        ] as const) {
          const macs = await wait(`${h.mac} remote at ${vtep} on both FRR VTEPs`, () => macAt(h.mac, vtep));
          note(`${h.mac}: ${JSON.stringify(macs)}`);
          const ips = await wait(`${h.ip} -> ${h.mac} remote at ${vtep} in both arp-caches`, () =>
            ipAt(h.ip, h.mac, vtep),
          );
          note(`${h.ip}: ${JSON.stringify(ips)}`);
        }
        assert.ok(ok1 && ok2, "static -> EVPN pings answered");
      });

      await step("2. IPv6: addresses learned from neighbour solicitations are in both arp-caches", async () => {
        await Promise.all(
          VNI10_HOSTS.map((h) => lab.ip(h.name, ["-6", "addr", "add", `${ip6(h)}/64`, "dev", "eth0", "nodad"])),
        );
        const [ok1, ok2] = await Promise.all([pingFrom(H1, ip6(E1), true), pingFrom(H2, ip6(E2), true)]);
        note(`ping -6 h10s1->h10e1 ${ok1 ? "ok" : "FAILED"}, h10s2->h10e2 ${ok2 ? "ok" : "FAILED"}`);
        for (const [h, vtep] of [
          [H1, S1],
          [H2, S2],
        ] as const) {
          const ips = await wait(`${ip6(h)} -> ${h.mac} remote at ${vtep} in both arp-caches`, () =>
            ipAt(ip6(h), h.mac, vtep),
          );
          note(`${ip6(h)}: ${JSON.stringify(ips)}`);
        }
        assert.ok(ok1 && ok2, "static -> EVPN IPv6 pings answered");
      });

      await step("3. move: h10s1 and h10s2 swap MAC and IP; FRR follows within 2 s, higher sequence", async () => {
        const seqBefore = async (mac: string): Promise<Record<string, number>> => {
          const out: Record<string, number> = {};
          for (const [ip, frr] of evpn) out[ip] = (await frr.evpnMacs(VNI))[mac]?.remoteSequence ?? 0;
          return out;
        };
        const before1 = await seqBefore(H1.mac);
        const before2 = await seqBefore(H2.mac);
        note(`remoteSequence before: ${H1.mac} ${JSON.stringify(before1)}, ${H2.mac} ${JSON.stringify(before2)}`);
        // h10s1 (behind s1) takes H2's MAC and addresses, h10s2 (behind s2) takes H1's
        const swap = async (ns: Host, as: Host): Promise<void> => {
          await lab.ip(ns.name, ["link", "set", "dev", "eth0", "down"]);
          await lab.ip(ns.name, ["link", "set", "dev", "eth0", "address", as.mac]);
          await lab.ip(ns.name, ["addr", "flush", "dev", "eth0"]);
          await lab.ip(ns.name, ["addr", "add", `${as.ip}/24`, "dev", "eth0"]);
          await lab.ip(ns.name, ["-6", "addr", "add", `${ip6(as)}/64`, "dev", "eth0", "nodad"]);
          await lab.ip(ns.name, ["link", "set", "dev", "eth0", "up"]);
        };
        await Promise.all([swap(H1, H2), swap(H2, H1)]);
        const sent = Date.now();
        // the ARP requests of these pings announce the new locations (the pings themselves may
        // fail while the fabric still forwards to the old VTEPs)
        const pings = Promise.all([pingFrom(H1, E1.ip), pingFrom(H2, E2.ip)]);
        const left = (): number => Math.max(0, 2000 - (Date.now() - sent));
        const m2 = await wait(
          `${H2.mac} at ${S1} with a higher sequence within 2 s`,
          () => macAt(H2.mac, S1, before2),
          left(),
          50,
        );
        const m1 = await wait(
          `${H1.mac} at ${S2} with a higher sequence within 2 s`,
          () => macAt(H1.mac, S2, before1),
          left(),
          50,
        );
        const took = Date.now() - sent;
        note(
          `move seen on both FRR VTEPs after ${took} ms: ${H2.mac} ${JSON.stringify(m2)}; ${H1.mac} ${JSON.stringify(m1)}`,
        );
        assert.ok(took <= 2000, `FRR followed the move in ${took} ms`);
        for (const m of [...m1, ...m2]) assert.equal(m.isDuplicate ?? false, false, JSON.stringify(m));
        const [ok1, ok2] = await pings;
        note(
          `pings after the move: h10s1(now ${H2.ip})->h10e1 ${ok1 ? "ok" : "failed"}, h10s2(now ${H1.ip})->h10e2 ${ok2 ? "ok" : "failed"}`,
        );
        // the IPs moved with the MACs
        await wait(`${H2.ip} -> ${H2.mac} at ${S1} in both arp-caches`, () => ipAt(H2.ip, H2.mac, S1), 5000);
        await wait(`${H1.ip} -> ${H1.mac} at ${S2} in both arp-caches`, () => ipAt(H1.ip, H1.mac, S2), 5000);
        // The RR has the MAC and MAC/IPv4 routes at the new VTEPs and nothing of either MAC at its
        // old one. IPv6 is left out of the exact set: link-local bindings come and go with the
        // hosts' ND timing.
        const want = [
          `${S1}:${VNI} [2]:[0]:[48]:[${H2.mac}]`,
          `${S1}:${VNI} [2]:[0]:[48]:[${H2.mac}]:[32]:[${H2.ip}]`,
          `${S2}:${VNI} [2]:[0]:[48]:[${H1.mac}]`,
          `${S2}:${VNI} [2]:[0]:[48]:[${H1.mac}]:[32]:[${H1.ip}]`,
        ].sort();
        const learned = async (): Promise<string[]> =>
          (await seed.rr.evpnRoutes())
            .filter((r) => !EVPN_IPS.has(r.rd.split(":")[0]!) && r.prefix.startsWith("[2]"))
            .map((r) => `${r.rd} ${r.prefix}`)
            .sort();
        const stale = (l: string[]): string[] =>
          l.filter(
            (k) =>
              k.startsWith(`${S2}:${VNI} [2]:[0]:[48]:[${H2.mac}]`) ||
              k.startsWith(`${S1}:${VNI} [2]:[0]:[48]:[${H1.mac}]`),
          );
        await wait("RR: the proxy's type 2 routes are those of the new locations", async () => {
          const l = await learned();
          return (
            JSON.stringify(l.filter((k) => !k.includes(":[128]:"))) === JSON.stringify(want) && stale(l).length === 0
          );
        }).catch(async (e: unknown) => {
          throw new Error(`${String(e)}\nRR has:\n${(await learned()).join("\n")}`);
        });
        note(`RR's learned type 2 routes after the move:\n${(await learned()).join("\n")}`);
      });

      if (proxy) {
        assert.ok(proxy.running, `the proxy still runs\n${proxy.logTail(20)}`);
        await proxy.stop();
      }
    });
  },
);
