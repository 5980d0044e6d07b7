// The proxy table's timers on a fake clock: refresh of silent hosts at half the ageing time and
// age-out at the full time (RFC 9161 §3.5), duplicate IP detection with its confirmation,
// hold-down and release (RFC 9161 §3.7), gratuitous announcements of new static and EVPN entries
// (RFC 9161 §3.2) and their pacing. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ArpNdProxy } from "../../src/dataplane/arpnd/proxy.js";
import { type ArpNdAction, FLAG_OVERRIDE, FLAG_ROUTER } from "../../src/dataplane/arpnd/types.js";
import { A, B, C, E, IP1, IP2, IP6, M1, M2, proxy, REQ, S } from "../helpers/arpnd.js";

function show(actions: ArpNdAction[]): string[] {
  return actions.map((a) => {
    if (a.type === "refresh") return `${a.reason} ${a.ip} ${a.mac}@${a.vtep}`;
    if (a.type === "garp")
      return `garp ${a.ip} ${a.mac}@${a.vtep ?? "-"}${a.router ? " R" : ""}${a.override ? " O" : ""}`;
    return `${a.event} ${a.ip ?? ""} ${a.mac ?? ""}`.trim();
  });
}

function answer(p: ArpNdProxy, ip: string, now: number): string {
  const d = p.request(10, ip, C, REQ, now);
  return d.kind === "reply" ? d.mac : `${d.kind} ${d.reason}`;
}

describe("refresh and ageing (RFC 9161 §3.5)", () => {
  test("one refresh at half the ageing time towards the entry's VTEP; gone at the full time", () => {
    const p = proxy({}, { ageingSeconds: 300 });
    p.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(p.nextDeadline(), 151 * S); // half, plus the 1 s queueing granularity
    assert.deepEqual(p.tick(150 * S), []);
    assert.deepEqual(show(p.tick(151 * S)), [`refresh ${IP1} ${M1}@${A}`]);
    assert.deepEqual(p.tick(200 * S), []); // one refresh only
    assert.equal(answer(p, IP1, 200 * S), M1); // the entry stays until the full ageing time
    assert.equal(p.nextDeadline(), 301 * S);
    assert.deepEqual(p.tick(301 * S), []);
    assert.equal(answer(p, IP1, 301 * S), "flood unknown");
    assert.deepEqual([p.counters().refreshes, p.counters().aged, p.size()], [1, 1, 0]);
    assert.equal(p.nextDeadline(), undefined);
  });

  test("a host that answers the refresh is kept, and refreshed again half an ageing time later", () => {
    const p = proxy({}, { ageingSeconds: 300 });
    p.learn(10, IP1, M1, A, 0, 0, 0);
    p.tick(151 * S);
    assert.equal(p.learn(10, IP1, M1, A, 0, 0, 152 * S), "refreshed"); // its reply
    assert.deepEqual(p.tick(301 * S), []);
    assert.equal(answer(p, IP1, 301 * S), M1);
    assert.deepEqual(show(p.tick(303 * S)), [`refresh ${IP1} ${M1}@${A}`]);
  });

  test("an aged dynamic entry with an EVPN route held under it gives way to the route", () => {
    const p = proxy({}, { ageingSeconds: 10 });
    p.evpn(10, IP1, M2, E, 0, 0, 0);
    p.tick(0);
    p.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(answer(p, IP1, 0), M1);
    // Taking the IP from the route's MAC asked that MAC to confirm (see duplicate detection).
    assert.deepEqual(show(p.tick(11 * S)), [
      `confirm ${IP1} ${M2}@${E}`,
      `refresh ${IP1} ${M1}@${A}`,
      `garp ${IP1} ${M2}@${E}`,
    ]);
    assert.equal(answer(p, IP1, 11 * S), M2);
  });

  test("tick is incremental: a budget leaves the rest due", () => {
    const p = proxy({}, { ageingSeconds: 10 });
    for (let i = 1; i <= 5; i++) p.learn(10, `203.0.113.${i}`, M1, A, 0, 0, 0);
    assert.equal(p.tick(6 * S, 2).length, 2);
    assert.equal(p.nextDeadline(), 6 * S);
    assert.equal(p.tick(6 * S, 10).length, 3);
    assert.equal(p.nextDeadline(), 11 * S);
  });
});

