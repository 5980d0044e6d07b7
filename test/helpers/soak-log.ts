// The soak's reading of the daemon's log (pino JSON lines on stdout and stderr): every line at
// warn (40) or above is either explained by the churn the soak made — and counted under that
// explanation — or unexplained, kept in full. Anything that is not a JSON log line (a Node
// warning, a stack trace) is unexplained too.

export interface LogVerdict {
  /** Lines of each level name read. */
  levels: Record<string, number>;
  /** warn/error lines the churn explains, by explanation. */
  explained: Record<string, number>;
  /** warn/error lines (and non-JSON lines) nothing explains, as written. */
  unexplained: string[];
  /** info lines the soak counts: applied reloads. */
  reloads: number;
}

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

export interface LogContext {
  /** The scripted peer's address (its flaps explain session-down and its Cease). */
  peer: string;
  /** MACs bounced between VTEPs on purpose (their duplicate detection is expected). */
  bouncing: ReadonlySet<string>;
}

/** The explanation of one warn/error record, or null. */
function explain(r: Record<string, unknown>, c: LogContext): string | null {
  const msg = String(r["msg"] ?? "");
  if (msg === `session with ${c.peer} down`) return `session down (the peer's flap)`;
  if (msg === `NOTIFICATION received from ${c.peer}: Cease / Administrative Reset`)
    return "Cease received (the peer's clean flap)";
  // The peer connects again every 250 ms after a flap while the daemon holds the session idle
  // (damping, RFC 4271 §8.1.1); refusals are summed into one line per window.
  if (r["reason"] === "refused" && r["source"] === c.peer && / more connection\(s\) from .* refused within /.test(msg))
    return "connections refused during the idle hold (the peer reconnecting after a flap)";
  if (msg === "learning: duplicate" && typeof r["mac"] === "string" && c.bouncing.has(r["mac"]))
    return "duplicate MAC (bounced between VTEPs on purpose, RFC 7432 §15.1)";
  return null;
}

export class LogReader {
  readonly verdict: LogVerdict = { levels: {}, explained: {}, unexplained: [], reloads: 0 };
  private rest = "";

  constructor(private readonly ctx: LogContext) {}

  /** Feeds output as it arrives (lines may be split across chunks). */
  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const l of lines) this.line(l);
  }

  /** The last line, if it had no newline. */
  end(): LogVerdict {
    if (this.rest !== "") this.line(this.rest);
    this.rest = "";
    return this.verdict;
  }

  private line(l: string): void {
    if (l.trim() === "") return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(l) as Record<string, unknown>;
    } catch {
      this.verdict.unexplained.push(l);
      return;
    }
    const level = typeof r["level"] === "number" ? r["level"] : 0;
    const name = LEVELS[level] ?? String(level);
    this.verdict.levels[name] = (this.verdict.levels[name] ?? 0) + 1;
    if (r["msg"] === "configuration reloaded") this.verdict.reloads++;
    if (level < 40) return;
    const why = explain(r, this.ctx);
    if (why === null) this.verdict.unexplained.push(l);
    else this.verdict.explained[why] = (this.verdict.explained[why] ?? 0) + 1;
  }
}
