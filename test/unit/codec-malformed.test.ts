// Malformed input for every decoder: each case asserts the exact error code, the RFC 7606
// approach and the NOTIFICATION code/subcode it maps to.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  BgpError,
  type CodecContext,
  decodeAttributes,
  decodeEvpnNlri,
  decodeMessage,
  decodeOpen,
  type ErrorAction,
  type EvpnRoute,
  MessageFramer,
  shutdownCommunication,
} from "../../src/codec/index.js";
import { h, hex, msg, updateWithAttrs } from "../helpers/hex.js";

const AS4: CodecContext = { as4: true };
const RD = "0001 c0000201 000a";
const ESI0 = "00".repeat(10);
const T3 = `03 11 ${RD} 00000000 20 c0000201`;
const BASE = "40 01 01 00 | 40 02 00"; // ORIGIN IGP, empty AS_PATH

interface Expect {
  code: string;
  action: ErrorAction;
  notify: [number, number];
  afi?: number;
}

function check(e: BgpError | undefined, x: Expect): void {
  assert.ok(e instanceof BgpError, "expected a BgpError");
  assert.equal(e.code, x.code, e.message);
  assert.equal(e.action, x.action, e.message);
  assert.deepEqual([e.notifyCode, e.notifySubcode], x.notify, e.message);
  if (x.afi !== undefined) assert.equal(e.afi, x.afi);
}

/** Decodes a whole message that must fail (session reset). */
function failing(b: Uint8Array, x: Expect, ctx: CodecContext = AS4): void {
  const r = decodeMessage(b, ctx);
  assert.equal(r.ok, false, "decode should fail");
  if (!r.ok) check(r.error, x);
}

/** Decodes an UPDATE that must succeed with the given approach and first error. */
function degraded(b: Uint8Array, x: Expect, ctx: CodecContext = AS4): void {
  const r = decodeMessage(b, ctx);
  assert.ok(r.ok, r.ok ? "" : `unexpected failure: ${r.error.message}`);
  assert.equal(r.action, x.action);
  check(r.errors[0], x);
}

const SESSION = "session-reset" as const;
const TAW = "treat-as-withdraw" as const;
const DISCARD = "attribute-discard" as const;
const AFISAFI = "afi-safi-disable" as const;

describe("message header (RFC 4271 §6.1)", () => {
  test("bad marker", () => {
    const b = msg(4, "");
    b[3] = 0;
    failing(b, { code: "ERR_HEADER_MARKER", action: SESSION, notify: [1, 1] });
  });
  test("length below the minimum for the type", () => {
    const b = msg(2, "0000");
    failing(b, { code: "ERR_HEADER_LENGTH", action: SESSION, notify: [1, 2] });
  });
  test("KEEPALIVE with a body", () =>
    failing(msg(4, "00"), { code: "ERR_HEADER_LENGTH", action: SESSION, notify: [1, 2] }));
  test("length over 4096 without extended messages", () => {
    const b = updateWithAttrs(`c0 08 ${"0ffc"} ${"00".repeat(4092)}`.replace("c0 08 0ffc", "d0 08 0ffc"));
    assert.ok(b.length > 4096);
    failing(b, { code: "ERR_HEADER_LENGTH", action: SESSION, notify: [1, 2] });
    const ok = decodeMessage(b, { as4: true, extendedMessage: true });
    assert.ok(ok.ok, "accepted with RFC 8654 extended messages");
  });
  test("OPEN over 4096 even with extended messages (RFC 8654 §3)", () => {
    const b = new Uint8Array(4097).fill(0xff);
    b[16] = 0x10;
    b[17] = 0x01;
    b[18] = 1;
    failing(b, { code: "ERR_HEADER_LENGTH", action: SESSION, notify: [1, 2] }, { as4: true, extendedMessage: true });
  });
  test("unknown message type", () => {
    const b = msg(4, "");
    b[18] = 9;
    failing(b, { code: "ERR_HEADER_TYPE", action: SESSION, notify: [1, 3] });
    const r = decodeMessage(b);
    assert.ok(!r.ok && hex(r.error.data) === "09", "data is the bad type");
  });
  test("fewer bytes than the header", () =>
    failing(h("ffff"), { code: "ERR_HEADER_TRUNCATED", action: SESSION, notify: [1, 2] }));
  test("length field disagrees with the bytes given", () => {
    const b = msg(2, "0000 0000");
    failing(b.subarray(0, 22), { code: "ERR_HEADER_LENGTH", action: SESSION, notify: [1, 2] });
  });
});

