// The speaker's policy (src/bgp/policy.ts): attributes towards external and internal peers
// checked on the wire, the RFC 7606 handling of inbound UPDATEs, OPEN parameters per neighbour,
// End-of-RIB, route refresh answers and pacing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  capabilitiesOf,
  decodeMessage,
  encodeMessage,
  type EvpnRoute,
  GR_FORWARDING_PRESERVED,
  GR_RESTART_STATE,
  type PathAttribute,
} from "../../src/codec/index.js";
import { buildLocalOpen } from "../../src/bgp/negotiate.js";
import {
  DEFAULT_LOCAL_PREF,
  earlyFlushRoutes,
  ebgpAttributes,
  endOfRibMessages,
  EVPN,
  ExportPolicy,
  ibgpAttributes,
  inboundRoutes,
  localSpeaker,
  neighborAddress,
  refreshAnswer,
} from "../../src/bgp/policy.js";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import { hex, norm, updateWithAttrs } from "../helpers/hex.js";

const ORIGIN: PathAttribute = { kind: "origin", origin: 0 };
const LP: PathAttribute = { kind: "local-pref", localPref: 200 };
const EXT: PathAttribute = { kind: "ext-communities", communities: [{ kind: "route-target", value: "65000:10" }] };

/** The UPDATE carrying these attributes (4-octet AS numbers, RFC 6793). */
function wire(attributes: PathAttribute[]): string {
  return hex(encodeMessage({ type: 2, withdrawn: [], attributes, nlri: [] }, { as4: true }));
}

describe("attributes towards an external peer (RFC 4271 §5.1.2, §5.1.5)", () => {
  test("an empty AS_PATH becomes one AS_SEQUENCE of our AS; LOCAL_PREF is not sent", () => {
    const out = ebgpAttributes([ORIGIN, { kind: "as-path", segments: [] }, LP, EXT], 65000);
    assert.deepEqual(
      out.map((a) => a.kind),
      ["origin", "as-path", "ext-communities"],
    );
    // ORIGIN IGP | AS_PATH: AS_SEQUENCE (2), 1 AS, 65000 | EXTENDED COMMUNITIES: RT 65000:10
    assert.equal(
      wire(out),
      hex(updateWithAttrs("40 01 01 00 | 40 02 06 02 01 0000fde8 | c0 10 08 0002 fde8 0000000a")),
    );
  });

  test("our AS goes in front of the first AS_SEQUENCE", () => {
    const out = ebgpAttributes([{ kind: "as-path", segments: [{ type: 2, asns: [65010, 65020] }] }], 65000);
    assert.deepEqual(out, [{ kind: "as-path", segments: [{ type: 2, asns: [65000, 65010, 65020] }] }]);
    assert.equal(wire(out), hex(updateWithAttrs("40 02 0e 02 03 0000fde8 0000fdf2 0000fdfc")));
  });

  test("before an AS_SET, and before a full AS_SEQUENCE (255 ASes, RFC 4271 §4.3), a new segment starts", () => {
    const set = { type: 1, asns: [65010] };
    assert.deepEqual(ebgpAttributes([{ kind: "as-path", segments: [set] }], 65000), [
      { kind: "as-path", segments: [{ type: 2, asns: [65000] }, set] },
    ]);
    const full = { type: 2, asns: Array.from({ length: 255 }, (_, i) => 64512 + i) };
    const [p] = ebgpAttributes([{ kind: "as-path", segments: [full] }], 65000);
    assert.deepEqual(p, { kind: "as-path", segments: [{ type: 2, asns: [65000] }, full] });
    const just = { type: 2, asns: full.asns.slice(1) }; // 254: one more fits
    assert.deepEqual(ebgpAttributes([{ kind: "as-path", segments: [just] }], 65000), [
      { kind: "as-path", segments: [{ type: 2, asns: [65000, ...just.asns] }] },
    ]);
  });

  test("without an AS_PATH one is put first", () => {
    assert.deepEqual(ebgpAttributes([ORIGIN, LP], 4200000000), [
      { kind: "as-path", segments: [{ type: 2, asns: [4200000000] }] },
      ORIGIN,
    ]);
  });
});

