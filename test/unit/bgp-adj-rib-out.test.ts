// The Adj-RIB-Out packer: every message is decoded back with the codec to check that each route
// arrives exactly once, sizes stay within the negotiated maximum, attributes are intact and in
// type-code order, and withdrawals are bare MP_UNREACH_NLRI UPDATEs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AdjRibOut, type OutAttrs } from "../../src/bgp/adj-rib-out.js";
import { evpnRouteKey } from "../../src/bgp/route-key.js";
import {
  attrCode,
  type CodecContext,
  decodeMessage,
  encapsulation,
  type EvpnRoute,
  macIpRoute,
  type PathAttribute,
  routeTarget,
} from "../../src/codec/index.js";

const AS4: CodecContext = { as4: true };
const EXT: CodecContext = { as4: true, extendedMessage: true };

function mac(i: number): string {
  const h = (v: number) => (v & 0xff).toString(16).padStart(2, "0");
  return `02:00:${h(i >>> 24)}:${h(i >>> 16)}:${h(i >>> 8)}:${h(i)}`;
}

function r2(i: number, label1 = 10): EvpnRoute {
  return macIpRoute({ rd: "192.0.2.1:10", mac: mac(i), ip: `198.51.100.${i & 0xff}`, label1 });
}

function outAttrs(nextHop = "192.0.2.1", extra: PathAttribute[] = []): OutAttrs {
  return {
    nextHop,
    attributes: [
      { kind: "origin", origin: 0 },
      { kind: "as-path", segments: [{ type: 2, asns: [65000] }] },
      ...extra,
      { kind: "local-pref", localPref: 100 },
      { kind: "ext-communities", communities: [routeTarget("65000:10"), encapsulation()] },
    ],
  };
}

interface Decoded {
  announced: { route: EvpnRoute; nextHop: string; attrs: PathAttribute[] }[];
  withdrawn: EvpnRoute[];
  sizes: number[];
  /** Per message: attribute type codes in order. */
  codes: number[][];
  routesPer: number[];
}

/** Strips received flags so that decoded attributes compare with the ones given. */
function plain(a: PathAttribute): PathAttribute {
  const { flags: _flags, ...rest } = a as PathAttribute & { flags?: number };
  return rest as PathAttribute;
}

function decodeAll(msgs: Uint8Array[], ctx: CodecContext = AS4): Decoded {
  const d: Decoded = { announced: [], withdrawn: [], sizes: [], codes: [], routesPer: [] };
  for (const b of msgs) {
    const r = decodeMessage(b, ctx);
    assert.ok(r.ok, r.ok ? "" : r.error.message);
    assert.equal(r.message.type, 2);
    if (r.message.type !== 2) continue;
    assert.equal(r.action, null, "no RFC 7606 error");
    assert.deepEqual(r.message.withdrawn, []);
    assert.deepEqual(r.message.nlri, []);
    d.sizes.push(b.length);
    d.codes.push(r.message.attributes.map(attrCode));
    const others = r.message.attributes.filter((a) => a.kind !== "mp-reach" && a.kind !== "mp-unreach").map(plain);
    for (const a of r.message.attributes) {
      if (a.kind === "mp-reach") {
        assert.equal(a.afi, 25);
        assert.equal(a.safi, 70);
        assert.ok(a.nlri.family === "evpn");
        if (a.nlri.family !== "evpn") continue;
        d.routesPer.push(a.nlri.routes.length);
        for (const route of a.nlri.routes) d.announced.push({ route, nextHop: a.nextHop[0]!, attrs: others });
      } else if (a.kind === "mp-unreach") {
        assert.equal(r.message.attributes.length, 1, "a withdrawal carries MP_UNREACH_NLRI alone");
        assert.ok(a.nlri.family === "evpn");
        if (a.nlri.family !== "evpn") continue;
        d.routesPer.push(a.nlri.routes.length);
        d.withdrawn.push(...a.nlri.routes);
      }
    }
  }
  return d;
}

function announceAll(out: AdjRibOut, n: number, attrs: OutAttrs, from = 0): EvpnRoute[] {
  const routes: EvpnRoute[] = [];
  for (let i = from; i < from + n; i++) {
    const r = r2(i);
    routes.push(r);
    out.announce(r, attrs);
  }
  return routes;
}

