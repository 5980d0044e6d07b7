// RFC 4456 §8 loop ids in the decode context: a reflected UPDATE's EVPN routes are checked and
// counted but not built; everything else decodes as without them; eBGP never skips.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CodecContext,
  decodeMessage,
  encodeMessage,
  type EvpnRoute,
  ipv4Number,
  macIpRoute,
  type PathAttribute,
  type UpdateMessage,
} from "../../src/codec/index.js";

const US = "192.0.2.4";
const CLUSTER = "192.0.2.99";
const IDS = { originatorId: ipv4Number(US), clusterId: ipv4Number(CLUSTER) };

const routes: EvpnRoute[] = [1, 2, 3].map((i) =>
  macIpRoute({ rd: "192.0.2.1:10", mac: `02:00:00:00:00:0${i}`, ip: `198.51.100.${i}`, label1: 10 }),
);

function update(loop: PathAttribute[], nlri: EvpnRoute[] = routes): Uint8Array {
  const m: UpdateMessage = {
    type: 2,
    withdrawn: [],
    nlri: [],
    attributes: [
      // MP_REACH_NLRI first, as FRR writes it: the loop attributes come after the routes.
      {
        kind: "mp-reach",
        afi: 25,
        safi: 70,
        nextHop: ["192.0.2.1"],
        reserved: 0,
        nlri: { family: "evpn", routes: nlri },
      },
      { kind: "origin", origin: 0 },
      { kind: "as-path", segments: [] },
      { kind: "local-pref", localPref: 100 },
      ...loop,
    ],
  };
  return encodeMessage(m);
}

function reach(b: Uint8Array, ctx: CodecContext): { routes: number; ignored: number; action: string | null } {
  const r = decodeMessage(b, ctx);
  assert.ok(r.ok && r.message.type === 2);
  const a = r.message.attributes.find((x) => x.kind === "mp-reach");
  assert.ok(a && a.kind === "mp-reach" && a.nlri.family === "evpn");
  return { routes: a.nlri.routes.length, ignored: a.nlri.ignored ?? 0, action: r.action };
}

describe("decode context loopIds (RFC 4456 §8)", () => {
  const originator: PathAttribute = { kind: "originator-id", originatorId: US };
  const otherOriginator: PathAttribute = { kind: "originator-id", originatorId: "192.0.2.1" };
  const clusters: PathAttribute = { kind: "cluster-list", clusterIds: ["198.51.100.7", CLUSTER] };

  test("our ORIGINATOR_ID or our CLUSTER_ID in CLUSTER_LIST: routes counted, not built", () => {
    assert.deepEqual(reach(update([originator]), { as4: true, loopIds: IDS }), { routes: 0, ignored: 3, action: null });
    assert.deepEqual(reach(update([otherOriginator, clusters]), { as4: true, loopIds: IDS }), {
      routes: 0,
      ignored: 3,
      action: null,
    });
  });

  test("no loop, no loop ids, or eBGP: routes built as always", () => {
    assert.deepEqual(reach(update([otherOriginator]), { as4: true, loopIds: IDS }), {
      routes: 3,
      ignored: 0,
      action: null,
    });
    assert.deepEqual(reach(update([originator]), { as4: true }), { routes: 3, ignored: 0, action: null });
    // RFC 7606 §7.9: ORIGINATOR_ID from an external peer is discarded, so it cannot mark a loop.
    const ebgp = reach(update([originator]), { as4: true, ebgp: true, loopIds: IDS });
    assert.deepEqual([ebgp.routes, ebgp.ignored], [3, 0]);
  });

  test("a malformed route in a looped UPDATE is the same error as without loop ids", () => {
    const b = update([originator]);
    // The first route's MAC length field (48) → 47: RFC 7606 §5.3, AFI/SAFI disable.
    const i = b.indexOf(48, 23 + 4 + 5 + 4 + 22);
    const bad = b.slice();
    bad[i] = 47;
    const plain = decodeMessage(bad, { as4: true });
    const looped = decodeMessage(bad, { as4: true, loopIds: IDS });
    assert.ok(plain.ok && looped.ok);
    assert.equal(plain.action, "afi-safi-disable");
    assert.equal(looped.action, plain.action);
    assert.deepEqual(
      looped.errors.map((e) => e.code),
      plain.errors.map((e) => e.code),
    );
  });

  test("a truncated attribute list hides no loop: decoding reports it as without loop ids", () => {
    const b = update([originator]);
    const cut = b.slice(0, b.length - 2);
    cut[16] = cut.length >> 8;
    cut[17] = cut.length & 0xff;
    const plain = decodeMessage(cut, { as4: true });
    const looped = decodeMessage(cut, { as4: true, loopIds: IDS });
    assert.equal(plain.ok, looped.ok);
    if (plain.ok && looped.ok) assert.equal(looped.action, plain.action);
  });
});
