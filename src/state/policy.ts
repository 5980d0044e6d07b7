// The state file's decisions, pure: when the writer saves, and what a start makes of the file it
// read (restored into the learning engine, or ignored with the reason).

import type { BindingRecord, RestoreDrop, RestoreReport } from "../dataplane/learning/persist.js";
import { decodeState, describeStateError } from "./codec.js";

/** The learning engine's change counters (persist.ts changeStamp). */
export interface Stamp {
  changes: number;
  refreshes: number;
}

export interface SaveTiming {
  /** Least time between two saves while bindings change (state-save-seconds). */
  intervalMs: number;
  /** Least time between two saves when bindings were only seen again (their last-seen times moved). */
  refreshMs: number;
}

/** Refresh-only saves at most every minute. */
const MAX_REFRESH_MS = 60_000;

/**
 * Saves of last-seen times alone wait a fifth of the ageing time (so that a restored binding has
 * at least four fifths of it left to be seen again), between the save interval and a minute: a
 * million MACs refreshed by their hosts are not rewritten every few seconds.
 */
export function saveTiming(saveSeconds: number, ageingSeconds: number): SaveTiming {
  const intervalMs = saveSeconds * 1000;
  return { intervalMs, refreshMs: Math.max(intervalMs, Math.min(MAX_REFRESH_MS, (ageingSeconds * 1000) / 5)) };
}

/** The last save: when it began, what it saved, how long it took (ms); before any, the start. */
export interface LastSave {
  at: number;
  stamp: Stamp;
  ms: number;
}

/**
 * Whether a save is due at `now`. A change is on disk within the save interval: the next save
 * begins that long after the previous one began, less the previous one's duration, so that it
 * ends about when the interval does (a change made just after a save began is in the next one).
 */
export function saveDue(now: number, current: Stamp, last: LastSave, t: SaveTiming): boolean {
  const since = now - last.at;
  if (current.changes !== last.stamp.changes) return since >= t.intervalMs - Math.min(last.ms, t.intervalMs / 2);
  return current.refreshes !== last.stamp.refreshes && since >= t.refreshMs;
}

/** What a restore needs of the learning engine. */
export interface Restorable {
  restore(records: Iterable<BindingRecord>, now: number): RestoreReport;
}

export type RestoreOutcome =
  | { type: "state-none"; file: string }
  | { type: "state-ignored"; file: string; reason: string }
  | {
      type: "state-restored";
      file: string;
      savedAt: number;
      /** Records in the file. */
      records: number;
      restored: number;
      restoredIps: number;
      dropped: Record<RestoreDrop, number>;
      droppedIps: number;
    };

/**
 * Restores the file read at start (`bytes`; null: there is none; a string: why it could not be
 * read) into `engine`. A file that does not decode is ignored whole, with the reason: the engine
 * starts empty and learns again.
 */
export function restoreFrom(
  file: string,
  bytes: Uint8Array | null | string,
  engine: Restorable,
  now: number,
): RestoreOutcome {
  if (bytes === null) return { type: "state-none", file };
  if (typeof bytes === "string") return { type: "state-ignored", file, reason: bytes };
  const r = decodeState(bytes);
  if (!r.ok) return { type: "state-ignored", file, reason: describeStateError(r.error) };
  const report = engine.restore(r.state.records(), now);
  return { type: "state-restored", file, savedAt: r.state.savedAt, records: r.state.count, ...report };
}
