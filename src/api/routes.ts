// The endpoints under /api/v1: what each reads or does, answered with the JSON of schemas.ts.
// Handlers only read the read models (src/mgmt) and call the daemon's actions.

import type { ConfigDiff } from "../config/diff.js";
import type { ProxyConfig } from "../config/model.js";
import type { EventBus } from "../mgmt/events.js";
import type { History } from "../mgmt/history.js";
import type { MacLister } from "../mgmt/macs.js";
import type { RouteLister } from "../mgmt/routes.js";
import type { DaemonState, Views } from "../mgmt/views.js";
import { ApiError, badParameter, notFound } from "./errors.js";
import {
  countRoute,
  learningJson,
  macJson,
  neighborJson,
  noRoutes,
  rfc3339,
  routeJson,
  serviceJson,
} from "./present.js";
import {
  encodeMacCursor,
  encodeRouteCursor,
  enumParam,
  ipParam,
  limitParam,
  MAC_SOURCES,
  macCursorParam,
  macParam,
  queryOf,
  routeCursorParam,
} from "./params.js";
import { apiJsonSchema, type ApiJson } from "./schemas.js";

/** How a reload ended (POST config/reload, SIGHUP). */
export type ReloadOutcome =
  | { result: "applied"; diff: ConfigDiff }
  | { result: "rejected" | "failed"; errors: { path: string; message: string; line?: number; column?: number }[] };

/** What the daemon does on request. */
export interface ApiActions {
  /** Hard reset; false: no such neighbour. */
  resetNeighbor(ip: string): boolean;
  /** ROUTE-REFRESH to the neighbour; false: no such neighbour. */
  refreshNeighbor(ip: string): boolean;
  /** Releases every duplicate MAC now (RFC 7432 §15.1 freeze); how many. */
  clearDuplicates(): number;
  reload(): Promise<ReloadOutcome>;
}

export interface ApiDeps {
  version: string;
  views: Views;
  state: DaemonState;
  history: History;
  macs: MacLister;
  routes: RouteLister;
  events: EventBus;
  configFile: string | null;
  startedAt: number;
  loadedAt(): number;
  actions: ApiActions;
}

export type Handler = (req: { params: Record<string, string>; query: unknown }) => Promise<Reply> | Reply;
export interface Reply {
  status?: number;
  body: unknown;
}

export interface Route {
  method: "GET" | "POST";
  url: string;
  /** Changes state: over TCP only with the token. */
  write: boolean;
  handler: Handler;
}

const ok = (body: unknown, status = 200): Reply => ({ status, body });

