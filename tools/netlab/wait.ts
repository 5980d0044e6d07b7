// Polling with a deadline and a useful timeout error.
import { errText, sleep } from "./proc.js";

export interface WaitOptions {
  /** Default 20 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts, default 250 ms. */
  intervalMs?: number;
  /** Appended to the timeout error (e.g. daemon log tails). */
  diagnostics?: () => string;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly lastValue: unknown,
    readonly lastError: unknown,
    message: string,
  ) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

function preview(v: unknown): string {
  let s: string;
  try {
    s = typeof v === "string" ? v : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 2000 ? `${s.slice(0, 2000)}… (${s.length} chars)` : s;
}

/**
 * Polls `fn` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. Errors thrown by `fn` count as "not yet". On timeout throws a WaitTimeoutError naming
 * `what`, with the last value or error (and `diagnostics()` if given).
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 250;
  const start = Date.now();
  let lastValue: unknown;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
      lastValue = v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    const left = start + timeoutMs - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  let msg = `timed out after ${Date.now() - start} ms (${attempts} attempts) waiting for: ${what}\n`;
  msg +=
    lastError !== undefined
      ? `last error: ${lastError instanceof Error ? lastError.message : preview(lastError)}`
      : `last value: ${preview(lastValue)}`;
  if (opts.diagnostics) {
    try {
      msg += `\n${opts.diagnostics()}`;
    } catch (e) {
      msg += `\n(diagnostics failed: ${errText(e)})`;
    }
  }
  throw new WaitTimeoutError(what, lastValue, lastError, msg);
}
