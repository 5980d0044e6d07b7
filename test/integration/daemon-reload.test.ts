// A reload keeps what was learned: `evpn-proxy run` learns 10,000 MACs from VXLAN datagrams on
// loopback; a SIGHUP that adds one static MAC sends the BGP peer exactly one announcement and no
// withdrawal; one that removes a static VTEP withdraws exactly that VTEP's routes.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { BgpMessage, EvpnRoute } from "../../src/codec/index.js";
import {
  arpInVxlan,
  collect,
  daemonYaml,
  freePort,
  openSession,
  routesOf,
  SPEAKER,
  start,
} from "../helpers/daemon-run.js";
import { ScriptedPeer } from "../helpers/scripted-peer.js";

const VTEPS = ["127.0.0.3", "127.0.0.4"];
const PER_VTEP = 5000;
const LEARNING = `learning:
  vxlan-listen: ${SPEAKER}
  include-ip: false
  max-learn-rate: 1000000
  max-macs-per-vtep: 100000
`;

const config = (port: number, vteps: string[], macs: string[]) => daemonYaml(port, vteps, macs, LEARNING);

function macRoutes(routes: EvpnRoute[]): string[] {
  return routes.map((r) =>
    r.routeType === 2 ? `${r.rd} ${r.mac}` : r.routeType === 3 ? `type 3 ${r.rd}` : `type ${r.routeType}`,
  );
}

/** Messages until `want` routes were announced (or nothing came for 2 s). */
async function collectRoutes(p: ScriptedPeer, want: number): Promise<BgpMessage[]> {
  const all: BgpMessage[] = [];
  while (routesOf(all).announced.length < want) {
    const got = await collect(p, 2000);
    if (got.length === 0) break;
    all.push(...got);
  }
  return all;
}

test("SIGHUP keeps 10,000 learned MACs: one static MAC added is 1 announcement, a static VTEP removed withdraws its routes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-reload-"));
  const port = await freePort(SPEAKER);
  const file = join(dir, "proxy.yaml");
  writeFileSync(file, config(port, VTEPS, []));
  const d = start(file);
  const senders = VTEPS.map(() => dgram.createSocket("udp4"));
  try {
    const p = await openSession(port, d.out);
    await collect(p); // two IMET routes and End-of-RIB
    await Promise.all(senders.map((s, v) => new Promise<void>((r) => s.bind({ address: VTEPS[v], port: 0 }, r))));
    for (let i = 0; i < PER_VTEP; i++) {
      for (let v = 0; v < VTEPS.length; v++) senders[v]!.send(arpInVxlan(v + 3, i), 4789, SPEAKER);
      if (i % 500 === 499) await sleep(20); // paced: the test is about reloads, not bursts
    }
    const learned = routesOf(await collectRoutes(p, PER_VTEP * VTEPS.length));
    assert.equal(learned.announced.length, PER_VTEP * VTEPS.length, `learned:\n${d.out.join("").slice(-2000)}`);
    assert.equal(learned.withdrawn.length, 0);

    // One static MAC added at the first VTEP: one sticky MAC route, nothing withdrawn or re-sent.
    writeFileSync(file, config(port, VTEPS, ["02:00:00:00:ff:01"]));
    d.child.kill("SIGHUP");
    const added = routesOf(await collect(p, 1000));
    assert.deepEqual(macRoutes(added.announced.map((a) => a.route)), ["127.0.0.3:10 02:00:00:00:ff:01"]);
    assert.deepEqual(added.withdrawn, []);

    // The second VTEP removed: exactly its 5,000 learned routes and its IMET route are withdrawn.
    writeFileSync(file, config(port, [VTEPS[0]!], ["02:00:00:00:ff:01"]));
    d.child.kill("SIGHUP");
    const removed = routesOf(await collect(p, 1000));
    assert.deepEqual(removed.announced, []);
    const gone = macRoutes(removed.withdrawn);
    assert.equal(gone.length, PER_VTEP + 1);
    assert.ok(gone.every((r) => r.startsWith("127.0.0.4:10 ") || r === "type 3 127.0.0.4:10"));
    assert.equal(new Set(gone).size, gone.length);
    assert.ok(gone.includes("type 3 127.0.0.4:10"));
    p.close();
  } finally {
    for (const s of senders) s.close();
    d.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
