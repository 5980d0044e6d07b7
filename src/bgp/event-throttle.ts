// Log volume under attack: of the events of one key (a kind and a source address) within a
// window, the first is reported and the others only counted; when the window ends, one summary
// per key says how many were not reported. Pure: the time comes in as an argument, and the owner
// ends a window that nothing else ends (a timer at windowEnd, or its stop).

import type { SpeakerEvent } from "./events.js";

export interface ThrottleSummary<T> {
  /** The first event of the key in the window (the overflow key: the first one counted there). */
  sample: T;
  /** Events of the key within the window that were not reported. */
  count: number;
}

export class EventThrottle<T> {
  private readonly keys = new Map<string, ThrottleSummary<T>>();
  private end = -Infinity;

  /**
   * `maxKeys`: keys held per window; past that, new keys share the key `overflowKey`, whose first
   * event is reported and the rest counted.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys: number,
    private readonly overflowKey: string,
    private readonly onSummary: (s: ThrottleSummary<T>, key: string) => void,
  ) {}

  /** When the current window ends (-Infinity: none open). */
  get windowEnd(): number {
    return this.end;
  }

  /** Whether `event` of `key` is to be reported now; else it is counted. */
  pass(key: string, event: T, now: number): boolean {
    if (now >= this.end) {
      this.flush();
      this.end = now + this.intervalMs;
    }
    let k = key;
    if (!this.keys.has(k) && this.keys.size >= this.maxKeys) k = this.overflowKey;
    const s = this.keys.get(k);
    if (s === undefined) {
      this.keys.set(k, { sample: event, count: 0 });
      return true;
    }
    s.count++;
    return false;
  }

  /** Ends the window: a summary for each key with events counted. */
  flush(): void {
    const keys = [...this.keys];
    this.keys.clear();
    this.end = -Infinity;
    for (const [key, s] of keys) if (s.count > 0) this.onSummary(s, key);
  }
}

type Refusal = { reason: "unconfigured" | "refused"; source: string };

/**
 * Refused connections (unconfigured-connection, connection-refused): per source and window, the
 * first is reported and the others summed in one refusals-summed event when the window ends.
 */
export class RefusalThrottle {
  private readonly throttle: EventThrottle<Refusal>;

  constructor(windowMs: number, emit: (e: SpeakerEvent) => void, maxSources = 1024) {
    this.throttle = new EventThrottle<Refusal>(windowMs, maxSources, "*", (s, key) =>
      emit({
        kind: "refusals-summed",
        ...s.sample,
        source: key === "*" ? "*" : s.sample.source,
        count: s.count,
        windowMs,
      }),
    );
  }

  /** Whether `e` is to be reported now (every other kind is). */
  admit(e: SpeakerEvent, now: number): boolean {
    if (e.kind !== "unconfigured-connection" && e.kind !== "connection-refused") return true;
    const r: Refusal =
      e.kind === "connection-refused"
        ? { reason: "refused", source: e.peer }
        : { reason: "unconfigured", source: e.remote };
    return this.throttle.pass(`${r.reason} ${r.source}`, r, now);
  }

  get windowEnd(): number {
    return this.throttle.windowEnd;
  }

  flush(): void {
    this.throttle.flush();
  }
}
