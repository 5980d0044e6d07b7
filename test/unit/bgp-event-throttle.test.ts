// Log volume under attack: refused connections are reported once per source and window, the
// rest summed when the window ends (fake clock; the speaker's timer is in the integration test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventThrottle, RefusalThrottle } from "../../src/bgp/event-throttle.js";
import type { SpeakerEvent } from "../../src/bgp/events.js";

const unconfigured = (remote: string): SpeakerEvent => ({ kind: "unconfigured-connection", remote, remotePort: 1 });

test("per source: the first event of a window passes, the others are summed when it ends", () => {
  const out: SpeakerEvent[] = [];
  const r = new RefusalThrottle(60_000, (e) => out.push(e));
  let passed = 0;
  for (let i = 0; i < 2000; i++) if (r.admit(unconfigured("192.0.2.9"), 1000 + i)) passed++;
  assert.equal(passed, 1);
  assert.equal(r.windowEnd, 61_000);
  assert.equal(r.admit({ kind: "connection-refused", peer: "192.0.2.1", reason: "idle hold" }, 2000), true);
  assert.equal(r.admit({ kind: "connection-refused", peer: "192.0.2.1", reason: "idle hold" }, 2001), false);
  // other kinds are never held back
  assert.equal(r.admit({ kind: "end-of-rib", peer: "192.0.2.1", afi: 25, safi: 70 }, 2002), true);
  assert.deepEqual(out, []);
  // the next event after the window ends it: the sums first, then it passes
  assert.equal(r.admit(unconfigured("192.0.2.9"), 61_000), true);
  assert.deepEqual(out, [
    { kind: "refusals-summed", reason: "unconfigured", source: "192.0.2.9", count: 1999, windowMs: 60_000 },
    { kind: "refusals-summed", reason: "refused", source: "192.0.2.1", count: 1, windowMs: 60_000 },
  ]);
  // flush (timer, stop) ends a window with nothing summed: no event
  r.flush();
  assert.equal(out.length, 2);
  assert.equal(r.windowEnd, -Infinity);
});

test("sources past the maximum share one key, summed as '*'", () => {
  const out: SpeakerEvent[] = [];
  const r = new RefusalThrottle(1000, (e) => out.push(e), 2);
  const passed = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"].filter((a) =>
    r.admit(unconfigured(a), 0),
  );
  // two tracked sources and the first of the overflow key pass; the other two are summed
  assert.deepEqual(passed, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]);
  r.flush();
  assert.deepEqual(out, [{ kind: "refusals-summed", reason: "unconfigured", source: "*", count: 2, windowMs: 1000 }]);
});

test("windows follow the clock: one opens at the first event after the previous one ended", () => {
  const sums: [string, number][] = [];
  const t = new EventThrottle<number>(100, 10, "*", (s, key) => sums.push([key, s.count]));
  assert.equal(t.pass("a", 1, 50), true);
  assert.equal(t.pass("a", 2, 149), false);
  assert.equal(t.windowEnd, 150);
  assert.equal(t.pass("a", 3, 150), true); // a new window: the previous one's sum reported
  assert.deepEqual(sums, [["a", 1]]);
  assert.equal(t.windowEnd, 250);
});
