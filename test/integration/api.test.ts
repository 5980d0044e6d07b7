// The management API of a running daemon over loopback with a scripted BGP peer: every endpoint's
// JSON matches its schema and carries the right values after configured routes, learning, a
// move, a duplicate and a reset with a NOTIFICATION; bad requests get their JSON errors; TCP
// needs the token for writes; a reload through the API answers with the difference or the errors.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ActionSchema,
  apiJsonSchema,
  API_SCHEMA_FILE,
  ConfigSchema,
  ErrorSchema,
  HealthSchema,
  LearningCountersSchema,
  MacDetailSchema,
  MacPageSchema,
  NeighborSchema,
  NeighborsSchema,
  ReadySchema,
  ReloadSchema,
  RoutesSchema,
  ServiceSchema,
  ServicesSchema,
} from "../../src/api/schemas.js";
import parse from "parse-prometheus-text-format";
import { apiRequest } from "../../src/cli/api-client.js";
import {
  apiYaml,
  arpReply,
  call,
  EVPN_VTEP,
  FABRIC_MAC,
  imetUpdate,
  M1,
  macUpdate,
  readEvents,
  sample,
  STATIC_MAC,
  VTEP_A,
  VTEP_B,
} from "../helpers/api.js";
import { collect, freePort, openSession, SPEAKER, start } from "../helpers/daemon-run.js";
import type { ScriptedPeer } from "../helpers/scripted-peer.js";

const VXLAN = "127.0.0.41";
const PEER = "127.0.0.2";
const TOKEN = "s3cret-token-for-tests";

