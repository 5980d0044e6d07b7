// The learning engine's saved state on a fake clock: every entry exported as a record through a
// cursor in slices, restored into an empty engine after a restart — ageing from the saved
// last-seen time, duplicates frozen until their saved deadline, entries the configuration no
// longer allows dropped and counted, limits applied. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type BindingRecord,
  Learner,
  type LearnAction,
  type LearnConfig,
} from "../../src/dataplane/learning/learner.js";
import { A, B, config, FakeFabric, fr, M1, M2, S, show, STATIC } from "../helpers/learning.js";

const M3 = "02:00:00:00:01:03";
const D = "198.51.100.77"; // auto-discoverable with autoDiscover on (allowed prefix 198.51.100.0/24)

function learner(over: Partial<LearnConfig> = {}): Learner {
  return new Learner(config(over), new FakeFabric());
}

/** Every record, copied (the cursor reuses its record object), visiting `slice` entries per call. */
function exportAll(l: Learner, slice = 2): BindingRecord[] {
  const out: BindingRecord[] = [];
  const next = l.records();
  for (let more = true; more;) more = next(slice, (r) => out.push(structuredClone(r)));
  return out;
}

/** The routes of each session's initial table. */
function initialTable(l: Learner): string[] {
  const out: LearnAction[] = [];
  const next = l.cursor();
  while (next(100, out));
  return show(out).sort();
}

function record(over: Partial<BindingRecord>): BindingRecord {
  return {
    service: "vni10",
    evi: 10,
    vni: 10,
    vtep: A,
    mac: M1,
    ips: [],
    seq: 0,
    maxSeq: 0,
    configured: false,
    announced: true,
    frozenUntil: 0,
    moves: [],
    lastSeen: 0,
    ...over,
  };
}

describe("export", () => {
  test("one record per entry, in ageing order, with IPs, sequence, flags, freeze and moves", () => {
    const fabric = new FakeFabric();
    const l = new Learner(config(), fabric);
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1, "198.51.100.2"), 2 * S);
    l.frame(fr(B, M2, "2001:db8::2"), 3 * S);
    l.frame(fr(A, M2), 4 * S); // a move: sequence 1
    l.frame(fr(A, STATIC, "198.51.100.9"), 5 * S); // a configured MAC's learned address
    fabric.set(M3, "192.0.2.20", 3);
    l.frame(fr(B, M3), 6 * S); // announced at 4
    fabric.set(M3, "192.0.2.20", 9);
    l.remoteChanged(10, M3, 7 * S); // the fabric's route wins: ours withdrawn
    const recs = exportAll(l, 1);
    assert.deepEqual(recs, [
      record({
        ips: [
          { ip: "198.51.100.1", lastSeen: 0 },
          { ip: "198.51.100.2", lastSeen: 2 * S },
        ],
        lastSeen: 2 * S,
      }),
      record({
        mac: M2,
        ips: [{ ip: "2001:db8::2", lastSeen: 3 * S }],
        seq: 1,
        maxSeq: 1,
        moves: [4 * S],
        lastSeen: 4 * S,
      }),
      record({ mac: STATIC, ips: [{ ip: "198.51.100.9", lastSeen: 5 * S }], configured: true, lastSeen: 5 * S }),
      record({ vtep: B, mac: M3, seq: 4, maxSeq: 9, announced: false, moves: [7 * S], lastSeen: 6 * S }),
    ]);
  });

  test("the cursor's slices see the table as it is: an entry gone meanwhile is skipped, a reused slot is the new entry", () => {
    const l = learner({ ageingSeconds: 10 });
    l.frame(fr(A, M1), 0);
    l.frame(fr(A, M2), 5 * S);
    l.frame(fr(A, M3), 5 * S);
    const visitAll = (next: ReturnType<Learner["records"]>): string[] => {
      const out: string[] = [];
      while (next(1, (r) => out.push(`${r.mac}@${r.lastSeen / S}`)));
      return out;
    };
    const skip = l.records();
    const reuse = l.records();
    const first: string[] = [];
    assert.equal(
      skip(1, (r) => first.push(r.mac)),
      true,
    );
    assert.deepEqual(first, [M1]);
    l.frame(fr(A, M2), 8 * S); // refreshed
    l.tick(12 * S); // M1 aged: its slot is free
    assert.deepEqual(visitAll(skip), [`${M2}@8`, `${M3}@5`]);
    l.frame(fr(A, "02:00:00:00:01:04"), 13 * S); // takes M1's slot
    assert.deepEqual(visitAll(reuse), ["02:00:00:00:01:04@13", `${M2}@8`, `${M3}@5`]);
    assert.deepEqual(visitAll(l.records()), [`${M3}@5`, `${M2}@8`, "02:00:00:00:01:04@13"]);
  });
});