describe("duplicate IP detection (RFC 9161 §3.7)", () => {
  /** Two hosts claim IP1 in turn: `n` MAC changes after the first binding, `gap` ms apart. */
  function fight(p: ArpNdProxy, n: number, gap: number): string[] {
    const results = [p.learn(10, IP1, M1, A, 0, 0, 0)];
    for (let k = 1; k <= n; k++) results.push(p.learn(10, IP1, k % 2 ? M2 : M1, k % 2 ? B : A, 0, 0, k * gap));
    return results;
  }

  test("6 MAC changes within a minute: no longer answered, an event; released after the hold-down", () => {
    const p = proxy();
    const r = fight(p, 6, 10 * S);
    assert.deepEqual(r, ["learned", "moved", "moved", "moved", "moved", "moved", "duplicate"]);
    const acts = p.drain();
    assert.deepEqual(
      show(acts).filter((a) => !a.startsWith("confirm")),
      [`duplicate ${IP1} ${M2}`],
    );
    const ev = acts.find((a) => a.type === "event" && a.event === "duplicate");
    assert.deepEqual(
      ev && ev.type === "event" && [ev.mac, ev.vtep, ev.claimMac, ev.claimVtep],
      [M2, B, M1, A],
      "the binding held and the claim that made it a duplicate",
    );
    assert.equal(p.counters().duplicates, 1);
    // Not answered: flooded as without a proxy (both claimants answer), or dropped with flood-unknown off.
    assert.equal(answer(p, IP1, 60 * S), "flood duplicate");
    assert.equal(p.counts(10)!.duplicate, 1);
    assert.equal(p.entry(10, IP1)!.duplicateUntil, 600 * S); // detected at 60 s, 540 s hold-down
    // Frozen: the binding does not change until released; its own MAC still refreshes it.
    assert.equal(p.learn(10, IP1, M1, A, 0, 0, 70 * S), "duplicate");
    assert.equal(p.learn(10, IP1, M2, B, 0, 0, 80 * S), "refreshed");
    assert.equal(p.nextDeadline(), 231 * S); // the refresh of the binding seen at 80 s
    assert.deepEqual(
      p.tick(599 * S).filter((a) => a.type === "event"),
      [],
    );
    assert.equal(answer(p, IP1, 599 * S), "flood duplicate");
    assert.deepEqual(show(p.tick(600 * S)), [`duplicate-released ${IP1} ${M2}`]);
    assert.equal(answer(p, IP1, 600 * S), M2);
    assert.equal(p.counters().released, 1);
    // The count starts afresh.
    assert.equal(p.learn(10, IP1, M1, A, 0, 0, 601 * S), "moved");
  });

  test("with flood-unknown off a duplicate IP's requests are dropped", () => {
    const p = proxy({ floodUnknown: false });
    fight(p, 6, S);
    assert.equal(answer(p, IP1, 6 * S), "drop duplicate");
  });

  test("5 changes are tolerated; changes spread beyond the window do not add up", () => {
    const p = proxy();
    assert.ok(!fight(p, 5, S).includes("duplicate"));
    const q = proxy();
    assert.ok(!fight(q, 12, 40 * S).includes("duplicate")); // at most 5 in any 180 s
    assert.equal(answer(q, IP1, 480 * S), M1);
  });

  test("each move asks the former owner to confirm, at most once per confirm time", () => {
    const p = proxy({ duplicate: { confirmSeconds: 30 } });
    fight(p, 3, 10 * S);
    assert.deepEqual(
      show(p.drain()),
      [`confirm ${IP1} ${M1}@${A}`], // at 10 s; 20 s and 30 s are within the confirm time
    );
    assert.equal(p.learn(10, IP1, M1, A, 0, 0, 40 * S), "moved");
    assert.deepEqual(show(p.drain()), [`confirm ${IP1} ${M2}@${B}`]);
  });

  test("static entries are exempt", () => {
    const p = proxy({ static: [{ ip: IP1, mac: M1 }] });
    p.locate(10, M1, A);
    for (let k = 0; k < 10; k++)
      assert.equal(p.learn(10, IP1, k % 2 ? M1 : M2, k % 2 ? A : B, 0, 0, k * S), k % 2 ? "static" : "spoofed");
    assert.equal(p.counters().duplicates, 0);
    assert.equal(answer(p, IP1, 10 * S), M1);
  });

  test("EVPN routes moving the IP between MACs count too", () => {
    const p = proxy({ duplicate: { maxMoves: 2 } });
    p.evpn(10, IP1, M1, E, 0, 0, 0);
    p.evpn(10, IP1, M2, E, 1, 0, S);
    p.evpn(10, IP1, M1, E, 2, 0, 2 * S);
    assert.equal(answer(p, IP1, 2 * S), M1);
    p.evpn(10, IP1, M2, E, 3, 0, 3 * S);
    assert.equal(answer(p, IP1, 3 * S), "flood duplicate");
  });

  test("a duplicate dynamic entry does not age out before its release", () => {
    const p = proxy({ duplicate: { holdSeconds: 900 } }, { ageingSeconds: 60 });
    fight(p, 6, S);
    p.drain();
    p.tick(400 * S);
    assert.equal(p.size(), 1);
    // Released with a whole refresh cycle ahead of it.
    assert.deepEqual(show(p.tick(906 * S)), [`duplicate-released ${IP1} ${M2}`]);
    assert.deepEqual(show(p.tick(937 * S)), [`refresh ${IP1} ${M2}@${B}`]);
    assert.equal(p.size(), 1);
    assert.deepEqual(show(p.tick(967 * S)), []);
    assert.equal(p.size(), 0);
  });
});

