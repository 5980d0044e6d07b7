// The proxy table's settings and management side: reconfiguration (static entries and services
// added and removed, an EVPN route taking over from a static entry gone), entry limits, settings
// refused before anything changes, paging through a service's entries and the counts per
// source. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProxyError } from "../../src/errors.js";
import { ArpNdProxy } from "../../src/dataplane/arpnd/proxy.js";
import type { ProxySettings } from "../../src/dataplane/arpnd/settings.js";
import type { ArpNdAction, EntryPage } from "../../src/dataplane/arpnd/types.js";
import { A, C, E, IP1, IP2, IP6, M1, M2, REQ, S, settings } from "../helpers/arpnd.js";

function answer(p: ArpNdProxy, ip: string, vni = 10): string {
  const d = p.request(vni, ip, C, REQ, 0);
  return d.kind === "reply" ? `${d.mac} ${d.source}` : `${d.kind} ${d.reason}`;
}

function garps(actions: ArpNdAction[]): string[] {
  return actions.flatMap((a) => (a.type === "garp" ? [`${a.ip} ${a.mac}`] : []));
}

describe("reconfiguration", () => {
  test("static entries added, changed and removed; the rest of the table stays", () => {
    const p = new ArpNdProxy(settings({ static: [{ ip: IP1, mac: M1 }] }));
    p.tick(0);
    p.learn(10, IP2, M2, A, 0, 0, 0);
    assert.deepEqual(p.reconfigure(settings({ static: [{ ip: IP1, mac: M1 }] }), S), []);
    assert.deepEqual(garps(p.tick(S)), []); // unchanged: not announced again
    p.reconfigure(
      settings({
        static: [
          { ip: IP1, mac: M2 },
          { ip: IP6, mac: M1 },
        ],
      }),
      2 * S,
    );
    assert.deepEqual(garps(p.tick(2 * S)), [`${IP1} ${M2}`, `${IP6} ${M1}`]);
    assert.equal(answer(p, IP1), `${M2} static`);
    p.reconfigure(settings({ static: [{ ip: IP6, mac: M1 }] }), 3 * S);
    assert.equal(answer(p, IP1), "flood unknown");
    assert.equal(answer(p, IP2), `${M2} dynamic`);
    assert.deepEqual(p.counts(10), { static: 1, evpn: 0, dynamic: 1, duplicate: 0 });
    assert.equal(p.counters().reloadRemoved, 1);
  });

  test("a static entry gone leaves the EVPN route held for its IP answered (and announced)", () => {
    const p = new ArpNdProxy(settings({ static: [{ ip: IP1, mac: M1 }] }));
    p.evpn(10, IP1, M2, E, 0, 0, 0);
    p.tick(0);
    p.reconfigure(settings(), S);
    assert.equal(answer(p, IP1), `${M2} evpn`);
    assert.deepEqual(garps(p.tick(S)), [`${IP1} ${M2}`]);
  });

  test("a static entry takes over a dynamic one (and ends its duplicate state)", () => {
    const p = new ArpNdProxy(settings({ duplicate: { maxMoves: 1 } }));
    p.learn(10, IP1, M1, A, 0, 0, 0);
    p.learn(10, IP1, M2, A, 0, 0, S);
    p.learn(10, IP1, M1, A, 0, 0, 2 * S);
    assert.equal(answer(p, IP1), "flood duplicate");
    p.reconfigure(settings({ static: [{ ip: IP1, mac: M1 }], duplicate: { maxMoves: 1 } }), 3 * S);
    assert.equal(answer(p, IP1), `${M1} static`);
    assert.deepEqual(p.counts(10), { static: 1, evpn: 0, dynamic: 0, duplicate: 0 });
    assert.deepEqual(garps(p.tick(3 * S)), [`${IP1} ${M1}`]);
    assert.equal(p.nextDeadline(), undefined); // no release, no ageing pending
  });

  test("services added and removed; a removed service takes its entries", () => {
    const p = new ArpNdProxy(settings());
    p.learn(10, IP1, M1, A, 0, 0, 0);
    p.reconfigure(
      {
        services: [
          { vni: 10, name: "vni10" },
          { vni: 20, name: "vni20" },
        ],
      },
      S,
    );
    p.learn(20, IP1, M2, A, 0, 0, S);
    assert.equal(answer(p, IP1, 20), `${M2} dynamic`);
    assert.equal(answer(p, IP1, 10), `${M1} dynamic`);
    p.reconfigure({ services: [{ vni: 20, name: "vni20" }] }, 2 * S);
    assert.equal(answer(p, IP1, 10), "drop unknown-vni");
    assert.equal(answer(p, IP1, 20), `${M2} dynamic`);
    assert.equal(p.size(), 1);
    // The survivor's timers still work after its index changed.
    assert.equal(p.tick(152 * S).length, 1);
  });

  test("a shorter ageing time applies to entries already learned", () => {
    const p = new ArpNdProxy(settings({}, { ageingSeconds: 300 }));
    p.learn(10, IP1, M1, A, 0, 0, 0);
    p.reconfigure(settings({}, { ageingSeconds: 20 }), S);
    assert.equal(p.nextDeadline(), 11 * S);
  });

  test("a bad setting throws before anything changes", () => {
    const p = new ArpNdProxy(settings({ static: [{ ip: IP1, mac: M1 }] }));
    const bad: ProxySettings[] = [
      settings({ static: [{ ip: "203.0.113.300", mac: M1 }] }),
      settings({ static: [{ ip: IP2, mac: "02:00:00:00:01" }] }),
      settings({
        static: [
          { ip: IP2, mac: M1 },
          { ip: "203.0.113.2", mac: M2 },
        ],
      }),
      {
        services: [
          { vni: 10, name: "a" },
          { vni: 10, name: "b" },
        ],
      },
      { services: [{ vni: 1 << 24, name: "a" }] },
      settings({}, { ageingSeconds: 0 }),
      settings({ duplicate: { maxMoves: 0 } }),
    ];
    for (const s of bad)
      assert.throws(
        () => p.reconfigure(s, S),
        (e: unknown) => e instanceof ProxyError && e.code === "ERR_ARPND_CONFIG",
      );
    assert.equal(answer(p, IP1), `${M1} static`);
  });
});