describe("attributes towards an internal peer (RFC 4271 §5.1.5)", () => {
  test("LOCAL_PREF as given is kept: nothing changes", () => {
    assert.equal(ibgpAttributes([ORIGIN, { kind: "as-path", segments: [] }, LP, EXT]), null);
  });

  test("a missing LOCAL_PREF is added (100), in type-code order (RFC 4271 §5)", () => {
    const out = ibgpAttributes([ORIGIN, { kind: "as-path", segments: [] }, { kind: "med", med: 7 }, EXT])!;
    assert.equal(DEFAULT_LOCAL_PREF, 100);
    assert.deepEqual(
      out.map((a) => a.kind),
      ["origin", "as-path", "med", "local-pref", "ext-communities"],
    );
    // ... | MED 7 | LOCAL_PREF 100 | ...
    assert.equal(
      wire(out),
      hex(
        updateWithAttrs("40 01 01 00 | 40 02 00 | 80 04 04 00000007 | 40 05 04 00000064 | c0 10 08 0002 fde8 0000000a"),
      ),
    );
  });

  test("ExportPolicy: one object per kind of session, the given one when nothing changes", () => {
    const policy = new ExportPolicy(65000);
    const attrs: OutAttrs = { nextHop: "192.0.2.1", attributes: [ORIGIN, { kind: "as-path", segments: [] }, LP] };
    assert.equal(policy.attrsFor(attrs, false), attrs);
    const e = policy.attrsFor(attrs, true);
    assert.equal(policy.attrsFor(attrs, true), e, "cached: routes sharing attributes share them towards eBGP");
    assert.equal(e.nextHop, "192.0.2.1");
    assert.deepEqual(e.attributes, [ORIGIN, { kind: "as-path", segments: [{ type: 2, asns: [65000] }] }]);
    const bare: OutAttrs = { nextHop: "192.0.2.1", attributes: [ORIGIN] };
    const i = policy.attrsFor(bare, false);
    assert.notEqual(i, bare);
    assert.equal(policy.attrsFor(bare, false), i);
    assert.deepEqual(i.attributes, [ORIGIN, { kind: "local-pref", localPref: 100 }]);
  });
});

const IMET = (n: number): EvpnRoute => ({
  routeType: 3,
  rd: `192.0.2.${n}:10`,
  ethernetTag: 0,
  originator: `192.0.2.${n}`,
});
const UNKNOWN: EvpnRoute = { routeType: "unknown", code: 9, value: new Uint8Array([1, 2]) };

function reach(routes: EvpnRoute[], ignored?: number): PathAttribute {
  const nlri = { family: "evpn" as const, routes, ...(ignored !== undefined ? { ignored } : {}) };
  return { kind: "mp-reach", afi: 25, safi: 70, nextHop: ["192.0.2.1"], nlri };
}
function unreach(routes: EvpnRoute[]): PathAttribute {
  return { kind: "mp-unreach", afi: 25, safi: 70, nlri: { family: "evpn", routes } };
}

describe("inbound UPDATEs", () => {
  test("announced and withdrawn EVPN routes, the next hop, the looped count", () => {
    const r = inboundRoutes([ORIGIN, reach([IMET(1)], 3), unreach([IMET(2)])], null);
    assert.deepEqual(r, {
      announced: [IMET(1)],
      withdrawn: [IMET(2)],
      nextHop: "192.0.2.1",
      looped: 3,
      treatedAsWithdraw: null,
    });
  });

  test("RFC 7606 §2 treat-as-withdraw: the announced routes are withdrawn with the others", () => {
    const r = inboundRoutes([reach([IMET(1), IMET(3)]), unreach([IMET(2)])], "treat-as-withdraw");
    assert.deepEqual(r.announced, []);
    assert.deepEqual(r.withdrawn, [IMET(2), IMET(1), IMET(3)]);
    assert.equal(r.treatedAsWithdraw, 2);
    assert.deepEqual(inboundRoutes([reach([IMET(1)])], "treat-as-withdraw").withdrawn, [IMET(1)]);
  });

  test("attribute-discard keeps the routes (RFC 7606 §2)", () => {
    const r = inboundRoutes([reach([IMET(1)])], "attribute-discard");
    assert.deepEqual([r.announced, r.withdrawn, r.treatedAsWithdraw], [[IMET(1)], [], null]);
  });

  test("RFC 7606 §5.4: EVPN route types we do not know are discarded, announced or withdrawn", () => {
    const r = inboundRoutes([reach([UNKNOWN, IMET(1)]), unreach([IMET(2), UNKNOWN])], null);
    assert.deepEqual([r.announced, r.withdrawn], [[IMET(1)], [IMET(2)]]);
  });

  test("no EVPN NLRI: nothing", () => {
    assert.deepEqual(inboundRoutes([ORIGIN], null), {
      announced: [],
      withdrawn: [],
      nextHop: "",
      looped: 0,
      treatedAsWithdraw: null,
    });
  });
});

