// Two speakers over loopback TCP: routes announced on one appear intact in the other's RIB,
// withdrawals follow, a burst of 100,000 routes is packed into few UPDATEs, route refresh
// re-sends the table, eBGP rewrites AS_PATH and LOCAL_PREF, and a stop flushes the peer's routes.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type EvpnRoute, macIpRoute, type PathAttribute } from "../../src/codec/index.js";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import { type OwnedRoutes, Speaker } from "../../src/bgp/io/speaker.js";
import { neighbor } from "../helpers/neighbor.js";

const A_ADDR = "127.0.0.1";
const B_ADDR = "127.0.0.2";
let running: Speaker[] = [];

afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

async function pair(bAs = 65000): Promise<{ a: Speaker; b: Speaker }> {
  const a = new Speaker({
    routerId: "192.0.2.1",
    localAs: 65000,
    listen: { address: A_ADDR, port: 0 },
    gracefulRestart: null,
    neighbors: [neighbor({ address: B_ADDR, "peer-as": bAs, passive: true })],
  });
  await a.start();
  const b = new Speaker({
    routerId: "192.0.2.2",
    localAs: bAs,
    listen: null,
    gracefulRestart: null,
    neighbors: [client(a.listenPort!)],
  });
  await b.start();
  running.push(a, b);
  await until(() => a.status()[0]!.state === "Established" && b.status()[0]!.state === "Established", "sessions up");
  return { a, b };
}

/** B's neighbour A, listening on `port`. */
function client(port: number) {
  return neighbor({ address: A_ADDR, "peer-as": 65000, port, "local-address": B_ADDR, "connect-retry": 1 });
}

async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function attrs(nextHop: string, vni: number): OutAttrs {
  const attributes: PathAttribute[] = [
    { kind: "origin", origin: 0 },
    { kind: "as-path", segments: [] },
    { kind: "local-pref", localPref: 100 },
    {
      kind: "ext-communities",
      communities: [
        { kind: "route-target", value: `65000:${vni}` },
        { kind: "route-target", value: "192.0.2.1:99" },
        { kind: "encapsulation", tunnelType: 8 },
        { kind: "mac-mobility", flags: 1, sequence: 0 },
      ],
    },
    { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: vni, endpoint: nextHop },
  ];
  return { nextHop, attributes };
}

function type2(i: number, vtep: string): EvpnRoute {
  const hex = (v: number) => v.toString(16).padStart(2, "0");
  return macIpRoute({
    rd: `${vtep}:10`,
    mac: `02:00:00:${hex((i >> 16) & 255)}:${hex((i >> 8) & 255)}:${hex(i & 255)}`,
    ip: `198.51.100.${i & 255}`,
    label1: 10,
  });
}

