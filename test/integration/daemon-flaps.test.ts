// Session flaps against `evpn-proxy run` on loopback (the short version of bench/flaps.ts):
// 2,000 learned MACs, damping off, 10 flaps alternating a clean close (Cease NOTIFICATION, FIN)
// and a TCP reset; every new session receives the whole table and End-of-RIB, and the daemon
// holds no more descriptors after the flaps than before.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runFlaps } from "../helpers/flaps-scenario.js";

test("10 flaps with 2,000 learned MACs: each session gets the whole table and End-of-RIB; no descriptor kept", async () => {
  const r = await runFlaps({ flaps: 10, macs: 2000 });
  assert.equal(r.flaps.length, 10);
  for (const f of r.flaps) {
    assert.equal(f.macs, 2000, `flap ${f.flap} (${f.kind}): ${f.macs} MACs`);
    assert.equal(f.imet, 1, `flap ${f.flap}: IMET routes`);
    // Damping off: the daemon accepts the next connection at once; damping would idle 2 s, then 4, 8, …
    assert.ok(
      f.sinceFirstAttemptMs < 1500,
      `flap ${f.flap}: End-of-RIB ${Math.round(f.sinceFirstAttemptMs)} ms after the first attempt`,
    );
  }
  assert.ok(r.running, r.log);
  assert.ok(r.after.fds <= r.before.fds, `descriptors ${r.before.fds} before, ${r.after.fds} after`);
});
