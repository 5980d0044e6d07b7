// `evpn-proxy learn --pcap FILE --config FILE --dry-run`: replays a capture through the learning
// engine built from the configuration, as the daemon would learn from the same traffic, and
// prints the learned table and the counters. Dry run only: no BGP, so the fabric is empty (no
// EVPN VTEPs, no remote MACs) and every learned MAC shows as announced; a configured MAC with
// learned addresses (announced sticky) as configured.
import { readFileSync } from "node:fs";
import { formatConfigError, loadConfig } from "../config/load.js";
import type { ProxyConfig } from "../config/model.js";
import {
  type FabricView,
  type LearnCounters,
  type LearnedBinding,
  type LearnEventKind,
  Learner,
} from "../dataplane/learning/learner.js";
import { type ReplayResult, replayPcap } from "../wire/pcap.js";

export interface LearnCommandOptions {
  pcap: string;
  config: string;
  dryRun: boolean;
  json: boolean;
}

/** What a replay produced: the table at the end of the capture and every counter. */
export interface LearnReport {
  replay: ReplayResult;
  table: LearnedBinding[];
  learner: LearnCounters;
  /** Events emitted (after throttling; the learner counters count every occurrence) and discovered VTEPs, by kind. */
  events: Partial<Record<LearnEventKind | "discover-vtep", number>>;
}

/** The fabric of a dry run: no BGP, nothing known. */
export const EMPTY_FABRIC: FabricView = {
  isEvpnVtep: () => false,
  remoteMac: () => undefined,
};

/**
 * Replays `bytes` into a Learner built from `config` the way the daemon builds it; `tick` runs
 * whenever the capture's clock passes the learner's next deadline, so ageing happens as it would.
 */
export function learnFromPcap(bytes: Uint8Array, config: ProxyConfig, fabric: FabricView = EMPTY_FABRIC): LearnReport {
  const learner = new Learner({ ...config.learning, services: config.services }, fabric);
  const events: LearnReport["events"] = {};
  const note = (actions: ReturnType<Learner["frame"]>) => {
    for (const a of actions)
      if (a.type === "event") events[a.event] = (events[a.event] ?? 0) + 1;
      else if (a.type === "discover-vtep") events["discover-vtep"] = (events["discover-vtep"] ?? 0) + 1;
  };
  const replay = replayPcap(
    bytes,
    (f, now) => {
      const due = learner.nextDeadline();
      if (due !== undefined && due <= now) note(learner.tick(now));
      note(learner.frame(f, now));
    },
    { anyFrame: config.learning.anyFrame },
  );
  return { replay, table: learner.table(), learner: { ...learner.counters() }, events };
}

function pad(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join("  ")).join("\n") + "\n";
}

function list(m: Record<string, number | undefined>): string {
  const parts = Object.entries(m)
    .filter((e): e is [string, number] => e[1] !== undefined && e[1] > 0)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

/** The table (sorted by VNI, then MAC) and the counters as text. */
export function formatReport(r: LearnReport): string {
  const rows = [["SERVICE", "VNI", "VTEP", "MAC", "IPS", "SEQ", "STATE"]];
  for (const b of r.table)
    rows.push([
      b.service,
      String(b.vni),
      b.vtep,
      b.mac,
      b.ips.length === 0 ? "-" : b.ips.join(","),
      String(b.seq),
      b.configured ? "configured" : b.duplicate ? "duplicate" : b.announced ? "announced" : "withdrawn",
    ]);
  const c = r.replay.counters;
  const l = r.learner;
  const skipped = Object.values(c.skipped).reduce((n, v) => n + (v ?? 0), 0);
  return (
    (r.table.length === 0 ? "no MACs learned\n" : pad(rows)) +
    `records: ${c.records} (${c.snapped} cut by the snap length), frames: ${c.frames}, skipped: ${skipped}\n` +
    `skipped by reason: ${list(c.skipped)}\n` +
    `learned: ${l.learned} MACs, ${l.learnedIps} IPs; moves: ${l.moves}, IP moves: ${l.ipMoves}, ` +
    `refreshed: ${l.refreshed}, aged: ${l.aged} MACs, ${l.agedIps} IPs\n` +
    `not learned: unknown VNI ${l.unknownVni}, unknown VTEP ${l.unknownVtep}, static MAC ${l.staticMac}, ` +
    `sticky ${l.stickyBlocked}, no binding ${l.noBinding}, frozen ${l.frozenDropped}, ` +
    `limits ${l.limitVtep + l.limitVni + l.limitRate + l.limitIps}\n` +
    `events: ${list(r.events)}\n`
  );
}

/** One JSON object: the table (lastSeen in capture time, ms) and every counter. */
export function reportJson(file: string, r: LearnReport): unknown {
  return {
    file,
    ...(r.replay.header ? { linkType: r.replay.header.linkType } : {}),
    ...(r.replay.error ? { error: r.replay.error } : {}),
    table: r.table,
    replay: r.replay.counters,
    learner: r.learner,
    events: r.events,
  };
}

/**
 * Exit status: 0 after a complete replay; 1 when the capture cannot be read or is malformed (what
 * was read before a truncation is still replayed and printed); 2 for a configuration error or
 * without --dry-run.
 */
export function learnCommand(
  opts: LearnCommandOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  if (!opts.dryRun) {
    err.write("evpn-proxy learn: only dry runs exist yet: add --dry-run (nothing is announced)\n");
    return 2;
  }
  const loaded = loadConfig(opts.config);
  if (!loaded.ok) {
    for (const e of loaded.errors) err.write(`${formatConfigError(e)}\n`);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(opts.pcap);
  } catch (e) {
    err.write(`${opts.pcap}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const report = learnFromPcap(bytes, loaded.config);
  const error = report.replay.error;
  if (error !== undefined && report.replay.header === null) {
    err.write(`${opts.pcap}: ${error.message}\n`);
    return 1;
  }
  if (opts.json) out.write(`${JSON.stringify(reportJson(opts.pcap, report))}\n`);
  else out.write(formatReport(report));
  if (error !== undefined) {
    err.write(
      `${opts.pcap}: ${error.message}; the ${report.replay.counters.records} records before it were replayed\n`,
    );
    return 1;
  }
  return 0;
}
