// What a process holds, read from /proc (Linux): resident memory, open descriptors, threads; and
// a sampler that reads it at an interval, for benchmarks and soak runs that watch a daemon's pid.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcSample {
  /** Date.now() when read. */
  at: number;
  /** VmRSS of /proc/<pid>/status, in bytes. */
  rssBytes: number;
  /** Entries of /proc/<pid>/fd. */
  fds: number;
  /** Threads: of /proc/<pid>/status. */
  threads: number;
}

/** One reading of `pid`; throws if the process is gone. */
export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  return {
    at: Date.now(),
    rssBytes: field("VmRSS") * 1024,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    threads: field("Threads"),
  };
}

/** Reads `pid` every `intervalMs` (and once at once) until stop(); a reading that fails ends it. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 1000,
  ) {
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
    this.timer.unref();
  }

  private take(): void {
    try {
      this.samples.push(procSample(this.pid));
    } catch {
      clearInterval(this.timer);
    }
  }

  /** Stops sampling; returns every sample, the last one taken now (if the process still runs). */
  stop(): ProcSample[] {
    clearInterval(this.timer);
    this.take();
    return this.samples;
  }

  /** The sample with the largest RSS so far. */
  peak(): ProcSample | undefined {
    return this.samples.reduce<ProcSample | undefined>((a, s) => (a && a.rssBytes >= s.rssBytes ? a : s), undefined);
  }
}

/**
 * The kernel's drop count ("drops", receive buffer full) of the IPv4 UDP socket bound to
 * `address`:`port`, from /proc/net/udp; undefined if there is none.
 */
export function udpSocketDrops(address: string, port: number): number | undefined {
  const hex = (Buffer.from(address.split(".").map(Number)).readUInt32LE(0) >>> 0)
    .toString(16)
    .toUpperCase()
    .padStart(8, "0");
  const local = `${hex}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) return Number(f[f.length - 1]);
  }
  return undefined;
}
