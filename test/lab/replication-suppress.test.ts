// ARP/ND suppression by the proxy (issue 12, acceptance point 3), in the replication lab
// (lab/replication.ts) with the proxy's RFC 9161 proxy-ARP/ND function on (the default with
// `replication: proxy`). A static host asks, once, with arping or ndisc6, while tcpdump listens on
// eth0 of every other host of its service:
// - for a known address — an EVPN host's IPv4 and IPv6 (entries from FRR's MAC/IP routes) and the
//   other static host's IPv4 (a dynamic entry, learned from the ARP requests of a ping) — the
//   answer carries that host's MAC and no other host sees the request (0 each);
// - for an unused address (IPv4 and IPv6) there is no answer and every other host sees the
//   request exactly once (replicated once to each VTEP, never back).
// Both services: VNI 10 from h10s1, VNI 20 from h20s2.
import assert from "node:assert/strict";
import { host } from "../../lab/seed.js";
import { questions, replicationConfigYaml, resolutionProblems, resolveWatched } from "../../lab/replication.js";
import { replicationLabTest } from "./replication-fixtures.js";

replicationLabTest(
  "replication lab: the proxy answers ARP and NS for known addresses, replicates the rest once (issue 12: 3)",
  "t12rs",
  {},
  async ({ lab, note, step, start }) => {
    await step("0. the proxy replicates; the static hosts ping, so that it learns their addresses", async () => {
      assert.doesNotMatch(replicationConfigYaml(), /arp-nd-proxy/, "the ARP/ND proxy is on by default");
      await start();
      for (const [a, b] of [
        [host(10, "s2"), host(10, "e2")],
        [host(20, "s1"), host(20, "e1")],
      ] as const)
        assert.ok(await lab.ping(a.name, b.ip, { waitS: 1 }), `${a.name} -> ${b.name}`);
      note("h10s2 and h20s1 have sent ARP requests");
    });

    for (const [vni, vtep] of [
      [10, "s1"],
      [20, "s2"],
    ] as const) {
      await step(`VNI ${vni}: ${host(vni, vtep).name} asks for known and unused addresses`, async () => {
        const problems: string[] = [];
        for (const q of questions(vni, vtep)) {
          const r = await resolveWatched(lab, q.from, q.ip);
          const p = resolutionProblems(r, q.want);
          const captured = Object.entries(r.lines).flatMap(([h, ls]) => ls.map((l) => `${h}: ${l}`));
          note(
            `${q.from.name} asks for ${q.ip} (${q.what}): answered by ${r.answers.join(", ") || "nobody"}, ` +
              `requests seen ${JSON.stringify(r.seen)}${p.length ? ` — ${p.join("; ")}` : ""}` +
              (captured.length ? `\n${captured.join("\n")}` : ""),
          );
          problems.push(...p.map((x) => `${q.ip}: ${x}`));
        }
        assert.deepEqual(problems, []);
      });
    }
  },
);
