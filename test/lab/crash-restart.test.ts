// Durable learned state, the short version of bench/crash-restart.ts (test/helpers/crash-lab.ts
// has the lab): evpn-proxy is killed with SIGKILL twice while it learns new MACs at 1,000/s, with
// gobgpd as the graceful-restart helper. After each restart every MAC it had learned more than
// state-save-seconds before the kill is in its initial table, End-of-RIB comes within seconds,
// gobgpd kept our routes while we were down and, once its session is back, holds what we
// announced again (the IMET route and the initial table: nothing restored was swept).
import assert from "node:assert/strict";
import { test } from "node:test";
import { withLab } from "../../tools/netlab/index.js";
import { crashCycles } from "../helpers/crash-lab.js";
import { requireTools } from "../helpers/env.js";

test("SIGKILL twice while learning: the initial table after each restart holds every MAC saved", async (t) => {
  if (!requireTools(t, ["ip", "ss", "gobgpd", "gobgp"], { root: true })) return;
  await withLab(t, "tcrash", async (lab) => {
    const cycles = await crashCycles(lab, {
      cycles: 2,
      saveSeconds: 2,
      ageingSeconds: 40,
      rate: 1000,
      killAfterMs: [4000, 6000],
      seed: 7,
    });
    for (const c of cycles) {
      const what = `cycle ${c.cycle}: ${JSON.stringify(c)}`;
      assert.ok(c.old > 1000, what);
      assert.equal(c.lost, 0, what);
      assert.match(c.restoreLog, /^restored \d+ learned MAC\(s\) and 0 IP\(s\) of \d+ saved; 0 dropped$/, what);
      assert.ok(c.table >= c.old, what);
      assert.ok(c.restartToEorMs < 10_000, what);
      assert.ok(c.gobgpPaths.down >= c.gobgpPaths.atKill, `${what}: gobgpd kept our routes (stale) while we were down`);
      // gobgpd 3.10 may take long to take our new session (see crash-lab.ts); once it has, it
      // sweeps what it kept and holds exactly the IMET route and the initial table.
      if (c.restartToGobgpMs !== null) assert.notEqual(c.restartToSweptMs, null, `${what}: gobgpd swept to our table`);
    }
  });
});
