// Small formatting helpers of the benchmarks' reports.
import { loadavg } from "node:os";

/** The p-th percentile (nearest rank) of xs. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Bytes as MiB with one decimal. */
export const mib = (b: number): string => (b / 2 ** 20).toFixed(1);

/** The machine's load average (1, 5, 15 minutes). */
export const loadAverage = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