describe("management API against a running daemon", () => {
  let dir: string;
  let socket: string;
  let file: string;
  let httpPort: number;
  let d: ReturnType<typeof start>;
  let p: ScriptedPeer;
  const tx: dgram.Socket[] = [];
  const send = async (from: string, frame: Uint8Array) => {
    const s = dgram.createSocket("udp4");
    tx.push(s);
    await new Promise<void>((r) => s.bind({ address: from, port: 0 }, () => r()));
    await new Promise<void>((r) => s.send(frame, 4789, VXLAN, () => r()));
  };
  const tcp = (method: string, path: string, token?: string) =>
    fetch(`http://127.0.0.1:${httpPort}${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "evpn-proxy-api-"));
    socket = join(dir, "api.sock");
    file = join(dir, "proxy.yaml");
    writeFileSync(join(dir, "token"), `${TOKEN}\n`);
    httpPort = await freePort("127.0.0.1");
    const bgpPort = await freePort(SPEAKER);
    writeFileSync(file, apiYaml({ bgpPort, socket, httpPort, tokenFile: join(dir, "token"), vxlan: VXLAN }));
    d = start(file);
    p = await openSession(bgpPort, d.out);
    await collect(p); // our routes and End-of-RIB
    p.send(imetUpdate(EVPN_VTEP));
    p.send(macUpdate(EVPN_VTEP, FABRIC_MAC, "198.51.100.9", 2));
    // M1 learned at A, moved to B, back to A: the second move is more than max-moves 1: a duplicate, frozen at B.
    await send(VTEP_A, arpReply(M1, "198.51.100.5"));
    await sleep(150);
    await send(VTEP_B, arpReply(M1, "198.51.100.5"));
    await sleep(150);
    await send(VTEP_A, arpReply(M1, "198.51.100.5"));
    await collect(p, 400);
  });
  after(() => {
    for (const s of tx) s.close();
    p?.close();
    d?.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("the socket has mode 0660", () => {
    assert.equal(statSync(socket).mode & 0o777, 0o660);
  });

  test("healthz, readyz: Established and End-of-RIB sent", async () => {
    const h = await call(socket, "GET", "/api/v1/healthz", 200, HealthSchema);
    assert.equal(h.routerId, "192.0.2.4");
    const r = await call(socket, "GET", "/api/v1/readyz", 200, ReadySchema);
    assert.deepEqual(r, {
      ready: true,
      neighbors: [{ address: PEER, state: "Established", endOfRibSent: true, ready: true }],
    });
  });

  test("bgp/neighbors: state, capabilities, messages and routes by type", async () => {
    const all = await call(socket, "GET", "/api/v1/bgp/neighbors", 200, NeighborsSchema);
    assert.equal(all.neighbors.length, 1);
    const n = await call(socket, "GET", `/api/v1/bgp/neighbors/${PEER}`, 200, NeighborSchema);
    assert.equal(n.state, "Established");
    assert.equal(n.peerAs, 65000);
    assert.equal(n.capabilities?.routeRefresh, true);
    assert.deepEqual(n.capabilities?.families, ["l2vpn-evpn"]);
    assert.equal(n.timers.negotiatedHoldTimeSeconds, 90);
    assert.equal(n.messages.received.open, 1);
    assert.equal(n.messages.received.update, 2);
    assert.deepEqual(n.routes.received.byType, {
      ethernetAutoDiscovery: 0,
      macIp: 2,
      inclusiveMulticast: 1,
      ethernetSegment: 0,
      ipPrefix: 0,
      other: 0,
    });
    // Ours: two IMET routes, the static MAC and MAC/IP routes, M1's two learned routes.
    assert.equal(n.routes.advertised.byType.inclusiveMulticast, 2);
    assert.equal(n.routes.advertised.byType.macIp, 4);
    assert.deepEqual(
      n.transitions.map((t) => `${t.from}>${t.to}`),
      ["Idle>Active", "Active>OpenSent", "OpenSent>OpenConfirm", "OpenConfirm>Established"],
    );
    assert.equal(n.lastError, null);
  });

  test("evpn/services: flood list with each VTEP's origin and state", async () => {
    const all = await call(socket, "GET", "/api/v1/evpn/services", 200, ServicesSchema);
    const s = await call(socket, "GET", "/api/v1/evpn/services/vni10", 200, ServiceSchema);
    assert.deepEqual(all.services, [s]);
    assert.deepEqual(
      s.vteps.map((v) => `${v.address} ${v.origin} ${v.state} ${v.inFloodList}`),
      [`${VTEP_A} static proxied true`, `${VTEP_B} static proxied true`, `${EVPN_VTEP} evpn active true`],
    );
    assert.deepEqual(s.routeDistinguishers, [`${VTEP_A}:10`, `${VTEP_B}:10`]);
    assert.deepEqual(s.macs, { static: 1, learned: 1 });
  });

  test("evpn/macs: static, learned (moved, duplicate) and the fabric's; filters; paging by cursor", async () => {
    const page = await call(socket, "GET", "/api/v1/evpn/macs", 200, MacPageSchema);
    assert.deepEqual(
      page.items.map(
        (m) => `${m.source} ${m.mac} ${m.vtep} ${m.ips.join(",")} seq ${m.sequence} ${m.sticky} ${m.duplicate}`,
      ),
      [
        `static ${STATIC_MAC} ${VTEP_A} 198.51.100.2 seq 0 true false`,
        `learned ${M1} ${VTEP_B} 198.51.100.5 seq 1 false true`, // frozen where its first move took it
        `evpn ${FABRIC_MAC} ${EVPN_VTEP} 198.51.100.9 seq 2 false false`,
      ],
    );
    const learned = page.items[1]!;
    assert.ok(learned.ageSeconds !== null && learned.ageSeconds < 5);
    assert.equal(learned.lastMove?.vtep, VTEP_B);
    // One MAC a page: three pages, then the end.
    const seen: string[] = [];
    let cursor: string | null = "";
    for (let i = 0; cursor !== null && i < 10; i++) {
      const q: string = cursor === "" ? "" : `&cursor=${cursor}`;
      const r = await call(socket, "GET", `/api/v1/evpn/macs?limit=1${q}`, 200, MacPageSchema);
      seen.push(...r.items.map((m) => m.mac));
      cursor = r.nextCursor;
    }
    assert.deepEqual(seen, [STATIC_MAC, M1, FABRIC_MAC]);
    const atB = await call(socket, "GET", `/api/v1/evpn/macs?vtep=${VTEP_B}`, 200, MacPageSchema);
    assert.deepEqual(
      atB.items.map((m) => m.mac),
      [M1],
    );
    const onlyEvpn = await call(socket, "GET", "/api/v1/evpn/macs?source=evpn&service=vni10", 200, MacPageSchema);
    assert.deepEqual(
      onlyEvpn.items.map((m) => m.mac),
      [FABRIC_MAC],
    );
  });

  test("evpn/macs/{mac}: its rows and its moves", async () => {
    const m = await call(socket, "GET", `/api/v1/evpn/macs/${M1.toUpperCase()}`, 200, MacDetailSchema);
    assert.equal(m.mac, M1);
    assert.equal(m.entries.length, 1);
    assert.deepEqual(
      m.history[0]!.steps.map((s) => `${s.event} ${s.vtep}`),
      [`moved ${VTEP_B}`, `duplicate ${VTEP_B}`],
    );
    await call(socket, "GET", "/api/v1/evpn/macs/02:00:00:00:77:77", 404, ErrorSchema);
  });

  test("evpn/routes: advertised (planned) and received, by type", async () => {
    const adv = await call(socket, "GET", "/api/v1/evpn/routes?direction=advertised", 200, RoutesSchema);
    assert.deepEqual(adv.routes.map((r) => r.prefix).sort(), [
      `[2]:[0]:[48]:[${STATIC_MAC}]`,
      `[2]:[0]:[48]:[${STATIC_MAC}]:[32]:[198.51.100.2]`,
      `[3]:[0]:[32]:[${VTEP_A}]`,
      `[3]:[0]:[32]:[${VTEP_B}]`,
    ]);
    assert.equal(adv.learnedRoutes, 2);
    const rcv = await call(socket, "GET", "/api/v1/evpn/routes?direction=received&type=2", 200, RoutesSchema);
    assert.deepEqual(
      rcv.routes.map((r) => `${r.rd} ${r.mac} ${r.ip} ${r.from} ${r.sequence} ${r.best}`),
      [
        `${EVPN_VTEP}:10 ${FABRIC_MAC} null ${PEER} 2 true`,
        `${EVPN_VTEP}:10 ${FABRIC_MAC} 198.51.100.9 ${PEER} 2 true`,
      ],
    );
    const one = await call(socket, "GET", "/api/v1/evpn/routes?direction=received&limit=1", 200, RoutesSchema);
    assert.equal(one.routes.length, 1);
    assert.notEqual(one.nextCursor, null);
  });

  test("learning/counters and config", async () => {
    const c = await call(socket, "GET", "/api/v1/learning/counters", 200, LearningCountersSchema);
    assert.equal(c.enabled, true);
    assert.equal(c.learned.macs, 1);
    assert.equal(c.learned.moves, 1);
    assert.equal(c.duplicates, 1);
    assert.equal(c.source?.datagrams, 3);
    const cfg = await call(socket, "GET", "/api/v1/config", 200, ConfigSchema);
    assert.equal(cfg.file, file);
    assert.equal((cfg.config as { localAs: number }).localAs, 65000);
  });

  test("POST evpn/duplicates/clear releases the duplicate MAC", async () => {
    const before = await call(socket, "GET", `/api/v1/evpn/macs?source=learned`, 200, MacPageSchema);
    assert.equal(before.items[0]?.duplicate, true);
    const a = await call(socket, "POST", "/api/v1/evpn/duplicates/clear", 200, ActionSchema);
    assert.equal(a.message, "1 duplicate MAC released");
    const now = await call(socket, "GET", `/api/v1/evpn/macs?source=learned`, 200, MacPageSchema);
    assert.equal(now.items[0]?.duplicate, false);
    const m = await call(socket, "GET", `/api/v1/evpn/macs/${M1}`, 200, MacDetailSchema);
    assert.equal(m.history[0]?.steps.at(-1)?.event, "duplicate-released");
    assert.equal(
      (await call(socket, "POST", "/api/v1/evpn/duplicates/clear", 200, ActionSchema)).message,
      "0 duplicate MACs released",
    );
  });

  test("/metrics: Prometheus text format, values after the events above", async () => {
    const r = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const m = parse(text);
    const v = (name: string, labels: Record<string, string> = {}) => sample(m, `evpn_proxy_${name}`, labels);
    assert.equal(v("bgp_peer_up", { peer: PEER }), 1);
    assert.equal(v("bgp_peer_state", { peer: PEER, state: "Established" }), 1);
    assert.equal(v("bgp_peer_state", { peer: PEER, state: "Idle" }), 0);
    assert.equal(v("bgp_peer_transitions_total", { peer: PEER }), 4);
    assert.ok(v("bgp_peer_established_timestamp_seconds", { peer: PEER })! > Date.now() / 1000 - 60);
    assert.equal(v("bgp_messages_received_total", { peer: PEER, type: "update" }), 2);
    assert.equal(v("bgp_messages_received_total", { peer: PEER, type: "open" }), 1);
    assert.equal(v("bgp_routes_received", { peer: PEER, route_type: "2" }), 2);
    assert.equal(v("bgp_routes_received", { peer: PEER, route_type: "3" }), 1);
    assert.equal(v("bgp_routes_advertised", { peer: PEER, route_type: "3" }), 2);
    assert.equal(v("bgp_routes_advertised", { peer: PEER, route_type: "2" }), 4);
    assert.equal(v("vteps", { service: "vni10", origin: "static" }), 2);
    assert.equal(v("vteps", { service: "vni10", origin: "evpn" }), 1);
    assert.equal(v("macs", { service: "vni10", source: "static" }), 1);
    assert.equal(v("macs", { service: "vni10", source: "learned" }), 1);
    assert.equal(v("macs", { service: "vni10", source: "evpn" }), 1);
    assert.equal(v("mac_moves_total", { service: "vni10" }), 1);
    assert.equal(v("mac_duplicates_total", { service: "vni10" }), 1);
    assert.equal(v("learning_limit_hits_total", { service: "vni10", limit: "rate" }), 0);
    assert.equal(v("learning_skipped_total", { reason: "unknown_vni" }), 0);
    assert.equal(v("learning_frames_total"), 3);
    assert.equal(v("config_reloads_total", { result: "applied" }), 0);
    assert.equal(v("build_info", { version: "0.1.0" }), 1);
    const delay = m.find((f) => f.name === "evpn_proxy_event_loop_delay_seconds");
    assert.equal(delay?.type, "HISTOGRAM");
    assert.ok(Number(delay.metrics[0]?.count) > 0);
    assert.ok(
      m.some((f) => f.name === "evpn_proxy_process_resident_memory_bytes"),
      "Node's default metrics",
    );
    // Bounded cardinality: no label carries a MAC or a data-plane address.
    assert.doesNotMatch(text, /02:00:00:00|198\.51\.100/);
  });

  test("bad requests: 400 with the parameter, 404, 405 with Allow, 413; the daemon is unaffected", async () => {
    const bad = async (path: string, parameter: string) => {
      const e = await call(socket, "GET", path, 400, ErrorSchema);
      assert.equal(e.error.code, "ERR_API_BAD_PARAMETER");
      assert.equal(e.error.parameter, parameter, path);
    };
    await bad("/api/v1/evpn/macs?limit=0", "limit");
    await bad("/api/v1/evpn/macs?limit=x", "limit");
    await bad("/api/v1/evpn/macs?source=bogus", "source");
    await bad("/api/v1/evpn/macs?service=nope", "service");
    await bad("/api/v1/evpn/macs?vtep=1.2.3", "vtep");
    await bad("/api/v1/evpn/macs?cursor=%%%", "cursor");
    await bad("/api/v1/evpn/macs?cursor=eyJ4IjoxfQ", "cursor");
    await bad("/api/v1/evpn/macs?colour=red", "colour");
    await bad("/api/v1/evpn/routes?type=9", "type");
    await bad("/api/v1/bgp/neighbors/not-an-ip", "ip");
    await bad("/api/v1/evpn/macs/zz", "mac");
    assert.equal((await call(socket, "GET", "/api/v1/nothing", 404, ErrorSchema)).error.code, "ERR_API_NOT_FOUND");
    assert.equal(
      (await call(socket, "GET", "/api/v1/bgp/neighbors/192.0.2.99", 404, ErrorSchema)).error.code,
      "ERR_API_NOT_FOUND",
    );
    assert.equal(
      (await call(socket, "GET", "/api/v1/evpn/services/none", 404, ErrorSchema)).error.code,
      "ERR_API_NOT_FOUND",
    );
    const wrong = await call(socket, "POST", "/api/v1/bgp/neighbors", 405, ErrorSchema);
    assert.equal(wrong.error.code, "ERR_API_METHOD_NOT_ALLOWED");
    const r405 = await tcp("DELETE", `/api/v1/bgp/neighbors/${PEER}`);
    assert.equal(r405.status, 405);
    assert.equal(r405.headers.get("allow"), "GET, HEAD");
    const big = await fetch(`http://127.0.0.1:${httpPort}/api/v1/config/reload`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ x: "y".repeat(100_000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(ErrorSchema.parse(await big.json()).error.code, "ERR_API_BODY_TOO_LARGE");
    await call(socket, "GET", "/api/v1/healthz", 200, HealthSchema);
  });

  test("TCP: reads without a token on loopback; writes need the token (401 without or wrong)", async () => {
    assert.equal((await tcp("GET", "/api/v1/healthz")).status, 200);
    for (const token of [undefined, "wrong"]) {
      const r = await tcp("POST", `/api/v1/bgp/neighbors/${PEER}/refresh`, token);
      assert.equal(r.status, 401);
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal(ErrorSchema.parse(await r.json()).error.code, "ERR_API_UNAUTHORIZED");
    }
    const ok = await tcp("POST", `/api/v1/bgp/neighbors/${PEER}/refresh`, TOKEN);
    assert.equal(ok.status, 202);
    ActionSchema.parse(await ok.json());
    const m = await p.nextNonKeepalive(2000);
    assert.equal(m?.type, 5, "ROUTE-REFRESH");
  });

  test("POST config/reload: the difference applied, or the errors (422) with the running configuration kept", async () => {
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(`      - address: ${VTEP_B}\n`, ""));
    const r = await call(socket, "POST", "/api/v1/config/reload", 200, ReloadSchema);
    assert.equal(r.result, "applied");
    assert.deepEqual(r.changes?.services, { added: [], removed: [], changed: ["vni10"] });
    writeFileSync(file, text.replace("evi: 10", "evi: 0"));
    const bad = await call(socket, "POST", "/api/v1/config/reload", 422, ReloadSchema);
    assert.equal(bad.result, "rejected");
    assert.equal(bad.errors[0]?.path, "services[0].evi");
    const cfg = await call(socket, "GET", "/api/v1/config", 200, ConfigSchema);
    assert.equal(cfg.lastReload?.result, "rejected");
    writeFileSync(file, text);
    assert.equal((await call(socket, "POST", "/api/v1/config/reload", 200, ReloadSchema)).result, "applied");
  });

  test("POST bgp/neighbors/{ip}/reset: Cease / Administrative Reset, then lastError and transitions say so", async () => {
    await collect(p, 300);
    const a = await call(socket, "POST", `/api/v1/bgp/neighbors/${PEER}/reset`, 202, ActionSchema);
    assert.equal(a.action, "reset");
    let m = await p.next(2000);
    while (m && m.type !== 3) m = await p.next(2000);
    assert.ok(m && m.type === 3 && m.code === 6 && m.subcode === 4, "Cease / Administrative Reset");
    await sleep(100);
    const n = await call(socket, "GET", `/api/v1/bgp/neighbors/${PEER}`, 200, NeighborSchema);
    assert.equal(n.lastError?.direction, "sent");
    assert.equal(n.lastError?.reason, "Cease / Administrative Reset");
    assert.equal(n.lastDown?.cause, "notification-sent");
    assert.ok(n.transitions.some((t) => t.from === "Established"));
    assert.deepEqual(n.notifications, [
      { direction: "sent", code: 6, subcode: 4, reason: "Cease / Administrative Reset", count: 1 },
    ]);
    assert.equal(n.flaps, 1);
    const r = await call(socket, "GET", "/api/v1/readyz", 503, ReadySchema);
    assert.equal(r.ready, false);
    await call(socket, "POST", "/api/v1/bgp/neighbors/192.0.2.99/reset", 404, ErrorSchema);
    const metrics = parse(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
    const labels = { peer: PEER, direction: "sent", code: "6", subcode: "4" };
    assert.equal(sample(metrics, "evpn_proxy_bgp_notifications_total", labels), 1);
    assert.equal(sample(metrics, "evpn_proxy_bgp_peer_up", { peer: PEER }), 0);
    assert.equal(sample(metrics, "evpn_proxy_bgp_peer_flaps_total", { peer: PEER }), 1);
    assert.equal(sample(metrics, "evpn_proxy_config_reloads_total", { result: "rejected" }), 1);
  });

  test(`GET /api/v1/schemas is ${API_SCHEMA_FILE}, generated from the same definitions`, async () => {
    const served = (await apiRequest(socket, "GET", "/api/v1/schemas")).body;
    assert.deepEqual(served, JSON.parse(JSON.stringify(apiJsonSchema())));
    const committed: unknown = JSON.parse(
      readFileSync(new URL(`../../../${API_SCHEMA_FILE}`, import.meta.url), "utf8"),
    );
    assert.deepEqual(committed, served, `${API_SCHEMA_FILE} is not current: run npm run schema`);
  });

  test("GET /api/v1/events: a snapshot, the marker, then MAC, route-count and reload events", async () => {
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/events`, { signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    try {
      const first = await readEvents(res, (e) => e.some((x) => x.name === "marker"));
      assert.deepEqual(
        first.map((e) => e.name),
        ["snapshot", "marker"],
      );
      const snap = first[0]!.data;
      NeighborsSchema.parse({ neighbors: snap["neighbors"] });
      ServicesSchema.parse({ services: snap["services"] });
      LearningCountersSchema.parse(snap["learning"]);
      const M2 = "02:00:00:00:01:06";
      await send(VTEP_A, arpReply(M2, "198.51.100.6"));
      const learned = await readEvents(res, (e) => e.some((x) => x.name === "routes.counts"));
      const mac = learned.find((e) => e.name === "mac.learned");
      assert.deepEqual(
        { ...mac?.data, at: undefined },
        { at: undefined, type: "mac", event: "learned", vni: 10, vtep: VTEP_A, mac: M2 },
      );
      assert.deepEqual(learned.find((e) => e.name === "routes.counts")?.data.announced, 2);
      await call(socket, "POST", "/api/v1/config/reload", 200, ReloadSchema);
      const reload = await readEvents(res, (e) => e.some((x) => x.name === "daemon.config-reloaded"));
      assert.equal(reload.find((e) => e.name === "daemon.config-reloaded")?.data.result, "applied");
    } finally {
      ctl.abort();
    }
    // Bad topics: 400 before any stream.
    const bad = await fetch(`http://127.0.0.1:${httpPort}/api/v1/events?topics=bgp,nope`);
    assert.equal(bad.status, 400);
    assert.equal(ErrorSchema.parse(await bad.json()).error.parameter, "topics");
  });
});
