// Error paths of the speaker against a scripted peer over loopback TCP (RFC 4271 §6, RFC 7606):
// a malformed attribute is treated as withdraw and the session stays up; header errors and
// unexpected messages end it with the right NOTIFICATION; a silent peer hits the hold timer; a
// connection from an unconfigured address is refused.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeMessage, KEEPALIVE, makeOpen, type NotificationMessage } from "../../src/codec/index.js";
import { Speaker } from "../../src/bgp/io/speaker.js";
import { neighbor } from "../helpers/neighbor.js";
import { updateWithAttrs } from "../helpers/hex.js";
import { ScriptedPeer } from "../helpers/scripted-peer.js";

const SPEAKER = "127.0.0.1";
const PEER = "127.0.0.2";
const STRANGER = "127.0.0.3";
const T3 = "03 11 0001c0000201000a 00000000 20 c0000201";
const GOOD_UPDATE = updateWithAttrs(`40 01 01 00 40 02 00 40 05 04 00000064 90 0e 001c 0019 46 04 c0000201 00 ${T3}`);

let speaker: Speaker;
let port: number;

async function waitState(state: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (speaker.status()[0]!.state === state) return;
    await sleep(20);
  }
  assert.fail(`peer never reached ${state}; it is ${speaker.status()[0]!.state}`);
}

async function session(hold = 90): Promise<ScriptedPeer> {
  // The controller refuses connections during its idle hold after a failed session.
  const end = Date.now() + 8000;
  for (;;) {
    await waitState("Active", 8000);
    const p = await ScriptedPeer.connect(SPEAKER, port, PEER);
    try {
      await p.handshake({ asn: 65000, id: "192.0.2.10", hold });
      await waitState("Established");
      return p;
    } catch (e) {
      p.close();
      if (Date.now() > end) throw e;
      await sleep(100);
    }
  }
}

async function expectNotification(p: ScriptedPeer, code: number, subcode: number): Promise<NotificationMessage> {
  let m = await p.nextNonKeepalive();
  while (m?.type === 2) m = await p.nextNonKeepalive(); // End-of-RIB after the session came up
  assert.ok(m && m.type === 3, `expected a NOTIFICATION, got ${JSON.stringify(m)}`);
  assert.deepEqual([m.code, m.subcode], [code, subcode]);
  await p.closedPromise;
  return m;
}

describe("speaker error paths against a scripted peer", () => {
  before(async () => {
    speaker = new Speaker({
      routerId: "192.0.2.4",
      localAs: 65000,
      listen: { address: SPEAKER, port: 0 },
      gracefulRestart: null,
      // no damping: each scripted session may follow the previous one at once
      neighbors: [neighbor({ address: PEER, "peer-as": 65000, passive: true, damping: false })],
    });
    await speaker.start();
    port = speaker.listenPort!;
  });
  after(async () => {
    await speaker.stop();
  });

  test("a malformed attribute is treated as withdraw and the session stays up", async () => {
    const p = await session();
    p.send(GOOD_UPDATE);
    await sleep(100);
    assert.equal(speaker.rib.size, 1);
    // ORIGIN with an undefined value: RFC 7606 §7.1 treat-as-withdraw.
    p.send(updateWithAttrs(`40 01 01 07 40 02 00 90 0e 001c 0019 46 04 c0000201 00 ${T3}`));
    await sleep(200);
    assert.equal(speaker.rib.size, 0, "the route is withdrawn");
    assert.equal(speaker.status()[0]!.state, "Established");
    p.send(encodeMessage(KEEPALIVE));
    assert.equal(p.closed, false);
    p.close();
    await waitState("Active");
  });

  test("a bad marker: Message Header Error / Connection Not Synchronized, and close", async () => {
    const p = await session();
    const bad = encodeMessage(KEEPALIVE);
    bad[5] = 0;
    p.send(bad);
    await expectNotification(p, 1, 1);
  });

  test("a bad length: Message Header Error / Bad Message Length", async () => {
    const p = await session();
    const bad = encodeMessage(KEEPALIVE);
    bad[17] = 18;
    p.send(bad);
    await expectNotification(p, 1, 2);
  });

  test("an OPEN in Established: FSM Error (RFC 6608 subcode 3)", async () => {
    const p = await session();
    p.send(encodeMessage(makeOpen({ asn: 65000, holdTime: 90, bgpId: "192.0.2.10", capabilities: [] })));
    const n = await expectNotification(p, 5, 3);
    assert.deepEqual([...n.data], [1]);
  });

  test("a silent peer: Hold Timer Expired after the negotiated hold time", async () => {
    const p = await session(3);
    const t0 = Date.now();
    // Say nothing; swallow the speaker's keepalives.
    await expectNotification(p, 4, 0);
    const took = Date.now() - t0;
    assert.ok(took >= 2800 && took < 4500, `hold timer fired after ${took} ms`);
  });

  test("a connection from an unconfigured address is refused and counted", async () => {
    const before = speaker.stats.unconfiguredConnections;
    const p = await ScriptedPeer.connect(SPEAKER, port, STRANGER);
    await p.closedPromise;
    assert.equal(speaker.stats.unconfiguredConnections, before + 1);
  });

  test("administrative stop sends Cease / Administrative Shutdown with the communication", async () => {
    const p = await session();
    await speaker.stop("maintenance");
    const n = await expectNotification(p, 6, 2);
    assert.equal(new TextDecoder().decode(n.data.subarray(1)), "maintenance");
  });
});
