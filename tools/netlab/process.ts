// Commands and long-running processes started by a lab: options, results, errors, LabProcess.
import { readFileSync } from "node:fs";
import { isAlive, sleep, tailFile, terminate } from "./proc.js";

export interface ExecOptions {
  /** Kill the command after this long (SIGTERM) and fail; default 20 000 ms. */
  timeoutMs?: number;
  /** Written to the command's stdin. */
  input?: string;
  /** Throw a LabCommandError on a non-zero exit (default true). */
  check?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; -1 when killed by a signal (timeout) or not started. */
  code: number;
}

export class LabCommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: ExecResult,
    detail: string,
  ) {
    super(`command failed (${detail}): ${command}\n${(result.stderr || result.stdout).trim().slice(0, 4000)}`);
    this.name = "LabCommandError";
  }
}

export function quote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running process started by `Lab.spawn`; stdout and stderr go to `logFile`. */
export class LabProcess {
  /** Resolves when the process has ended (also when it could not be started). */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;

  constructor(
    readonly name: string,
    readonly ns: string | null,
    readonly pid: number,
    readonly logFile: string,
    exited: Promise<ProcessExit>,
  ) {
    this.exited = exited.then((e) => (this.exitInfo = e));
  }

  /** True until the process has ended. */
  get running(): boolean {
    return this.exitInfo === undefined && isAlive(this.pid);
  }

  /** Exit status once ended, else undefined. */
  get exitStatus(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** TERM (to its process group), then KILL after `graceMs`. Resolves when it has ended. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exitInfo !== undefined) return;
    const left = await terminate([{ pid: this.pid, group: true }], graceMs);
    if (left.length > 0) throw new Error(`${this.name} (pid ${this.pid}) survived SIGKILL`);
    await Promise.race([this.exited, sleep(2000)]);
  }

  /** The whole log. */
  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  logTail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }
}

export interface SpawnOptions {
  /** Name used for the log file and messages (default: the command's base name). */
  name?: string;
  env?: Record<string, string>;
}
