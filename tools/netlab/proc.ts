// Processes: synchronous commands, liveness from /proc, the EVPN_LAB marker, TERM-then-KILL.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeSync } from "node:fs";

/** Environment variable that marks every process a lab starts; its value is the lab's prefix. */
export const LAB_ENV = "EVPN_LAB";

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Blocks the thread for `ms` milliseconds (teardown from `exit`/signal handlers must be sync). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Writes to stderr synchronously and never throws (EPIPE once the test runner has gone, ...). */
export function say(msg: string): void {
  try {
    writeSync(2, msg.endsWith("\n") ? msg : `${msg}\n`);
  } catch {
    // nowhere left to write to
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The last `lines` lines of a text file ("" when it does not exist). */
export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, "utf8");
    const all = text.split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export interface SyncResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function runSync(cmd: string, args: string[], timeoutMs = 10_000): SyncResult {
  try {
    const stdout = execFileSync(cmd, args, {
      encoding: "utf8",
      timeout: timeoutMs,
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 16 << 20,
    });
    return { ok: true, stdout, stderr: "" };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: err.stdout ?? "", stderr: err.stderr?.trim() || err.message };
  }
}

/** Fields of /proc/<pid>/stat after the command name: [0] is the state, [19] the start time. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** True if the process exists and is not a zombie (unreaped children count as dead). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== "Z" && state !== "X";
}

export function procStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Pids of all processes whose environment has `EVPN_LAB=<prefix>` (never our own). */
export function markedPids(prefix: string): number[] {
  const needle = `\0${LAB_ENV}=${prefix}\0`;
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const env = `\0${readFileSync(`/proc/${entry}/environ`, "latin1")}`;
      if (env.includes(needle) && isAlive(pid)) pids.push(pid);
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

export interface KillTarget {
  pid: number;
  /** Also signal the process group `pid` leads (processes spawned detached by the lab). */
  group?: boolean;
}

function signalTarget(t: KillTarget, sig: NodeJS.Signals): void {
  if (t.group) {
    try {
      process.kill(-t.pid, sig);
    } catch {
      // no such group (any more)
    }
  }
  try {
    process.kill(t.pid, sig);
  } catch {
    // gone already
  }
}

/** TERM, wait up to `graceMs`, then KILL and wait up to 2 s. Returns the pids still alive. */
export function terminateSync(targets: KillTarget[], graceMs: number): number[] {
  const live = targets.filter((t) => isAlive(t.pid));
  if (live.length === 0) return [];
  for (const t of live) signalTarget(t, "SIGTERM");
  const waitGone = (ms: number): KillTarget[] => {
    const deadline = Date.now() + ms;
    let left = live.filter((t) => isAlive(t.pid));
    while (left.length > 0 && Date.now() < deadline) {
      sleepSync(25);
      left = left.filter((t) => isAlive(t.pid));
    }
    return left;
  };
  const stubborn = waitGone(graceMs);
  for (const t of stubborn) signalTarget(t, "SIGKILL");
  // a group whose leader has died may still have members: KILL them in any case
  for (const t of live) if (t.group) signalTarget({ pid: t.pid, group: true }, "SIGKILL");
  return waitGone(2000).map((t) => t.pid);
}

/** Async twin of terminateSync (does not block the event loop). */
export async function terminate(targets: KillTarget[], graceMs: number): Promise<number[]> {
  const live = targets.filter((t) => isAlive(t.pid));
  if (live.length === 0) return [];
  for (const t of live) signalTarget(t, "SIGTERM");
  const waitGone = async (ms: number): Promise<KillTarget[]> => {
    const deadline = Date.now() + ms;
    let left = live.filter((t) => isAlive(t.pid));
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(25);
      left = left.filter((t) => isAlive(t.pid));
    }
    return left;
  };
  const stubborn = await waitGone(graceMs);
  for (const t of stubborn) signalTarget(t, "SIGKILL");
  for (const t of live) if (t.group) signalTarget({ pid: t.pid, group: true }, "SIGKILL");
  return (await waitGone(2000)).map((t) => t.pid);
}
