// Two replicating proxies (issue 12, acceptance point 5), in the replication lab
// (lab/replication.ts) with a second proxy namespace px2 (192.0.2.5): the static VTEPs s1/s2 flood
// to both proxies, both peer with the route reflector and announce an IMET route of their own.
// They elect one replicator per VNI (RFC 7432 §8.5: candidates ordered by address, index VNI mod
// 2; VNI 10 and VNI 20 both give index 0, 192.0.2.4); the other learns but neither replicates
// nor answers.
//
// 0. Both Established; the RR has both proxies' IMET routes; the FRR VTEPs flood to both.
// 1. No frame twice: ping -c 100 -i 0.02 (fresh neighbour caches) between static and EVPN hosts,
//    static and static, IPv4 and IPv6, both services: no duplicate reply (ping's "+N
//    duplicates", a DUP! line each); an ARP request for an unused address from a static host and
//    from an EVPN host reaches every other host of the VNI exactly once; an ARP request for a
//    known address gets exactly one answer.
// 2. The replicating proxy stops (SIGTERM; its Cease withdraws its IMET route): with fresh
//    neighbour caches, static->EVPN, EVPN->static and static->static pings (their ARP goes through
//    the remaining proxy, the static VTEPs' only other flood entry) succeed again within the BGP
//    hold time, 9 s; then the same bursts as in 1 show no duplicate.
import assert from "node:assert/strict";
import { EVPN_VTEPS, HOSTS, type Host, PROXY_IP, SERVICES, host } from "../../lab/seed.js";
import { PROXY2_IP, UNUSED_IP, ip6, resolutionProblems, resolveWatched } from "../../lab/replication.js";
import { sleep } from "../../tools/netlab/index.js";
import { pingBurst, replicationLabTest } from "./replication-fixtures.js";

/** BGP hold time of the lab's FRR (timers bgp 3 9). */
const HOLD_TIME_MS = 9000;

/** Host pairs across static and EVPN VTEPs, and static to static, both services; [from, to, address]. */
const BURSTS: [Host, Host, string][] = [
  [host(10, "s1"), host(10, "e1"), host(10, "e1").ip],
  [host(10, "e2"), host(10, "s2"), host(10, "s2").ip],
  [host(10, "s1"), host(10, "s2"), host(10, "s2").ip],
  [host(10, "s2"), host(10, "e2"), ip6(host(10, "e2"))],
  [host(20, "s2"), host(20, "e1"), host(20, "e1").ip],
  [host(20, "e2"), host(20, "s1"), host(20, "s1").ip],
  [host(20, "s1"), host(20, "s2"), host(20, "s2").ip],
];

/** Pairs whose address resolution needs a proxy (ARP from or to a static host). */
const FAILOVER: [Host, Host][] = [
  [host(10, "s1"), host(10, "e1")],
  [host(10, "e2"), host(10, "s2")],
  [host(20, "s1"), host(20, "s2")],
];

