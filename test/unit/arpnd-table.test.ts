// The RFC 9161 proxy ARP/ND table on a fake clock: what it learns (and never from an NS), the
// precedence of static, EVPN and dynamic entries with the MAC mobility sequence rule, requests
// (answered, local, unknown, probes, self), rate limits per source, withdrawals and locating
// static entries. Documentation addresses only.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ArpNdProxy, learnsFrom } from "../../src/dataplane/arpnd/proxy.js";
import {
  type ArpNdAction,
  type Decision,
  FLAG_IMMUTABLE,
  FLAG_OVERRIDE,
  FLAG_ROUTER,
} from "../../src/dataplane/arpnd/types.js";
import { decodeInner, type PacketResult } from "../../src/wire/packet.js";
import { A, B, E, E2, IP1, IP2, IP6, M1, M2, M3, proxy, REQ, S } from "../helpers/arpnd.js";
import { h } from "../helpers/hex.js";

/** A decision as text: "reply <mac>@<vtep> R O <source>", "flood <reason>", "drop <reason>". */
function show(d: Decision): string {
  if (d.kind !== "reply") return `${d.kind} ${d.reason}`;
  return `reply ${d.mac}@${d.vtep ?? "-"}${d.router ? " R" : ""}${d.override ? " O" : ""} ${d.source}`;
}

function ask(p: ArpNdProxy, ip: string, now = 0, from = B, src = REQ): string {
  return show(p.request(10, ip, from, src, now));
}

function events(actions: ArpNdAction[]): string[] {
  return actions.flatMap((a) => (a.type === "event" ? [`${a.event} ${a.ip ?? ""} ${a.mac ?? ""}`.trim()] : []));
}

describe("what the table learns (RFC 9161 §3.2.1)", () => {
  // Inner frames (Ethernet onwards) of the packet decoder's vectors.
  const NS_SLLA =
    "3333ff00000202000000010186dd6000000000203aff20010db8010000000000000000000001ff0200000000000000000001ff000002870019270000000020010db80100000000000000000000020101020000000101";
  const NA_TLLA =
    "02000000010102000000010286dd6000000000203aff20010db801000000000000000000000220010db8010000000000000000000001880086716000000020010db80100000000000000000000020201020000000102";
  const DAD =
    "3333ff00000302000000010286dd6000000000183aff00000000000000000000000000000000ff0200000000000000000001ff00000387004be90000000020010db8010000000000000000000003";
  const ARP_REQ = "ffffffffffff02000000010108060001080006040001020000000101c6336401000000000000c6336402";
  const ARP_PROBE = "ffffffffffff020000000102080600010800060400010200000001020000000000000000000000c6336403";

  function learns(hex: string): boolean {
    const r: PacketResult = decodeInner(h(hex));
    assert.ok(r.ok);
    return learnsFrom(r.value.kind, r.value.ip);
  }

  test("an NS never teaches, with or without a source link-layer address; a DAD NS and a probe neither", () => {
    assert.equal(learns(NS_SLLA), false);
    assert.equal(learns(DAD), false);
    assert.equal(learns(ARP_PROBE), false);
    assert.equal(learnsFrom("nd-ns", "2001:db8:100::1"), false);
  });

  test("an NA teaches its target only with the target link-layer address; ARP its sender", () => {
    assert.equal(learns(NA_TLLA), true);
    assert.equal(learnsFrom("nd-na", null), false);
    assert.equal(learns(ARP_REQ), true);
    assert.equal(learnsFrom("arp-reply", IP1), true);
    assert.equal(learnsFrom("garp", IP1), true);
    assert.equal(learnsFrom("other", IP1), false);
  });

  test("a learned binding is answered with its R/O flags, never as immutable", () => {
    const p = proxy();
    assert.equal(p.learn(10, IP6, M1, A, FLAG_ROUTER | FLAG_OVERRIDE | FLAG_IMMUTABLE, 0, 0), "learned");
    assert.equal(ask(p, IP6), `reply ${M1}@${A} R O dynamic`);
    assert.equal(p.entry(10, IP6)!.immutable, false);
    assert.equal(p.learn(10, IP6, M1, A, 0, 0, S), "refreshed");
    assert.equal(ask(p, IP6), `reply ${M1}@${A} dynamic`);
    assert.equal(p.entry(10, IP6)!.lastSeen, S);
  });

  test("the same MAC at another VTEP is a host move, not an IP move", () => {
    const p = proxy();
    p.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(p.learn(10, IP1, M1, B, 0, 1, S), "relocated");
    assert.equal(ask(p, IP1, S, A), `reply ${M1}@${B} dynamic`);
    assert.equal(p.counters().moves, 0);
  });

  test("a VNI that is not configured is counted, never learned or answered", () => {
    const p = proxy();
    assert.equal(p.learn(99, IP1, M1, A, 0, 0, 0), "unknown-vni");
    assert.equal(show(p.request(99, IP1, B, REQ, 0)), "drop unknown-vni");
    p.evpn(99, IP1, M1, E, 0, 0, 0);
    assert.equal(p.counters().unknownVni, 3);
    assert.equal(p.size(), 0);
  });
});

