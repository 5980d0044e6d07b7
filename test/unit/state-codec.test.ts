// The state file codec: CRC-32C vectors (RFC 3720 B.4), a byte-exact file of two records, round
// trips of arbitrary records in arbitrary chunks (fast-check), and torn, corrupt, truncated and
// garbage files as typed errors — never a throw. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { fromHex, toHex } from "../../src/codec/bytes.js";
import type { BindingRecord } from "../../src/dataplane/learning/learner.js";
import { normalizeIp } from "../../src/net/addr.js";
import { decodeState, describeStateError, encodeState, StateEncoder, type StateResult } from "../../src/state/codec.js";
import { crc32c } from "../../src/state/crc32c.js";

function hex(s: string): Uint8Array {
  const b = fromHex(s.replace(/#.*$/gm, "").replace(/\s+/g, ""));
  assert.ok(b);
  return b;
}

function records(r: StateResult): BindingRecord[] {
  assert.ok(r.ok, r.ok ? "" : describeStateError(r.error));
  return [...r.state.records()];
}

/** Rewrites the footer's CRC so that a deliberately malformed body passes the checksum. */
function reseal(b: Uint8Array): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32c(out, 0, 0, out.length - 4));
  return out;
}

const T0 = 1767225600000; // 2026-01-01T00:00:00Z

const TWO: BindingRecord[] = [
  {
    service: "vni10",
    evi: 10,
    vni: 10,
    vtep: "192.0.2.1",
    mac: "02:00:00:00:01:01",
    ips: [{ ip: "198.51.100.1", lastSeen: T0 - 10_000 }],
    seq: 0,
    maxSeq: 0,
    configured: false,
    announced: true,
    frozenUntil: 0,
    moves: [],
    lastSeen: T0 - 10_000,
  },
  {
    service: "vni10",
    evi: 10,
    vni: 10,
    vtep: "2001:db8::2",
    mac: "02:00:00:00:01:02",
    ips: [{ ip: "2001:db8::2", lastSeen: T0 - 100_000 }],
    seq: 5,
    maxSeq: 6,
    configured: false,
    announced: true,
    frozenUntil: T0 + 200_000,
    moves: [T0 - 200_000],
    lastSeen: T0 - 100_000,
  },
];

const TWO_HEX = `
  45565058 53544154  0001 0000  4279b76daa800000   # magic EVPXSTAT, version 1, saved at T0
  # record 0: service 0, VTEP 0, MAC, flags announced, seq 0, max 0, last seen T0-10 s
  0000 00000000 020000000101 02 00000000 00000000 4279b76da80f0000
  0000                                             # no moves
  0001 04 c6336401 4279b76da80f0000                # 198.51.100.1, last seen T0-10 s
  # record 1: service 0, VTEP 1, flags announced + frozen, seq 5, max 6, last seen T0-100 s
  0000 00000001 020000000102 06 00000005 00000006 4279b76d92160000
  4279b76ddb540000                                 # frozen until T0+200 s
  0001 4279b76d79ac0000                            # one move at T0-200 s
  0001 10 20010db8000000000000000000000002 4279b76d92160000
  # tables: one service (EVI 10, VNI 10, "vni10"), two VTEPs
  0001 000a 0000000a 0005 766e693130
  00000002 04 c0000201 10 20010db8000000000000000000000002
  # footer: 2 records, tables at 140, CRC-32C
  00000002 0000008c`;

describe("CRC-32C", () => {
  test("RFC 3720 B.4 vectors and the check value; chained calls equal one call", () => {
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
    const check = new TextEncoder().encode("123456789");
    assert.equal(crc32c(check), 0xe3069283);
    for (let cut = 0; cut <= check.length; cut++)
      assert.equal(crc32c(check, crc32c(check, 0, 0, cut), cut), 0xe3069283, `split at ${cut}`);
  });
});

