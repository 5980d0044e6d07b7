// Loading the configuration: YAML text → the schema of schema.ts → checks across fields → the
// normalized ProxyConfig (camelCase, canonical addresses, every default applied), or a list of
// errors that each name the file, the key path and the reason. Never throws for bad input.
// The model's types are in model.ts.
import { readFileSync } from "node:fs";
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { ProxyConfig } from "./model.js";
import { checkReplication, foldStaticEntries, normalizeReplication } from "./replication.js";
import {
  API_HTTP_ADDRESS,
  API_HTTP_PORT,
  BGP_PORT,
  type ConfigFile,
  ConfigSchema,
  defaultRouteTarget,
  IDLE_HOLD_TIME,
  MAX_IDLE_HOLD_TIME,
  parseAddress,
  parseMacEntry,
  parseRouteTarget,
  RESTART_TIME,
  showValue,
} from "./schema.js";
import { InvariantError } from "../errors.js";

// ---- errors ---------------------------------------------------------------------------------------

export interface ConfigError {
  file: string;
  /** Key path, e.g. "services[0].static-vteps[1].macs[0]"; "" for the document as a whole. */
  path: string;
  message: string;
  /** 1-based position in the file of the key (or of the YAML error), when known. */
  line?: number;
  column?: number;
}

export type ConfigResult = { ok: true; config: ProxyConfig } | { ok: false; errors: ConfigError[] };

/** "<file>: <path>: <reason>", or "<file>: <reason>" for an error of the whole document. */
export function formatConfigError(e: ConfigError): string {
  return e.path === "" ? `${e.file}: ${e.message}` : `${e.file}: ${e.path}: ${e.message}`;
}

type Path = readonly PropertyKey[];

/** services[0].static-vteps[1].macs[0] */
export function formatPath(path: Path): string {
  let s = "";
  for (const seg of path) {
    if (typeof seg === "number") s += `[${seg}]`;
    else {
      const k = String(seg);
      s += /^[A-Za-z0-9_-]+$/.test(k) ? (s === "" ? k : `.${k}`) : `[${JSON.stringify(k)}]`;
    }
  }
  return s;
}

// ---- loading --------------------------------------------------------------------------------------

/** Reads and validates a configuration file. */
export function loadConfig(file: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === "ENOENT"
        ? "no such file"
        : err.code === "EACCES"
          ? "permission denied"
          : err.code === "EISDIR"
            ? "is a directory, not a file"
            : err.message;
    return { ok: false, errors: [{ file, path: "", message: `cannot read the configuration file: ${why}` }] };
  }
  return parseConfig(text, file);
}

/** Validates configuration text; `file` names it in errors. */
export function parseConfig(text: string, file: string): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        let reason = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        if (e.code === "DUPLICATE_KEY") {
          const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*?)\s*:/.exec(text.slice(e.pos[0], e.pos[0] + 200));
          if (key !== null) reason += `: ${key[1]}`;
        }
        return {
          file,
          path: "",
          message: `YAML syntax error at line ${line}, column ${col}: ${reason}`,
          line,
          column: col,
        };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return { ok: false, errors: [{ file, path: "", message: `YAML error: ${(e as Error).message}` }] };
  }
  if (data === null || data === undefined)
    return {
      ok: false,
      errors: [
        {
          file,
          path: "",
          message: "the file is empty; expected a mapping with router-id, local-as, neighbors and services",
        },
      ],
    };

  const where = (path: Path): ConfigError => {
    const pos = positionOf(doc, lines, path);
    return { file, path: formatPath(path), message: "", ...pos };
  };
  const parsed = ConfigSchema.safeParse(data);
  if (!parsed.success) return { ok: false, errors: issuesToErrors(parsed.error.issues, data, where) };
  const config = normalize(parsed.data);
  const problems = [...crossCheck(config), ...checkReplication(config, parsed.data)];
  if (problems.length > 0)
    return { ok: false, errors: problems.map((p) => ({ ...where(p.path), message: p.message })) };
  return { ok: true, config: foldStaticEntries(config) };
}

// ---- zod issues → errors --------------------------------------------------------------------------