describe("gratuitous announcements (RFC 9161 §3.2)", () => {
  test("a new static entry and a new or changed EVPN entry are announced; a dynamic one is not", () => {
    const p = proxy({ static: [{ ip: IP1, mac: M1, router: true }] });
    assert.deepEqual(show(p.tick(0)), [`garp ${IP1} ${M1}@- R O`]);
    p.locate(10, M1, A);
    p.evpn(10, IP6, M2, E, 0, FLAG_ROUTER | FLAG_OVERRIDE, 0);
    p.learn(10, IP2, M2, B, 0, 0, 0);
    assert.deepEqual(show(p.tick(S)), [`garp ${IP1} ${M1}@${A} R O`, `garp ${IP6} ${M2}@${E} R O`]);
    p.evpn(10, IP6, M2, E, 1, FLAG_ROUTER | FLAG_OVERRIDE, 2 * S); // same binding, higher sequence
    assert.deepEqual(p.tick(2 * S), []);
    p.evpn(10, IP6, M1, E, 2, 0, 3 * S);
    assert.deepEqual(show(p.tick(3 * S)), [`garp ${IP6} ${M1}@${E}`]);
    assert.equal(p.counters().garps, 4);
  });

  test("an entry withdrawn before its turn is not announced", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, E, 0, 0, 0);
    p.evpnWithdraw(10, IP1, M1, E);
    assert.deepEqual(p.tick(0), []);
    assert.equal(p.nextDeadline(), undefined);
  });

  test("announcements are paced: a full table arriving at once goes out at garp-rate per second", () => {
    const p = proxy({}, { garpRate: 10 });
    for (let i = 1; i <= 25; i++) p.evpn(10, `203.0.113.${i}`, M1, E, 0, 0, 0);
    assert.equal(p.tick(0).length, 10);
    assert.equal(p.nextDeadline(), 100); // one more token 100 ms later
    assert.equal(p.tick(500).length, 5);
    assert.equal(p.tick(S).length, 5);
    assert.equal(p.tick(10 * S).length, 5);
    assert.equal(p.nextDeadline(), undefined);
  });
});
