// Learning engine reconfiguration (a reload): what stays configured keeps what was learned and
// is not re-sent; what is gone, changed or no longer allowed is withdrawn. Fake clock, fake
// fabric, documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type LearnConfig, Learner } from "../../src/dataplane/learning/learner.js";
import { A, B, config, FakeFabric, fr, M1, M2, random, S, show, STATIC } from "../helpers/learning.js";

const C = "192.0.2.3"; // a third static VTEP
const D1 = "198.51.100.77"; // auto-discovered VTEPs
const D2 = "198.51.100.88";
const mac = (i: number) =>
  `02:01:00:${((i >> 16) & 255).toString(16).padStart(2, "0")}:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** VNI 10 at A (with the configured MAC STATIC), B and C; VNI 20 at A. */
function three(over: Partial<LearnConfig> = {}): LearnConfig {
  const cfg = config(over);
  const vni10 = cfg.services[0]!;
  const vni20 = { name: "vni20", evi: 20, vni: 20, staticVteps: [{ address: A, macs: [] }] };
  return { ...cfg, services: [{ ...vni10, staticVteps: [...vni10.staticVteps, { address: C, macs: [] }] }, vni20] };
}

/** `cfg` with service `name` replaced by `f(service)` (or removed when f gives undefined). */
function withService(
  cfg: LearnConfig,
  name: string,
  f: (s: LearnConfig["services"][number]) => LearnConfig["services"][number] | undefined,
): LearnConfig {
  const services = cfg.services.flatMap((s) => (s.name === name ? (f(s) ?? []) : [s]));
  return { ...cfg, services };
}

/** `cfg` with the static VTEPs of VNI 10 given. */
function vteps10(cfg: LearnConfig, staticVteps: LearnConfig["services"][number]["staticVteps"]): LearnConfig {
  return withService(cfg, "vni10", (s) => ({ ...s, staticVteps }));
}

function learner(cfg: LearnConfig) {
  return new Learner(cfg, new FakeFabric());
}

describe("what stays configured is kept and not re-sent", () => {
  test("10,000 learned MACs, a configured MAC added at a VTEP: no action, the table unchanged", () => {
    const cfg = three();
    const l = learner(cfg);
    const at = [A, B, C];
    for (let i = 0; i < 10_000; i++) l.frame(fr(at[i % 3]!, mac(i), ip(i)), i);
    const before = l.table();
    const counters = l.counters();
    const next = vteps10(cfg, [
      {
        address: A,
        macs: [
          { mac: STATIC, ips: [] },
          { mac: "02:00:00:ff:00:01", ips: ["192.0.2.100"] },
        ],
      },
      { address: B, macs: [] },
      { address: C, macs: [] },
    ]);
    assert.deepEqual(l.reconfigure(next, 20 * S), []);
    assert.deepEqual(l.table(), before);
    assert.deepEqual(l.counters(), counters);
    assert.equal(l.announcedRoutes(), 20_000);
    assert.deepEqual(l.frame(fr(A, mac(0), ip(0)), 21 * S), []); // still announced: a refresh
    assert.deepEqual(l.reconfigure(next, 22 * S), []); // the same configuration again
  });

  test("frozen duplicates and MAC mobility sequence numbers are kept", () => {
    const cfg = config({ maxMoves: 1 });
    const l = learner(cfg);
    for (const v of [A, B, A]) l.frame(fr(v, M1), 10 * S); // M1: a duplicate, frozen at B until 610 s
    l.frame(fr(A, M2), 0);
    l.frame(fr(B, M2), 100 * S); // M2: seq 1
    const before = l.table();
    assert.deepEqual(l.reconfigure(config({ maxMoves: 1, ageingSeconds: 900 }), 200 * S), []);
    assert.deepEqual(l.table(), before);
    assert.deepEqual(l.frame(fr(A, M1), 201 * S), []); // still frozen
    assert.equal(l.nextDeadline(), 610 * S);
    assert.deepEqual(show(l.tick(610 * S)), [`!duplicate-released ${M1}`]);
    assert.deepEqual(show(l.frame(fr(A, M2), 611 * S)), [`+${A} ${M2} 2`, `-${B} ${M2}`]);
  });

  test("identical reconfigurations in between change nothing the engine does", () => {
    const cfg = config({ autoDiscover: true, maxLearnPerVtepPerSecond: 50, maxMoves: 2 });
    const plain = new Learner(cfg, new FakeFabric());
    const reloaded = new Learner(cfg, new FakeFabric());
    const at = [A, B, D1, D2, "203.0.113.1"]; // five: the LCG's low bits have short periods
    const rnd = random(11);
    const seen = new Set<string>();
    for (let step = 0; step < 3000; step++) {
      const now = step * 500;
      if (rnd(50) === 0) assert.deepEqual(reloaded.reconfigure(structuredClone(cfg), now), [], `step ${step}`);
      if (rnd(20) === 0) {
        assert.deepEqual(show(reloaded.tick(now)), show(plain.tick(now)), `step ${step}`);
        continue;
      }
      const f = fr(at[rnd(at.length)]!, mac(rnd(12)), rnd(2) === 0 ? `198.51.100.${rnd(4) + 1}` : null);
      const want = show(plain.frame(f, now));
      assert.deepEqual(show(reloaded.frame({ ...f }, now)), want, `step ${step}`);
      for (const x of want) seen.add(x[0]!);
    }
    assert.deepEqual([...seen].sort(), ["!", "+", "-", "i"]);
    assert.ok(plain.counters().duplicates > 0);
    assert.deepEqual(reloaded.table(), plain.table());
    assert.equal(reloaded.nextDeadline(), plain.nextDeadline());
  });
});

describe("static and discovered VTEPs", () => {
  test("a static VTEP removed: exactly its routes are withdrawn, nothing else", () => {
    const cfg = three();
    const l = learner(cfg);
    const at = [A, B, C];
    for (let i = 0; i < 3000; i++) l.frame(fr(at[i % 3]!, mac(i), ip(i)), 0);
    for (let i = 0; i < 10; i++) l.frame(fr(A, mac(i), null, 20), 0); // VNI 20 at A
    const atC = l.table().filter((b) => b.vtep === C);
    assert.equal(atC.length, 1000);
    const next = vteps10(cfg, [
      { address: A, macs: [{ mac: STATIC, ips: [] }] },
      { address: B, macs: [] },
    ]);
    const out = l.reconfigure(next, S);
    assert.equal(out.length, 2000);
    assert.ok(out.every((a) => a.type === "withdraw" && a.vtep === C && a.vni === 10 && a.evi === 10));
    const want = atC.flatMap((b) => [`-${C} ${b.mac}/${b.ips[0]}`, `-${C} ${b.mac}`]);
    assert.deepEqual(show(out).sort(), want.sort());
    assert.equal(l.table().length, 2010);
    assert.ok(l.table().every((b) => b.vtep !== C));
    assert.equal(l.counters().reloadRemoved, 1000);
    assert.equal(l.announcedRoutes(), 4010);
    assert.deepEqual(show(l.frame(fr(C, M1), 2 * S)), ["!unknown-vtep"]);
  });

  test("a static VTEP removed that auto-discovery allows stays, as a discovered VTEP", () => {
    const cfg = config({ autoDiscover: true, allowedPrefixes: ["192.0.2.0/24"] });
    const l = learner(cfg);
    l.frame(fr(B, M1, "198.51.100.1"), 0);
    const next = vteps10(cfg, [{ address: A, macs: [{ mac: STATIC, ips: [] }] }]);
    assert.deepEqual(l.reconfigure(next, S), []);
    assert.deepEqual(l.discovered(10), [B]);
    assert.deepEqual(l.frame(fr(B, M1, "198.51.100.1"), 2 * S), []);
    // and back to static: no longer discovered, still kept
    assert.deepEqual(l.reconfigure(cfg, 3 * S), []);
    assert.deepEqual(l.discovered(10), []);
    assert.equal(l.table()[0]!.vtep, B);
  });

  test("discovered VTEPs no longer allowed go with their bindings", () => {
    const cfg = config({ autoDiscover: true });
    const l = learner(cfg);
    l.frame(fr(D1, M1, "198.51.100.1"), 0);
    l.frame(fr(D2, M2), 0);
    l.frame(fr(A, "02:00:00:00:01:03"), 0);
    assert.deepEqual(show(l.reconfigure(config({ autoDiscover: true, allowedPrefixes: ["198.51.100.64/28"] }), S)), [
      `-${D2} ${M2}`,
    ]);
    assert.deepEqual(l.discovered(10), [D1]);
    assert.deepEqual(show(l.reconfigure(config({ autoDiscover: false }), 2 * S)), [
      `-${D1} ${M1}/198.51.100.1`,
      `-${D1} ${M1}`,
    ]);
    assert.deepEqual(l.discovered(10), []);
    assert.deepEqual(
      l.table().map((b) => b.vtep),
      [A],
    );
    assert.deepEqual(show(l.frame(fr(D1, M1), 3 * S)), ["!unknown-vtep"]);
    assert.equal(l.counters().reloadRemoved, 2);
  });
});

describe("services", () => {
  test("a service removed: its bindings are withdrawn; the others stay", () => {
    const cfg = three();
    const l = learner(cfg);
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1, "198.51.100.1", 20), 0);
    const out = l.reconfigure(
      withService(cfg, "vni20", () => undefined),
      S,
    );
    assert.deepEqual(
      out.map((a) => a.type === "withdraw" && [a.service, a.evi, a.vni, a.vtep, a.mac, a.ip]),
      [
        ["vni20", 20, 20, A, M1, "198.51.100.1"],
        ["vni20", 20, 20, A, M1, null],
      ],
    );
    assert.deepEqual(
      l.table().map((b) => [b.vni, b.mac, b.ips]),
      [[10, M1, ["198.51.100.1"]]],
    );
    assert.deepEqual(l.frame(fr(A, M2, null, 20), 2 * S), []);
    assert.equal(l.counters().unknownVni, 1);
    assert.deepEqual(l.frame(fr(A, M1, "198.51.100.1"), 2 * S), []); // VNI 10 is untouched
  });

  test("a service whose EVI or name changed is another service: withdrawn, then learned anew", () => {
    const cfg = three();
    const l = learner(cfg);
    l.frame(fr(A, M1), 0);
    l.frame(fr(B, M1), S); // seq 1
    l.frame(fr(A, M2, null, 20), 0);
    const out = l.reconfigure(
      withService(cfg, "vni10", (s) => ({ ...s, evi: 11 })),
      2 * S,
    );
    assert.deepEqual(
      out.map((a) => a.type === "withdraw" && [a.evi, a.vtep, a.mac]),
      [[10, B, M1]],
    );
    const a = l.frame(fr(B, M1), 3 * S);
    assert.deepEqual(show(a), [`+${B} ${M1} 0`]);
    assert.equal(a[0]!.type === "announce" && a[0].evi, 11);
    const renamed = withService(
      withService(cfg, "vni10", (s) => ({ ...s, evi: 11 })),
      "vni20",
      (s) => ({
        ...s,
        name: "tenant20",
      }),
    );
    assert.deepEqual(
      l.reconfigure(renamed, 4 * S).map((x) => x.type === "withdraw" && [x.service, x.mac]),
      [["vni20", M2]],
    );
    assert.deepEqual(
      l.table().map((b) => [b.service, b.vni]),
      [["vni10", 10]],
    );
    assert.equal(l.counters().reloadRemoved, 2);
  });
});

describe("limits lowered", () => {
  test("max-macs-per-vtep: the least recently seen MACs beyond it are withdrawn and counted", () => {
    const l = learner(config());
    for (let i = 0; i < 5; i++) l.frame(fr(A, mac(i), ip(i)), i * S);
    l.frame(fr(A, mac(0)), 10 * S); // seen again: now the most recent
    for (let i = 5; i < 7; i++) l.frame(fr(B, mac(i)), 0);
    const out = l.reconfigure(config({ maxMacsPerVtep: 3 }), 20 * S);
    assert.deepEqual(show(out), [
      `!limit-vtep ${mac(1)}`,
      `-${A} ${mac(1)}/${ip(1)}`,
      `-${A} ${mac(1)}`,
      `-${A} ${mac(2)}/${ip(2)}`,
      `-${A} ${mac(2)}`,
    ]);
    assert.deepEqual(
      l.table().map((b) => b.mac),
      [0, 3, 4, 5, 6].map(mac),
    );
    assert.equal(l.counters().reloadLimited, 2);
    // the new limit holds for learning too
    assert.deepEqual(show(l.frame(fr(A, mac(9)), 21 * S)), []); // event throttled
    assert.equal(l.counters().limitVtep, 1);
  });

  test("max-macs-per-vni", () => {
    const l = learner(config());
    l.frame(fr(A, M1), 0);
    l.frame(fr(B, M2), S);
    l.frame(fr(B, "02:00:00:00:01:03"), 2 * S);
    assert.deepEqual(show(l.reconfigure(config({ maxMacsPerVni: 1 }), 3 * S)), [
      `!limit-vni ${M1}`,
      `-${A} ${M1}`,
      `-${B} ${M2}`,
    ]);
    assert.equal(l.counters().reloadLimited, 2);
  });

  test("max-ips-per-mac: the least recently seen IPs beyond it are withdrawn", () => {
    const l = learner(config());
    for (let i = 1; i <= 4; i++) l.frame(fr(A, M1, `198.51.100.${i}`), i * S);
    l.frame(fr(A, M1, "198.51.100.1"), 10 * S);
    l.frame(fr(B, M2, "198.51.100.9"), 0);
    assert.deepEqual(show(l.reconfigure(config({ maxIpsPerMac: 2 }), 20 * S)), [
      `!limit-ips ${M1}`,
      `-${A} ${M1}/198.51.100.2`,
      `-${A} ${M1}/198.51.100.3`,
    ]);
    assert.deepEqual(l.table()[0]!.ips, ["198.51.100.1", "198.51.100.4"]);
    assert.equal(l.counters().reloadLimited, 2);
    assert.deepEqual(l.reconfigure(config({ maxIpsPerMac: 0 }), 21 * S), []); // raised: nothing
  });
});

describe("timers and switches", () => {
  test("a shorter ageing: the deadline comes earlier and tick ages by it", () => {
    const l = learner(config());
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    assert.equal(l.nextDeadline(), 301 * S);
    assert.deepEqual(l.reconfigure(config({ ageingSeconds: 60 }), 10 * S), []);
    assert.equal(l.nextDeadline(), 61 * S);
    assert.deepEqual(show(l.tick(61 * S)), [`-${A} ${M1}/198.51.100.1`, `-${A} ${M1}`]);
  });

  test("a shorter freeze ends current freezes by now + freeze-seconds; rate and move window apply from now", () => {
    const l = learner(config({ maxMoves: 1 }));
    for (const v of [A, B, A]) l.frame(fr(v, M1), 0); // frozen until 600 s
    l.reconfigure(config({ maxMoves: 1, freezeSeconds: 60, maxLearnPerVtepPerSecond: 1 }), 100 * S);
    assert.equal(l.nextDeadline(), 160 * S);
    assert.deepEqual(show(l.tick(160 * S)), [`!duplicate-released ${M1}`]);
    assert.equal(l.frame(fr(A, M2), 161 * S).length, 1);
    assert.deepEqual(show(l.frame(fr(A, "02:00:00:00:01:03"), 161 * S)), ["!limit-rate 02:00:00:00:01:03"]);
    l.reconfigure(config({ maxMoves: 1, moveWindowSeconds: 1 }), 200 * S);
    for (const [i, v] of [B, A, B].entries()) assert.equal(l.frame(fr(v, M2), (201 + 2 * i) * S)[0]!.type, "announce");
  });

  test("include-ip off: every MAC/IP route is withdrawn and its binding dropped; MAC routes stay", () => {
    const l = learner(config());
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1, "2001:db8::1"), 0);
    l.frame(fr(B, M2, "198.51.100.2"), 0);
    const out = l.reconfigure(config({ includeIp: false }), S);
    assert.deepEqual(show(out).sort(), [
      `-${A} ${M1}/198.51.100.1`,
      `-${A} ${M1}/2001:db8::1`,
      `-${B} ${M2}/198.51.100.2`,
    ]);
    assert.deepEqual(
      l.table().map((b) => [b.mac, b.ips, b.announced]),
      [
        [M1, [], true],
        [M2, [], true],
      ],
    );
    assert.equal(l.counters().reloadRemovedIps, 3);
    assert.deepEqual(l.frame(fr(A, M1, "198.51.100.1"), 2 * S), []);
    assert.deepEqual(l.reconfigure(config(), 3 * S), []);
    assert.deepEqual(show(l.frame(fr(A, M1, "198.51.100.1"), 4 * S)), [`+${A} ${M1}/198.51.100.1 0`]);
  });

  test("a bad configuration is refused and changes nothing", () => {
    const l = learner(config());
    l.frame(fr(B, M1), 0);
    assert.throws(
      () => l.reconfigure(config({ services: [], allowedPrefixes: ["198.51.100.0/33"] }), S),
      (e: Error & { code?: string }) => e.code === "ERR_LEARN_CONFIG",
    );
    assert.equal(l.table().length, 1);
    assert.deepEqual(l.frame(fr(B, M1), 2 * S), []);
  });
});

describe("a learned MAC that became configured", () => {
  test("at the same VTEP: its addresses stay, announced again sticky; its MAC route and configured addresses are the configuration's", () => {
    const l = learner(config());
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    l.frame(fr(A, M1, "198.51.100.2"), 0);
    const next = (macs: { mac: string; ips: string[] }[]) =>
      vteps10(config(), [
        { address: A, macs: [{ mac: STATIC, ips: [] }, ...macs] },
        { address: B, macs: [] },
      ]);
    // RFC 7432 §15.2: the same NLRI, now sticky at sequence 0; the configured MAC route replaces ours
    assert.deepEqual(show(l.reconfigure(next([{ mac: M1, ips: [] }]), S)), [
      `+${A} ${M1}/198.51.100.1 0 sticky`,
      `+${A} ${M1}/198.51.100.2 0 sticky`,
    ]);
    assert.deepEqual(
      l.table().map((r) => [r.mac, r.ips, r.seq, r.configured]),
      [[M1, ["198.51.100.1", "198.51.100.2"], 0, true]],
    );
    assert.deepEqual(l.frame(fr(A, M1, "198.51.100.1"), 2 * S), []);
    assert.deepEqual([l.counters().staticMac, l.counters().reloadRemoved], [1, 0]);
    assert.equal(l.announcedRoutes(), 2);
    // moved here (sequence 1), then configured with one of its IPs: that MAC/IP route is the configured one's
    l.frame(fr(B, M2, "198.51.100.3"), 3 * S);
    l.frame(fr(A, M2, "198.51.100.4"), 3 * S);
    assert.deepEqual(
      show(
        l.reconfigure(
          next([
            { mac: M1, ips: [] },
            { mac: M2, ips: ["198.51.100.4"] },
          ]),
          4 * S,
        ),
      ),
      [`+${A} ${M2}/198.51.100.3 0 sticky`],
    );
    assert.deepEqual(l.table()[1]!.ips, ["198.51.100.3"]);
    // without include-ip, a newly configured MAC's addresses go (but those configured)
    const o = learner(config());
    o.frame(fr(A, M2, "198.51.100.3"), 0);
    o.frame(fr(A, M2, "198.51.100.4"), 0);
    const off = { ...next([{ mac: M2, ips: ["198.51.100.4"] }]), includeIp: false };
    assert.deepEqual(show(o.reconfigure(off, S)), [`-${A} ${M2}/198.51.100.3`]);
    assert.deepEqual(o.table(), []);
  });

  test("at another VTEP: all its routes are withdrawn", () => {
    const l = learner(config());
    l.frame(fr(A, M1, "198.51.100.1"), 0);
    const next = vteps10(config(), [
      { address: A, macs: [{ mac: STATIC, ips: [] }] },
      { address: B, macs: [{ mac: M1, ips: [] }] },
    ]);
    assert.deepEqual(show(l.reconfigure(next, S)), [`-${A} ${M1}/198.51.100.1`, `-${A} ${M1}`]);
    assert.deepEqual(l.table(), []);
    assert.deepEqual(show(l.frame(fr(A, M1), 2 * S)), [`!sticky-blocked ${M1}`]);
  });
});