describe("sessions", () => {
  const G = { routerId: "192.0.2.4", localAs: 65000, gracefulRestart: { restartTime: 120 } };
  const N = { holdTime: 30, gracefulRestart: true };

  test("OPEN parameters: the neighbour's hold time; graceful restart with our restart time (RFC 4724 §3)", () => {
    assert.deepEqual(localSpeaker(G, N), {
      localAs: 65000,
      routerId: "192.0.2.4",
      holdTime: 30,
      families: [EVPN],
      gracefulRestart: { restartTime: 120, restarting: false },
    });
    const restarted = buildLocalOpen(localSpeaker({ ...G, restarting: true }, N));
    const gr = capabilitiesOf(restarted).find((c) => c.code === 64);
    assert.deepEqual(gr, {
      code: 64,
      restartFlags: GR_RESTART_STATE,
      restartTime: 120,
      families: [{ afi: 25, safi: 70, flags: GR_FORWARDING_PRESERVED }],
    });
  });

  test("graceful restart off globally or for the neighbour: none of ours; extended messages can be refused", () => {
    assert.equal(localSpeaker({ ...G, gracefulRestart: null }, N).gracefulRestart, undefined);
    assert.equal(localSpeaker(G, { ...N, gracefulRestart: false }).gracefulRestart, undefined);
    assert.equal(localSpeaker({ ...G, extendedMessage: false }, N).extendedMessage, false);
  });

  test("End-of-RIB per negotiated family (RFC 4724 §2): an UPDATE with an empty MP_UNREACH_NLRI", () => {
    const [eor] = endOfRibMessages({ families: [EVPN], as4: true });
    // MP_UNREACH_NLRI (15), optional, extended length: AFI 25 (L2VPN), SAFI 70 (EVPN), no NLRI
    assert.equal(hex(eor!), hex(updateWithAttrs("90 0f 0003 0019 46")));
    assert.equal(decodeMessage(eor!).ok, true);
    assert.equal(endOfRibMessages({ families: [EVPN, { afi: 1, safi: 1 }], as4: true }).length, 2);
    assert.equal(
      hex(endOfRibMessages({ families: [{ afi: 1, safi: 1 }], as4: true })[0]!),
      norm("ff".repeat(16) + "0017 02 0000 0000"),
    );
  });

  test("ROUTE-REFRESH: a request is answered, between BoRR and EoRR when enhanced (RFC 7313 §4)", () => {
    assert.deepEqual(refreshAnswer(0, false), { resend: true, bracket: false });
    assert.deepEqual(refreshAnswer(0, true), { resend: true, bracket: true });
    assert.deepEqual(refreshAnswer(1, true), { resend: false, bracket: false });
    assert.deepEqual(refreshAnswer(2, true), { resend: false, bracket: false });
  });

  test("pacing: a full UPDATE's worth of type-2 routes flushes at once", () => {
    assert.equal(earlyFlushRoutes(4096), 102);
    assert.equal(earlyFlushRoutes(65535), 1638);
  });

  test("IPv4-mapped IPv6 connections belong to the IPv4 neighbour (RFC 4291 §2.5.5.2)", () => {
    assert.equal(neighborAddress("::ffff:192.0.2.1"), "192.0.2.1");
    assert.equal(neighborAddress("2001:db8::1"), "2001:db8::1");
    assert.equal(neighborAddress("::ffff:1"), "::ffff:1");
    assert.equal(neighborAddress(undefined), "");
  });
});