describe("precedence: static > EVPN > dynamic", () => {
  test("a spoofed ARP never overwrites a static entry: refused, counted, one event per interval", () => {
    const p = proxy({ static: [{ ip: IP1, mac: M1 }] });
    p.locate(10, M1, A);
    assert.equal(p.learn(10, IP1, M2, B, 0, 9, 0), "spoofed");
    assert.equal(p.learn(10, IP1, M3, B, 0, 0, S), "spoofed");
    assert.equal(p.learn(10, IP1, M1, A, 0, 0, S), "static");
    assert.equal(ask(p, IP1, S, B), `reply ${M1}@${A} O static`);
    assert.deepEqual(events(p.drain()), [`static-override-refused ${IP1} ${M2}`]);
    assert.equal(p.counters().refusedStatic, 2);
    assert.equal(p.counters().staticSeen, 1);
    // A spoofed gratuitous ARP is dropped, not flooded to poison the other hosts' caches.
    assert.equal(show(p.gratuitous(10, IP1, M2, B, 0, 0, 61 * S)), "drop spoofed");
    assert.deepEqual(p.drain()[0], {
      type: "event",
      event: "static-override-refused",
      vni: 10,
      ip: IP1,
      mac: M2,
      vtep: B,
      source: "dynamic",
      suppressed: 1,
    });
  });

  test("an EVPN route under a static entry is held, not answered", () => {
    const p = proxy({ static: [{ ip: IP1, mac: M1, router: true }] });
    p.evpn(10, IP1, M2, E, 5, FLAG_OVERRIDE, 0);
    assert.equal(ask(p, IP1), `reply ${M1}@- R O static`);
    assert.deepEqual(p.entry(10, IP1)!.evpn, { mac: M2, vtep: E, seq: 5 });
    assert.equal(p.counters().evpnUnderStatic, 1);
    assert.deepEqual(events(p.drain()), [`static-override-refused ${IP1} ${M2}`]);
  });

  test("a dynamic binding never overrides an EVPN entry with a higher sequence; with one as high it does", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, E, 3, FLAG_OVERRIDE, 0);
    assert.equal(ask(p, IP1), `reply ${M1}@${E} O evpn`);
    assert.equal(p.learn(10, IP1, M2, A, 0, 2, S), "evpn-newer");
    assert.equal(ask(p, IP1, S), `reply ${M1}@${E} O evpn`);
    assert.equal(p.learn(10, IP1, M2, A, 0, 3, 2 * S), "moved");
    assert.equal(ask(p, IP1, 2 * S), `reply ${M2}@${A} dynamic`);
    assert.deepEqual(p.entry(10, IP1)!.evpn, { mac: M1, vtep: E, seq: 3 });
    // A newer route takes the IP back (RFC 7432 §15: the host moved there).
    p.evpn(10, IP1, M1, E, 4, FLAG_OVERRIDE, 3 * S);
    assert.equal(ask(p, IP1, 3 * S), `reply ${M1}@${E} O evpn`);
    assert.equal(p.counts(10)!.dynamic, 0);
    assert.equal(p.counters().refusedSequence, 1);
  });

  test("the same binding learned from the data plane is answered as dynamic; the route stays held", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, A, 0, 0, 0); // another proxy's route for the host behind A
    assert.equal(p.learn(10, IP1, M1, A, 0, 0, S), "learned");
    assert.equal(p.entry(10, IP1)!.source, "dynamic");
    p.evpn(10, IP1, M1, A, 1, 0, 2 * S); // agrees: the dynamic entry stays
    assert.equal(p.entry(10, IP1)!.source, "dynamic");
    assert.deepEqual(p.entry(10, IP1)!.evpn, { mac: M1, vtep: A, seq: 1 });
  });

  test("an immutable EVPN entry (RFC 9047 I flag) is never overridden by learning", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, E, 0, FLAG_IMMUTABLE | FLAG_OVERRIDE, 0);
    assert.equal(p.learn(10, IP1, M2, A, 0, 100, S), "spoofed");
    assert.equal(ask(p, IP1, S), `reply ${M1}@${E} O evpn`);
    assert.equal(p.entry(10, IP1)!.immutable, true);
    assert.equal(p.counters().refusedImmutable, 1);
  });

  test("between EVPN routes: the higher sequence wins, then the lower VTEP address (RFC 7432 §15.1)", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, E2, 2, 0, 0);
    p.evpn(10, IP1, M2, E, 1, 0, 0);
    assert.equal(ask(p, IP1), `reply ${M1}@${E2} evpn`);
    p.evpn(10, IP1, M2, E, 2, 0, 0);
    assert.equal(ask(p, IP1), `reply ${M2}@${E} evpn`);
    p.evpn(10, IP1, M1, E2, 2, 0, 0);
    assert.equal(ask(p, IP1), `reply ${M2}@${E} evpn`);
    assert.equal(p.counters().evpnIgnored, 2);
  });

  test("withdrawing an EVPN entry removes it; a withdrawal of another binding is ignored", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, E, 0, 0, 0);
    p.evpnWithdraw(10, IP1, M1, E2);
    p.evpnWithdraw(10, IP1, M2, E);
    assert.equal(ask(p, IP1), `reply ${M1}@${E} evpn`);
    p.evpnWithdraw(10, IP1, M1, E);
    assert.equal(ask(p, IP1), "flood unknown");
    assert.equal(p.size(), 0);
    assert.deepEqual([p.counters().evpnWithdrawn, p.counters().evpnWithdrawIgnored], [1, 2]);
  });

  test("withdrawing the route held under a dynamic entry leaves the dynamic entry", () => {
    const p = proxy();
    p.evpn(10, IP1, M1, E, 0, 0, 0);
    p.learn(10, IP1, M2, A, 0, 1, S);
    p.evpnWithdraw(10, IP1, M1, E);
    assert.equal(ask(p, IP1, S), `reply ${M2}@${A} dynamic`);
    assert.equal(p.entry(10, IP1)!.evpn, undefined);
  });
});

