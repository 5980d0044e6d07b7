// Runs a Speaker in its own process (started inside a lab namespace with `ip netns exec`) and
// serves the in-process API over stdin/stdout, one JSON object per line:
//   {"id":1,"cmd":"announce","routes":[...],"attrs":{...}}  -> {"id":1,"ok":true}
//   {"id":2,"cmd":"withdraw","routes":[...]}
//   {"id":3,"cmd":"status"}                                  -> {"id":3,"ok":true,"result":[...]}
//   {"id":4,"cmd":"rib"}                                     -> every Loc-RIB path
//   {"id":5,"cmd":"refresh","peer":"192.0.2.2"}
//   {"id":6,"cmd":"stop","communication":"..."}              -> stops and exits 0
//   {"id":7,"cmd":"memory"}                                  -> process.memoryUsage() after a GC
//   {"id":8,"cmd":"generate","count":N,"vtep":"192.0.2.9","vni":10} -> announces N type-2 routes
//      (MAC + IPv4) made here, for benchmarks: no JSON per route on the pipe; returns how long
//      announceAll took and when it started (epoch ms)
// Logs (pino JSON) go to stderr.
// Usage: node speaker-child.js '<SpeakerOptions as JSON>' ['[{"routes":[...],"attrs":{...}}]']
import { createInterface } from "node:readline";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import { Speaker, type SpeakerOptions } from "../../src/bgp/io/speaker.js";
import { encapsulation, type EvpnRoute, HEX2, macIpRoute, routeTarget } from "../../src/codec/index.js";
import { createLogger } from "../../src/app/log.js";
import { bgpEventLogger } from "../../src/mgmt/bgp-log.js";
import { fromJsonSafe, toJsonSafe } from "./json-bytes.js";

const opts = JSON.parse(process.argv[2] ?? "{}") as SpeakerOptions;
const speaker = new Speaker({
  ...opts,
  onEvent: bgpEventLogger(createLogger({ level: "debug", destination: process.stderr })),
});
const shared = new Map<string, OutAttrs>();

function reply(id: unknown, body: object): void {
  process.stdout.write(`${JSON.stringify(toJsonSafe({ id, ...body }))}\n`);
}

// Routes to announce before the sessions start (argv[3]: [{routes, attrs}, ...]): a restarted
// speaker must send them before its End-of-RIB (RFC 4724 §4.1).
for (const g of fromJsonSafe(JSON.parse(process.argv[3] ?? "[]")) as { routes: EvpnRoute[]; attrs: OutAttrs }[])
  speaker.announceAll(g.routes, g.attrs);
await speaker.start();
reply(0, { ok: true, ready: true, listenPort: speaker.listenPort });

createInterface({ input: process.stdin }).on("line", (line) => {
  let req: { id?: unknown; cmd?: string; [k: string]: unknown };
  try {
    req = fromJsonSafe(JSON.parse(line)) as typeof req;
  } catch (e) {
    reply(null, { ok: false, error: String(e) });
    return;
  }
  void (async () => {
    try {
      switch (req.cmd) {
        case "announce": {
          // Routes sent with the same attrs text share one OutAttrs object, as a real caller would.
          const text = JSON.stringify(req["attrs"]);
          let attrs = shared.get(text);
          if (!attrs) shared.set(text, (attrs = req["attrs"] as OutAttrs));
          for (const r of req["routes"] as EvpnRoute[]) speaker.announce(r, attrs);
          return reply(req.id, { ok: true });
        }
        case "withdraw":
          for (const r of req["routes"] as EvpnRoute[]) speaker.withdraw(r);
          return reply(req.id, { ok: true });
        case "status":
          return reply(req.id, { ok: true, result: speaker.status() });
        case "rib":
          return reply(req.id, {
            ok: true,
            result: [...speaker.rib.locRib()].flatMap((d) =>
              d.paths.map((p) => ({
                route: p.route,
                nextHop: p.attrs.nextHop,
                attributes: p.attrs.attributes,
                source: p.source === "local" ? "local" : p.source.id,
                stale: p.stale,
                best: p === d.best,
              })),
            ),
          });
        case "memory": {
          const gc = (globalThis as { gc?: () => void }).gc;
          if (gc) gc();
          return reply(req.id, { ok: true, result: process.memoryUsage() });
        }
        case "generate": {
          const count = req["count"] as number;
          const vtep = req["vtep"] as string;
          const vni = req["vni"] as number;
          const attrs: OutAttrs = {
            nextHop: vtep,
            attributes: [
              { kind: "origin", origin: 0 },
              { kind: "as-path", segments: [] },
              { kind: "local-pref", localPref: 100 },
              { kind: "ext-communities", communities: [routeTarget(`${opts.localAs}:${vni}`), encapsulation()] },
            ],
          };
          const h = HEX2;
          const routes: EvpnRoute[] = new Array(count);
          const rd = `${vtep}:${vni}`;
          for (let i = 0; i < count; i++)
            routes[i] = macIpRoute({
              rd,
              mac: `02:${h[(i >>> 24) & 255]}:${h[(i >>> 16) & 255]}:${h[(i >>> 8) & 255]}:${h[i & 255]}:01`,
              ip: `198.51.100.${i & 255}`, // documentation range; the MAC keeps routes apart
              label1: vni,
            });
          // The clock starts when the routes are handed to the speaker (wall clock, for the caller).
          const t0 = performance.now();
          speaker.announceAll(routes, attrs);
          return reply(req.id, {
            ok: true,
            result: { announceMs: performance.now() - t0, startedAt: performance.timeOrigin + t0 },
          });
        }
        case "refresh":
          speaker.requestRefresh(req["peer"] as string);
          return reply(req.id, { ok: true });
        case "stop":
          await speaker.stop(req["communication"] as string | undefined);
          reply(req.id, { ok: true });
          process.exit(0);
          return;
        default:
          return reply(req.id, { ok: false, error: `unknown command ${req.cmd}` });
      }
    } catch (e) {
      reply(req.id, { ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  })();
});

process.on("SIGTERM", () => {
  void speaker.stop("SIGTERM").then(() => process.exit(0));
});
