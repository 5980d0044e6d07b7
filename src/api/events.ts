// GET /api/v1/events: server-sent events. A snapshot first (neighbours, services, learning
// counters: the answers of their GET endpoints), then a marker, then the daemon's events as they
// happen: peer state changes and NOTIFICATIONs, MACs learned, moved, duplicate and aged, VTEP
// changes, configuration reloads, and learned routes announced and withdrawn as counts per
// second. A reader that falls behind by more than `maxBufferedBytes` is disconnected (it
// reconnects for a new snapshot), so a slow reader never grows memory without bound.

import type { FastifyReply, FastifyRequest } from "fastify";
import type { EventBus, EventTopics, Topic } from "../mgmt/events.js";
import { ApiError } from "./errors.js";
import { enumParam, queryOf } from "./params.js";
import { rfc3339 } from "./present.js";
import type { Route } from "./routes.js";
import type { RawRoute } from "./server.js";

export const SSE_LIMITS = {
  /** Event streams open at once; more get 503. */
  streams: 32,
  /** Unsent bytes a stream may hold before its reader is disconnected. */
  maxBufferedBytes: 1024 * 1024,
  /** A comment line this often keeps idle connections open (ms). */
  heartbeatMs: 15_000,
  /** Learned routes are reported as counts this often (ms). */
  routeCountsMs: 1000,
};

/** Event names: `<topic>.<type>` (bgp.state, evpn.learning, mac.moved, daemon.config-reloaded, routes.counts). */
function eventOf<T extends Topic>(topic: T, e: EventTopics[T]): { name: string; data: Record<string, unknown> } | null {
  const o = e as unknown as Record<string, unknown>;
  if (topic === "trace") return o["type"] === "mac" ? { name: `mac.${String(o["event"])}`, data: o } : null;
  const kind = String(o["kind"] ?? o["type"]);
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) data[k] = v instanceof Error ? v.message : v;
  return { name: `${topic}.${kind}`, data };
}

export interface EventStreamDeps {
  events: EventBus;
  /** The API's own routes: the snapshot is what their GETs answer. */
  routes: Route[];
  now(): number;
}

/** The snapshot's parts: each the answer of a GET endpoint. */
const SNAPSHOT: [string, string][] = [
  ["neighbors", "/api/v1/bgp/neighbors"],
  ["services", "/api/v1/evpn/services"],
  ["learning", "/api/v1/learning/counters"],
];
const unwrap = (key: string, body: unknown) => (body as Record<string, unknown>)[key] ?? body;

export function eventStream(d: EventStreamDeps): RawRoute & { open(): number } {
  let open = 0;
  const get = (url: string) => d.routes.find((r) => r.method === "GET" && r.url === url)!;
  return {
    url: "/api/v1/events",
    open: () => open,
    async handle(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      const q = queryOf(req.query, ["topics"]);
      const topics = new Set<string>(
        (q["topics"] ?? "bgp,evpn,mac,routes,daemon")
          .split(",")
          .map((t) => enumParam("topics", t, ["bgp", "evpn", "mac", "routes", "daemon"] as const)!),
      );
      if (open >= SSE_LIMITS.streams)
        throw new ApiError(503, "ERR_API_BUSY", `${SSE_LIMITS.streams} event streams are open already`);
      const snapshot: Record<string, unknown> = {};
      for (const [key, url] of SNAPSHOT)
        snapshot[key] = unwrap(key, (await get(url).handler({ params: {}, query: {} })).body);

      open++;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      let id = 0;
      let closed = false;
      const offs: (() => void)[] = [];
      const close = () => {
        if (closed) return;
        closed = true;
        open--;
        for (const f of offs.splice(0)) f();
        res.destroy();
      };
      const send = (name: string, data: unknown) => {
        if (closed) return;
        if (res.writableLength > SSE_LIMITS.maxBufferedBytes) return close(); // too slow a reader
        res.write(`id: ${++id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      res.on("close", close);
      res.on("error", close);

      send("snapshot", { at: rfc3339(d.now()), ...snapshot });
      send("marker", { at: rfc3339(d.now()), snapshot: "end" });
      const on = <T extends Topic>(topic: T, show: string) => {
        if (topics.has(show))
          offs.push(
            d.events.subscribe(topic, (e) => {
              const ev = eventOf(topic, e);
              if (ev !== null) send(ev.name, { at: rfc3339(d.now()), ...ev.data });
            }),
          );
      };
      on("bgp", "bgp");
      on("evpn", "evpn");
      on("trace", "mac");
      on("daemon", "daemon");
      if (topics.has("routes")) {
        const counts = { announced: 0, withdrawn: 0 };
        offs.push(
          d.events.subscribe("trace", (e) => {
            if (e.type === "learned-route") counts[e.action === "announce" ? "announced" : "withdrawn"]++;
          }),
        );
        const t = setInterval(() => {
          if (counts.announced + counts.withdrawn === 0) return;
          send("routes.counts", { at: rfc3339(d.now()), ...counts });
          counts.announced = 0;
          counts.withdrawn = 0;
        }, SSE_LIMITS.routeCountsMs);
        offs.push(() => clearInterval(t));
      }
      const beat = setInterval(() => {
        if (!closed && res.writableLength <= SSE_LIMITS.maxBufferedBytes) res.write(": keepalive\n\n");
      }, SSE_LIMITS.heartbeatMs);
      offs.push(() => clearInterval(beat));
      return reply;
    },
  };
}