describe("AdjRibOut packing", () => {
  test("routes sharing OutAttrs fill UPDATEs up to 4096 bytes; each arrives once, attributes intact", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    const routes = announceAll(out, 1000, a);
    assert.equal(out.pendingCount, 1000);
    const msgs = out.drain(Infinity);
    const d = decodeAll(msgs);
    assert.ok(d.sizes.every((s) => s <= 4096));
    assert.ok(
      d.sizes.slice(0, -1).every((s) => s > 4096 - 41),
      "full but for less than one NLRI",
    );
    const per = d.routesPer[0]!;
    assert.equal(msgs.length, Math.ceil(1000 / per));
    assert.deepEqual(
      d.announced.map((x) => x.route),
      routes,
    );
    for (const x of d.announced) {
      assert.equal(x.nextHop, "192.0.2.1");
      assert.deepEqual(x.attrs, a.attributes);
    }
    // RFC 4271 §5: ascending type codes, MP_REACH_NLRI (14) between LOCAL_PREF (5) and EXT_COMMUNITIES (16).
    for (const c of d.codes) assert.deepEqual(c, [1, 2, 5, 14, 16]);
    assert.equal(out.size, 1000);
    assert.equal(out.hasPending(), false);
    assert.deepEqual(out.drain(10), []);
  });

  test("100,000 routes with one OutAttrs leave as about a thousand UPDATEs", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const n = 100_000;
    announceAll(out, n, outAttrs());
    const msgs = out.drain(Infinity);
    assert.ok(msgs.length >= 950 && msgs.length <= 1050, `${msgs.length} UPDATEs`);
    const d = decodeAll(msgs);
    assert.equal(d.announced.length, n);
    assert.equal(new Set(d.announced.map((x) => evpnRouteKey(x.route))).size, n);
    assert.ok(d.sizes.every((s) => s <= 4096));
  });

  test("RFC 8654 extended messages: UPDATEs up to 65535 bytes", () => {
    const out = new AdjRibOut({ ctx: EXT });
    assert.equal(out.maxMessageSize, 65535);
    announceAll(out, 5000, outAttrs());
    const msgs = out.drain(Infinity);
    const d = decodeAll(msgs, EXT);
    assert.equal(d.announced.length, 5000);
    assert.ok(d.sizes.every((s) => s <= 65535));
    assert.ok(d.sizes[0]! > 60000);
    assert.equal(msgs.length, Math.ceil(5000 / d.routesPer[0]!));
    assert.ok(msgs.length <= 4);
  });

  test("routes with different OutAttrs never share an UPDATE", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs("192.0.2.1");
    const b = outAttrs("2001:db8::1", [{ kind: "med", med: 5 }]);
    for (let i = 0; i < 300; i++) out.announce(r2(i), i % 2 ? a : b);
    const d = decodeAll(out.drain(Infinity));
    assert.equal(d.announced.length, 300);
    for (const x of d.announced) {
      const i = Number.parseInt(x.route.routeType === 2 ? x.route.mac.slice(-5).replace(":", "") : "", 16);
      assert.equal(x.nextHop, i % 2 ? "192.0.2.1" : "2001:db8::1");
      assert.deepEqual(x.attrs, (i % 2 ? a : b).attributes);
    }
    // MED (4) goes before MP_REACH_NLRI as well.
    assert.ok(d.codes.some((c) => c.join() === "1,2,4,5,14,16"));
  });

  test("MP_REACH_NLRI goes after the attributes with lower codes even when none is higher", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    out.announce(r2(1), {
      nextHop: "192.0.2.1",
      attributes: [
        { kind: "origin", origin: 0 },
        { kind: "as-path", segments: [] },
      ],
    });
    assert.deepEqual(decodeAll(out.drain(1)).codes, [[1, 2, 14]]);
  });

  test("towards a 2-octet AS speaker AS_PATH carries AS_TRANS and AS4_PATH the real path (RFC 6793 §4.2.2)", () => {
    const ctx: CodecContext = { as4: false };
    const out = new AdjRibOut({ ctx });
    const a: OutAttrs = {
      nextHop: "192.0.2.1",
      attributes: [
        { kind: "origin", origin: 0 },
        {
          kind: "as-path",
          segments: [
            { type: 3, asns: [64512] },
            { type: 2, asns: [4200000001, 65001] },
          ],
        },
        { kind: "aggregator", asn: 4200000001, address: "192.0.2.9" },
        { kind: "ext-communities", communities: [encapsulation()] },
      ],
    };
    out.announce(r2(1), a);
    const d = decodeAll(out.drain(1), ctx);
    assert.deepEqual(d.codes, [[1, 2, 7, 14, 16, 17, 18]]);
    const attrs = d.announced[0]!.attrs;
    assert.deepEqual(attrs[1], {
      kind: "as-path",
      segments: [
        { type: 3, asns: [64512] },
        { type: 2, asns: [23456, 65001] },
      ],
    });
    assert.deepEqual(attrs[2], { kind: "aggregator", asn: 23456, address: "192.0.2.9", as4: false });
    // RFC 6793 §3: no confederation segment in AS4_PATH.
    assert.deepEqual(attrs[4], { kind: "as4-path", segments: [{ type: 2, asns: [4200000001, 65001] }] });
    assert.deepEqual(attrs[5], { kind: "as4-aggregator", asn: 4200000001, address: "192.0.2.9" });
    // Towards a 4-octet speaker nothing is added.
    const out4 = new AdjRibOut({ ctx: AS4 });
    out4.announce(r2(1), a);
    assert.deepEqual(decodeAll(out4.drain(1)).codes, [[1, 2, 7, 14, 16]]);
  });
});

