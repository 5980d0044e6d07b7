// The proxy-ARP/ND function on the replication path (RFC 9161): requests for known addresses
// answered back to the requesting VTEP with the answered MAC's VTEP as outer source, unknown
// ones replicated, dynamic entries learned from ARP, refreshes of silent hosts, byte-exact
// against the wire vectors.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DF_WAIT_MS } from "../../src/dataplane/replication/flood.js";
import { type CopySink, ReplicationEngine } from "../../src/dataplane/replication/engine.js";
import { H1_MAC, H1_IP, H2_IP, H2_IP6, H2_MAC, W, type WireName, wire } from "../helpers/wire-vectors.js";

const SELF = "192.0.2.4";
const S1 = "192.0.2.1";
const S2 = "192.0.2.2";
const E1 = "192.0.2.11";
const T = DF_WAIT_MS;
const VXLAN10 = "0800000000000a00";

class Recorder implements CopySink {
  staged: string[] = [];
  copies: string[] = [];
  stage(buf: Uint8Array, off: number, len: number): number {
    this.staged.push(Buffer.from(buf.subarray(off, off + len)).toString("hex"));
    return this.staged.length - 1;
  }
  copy(handle: number, src: string, dst: string): void {
    this.copies.push(`${this.staged[handle]} ${src}>${dst}`);
  }
  take(): string[] {
    const c = this.copies;
    this.copies = [];
    return c;
  }
}

const hex = (n: WireName) => W[n].replace(/[\s|]/g, "");
const datagram = (n: WireName) => Buffer.concat([Buffer.from(VXLAN10, "hex"), wire(n)]);

function setup(source: "vtep" | "proxy" = "vtep", floodUnknown = true) {
  const rec = new Recorder();
  const e = new ReplicationEngine(SELF, rec, () => undefined);
  e.setServices([{ vni: 10, name: "vni10", source, arpNd: true }]);
  e.flood.update({ vni: 10, statics: [S1, S2], evpn: [E1], replicators: [] }, 0);
  const events = e.setArpNd(
    {
      settings: {
        ageingSeconds: 300,
        services: [
          {
            vni: 10,
            name: "vni10",
            floodUnknown,
            static: [
              { ip: H2_IP, mac: H2_MAC },
              { ip: H2_IP6, mac: H2_MAC },
            ],
          },
        ],
      },
      located: [{ vni: 10, mac: H2_MAC, vtep: S2 }],
    },
    0,
  );
  assert.deepEqual(events, []);
  return { e, rec };
}