function issuesToErrors(issues: readonly z.core.$ZodIssue[], data: unknown, where: (p: Path) => ConfigError) {
  const out: ConfigError[] = [];
  for (const iss of issues) {
    if (iss.code === "unrecognized_keys") {
      const known = knownKeys(ConfigSchema, iss.path) ?? [];
      for (const key of iss.keys) {
        const hint = suggest(key, known);
        const message =
          hint !== null
            ? `unknown key; did you mean "${hint}"?`
            : `unknown key; expected ${known.length === 1 ? "" : "one of "}${known.join(", ")}`;
        out.push({ ...where([...iss.path, key]), message });
      }
    } else if (iss.path.length === 0 && iss.code === "invalid_type") {
      out.push({
        ...where([]),
        message: `expected a mapping with router-id, local-as, neighbors and services at the top level, got ${showValue(data)}`,
      });
    } else out.push({ ...where(iss.path), message: iss.message });
  }
  // zod reports unknown keys after the other issues of an object; the file's order reads better.
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** The keys of the object schema at `path` (through optional, default, prefault, union and array). */
function knownKeys(schema: z.ZodType, path: Path): string[] | null {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault)
      s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodUnion) {
      const obj = (s.options as z.ZodType[]).find((o) => o instanceof z.ZodObject);
      if (obj === undefined) return null;
      s = obj;
    } else break;
  }
  if (path.length === 0) return s instanceof z.ZodObject ? Object.keys(s.shape as object) : null;
  const [seg, ...rest] = path;
  if (s instanceof z.ZodObject && typeof seg === "string") {
    const next = (s.shape as Record<string, z.ZodType>)[seg];
    return next === undefined ? null : knownKeys(next, rest);
  }
  if (s instanceof z.ZodArray && typeof seg === "number") return knownKeys(s.element as z.ZodType, rest);
  return null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known key the operator probably meant: same letters ignoring case and -/_, or a close spelling. */
function suggest(key: string, known: readonly string[]): string | null {
  const flat = (s: string) => s.toLowerCase().replace(/[-_ ]/g, "");
  const same = known.find((k) => flat(k) === flat(key));
  if (same !== undefined) return same;
  let best: string | null = null;
  let bestD = key.length <= 4 ? 1 : 2;
  for (const k of known) {
    const d = editDistance(flat(key), flat(k));
    if (d <= bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/** Line and column of the key at `path` (or of the closest enclosing node that exists). */
function positionOf(doc: Document, lines: LineCounter, path: Path): { line?: number; column?: number } {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: [number] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined || !isScalar(pair.key)) break;
      offset = pair.key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg];
      offset = (node as { range?: [number] } | null)?.range?.[0] ?? offset;
    } else break;
  }
  if (offset === undefined) return {};
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

// ---- normalization --------------------------------------------------------------------------------

/** Canonical text of an address the schema accepted. */
function canonical(s: string): string {
  const r = parseAddress(s, "ip", false);
  if (!r.ok) throw new InvariantError("ERR_CONFIG_INVARIANT", `unvalidated address ${s}`);
  return r.value;
}

