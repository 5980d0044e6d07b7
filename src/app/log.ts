// Structured logging (pino). JSON lines by default; the CLI picks readable output on a terminal.
import { pino } from "pino";
import pinoPretty from "pino-pretty";

export type Logger = pino.Logger;

export function createLogger(
  opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const base = { level: opts.level ?? "info", ...(opts.name ? { name: opts.name } : {}) };
  return opts.destination ? pino(base, opts.destination as pino.DestinationStream) : pino(base);
}

/**
 * The daemon's logger on stdout: JSON lines, or readable lines when stdout is a terminal.
 */
export function daemonLogger(level = "info"): Logger {
  if (!process.stdout.isTTY) return pino({ level });
  return pino(
    { level },
    pinoPretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true }),
  );
}
