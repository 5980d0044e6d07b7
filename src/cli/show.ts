// `evpn-proxy show …`, `clear …` and `reload`: clients of the management API on the daemon's
// socket. Tables by default, the API's JSON with --json, redrawn every few seconds with --watch.
// Whatever goes wrong (daemon not running, no permission, an error answer) is one line on
// stderr and exit status 1 (2: a reload the daemon refused).

import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import type { ApiJson } from "../api/schemas.js";
import { ApiClientError, apiRequest, DEFAULT_SOCKET, errorMessage } from "./api-client.js";
import { importMacs } from "./import-macs.js";
import {
  bgpNeighbor,
  bgpSummary,
  evpnFloodList,
  evpnMac,
  evpnServices,
  learning,
  MAC_HEAD,
  MAC_WIDTHS,
  macRow,
  reloadText,
  ROUTE_HEAD,
  routeRow,
  table,
} from "./show-render.js";

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

interface Common {
  socket: string;
  json?: boolean;
  watch?: string | true;
}

/** What a command prints: `write` is called with text as it comes (pages of a long table). */
type Body = (socket: string, json: boolean, write: (s: string) => void) => Promise<number>;

class AnswerError extends ApiClientError {}

async function call<T>(socket: string, method: "GET" | "POST", path: string): Promise<{ status: number; body: T }> {
  const r = await apiRequest(socket, method, path);
  if (
    r.status >= 400 &&
    !(method === "POST" && path.endsWith("/config/reload") && (r.status === 422 || r.status === 500))
  )
    throw new AnswerError("ERR_CLI_ANSWER", errorMessage(r));
  return { status: r.status, body: r.body as T };
}

const get = async <T>(socket: string, path: string): Promise<T> => (await call<T>(socket, "GET", path)).body;

/** One object printed: its JSON, or its text. */
function single<T>(path: string, text: (x: T) => string): Body {
  return async (socket, json, write) => {
    const x = await get<T>(socket, path);
    write(json ? `${JSON.stringify(x, null, 2)}\n` : text(x));
    return 0;
  };
}

/** A POST action: its message, or its JSON. */
function action(path: string): Body {
  return async (socket, json, write) => {
    const r = await call<ApiJson<"Action">>(socket, "POST", path);
    write(json ? `${JSON.stringify(r.body, null, 2)}\n` : `${r.body.message}\n`);
    return 0;
  };
}

/** POST config/reload: the difference, or the errors (2). */
const reload: Body = async (socket, json, write) => {
  const r = await call<ApiJson<"Reload">>(socket, "POST", "/api/v1/config/reload");
  write(json ? `${JSON.stringify(r.body, null, 2)}\n` : reloadText(r.body));
  return r.body.result === "applied" ? 0 : 2;
};

/** A paged listing: every page in turn; JSON as one {"items": [...]} written as pages come. */
function paged<T>(
  path: string,
  key: "items" | "routes",
  head: string[],
  row: (x: T) => string[],
  widths: number[] = [],
  empty = "",
): Body {
  return async (socket, json, write) => {
    const sep = path.includes("?") ? "&" : "?";
    let cursor: string | null = null;
    let n = 0;
    if (json) write(`{"${key}":[`);
    do {
      const page: Record<string, unknown> = await get(
        socket,
        `${path}${cursor === null ? "" : `${sep}cursor=${encodeURIComponent(cursor)}`}`,
      );
      const items = page[key] as T[];
      if (json) write(items.map((x) => `${n++ === 0 ? "" : ","}\n${JSON.stringify(x)}`).join(""));
      else if (items.length > 0) {
        const text = table(head, items.map(row), widths);
        write(n === 0 ? text : text.slice(text.indexOf("\n") + 1));
        n += items.length;
      }
      cursor = page["nextCursor"] as string | null;
    } while (cursor !== null);
    if (json) write("\n]}\n");
    else if (n === 0) write(empty);
    return 0;
  };
}

