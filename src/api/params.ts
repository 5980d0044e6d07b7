// Query and path parameters: each checked, with the parameter and the reason when it is wrong
// (400). Cursors are opaque to clients: base64url of a small JSON object naming what they page.

import { normalizeIp, normalizeMac } from "../net/addr.js";
import type { MacCursor, MacSource } from "../mgmt/macs.js";
import { badParameter } from "./errors.js";

export type Query = Record<string, string | string[] | undefined>;

/** The query's parameters, refusing unknown and repeated ones. */
export function queryOf(q: unknown, known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((q ?? {}) as Query)) {
    if (!known.includes(k))
      throw badParameter(k, `unknown parameter; expected ${known.length ? known.join(", ") : "none"}`);
    if (Array.isArray(v)) throw badParameter(k, "given more than once");
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function ipParam(name: string, v: string): string {
  const ip = normalizeIp(v);
  if (ip === null) throw badParameter(name, `expected an IPv4 or IPv6 address, got ${JSON.stringify(v)}`);
  return ip;
}

export function macParam(name: string, v: string): string {
  const mac = normalizeMac(v);
  if (mac === null)
    throw badParameter(name, `expected a MAC address such as 02:00:00:00:01:01, got ${JSON.stringify(v)}`);
  return mac;
}

/** A page's rows at most: its JSON is built in one go, on the event loop. */
export const MAX_LIMIT = 5000;
export const DEFAULT_LIMIT = 500;

export function limitParam(v: string | undefined): number {
  if (v === undefined) return DEFAULT_LIMIT;
  const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_LIMIT))
    throw badParameter("limit", `expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(v)}`);
  return n;
}

export function enumParam<T extends string>(name: string, v: string | undefined, values: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v))
    throw badParameter(name, `expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

export const MAC_SOURCES: readonly MacSource[] = ["static", "learned", "evpn"];

// ---- cursors ---------------------------------------------------------------------------------------

export function encodeCursor(c: object): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decode(v: string): Record<string, unknown> {
  const bad = () => badParameter("cursor", "not a cursor this API gave (pass nextCursor unchanged)");
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(v)) throw bad();
  try {
    const o: unknown = JSON.parse(Buffer.from(v, "base64url").toString("utf8"));
    if (typeof o !== "object" || o === null || Array.isArray(o)) throw bad();
    return o as Record<string, unknown>;
  } catch {
    throw bad();
  }
}

const isIndex = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** A MAC listing's cursor, with the filters it was made for (a cursor is valid for its own query only). */
export function macCursorParam(v: string | undefined, filters: string): MacCursor | null {
  if (v === undefined) return null;
  const o = decode(v);
  const bad = badParameter("cursor", "not a cursor of this listing (same service, vtep and source as its first page)");
  if (o["q"] !== filters) throw bad;
  if (o["p"] === "s" && isIndex(o["s"]) && isIndex(o["v"]) && isIndex(o["m"]))
    return { phase: "static", service: o["s"], vtep: o["v"], mac: o["m"] };
  if (o["p"] === "l" && isIndex(o["n"])) return { phase: "learned", slot: o["n"] };
  if (o["p"] === "e" && isIndex(o["n"])) return { phase: "evpn", listing: o["n"] };
  throw bad;
}

export function encodeMacCursor(c: MacCursor, filters: string): string {
  switch (c.phase) {
    case "static":
      return encodeCursor({ q: filters, p: "s", s: c.service, v: c.vtep, m: c.mac });
    case "learned":
      return encodeCursor({ q: filters, p: "l", n: c.slot });
    case "evpn":
      return encodeCursor({ q: filters, p: "e", n: c.listing });
  }
}

/** A route listing's cursor: the listing's number, for the same direction and type. */
export function routeCursorParam(v: string | undefined, filters: string): number | undefined {
  if (v === undefined) return undefined;
  const o = decode(v);
  if (o["q"] !== filters || o["p"] !== "r" || !isIndex(o["n"]))
    throw badParameter("cursor", "not a cursor of this listing (same direction and type as its first page)");
  return o["n"];
}

export const encodeRouteCursor = (listing: number, filters: string): string =>
  encodeCursor({ q: filters, p: "r", n: listing });