describe("encoding", () => {
  test("two records, byte for byte", () => {
    const body = hex(TWO_HEX);
    const expected = new Uint8Array(body.length + 4);
    expected.set(body);
    new DataView(expected.buffer).setUint32(body.length, crc32c(body));
    assert.equal(toHex(encodeState(T0, TWO)), toHex(expected));
    assert.equal(crc32c(body), 0x1efcab1f);
    assert.deepEqual(records(decodeState(expected)), TWO);
  });

  test("chunks taken between records make the same file", () => {
    const e = new StateEncoder(T0);
    const parts: Uint8Array[] = [e.take().slice()];
    for (const r of TWO) {
      e.add(r);
      parts.push(e.take().slice());
    }
    parts.push(e.finish());
    assert.equal(toHex(Buffer.concat(parts)), toHex(encodeState(T0, TWO)));
  });

  test("records the layout cannot hold are left out and counted", () => {
    const e = new StateEncoder(T0);
    const bad: Partial<BindingRecord>[] = [
      { mac: "not a mac" },
      { vtep: "192.0.2.300" },
      { seq: -1 },
      { maxSeq: 2 ** 32 },
      { evi: 70000 },
      { ips: [{ ip: "x", lastSeen: 0 }] },
    ];
    for (const over of bad) assert.equal(e.add({ ...TWO[0]!, ...over }), false, JSON.stringify(over));
    assert.equal(e.add(TWO[0]!), true);
    assert.deepEqual([e.count, e.skipped], [1, 6]);
    const file = Buffer.concat([e.take().slice(), e.finish()]);
    assert.deepEqual(records(decodeState(file)), [TWO[0]]);
  });

  test("an empty table: header, empty tables, footer", () => {
    const r = decodeState(encodeState(T0, []));
    assert.ok(r.ok);
    assert.deepEqual([r.state.count, r.state.savedAt, [...r.state.records()]], [0, T0, []]);
  });
});

const arbIp = fc.oneof(
  fc.ipV4().map((s) => s.split(".").map(Number).join(".")),
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .map((g) => g.map((x) => x.toString(16)).join(":")),
);
const arbTime = fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.double({ noNaN: false }));
const arbRecord: fc.Arbitrary<BindingRecord> = fc.record({
  service: fc.constantFrom("vni10", "blue.20", "ü"),
  evi: fc.integer({ min: 1, max: 65535 }),
  vni: fc.integer({ min: 1, max: 16777215 }),
  vtep: arbIp,
  mac: fc
    .uint8Array({ minLength: 6, maxLength: 6 })
    .map((b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(":")),
  ips: fc.array(fc.record({ ip: arbIp, lastSeen: arbTime }), { maxLength: 4 }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  maxSeq: fc.integer({ min: 0, max: 0xffffffff }),
  configured: fc.boolean(),
  announced: fc.boolean(),
  frozenUntil: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 42 })),
  moves: fc.array(arbTime, { maxLength: 3 }),
  lastSeen: arbTime,
});

/** What decoding gives back: canonical address text (the encoder takes any form the parser reads). */
function canonical(r: BindingRecord): BindingRecord {
  return { ...r, vtep: normalizeIp(r.vtep)!, ips: r.ips.map((x) => ({ ...x, ip: normalizeIp(x.ip)! })) };
}

