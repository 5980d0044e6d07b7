/**
 * gobgpd in a lab namespace, driven through its CLI.
 *
 * Found on this machine (gobgp 3.10): gobgpd makes its first outgoing connection 5-10 s after
 * start (random, whatever connect-retry says; later retries max(connect-retry, 5)..2x that). For
 * a fast session let the other side connect (`passive-mode = true` in gobgpd's neighbor transport
 * config). After a session went down it stays idle for about 5 s before it accepts a new one.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "./lab.js";
import type { ExecOptions, LabProcess } from "./process.js";
import { waitFor } from "./wait.js";

// JSON shapes as printed by gobgp 3.10 (only the fields the tests use).

export interface GobgpNeighbor {
  conf: { neighbor_address: string; peer_asn?: number; [k: string]: unknown };
  state: {
    neighbor_address?: string;
    peer_asn?: number;
    /** 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established */
    session_state?: number;
    admin_state?: number;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** One path of `gobgp global rib -a evpn -j` (a map from the route's text form to its paths). */
export interface GobgpPath {
  nlri: { type?: number; value?: Record<string, unknown>; [k: string]: unknown };
  age: number;
  best: boolean;
  attrs: { type: number; [k: string]: unknown }[];
  stale?: boolean;
  "source-id"?: string;
  "neighbor-ip"?: string;
  [k: string]: unknown;
}

export interface GoBgpOptions {
  /** gobgpd -l, default "info". */
  logLevel?: string;
}

/** gobgpd in a namespace; its gRPC API listens on the namespace's 127.0.0.1:<port>. */
export class GoBgp {
  readonly configFile: string;
  private proc: LabProcess | undefined;

  /** @internal use Lab.gobgp() */
  constructor(
    private readonly lab: Lab,
    readonly ns: string,
    readonly port: number,
    public config: string,
    private readonly opts: GoBgpOptions,
  ) {
    this.configFile = join(lab.workDir, `gobgpd-${ns}-${port}.toml`);
  }

  /** The running gobgpd (its pid, log file). */
  get process(): LabProcess {
    if (!this.proc) throw new Error("gobgpd not started");
    return this.proc;
  }

  get logFile(): string {
    return this.process.logFile;
  }

  /** @internal */
  async start(): Promise<void> {
    writeFileSync(this.configFile, this.config);
    this.proc = this.lab.spawn(
      this.ns,
      "gobgpd",
      [
        "-f",
        this.configFile,
        "--api-hosts",
        `127.0.0.1:${this.port}`,
        "--pprof-disable",
        "--log-plain",
        "-l",
        this.opts.logLevel ?? "info",
      ],
      { name: `gobgpd-${this.ns}-${this.port}` },
    );
    const proc = this.proc;
    // Poll the listening socket with ss: a gobgp CLI call blocks about 1 s when nothing listens.
    await waitFor(
      `gobgpd API in ${this.ns} on port ${this.port}`,
      async () => {
        if (!proc.running) throw new Error(`gobgpd exited: ${JSON.stringify(proc.exitStatus)}\n${proc.logTail()}`);
        const r = await this.lab.exec(this.ns, "ss", ["-Hltn", `sport = :${this.port}`]);
        return r.stdout.trim() !== "";
      },
      { timeoutMs: 15_000, intervalMs: 50, diagnostics: () => proc.logTail() },
    );
    await this.cli(["global"]);
  }

  /** Runs `gobgp -p <port> <args>` in the namespace and returns stdout. */
  async cli(args: string[], opts: ExecOptions = {}): Promise<string> {
    return (await this.lab.exec(this.ns, "gobgp", ["-p", String(this.port), ...args], opts)).stdout;
  }

  /** Runs `gobgp -p <port> -j <args>` and parses the output. */
  async cliJson<T>(args: string[]): Promise<T> {
    const out = await this.cli(["-j", ...args]);
    try {
      return JSON.parse(out) as T;
    } catch {
      throw new Error(`gobgp -j ${args.join(" ")} did not print JSON: ${out.slice(0, 500)}`);
    }
  }

  /** `gobgp neighbor -j`. */
  async neighbors(): Promise<GobgpNeighbor[]> {
    return (await this.cliJson<GobgpNeighbor[] | null>(["neighbor"])) ?? [];
  }

  /** True when the session with `addr` is Established. */
  async established(addr: string): Promise<boolean> {
    const n = (await this.neighbors()).find((x) => x.conf.neighbor_address === addr);
    return n?.state.session_state === 6;
  }

  /** `gobgp global rib -a <family> -j`: route text → paths ({} when empty). */
  async rib(family = "evpn"): Promise<Record<string, GobgpPath[]>> {
    return (await this.cliJson<Record<string, GobgpPath[]> | null>(["global", "rib", "-a", family])) ?? {};
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }

  /** Ends gobgpd without a word to its peers (a crash): SIGKILL. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p?.running) return;
    process.kill(p.pid, "SIGKILL");
    await p.exited;
  }

  /** Stops gobgpd and starts it again (same port), with a new configuration if given. */
  async restart(config?: string): Promise<void> {
    await this.stop();
    if (config !== undefined) this.config = config;
    await this.start();
  }

  logTail(lines = 40): string {
    return this.proc?.logTail(lines) ?? "";
  }
}
