// Reopening a packet source's socket after it failed (an interface that went down or away, a
// socket error): reported once when it goes down and once when it is back, attempts in between
// with a delay that doubles from `minMs` up to `maxMs`.

/** A source's socket went down, or is open again. */
export type SourceStateEvent =
  | {
      state: "down";
      /** errno name: ENETDOWN (interface down or deleted), ENODEV (no such interface), … */
      code: string;
      reason: string;
      /** Times the source went down since it started. */
      downs: number;
      retryInMs: number;
    }
  | { state: "up"; downMs: number; attempts: number };

export interface ReopenCounters {
  /** Times the socket went down. */
  downs: number;
  /** Attempts to open it again that failed. */
  retries: number;
}

export class Reopener {
  readonly counters: ReopenCounters = { downs: 0, retries: 0 };
  private timer: NodeJS.Timeout | undefined;
  private delay = 0;
  private since = 0;
  private attempts = 0;
  /** Bumped by down() and cancel(): an attempt of an earlier generation reports nothing. */
  private generation = 0;

  /** `open` throws (or rejects) while the socket cannot be opened yet. */
  constructor(
    private readonly open: () => void | Promise<void>,
    private readonly report: (e: SourceStateEvent) => void,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The socket is closed and cannot read: report, then try again until `open` succeeds. */
  down(code: string, reason: string): void {
    this.cancel();
    this.counters.downs++;
    this.since = Date.now();
    this.attempts = 0;
    this.delay = this.minMs;
    this.report({ state: "down", code, reason, downs: this.counters.downs, retryInMs: this.delay });
    this.schedule(this.generation);
  }

  /** No more attempts (the source stops). */
  cancel(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(generation: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.attempts++;
      const failed = (): void => {
        if (generation !== this.generation) return;
        this.counters.retries++;
        this.delay = Math.min(Math.max(this.delay * 2, 1), this.maxMs);
        this.schedule(generation);
      };
      const opened = (): void => {
        if (generation !== this.generation) return;
        this.report({ state: "up", downMs: Date.now() - this.since, attempts: this.attempts });
      };
      let r: void | Promise<void>;
      try {
        r = this.open();
      } catch {
        return failed();
      }
      if (r instanceof Promise) r.then(opened, failed);
      else opened();
    }, this.delay);
  }
}