describe("OPEN (RFC 4271 §6.2, RFC 5492, RFC 9072)", () => {
  const open = (body: string) => msg(1, body);
  test("unsupported version: data is the supported version", () => {
    const r = decodeMessage(open("03 fde8 00b4 c0000201 00"));
    assert.ok(!r.ok);
    check(r.error, { code: "ERR_OPEN_VERSION", action: SESSION, notify: [2, 1] });
    assert.equal(hex(r.error.data), "0004");
  });
  test("hold time 1 and 2 are unacceptable", () => {
    failing(open("04 fde8 0001 c0000201 00"), {
      code: "ERR_OPEN_HOLD_TIME",
      action: SESSION,
      notify: [2, 6],
    });
    failing(open("04 fde8 0002 c0000201 00"), {
      code: "ERR_OPEN_HOLD_TIME",
      action: SESSION,
      notify: [2, 6],
    });
  });
  test("BGP identifier 0.0.0.0", () =>
    failing(open("04 fde8 00b4 00000000 00"), {
      code: "ERR_OPEN_BGP_ID",
      action: SESSION,
      notify: [2, 3],
    }));
  test("optional parameters length too long", () =>
    failing(open("04 fde8 00b4 c0000201 08 02 02 02 00"), {
      code: "ERR_OPEN_PARAM_LENGTH",
      action: SESSION,
      notify: [2, 0],
    }));
  test("optional parameters length too short", () =>
    failing(open("04 fde8 00b4 c0000201 02 02 02 02 00"), {
      code: "ERR_OPEN_PARAM_LENGTH",
      action: SESSION,
      notify: [2, 0],
    }));
  test("parameter overruns the parameters", () =>
    failing(open("04 fde8 00b4 c0000201 04 02 05 02 00"), {
      code: "ERR_OPEN_PARAM_OVERRUN",
      action: SESSION,
      notify: [2, 0],
    }));
  test("parameter header truncated", () =>
    failing(open("04 fde8 00b4 c0000201 05 02 02 02 00 02"), {
      code: "ERR_OPEN_PARAM_TRUNCATED",
      action: SESSION,
      notify: [2, 0],
    }));
  test("unsupported optional parameter type (authentication, deprecated)", () =>
    failing(open("04 fde8 00b4 c0000201 03 01 01 00"), {
      code: "ERR_OPEN_PARAM_UNSUPPORTED",
      action: SESSION,
      notify: [2, 4],
    }));
  test("capability overruns its parameter", () =>
    failing(open("04 fde8 00b4 c0000201 04 02 02 41 04"), {
      code: "ERR_OPEN_CAPABILITY_OVERRUN",
      action: SESSION,
      notify: [2, 0],
    }));
  test("capability header truncated", () =>
    failing(open("04 fde8 00b4 c0000201 03 02 01 41"), {
      code: "ERR_OPEN_CAPABILITY_TRUNCATED",
      action: SESSION,
      notify: [2, 0],
    }));
  const badCaps: [string, string][] = [
    ["multiprotocol of 3 bytes", "01 03 0019 46"],
    ["route refresh with a value", "02 01 00"],
    ["extended message with a value", "06 01 00"],
    ["enhanced route refresh with a value", "46 01 00"],
    ["4-octet AS of 2 bytes", "41 02 fde8"],
    ["graceful restart of 3 bytes", "40 03 0078 00"],
    ["graceful restart with a partial family", "40 04 0078 0019"],
  ];
  for (const [name, cap] of badCaps) {
    test(`malformed capability: ${name}`, () => {
      const c = h(cap);
      const body = `04 fde8 00b4 c0000201 ${(c.length + 2).toString(16).padStart(2, "0")} 02 ${c.length.toString(16).padStart(2, "0")} ${hex(c)}`;
      failing(open(body), { code: "ERR_OPEN_CAPABILITY_LENGTH", action: SESSION, notify: [2, 0] });
    });
  }
  test("RFC 9072 length disagreeing with the parameters", () =>
    failing(open("04 fde8 00b4 c0000201 ff ff 000a 02 0006 41 04 fa56ea00"), {
      code: "ERR_OPEN_PARAM_LENGTH",
      action: SESSION,
      notify: [2, 0],
    }));
  test("OPEN body shorter than the fixed fields (direct decoder)", () => {
    assert.throws(
      () => decodeOpen(h("04 fde8 00b4"), 0, 5),
      (e: unknown) => {
        check(e as BgpError, { code: "ERR_OPEN_TRUNCATED", action: SESSION, notify: [2, 0] });
        return true;
      },
    );
  });
});