describe("restore", () => {
  test("a round trip: the same table, the same initial table, the same counters' view", () => {
    const fabric = new FakeFabric();
    const l = new Learner(config(), fabric);
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(B, M2, "2001:db8::2"), S);
    l.frame(fr(A, M2), 2 * S);
    l.frame(fr(A, STATIC, "198.51.100.9"), 3 * S);
    const recs = exportAll(l);
    const r = learner();
    const report = r.restore(recs, 10 * S);
    assert.deepEqual(report, {
      restored: 3,
      restoredIps: 3,
      droppedIps: 0,
      dropped: { service: 0, vtep: 0, configured: 0, expired: 0, limit: 0, duplicate: 0, invalid: 0 },
    });
    assert.deepEqual(r.table(), l.table());
    assert.deepEqual(initialTable(r), initialTable(l));
    assert.equal(r.announcedRoutes(), l.announcedRoutes());
    assert.deepEqual([r.counters().restored, r.counters().restoredIps], [3, 3]);
    // A move after the restore continues the sequence (RFC 7432 §15.1).
    assert.deepEqual(show(r.frame(fr(B, M2), 11 * S)).slice(0, 2), [`+${B} ${M2} 2`, `+${B} ${M2}/2001:db8::2 2`]);
  });

  test("restored entries age from their saved last-seen time, IPs each from theirs", () => {
    const l = learner(); // ageing 300 s
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1, "198.51.100.2"), 100 * S);
    l.frame(fr(A, M2), 50 * S);
    const recs = exportAll(l);
    const r = learner();
    r.restore(recs, 200 * S);
    assert.deepEqual(show(r.tick(299 * S)), []);
    assert.ok(r.nextDeadline()! <= 301 * S, "the oldest binding is due at 300 s (+1 s granularity)");
    assert.deepEqual(show(r.tick(301 * S)), [`-${A} ${M1}/198.51.100.1`]);
    assert.deepEqual(show(r.tick(351 * S)), [`-${A} ${M2}`]);
    assert.deepEqual(show(r.tick(401 * S)), [`-${A} ${M1}/198.51.100.2`, `-${A} ${M1}`]);
  });

  test("what aged while the daemon was down is not restored", () => {
    const l = learner();
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1), 200 * S);
    l.frame(fr(A, M2), 10 * S);
    const r = learner();
    const report = r.restore(exportAll(l), 320 * S);
    assert.deepEqual([report.restored, report.dropped.expired, report.droppedIps], [1, 1, 1]);
    assert.deepEqual(
      r.table().map((b) => [b.mac, b.ips]),
      [[M1, []]],
    );
  });

  test("records out of ageing order are queued by last-seen time", () => {
    const r = learner();
    r.restore(
      [
        record({ mac: M1, lastSeen: 100 * S }),
        record({ mac: M2, lastSeen: 10 * S }),
        record({ mac: M3, lastSeen: 50 * S }),
      ],
      200 * S,
    );
    assert.deepEqual(show(r.tick(311 * S)), [`-${A} ${M2}`]);
    assert.deepEqual(show(r.tick(351 * S)), [`-${A} ${M3}`]);
    assert.deepEqual(show(r.tick(401 * S)), [`-${A} ${M1}`]);
  });

  test("a duplicate stays frozen until its saved deadline, then is released", () => {
    const l = learner(); // 5 moves in 180 s, frozen 600 s
    l.frame(fr(A, M1), 0);
    for (let i = 1; i <= 6; i++) l.frame(fr(i % 2 === 1 ? B : A, M1), i * 10 * S); // frozen at 60 s until 660 s
    const recs = exportAll(l);
    assert.equal(recs[0]!.frozenUntil, 660 * S);
    const r = learner();
    r.restore(recs, 400 * S);
    assert.deepEqual(
      r.table().map((b) => [b.vtep, b.seq, b.duplicate]),
      [[B, 5, true]],
    );
    assert.deepEqual(r.frame(fr(A, M1), 401 * S), [], "frozen: the move is not announced");
    assert.equal(r.counters().frozenDropped, 1);
    assert.deepEqual(show(r.tick(659 * S)), []); // ageing waits for the release
    assert.equal(r.nextDeadline(), 660 * S);
    assert.deepEqual(show(r.tick(660 * S)), [`!duplicate-released ${M1}`]);
    assert.deepEqual(show(r.frame(fr(A, M1), 661 * S)), [`+${A} ${M1} 6`, `-${B} ${M1}`]);
  });

  test("a freeze restored after its deadline is over; one longer than freeze-seconds is shortened", () => {
    const r = learner({ freezeSeconds: 100 });
    r.restore(
      [
        record({ mac: M1, frozenUntil: 50 * S, lastSeen: 10 * S }),
        record({ mac: M2, frozenUntil: 900 * S, lastSeen: 10 * S }),
      ],
      60 * S,
    );
    assert.deepEqual(
      r.table().map((b) => [b.mac, b.duplicate]),
      [
        [M1, false],
        [M2, true],
      ],
    );
    assert.equal(r.nextDeadline(), 160 * S);
  });

  test("restored freezes are released in deadline order, whatever the records' order", () => {
    const r = learner();
    r.restore(
      [
        record({ mac: M1, frozenUntil: 300 * S, lastSeen: 90 * S }),
        record({ mac: M2, frozenUntil: 200 * S, lastSeen: 90 * S }),
      ],
      100 * S,
    );
    assert.equal(r.nextDeadline(), 200 * S);
    assert.deepEqual(show(r.tick(200 * S)), [`!duplicate-released ${M2}`]);
    assert.deepEqual(show(r.tick(300 * S)), [`!duplicate-released ${M1}`]);
  });

  test("a frozen entry is restored even when its last-seen time is older than the ageing time", () => {
    const r = learner();
    const report = r.restore(
      [record({ frozenUntil: 900 * S, lastSeen: 0, ips: [{ ip: "198.51.100.1", lastSeen: 0 }] })],
      500 * S,
    );
    assert.deepEqual([report.restored, report.restoredIps], [1, 1]);
  });

  test("services and VTEPs no longer configured, or outside the allowed prefixes, are dropped and counted", () => {
    const r = learner({
      autoDiscover: true,
      services: [{ name: "vni10", evi: 10, vni: 10, staticVteps: [{ address: A, macs: [{ mac: STATIC, ips: [] }] }] }],
    });
    const report = r.restore(
      [
        record({ mac: M1 }),
        record({ mac: M2, vtep: B }), // B is no longer a static VTEP, nor in 198.51.100.0/24
        record({ mac: M3, vtep: D }), // auto-discoverable: restored, the VTEP discovered
        record({ service: "vni20", vni: 20, evi: 20 }),
        record({ service: "renamed", mac: "02:00:00:00:02:01" }),
        record({ evi: 11, mac: "02:00:00:00:02:02" }),
        record({ mac: STATIC, vtep: B, ips: [{ ip: "198.51.100.9", lastSeen: 0 }], configured: true }), // configured at A
        record({ mac: "02:00:00:00:0f:02", configured: true, ips: [{ ip: "198.51.100.8", lastSeen: 0 }] }), // no longer configured
        record({ mac: M1, lastSeen: 5 * S }), // a second record of M1
        record({ mac: "02:00:00:00:02:03", seq: -1 }),
        record({ mac: "02:00:00:00:02:04", lastSeen: Number.NaN }),
      ],
      10 * S,
    );
    assert.equal(report.restored, 2);
    assert.deepEqual(report.dropped, {
      service: 3,
      vtep: 1,
      configured: 2,
      expired: 0,
      limit: 0,
      duplicate: 1,
      invalid: 2,
    });
    assert.equal(r.counters().restoreDropped, 9);
    assert.deepEqual(r.discovered(10), [D]);
    assert.deepEqual(
      r.table().map((b) => [b.vtep, b.mac]),
      [
        [A, M1],
        [D, M3],
      ],
    );
  });

  test("a learned MAC now configured at its VTEP becomes the configured MAC's entry: its IPs sticky, sequence 0", () => {
    const r = learner();
    const report = r.restore(
      [
        record({
          mac: STATIC,
          seq: 3,
          maxSeq: 3,
          ips: [
            { ip: "198.51.100.9", lastSeen: 0 },
            { ip: "198.51.100.10", lastSeen: 0 },
          ],
        }),
      ],
      S,
    );
    assert.equal(report.restored, 1);
    assert.deepEqual(initialTable(r), [
      `+${A} ${STATIC}/198.51.100.10 0 sticky`,
      `+${A} ${STATIC}/198.51.100.9 0 sticky`,
    ]);
  });

  test("limits apply: MACs per VTEP and per VNI, IPs per MAC; include-ip off drops the IPs", () => {
    const r = learner({ maxMacsPerVtep: 2, maxIpsPerMac: 1 });
    const ips = [
      { ip: "198.51.100.1", lastSeen: 0 },
      { ip: "198.51.100.2", lastSeen: 0 },
    ];
    const report = r.restore(
      [record({ mac: M1, ips }), record({ mac: M2 }), record({ mac: M3 }), record({ mac: M3, vtep: B })],
      S,
    );
    assert.deepEqual([report.restored, report.dropped.limit, report.restoredIps, report.droppedIps], [3, 1, 1, 1]);
    const v = learner({ maxMacsPerVni: 1, includeIp: false });
    const rv = v.restore([record({ mac: M1, ips }), record({ mac: M2, vtep: B })], S);
    assert.deepEqual([rv.restored, rv.dropped.limit, rv.restoredIps, rv.droppedIps], [1, 1, 0, 2]);
    // The restored count holds: a new MAC at A is refused.
    assert.deepEqual(show(r.frame(fr(A, "02:00:00:00:03:01"), 2 * S)), ["!limit-vtep 02:00:00:00:03:01"]);
  });

  test("an IP bound twice (it moved between the cursor's slices) is restored once", () => {
    const r = learner();
    const ip = { ip: "198.51.100.1", lastSeen: 0 };
    const report = r.restore([record({ mac: M1, ips: [ip] }), record({ mac: M2, ips: [ip] })], S);
    assert.deepEqual([report.restored, report.restoredIps, report.droppedIps], [2, 1, 1]);
  });

  test("only into an engine that learned nothing", () => {
    const l = learner();
    l.frame(fr(A, M1), 0);
    assert.throws(() => l.restore([], S), { code: "ERR_LEARN_RESTORE" });
  });

  test("a restored entry withdrawn by the fabric stays withdrawn and comes back with a higher sequence", () => {
    const r = learner();
    r.restore([record({ mac: M1, seq: 2, maxSeq: 7, announced: false })], S);
    assert.deepEqual(initialTable(r), []);
    assert.deepEqual(show(r.frame(fr(A, M1), 2 * S)), [`+${A} ${M1} 7`]);
  });
});
