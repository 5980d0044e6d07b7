// The VXLAN UDP source over loopback: the seed's captured ARP reply, sent as a datagram, is
// learned with the datagram's source as the VTEP; garbage and frames without the I flag are
// counted, never thrown.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { LearnedFrame } from "../../src/dataplane/packet.js";
import { VxlanUdpSource } from "../../src/dataplane/udp-source.js";
import { h } from "../helpers/hex.js";

// The seed's frame from its VXLAN header on (outer IPv4 and UDP stripped, as the socket delivers).
const SEED_VXLAN = h(
  "08000000aabbcc00aac1abe1988eaac1abee23c108060001080006040002aac1abee23c10a000065aac1abe1988e0a000067",
);

test("learns from VXLAN datagrams; counts what it cannot use", async () => {
  const seen: Omit<LearnedFrame, never>[] = [];
  const src = new VxlanUdpSource({ address: "127.0.0.1", port: 0 }, (f) => seen.push({ ...f }));
  await src.start();
  const tx = dgram.createSocket("udp4");
  await new Promise<void>((r) => tx.bind({ address: "127.0.0.2", port: 0 }, () => r()));
  try {
    const send = (b: Uint8Array) => new Promise<void>((r) => tx.send(b, src.port!, "127.0.0.1", () => r()));
    await send(SEED_VXLAN);
    const noI = SEED_VXLAN.slice();
    noI[0] = 0;
    await send(noI);
    await send(h("0102"));
    await send(new Uint8Array(0));
    for (let i = 0; i < 50 && src.counters.datagrams < 4; i++) await sleep(10);
    assert.equal(src.counters.datagrams, 4);
    assert.equal(src.counters.frames, 1);
    assert.deepEqual(src.counters.skipped, { "vxlan-no-vni": 1, "truncated-vxlan": 2 });
    assert.equal(seen.length, 1);
    assert.deepEqual(
      { vtep: seen[0]!.vtep, vni: seen[0]!.vni, kind: seen[0]!.kind, mac: seen[0]!.mac, ip: seen[0]!.ip },
      { vtep: "127.0.0.2", vni: 0xaabbcc, kind: "arp-reply", mac: "aa:c1:ab:ee:23:c1", ip: "10.0.0.101" },
    );
  } finally {
    tx.close();
    await src.stop();
  }
});
