// `evpn-proxy import-macs`: the seed's avoid-flooding helper. A static VTEP's learned MACs (a Linux
// `bridge -j fdb show` dump, or Cumulus NCLU's `show bridge macs dynamic json`: nclu.ts) become
// static MACs of that VTEP in the configuration file — its comments and order kept — so that the
// proxy announces them as sticky type 2 routes (RFC 7432 §15.2) and EVPN VTEPs stop flooding
// towards them. The result is validated before it is written; then the running daemon is asked
// to reload.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { formatConfigError, parseConfig } from "../config/load.js";
import { parseMacEntry } from "../config/schema.js";
import { normalizeIp } from "../net/addr.js";
import { ncluBridgeMacs, NcluError, type NcluOptions } from "./nclu.js";

/**
 * One FDB entry: iproute2's `bridge -j fdb show` (`ifname`; `dev` in older iproute2),
 * which is also what NCLU's `show bridge macs … json` lists: the fields used here.
 */
interface FdbEntry {
  mac?: unknown;
  ifname?: unknown;
  dev?: unknown;
  master?: unknown;
  vlan?: unknown;
  dst?: unknown;
  state?: unknown;
  flags?: unknown;
}

/** Which bridge, and which VLAN of a VLAN-aware bridge, the MACs are taken from. */
export interface MacFilter {
  bridge?: string;
  vlan?: number;
}

const port = (e: FdbEntry): unknown => e.ifname ?? e.dev;
const vlanOf = (e: FdbEntry): number | undefined =>
  typeof e.vlan === "number" ? e.vlan : typeof e.vlan === "string" && /^\d+$/.test(e.vlan) ? Number(e.vlan) : undefined;

/**
 * The MACs behind the VTEP's local ports: bridge entries on a port that is not a VXLAN device
 * (a port with a tunnel entry, `dst`, is one), not the ports' own addresses (`permanent`) nor a
 * device's own table (`self`), unicast; sorted, each once. They must come from one bridge and
 * VLAN (the service's): `filter` picks them; entries of several without a filter are refused.
 */
export function localMacs(fdb: unknown, filter: MacFilter = {}): string[] {
  if (!Array.isArray(fdb)) throw new Error("expected the JSON array of FDB entries that `bridge -j fdb show` prints");
  const entries = fdb.filter((e): e is FdbEntry => typeof e === "object" && e !== null);
  const vxlanPorts = new Set(entries.filter((e) => typeof e.dst === "string").map(port));
  const groups = new Map<string, Set<string>>();
  for (const e of entries) {
    if (typeof e.mac !== "string" || typeof e.dst === "string" || vxlanPorts.has(port(e))) continue;
    if (e.state === "permanent" || (Array.isArray(e.flags) && e.flags.includes("self"))) continue;
    const master = typeof e.master === "string" ? e.master : undefined;
    const vlan = vlanOf(e);
    if (filter.bridge !== undefined && master !== filter.bridge) continue;
    if (filter.vlan !== undefined && vlan !== filter.vlan) continue;
    const m = parseMacEntry(e.mac);
    if (!m.ok) continue;
    const where = `${master === undefined ? "no bridge" : `bridge ${master}`}${vlan === undefined ? "" : ` VLAN ${vlan}`}`;
    const set = groups.get(where) ?? new Set<string>();
    groups.set(where, set.add(m.value.mac));
  }
  if (groups.size > 1)
    throw new Error(
      `the local MACs are in more than one bridge or VLAN (${[...groups.keys()].sort().join(", ")}): pick the service's with --bridge or --vlan`,
    );
  return [...(groups.values().next().value ?? [])].sort();
}

export interface ImportResult {
  /** The configuration file's new text. */
  text: string;
  /** MACs added (those already configured under the VTEP are left as they are). */
  added: string[];
}

type Range = [number, number, number];