describe("round trips and bad input (fast-check)", () => {
  test("any records, chunked anywhere, decode to themselves", () => {
    fc.assert(
      fc.property(fc.array(arbRecord, { maxLength: 20 }), fc.array(fc.boolean()), arbTime, (recs, cuts, savedAt) => {
        const e = new StateEncoder(savedAt);
        const parts: Uint8Array[] = [];
        recs.forEach((r, i) => {
          assert.equal(e.add(r), true);
          if (cuts[i]) parts.push(e.take().slice());
        });
        parts.push(e.take().slice(), e.finish());
        const r = decodeState(Buffer.concat(parts));
        assert.ok(r.ok);
        assert.ok(Object.is(r.state.savedAt, savedAt));
        assert.deepEqual([...r.state.records()], recs.map(canonical));
      }),
      { numRuns: 300 },
    );
  });

  test("garbage never throws and is refused", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        assert.equal(decodeState(b).ok, false);
      }),
      { numRuns: 2000 },
    );
  });

  test("a valid file with any bytes changed: a typed error, never a throw", () => {
    const good = encodeState(T0, TWO);
    fc.assert(
      fc.property(
        // Distinct positions: two flips of one byte could cancel out and leave the file valid.
        fc.uniqueArray(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
          selector: ([at]) => at,
        }),
        (flips) => {
          const b = good.slice();
          for (const [at, x] of flips) b[at] ^= x;
          const r = decodeState(b);
          assert.equal(r.ok, false);
          if (!r.ok) assert.ok(["magic", "version", "checksum"].includes(r.error.code), r.error.code);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("resealed mutations (the checksum recomputed) reach the layout checks; they never throw", () => {
    const good = encodeState(T0, TWO);
    fc.assert(
      fc.property(fc.nat(good.length - 5), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = good.slice();
        b[at] ^= x;
        const r = decodeState(reseal(b));
        if (r.ok) for (const rec of r.state.records()) assert.equal(typeof rec.mac, "string");
      }),
      { numRuns: 3000 },
    );
  });
});

describe("torn, truncated and malformed files", () => {
  const good = encodeState(T0, TWO);

  test("every truncation is refused: too short, or the checksum", () => {
    for (let n = 0; n < good.length; n++) {
      const r = decodeState(good.subarray(0, n));
      assert.equal(r.ok, false, `${n} bytes`);
      if (!r.ok) assert.equal(r.error.code, n < 32 ? "truncated" : "checksum", `${n} bytes`);
    }
  });

  test("magic, version, checksum", () => {
    const cases: [number, number, string, string][] = [
      [0, 0x46, "magic", "not a state file of evpn-proxy (no EVPXSTAT magic)"],
      [9, 2, "version", "state file version 2, this evpn-proxy reads version 1"],
      [40, 0xff, "checksum", ""],
    ];
    for (const [at, v, code, text] of cases) {
      const b = good.slice();
      b[at] = v;
      const r = decodeState(b);
      assert.ok(!r.ok);
      assert.equal(r.error.code, code);
      if (text !== "") assert.equal(describeStateError(r.error), text);
      else
        assert.match(
          describeStateError(r.error),
          /^checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): torn or corrupt$/,
        );
    }
  });

  test("with a valid checksum: indexes, flags, lengths and leftovers are layout errors", () => {
    const layout = (mutate: (b: Uint8Array, v: DataView) => void): string => {
      const b = good.slice();
      mutate(b, new DataView(b.buffer));
      const r = decodeState(reseal(b));
      assert.ok(!r.ok);
      assert.equal(r.error.code, "layout");
      return describeStateError(r.error);
    };
    const end = good.length - 12;
    assert.equal(
      layout((_, v) => v.setUint16(20, 1)),
      "malformed at byte 20: record 0: service index 1 outside the table",
    );
    assert.equal(
      layout((_, v) => v.setUint32(22, 2)),
      "malformed at byte 20: record 0: VTEP index 2 outside the table",
    );
    assert.equal(
      layout((b) => (b[32] = 0x0a)),
      "malformed at byte 20: record 0: unknown flags 0xa",
    );
    assert.equal(
      layout((b) => (b[53] = 6)),
      "malformed at byte 20: record 0: IP 0: address length 6",
    );
    assert.equal(
      layout((_, v) => v.setUint32(end, 3)),
      "malformed at byte 140: record 2: cut short",
    );
    assert.equal(
      layout((_, v) => v.setUint32(end, 1)),
      "malformed at byte 66: 74 bytes after the last record",
    );
    assert.equal(
      layout((_, v) => v.setUint32(end + 4, 66)),
      "malformed at byte 66: VTEP 0: address length 2",
    );
    assert.equal(
      layout((_, v) => v.setUint32(end + 4, 10)),
      `malformed at byte ${end + 4}: tables outside the file`,
    );
    assert.equal(
      layout((_, v) => v.setUint32(155, 3)),
      "malformed at byte 140: VTEP 2: address length 0",
    );
    assert.equal(
      layout((_, v) => v.setUint16(148, 200)),
      "malformed at byte 140: service 0: name cut short",
    );
  });
});
