// The state file's decisions: when a save is due (changes at most every state-save-seconds,
// last-seen times alone less often), and what a start makes of the file it read.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BindingRecord, Learner } from "../../src/dataplane/learning/learner.js";
import { encodeState } from "../../src/state/codec.js";
import { restoreFrom, saveDue, saveTiming } from "../../src/state/policy.js";
import { A, config, FakeFabric, fr, M1, M2, S } from "../helpers/learning.js";

describe("when to save", () => {
  test("refresh-only saves wait a fifth of the ageing time, between the interval and a minute", () => {
    assert.deepEqual(saveTiming(5, 300), { intervalMs: 5 * S, refreshMs: 60 * S });
    assert.deepEqual(saveTiming(5, 100), { intervalMs: 5 * S, refreshMs: 20 * S });
    assert.deepEqual(saveTiming(5, 10), { intervalMs: 5 * S, refreshMs: 5 * S });
    assert.deepEqual(saveTiming(120, 3600), { intervalMs: 120 * S, refreshMs: 120 * S });
  });

  test("changes: due once the interval passed; refreshes: once the refresh time passed; nothing: never", () => {
    const t = saveTiming(5, 300);
    const last = { at: 100 * S, stamp: { changes: 10, refreshes: 7 }, ms: 0 };
    const cases: [number, number, number, boolean][] = [
      [104 * S, 11, 7, false],
      [105 * S, 11, 7, true],
      [105 * S, 10, 8, false],
      [159 * S, 10, 8, false],
      [160 * S, 10, 8, true],
      [10_000 * S, 10, 7, false],
    ];
    for (const [now, changes, refreshes, due] of cases)
      assert.equal(saveDue(now, { changes, refreshes }, last, t), due, `${now / S} s, ${changes}/${refreshes}`);
  });

  test("the next save begins early by the last one's duration (at most half the interval): changes are on disk within the interval", () => {
    const t = saveTiming(5, 300);
    const stamp = { changes: 10, refreshes: 7 };
    const changed = { changes: 11, refreshes: 7 };
    assert.equal(saveDue(104.1 * S, changed, { at: 100 * S, stamp, ms: 800 }, t), false);
    assert.equal(saveDue(104.2 * S, changed, { at: 100 * S, stamp, ms: 800 }, t), true);
    assert.equal(saveDue(102.4 * S, changed, { at: 100 * S, stamp, ms: 9000 }, t), false);
    assert.equal(saveDue(102.5 * S, changed, { at: 100 * S, stamp, ms: 9000 }, t), true);
  });
});

describe("restoring at start", () => {
  const learner = () => new Learner(config(), new FakeFabric());

  test("no file, an unreadable one, a corrupt one: nothing restored, the reason given", () => {
    assert.deepEqual(restoreFrom("/s/f", null, learner(), 0), { type: "state-none", file: "/s/f" });
    assert.deepEqual(restoreFrom("/s/f", "cannot read it: permission denied", learner(), 0), {
      type: "state-ignored",
      file: "/s/f",
      reason: "cannot read it: permission denied",
    });
    const l = learner();
    assert.deepEqual(restoreFrom("/s/f", new Uint8Array(40), l, 0), {
      type: "state-ignored",
      file: "/s/f",
      reason: "not a state file of evpn-proxy (no EVPXSTAT magic)",
    });
    assert.deepEqual(l.table(), []);
  });

  test("a saved table restored, with what was dropped", () => {
    const old = learner();
    old.frame(fr(A, M1, "198.51.100.1"), 0);
    old.frame(fr(A, M2), 0);
    const recs: BindingRecord[] = [];
    const next = old.records();
    while (next(10, (r) => recs.push(structuredClone(r))));
    recs.push({ ...structuredClone(recs[0]!), vni: 99, service: "gone" });
    const l = learner();
    const out = restoreFrom("/s/f", encodeState(5 * S, recs), l, 10 * S);
    assert.deepEqual(out, {
      type: "state-restored",
      file: "/s/f",
      savedAt: 5 * S,
      records: 3,
      restored: 2,
      restoredIps: 1,
      droppedIps: 1,
      dropped: { service: 1, vtep: 0, configured: 0, expired: 0, limit: 0, duplicate: 0, invalid: 0 },
    });
    assert.deepEqual(l.table(), old.table());
  });
});