describe("UPDATE structure (RFC 4271 §6.3, RFC 7606 §5.3)", () => {
  test("withdrawn routes length overruns the message", () =>
    failing(msg(2, "0010 18 c63364 0000"), {
      code: "ERR_UPDATE_WITHDRAWN_LENGTH",
      action: SESSION,
      notify: [3, 1],
    }));
  test("total path attribute length overruns the message", () =>
    failing(msg(2, "0000 0010 40 01 01 00"), {
      code: "ERR_UPDATE_ATTR_LENGTH",
      action: SESSION,
      notify: [3, 1],
    }));
  test("withdrawn prefix longer than 32 bits", () =>
    failing(msg(2, "0002 21 00 0000"), {
      code: "ERR_UPDATE_WITHDRAWN",
      action: SESSION,
      notify: [3, 10],
    }));
  test("NLRI prefix overruns the message", () =>
    failing(msg(2, `0000 000e 40 01 01 00 40 02 00 40 03 04 c0000201 18 c633`), {
      code: "ERR_UPDATE_NLRI",
      action: SESSION,
      notify: [3, 10],
    }));
});

describe("path attributes (RFC 7606 §3, §4, §7)", () => {
  const cases: [string, string, Expect][] = [
    ["attribute header truncated", `${BASE} 40 05`, { code: "ERR_ATTR_TRUNCATED", action: TAW, notify: [3, 1] }],
    [
      "extended-length header truncated",
      `${BASE} 50 05 00`,
      { code: "ERR_ATTR_TRUNCATED", action: TAW, notify: [3, 1] },
    ],
    [
      "attribute overruns the attribute field",
      `${BASE} 40 05 08 00000064`,
      { code: "ERR_ATTR_OVERRUN", action: TAW, notify: [3, 5] },
    ],
    ["ORIGIN length 2", "40 01 02 0000 40 02 00", { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    ["ORIGIN value 3", "40 01 01 03 40 02 00", { code: "ERR_ORIGIN_INVALID", action: TAW, notify: [3, 6] }],
    ["ORIGIN flagged optional", "c0 01 01 00 40 02 00", { code: "ERR_ATTR_FLAGS", action: TAW, notify: [3, 4] }],
    [
      "AS_PATH unknown segment type",
      "40 01 01 00 40 02 06 05 01 0000fde8",
      { code: "ERR_AS_PATH_MALFORMED", action: TAW, notify: [3, 11] },
    ],
    [
      "AS_PATH segment overrun",
      "40 01 01 00 40 02 06 02 02 0000fde8",
      { code: "ERR_AS_PATH_MALFORMED", action: TAW, notify: [3, 11] },
    ],
    [
      "AS_PATH zero-length segment",
      "40 01 01 00 40 02 02 02 00",
      { code: "ERR_AS_PATH_MALFORMED", action: TAW, notify: [3, 11] },
    ],
    [
      "AS_PATH truncated segment header",
      "40 01 01 00 40 02 01 02",
      { code: "ERR_AS_PATH_MALFORMED", action: TAW, notify: [3, 11] },
    ],
    ["NEXT_HOP length 5", `${BASE} 40 03 05 c000020100`, { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    ["MULTI_EXIT_DISC length 3", `${BASE} 80 04 03 000001`, { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    [
      "MULTI_EXIT_DISC flagged transitive",
      `${BASE} c0 04 04 00000001`,
      { code: "ERR_ATTR_FLAGS", action: TAW, notify: [3, 4] },
    ],
    ["LOCAL_PREF length 2", `${BASE} 40 05 02 0064`, { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    [
      "ATOMIC_AGGREGATE with a value",
      `${BASE} 40 06 01 00`,
      { code: "ERR_ATTR_LENGTH", action: DISCARD, notify: [3, 5] },
    ],
    [
      "AGGREGATOR length 7",
      `${BASE} c0 07 07 0000fde8c00002`,
      { code: "ERR_ATTR_LENGTH", action: DISCARD, notify: [3, 5] },
    ],
    [
      "AGGREGATOR flagged non-transitive",
      `${BASE} 80 07 08 0000fde8c0000201`,
      { code: "ERR_ATTR_FLAGS", action: DISCARD, notify: [3, 4] },
    ],
    ["COMMUNITIES length 3", `${BASE} c0 08 03 000001`, { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    ["COMMUNITIES length 0", `${BASE} c0 08 00`, { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    ["ORIGINATOR_ID length 3", `${BASE} 80 09 03 c00002`, { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] }],
    [
      "CLUSTER_LIST length 6",
      `${BASE} 80 0a 06 c0000201 0000`,
      { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] },
    ],
    [
      "EXTENDED_COMMUNITIES length 7",
      `${BASE} c0 10 07 0002fde8000000`,
      { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] },
    ],
    [
      "AS4_PATH with a confederation segment",
      `${BASE} c0 11 06 03 01 0000fde8`,
      { code: "ERR_AS4_PATH_MALFORMED", action: DISCARD, notify: [3, 9] },
    ],
    [
      "AS4_PATH overrun segment",
      `${BASE} c0 11 06 02 02 0000fde8`,
      { code: "ERR_AS4_PATH_MALFORMED", action: DISCARD, notify: [3, 9] },
    ],
    [
      "AS4_AGGREGATOR length 6",
      `${BASE} c0 12 06 fde8c0000201`,
      { code: "ERR_ATTR_LENGTH", action: DISCARD, notify: [3, 5] },
    ],
    [
      "PMSI_TUNNEL shorter than 5",
      `${BASE} c0 16 04 00060000`,
      { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] },
    ],
    [
      "LARGE_COMMUNITIES length 8",
      `${BASE} c0 20 08 0000fde800000001`,
      { code: "ERR_ATTR_LENGTH", action: TAW, notify: [3, 5] },
    ],
    [
      "duplicate ORIGIN: later copy discarded",
      `${BASE} 40 01 01 02`,
      { code: "ERR_ATTR_DUPLICATE", action: DISCARD, notify: [3, 1] },
    ],
  ];
  for (const [name, attrs, x] of cases) test(name, () => degraded(updateWithAttrs(attrs), x));

  test("the first copy of a duplicate attribute is kept", () => {
    const r = decodeMessage(updateWithAttrs(`${BASE} 40 01 01 02`));
    assert.ok(r.ok && r.message.type === 2);
    assert.deepEqual(r.message.attributes[0], { kind: "origin", flags: 0x40, origin: 0 });
    assert.equal(r.message.attributes.length, 2);
  });
  test("attribute-discard drops only the bad attribute", () => {
    const r = decodeMessage(updateWithAttrs(`${BASE} 40 06 01 00 40 05 04 00000064`));
    assert.ok(r.ok && r.message.type === 2);
    assert.deepEqual(
      r.message.attributes.map((a) => a.kind),
      ["origin", "as-path", "local-pref"],
    );
  });
  test("unrecognized well-known attribute resets the session", () => {
    failing(updateWithAttrs(`${BASE} 40 63 01 00`), {
      code: "ERR_ATTR_UNRECOGNIZED_WELL_KNOWN",
      action: SESSION,
      notify: [3, 2],
    });
    const r = decodeMessage(updateWithAttrs(`${BASE} 40 63 01 00`));
    assert.ok(!r.ok && hex(r.error.data) === "40630100", "data is the attribute");
  });
  test("duplicate MP_REACH_NLRI resets the session", () =>
    failing(
      updateWithAttrs(`${BASE} 90 0e 001c 0019 46 04 c0000201 00 ${T3} 90 0e 001c 0019 46 04 c0000201 00 ${T3}`),
      {
        code: "ERR_ATTR_DUPLICATE_MP",
        action: SESSION,
        notify: [3, 1],
      },
    ));
  test("missing ORIGIN and AS_PATH with EVPN reachability", () => {
    const r = decodeMessage(updateWithAttrs(`90 0e 001c 0019 46 04 c0000201 00 ${T3}`));
    assert.ok(r.ok);
    assert.equal(r.action, TAW);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.notifySubcode, hex(e.data)]),
      [
        ["ERR_ATTR_MISSING_WELL_KNOWN", 3, "01"],
        ["ERR_ATTR_MISSING_WELL_KNOWN", 3, "02"],
      ],
    );
  });
  test("missing NEXT_HOP with IPv4 NLRI", () => {
    const r = decodeMessage(msg(2, `0000 0007 ${BASE} 18 c63364`));
    assert.ok(r.ok);
    assert.equal(r.action, TAW);
    check(r.errors[0], { code: "ERR_ATTR_MISSING_WELL_KNOWN", action: TAW, notify: [3, 3] });
  });
  test("an UPDATE with only withdrawals needs no mandatory attributes", () => {
    const r = decodeMessage(updateWithAttrs(`90 0f 0016 0019 46 ${T3}`));
    assert.ok(r.ok);
    assert.equal(r.action, null);
  });
  test("the strongest approach wins", () => {
    const r = decodeMessage(updateWithAttrs(`${BASE} 40 06 01 00 80 04 03 000001`));
    assert.ok(r.ok);
    assert.equal(r.action, TAW);
    assert.deepEqual(
      r.errors.map((e) => e.action),
      [DISCARD, TAW],
    );
  });
  test("treat-as-withdraw still yields the routes to withdraw", () => {
    const r = decodeMessage(updateWithAttrs(`40 01 01 07 40 02 00 90 0e 001c 0019 46 04 c0000201 00 ${T3}`));
    assert.ok(r.ok && r.message.type === 2);
    assert.equal(r.action, TAW);
    const reach = r.message.attributes.find((a) => a.kind === "mp-reach");
    assert.ok(reach && reach.kind === "mp-reach" && reach.nlri.family === "evpn");
    assert.equal(reach.nlri.routes.length, 1);
  });
  test("MP_REACH_NLRI with conflicting flags is parsed and treated as withdraw", () => {
    const r = decodeMessage(updateWithAttrs(`${BASE} d0 0e 001c 0019 46 04 c0000201 00 ${T3}`));
    assert.ok(r.ok && r.message.type === 2);
    assert.equal(r.action, TAW);
    check(r.errors[0], { code: "ERR_ATTR_FLAGS", action: TAW, notify: [3, 4] });
    assert.ok(r.message.attributes.some((a) => a.kind === "mp-reach"));
  });
  test("LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from an eBGP peer are discarded", () => {
    const r = decodeMessage(updateWithAttrs(`${BASE} 40 05 04 00000064 80 09 04 c0000201 80 0a 04 c0000201`), {
      as4: true,
      ebgp: true,
    });
    assert.ok(r.ok && r.message.type === 2);
    assert.equal(r.action, DISCARD);
    assert.deepEqual(
      r.errors.map((e) => e.code),
      ["ERR_ATTR_FROM_EBGP", "ERR_ATTR_FROM_EBGP", "ERR_ATTR_FROM_EBGP"],
    );
    assert.equal(r.message.attributes.length, 2);
  });
});

describe("MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 7606 §5.3, §7.11)", () => {
  const cases: [string, string, Expect][] = [
    [
      "MP_REACH shorter than AFI/SAFI/next-hop length",
      `${BASE} 90 0e 0003 0019 46`,
      { code: "ERR_MP_LENGTH", action: SESSION, notify: [3, 9] },
    ],
    [
      "MP_UNREACH shorter than AFI/SAFI",
      `${BASE} 90 0f 0002 0019`,
      { code: "ERR_MP_LENGTH", action: SESSION, notify: [3, 9] },
    ],
  ];
  for (const [name, attrs, x] of cases) test(name, () => failing(updateWithAttrs(attrs), x));

  const disable: [string, string, string, number][] = [
    ["next hop length 5 for EVPN", `90 0e 000a 0019 46 05 c000020101 00`, "ERR_MP_NEXT_HOP_LENGTH", 25],
    ["next hop overruns the attribute", `90 0e 0006 0019 46 10 c0 00`, "ERR_MP_NEXT_HOP_LENGTH", 25],
    ["EVPN route overruns the attribute", `90 0e 0014 0019 46 04 c0000201 00 03 11 ${RD} 0000`, "ERR_EVPN_OVERRUN", 25],
    ["IPv4 unicast prefix longer than 32", `90 0e 000b 0001 01 04 c0000201 00 21 00`, "ERR_MP_NLRI", 1],
    ["EVPN NLRI of one byte", `90 0e 000a 0019 46 04 c0000201 00 02`, "ERR_EVPN_TRUNCATED", 25],
  ];
  for (const [name, attrs, code, afi] of disable)
    test(name, () => degraded(updateWithAttrs(`${BASE} ${attrs}`), { code, action: AFISAFI, notify: [3, 9], afi }));

  test("the broken MP attribute is left out of the decoded UPDATE", () => {
    const r = decodeMessage(updateWithAttrs(`${BASE} 90 0e 000a 0019 46 05 c000020101 00`));
    assert.ok(r.ok && r.message.type === 2);
    assert.equal(r.errors[0]?.safi, 70);
    assert.deepEqual(
      r.message.attributes.map((a) => a.kind),
      ["origin", "as-path"],
    );
  });
});

describe("EVPN route lengths (RFC 7432 §7, RFC 9136 §3)", () => {
  const bad: [string, string][] = [
    ["type 1 of 24 bytes", `01 18 ${RD} ${ESI0} 00000000 0000`],
    ["type 2 of 32 bytes", `02 20 ${RD} ${ESI0} 00000000 30 020000000101 00 0000`],
    ["type 2 of 34 bytes (no IP)", `02 22 ${RD} ${ESI0} 00000000 30 020000000101 00 00000a 00`],
    ["type 2 MAC length 47", `02 21 ${RD} ${ESI0} 00000000 2f 020000000101 00 00000a`],
    ["type 2 IP length 24", `02 24 ${RD} ${ESI0} 00000000 30 020000000101 18 c63364 00000a`],
    [
      "type 2 IPv4 length with IPv6 route length",
      `02 31 ${RD} ${ESI0} 00000000 30 020000000101 20 ${"00".repeat(16)} 00000a`,
    ],
    ["type 3 of 18 bytes", `03 12 ${RD} 00000000 20 c0000201 00`],
    ["type 3 IP length 128 in a 17-byte route", `03 11 ${RD} 00000000 80 c0000201`],
    ["type 3 IP length 0", `03 11 ${RD} 00000000 00 c0000201`],
    ["type 4 of 22 bytes", `04 16 ${RD} ${ESI0} 20 c00002`],
    ["type 4 IP length 32 in a 35-byte route", `04 23 ${RD} ${ESI0} 20 ${"00".repeat(16)}`],
    ["type 5 of 35 bytes", `05 23 ${RD} ${ESI0} 00000000 18 cb007100 00000000 00000a 00`],
    ["type 5 prefix length 33", `05 22 ${RD} ${ESI0} 00000000 21 cb007100 00000000 00000a`],
    ["type 5 IPv6 prefix length 129", `05 3a ${RD} ${ESI0} 00000000 81 ${"00".repeat(32)} 000014`],
  ];
  for (const [name, vec] of bad) {
    test(name, () => {
      const b = h(vec);
      const out: EvpnRoute[] = [];
      assert.throws(
        () => decodeEvpnNlri(b, 0, b.length, out, 25, 70),
        (e: unknown) => {
          check(e as BgpError, {
            code: "ERR_EVPN_ROUTE_LENGTH",
            action: AFISAFI,
            notify: [3, 9],
            afi: 25,
          });
          return true;
        },
      );
      // The same NLRI inside an UPDATE: AFI/SAFI disable, the session stays up.
      const len = (b.length + 5 + 4).toString(16).padStart(4, "0");
      degraded(updateWithAttrs(`${BASE} 90 0e ${len} 0019 46 04 c0000201 00 ${vec}`), {
        code: "ERR_EVPN_ROUTE_LENGTH",
        action: AFISAFI,
        notify: [3, 9],
        afi: 25,
      });
    });
  }
  test("unknown route types are skipped, not errors (RFC 7606 §5.4)", () => {
    const b = h(`0a 02 abcd ${T3}`);
    const out: EvpnRoute[] = [];
    decodeEvpnNlri(b, 0, b.length, out, 25, 70);
    assert.deepEqual(
      out.map((r) => r.routeType),
      ["unknown", 3],
    );
  });
});

describe("NOTIFICATION and ROUTE-REFRESH", () => {
  test("shutdown communication longer than the data is ignored (RFC 9003 §4)", () => {
    const r = decodeMessage(msg(3, "06 02 0b 6d61"));
    assert.ok(r.ok && r.message.type === 3);
    assert.equal(shutdownCommunication(r.message), undefined);
  });
  test("shutdown communication that is not UTF-8 is ignored", () => {
    const r = decodeMessage(msg(3, "06 04 02 ff fe"));
    assert.ok(r.ok && r.message.type === 3);
    assert.equal(shutdownCommunication(r.message), undefined);
  });
  test("shutdown communication is read for Administrative Reset", () => {
    const r = decodeMessage(msg(3, "06 04 02 6f 6b"));
    assert.ok(r.ok && r.message.type === 3);
    assert.equal(shutdownCommunication(r.message), "ok");
  });
  test("BoRR of the wrong length (RFC 7313 §5)", () =>
    failing(msg(5, "0019 01 46 00"), {
      code: "ERR_ROUTE_REFRESH_LENGTH",
      action: SESSION,
      notify: [7, 1],
    }));
  test("ROUTE-REFRESH shorter than 23 bytes", () =>
    failing(msg(5, "0019 00"), { code: "ERR_HEADER_LENGTH", action: SESSION, notify: [1, 2] }));
});

describe("MessageFramer", () => {
  test("reassembles messages split across chunks and split chunks into messages", () => {
    const a = msg(4, "");
    const b = updateWithAttrs(`${BASE} 90 0e 001c 0019 46 04 c0000201 00 ${T3}`);
    const stream = new Uint8Array(a.length + b.length + a.length);
    stream.set(a, 0);
    stream.set(b, a.length);
    stream.set(a, a.length + b.length);
    for (const cut of [1, 7, 19, 20, 33, stream.length - 1]) {
      const f = new MessageFramer();
      const frames: string[] = [];
      f.push(stream.subarray(0, cut));
      for (let r = f.next(); r; r = f.next()) if (r.ok) frames.push(hex(r.frame));
      f.push(stream.subarray(cut));
      for (let r = f.next(); r; r = f.next()) if (r.ok) frames.push(hex(r.frame));
      assert.deepEqual(frames, [hex(a), hex(b), hex(a)], `cut at ${cut}`);
      assert.equal(f.bufferedBytes, 0);
    }
  });
  test("reports a header error once, then stops", () => {
    const f = new MessageFramer();
    const bad = msg(4, "");
    bad[0] = 0;
    f.push(bad);
    const r = f.next();
    assert.ok(r && !r.ok);
    check(r.error, { code: "ERR_HEADER_MARKER", action: SESSION, notify: [1, 1] });
    assert.equal(f.next(), null);
  });
  test("honours the extended message maximum", () => {
    const big = updateWithAttrs(`d0 08 0ffc ${"00".repeat(4092)}`);
    const f = new MessageFramer(65535);
    f.push(big);
    const r = f.next();
    assert.ok(r?.ok);
    const g = new MessageFramer();
    g.push(big);
    assert.ok(g.next()?.ok === false);
  });
});

describe("decodeAttributes direct use", () => {
  test("empty attribute field", () => {
    assert.deepEqual(decodeAttributes(new Uint8Array(0), 0, 0, AS4), {
      attributes: [],
      errors: [],
    });
  });
});
