// Flood lists and the election of one replicating proxy per VNI (RFC 7432 §8.5), on a fake clock.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DF_WAIT_MS, FloodLists, type VtepRole } from "../../src/dataplane/replication/flood.js";

const SELF = "192.0.2.4";
const OTHER = "192.0.2.5";

function copies(f: FloodLists, vni: number, from: string, role: VtepRole): string[] {
  const out: string[] = [];
  f.forEachCopy(f.get(vni)!, from, role, (v) => out.push(v));
  return out;
}

describe("flood lists", () => {
  test("from a static VTEP to every other VTEP; from an EVPN VTEP to the static ones; never back, never to a proxy", () => {
    const f = new FloodLists(SELF);
    f.update(
      {
        vni: 10,
        statics: ["192.0.2.2", "192.0.2.1", "192.0.2.10"],
        evpn: ["192.0.2.12", "192.0.2.11"],
        replicators: [],
      },
      0,
    );
    assert.deepEqual(copies(f, 10, "192.0.2.1", "static"), ["192.0.2.2", "192.0.2.10", "192.0.2.11", "192.0.2.12"]);
    assert.deepEqual(copies(f, 10, "192.0.2.11", "evpn"), ["192.0.2.1", "192.0.2.2", "192.0.2.10"]);
    assert.deepEqual(copies(f, 10, OTHER, "replicator"), []);
    assert.equal(f.get(10)!.role.get("192.0.2.11"), "evpn");
    assert.equal(f.get(10)!.role.get("192.0.2.10"), "static");
  });

  test("a static VTEP that announces its own IMET route is an EVPN VTEP; the proxy itself is never a target", () => {
    const f = new FloodLists(SELF);
    f.update({ vni: 10, statics: ["192.0.2.1", "192.0.2.2", SELF], evpn: ["192.0.2.2"], replicators: [] }, 0);
    assert.deepEqual(copies(f, 10, "192.0.2.1", "static"), ["192.0.2.2"]);
    assert.deepEqual(copies(f, 10, "192.0.2.2", "evpn"), ["192.0.2.1"]);
  });

  test("update reports changes only", () => {
    const f = new FloodLists(SELF);
    assert.equal(f.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [] }, 0), true);
    assert.equal(f.update({ vni: 10, statics: ["192.0.2.1", "192.0.2.1"], evpn: [], replicators: [] }, 5), false);
    assert.equal(f.update({ vni: 10, statics: ["192.0.2.1"], evpn: ["192.0.2.11"], replicators: [] }, 5), true);
    f.retain(new Set([20]));
    assert.equal(f.get(10), undefined);
  });
});

describe("one replicator per VNI (RFC 7432 §8.5 service carving)", () => {
  test("alone: forwards after the DF wait timer", () => {
    const f = new FloodLists(SELF);
    f.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [] }, 1000);
    assert.equal(f.forwards(10, 1000), false);
    assert.equal(f.nextDeadline(1000), 1000 + DF_WAIT_MS);
    assert.equal(f.forwards(10, 1000 + DF_WAIT_MS), true);
    assert.equal(f.nextDeadline(1000 + DF_WAIT_MS), undefined);
    assert.equal(f.forwards(99, 1000 + DF_WAIT_MS), false, "no such VNI");
  });

  test("two proxies: candidates[vni mod 2]; both compute the same; exactly one forwards", () => {
    const a = new FloodLists(SELF);
    const b = new FloodLists(OTHER);
    for (const vni of [10, 11]) {
      a.update({ vni, statics: ["192.0.2.1"], evpn: [], replicators: [OTHER] }, 0);
      b.update({ vni, statics: ["192.0.2.1"], evpn: [], replicators: [SELF] }, 0);
    }
    const t = DF_WAIT_MS;
    assert.deepEqual([a.get(10)!.elected, b.get(10)!.elected], [SELF, SELF], "10 mod 2 = 0: the lower address");
    assert.deepEqual([a.get(11)!.elected, b.get(11)!.elected], [OTHER, OTHER]);
    assert.deepEqual(
      [a.forwards(10, t), b.forwards(10, t), a.forwards(11, t), b.forwards(11, t)],
      [true, false, false, true],
    );
    assert.deepEqual(copies(a, 10, "192.0.2.1", "static"), [], "never to the other proxy");
  });

  test("the other proxy's IMET route goes: take over at once; it comes back: hand over at once, take over after the wait", () => {
    const a = new FloodLists(OTHER); // the higher address: not elected for VNI 10 while SELF is there
    a.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [SELF] }, 0);
    assert.equal(a.forwards(10, 10_000), false);
    a.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [] }, 20_000);
    assert.equal(a.forwards(10, 20_000), true, "the elected one is gone: no duplicate possible");
    a.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [SELF] }, 30_000);
    assert.equal(a.forwards(10, 30_000), false, "a new lower candidate: stop at once");
    const b = new FloodLists(SELF);
    b.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [] }, 0);
    b.update({ vni: 10, statics: ["192.0.2.1"], evpn: [], replicators: [OTHER] }, 10_000);
    assert.equal(b.forwards(10, 10_000), true, "still elected: no interruption");
    const c = new FloodLists(SELF);
    c.update({ vni: 10, statics: [], evpn: [], replicators: [OTHER] }, 0);
    c.update({ vni: 11, statics: [], evpn: [], replicators: [OTHER] }, 0);
    c.update({ vni: 11, statics: [], evpn: [], replicators: ["192.0.2.3", OTHER] }, 1000);
    // VNI 11 with three candidates: 11 mod 3 = 2 → 192.0.2.5; with two it was 192.0.2.5 too.
    assert.equal(c.get(11)!.elected, OTHER);
    assert.equal(c.forwards(10, DF_WAIT_MS), true);
  });
});