function normalize(c: ConfigFile): ProxyConfig {
  const routerId = canonical(c["router-id"]);
  const localAs = c["local-as"];
  const listen = c.listen ?? true;
  const gr = c["graceful-restart"] ?? true;
  const l = c.learning;
  const m = c.management;
  return {
    routerId,
    localAs,
    listen:
      listen === false
        ? null
        : listen === true
          ? { address: routerId, port: BGP_PORT }
          : {
              address: listen.address === undefined ? routerId : canonical(listen.address),
              port: listen.port ?? BGP_PORT,
            },
    gracefulRestart: gr === false ? null : { restartTime: gr === true ? RESTART_TIME : gr["restart-time"] },
    neighbors: c.neighbors.map((n) => ({
      address: canonical(n.address),
      peerAs: n["peer-as"],
      ...(n["local-address"] !== undefined ? { localAddress: canonical(n["local-address"]) } : {}),
      port: n.port,
      passive: n.passive,
      holdTime: n["hold-time"],
      ...(n.keepalive !== undefined ? { keepalive: n.keepalive } : {}),
      ...(n.description !== undefined ? { description: n.description } : {}),
      gracefulRestart: n["graceful-restart"],
      connectRetry: n["connect-retry"],
      damping:
        n.damping === false
          ? null
          : n.damping === true || n.damping === undefined
            ? { idleHoldTime: IDLE_HOLD_TIME, maxIdleHoldTime: MAX_IDLE_HOLD_TIME }
            : { idleHoldTime: n.damping["idle-hold-time"], maxIdleHoldTime: n.damping["max-idle-hold-time"] },
    })),
    services: c.services.map((s) => ({
      name: s.name,
      evi: s.evi,
      vni: s.vni,
      routeTargets:
        s["route-targets"] === undefined
          ? [defaultRouteTarget(localAs, s.evi)]
          : s["route-targets"].map((rt) => {
              const r = parseRouteTarget(rt);
              if (!r.ok) throw new InvariantError("ERR_CONFIG_INVARIANT", `unvalidated route target ${rt}`);
              return r.value;
            }),
      ...normalizeReplication(s),
      staticVteps: s["static-vteps"].map((v) => ({
        address: canonical(v.address),
        macs: v.macs.map((m) => {
          const r = parseMacEntry(m);
          if (!r.ok) throw new InvariantError("ERR_CONFIG_INVARIANT", `unvalidated MAC ${m}`);
          return r.value;
        }),
      })),
    })),
    learning: {
      ...(l["vxlan-listen"] !== undefined ? { vxlanListen: canonical(l["vxlan-listen"]) } : {}),
      includeIp: l["include-ip"],
      captureInterfaces: l["capture-interfaces"],
      anyFrame: l["any-frame"],
      autoDiscover: l["auto-discover-static-vteps"],
      allowedPrefixes: l["allowed-vtep-prefixes"],
      ageingSeconds: l["mac-ageing-seconds"],
      maxMoves: l["max-moves"],
      moveWindowSeconds: l["move-window-seconds"],
      freezeSeconds: l["freeze-seconds"],
      maxMacsPerVtep: l["max-macs-per-vtep"],
      maxMacsPerVni: l["max-macs-per-vni"],
      maxLearnPerVtepPerSecond: l["max-learn-rate"],
    },
    management: {
      socket: m.socket === false ? null : m.socket,
      socketMode: Number.parseInt(m["socket-mode"], 8),
      http:
        m.http === false
          ? null
          : m.http === true
            ? { address: API_HTTP_ADDRESS, port: API_HTTP_PORT }
            : { address: canonical(m.http.address), port: m.http.port },
      tokenFile: m["token-file"] ?? null,
    },
    state:
      c["state-directory"] === false ? null : { directory: c["state-directory"], saveSeconds: c["state-save-seconds"] },
  };
}

/** 127.0.0.0/8 and ::1. */
export function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

// ---- checks across fields -------------------------------------------------------------------------

interface Problem {
  path: Path;
  message: string;
}