describe("AdjRibOut coalescing", () => {
  test("announce then withdraw before a drain sends nothing", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    out.announce(r2(1), outAttrs());
    out.withdraw(r2(1));
    assert.equal(out.hasPending(), false);
    assert.deepEqual(out.drain(10), []);
    out.withdraw(r2(2));
    assert.equal(out.pendingCount, 0, "never advertised: nothing to withdraw");
  });

  test("re-announcing what was sent is a no-op; a label change is not", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    out.announce(r2(1), a);
    out.drain(10);
    out.announce(r2(1), a); // an equal route, another object
    assert.equal(out.pendingCount, 0);
    out.announce(r2(1, 20), a);
    assert.equal(out.pendingCount, 1);
    const d = decodeAll(out.drain(10));
    assert.equal(d.announced.length, 1);
    assert.equal(d.announced[0]!.route.routeType === 2 && d.announced[0]!.route.label1, 20);
    out.announce(r2(1, 20), outAttrs()); // equal content but another OutAttrs object: identity decides
    assert.equal(out.pendingCount, 1);
  });

  test("withdraw then re-announce of an advertised route cancels out; the last change wins", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    const b = outAttrs("192.0.2.2");
    out.announce(r2(1), a);
    out.drain(10);
    out.withdraw(r2(1));
    out.announce(r2(1), a);
    assert.equal(out.pendingCount, 0);
    out.announce(r2(1), b);
    out.announce(r2(1), a);
    assert.equal(out.pendingCount, 0, "back to what the peer has");
    out.announce(r2(2), a);
    out.announce(r2(2), b);
    const d = decodeAll(out.drain(10));
    assert.equal(d.announced.length, 1);
    assert.equal(d.announced[0]!.nextHop, "192.0.2.2");
  });

  test("withdrawals leave first, as bare MP_UNREACH_NLRI UPDATEs, with the NLRI that was advertised", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    const sent = announceAll(out, 200, a);
    out.drain(Infinity);
    announceAll(out, 10, a, 1000); // staged before the withdrawals, sent after them
    for (let i = 0; i < 150; i++) out.withdraw(r2(i, 999)); // same key, other label
    const msgs = out.drain(Infinity);
    const first = decodeMessage(msgs[0]!);
    assert.ok(first.ok && first.message.type === 2 && first.message.attributes[0]!.kind === "mp-unreach");
    const d = decodeAll(msgs);
    assert.deepEqual(d.withdrawn, sent.slice(0, 150));
    assert.equal(d.announced.length, 10);
    assert.equal(out.size, 60);
    assert.equal(out.get(evpnRouteKey(r2(0))), undefined);
    assert.ok(out.get(evpnRouteKey(r2(150))));
  });
});

describe("AdjRibOut flow control and refresh", () => {
  test("drain(maxMessages) stops and resumes where it stopped (back-pressure)", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    announceAll(out, 1000, outAttrs());
    assert.deepEqual(out.drain(0), []);
    const all: Uint8Array[] = [];
    let rounds = 0;
    while (out.hasPending()) {
      const before = out.pendingCount;
      const m = out.drain(1);
      assert.equal(m.length, 1);
      assert.ok(out.pendingCount < before);
      all.push(...m);
      rounds++;
    }
    const d = decodeAll(all);
    assert.equal(rounds, all.length);
    assert.equal(d.announced.length, 1000);
    assert.equal(new Set(d.announced.map((x) => evpnRouteKey(x.route))).size, 1000);
    assert.equal(out.size, 1000);
  });

  test("resendAll stages every advertised route again (RFC 2918 §4, RFC 7313 §4)", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    announceAll(out, 500, a);
    out.drain(Infinity);
    out.withdraw(r2(0));
    out.resendAll();
    assert.equal(out.pendingCount, 500);
    out.announce(r2(1), a); // already staged by the refresh: still sent
    assert.equal(out.pendingCount, 500);
    const d = decodeAll(out.drain(Infinity));
    assert.equal(d.withdrawn.length, 1, "the pending withdrawal is kept");
    assert.equal(d.announced.length, 499);
    assert.equal(out.size, 499);
  });

  test("entries, get, size and clear", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    announceAll(out, 3, a);
    assert.equal(out.size, 0, "nothing is advertised before drain");
    out.drain(1);
    assert.equal(out.size, 3);
    assert.deepEqual(
      [...out.entries()].map((e) => [e.key, e.attrs === a]),
      [0, 1, 2].map((i) => [evpnRouteKey(r2(i)), true]),
    );
    out.withdraw(r2(0));
    out.clear();
    assert.equal(out.size, 0);
    assert.equal(out.hasPending(), false);
  });

  test("a caller-supplied key is used as is", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const key = evpnRouteKey(r2(1));
    out.announce(r2(1), outAttrs(), key);
    out.drain(1);
    assert.equal(out.get(key)!.key, key);
    out.withdraw(r2(1), key);
    assert.equal(decodeAll(out.drain(1)).withdrawn.length, 1);
  });
});

