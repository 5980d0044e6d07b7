// The management API's HTTP servers (fastify): one on the Unix socket (read and write; file
// permissions decide who may connect), one optional on TCP (reads without a token on a loopback
// address; writes, and everything on any other address, with the bearer token of token-file).
// Bad requests of any kind get the JSON error of errors.ts; none of them reaches the daemon.

import { timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { dirname } from "node:path";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { isLoopback } from "../config/load.js";
import type { ManagementSettings } from "../config/model.js";
import { ProxyError } from "../errors.js";
import { ApiError, asApiError, errorJson } from "./errors.js";
import type { Route } from "./routes.js";

/** Limits that keep a misbehaving client from growing memory or holding the daemon. */
export const API_LIMITS = {
  /** Request bodies (the actions take none). */
  bodyBytes: 16 * 1024,
  /** Connections per listener; beyond, a new connection is closed at once. */
  connections: 1024,
  /** A connection idle this long is closed (ms); event streams send a heartbeat more often. */
  idleMs: 60_000,
  /** The whole request must arrive within (ms). */
  requestMs: 10_000,
};

export type Transport = "unix" | "tcp";

/** An endpoint answering with more than JSON (metrics, the event stream): GET only, a read. */
export interface RawRoute {
  url: string;
  handle(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}

interface Pattern {
  re: RegExp;
  methods: Set<string>;
}

function patterns(routes: Pick<Route, "method" | "url">[]): Pattern[] {
  const by = new Map<string, Pattern>();
  for (const r of routes) {
    let p = by.get(r.url);
    if (!p) {
      const re = new RegExp(`^${r.url.replace(/:[a-z]+/g, "[^/]+")}/?$`);
      by.set(r.url, (p = { re, methods: new Set() }));
    }
    p.methods.add(r.method);
    if (r.method === "GET") p.methods.add("HEAD");
  }
  return [...by.values()];
}

export class ApiServer {
  private readonly apps: FastifyInstance[] = [];
  private token: Buffer | null = null;
  private socketPath: string | null = null;
  constructor(
    private readonly settings: ManagementSettings,
    private readonly routes: Route[],
    private readonly raw: RawRoute[] = [],
  ) {}

  /** The TCP listener's port (useful with port 0), when it listens. */
  httpPort: number | undefined;

  /** Opens the listeners; throws a ProxyError naming what could not be opened. */
  async start(): Promise<void> {
    const m = this.settings;
    this.readToken();
    if (m.socket !== null) {
      await freeSocket(m.socket);
      const app = this.build("unix", m.socket);
      await app.listen({ path: m.socket });
      chmodSync(m.socket, m.socketMode);
      this.socketPath = m.socket;
      this.apps.push(app);
    }
    if (m.http !== null) {
      const app = this.build("tcp", null);
      await app.listen({ host: m.http.address, port: m.http.port });
      const a = app.server.address();
      this.httpPort = a !== null && typeof a === "object" ? a.port : undefined;
      this.apps.push(app);
    }
  }

  async stop(): Promise<void> {
    for (const app of this.apps.splice(0)) await app.close();
    if (this.socketPath !== null) rmSync(this.socketPath, { force: true });
    this.socketPath = null;
  }

  /** Reads the token file (start, reload); throws when it cannot be read or is empty (the token in use stays). */
  readToken(): void {
    const f = this.settings.tokenFile;
    if (f === null || this.settings.http === null) return;
    let text: string;
    try {
      text = readFileSync(f, "utf8").trim();
    } catch (e) {
      throw new ProxyError("ERR_API_TOKEN_FILE", `cannot read management.token-file ${f}: ${(e as Error).message}`);
    }
    if (text === "") throw new ProxyError("ERR_API_TOKEN_FILE", `management.token-file ${f} is empty`);
    this.token = Buffer.from(text);
  }

  private authorized(req: FastifyRequest): boolean {
    const h = req.headers.authorization;
    if (this.token === null || typeof h !== "string" || !h.startsWith("Bearer ")) return false;
    const got = Buffer.from(h.slice(7).trim());
    return got.length === this.token.length && timingSafeEqual(got, this.token);
  }

  private build(transport: Transport, path: string | null): FastifyInstance {
    const app = Fastify({
      logger: false,
      bodyLimit: API_LIMITS.bodyBytes,
      connectionTimeout: API_LIMITS.idleMs,
      requestTimeout: API_LIMITS.requestMs,
      keepAliveTimeout: 5_000,
      routerOptions: { maxParamLength: 200 },
      forceCloseConnections: true,
      return503OnClosing: true,
    });
    app.server.maxConnections = API_LIMITS.connections;
    const all = patterns([...this.routes, ...this.raw.map((r) => ({ method: "GET" as const, url: r.url }))]);
    const open = transport === "tcp" && isLoopback(this.settings.http!.address);
    const writes = new Set(this.routes.filter((r) => r.write).map((r) => `${r.method} ${r.url}`));

    app.addHook("onRequest", async (req) => {
      if (transport === "unix") return;
      const url = req.routeOptions.url ?? "";
      const write = req.method !== "GET" && req.method !== "HEAD" && writes.has(`${req.method} ${url}`);
      if ((write || !open) && !this.authorized(req))
        throw new ApiError(
          401,
          "ERR_API_UNAUTHORIZED",
          this.token === null
            ? `${write ? "writes" : "requests"} over TCP need a bearer token and none is configured (management.token-file); use the Unix socket${path === null ? "" : ` ${path}`}`
            : "missing or wrong bearer token (Authorization: Bearer <token of management.token-file>)",
        );
    });
    app.setErrorHandler((err, _req, reply) => send(reply, asApiError(err)));
    app.setNotFoundHandler((req, reply) => {
      const p = req.url.split("?")[0]!;
      const match = all.find((x) => x.re.test(p));
      if (match !== undefined) {
        void reply.header("allow", [...match.methods].join(", "));
        return send(
          reply,
          new ApiError(
            405,
            "ERR_API_METHOD_NOT_ALLOWED",
            `${req.method} is not allowed on ${p}; allowed: ${[...match.methods].join(", ")}`,
          ),
        );
      }
      return send(reply, new ApiError(404, "ERR_API_NOT_FOUND", `no endpoint ${p}`));
    });
    for (const r of this.routes)
      app.route({
        method: r.method,
        url: r.url,
        handler: async (req, reply) => {
          const out = await r.handler({ params: req.params as Record<string, string>, query: req.query });
          return reply.code(out.status ?? 200).send(out.body);
        },
      });
    for (const r of this.raw) app.get(r.url, (req, reply) => r.handle(req, reply));
    return app;
  }
}

function send(reply: FastifyReply, e: ApiError): FastifyReply {
  if (e.status === 401) void reply.header("www-authenticate", 'Bearer realm="evpn-proxy"');
  return reply.code(e.status).type("application/json").send(errorJson(e));
}

/**
 * Makes way for the socket: creates its folder, removes a stale socket file; refuses when a
 * daemon answers on it (another evpn-proxy runs with the same socket) or the path is no socket.
 */
async function freeSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let isSocket: boolean;
  try {
    isSocket = statSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new ProxyError("ERR_API_SOCKET", `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect({ path }, () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });
  if (live) throw new ProxyError("ERR_API_SOCKET", `${path} is in use: another evpn-proxy answers there`);
  rmSync(path, { force: true });
}
