// Saves the learned table in the background: at most every state-save-seconds while it changes
// (policy.ts), never two writes at once, and once more at a clean stop. The records are encoded
// in slices of a few milliseconds, each followed by an asynchronous write of its bytes, so that
// the event loop (BGP keepalives, learning) never waits long for a save.

import { performance } from "node:perf_hooks";
import type { RecordCursor } from "../../dataplane/learning/persist.js";
import { StateEncoder } from "../codec.js";
import { type LastSave, saveDue, type SaveTiming, type Stamp } from "../policy.js";
import type { StateStore } from "./store.js";

export type SaveEvent =
  | {
      type: "state-saved";
      file: string;
      records: number;
      /** Records the layout could not hold (see StateEncoder.skipped). */
      skipped: number;
      bytes: number;
      ms: number;
      /** state-save-seconds in ms: a save that takes longer delays the next one. */
      intervalMs: number;
      /** The longest the encoding kept the event loop, ms. */
      longestSliceMs: number;
    }
  | { type: "state-save-failed"; file: string; message: string };

/** What is saved: the learning engine's records and change counters. */
export interface SaveSource {
  records(): RecordCursor;
  stamp(): Stamp;
}

export interface SaverOptions {
  store: StateStore;
  /** The learning engine now; null while nothing learns (nothing is saved). */
  source: () => SaveSource | null;
  timing: SaveTiming;
  /** Wall clock, ms since the epoch (the file's saved-at time and the save interval). */
  clock: () => number;
  onEvent: (e: SaveEvent) => void;
  /** Encoding time per slice (default 3 ms) before the bytes go to the file and the loop is free again. */
  sliceMs?: number;
}

/** Records visited between two looks at the clock. */
const BATCH = 256;
/** How often the policy is asked whether a save is due (a few changes' stamps: cheap). */
const CHECK_MS = 100;

export class StateSaver {
  private timing: SaveTiming;
  private last: LastSave;
  private inflight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: SaverOptions) {
    this.timing = o.timing;
    this.last = { at: o.clock(), stamp: { changes: 0, refreshes: 0 }, ms: 0 };
  }

  /** Checks every 100 ms whether a save is due. */
  start(): void {
    this.timer ??= setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  retime(t: SaveTiming): void {
    this.timing = t;
  }

  /** Stops the checks, waits for a save in flight, then saves what changed since (a clean stop). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight;
    const src = this.o.source();
    if (src === null) return;
    const s = src.stamp();
    if (s.changes !== this.last.stamp.changes || s.refreshes !== this.last.stamp.refreshes) await this.save();
  }

  /** Saves now, or waits for the save in flight. */
  save(): Promise<void> {
    if (this.inflight) return this.inflight;
    const src = this.o.source();
    if (src === null) return Promise.resolve();
    this.inflight = this.write(src).finally(() => (this.inflight = null));
    return this.inflight;
  }

  private check(): void {
    if (this.inflight) return;
    const src = this.o.source();
    if (src !== null && saveDue(this.o.clock(), src.stamp(), this.last, this.timing)) void this.save();
  }

  private async write(src: SaveSource): Promise<void> {
    const { store, onEvent } = this.o;
    const slice = this.o.sliceMs ?? 3;
    const t0 = performance.now();
    const at = this.o.clock();
    const stamp = src.stamp();
    let longest = 0;
    let file;
    try {
      file = await store.create();
      let s = performance.now();
      const enc = new StateEncoder(at);
      const next = src.records(); // a snapshot of the ageing queue: a slice of its own
      const add = enc.add.bind(enc);
      longest = performance.now() - s;
      await file.append(enc.take());
      s = performance.now();
      for (let more = true; more;) {
        while (more && performance.now() - s < slice) more = next(BATCH, add);
        const chunk = enc.take();
        longest = Math.max(longest, performance.now() - s);
        await file.append(chunk);
        s = performance.now();
      }
      const tail = enc.finish();
      longest = Math.max(longest, performance.now() - s);
      await file.append(tail);
      await file.commit();
      const ms = performance.now() - t0;
      this.last = { at, stamp, ms };
      onEvent({
        type: "state-saved",
        file: store.file,
        records: enc.count,
        skipped: enc.skipped,
        bytes: file.bytes,
        ms,
        intervalMs: this.timing.intervalMs,
        longestSliceMs: longest,
      });
    } catch (e) {
      await file?.abort();
      // The next check tries again after the interval.
      this.last = { ...this.last, at };
      onEvent({ type: "state-save-failed", file: store.file, message: e instanceof Error ? e.message : String(e) });
    }
  }
}