function crossCheck(c: ProxyConfig): Problem[] {
  const out: Problem[] = [];
  const first = new Map<string, Path>();
  /** The path where `key` was seen first, recording `path` if it is new. */
  const seen = (key: string, path: Path): Path | undefined => {
    const prev = first.get(key);
    if (prev === undefined) first.set(key, path);
    return prev;
  };

  c.neighbors.forEach((n, i) => {
    const at: Path = ["neighbors", i];
    if (n.address === c.routerId)
      out.push({
        path: [...at, "address"],
        message: `${n.address} is the router-id, the proxy's own address; a neighbor is another router`,
      });
    const prev = seen(`neighbor ${n.address}`, [...at, "address"]);
    if (prev !== undefined)
      out.push({ path: [...at, "address"], message: `duplicate neighbor ${n.address} (also ${formatPath(prev)})` });
    if (n.localAddress !== undefined && n.localAddress.includes(":") !== n.address.includes(":"))
      out.push({
        path: [...at, "local-address"],
        message: `${n.localAddress} is ${n.localAddress.includes(":") ? "IPv6" : "IPv4"} but the neighbor address ${n.address} is not`,
      });
    if (n.damping !== null && n.damping.maxIdleHoldTime < n.damping.idleHoldTime)
      out.push({
        path: [...at, "damping", "max-idle-hold-time"],
        message: `max-idle-hold-time ${n.damping.maxIdleHoldTime} must be at least idle-hold-time ${n.damping.idleHoldTime}`,
      });
    if (n.keepalive !== undefined && n.holdTime === 0)
      out.push({
        path: [...at, "keepalive"],
        message: "hold-time 0 means no KEEPALIVEs; remove keepalive or set a hold-time",
      });
    else if (n.keepalive !== undefined && n.keepalive >= n.holdTime)
      out.push({
        path: [...at, "keepalive"],
        message: `keepalive ${n.keepalive} must be less than hold-time ${n.holdTime} (RFC 4271 §10 suggests a third)`,
      });
  });

  const http = c.management.http;
  if (http !== null && !isLoopback(http.address) && c.management.tokenFile === null)
    out.push({
      path: ["management", "http", "address"],
      message: `${http.address} is not a loopback address: a listener there needs management.token-file (its clients must present the token)`,
    });

  const rtOwner = new Map<string, { service: number; path: Path }>();
  c.services.forEach((s, i) => {
    const at: Path = ["services", i];
    const dup = (what: string, key: string, value: string | number, why = ""): boolean => {
      const prev = seen(`service ${key} ${value}`, [...at, key]);
      if (prev !== undefined)
        out.push({ path: [...at, key], message: `duplicate ${what} ${value} (also ${formatPath(prev)})${why}` });
      return prev !== undefined;
    };
    dup("service name", "name", s.name);
    const dupEvi = dup("EVI", "evi", s.evi, "; the route distinguishers <vtep>:<evi> would collide");
    dup("VNI", "vni", s.vni);

    s.routeTargets.forEach((rt, k) => {
      // A duplicate EVI also duplicates the default route target: one error is enough.
      if (dupEvi && s.routeTargets.length === 1 && rt === defaultRouteTarget(c.localAs, s.evi)) return;
      const path: Path =
        s.routeTargets.length === 1 && k === 0 ? [...at, "route-targets"] : [...at, "route-targets", k];
      const prev = rtOwner.get(rt);
      if (prev === undefined) rtOwner.set(rt, { service: i, path });
      else if (prev.service === i)
        out.push({ path, message: `duplicate route target ${rt} (also ${formatPath(prev.path)})` });
      else
        out.push({
          path,
          message: `route target ${rt} is also a route target of service "${c.services[prev.service]!.name}" (${formatPath(prev.path)}); EVPN VTEPs would import the routes of both services into both (the default route target is <local-as>:<evi>)`,
        });
    });

    const vteps = new Map<string, Path>();
    const macAt = new Map<string, { vtep: number; path: Path }>();
    const ipAt = new Map<string, { mac: string; path: Path }>();
    s.staticVteps.forEach((v, j) => {
      const vat: Path = [...at, "static-vteps", j];
      if (v.address === c.routerId)
        out.push({
          path: [...vat, "address"],
          message: `${v.address} is the router-id, the proxy's own address, not a static VTEP`,
        });
      const prevVtep = vteps.get(v.address);
      if (prevVtep !== undefined)
        out.push({
          path: [...vat, "address"],
          message: `duplicate static VTEP ${v.address} (also ${formatPath(prevVtep)})`,
        });
      else vteps.set(v.address, [...vat, "address"]);

      const entries = new Map<string, Path>();
      v.macs.forEach((m, k) => {
        const path: Path = [...vat, "macs", k];
        const text = [m.mac, ...m.ips].join(" ");
        const prevEntry = entries.get(text);
        if (prevEntry !== undefined) {
          out.push({ path, message: `duplicate MAC entry "${text}" (also ${formatPath(prevEntry)})` });
          return;
        }
        entries.set(text, path);
        const owner = macAt.get(m.mac);
        if (owner !== undefined && owner.vtep !== j)
          out.push({
            path,
            message: `duplicate MAC ${m.mac}: already behind static VTEP ${s.staticVteps[owner.vtep]!.address} (${formatPath(owner.path)}); a MAC has one location in a service`,
          });
        else if (owner === undefined) macAt.set(m.mac, { vtep: j, path });
        for (const ip of m.ips) {
          const ipOwner = ipAt.get(ip);
          if (ipOwner !== undefined && ipOwner.mac !== m.mac)
            out.push({
              path,
              message: `duplicate IP ${ip}: already bound to MAC ${ipOwner.mac} (${formatPath(ipOwner.path)})`,
            });
          else if (ipOwner === undefined) ipAt.set(ip, { mac: m.mac, path });
        }
      });
    });
  });
  return out;
}
