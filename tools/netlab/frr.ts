/**
 * FRR (zebra + bgpd by default) in a lab namespace, with its own pathspace (`-N <ns>`).
 *
 * Found on this machine (Debian 12, FRR 8.4):
 * - `zebra -d` returns before the daemon has read its configuration; `Frr.start` therefore waits
 *   for one vtysh round trip per daemon. Each daemon reads the whole frr.conf and logs "No such
 *   command on config line N" for the other daemons' lines; a line no daemon accepted is a real
 *   error and makes `lab.frr()` fail (see `Frr.configErrors`). vtysh exits 1 on
 *   "% Unknown command" (message on stdout).
 * - Timings with `frr defaults datacenter`, `timers bgp 3 9`, `timers connect 2`: Established
 *   about 1 s after start, routes about 1 s later.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FrrBgpSummary,
  type FrrEvpnMac,
  type FrrEvpnRoute,
  type FrrEvpnRouteTable,
  type FrrEvpnVni,
  flattenFrrEvpn,
} from "./frr-json.js";
import type { Lab } from "./lab.js";
import type { ExecOptions } from "./process.js";
import { isAlive, tailFile, terminate } from "./proc.js";
import { FRR_BIN, FRR_ETC, FRR_RUN } from "./system.js";
import { waitFor } from "./wait.js";

export interface FrrOptions {
  /** Daemons to start, in order (zebra first). Default ["zebra", "bgpd"]. */
  daemons?: string[];
  /** Log level for --log-level, default "informational". */
  logLevel?: string;
  /** Do not fail when a configuration line was rejected by every daemon (see configErrors()). */
  allowConfigErrors?: boolean;
}

/** zebra + bgpd (by default) of one namespace, with their own pathspace (`-N <ns>`). */
export class Frr {
  readonly etcDir: string;
  readonly runDir: string;
  /** Log file of all the daemons of this instance (in the lab's work directory). */
  readonly logFile: string;
  readonly daemons: string[];
  private readonly logLevel: string;
  private readonly strict: boolean;
  private logOffset = 0;

  /** @internal use Lab.frr() */
  constructor(
    private readonly lab: Lab,
    readonly ns: string,
    public config: string,
    opts: FrrOptions,
  ) {
    this.etcDir = join(FRR_ETC, ns);
    this.runDir = join(FRR_RUN, ns);
    this.logFile = join(lab.workDir, `frr-${ns}`, "frr.log");
    this.daemons = opts.daemons ?? ["zebra", "bgpd"];
    this.logLevel = opts.logLevel ?? "informational";
    this.strict = opts.allowConfigErrors !== true;
  }

  /** @internal */
  async start(): Promise<void> {
    const logDir = join(this.lab.workDir, `frr-${this.ns}`);
    for (const d of [this.etcDir, this.runDir, logDir]) mkdirSync(d, { recursive: true });
    writeFileSync(join(this.etcDir, "frr.conf"), this.config.endsWith("\n") ? this.config : `${this.config}\n`);
    copyFileSync(join(FRR_ETC, "daemons"), join(this.etcDir, "daemons"));
    writeFileSync(join(this.etcDir, "vtysh.conf"), "");
    await this.lab.exec(null, "chown", ["-R", "frr:frr", this.etcDir, this.runDir, logDir]);
    this.logOffset = existsSync(this.logFile) ? readFileSync(this.logFile).length : 0;
    for (const d of this.daemons) {
      const vty = join(this.runDir, `${d}.vty`);
      rmSync(vty, { force: true });
      rmSync(join(this.runDir, `${d}.pid`), { force: true });
      // -d: the parent returns once the daemon has read its configuration
      await this.lab.exec(this.ns, join(FRR_BIN, d), [
        "-d",
        "-N",
        this.ns,
        "-P",
        "0",
        "-f",
        join(this.etcDir, "frr.conf"),
        "-i",
        join(this.runDir, `${d}.pid`),
        "--log",
        `file:${this.logFile}`,
        "--log-level",
        this.logLevel,
      ]);
      await waitFor(`${d} vty socket in ${this.ns}`, () => existsSync(vty), {
        timeoutMs: 10_000,
        intervalMs: 50,
        diagnostics: () => this.logTail(),
      });
    }
    // The vty socket exists before the configuration has been read (that happens in the daemon's
    // first event loop turn): one vtysh round trip per daemon makes sure it has been.
    for (const d of this.daemons) {
      await waitFor(`${d} in ${this.ns} answering vtysh`, () => this.vtysh("show version", { daemon: d }), {
        timeoutMs: 10_000,
        intervalMs: 50,
        diagnostics: () => this.logTail(),
      });
    }
    const errors = this.configErrors();
    if (this.strict && errors.length > 0) {
      throw new Error(`FRR in ${this.ns} rejected configuration lines:\n${errors.join("\n")}`);
    }
  }