describe("proxy-ARP/ND on the replication path", () => {
  test("an ARP request for a static entry is answered to the requester, from the VTEP of the answered MAC", () => {
    const { e, rec } = setup();
    e.tick(T); // announcements of the new static entries (RFC 9161 §3.2), once the proxy forwards
    const garps = rec.take();
    assert.ok(garps.length > 0 && garps.every((c) => c.endsWith(`${S2}>${S1}`)), garps.join("\n"));
    const d = datagram("arp-request");
    assert.equal(e.datagram(d, 0, d.length, S1, T), false, "answered, not replicated");
    assert.deepEqual(rec.take(), [`${VXLAN10}${hex("arp-reply")} ${S2}>${S1}`]);
    assert.equal(e.arpNd!.counters.answered, 1);
  });

  test("an NS is answered with an NA (S and O set, TLLA = the answered MAC); a DAD NS to all nodes", () => {
    const { e, rec } = setup();
    const ns = datagram("ns");
    e.datagram(ns, 0, ns.length, S1, T);
    assert.deepEqual(rec.take(), [`${VXLAN10}${hex("na-reply-so")} ${S2}>${S1}`]);
    const dad = datagram("ns-dad");
    e.datagram(dad, 0, dad.length, S1, T);
    assert.deepEqual(rec.take(), [`${VXLAN10}${hex("na-all-nodes")} ${S2}>${S1}`]);
  });

  test("replication-source proxy: the answer leaves from the proxy's address", () => {
    const { e, rec } = setup("proxy");
    const d = datagram("arp-request");
    e.datagram(d, 0, d.length, S1, T);
    assert.deepEqual(rec.take(), [`${VXLAN10}${hex("arp-reply")} ${SELF}>${S1}`]);
  });

  test("a request for an unknown address is replicated (dropped with flood-unknown off); the sender is learned and answered for", () => {
    const { e, rec } = setup();
    // H2 asks for H1 (unknown): replicated to every other VTEP, H2's binding learned (it is static already).
    const probe = datagram("arp-request");
    probe.writeUInt32BE(0xc6336409, 8 + 38); // tpa 198.51.100.9: nobody known
    e.datagram(probe, 0, probe.length, S1, T);
    assert.deepEqual(
      rec.take().map((c) => c.split(" ")[1]),
      [`${S1}>${S2}`, `${S1}>${E1}`],
    );
    // H1 (sender of that request) was learned at S1: S2 asking for H1 is answered from S1.
    const ask = datagram("arp-request");
    ask.write("020000000102", 8 + 6, "hex"); // from H2's MAC
    ask.write("020000000102c6336402", 8 + 22, "hex"); // sha/spa H2
    ask.writeUInt32BE(0xc6336401, 8 + 38); // tpa H1
    e.datagram(ask, 0, ask.length, S2, T);
    const [reply] = rec.take();
    assert.ok(reply?.endsWith(`${S1}>${S2}`), reply);
    assert.ok(reply!.includes(`${H1_MAC.replaceAll(":", "")}c6336401`), "sha H1, spa H1");
    const off = setup("vtep", false);
    off.e.datagram(probe, 0, probe.length, S1, T);
    assert.deepEqual(off.rec.take(), [], "flood-unknown false: dropped");
    assert.equal(H1_IP, "198.51.100.1");
  });

  test("the target behind the requesting VTEP: neither answered nor replicated", () => {
    const { e, rec } = setup();
    const d = datagram("arp-request");
    e.datagram(d, 0, d.length, S2, T);
    assert.deepEqual(rec.take(), []);
  });

  test("not the elected replicator: learns, never answers", () => {
    const { e, rec } = setup();
    e.flood.update({ vni: 10, statics: [S1, S2], evpn: [E1], replicators: ["192.0.2.3"] }, 1);
    const d = datagram("arp-request");
    assert.equal(e.datagram(d, 0, d.length, S1, 10 * T), false);
    assert.deepEqual(rec.take(), []);
  });

  test("announcements of static entries wait for the election's wait (RFC 7432 §8.5), then leave once to every other static VTEP", () => {
    const { e, rec } = setup();
    assert.equal(e.nextDeadline(), 0, "due at once");
    e.tick(0);
    assert.deepEqual(rec.take(), [], "elected, not forwarding yet: held");
    assert.equal(e.nextDeadline(), T, "due when the proxy forwards");
    e.tick(T - 1);
    assert.deepEqual(rec.take(), []);
    e.tick(T);
    const garps = rec.take();
    // H2 sits at S2: its gratuitous ARP and unsolicited NA go to S1 only, from S2.
    assert.deepEqual(
      garps.map((c) => c.slice(c.lastIndexOf(" ") + 1)),
      [`${S2}>${S1}`, `${S2}>${S1}`],
    );
    assert.equal(e.arpNd!.counters.gratuitousSent, 2);
    e.tick(T + 1000);
    assert.deepEqual(rec.take(), [], "sent once");
    assert.equal(e.nextDeadline() === undefined || e.nextDeadline()! > T + 1000, true);
  });

  test("a proxy that is not elected for the VNI announces nothing (the elected one does)", () => {
    const { e, rec } = setup();
    e.flood.update({ vni: 10, statics: [S1, S2], evpn: [E1], replicators: ["192.0.2.3"] }, 0);
    for (let now = 0; now <= 3 * T; now += 500) e.tick(now);
    assert.deepEqual(rec.take(), []);
    assert.equal(e.arpNd!.counters.gratuitousSent, 0);
    assert.equal(e.arpNd!.counters.dropped["announce-not-elected"], 2);
  });

  test("a silent dynamic entry gets a refresh probe from the proxy's own MAC and address at half the ageing time (RFC 9161 §3.5)", () => {
    const { e, rec } = setup();
    const ask = datagram("arp-request"); // H1 at S1, learned
    e.datagram(ask, 0, ask.length, S1, T);
    rec.take();
    const at = e.nextDeadline();
    assert.ok(at !== undefined);
    for (let now = T; now <= T + 200_000; now += 1000) e.tick(now);
    const refresh = rec.take().filter((c) => c.includes("0200c0000204")); // the proxy's MAC
    assert.equal(refresh.length, 1, refresh.join("\n"));
    assert.ok(refresh[0]!.endsWith(`${SELF}>${S1}`));
    assert.ok(refresh[0]!.startsWith(`${VXLAN10}020000000101 0200c0000204`.replace(" ", "")), refresh[0]);
  });
});