describe("AdjRibOut input errors", () => {
  test("MP attributes in OutAttrs or a bad next hop throw at announce", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const mp: OutAttrs = {
      nextHop: "192.0.2.1",
      attributes: [{ kind: "mp-unreach", afi: 25, safi: 70, nlri: { family: "evpn", routes: [] } }],
    };
    assert.throws(() => out.announce(r2(1), mp), TypeError);
    assert.throws(() => out.announce(r2(1), outAttrs("not-an-ip")), TypeError);
    assert.equal(out.pendingCount, 0);
  });

  test("a route that cannot be encoded is dropped by drain and reported; the others leave", () => {
    const rejected: string[] = [];
    const out = new AdjRibOut({ ctx: AS4, onRejected: (r, e) => rejected.push(`${r.routeType}: ${e.message}`) });
    const attrs = outAttrs();
    out.announce(r2(1), attrs);
    out.announce({ ...r2(2), mac: "zz" } as EvpnRoute, attrs);
    out.announce(r2(3), attrs);
    const d = decodeAll(out.drain(10), AS4);
    assert.equal(d.announced.length, 2);
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /MAC/);
    assert.equal(out.rejected, 1);
    assert.equal(out.pendingCount, 0);
    assert.equal(out.size, 2);
    // A group whose only route is bad produces no message at all.
    out.announce({ ...r2(4), mac: "zz" } as EvpnRoute, outAttrs("192.0.2.9"));
    assert.deepEqual(out.drain(10), []);
    assert.equal(out.hasPending(), false);
  });

  test("attributes too large for one UPDATE throw, unless extended messages allow them", () => {
    const big = outAttrs("192.0.2.1", [
      { kind: "communities", communities: Array.from({ length: 1100 }, (_, i) => i) },
    ]);
    assert.throws(() => new AdjRibOut({ ctx: AS4 }).announce(r2(1), big), RangeError);
    const ext = new AdjRibOut({ ctx: EXT });
    ext.announce(r2(1), big);
    const d = decodeAll(ext.drain(1), EXT);
    assert.ok(d.sizes[0]! > 4096);
    assert.equal(d.announced.length, 1);
  });
});

describe("AdjRibOut owner-kept routes", () => {
  test("an owner-kept route is sent and then forgotten; its withdrawal is always sent", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    out.announce(r2(1), a, evpnRouteKey(r2(1)), false);
    out.announce(r2(1), a, evpnRouteKey(r2(1)), false); // staged already: one route
    assert.equal(out.pendingCount, 1);
    assert.equal(decodeAll(out.drain(10)).announced.length, 1);
    assert.equal(out.size, 0, "not counted");
    assert.equal(out.get(evpnRouteKey(r2(1))), undefined, "not kept");
    assert.deepEqual([...out.entries()], []);
    out.withdrawUnkept(r2(1));
    out.withdrawUnkept(r2(1));
    assert.equal(out.pendingCount, 1);
    assert.deepEqual(decodeAll(out.drain(10)).withdrawn, [r2(1)]);
    assert.equal(out.hasPending(), false);
    out.resendAll();
    assert.equal(out.pendingCount, 0, "a refresh of the kept routes does not include owner-kept ones");
  });

  test("the last staged change of an owner-kept route wins", () => {
    const out = new AdjRibOut({ ctx: AS4 });
    const a = outAttrs();
    const b = outAttrs("192.0.2.2");
    out.announce(r2(1), a, evpnRouteKey(r2(1)), false);
    out.drain(10);
    out.announce(r2(1), b, evpnRouteKey(r2(1)), false); // moved: next hop changes
    out.withdrawUnkept(r2(1)); // then gone before the drain: the peer has the first one
    let d = decodeAll(out.drain(10));
    assert.deepEqual([d.announced.length, d.withdrawn.length], [0, 1]);
    out.withdrawUnkept(r2(2));
    out.announce(r2(2), b, evpnRouteKey(r2(2)), false); // back before the drain
    d = decodeAll(out.drain(10));
    assert.deepEqual([d.announced.length, d.withdrawn.length], [1, 0]);
    assert.equal(d.announced[0]!.nextHop, "192.0.2.2");
    assert.equal(out.hasPending(), false);
  });
});
