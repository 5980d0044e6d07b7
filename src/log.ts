// Structured logging (pino). JSON lines by default; the CLI picks readable output on a terminal.
import { pino } from "pino";

export type Logger = pino.Logger;

export function createLogger(
  opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const base = { level: opts.level ?? "info", ...(opts.name ? { name: opts.name } : {}) };
  return opts.destination ? pino(base, opts.destination as pino.DestinationStream) : pino(base);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
