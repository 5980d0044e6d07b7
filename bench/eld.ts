// The event-loop delay of the process it runs in, for the daemon wrappers of the benchmarks:
// perf_hooks.monitorEventLoopDelay with a 10 ms resolution (a timer every 10 ms; each sample is
// the time between two of its ticks, so a lateness of L ms reads as 10 + L).
import { monitorEventLoopDelay } from "node:perf_hooks";

export interface EventLoopDelay {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Starts the monitor; take() returns what it saw since the previous take() (or the start) and starts over. */
export function eventLoopDelay(): { take(): EventLoopDelay; reset(): void } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  return {
    take() {
      const eld = {
        samples: delay.count,
        p50Ms: ms(delay.percentile(50)),
        p99Ms: ms(delay.percentile(99)),
        p999Ms: ms(delay.percentile(99.9)),
        maxMs: ms(delay.max),
      };
      delay.reset();
      return eld;
    },
    reset: () => delay.reset(),
  };
}