const lineStart = (text: string, at: number): number => text.lastIndexOf("\n", at - 1) + 1;
/** Just after the end of the line holding offset `at` (a comment on it stays there). */
function afterLine(text: string, at: number): { at: number; text: string } {
  const nl = text.indexOf("\n", at);
  return nl === -1 ? { at: text.length, text: `${text}\n` } : { at: nl + 1, text };
}

/** A MAC written as an entry of the list is: "…" or '…' as its neighbours, else plain. */
function scalarText(mac: string, style: unknown): string {
  return style === "QUOTE_DOUBLE" ? `"${mac}"` : style === "QUOTE_SINGLE" ? `'${mac}'` : mac;
}

/**
 * The edit as text inserted into the file, every other byte as it was (re-serialising the whole
 * document would re-space comments and values); undefined when the layout is not one of the
 * usual ones (a flow mapping for the VTEP).
 */
function insertText(text: string, v: YAMLMap, seq: YAMLSeq | undefined, added: string[]): string | undefined {
  const range = (n: unknown): Range | undefined => (n as { range?: Range | null })?.range ?? undefined;
  if (v.flow) return undefined;
  if (seq !== undefined && seq.flow) {
    // `macs: ["a", "b"]`: `, "c"` before the closing bracket.
    const r = range(seq);
    if (r === undefined || text[r[1] - 1] !== "]") return undefined;
    const style = isScalar(seq.items[0]) ? seq.items[0].type : "QUOTE_DOUBLE";
    const items = added.map((m) => scalarText(m, style)).join(", ");
    const at = r[1] - 1;
    return `${text.slice(0, at)}${seq.items.length > 0 ? ", " : ""}${items}${text.slice(at)}`;
  }
  if (seq !== undefined) {
    // A block list: one `- c` line after the last item, as that item is indented.
    const last = seq.items.at(-1);
    const r = range(last);
    if (r === undefined) return undefined;
    const start = lineStart(text, r[0]);
    const prefix = text.slice(start, r[0]);
    if (!/^ *- +$/.test(prefix)) return undefined;
    const style = isScalar(last) ? last.type : undefined;
    const after = afterLine(text, r[1]);
    const lines = added.map((m) => `${prefix}${scalarText(m, style)}\n`).join("");
    return `${after.text.slice(0, after.at)}${lines}${after.text.slice(after.at)}`;
  }
  // No `macs` yet: `macs:` at the column of the VTEP's keys, after its last line, and the list below.
  const first = v.items[0];
  const lastPair = v.items.at(-1);
  const k = range(first?.key);
  const end = range(lastPair?.value) ?? range(lastPair?.key);
  if (k === undefined || end === undefined) return undefined;
  const indent = " ".repeat(k[0] - lineStart(text, k[0]));
  const after = afterLine(text, end[1]);
  const lines = `${indent}macs:\n${added.map((m) => `${indent}  - ${m}\n`).join("")}`;
  return `${after.text.slice(0, after.at)}${lines}${after.text.slice(after.at)}`;
}

