// The replication engine on a fake clock with a recording sink: where each datagram goes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fromHex } from "../../src/codec/bytes.js";
import { DF_WAIT_MS } from "../../src/dataplane/replication/flood.js";
import { type CopySink, ReplicationEngine } from "../../src/dataplane/replication/engine.js";
import { formatMac } from "../../src/net/addr.js";

const SELF = "192.0.2.4";
const S1 = "192.0.2.1";
const S2 = "192.0.2.2";
const E1 = "192.0.2.11";
const E2 = "192.0.2.12";
const T = DF_WAIT_MS;

class Recorder implements CopySink {
  staged: string[] = [];
  copies: string[] = [];
  stage(buf: Uint8Array, off: number, len: number): number {
    this.staged.push(Buffer.from(buf.subarray(off, off + len)).toString("hex"));
    return this.staged.length - 1;
  }
  copy(handle: number, src: string, dst: string): void {
    this.copies.push(`${handle} ${src}>${dst}`);
  }
}

// VXLAN header (I flag, VNI 10) + Ethernet dst, src, EtherType 0x0800 + 4 bytes.
function frame(dst: string, vni = 10, flags = "08"): Uint8Array {
  const v = vni.toString(16).padStart(6, "0");
  return fromHex(`${flags}000000${v}00${dst.replaceAll(":", "")}02000000aa010800deadbeef`)!;
}

function engine(source: "vtep" | "proxy" = "vtep", macs: Record<string, string> = {}) {
  const rec = new Recorder();
  const e = new ReplicationEngine(SELF, rec, (_vni, b, o) => macs[formatMac(b, o)]);
  e.setServices([{ vni: 10, name: "vni10", source, arpNd: false }]);
  e.flood.update({ vni: 10, statics: [S1, S2], evpn: [E1, E2], replicators: [] }, 0);
  return { e, rec };
}

const BCAST = "ff:ff:ff:ff:ff:ff";

describe("replication engine", () => {
  test("a broadcast from a static VTEP: staged once, a copy to every other VTEP, with the sender's outer source", () => {
    const { e, rec } = engine();
    const f = frame(BCAST);
    assert.equal(e.datagram(f, 0, f.length, S1, T), true);
    assert.deepEqual(rec.staged, [Buffer.from(f).toString("hex")]);
    assert.deepEqual(rec.copies, [`0 ${S1}>${S2}`, `0 ${S1}>${E1}`, `0 ${S1}>${E2}`]);
    assert.deepEqual([e.counters.flooded, e.counters.copies], [1, 3]);
  });

  test("from an EVPN VTEP: to the static VTEPs only; replication-source proxy: the proxy's address", () => {
    const { e, rec } = engine("proxy");
    const f = frame("33:33:00:00:00:01");
    e.datagram(f, 0, f.length, E1, T);
    assert.deepEqual(rec.copies, [`0 ${SELF}>${S1}`, `0 ${SELF}>${S2}`]);
  });

  test("known unicast goes to its VTEP alone; unknown unicast is flooded; a MAC behind the sender is dropped", () => {
    const { e, rec } = engine("vtep", { "02:00:00:00:00:e1": E1, "02:00:00:00:00:01": S1, "02:00:00:00:00:e2": E2 });
    const known = frame("02:00:00:00:00:e1");
    e.datagram(known, 0, known.length, S2, T);
    assert.deepEqual(rec.copies, [`0 ${S2}>${E1}`]);
    const unknown = frame("02:00:00:00:00:99");
    e.datagram(unknown, 0, unknown.length, S2, T);
    assert.equal(rec.copies.length, 4);
    const local = frame("02:00:00:00:00:01");
    assert.equal(e.datagram(local, 0, local.length, S1, T), false);
    const e2e = frame("02:00:00:00:00:e2");
    assert.equal(e.datagram(e2e, 0, e2e.length, E1, T), false);
    assert.deepEqual([e.counters.unicast, e.counters.flooded], [1, 1]);
    assert.deepEqual(e.counters.dropped, { "local-destination": 1, "evpn-to-evpn": 1 });
  });

  test("bad input is counted and never forwarded", () => {
    const { e, rec } = engine();
    const f = frame(BCAST);
    const cases: [Uint8Array, string, number][] = [
      [f.subarray(0, 21), S1, T],
      [frame(BCAST, 10, "00"), S1, T],
      [frame(BCAST, 20), S1, T],
      [f, "198.51.100.9", T],
      [f, S1, 0], // before the election takes effect
    ];
    for (const [b, from, now] of cases) assert.equal(e.datagram(b, 0, b.length, from, now), false);
    e.flood.update({ vni: 10, statics: [S1, S2], evpn: [E1, E2], replicators: ["192.0.2.5"] }, 1);
    assert.equal(e.datagram(f, 0, f.length, "192.0.2.5", 10 * T), false);
    assert.deepEqual(rec.copies, []);
    assert.deepEqual(e.counters.dropped, {
      truncated: 1,
      "vxlan-no-vni": 1,
      "unknown-vni": 1,
      "unknown-vtep": 1,
      "not-elected": 1,
      "from-replicator": 1,
    });
  });

  test("not the elected replicator: nothing forwarded (VNI 11 goes to the higher of two proxies)", () => {
    const { e, rec } = engine();
    e.setServices([{ vni: 11, name: "vni11", source: "vtep", arpNd: false }]);
    e.flood.update({ vni: 11, statics: [S1, S2], evpn: [], replicators: ["192.0.2.5"] }, 0);
    const f = frame(BCAST, 11);
    assert.equal(e.datagram(f, 0, f.length, S1, 10 * T), false);
    assert.deepEqual(rec.copies, []);
  });
});