describe("requests", () => {
  test("probes are answered like any request (ARP from 0.0.0.0, DAD NS from ::)", () => {
    const p = proxy();
    p.learn(10, IP1, M1, A, 0, 0, 0);
    // The caller passes the probe's target and its sender MAC; nothing distinguishes it here.
    const d = p.request(10, IP1, B, M2, 0);
    assert.equal(show(d), `reply ${M1}@${A} dynamic`);
    assert.equal(d.kind === "reply" && d.ip, IP1);
  });

  test("a host asking for its own address (DAD) is not answered: flooded, so that other claimants answer", () => {
    const p = proxy();
    p.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(ask(p, IP1, 0, A, M1), "flood self"); // even from where it sits
    const q = proxy({ floodUnknown: false });
    q.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(ask(q, IP1, 0, A, M1), "drop self");
    assert.deepEqual([p.counters().floodSelf, q.counters().dropSelf], [1, 1]);
  });

  test("no reply when the target sits behind the requesting VTEP, and no flood either", () => {
    const p = proxy();
    p.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(ask(p, IP1, 0, A), "drop local");
    assert.equal(ask(p, IP1, 0, B), `reply ${M1}@${A} dynamic`);
    assert.equal(p.counters().dropLocal, 1);
  });

  test("unknown targets are flooded; with flood-unknown off they are dropped", () => {
    assert.equal(ask(proxy(), IP2), "flood unknown");
    const p = proxy({ floodUnknown: false });
    assert.equal(ask(p, IP2), "drop unknown");
    assert.equal(p.counters().dropUnknown, 1);
  });

  test("the reply object is reused; flood and drop decisions are frozen constants", () => {
    const p = proxy();
    p.learn(10, IP1, M1, A, 0, 0, 0);
    p.learn(10, IP2, M2, A, 0, 0, 0);
    const a = p.request(10, IP1, B, REQ, 0);
    const b = p.request(10, IP2, B, REQ, 0);
    assert.equal(a, b);
    assert.equal(p.request(10, "203.0.113.9", B, REQ, 0), p.request(10, "203.0.113.8", B, REQ, 0));
    assert.ok(Object.isFrozen(p.request(10, IP1, A, REQ, 0)));
  });

  test("rate limit per source: a burst, then the refill rate; others unaffected; events throttled", () => {
    const p = proxy({}, { requestRate: 2, requestBurst: 3, eventIntervalSeconds: 10 });
    const burst = [0, 1, 2, 3, 4].map(() => ask(p, IP2, 0));
    assert.deepEqual(burst, ["flood unknown", "flood unknown", "flood unknown", "drop rate", "drop rate"]);
    assert.equal(ask(p, IP2, 0, B, M3), "flood unknown"); // another source has its own bucket
    assert.equal(ask(p, IP2, 499), "drop rate");
    assert.equal(ask(p, IP2, 500), "flood unknown"); // 2/s: one token after 500 ms
    // Answers are not metered: they cost the fabric nothing.
    p.learn(10, IP1, M1, A, 0, 0, 0);
    assert.equal(ask(p, IP1, 500), `reply ${M1}@${A} dynamic`);
    assert.equal(p.counters().dropRate, 3);
    assert.deepEqual(p.drain(), [{ type: "event", event: "rate-limited", vni: 10, mac: REQ }]);
    ask(p, IP2, 10 * S);
    ask(p, IP2, 10 * S);
    ask(p, IP2, 10 * S);
    assert.deepEqual(p.drain(), []);
    ask(p, IP2, 10 * S);
    assert.deepEqual(p.drain(), [{ type: "event", event: "rate-limited", vni: 10, mac: REQ, suppressed: 2 }]);
  });

  test("spoofed sources cannot grow the buckets past max-sources: the rest share one", () => {
    const p = proxy({}, { requestRate: 1, requestBurst: 1, maxSources: 2 });
    const macs = Array.from({ length: 5 }, (_, i) => `02:00:00:00:03:0${i}`);
    const got = macs.map((m) => ask(p, IP2, 0, B, m));
    assert.deepEqual(got, ["flood unknown", "flood unknown", "flood unknown", "drop rate", "drop rate"]);
    assert.equal(p.counters().rateSourcesFull, 3);
  });

  test("gratuitous ARP: learned, flooded unless flood-gratuitous is off", () => {
    const p = proxy();
    assert.equal(show(p.gratuitous(10, IP1, M1, A, 0, 0, 0)), "flood gratuitous");
    const q = proxy({ floodGratuitous: false });
    assert.equal(show(q.gratuitous(10, IP1, M1, A, 0, 0, 0)), "drop gratuitous");
    assert.equal(ask(q, IP1), `reply ${M1}@${A} dynamic`);
  });
});

describe("static entries and where their MAC sits", () => {
  test("a static entry answers from its located VTEP; before that, from the proxy's own address", () => {
    const p = proxy({
      static: [
        { ip: IP1, mac: M1 },
        { ip: IP6, mac: M1 },
      ],
    });
    assert.equal(ask(p, IP1), `reply ${M1}@- O static`);
    p.locate(10, M1, A);
    assert.equal(ask(p, IP1), `reply ${M1}@${A} O static`);
    assert.equal(ask(p, IP6, 0, A), "drop local");
    p.locate(10, M2, B); // not a static MAC: nothing
    p.locate(10, M1, undefined);
    assert.equal(ask(p, IP6, 0, A), `reply ${M1}@- O static`);
  });
});