describe("speaker to speaker over loopback", () => {
  test("routes arrive intact; withdrawals follow; route refresh re-sends", async () => {
    const { a, b } = await pair();
    const at = attrs("198.51.100.1", 10);
    const imet: EvpnRoute = { routeType: 3, rd: "198.51.100.1:10", ethernetTag: 0, originator: "198.51.100.1" };
    a.announce(imet, at);
    for (let i = 0; i < 1000; i++) a.announce(type2(i, "198.51.100.1"), at);
    await until(() => b.rib.size === 1001, "1001 routes at B");
    const key = [...b.rib.locRib()].find((d) => d.best.route.routeType === 3)!;
    assert.deepEqual(key.best.route, imet);
    assert.equal(key.best.attrs.nextHop, "198.51.100.1");
    const kinds = key.best.attrs.attributes.map((x) => x.kind);
    assert.deepEqual(kinds, ["origin", "as-path", "local-pref", "ext-communities", "pmsi-tunnel"]);
    const ext = key.best.attrs.attributes.find((x) => x.kind === "ext-communities");
    assert.ok(ext && ext.kind === "ext-communities");
    assert.deepEqual(ext.communities, (at.attributes[3] as { communities: unknown }).communities);
    const pmsi = key.best.attrs.attributes.find((x) => x.kind === "pmsi-tunnel");
    assert.deepEqual(pmsi, {
      kind: "pmsi-tunnel",
      flags: 0xc0,
      tunnelFlags: 0,
      tunnelType: 6,
      label: 10,
      endpoint: "198.51.100.1",
    });

    for (let i = 0; i < 10; i++) a.withdraw(type2(i, "198.51.100.1"));
    await until(() => b.rib.size === 991, "withdrawals at B");

    const before = a.status()[0]!.counters.updatesOut;
    b.requestRefresh(A_ADDR);
    // RFC 7313: BoRR, the table again, EoRR.
    await until(() => a.status()[0]!.counters.routeRefreshOut === 2, "route refresh answered");
    assert.ok(a.status()[0]!.counters.updatesOut > before);
    assert.equal(b.status()[0]!.counters.routeRefreshIn, 2);
    assert.equal(b.rib.size, 991);
    assert.equal(b.status()[0]!.counters.routeRefreshOut, 1);
  });

  test("a burst of 100,000 routes is packed into few UPDATEs", async () => {
    const { a, b } = await pair();
    const at = attrs("198.51.100.2", 10);
    for (let i = 0; i < 100_000; i++) a.announce(type2(i, "198.51.100.2"), at);
    await until(() => b.rib.size === 100_000, "100,000 routes at B", 60000);
    // Extended messages (RFC 8654) are negotiated between two evpn-proxy speakers: 65535 bytes
    // hold some 1,600 type-2 routes; at 4096 bytes it would be some 100 per UPDATE.
    const sent = a.status()[0]!.counters.updatesOut;
    assert.ok(sent < 100, `${sent} UPDATEs for 100,000 routes`);
  });

  test("eBGP: our AS is prepended and LOCAL_PREF removed", async () => {
    const { a, b } = await pair(65001);
    a.announce(type2(1, "198.51.100.3"), attrs("198.51.100.3", 10));
    await until(() => b.rib.size === 1, "route at B");
    const p = [...b.rib.locRib()][0]!.best;
    const asPath = p.attrs.attributes.find((x) => x.kind === "as-path");
    assert.deepEqual(asPath && asPath.kind === "as-path" && asPath.segments, [{ type: 2, asns: [65000] }]);
    assert.ok(!p.attrs.attributes.some((x) => x.kind === "local-pref"));
  });

  test("owned routes: pulled for the initial table and a route refresh, changed one by one, never kept", async () => {
    const table = new Map<number, EvpnRoute>();
    const at = attrs("198.51.100.5", 10);
    for (let i = 0; i < 20_000; i++) table.set(i, type2(i, "198.51.100.5"));
    let cursors = 0;
    let pulls = 0;
    const owned: OwnedRoutes = {
      cursor: () => {
        cursors++;
        const snapshot = [...table.keys()];
        let pos = 0;
        return (max, put) => {
          pulls++;
          for (const end = Math.min(snapshot.length, pos + max); pos < end; pos++) {
            const r = table.get(snapshot[pos]!);
            if (r) put(r, at);
          }
          return pos < snapshot.length;
        };
      },
    };
    const { a, b } = await pair();
    a.setOwnedRoutes(owned); // sessions up: the table goes out at once
    await until(() => b.rib.size === 20_000, "20,000 owned routes at B");
    assert.equal(cursors, 1);
    assert.ok(pulls > 10, `pulled in batches (${pulls} pulls)`);
    assert.equal(a.rib.size, 0, "owned routes are not in our Loc-RIB");

    const moved = type2(1, "198.51.100.5");
    table.delete(0);
    a.withdrawOwned(type2(0, "198.51.100.5"));
    a.announceOwned(moved, attrs("198.51.100.6", 10));
    await until(() => b.rib.size === 19_999, "withdrawal at B");
    await until(
      () => [...b.rib.locRib()].some((d) => d.best.attrs.nextHop === "198.51.100.6"),
      "the changed route at B",
    );

    b.requestRefresh(A_ADDR);
    await until(() => a.status()[0]!.counters.routeRefreshOut === 2, "route refresh answered");
    assert.equal(cursors, 2, "a route refresh walks the table again");
    assert.equal(b.rib.size, 19_999);

    // A new session (stop and start the peer) is sent the whole table, then End-of-RIB.
    await b.stop();
    running = running.filter((s) => s !== b);
    const c = new Speaker({
      routerId: "192.0.2.2",
      localAs: 65000,
      listen: null,
      gracefulRestart: null,
      neighbors: [client(a.listenPort!)],
    });
    await c.start();
    running.push(c);
    await until(() => c.rib.size === 19_999, "the table at the new session", 30000);
    assert.equal(cursors, 3);
  });

  test("stopping a speaker withdraws its routes at the peer", async () => {
    const { a, b } = await pair();
    a.announce(type2(7, "198.51.100.4"), attrs("198.51.100.4", 10));
    await until(() => b.rib.size === 1, "route at B");
    await a.stop("bye");
    running = running.filter((s) => s !== a);
    await until(() => b.rib.size === 0, "routes flushed at B");
    assert.notEqual(b.status()[0]!.state, "Established");
  });
});
