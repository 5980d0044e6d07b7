// Replication mode in the seed's topology (issue 12, acceptance points 2 and 4), built by
// lab/replication.ts: the static VTEPs s1/s2 flood only to the proxy and learn (flood-and-learn,
// strict rp_filter), the FRR VTEPs run neigh_suppress with SVIs, the proxy runs
// `replication: proxy` with copies keeping the sender's outer source (`replication-source: vtep`)
// and its ARP/ND proxy on (the default).
//
// 0. The proxy replaces the static VTEPs' IMET routes by one of its own per service (RD
//    <proxy>:<EVI>, originator 192.0.2.4, the replicator marker <as>:0x45565058:2); the FRR VTEPs
//    flood to it and to each other only.
// 1. (point 2) Every host pair pings, both services, IPv4 and IPv6; strict rp_filter on s1/s2
//    dropped nothing (IPReversePathFilter stays 0: the preserved sources are on-link on eth0).
// 2. (point 4) With h10s1's and h10s2's MACs forgotten by s1/s2 and the hosts' neighbour caches
//    flushed, h10s1 pings h10s2: its ARP request is answered by the proxy (h10s2 sees none of
//    it), and afterwards s1 has h10s2's MAC at s2's address and s2 has h10s1's at s1's, neither
//    at the proxy's.
import assert from "node:assert/strict";
import { EVPN_VTEPS, HOSTS, PROXY_IP, SERVICES, STATIC_VTEPS, formatMatrix, host } from "../../lab/seed.js";
import { forgetMac } from "../../lab/replication.js";
import { REPLICATOR_MARKER, replicationLabTest, rpFilterDrops } from "./replication-fixtures.js";

const [H1, H2] = [host(10, "s1"), host(10, "s2")];

replicationLabTest(
  "replication lab: every pair pings through the proxy; flood-and-learn VTEPs learn at the real VTEP (issue 12: 2, 4)",
  "t12rl",
  {},
  async ({ lab, rl, note, step, start }) => {
    await step("0. one IMET route per service, the proxy's own; FRR floods to it, not to s1/s2", async () => {
      await start();
      const imet = (await rl.rr.evpnRoutes()).filter((r) => r.prefix.startsWith("[3]"));
      const mine = imet.filter((r) => r.paths.some((p) => p.peerId === PROXY_IP));
      assert.deepEqual(
        mine.map((r) => `${r.rd} ${r.prefix}`).sort(),
        SERVICES.map((s) => `${PROXY_IP}:${s.evi} [3]:[0]:[32]:[${PROXY_IP}]`).sort(),
      );
      for (const r of mine) {
        // the flat route table has no communities; the table of one RD has them
        const detail = await rl.rr.vtyshJson<unknown>(`show bgp l2vpn evpn route rd ${r.rd} json`);
        assert.match(JSON.stringify(detail), REPLICATOR_MARKER, `${r.rd}: the replicator marker`);
      }
      const statics = new Set(STATIC_VTEPS.map((v) => v.ip));
      assert.deepEqual(
        imet.filter((r) => [...statics].some((ip) => r.prefix.includes(`[${ip}]`))).map((r) => r.rd),
        [],
        "no IMET route for a static VTEP",
      );
      const fl: string[] = [];
      for (const v of EVPN_VTEPS)
        for (const s of SERVICES) {
          const others = EVPN_VTEPS.filter((o) => o !== v).map((o) => o.ip);
          const got = await rl.floodTargets(v.name, s.vni);
          assert.deepEqual(got, [...others, PROXY_IP].sort(), `${v.name} vx${s.vni}: flood entries`);
          fl.push(`${v.name} vx${s.vni}: ${got.join(", ")}`);
        }
      note(
        `the RR's IMET routes of the proxy: ${mine.map((r) => r.rd).join(", ")}; kernel flood entries ${fl.join("; ")}`,
      );
    });

    await step("1. every host pair pings, both services, IPv4 and IPv6; strict rp_filter drops nothing", async () => {
      const m4 = await rl.pingMatrix();
      note(`IPv4:\n${formatMatrix(m4, "after")}`);
      const m6 = await rl.pingMatrix6();
      note(`IPv6:\n${formatMatrix(m6, "after")}`);
      const fails = [...m4, ...m6].filter((r) => !r.ok).map((r) => `${r.from.name}->${r.to.name}`);
      assert.equal(m4.length + m6.length, 2 * SERVICES.length * 4 * 3);
      assert.deepEqual(fails, [], "pairs that do not ping");
      for (const v of STATIC_VTEPS) {
        for (const conf of ["all", "eth0"]) {
          const r = await lab.exec(v.name, "cat", [`/proc/sys/net/ipv4/conf/${conf}/rp_filter`]);
          assert.equal(r.stdout.trim(), "1", `${v.name} ${conf}.rp_filter`);
        }
        assert.equal(await rpFilterDrops(lab, v.name), 0, `${v.name}: packets dropped by rp_filter`);
      }
      note("rp_filter 1 on s1/s2 (all, eth0), TcpExtIPReversePathFilter 0 on both");
    });

    await step(
      "2. h10s1 pings h10s2 (ARP answered by the proxy): each VTEP learns the other's MAC at its address",
      async () => {
        for (const v of STATIC_VTEPS) for (const h of [H1, H2]) await forgetMac(lab, v.name, 10, h.mac);
        await Promise.all(HOSTS.map((h) => lab.exec(h.name, "ip", ["neigh", "flush", "all"])));
        const cap = await lab.capture(H2.name, "eth0", "arp");
        const ok = await lab.ping(H1.name, H2.ip, { count: 3, waitS: 1 });
        const arp = await cap.lines();
        note(`h10s1 -> h10s2: ${ok ? "answered" : "NOT answered"}; ARP at h10s2:\n${arp.join("\n") || "(none)"}`);
        const [s1, s2] = await Promise.all([rl.vxlanFdb("s1", 10), rl.vxlanFdb("s2", 10)]);
        note(`s1 vx10: ${JSON.stringify(s1)}\ns2 vx10: ${JSON.stringify(s2)}`);
        assert.ok(ok, "h10s1 -> h10s2 answered");
        const at = (fdb: typeof s1, mac: string): string[] => fdb.filter((e) => e.mac === mac).map((e) => e.dst);
        assert.deepEqual(at(s1, H2.mac), [STATIC_VTEPS[1]!.ip], "s1: h10s2's MAC at s2 only");
        assert.deepEqual(at(s2, H1.mac), [STATIC_VTEPS[0]!.ip], "s2: h10s1's MAC at s1 only");
        for (const [name, fdb] of [
          ["s1", s1],
          ["s2", s2],
        ] as const)
          assert.deepEqual(
            fdb.filter((e) => e.dst === PROXY_IP).map((e) => e.mac),
            ["00:00:00:00:00:00"],
            `${name}: nothing but the flood entry at the proxy's address`,
          );
        assert.deepEqual(
          arp.filter((l) => l.includes(`Request who-has ${H2.ip} `)),
          [],
          "h10s2 saw h10s1's ARP request: it was replicated, not answered by the proxy",
        );
      },
    );
  },
);
