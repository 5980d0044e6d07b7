// Live capture (native/capture.c) on the loopback device, root only: it learns the same table as
// the UDP listener from the same datagrams; a device that does not exist is reported and waited
// for, not thrown; 1,000 starts and stops with a full GC after each, then a flood, in a process
// of their own (bench/capture-churn.ts; the same under valgrind: bench/capture-memcheck.ts).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CaptureSource, nativeCapture } from "../../src/dataplane/io/capture-source.js";
import type { SourceStateEvent } from "../../src/dataplane/io/reopen.js";
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
const CHURN = new URL("../../bench/capture-churn.js", import.meta.url).pathname;

/** Root and the addon (built by `npm ci`); outside CI a missing one skips loudly. */
function ready(t: TestContext): boolean {
  if (!requireTools(t, [], { root: true })) return false;
  const mod = nativeCapture();
  if (!(mod instanceof Error)) return true;
  if (inCi) throw new Error(`${mod.message}; CI=true forbids skipping`);
  process.stderr.write(`\n*** SKIPPING "${t.name}": ${mod.message} ***\n\n`);
  t.skip(mod.message);
  return false;
}

function arpReply(macByte: number, ipByte: number): Uint8Array {
  const mac = `0200000001${macByte.toString(16).padStart(2, "0")}`;
  const ip = `c63364${ipByte.toString(16).padStart(2, "0")}`;
  // VXLAN VNI 10 | broadcast from the host | ARP reply: <ip> is-at <mac>
  return h(`08000000 00000a00 | ffffffffffff ${mac} 0806 | 0001 0800 06 04 0002 ${mac} ${ip} 020000000199 c6336463`);
}

test("live capture and the UDP listener learn the same table from the same datagrams", async (t) => {
  if (!ready(t)) return;
  const a = new Learner(CFG, NO_FABRIC);
  const b = new Learner(CFG, NO_FABRIC);
  const live = new CaptureSource({ device: "lo" }, (f) => {
    if (f.vtep === "127.0.0.2") a.frame(f, 1000); // other tests' VXLAN on lo is not ours
  });
  const udp = new VxlanUdpSource({ address: "127.0.0.1" }, (f) => b.frame(f, 1000));
  await udp.start();
  live.start();
  assert.equal(live.capturing, true);
  const tx = dgram.createSocket("udp4");
  try {
    await new Promise<void>((r) => tx.bind({ address: "127.0.0.2", port: 0 }, () => r()));
    const send = (x: Uint8Array) => new Promise<void>((r) => tx.send(x, 4789, "127.0.0.1", () => r()));
    for (let i = 1; i <= 5; i++) await send(arpReply(i, i));
    await send(h("0102030405")); // garbage: not passed by the kernel's filter, counted by the listener
    for (let i = 0; i < 100 && (a.table().length < 5 || b.table().length < 5); i++) await sleep(20);
    const strip = (l: Learner) => l.table().map(({ lastSeen: _l, ...rest }) => rest);
    assert.equal(b.table().length, 5);
    assert.deepEqual(strip(a), strip(b));
    assert.ok(live.counters.frames >= 5);
    assert.equal(udp.counters.frames, 5);
    assert.ok(live.receiveBufferBytes! > 0);
  } finally {
    tx.close();
    live.stop();
    await udp.stop();
  }
  assert.equal(live.capturing, false);
});

test("a device that does not exist is reported and waited for; stop() ends the wait", async (t) => {
  if (!ready(t)) return;
  const states: SourceStateEvent[] = [];
  const d = new CaptureSource(
    { device: "evpnnosuch0", retryMinMs: 10, retryMaxMs: 40, onState: (e) => states.push(e) },
    () => undefined,
  );
  d.start();
  assert.equal(d.capturing, false);
  await sleep(200);
  d.stop();
  const retries = d.counters.retries;
  await sleep(100);
  assert.equal(d.counters.retries, retries, "no attempt after stop()");
  assert.deepEqual(states, [
    { state: "down", code: "ENODEV", reason: "evpnnosuch0: No such device", downs: 1, retryInMs: 10 },
  ]);
  assert.ok(retries >= 3, `attempts while waiting: ${retries}`);
  assert.equal(d.counters.downs, 1);
});

test("1,000 starts and stops with a full GC after each, then 100,000 datagrams: no crash, none lost", async (t) => {
  if (!ready(t)) return;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--expose-gc", CHURN, "1000", "100000"], { timeout: 240_000 }, (e, stdout, stderr) =>
      e ? reject(new Error(`${e.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );
  const r = JSON.parse(out) as { churnFrames: number; flood: { sent: number; frames: number; kernelDrops: number } };
  process.stderr.write(`capture churn: ${out}`);
  assert.ok(r.churnFrames > 0);
  assert.equal(r.flood.frames + r.flood.kernelDrops >= r.flood.sent, true, out);
});