describe("limits", () => {
  test("max-entries refuses new dynamic and EVPN entries (static ones are not counted); one event per interval", () => {
    const p = new ArpNdProxy(settings({ maxEntries: 2, static: [{ ip: IP6, mac: M1 }] }));
    p.tick(0);
    assert.equal(p.learn(10, "203.0.113.1", M1, A, 0, 0, 0), "learned");
    p.evpn(10, "203.0.113.2", M1, E, 0, 0, 0);
    assert.equal(p.learn(10, "203.0.113.3", M1, A, 0, 0, 0), "limit");
    p.evpn(10, "203.0.113.4", M1, E, 0, 0, 0);
    assert.equal(p.learn(10, "203.0.113.1", M1, A, 0, 0, S), "refreshed"); // existing entries are fine
    assert.equal(p.counters().limit, 2);
    assert.deepEqual(p.drain(), [
      { type: "event", event: "limit", vni: 10, ip: "203.0.113.3", mac: M1, vtep: A, source: "dynamic" },
    ]);
    assert.equal(p.size(), 3);
  });
});

describe("management", () => {
  test("paging by cursor visits every entry of a service once", () => {
    const p = new ArpNdProxy({
      services: [
        { vni: 10, name: "a" },
        { vni: 20, name: "b" },
      ],
    });
    for (let i = 0; i < 25; i++) {
      p.learn(10, `203.0.113.${i}`, M1, A, 0, 0, 0);
      p.evpn(20, `2001:db8:100::${i}`, M2, E, 0, 0, 0);
    }
    p.evpnWithdraw(20, "2001:db8:100::3", M2, E);
    const seen: string[] = [];
    let cursor: number | undefined = 0;
    let pages = 0;
    while (cursor !== undefined) {
      const page: EntryPage = p.entries(20, cursor, 10)!;
      assert.ok(page.rows.length <= 10);
      seen.push(...page.rows.map((r) => r.ip));
      cursor = page.next;
      pages++;
    }
    assert.equal(pages, 3);
    assert.equal(seen.length, 24);
    assert.equal(new Set(seen).size, 24);
    assert.ok(!seen.includes("2001:db8:100::3"));
    assert.equal(p.entries(30), undefined);
  });

  test("a row tells source, flags, sequence, last seen, duplicate state and the route held", () => {
    const p = new ArpNdProxy(settings());
    p.evpn(10, IP1, M1, E, 3, 0x03, 0);
    p.learn(10, IP1, M2, A, 0x01, 3, 5 * S);
    assert.deepEqual(p.entry(10, IP1), {
      vni: 10,
      ip: IP1,
      mac: M2,
      vtep: A,
      source: "dynamic",
      router: true,
      override: false,
      immutable: false,
      seq: 3,
      lastSeen: 5 * S,
      duplicateUntil: undefined,
      evpn: { mac: M1, vtep: E, seq: 3 },
    });
    assert.deepEqual(p.counts(10), { static: 0, evpn: 0, dynamic: 1, duplicate: 0 });
    assert.equal(p.counts(99), undefined);
    assert.equal(p.entry(10, IP2), undefined);
  });
});