replicationLabTest(
  "two replicating proxies: no frame twice; the other takes over within the hold time (issue 12: 5)",
  "t12rp",
  { proxies: [PROXY_IP, PROXY2_IP], timeoutMs: 150_000 },
  async ({ lab, rl, note, step, procs, start }) => {
    /** Every burst at once after fresh neighbour caches; returns the summaries, asserts no duplicate. */
    const bursts = async (): Promise<void> => {
      await Promise.all(HOSTS.map((h) => lab.exec(h.name, "ip", ["neigh", "flush", "all"])));
      const res = await Promise.all(BURSTS.map(([from, , ip]) => pingBurst(lab, from.name, ip)));
      const lines = res.map((r, i) => `${BURSTS[i]![0].name} -> ${BURSTS[i]![2]}: ${r.summary}`);
      note(`ping -c 100 -i 0.02:\n${lines.join("\n")}`);
      assert.deepEqual(
        res.map((r, i) => (r.duplicates > 0 ? lines[i] : undefined)).filter(Boolean),
        [],
        "bursts with duplicate replies",
      );
      assert.deepEqual(
        res.map((r, i) => (r.transmitted !== 100 || r.received < 95 ? lines[i] : undefined)).filter(Boolean),
        [],
        "bursts that lost more than 5 of 100",
      );
    };

    await step("0. both proxies Established, both IMET routes at the RR, the FRR VTEPs flood to both", async () => {
      await start();
      const imet = (await rl.rr.evpnRoutes()).filter((r) => r.prefix.startsWith("[3]")).map((r) => r.rd);
      for (const ip of [PROXY_IP, PROXY2_IP])
        for (const s of SERVICES) assert.ok(imet.includes(`${ip}:${s.evi}`), `RR: IMET route ${ip}:${s.evi}`);
      note(`RR IMET routes: ${imet.sort().join(", ")}`);
    });

    await step("1. no duplicate: ping bursts, an unknown address reaches each host once, one ARP answer", async () => {
      await bursts();
      for (const from of [host(10, "s1"), host(10, "e1")]) {
        const r = await resolveWatched(lab, from, UNUSED_IP);
        note(
          `${from.name} asks for ${UNUSED_IP}: answers ${JSON.stringify(r.answers)}, seen ${JSON.stringify(r.seen)}`,
        );
        assert.deepEqual(resolutionProblems(r, null), [], `${from.name} -> ${UNUSED_IP}`);
      }
      const e1 = host(10, "e1");
      const r = await resolveWatched(lab, host(10, "s1"), e1.ip);
      note(`h10s1 asks for ${e1.ip}: answers ${JSON.stringify(r.answers)}, seen ${JSON.stringify(r.seen)}`);
      assert.deepEqual(resolutionProblems(r, e1.mac), [], `h10s1 -> ${e1.ip}`);
    });

    await step("2. the replicating proxy stops: pings succeed again through the other within 9 s", async () => {
      const p1 = procs[PROXY_IP]!;
      const t0 = Date.now();
      await p1.stop(); // from its exit on, nothing goes through it
      const exitedMs = Date.now() - t0;
      const ok = new Map<string, number>();
      let rounds = 0;
      while (ok.size < FAILOVER.length && Date.now() - t0 < 3 * HOLD_TIME_MS) {
        rounds++;
        await Promise.all(
          FAILOVER.filter(([a, b]) => !ok.has(`${a.name}->${b.name}`)).map(async ([a, b]) => {
            await lab.exec(a.name, "ip", ["neigh", "flush", "all"]);
            await lab.exec(b.name, "ip", ["neigh", "flush", "all"]);
            if (await lab.ping(a.name, b.ip, { count: 1, waitS: 1 })) ok.set(`${a.name}->${b.name}`, Date.now() - t0);
          }),
        );
        await sleep(100);
      }
      note(
        `proxy ${PROXY_IP} exited ${JSON.stringify(p1.exitStatus)} ${exitedMs} ms after SIGTERM; ` +
          "first successful ping after SIGTERM (ms): " +
          `${JSON.stringify(Object.fromEntries(ok))} (${rounds} rounds)`,
      );
      assert.deepEqual(p1.exitStatus, { code: 0, signal: null }, `proxy ${PROXY_IP} exit`);
      for (const [a, b] of FAILOVER) {
        const ms = ok.get(`${a.name}->${b.name}`);
        assert.ok(ms !== undefined && ms <= HOLD_TIME_MS, `${a.name} -> ${b.name} pings again after ${ms} ms`);
      }
      assert.ok(procs[PROXY2_IP]!.running, `proxy ${PROXY2_IP} still runs`);
      for (const v of EVPN_VTEPS)
        for (const s of SERVICES)
          assert.ok(
            !(await rl.floodTargets(v.name, s.vni)).includes(PROXY_IP),
            `${v.name} vx${s.vni} floods to ${PROXY_IP}`,
          );
      await bursts();
    });
  },
);