export function apiRoutes(d: ApiDeps): Route[] {
  const now = () => d.state.now();
  const config = (): ProxyConfig => d.state.config();

  const localByType = () => {
    const by = noRoutes();
    for (const r of d.state.controller().planned()) countRoute(by, r.route.routeType);
    by.macIp += d.state.controller().learner?.announcedRoutes() ?? 0;
    return by;
  };
  const neighbors = (only?: string): ApiJson<"Neighbor">[] => {
    const advertised = localByType();
    const t = now();
    return d.views
      .neighbors()
      .filter((n) => only === undefined || n.address === only)
      .map((n) => {
        const received = noRoutes();
        for (const p of d.state.rib().adjIn(n.address)) countRoute(received, p.route.routeType);
        const cfg = config().neighbors.find((c) => c.address === n.address);
        return neighborJson(n, {
          cfg,
          history: d.history,
          received,
          advertised: n.state === "Established" ? advertised : noRoutes(),
          now: t,
        });
      });
  };
  const services = (only?: string) => {
    const cfg = config();
    const self = cfg.learning.vxlanListen ?? cfg.routerId;
    return d.views
      .services()
      .filter((v) => only === undefined || v.name === only)
      .map((v) =>
        serviceJson(
          v,
          cfg.services.find((s) => s.name === v.name)!,
          self,
        ),
      );
  };

  const get = (url: string, handler: Handler): Route => ({ method: "GET", url, write: false, handler });
  const post = (url: string, handler: Handler): Route => ({ method: "POST", url, write: true, handler });

  return [
    get("/api/v1/healthz", (req) => {
      queryOf(req.query, []);
      const c = config();
      return ok({
        status: "ok",
        version: d.version,
        routerId: c.routerId,
        localAs: c.localAs,
        startedAt: rfc3339(d.startedAt),
        uptimeSeconds: Math.max(0, Math.floor((now() - d.startedAt) / 1000)),
      } satisfies ApiJson<"Health">);
    }),
    get("/api/v1/readyz", (req) => {
      queryOf(req.query, []);
      const list = d.views.neighbors().map((n) => ({
        address: n.address,
        state: n.state,
        endOfRibSent: n.endOfRibSent,
        ready: n.state === "Established" && n.endOfRibSent,
      }));
      const ready = list.every((n) => n.ready);
      return ok({ ready, neighbors: list } satisfies ApiJson<"Ready">, ready ? 200 : 503);
    }),
    get("/api/v1/schemas", (req) => {
      queryOf(req.query, []);
      return ok(apiJsonSchema());
    }),
    get("/api/v1/bgp/neighbors", (req) => {
      queryOf(req.query, []);
      return ok({ neighbors: neighbors() } satisfies ApiJson<"Neighbors">);
    }),
    get("/api/v1/bgp/neighbors/:ip", (req) => {
      queryOf(req.query, []);
      const ip = ipParam("ip", req.params["ip"]!);
      const n = neighbors(ip)[0];
      if (n === undefined) throw notFound(`no neighbor ${ip}`);
      return ok(n);
    }),
    get("/api/v1/evpn/services", (req) => {
      queryOf(req.query, []);
      return ok({ services: services() } satisfies ApiJson<"Services">);
    }),
    get("/api/v1/evpn/services/:name", (req) => {
      queryOf(req.query, []);
      const s = services(req.params["name"]!)[0];
      if (s === undefined) throw notFound(`no service ${JSON.stringify(req.params["name"])}`);
      return ok(s);
    }),
    get("/api/v1/evpn/macs", (req) => {
      const q = queryOf(req.query, ["service", "vtep", "source", "limit", "cursor"]);
      const service = q["service"];
      if (service !== undefined && !config().services.some((s) => s.name === service))
        throw badParameter("service", `no service named ${JSON.stringify(service)}`);
      const vtep = q["vtep"] === undefined ? undefined : ipParam("vtep", q["vtep"]);
      const source = enumParam("source", q["source"], MAC_SOURCES);
      const limit = limitParam(q["limit"]);
      const filters = `${service ?? ""}|${vtep ?? ""}|${source ?? ""}`;
      const cursor = macCursorParam(q["cursor"], filters);
      const page = d.macs.page({
        limit,
        cursor,
        ...(service !== undefined ? { service } : {}),
        ...(vtep !== undefined ? { vtep } : {}),
        ...(source !== undefined ? { source } : {}),
      });
      if (page === null)
        throw badParameter("cursor", "this listing expired (pages more than 5 minutes apart): start again");
      const t = now();
      return ok({
        items: page.items.map((m) => macJson(m, t)),
        nextCursor: page.next === null ? null : encodeMacCursor(page.next, filters),
      } satisfies ApiJson<"MacPage">);
    }),
    get("/api/v1/evpn/macs/:mac", (req) => {
      queryOf(req.query, []);
      const mac = macParam("mac", req.params["mac"]!);
      const t = now();
      const entries = d.macs.find(mac).map((m) => macJson(m, t));
      const history = config()
        .services.map((s) => ({ vni: s.vni, steps: d.history.macHistory(s.vni, mac) }))
        .filter((h) => h.steps.length > 0)
        .map((h) => ({ vni: h.vni, steps: h.steps.map((s) => ({ event: s.event, vtep: s.vtep, at: rfc3339(s.at) })) }));
      if (entries.length === 0 && history.length === 0) throw notFound(`MAC ${mac} is not known`);
      return ok({ mac, entries, history } satisfies ApiJson<"MacDetail">);
    }),
    get("/api/v1/evpn/routes", (req) => {
      const q = queryOf(req.query, ["direction", "type", "limit", "cursor"]);
      const direction = enumParam("direction", q["direction"], ["advertised", "received"] as const) ?? "advertised";
      let type: number | undefined;
      if (q["type"] !== undefined) {
        type = /^[1-5]$/.test(q["type"]) ? Number(q["type"]) : NaN;
        if (Number.isNaN(type))
          throw badParameter("type", `expected an EVPN route type from 1 to 5, got ${JSON.stringify(q["type"])}`);
      }
      const limit = limitParam(q["limit"]);
      const filters = `${direction}|${type ?? ""}`;
      const page = d.routes.page(direction, type, limit, routeCursorParam(q["cursor"], filters));
      if (page === null)
        throw badParameter("cursor", "this listing expired (pages more than 5 minutes apart): start again");
      return ok({
        direction,
        routes: page.items.map(routeJson),
        learnedRoutes: direction === "advertised" ? (d.state.controller().learner?.announcedRoutes() ?? 0) : 0,
        nextCursor: page.next === null ? null : encodeRouteCursor(page.next, filters),
      } satisfies ApiJson<"Routes">);
    }),
    get("/api/v1/learning/counters", (req) => {
      queryOf(req.query, []);
      return ok(learningJson(d.views.counters()));
    }),
    get("/api/v1/config", (req) => {
      queryOf(req.query, []);
      const last = d.history.lastReload;
      return ok({
        file: d.configFile,
        loadedAt: rfc3339(d.loadedAt()),
        lastReload: last === null ? null : { result: last.result, at: rfc3339(last.at) },
        config: config() as unknown as Record<string, unknown>,
      } satisfies ApiJson<"Config">);
    }),
    post("/api/v1/bgp/neighbors/:ip/reset", (req) => {
      queryOf(req.query, []);
      const ip = ipParam("ip", req.params["ip"]!);
      if (!d.actions.resetNeighbor(ip)) throw notFound(`no neighbor ${ip}`);
      return ok(
        {
          action: "reset",
          target: ip,
          message: `session with ${ip} reset (Cease / Administrative Reset)`,
        } satisfies ApiJson<"Action">,
        202,
      );
    }),
    post("/api/v1/bgp/neighbors/:ip/refresh", (req) => {
      queryOf(req.query, []);
      const ip = ipParam("ip", req.params["ip"]!);
      const n = d.views.neighbors().find((x) => x.address === ip);
      if (n === undefined) throw notFound(`no neighbor ${ip}`);
      if (n.state !== "Established")
        throw new ApiError(409, "ERR_API_NOT_ESTABLISHED", `the session with ${ip} is ${n.state}, not Established`);
      if (n.negotiated?.routeRefresh !== true)
        throw new ApiError(409, "ERR_API_NO_ROUTE_REFRESH", `${ip} did not advertise route refresh (RFC 2918)`);
      d.actions.refreshNeighbor(ip);
      return ok(
        { action: "refresh", target: ip, message: `ROUTE-REFRESH sent to ${ip}` } satisfies ApiJson<"Action">,
        202,
      );
    }),
    post("/api/v1/evpn/duplicates/clear", (req) => {
      queryOf(req.query, []);
      const n = d.actions.clearDuplicates();
      return ok({
        action: "clear-duplicates",
        target: "all",
        message: `${n} duplicate MAC${n === 1 ? "" : "s"} released`,
      } satisfies ApiJson<"Action">);
    }),
    post("/api/v1/config/reload", async (req) => {
      queryOf(req.query, []);
      const r = await d.actions.reload();
      if (r.result === "applied") {
        const n = r.diff.neighbors;
        const addresses = (l: { address: string }[]) => l.map((x) => x.address);
        return ok({
          result: "applied",
          changes: {
            global: r.diff.global,
            neighbors: { added: addresses(n.added), removed: addresses(n.removed), changed: addresses(n.changed) },
            services: r.diff.services,
            learning: r.diff.learning,
            learningSources: r.diff.learningSources,
            management: r.diff.management,
          },
          errors: [],
        } satisfies ApiJson<"Reload">);
      }
      return ok(
        {
          result: r.result,
          changes: null,
          errors: r.errors.map((e) => ({
            path: e.path,
            message: e.message,
            line: e.line ?? null,
            column: e.column ?? null,
          })),
        } satisfies ApiJson<"Reload">,
        r.result === "rejected" ? 422 : 500,
      );
    }),
  ];
}