/** Adds `macs` to static VTEP `vtep` of service `service` in the configuration `text`; throws with the reason. */
export function addStaticMacs(text: string, service: string, vtep: string, macs: string[]): ImportResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`the configuration file is not valid YAML: ${doc.errors[0]!.message}`);
  const services = doc.get("services");
  if (!isSeq(services)) throw new Error("the configuration has no services list");
  const svc = (services as YAMLSeq).items.find((s) => isMap(s) && s.get("name") === service) as YAMLMap | undefined;
  if (svc === undefined) throw new Error(`no service ${JSON.stringify(service)} in the configuration`);
  const want = normalizeIp(vtep);
  const vteps = svc.get("static-vteps");
  const v = isSeq(vteps)
    ? ((vteps as YAMLSeq).items.find((x) => isMap(x) && normalizeIp(String(x.get("address"))) === want) as
        YAMLMap | undefined)
    : undefined;
  if (v === undefined) throw new Error(`${vtep} is not a static VTEP of service ${service}`);
  const list = v.get("macs");
  if (list !== undefined && !isSeq(list)) throw new Error(`the macs of ${vtep} in service ${service} are not a list`);
  const seq = list as YAMLSeq | undefined;
  const have = new Set(
    (seq?.items ?? [])
      .map((x) => parseMacEntry(String((x as { value?: unknown }).value ?? x)))
      .flatMap((r) => (r.ok ? [r.value.mac] : [])),
  );
  const added = macs.filter((m) => !have.has(m));
  if (added.length === 0) return { text, added };
  const spliced = insertText(text, v, seq, added);
  // The same edit on the document: what the spliced text must mean (and the text when it cannot be spliced).
  if (seq === undefined) v.set("macs", doc.createNode(added));
  else {
    const style = isScalar(seq.items[0]) ? seq.items[0].type : undefined;
    for (const m of added) {
      const node = doc.createNode(m);
      if (style !== undefined) node.type = style;
      seq.add(node);
    }
  }
  const edited = doc.toJS() as unknown;
  if (spliced !== undefined && JSON.stringify(parseDocument(spliced).toJS()) === JSON.stringify(edited))
    return { text: spliced, added };
  return { text: doc.toString({ flowCollectionPadding: false, lineWidth: 0 }), added };
}

/** Where the MACs come from: a `bridge -j fdb show` file ("-": standard input), or NCLU. */
export type MacSource = { bridgeFdb: string } | { nclu: NcluOptions };

export interface ImportOptions {
  config: string;
  service: string;
  vtep: string;
  source: MacSource;
  filter: MacFilter;
  dryRun: boolean;
}

/**
 * Edits the file (unless a dry run): 0 when done (or nothing to add); 1 when NCLU could not be
 * asked or its answer is unusable; 2 when the input or the result is invalid (the file
 * unchanged). The reload is the caller's.
 */
export async function importMacs(
  o: ImportOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const fail = (code: number, message: string): number => {
    err.write(`evpn-proxy import-macs: ${message}\n`);
    return code;
  };
  let fdb: unknown;
  try {
    if ("nclu" in o.source) {
      if (o.source.nclu.insecure === true)
        err.write(
          `evpn-proxy import-macs: warning: --insecure: the certificate of ${o.source.nclu.url} is not checked\n`,
        );
      fdb = await ncluBridgeMacs(o.source.nclu);
    } else fdb = JSON.parse(readFileSync(o.source.bridgeFdb === "-" ? 0 : o.source.bridgeFdb, "utf8"));
  } catch (e) {
    return fail(e instanceof NcluError ? 1 : 2, (e as Error).message);
  }
  let macs: string[];
  let text: string;
  try {
    macs = localMacs(fdb, o.filter);
    text = readFileSync(o.config, "utf8");
  } catch (e) {
    return fail(2, (e as Error).message);
  }
  let r: ImportResult;
  try {
    r = addStaticMacs(text, o.service, o.vtep, macs);
  } catch (e) {
    return fail(2, `${o.config}: ${(e as Error).message}`);
  }
  const checked = parseConfig(r.text, o.config);
  if (!checked.ok) {
    fail(2, `the result would be invalid; ${o.config} is unchanged`);
    for (const e of checked.errors) err.write(`${formatConfigError(e)}\n`);
    return 2;
  }
  const where = `service ${o.service}, static VTEP ${o.vtep}`;
  if (r.added.length === 0) {
    out.write(`${macs.length} local MAC(s) found, all configured already under ${where}\n`);
    return 0;
  }
  out.write(`${o.dryRun ? "would add" : "adding"} ${r.added.length} static MAC(s) under ${where}:\n`);
  for (const m of r.added) out.write(`+ ${m}\n`);
  if (o.dryRun) return 0;
  writeFileSync(`${o.config}.tmp`, r.text);
  renameSync(`${o.config}.tmp`, o.config);
  return 0;
}