async function run(c: Common, body: Body, io: Io, title: string): Promise<number> {
  try {
    if (c.watch === undefined) return await body(c.socket, c.json === true, (s) => io.out.write(s));
    const every = c.watch === true ? 2 : Number(c.watch);
    if (!(every >= 0.5 && every <= 3600))
      throw new ApiClientError("ERR_CLI_WATCH", `--watch: expected seconds from 0.5 to 3600, got ${c.watch}`);
    for (;;) {
      let text = "";
      await body(c.socket, c.json === true, (s) => (text += s));
      io.out.write(`\x1b[H\x1b[2JEvery ${every} s: evpn-proxy ${title}    ${new Date().toISOString()}\n\n${text}`);
      await new Promise((r) => setTimeout(r, every * 1000));
    }
  } catch (e) {
    if (!(e instanceof ApiClientError)) throw e;
    io.err.write(`evpn-proxy: ${e.message}\n`);
    return 1;
  }
}

function common(cmd: Command, watch = true): Command {
  cmd.addOption(
    new Option("--socket <path>", "the daemon's API socket (management.socket)")
      .env("EVPN_PROXY_SOCKET")
      .default(DEFAULT_SOCKET),
  );
  cmd.option("--json", "print the API's JSON");
  if (watch) cmd.option("--watch [seconds]", "redraw every few seconds (default 2) until interrupted");
  return cmd;
}

const q = (params: Record<string, string | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, v);
  const text = s.toString();
  return text === "" ? "" : `?${text}`;
};

const seg = encodeURIComponent;

