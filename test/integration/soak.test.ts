// The soak, short (bench/soak.ts runs it for 30 minutes; test/helpers/soak.ts has the scenario):
// a minute of churn — learning at two static VTEPs, moves, ageing, duplicates, a second service,
// a reload every 10 s, a BGP flap every 20 s (a Cease, then a TCP reset) — on loopback. Every
// session gets End-of-RIB holding every stable host; every reload is applied; every warn/error
// line the daemon logs is explained by the churn; at the end the descriptors are back to where
// they started, the learned table holds exactly the stable hosts, and live memory (after full
// GCs) has not grown beyond a loose bound.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runSoak } from "../helpers/soak.js";

const STABLE = 200;

test("a minute of churn: End-of-RIB after every flap, every reload applied, no unexplained log line, no descriptor or memory growth", async () => {
  const workDir = mkdtempSync(join(tmpdir(), "evpn-proxy-soak-test-"));
  let keep = true;
  try {
    const r = await runSoak({
      seconds: 60,
      net: 60,
      workDir,
      reloadEverySeconds: 10,
      flapEverySeconds: 20,
      flapOffsetSeconds: 5,
      sampleEverySeconds: 2,
      gcEverySeconds: 5,
      warmupSeconds: 20,
      ageingSeconds: 8,
      freezeSeconds: 10,
      newPerSecond: 50,
      vni20PerSecond: 10,
      moveEvery: 5,
      moveAfterSeconds: 2,
      stableHosts: STABLE,
      stableRefreshSeconds: 3,
      bouncing: 2,
      bounceEverySeconds: 1,
    });
    const what = (x: unknown) => `${JSON.stringify(x)}\n(daemon log: ${r.logFile})`;

    assert.deepEqual(r.log.unexplained, [], what(r.log));
    assert.equal(r.log.reloads, r.reloadsSent, what(r.log));
    assert.ok(r.reloadsSent >= 5, what(r.reloadsSent));

    const flaps = r.sessions.length - 1;
    assert.ok(flaps >= 3, what(r.sessions));
    assert.ok(
      r.sessions.some((s) => s.after === "close") && r.sessions.some((s) => s.after === "reset"),
      what(r.sessions),
    );
    for (const s of r.sessions) {
      assert.deepEqual(s.missingAtEor, [], what(s));
      // After the first minute: the stable hosts' MAC routes, the IMET routes and the churn's.
      if (s.n > 1) assert.ok(s.routesAtEor > STABLE + 2, what(s));
    }
    // One per flap, and the last session's at the end.
    assert.equal(r.log.explained["session down (the peer's flap)"], flaps + 1, what(r.log));
    assert.ok(r.sent.moves > 0 && r.sent.bounces > 0 && r.sent.vni20 > 0, what(r.sent));

    assert.ok(r.final.fdsEnd <= r.final.fdsBaseline, `descriptors: ${what(r.final)}`);
    assert.deepEqual(r.final.peerMissing, [], what(r.final));
    assert.deepEqual(r.final.peerExtra, [], what(r.final));
    assert.equal(r.final.daemonLearned, STABLE, what(r.final));

    // Live memory after full GCs: the warm-up's level and the end's, at most 4 MiB apart.
    const live = r.gc.map((g) => (g.heapUsed + g.arrayBuffers) / 2 ** 20);
    const atWarm = live[r.gc.findIndex((g) => g.t >= 20)]!;
    assert.ok(live[live.length - 1]! - atWarm < 4, `live MiB: ${live.map((x) => x.toFixed(2)).join(" ")}`);
    assert.equal(r.exitCode, 0, what(r.exitCode));
    keep = false;
  } finally {
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  }
});
