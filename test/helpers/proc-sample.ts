// A process's footprint read from /proc (Linux): resident size, open descriptors, CPU time; the
// machine's load; and the least-squares line through samples (a slope is how a soak reports growth).
import { readdirSync, readFileSync } from "node:fs";

export interface ProcSample {
  /** VmRSS, bytes. */
  rss: number;
  /** Entries of /proc/PID/fd. */
  fds: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux architecture Node supports

export function procSample(pid: number): ProcSample {
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  // /proc/PID/stat: the command name in parentheses may hold spaces; fields 14 and 15 (utime,
  // stime) count from after it.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rss: rss ? Number(rss[1]) * 1024 : NaN,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
  };
}

/** The 1-minute load average of the machine. */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/** The least-squares line y = intercept + slope·x through the points (NaN with fewer than 2). */
export function leastSquares(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const n = xs.length;
  if (n < 2) return { slope: NaN, intercept: NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
