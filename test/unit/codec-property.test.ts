// Property tests (fast-check): no input makes a decoder throw, and every route or message the
// encoder can produce decodes back to the same value.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decodeMessage,
  type EvpnRoute,
  type ExtCommunity,
  encodeMessage,
  formatIpv4,
  formatIpv6,
  formatMac,
  MessageFramer,
  normalizeIp,
  parseIpv6Into,
  type UpdateMessage,
} from "../../src/codec/index.js";
import { msg, updateWithAttrs } from "../helpers/hex.js";

const RUNS = 2000;

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const ipv4 = bytes(4).map((b) => formatIpv4(b, 0));
const ipv6 = bytes(16).map((b) => formatIpv6(b, 0));
const ip = fc.oneof(ipv4, ipv6);
const mac = bytes(6).map((b) => formatMac(b, 0));
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u24 = fc.integer({ min: 0, max: 0xffffff });
const esi = bytes(10).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":"));
const rd = fc.oneof(
  fc.tuple(u16, u32).map(([a, n]) => `${a}:${n}`),
  fc.tuple(ipv4, u16).map(([a, n]) => `${a}:${n}`),
  fc.tuple(fc.integer({ min: 0x10000, max: 0xffffffff }), u16).map(([a, n]) => `${a}:${n}`),
  fc.tuple(u16, u16).map(([a, n]) => `${a}L:${n}`),
);
const prefix4 = fc.tuple(fc.integer({ min: 0, max: 32 }), bytes(4)).map(([l, b]) => `${formatIpv4(b, 0)}/${l}`);
const prefix6 = fc.tuple(fc.integer({ min: 0, max: 128 }), bytes(16)).map(([l, b]) => `${formatIpv6(b, 0)}/${l}`);

const route: fc.Arbitrary<EvpnRoute> = fc
  .oneof(
    fc.record({ routeType: fc.constant(1 as const), rd, esi, ethernetTag: u32, label: u24 }),
    fc.record({
      routeType: fc.constant(2 as const),
      rd,
      esi,
      ethernetTag: u32,
      mac,
      ip: fc.option(ip, { nil: undefined }),
      label1: u24,
      label2: fc.option(u24, { nil: undefined }),
    }),
    fc.record({ routeType: fc.constant(3 as const), rd, ethernetTag: u32, originator: ip }),
    fc.record({ routeType: fc.constant(4 as const), rd, esi, originator: ip }),
    fc.oneof(
      fc.record({
        routeType: fc.constant(5 as const),
        rd,
        esi,
        ethernetTag: u32,
        prefix: prefix4,
        gateway: ipv4,
        label: u24,
      }),
      fc.record({
        routeType: fc.constant(5 as const),
        rd,
        esi,
        ethernetTag: u32,
        prefix: prefix6,
        gateway: ipv6,
        label: u24,
      }),
    ),
    fc.record({
      routeType: fc.constant("unknown" as const),
      code: fc.integer({ min: 6, max: 255 }),
      value: fc.uint8Array({ maxLength: 40 }),
    }),
  )
  .map((r) => ({ ...r }) as EvpnRoute);

const extCommunity: fc.Arbitrary<ExtCommunity> = fc
  .oneof(
    rd.map((value) => ({ kind: "route-target" as const, value })),
    rd.map((value) => ({ kind: "route-origin" as const, value })),
    u16.map((tunnelType) => ({ kind: "encapsulation" as const, tunnelType })),
    fc.record({
      kind: fc.constant("mac-mobility" as const),
      flags: fc.integer({ min: 0, max: 255 }),
      sequence: u32,
    }),
    fc.record({
      kind: fc.constant("esi-label" as const),
      flags: fc.integer({ min: 0, max: 255 }),
      label: u24,
    }),
    mac.map((m) => ({ kind: "es-import-rt" as const, mac: m })),
    mac.map((m) => ({ kind: "router-mac" as const, mac: m })),
    fc.integer({ min: 0, max: 255 }).map((flags) => ({ kind: "arp-nd" as const, flags })),
    fc.constant({ kind: "default-gateway" as const }),
  )
  .map((c) => ({ ...c }) as ExtCommunity);

function evpnUpdate(routes: EvpnRoute[], communities: ExtCommunity[], nh: string): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    attributes: [
      { kind: "origin", flags: 0x40, origin: 0 },
      { kind: "as-path", flags: 0x40, segments: [] },
      { kind: "local-pref", flags: 0x40, localPref: 100 },
      ...(communities.length ? [{ kind: "ext-communities" as const, flags: 0xc0, communities }] : []),
      {
        kind: "mp-reach",
        flags: 0x90,
        afi: 25,
        safi: 70,
        nextHop: [nh],
        reserved: 0,
        nlri: { family: "evpn", routes },
      },
    ],
    nlri: [],
  };
}

describe("decoders never throw", () => {
  test("random bytes as a whole message", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        decodeMessage(b);
      }),
      { numRuns: RUNS },
    );
  });
  test("random bodies behind a valid header, every type", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        (type, body, as4) => {
          const b = msg(type, Array.from(body, (x) => x.toString(16).padStart(2, "0")).join(""));
          const r = decodeMessage(b, { as4 });
          if (!r.ok) assert.ok(r.error.code.startsWith("ERR_"));
        },
      ),
      { numRuns: RUNS * 5 },
    );
  });
  test("random path attribute fields", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (attrs, ebgp) => {
        const r = decodeMessage(updateWithAttrs(Array.from(attrs, (x) => x.toString(16).padStart(2, "0")).join("")), {
          as4: true,
          ebgp,
        });
        if (r.ok) for (const e of r.errors) assert.ok(e.code.startsWith("ERR_"));
      }),
      { numRuns: RUNS * 5 },
    );
  });
  test("mutated valid UPDATEs: flipped bytes and truncation", () => {
    fc.assert(
      fc.property(
        fc.array(route, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (routes, flips, cut) => {
          const b = encodeMessage(evpnUpdate(routes, [], "192.0.2.1"));
          for (const [pos, v] of flips) b[19 + (pos % (b.length - 19))] = v;
          decodeMessage(b);
          decodeMessage(b.subarray(0, 19 + (cut % (b.length - 19))));
          const f = new MessageFramer();
          f.push(b);
          f.next();
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("encode → decode is the identity", () => {
  test("EVPN routes and extended communities in UPDATEs", () => {
    fc.assert(
      fc.property(
        fc.array(route, { minLength: 0, maxLength: 20 }),
        fc.array(extCommunity, { maxLength: 8 }),
        ip,
        (routes, communities, nh) => {
          const u = evpnUpdate(routes, communities, nh);
          const r = decodeMessage(encodeMessage(u));
          assert.ok(r.ok, r.ok ? "" : r.error.message);
          assert.deepEqual(r.errors, []);
          assert.deepEqual(r.message, u);
        },
      ),
      { numRuns: RUNS },
    );
  });
  test("IPv6 text parses to the same canonical form", () => {
    fc.assert(
      fc.property(bytes(16), (b) => {
        const s = formatIpv6(b, 0);
        const out = new Uint8Array(16);
        assert.ok(parseIpv6Into(s, out, 0));
        assert.deepEqual(out, b);
        assert.equal(normalizeIp(s), s);
      }),
      { numRuns: RUNS },
    );
  });
});