  /**
   * Configuration lines of the last start that no daemon accepted. Every daemon reads the whole
   * frr.conf and logs "No such command on config line N" for the lines of the others (zebra for
   * `router bgp`, bgpd for `interface` lines) — and also for lines with invalid arguments, which
   * no daemon accepts. So a line is an error when all daemons rejected it.
   */
  configErrors(): string[] {
    let text = "";
    try {
      text = readFileSync(this.logFile).subarray(this.logOffset).toString("utf8");
    } catch {
      return [];
    }
    const rejected = new Map<number, { who: Set<string>; line: string }>();
    for (const m of text.matchAll(/ (\w+): \[[^\]]*\]\[EC \d+\] No such command on config line (\d+): ?(.*)$/gm)) {
      const n = Number(m[2]);
      const e = rejected.get(n) ?? { who: new Set<string>(), line: m[3]! };
      e.who.add(m[1]!);
      rejected.set(n, e);
    }
    return [...rejected.entries()]
      .filter(([, e]) => e.who.size >= this.daemons.length)
      .sort(([a], [b]) => a - b)
      .map(([n, e]) => `line ${n}: ${e.line.trim()}`);
  }

  /** Pids of the running daemons (from their pid files). */
  pids(): number[] {
    const pids: number[] = [];
    for (const d of this.daemons) {
      try {
        const pid = Number(readFileSync(join(this.runDir, `${d}.pid`), "utf8").trim());
        if (isAlive(pid)) pids.push(pid);
      } catch {
        // not running
      }
    }
    return pids;
  }

  /**
   * Runs vtysh commands (`-c` each, in order; only with `daemon`, `-d <daemon>`) and returns the
   * output. vtysh exits with 1 on "% Unknown command" (then this throws, unless `check: false`).
   */
  async vtysh(cmds: string | string[], opts: ExecOptions & { daemon?: string } = {}): Promise<string> {
    const list = typeof cmds === "string" ? [cmds] : cmds;
    const d = opts.daemon !== undefined ? ["-d", opts.daemon] : [];
    const r = await this.lab.exec(null, "vtysh", ["-N", this.ns, ...d, ...list.flatMap((c) => ["-c", c])], opts);
    return r.stdout;
  }

  /**
   * Runs one `show ... json` command and parses the output. Some commands print nothing at all
   * for an empty table (e.g. `show evpn arp-cache vni 10 json`): that is returned as `{}`.
   */
  async vtyshJson<T>(cmd: string): Promise<T> {
    const out = await this.vtysh(cmd);
    if (out.trim() === "") return {} as T;
    try {
      return JSON.parse(out) as T;
    } catch {
      throw new Error(`vtysh -N ${this.ns} -c '${cmd}' did not print JSON: ${out.slice(0, 500)}`);
    }
  }

  /**
   * Applies configuration lines under `configure terminal` (e.g. ["router bgp 65000",
   * "neighbor 192.0.2.9 shutdown"]). Throws when vtysh reports an error for any line.
   */
  async configure(lines: string[]): Promise<void> {
    const out = await this.vtysh(["configure terminal", ...lines]);
    if (/^%/m.test(out)) throw new Error(`vtysh -N ${this.ns} configure: ${out.trim()}`);
  }

  /** `show bgp <family> summary json`; family e.g. "l2vpn evpn", "ipv4 unicast". */
  async bgpSummary(family = "l2vpn evpn"): Promise<FrrBgpSummary> {
    return this.vtyshJson<FrrBgpSummary>(`show bgp ${family} summary json`);
  }

  /** A peer's state in `show bgp <family> summary json`, undefined if unknown. */
  async peerState(peer: string, family = "l2vpn evpn"): Promise<string | undefined> {
    return (await this.bgpSummary(family)).peers?.[peer]?.state;
  }

  /** `show bgp l2vpn evpn route json`, flattened to one entry per (RD, prefix). */
  async evpnRoutes(): Promise<FrrEvpnRoute[]> {
    const table = await this.vtyshJson<FrrEvpnRouteTable>("show bgp l2vpn evpn route json");
    return flattenFrrEvpn(table);
  }

  /** Remote VTEPs of a VNI as zebra knows them (from type 3 routes), [] when none. */
  async remoteVteps(vni: number): Promise<string[]> {
    const v = await this.vtyshJson<FrrEvpnVni>(`show evpn vni ${vni} json`);
    return Array.isArray(v.numRemoteVteps) ? v.numRemoteVteps : [];
  }

  /** `show evpn mac vni <vni> json` → MAC → entry ({} when none). */
  async evpnMacs(vni: number): Promise<Record<string, FrrEvpnMac>> {
    const r = await this.vtyshJson<{ macs?: Record<string, FrrEvpnMac> }>(`show evpn mac vni ${vni} json`);
    return r.macs ?? {};
  }

  async stop(): Promise<void> {
    const left = await terminate(
      this.pids()
        .reverse()
        .map((pid) => ({ pid })),
      5000,
    );
    if (left.length > 0) throw new Error(`FRR in ${this.ns}: ${left.join(" ")} survived SIGKILL`);
  }

  /** Stops the daemons and starts them again, with a new configuration if given. */
  async restart(config?: string): Promise<void> {
    await this.stop();
    if (config !== undefined) this.config = config;
    await this.start();
  }

  logTail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }
}
