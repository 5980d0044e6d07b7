// The API under pressure, in-process with a bus driven by the test: an event-stream reader that
// never reads is disconnected once 1 MiB is waiting for it (its memory is bounded), one that reads
// keeps its stream; hundreds of concurrent clients are all answered; the 33rd stream gets 503; a
// listener on a non-loopback address answers nothing without the token.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setImmediate as turn, setTimeout as sleep } from "node:timers/promises";
import { eventStream, SSE_LIMITS } from "../../src/api/events.js";
import type { Route } from "../../src/api/routes.js";
import { ApiServer } from "../../src/api/server.js";
import { apiRequest } from "../../src/cli/api-client.js";
import { EventBus } from "../../src/mgmt/events.js";

const bus = new EventBus();
const routes: Route[] = [
  ["/api/v1/bgp/neighbors", { neighbors: [] }],
  ["/api/v1/evpn/services", { services: [] }],
  ["/api/v1/learning/counters", { enabled: false }],
  ["/api/v1/healthz", { status: "ok" }],
].map(([url, body]) => ({ method: "GET", url: url as string, write: false, handler: () => ({ body }) }));
const sse = eventStream({ events: bus, routes, now: Date.now });
let dir: string;
let socket: string;
let server: ApiServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "evpn-proxy-limits-"));
  socket = join(dir, "api.sock");
  server = new ApiServer({ socket, socketMode: 0o660, http: null, tokenFile: null }, routes, [sse]);
  await server.start();
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !what(); await sleep(10)) if (Date.now() > end) throw new Error("timed out");
}

test("a reader that never reads is disconnected; one that reads keeps its stream", async () => {
  const slow = net.connect(socket);
  await new Promise<void>((r) => slow.once("connect", () => r()));
  slow.write("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
  slow.pause(); // never reads: the kernel's buffers fill, then the server's
  let fastBytes = 0;
  const fast = http.get({ socketPath: socket, path: "/api/v1/events?topics=daemon" }, (res) =>
    res.on("data", (b: Buffer) => (fastBytes += b.length)),
  );
  await until(() => sse.open() === 2);
  const file = "x".repeat(200);
  let published = 0;
  // 40 MB of events: far beyond the socket buffers and the 1 MiB a stream may hold.
  for (; published < 150_000 && sse.open() === 2; published++) {
    bus.publish("daemon", { type: "config-reloading", file });
    if (published % 500 === 0) await turn();
  }
  await until(() => sse.open() === 1);
  assert.ok(published < 150_000, "the slow reader was cut before everything was published");
  // The fast reader got the events published meanwhile.
  await until(() => fastBytes > published * 200);
  fast.destroy();
  slow.destroy();
  await until(() => sse.open() === 0);
});

test(`at most ${SSE_LIMITS.streams} streams: the next gets 503`, async () => {
  const open: http.ClientRequest[] = [];
  for (let i = 0; i < SSE_LIMITS.streams; i++)
    open.push(http.get({ socketPath: socket, path: "/api/v1/events" }, (res) => res.resume()));
  await until(() => sse.open() === SSE_LIMITS.streams);
  const r = await apiRequest(socket, "GET", "/api/v1/events");
  assert.equal(r.status, 503);
  assert.equal((r.body as { error: { code: string } }).error.code, "ERR_API_BUSY");
  for (const c of open) c.destroy();
  await until(() => sse.open() === 0);
});

test("a listener on a non-loopback address needs the token for reads too", async () => {
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, "tok\n");
  // Bound to every address, used from loopback only.
  const s = new ApiServer(
    { socket: null, socketMode: 0o660, http: { address: "0.0.0.0", port: 0 }, tokenFile },
    routes,
  );
  await s.start();
  try {
    const url = `http://127.0.0.1:${s.httpPort}/api/v1/healthz`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: "Bearer nope" } })).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: "Bearer tok" } })).status, 200);
  } finally {
    await s.stop();
  }
});

test("300 concurrent clients are all answered", async () => {
  const answers = await Promise.all(Array.from({ length: 300 }, () => apiRequest(socket, "GET", "/api/v1/healthz")));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
});
