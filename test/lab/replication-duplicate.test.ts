// Duplicate IP detection of the proxy's ARP/ND function (issue 12, acceptance point 6; RFC 9161
// §3.7: an IP whose MAC changes more than 5 times within 180 s is a duplicate and no longer
// answered), in the replication lab (lab/replication.ts), default settings.
//
// The contested address X = 198.51.100.66 belongs to no host: the claims are gratuitous ARPs
// (`arping -U -S X X`, a broadcast "who-has X tell X") sent by h10s2 and h10s1, so that any answer
// to a request for X can only come from the proxy.
// 1. h10s2 claims X; h10s1's ARP request for X is answered with h10s2's MAC (by the proxy).
// 2. Six moves within a few seconds (claims by h10s1, h10s2, h10s1, h10s2, h10s1, h10s2): the
//    proxy logs "arp-nd: duplicate 198.51.100.66" (a warning, with the IP and VNI).
// 3. h10s1 asks for X again: no answer, and the request is replicated to every other host of
//    VNI 10 exactly once (the proxy stopped vouching for either claimant).
import assert from "node:assert/strict";
import { PROXY_IP, host } from "../../lab/seed.js";
import { logLinesMatching, resolutionProblems, resolveWatched, waitWithProxies } from "../../lab/replication.js";
import { type LabProcess, arping, gratuitousArp, sleep } from "../../tools/netlab/index.js";
import { replicationLabTest } from "./replication-fixtures.js";

const X = "198.51.100.66";
const [H1, H2] = [host(10, "s1"), host(10, "s2")];
/** RFC 9161 §3.7 default: more than 5 moves within 180 s. */
const MOVES = 6;

replicationLabTest(
  "replication lab: an IP claimed by two hosts six times within a minute is no longer answered (issue 12: 6)",
  "t12rd",
  {},
  async ({ lab, note, step, procs, start }) => {
    let proxy: LabProcess | undefined;
    const duplicateLines = (): Record<string, unknown>[] =>
      logLinesMatching(proxy!, /^arp-nd: duplicate\b/).filter((l) => l["event"] === "duplicate");

    await step("1. h10s2 claims X: the proxy answers h10s1's request for X with h10s2's MAC", async () => {
      await start();
      proxy = procs[PROXY_IP]!;
      await gratuitousArp(lab, H2.name, X);
      const answers = await waitWithProxies(lab, [proxy], `the proxy answers ${X} with ${H2.mac}`, async () => {
        const a = await arping(lab, H1.name, X, { count: 1, deadlineS: 1 });
        return a.length > 0 && a;
      });
      note(`h10s1 arping ${X}: ${JSON.stringify(answers)}`);
      assert.deepEqual(answers, [{ mac: H2.mac, ip: X }]);
      assert.deepEqual(duplicateLines(), [], "no duplicate yet");
    });

    await step(`2. ${MOVES} moves between h10s1 and h10s2 within seconds: the proxy logs the duplicate`, async () => {
      /** When each claim was sent: the duplicate's log time tells which claim made it. */
      const sentAt: number[] = [];
      for (let i = 0; i < MOVES; i++) {
        sentAt.push(Date.now());
        await gratuitousArp(lab, (i % 2 === 0 ? H1 : H2).name, X);
        await sleep(200);
      }
      note(`${MOVES} claims (h10s1 first, h10s2 last) sent at +${sentAt.map((x) => x - sentAt[0]!).join(", +")} ms`);
      const lines = await waitWithProxies(lab, [proxy!], `the proxy logs arp-nd: duplicate ${X}`, async () => {
        const l = duplicateLines();
        return l.length > 0 && l;
      });
      note(`proxy log: ${lines.map((l) => JSON.stringify(l)).join("\n")}`);
      assert.equal(lines.length, 1, "one duplicate event");
      const at = Number(lines[0]!["time"]);
      note(`the duplicate was logged ${at - sentAt[0]!} ms after the first claim`);
      assert.ok(at >= sentAt[MOVES - 1]!, `the duplicate comes with move ${MOVES}, not before`);
      assert.equal(lines[0]!["ip"], X);
      assert.equal(lines[0]!["vni"], 10);
      assert.equal(lines[0]!["level"], 40, "logged as a warning");
    });

    await step("3. h10s1 asks for X: no answer; the request reaches every other host once", async () => {
      const r = await resolveWatched(lab, H1, X);
      note(`h10s1 asks for ${X}: answers ${JSON.stringify(r.answers)}, seen ${JSON.stringify(r.seen)}`);
      assert.deepEqual(resolutionProblems(r, null), []);
    });
  },
);
