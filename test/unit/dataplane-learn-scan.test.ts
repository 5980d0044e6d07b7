// Listing the learning engine's table by slot (Learner.scan) and one MAC (Learner.row): every MAC
// present from the first page to the last is met exactly once, whatever ages or arrives between
// pages; rows equal table()'s. An operator's release of every duplicate. Documentation addresses only.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Learner, type LearnedBinding } from "../../src/dataplane/learning/learner.js";
import { A, B, config, FakeFabric, fr, S } from "../helpers/learning.js";

const mac = (i: number) =>
  `02:00:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;

function all(l: Learner, page: number, match?: (vni: number, vtep: string) => boolean): LearnedBinding[] {
  const out: LearnedBinding[] = [];
  for (let from = 0; from !== -1;) from = l.scan(from, page, out, match);
  return out;
}

test("pages by slot give the rows of table(), each once; a filter by VTEP", () => {
  const l = new Learner(config(), new FakeFabric());
  for (let i = 0; i < 50; i++) l.frame(fr(i % 2 ? A : B, mac(i), `198.51.100.${i + 1}`), 0);
  const byMac = (a: LearnedBinding, b: LearnedBinding) => (a.mac < b.mac ? -1 : 1);
  for (const page of [1, 7, 50, 1000]) assert.deepEqual(all(l, page).sort(byMac), l.table());
  const atA = all(l, 9, (_vni, vtep) => vtep === A);
  assert.equal(atA.length, 25);
  assert.ok(atA.every((r) => r.vtep === A));
  assert.deepEqual(
    l.row(10, mac(3)),
    l.table().find((r) => r.mac === mac(3)),
  );
  assert.equal(l.row(10, "02:00:00:00:ff:ff"), undefined);
  assert.equal(l.row(11, mac(3)), undefined);
});

test("MACs present throughout are met once while others age out and new ones arrive between pages", () => {
  const l = new Learner(config(), new FakeFabric());
  for (let i = 0; i < 40; i++) l.frame(fr(A, mac(i), null, 10, "arp-probe"), 0);
  // The even ones stay fresh; the odd ones age out during the listing.
  for (let i = 0; i < 40; i += 2) l.frame(fr(A, mac(i), null, 10, "arp-probe"), 200 * S);
  const out: LearnedBinding[] = [];
  let from = l.scan(0, 10, out);
  l.tick(301 * S); // the odd ones age out: their slots are freed
  for (let i = 100; i < 130; i++) l.frame(fr(A, mac(i), null, 10, "arp-probe"), 301 * S); // reuse freed slots
  while (from !== -1) from = l.scan(from, 10, out);
  const seen = out.map((r) => r.mac);
  assert.equal(new Set(seen).size, seen.length, "no MAC twice");
  for (let i = 0; i < 40; i += 2) assert.ok(seen.includes(mac(i)), `${mac(i)} present throughout`);
});

test("releaseDuplicates: every frozen MAC released at once, with its event", () => {
  const l = new Learner(config({ maxMoves: 1 }), new FakeFabric());
  const m = mac(1);
  l.frame(fr(A, m, null, 10, "arp-probe"), 0);
  l.frame(fr(B, m, null, 10, "arp-probe"), S);
  l.frame(fr(A, m, null, 10, "arp-probe"), 2 * S); // the second move: a duplicate
  assert.equal(l.row(10, m)?.duplicate, true);
  assert.deepEqual(l.releaseDuplicates(), [{ type: "event", event: "duplicate-released", vni: 10, vtep: B, mac: m }]);
  assert.equal(l.row(10, m)?.duplicate, false);
  assert.deepEqual(l.releaseDuplicates(), []);
});

test("an empty table and a start past the end: no rows, -1", () => {
  const l = new Learner(config(), new FakeFabric());
  const out: LearnedBinding[] = [];
  assert.equal(l.scan(0, 100, out), -1);
  assert.equal(l.scan(1_000_000, 100, out), -1);
  assert.deepEqual(out, []);
});
