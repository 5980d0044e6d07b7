// Live capture (libpcap through the optional `cap` package) and the UDP listener on the same
// traffic produce the same learned table (issue 5, acceptance 6; the pcap replay's equivalence is
// in test/unit/dataplane-pcap.test.ts). Captures on the loopback interface: root only.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { createRequire } from "node:module";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CaptureSource } from "../../src/dataplane/io/capture-source.js";
import { type FabricView, Learner } from "../../src/dataplane/learning/learner.js";
import { VxlanUdpSource } from "../../src/dataplane/io/udp-source.js";
import { inCi, requireTools } from "../helpers/env.js";
import { h } from "../helpers/hex.js";

const NO_FABRIC: FabricView = { isEvpnVtep: () => false, remoteMac: () => undefined };
const CFG = {
  services: [{ name: "vni10", evi: 10, vni: 10, staticVteps: [{ address: "127.0.0.2", macs: [] }] }],
  includeIp: true,
  ageingSeconds: 300,
  autoDiscover: false,
  allowedPrefixes: [],
  maxMoves: 5,
  moveWindowSeconds: 180,
  freezeSeconds: 180,
  maxMacsPerVtep: 0,
  maxMacsPerVni: 0,
  maxLearnPerVtepPerSecond: 0,
};

function arpReply(macByte: number, ipByte: number): Uint8Array {
  const mac = `0200000001${macByte.toString(16).padStart(2, "0")}`;
  const ip = `c63364${ipByte.toString(16).padStart(2, "0")}`;
  // VXLAN VNI 10 | broadcast from the host | ARP reply: <ip> is-at <mac>
  return h(`08000000 00000a00 | ffffffffffff ${mac} 0806 | 0001 0800 06 04 0002 ${mac} ${ip} 020000000199 c6336463`);
}

test("live capture and the UDP listener learn the same table from the same datagrams", async (t) => {
  if (!requireTools(t, [], { root: true })) return;
  try {
    createRequire(import.meta.url)("cap");
  } catch {
    if (inCi) throw new Error("the optional package `cap` is not installed (npm ci builds it with libpcap-dev)");
    t.skip("the optional package `cap` is not installed");
    return;
  }
  const a = new Learner(CFG, NO_FABRIC);
  const b = new Learner(CFG, NO_FABRIC);
  const live = new CaptureSource({ device: "lo" }, (f) => a.frame(f, 1000));
  const udp = new VxlanUdpSource({ address: "127.0.0.1" }, (f) => b.frame(f, 1000));
  await udp.start();
  live.start();
  const tx = dgram.createSocket("udp4");
  try {
    await new Promise<void>((r) => tx.bind({ address: "127.0.0.2", port: 0 }, () => r()));
    const send = (x: Uint8Array) => new Promise<void>((r) => tx.send(x, 4789, "127.0.0.1", () => r()));
    await sleep(200); // the capture is open
    for (let i = 1; i <= 5; i++) await send(arpReply(i, i));
    await send(h("0102030405")); // garbage: counted by both, learned by neither
    for (let i = 0; i < 100 && (a.table().length < 5 || b.table().length < 5); i++) await sleep(20);
    const strip = (l: Learner) => l.table().map(({ lastSeen: _l, ...rest }) => rest);
    assert.equal(b.table().length, 5);
    assert.deepEqual(strip(a), strip(b));
    assert.equal(live.counters.frames, 5);
    assert.equal(udp.counters.frames, 5);
  } finally {
    tx.close();
    live.stop();
    await udp.stop();
  }
});
