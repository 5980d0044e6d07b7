// `evpn-proxy import-macs`: the seed's avoid-flooding helper. A static VTEP's learned MACs (a Linux
// `bridge -j fdb show` dump) become static MACs of that VTEP in the configuration file — its
// comments and order kept — so that the proxy announces them as sticky type 2 routes (RFC 7432
// §15.2) and EVPN VTEPs stop flooding towards them. The result is validated before it is
// written; then the running daemon is asked to reload.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { formatConfigError, parseConfig } from "../config/load.js";
import { parseMacEntry } from "../config/schema.js";
import { normalizeIp } from "../net/addr.js";

/** One entry of `bridge -j fdb show` (iproute2): the fields used here. */
interface FdbEntry {
  mac?: unknown;
  ifname?: unknown;
  master?: unknown;
  dst?: unknown;
  state?: unknown;
  flags?: unknown;
}

/**
 * The MACs behind the VTEP's local ports: entries of the bridge (`master`) on a port that is not
 * a VXLAN device (a port with a `dst` entry is one), not the ports' own addresses (`permanent`),
 * unicast; sorted, each once.
 */
export function localMacs(fdb: unknown): string[] {
  if (!Array.isArray(fdb)) throw new Error("expected the JSON array that `bridge -j fdb show` prints");
  const entries = fdb as FdbEntry[];
  const vxlanPorts = new Set(entries.filter((e) => typeof e.dst === "string").map((e) => e.ifname));
  const out = new Set<string>();
  for (const e of entries) {
    if (typeof e.mac !== "string" || typeof e.master !== "string" || vxlanPorts.has(e.ifname)) continue;
    if (e.state === "permanent" || (Array.isArray(e.flags) && e.flags.includes("self"))) continue;
    const m = parseMacEntry(e.mac);
    if (m.ok) out.add(m.value.mac);
  }
  return [...out].sort();
}

export interface ImportResult {
  /** The configuration file's new text. */
  text: string;
  /** MACs added (those already configured under the VTEP are left as they are). */
  added: string[];
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
  let list = v.get("macs");
  if (list === undefined) {
    v.set("macs", doc.createNode([]));
    list = v.get("macs");
  }
  if (!isSeq(list)) throw new Error(`the macs of ${vtep} in service ${service} are not a list`);
  const seq = list as YAMLSeq;
  const have = new Set(
    seq.items
      .map((x) => parseMacEntry(String((x as { value?: unknown }).value ?? x)))
      .flatMap((r) => (r.ok ? [r.value.mac] : [])),
  );
  const added = macs.filter((m) => !have.has(m));
  // New entries are written as the first one is ("…" in a flow list as people write them).
  const style = isScalar(seq.items[0]) ? seq.items[0].type : undefined;
  for (const m of added) {
    const node = doc.createNode(m);
    if (style !== undefined) node.type = style;
    seq.add(node);
  }
  return { text: doc.toString({ flowCollectionPadding: false, lineWidth: 0 }), added };
}

export interface ImportOptions {
  config: string;
  service: string;
  vtep: string;
  /** A file, or "-" for standard input. */
  bridgeFdb: string;
  dryRun: boolean;
}

/**
 * Edits the file (unless a dry run): 0 when done (or nothing to add), 2 when the input or the
 * result is invalid (the file unchanged). The reload is the caller's.
 */
export function importMacs(o: ImportOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let macs: string[];
  let text: string;
  try {
    macs = localMacs(JSON.parse(readFileSync(o.bridgeFdb === "-" ? 0 : o.bridgeFdb, "utf8")));
    text = readFileSync(o.config, "utf8");
  } catch (e) {
    err.write(`evpn-proxy import-macs: ${(e as Error).message}\n`);
    return 2;
  }
  let r: ImportResult;
  try {
    r = addStaticMacs(text, o.service, o.vtep, macs);
  } catch (e) {
    err.write(`evpn-proxy import-macs: ${o.config}: ${(e as Error).message}\n`);
    return 2;
  }
  const checked = parseConfig(r.text, o.config);
  if (!checked.ok) {
    err.write(`evpn-proxy import-macs: the result would be invalid; ${o.config} is unchanged\n`);
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