/** Registers show, clear and reload on `program`; each sets process.exitCode. */
export function registerApiCommands(program: Command, io: Io = { out: process.stdout, err: process.stderr }): void {
  /** An action of positional arguments `a` (commander passes them, then the options, then the command). */
  const act =
    (title: (...a: string[]) => string, body: (...a: string[]) => Body) =>
    async (...args: unknown[]) => {
      const opts = (args[args.length - 1] as Command).opts<Common>();
      const a = args.slice(0, -2).map(String);
      process.exitCode = await run(opts, body(...a), io, title(...a));
    };

  const show = program.command("show").description("show what the running daemon knows (through its API socket)");
  const bgp = show.command("bgp").description("BGP sessions");
  common(bgp.command("summary").description("one line per neighbour")).action(
    act(
      () => "show bgp summary",
      () => single<ApiJson<"Neighbors">>("/api/v1/bgp/neighbors", (n) => bgpSummary(n, Date.now())),
    ),
  );
  common(bgp.command("neighbor").argument("<ip>", "neighbour address").description("one neighbour in detail")).action(
    act(
      (ip) => `show bgp neighbor ${ip}`,
      (ip) => single<ApiJson<"Neighbor">>(`/api/v1/bgp/neighbors/${seg(ip)}`, bgpNeighbor),
    ),
  );
  const evpn = show.command("evpn").description("EVPN services, flood lists, MACs and routes");
  common(evpn.command("services").description("one line per service")).action(
    act(
      () => "show evpn services",
      () => single<ApiJson<"Services">>("/api/v1/evpn/services", evpnServices),
    ),
  );
  common(evpn.command("flood-list").argument("<service>", "service name").description("a service's VTEPs")).action(
    act(
      (s) => `show evpn flood-list ${s}`,
      (s) => single<ApiJson<"Service">>(`/api/v1/evpn/services/${seg(s)}`, evpnFloodList),
    ),
  );
  common(
    evpn
      .command("macs")
      .description("the MAC table: configured, learned and the fabric's")
      .option("--service <name>", "only this service")
      .option("--vtep <ip>", "only MACs at this VTEP")
      .addOption(new Option("--source <source>", "only this source").choices(["static", "learned", "evpn"])),
  ).action(async (opts: Common & { service?: string; vtep?: string; source?: string }) => {
    const p = `/api/v1/evpn/macs${q({ service: opts.service, vtep: opts.vtep, source: opts.source, limit: "500" })}`;
    process.exitCode = await run(
      opts,
      paged(p, "items", MAC_HEAD, macRow, MAC_WIDTHS, "no MACs\n"),
      io,
      "show evpn macs",
    );
  });
  common(evpn.command("mac").argument("<mac>", "MAC address").description("one MAC: where it is and its moves")).action(
    act(
      (m) => `show evpn mac ${m}`,
      (m) => single<ApiJson<"MacDetail">>(`/api/v1/evpn/macs/${seg(m)}`, evpnMac),
    ),
  );
  common(
    evpn
      .command("routes")
      .argument("[direction]", "advertised or received", "advertised")
      .description("routes we advertise (configured; learned ones: show evpn macs) or receive")
      .addOption(new Option("--type <type>", "only this EVPN route type").choices(["1", "2", "3", "4", "5"])),
  ).action(async (direction: string, opts: Common & { type?: string }) => {
    if (direction !== "advertised" && direction !== "received") {
      io.err.write(`evpn-proxy: show evpn routes: expected advertised or received, got ${JSON.stringify(direction)}\n`);
      process.exitCode = 1;
      return;
    }
    const p = `/api/v1/evpn/routes${q({ direction, type: opts.type, limit: "500" })}`;
    process.exitCode = await run(
      opts,
      paged(p, "routes", ROUTE_HEAD, routeRow, [], "no routes\n"),
      io,
      `show evpn routes ${direction}`,
    );
  });
  common(show.command("learning").description("data-plane learning counters")).action(
    act(
      () => "show learning",
      () => single<ApiJson<"LearningCounters">>("/api/v1/learning/counters", learning),
    ),
  );

  const clear = program.command("clear").description("reset sessions, release duplicates");
  common(
    clear
      .command("bgp")
      .argument("<ip>", "neighbour address")
      .description("reset a BGP session (hard), or --soft: ask for a route refresh")
      .option("--soft", "ROUTE-REFRESH instead of a reset"),
    false,
  ).action(async (ip: string, opts: Common & { soft?: boolean }) => {
    const url = `/api/v1/bgp/neighbors/${seg(ip)}/${opts.soft ? "refresh" : "reset"}`;
    process.exitCode = await run(opts, action(url), io, "clear bgp");
  });

  common(
    clear
      .command("evpn")
      .description("EVPN state")
      .command("duplicates")
      .description("release every duplicate MAC now"),
    false,
  ).action(async (opts: Common) => {
    process.exitCode = await run(opts, action("/api/v1/evpn/duplicates/clear"), io, "clear evpn duplicates");
  });

  common(
    program
      .command("import-macs")
      .description(
        "make a static VTEP's learned MACs static MACs of it in the configuration file (comments kept), then reload",
      )
      .requiredOption("-c, --config <file>", "the daemon's configuration file (YAML)")
      .requiredOption("--service <name>", "service of the VTEP")
      .requiredOption("--vtep <ip>", "the static VTEP")
      .requiredOption("--bridge-fdb <file>", "the VTEP's `bridge -j fdb show` output, or - for standard input")
      .option("--dry-run", "print the MACs that would be added; change nothing"),
    false,
  ).action(
    async (opts: Common & { config: string; service: string; vtep: string; bridgeFdb: string; dryRun?: boolean }) => {
      const before = readFileSync(opts.config, "utf8");
      const code = importMacs({ ...opts, dryRun: opts.dryRun === true }, io.out, io.err);
      if (code !== 0 || opts.dryRun === true || readFileSync(opts.config, "utf8") === before) {
        process.exitCode = code;
        return;
      }
      process.exitCode = await run(opts, reload, io, "import-macs");
    },
  );

  common(
    program
      .command("reload")
      .description("reload the configuration file (as SIGHUP): the difference, or the errors (exit 2)"),
    false,
  ).action(async (opts: Common) => {
    process.exitCode = await run(opts, reload, io, "reload");
  });
}
