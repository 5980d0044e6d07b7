/**
 * Network-namespace lab for interop and end-to-end tests: BGP sessions between our daemon and
 * FRR / gobgpd, FRR EVPN VTEPs, Linux kernel VXLAN static VTEPs, hosts that ping.
 *
 * ```ts
 * test("...", { timeout: 60_000 }, async (t) => {
 *   if (!requireTools(t, ["ip", "vtysh", "gobgpd", "gobgp"], { root: true })) return;
 *   await withLab(t, "t3gb", async (lab) => {
 *     const rr = await lab.ns("rr");                   // namespace "t3gb-rr", lo up
 *     await lab.ns("vtep");
 *     await lab.link("vtep", "192.0.2.1/24", "rr", "192.0.2.254/24"); // veth t3gb-rr / t3gb-vtep
 *     const frr = await lab.frr("rr", "router bgp 65000\n ...");
 *     await lab.waitFor("session up", async () => (await frr.peerState("192.0.2.1")) === "Established");
 *   }); // torn down here, also when the callback throws or the test times out
 * });
 * ```
 *
 * Naming. Every lab has a prefix (1-6 chars, `[a-z][a-z0-9]*`) unique to its test file; namespace
 * `x` is `<prefix>-x` and `lab.ns("x")` returns that full name. Methods take a namespace as
 * the short or the full name, or `null` for the root namespace (commands only: never create links
 * or addresses there). Namespace names are global; interface names inside a namespace are local to
 * it (a veth can be named `eth0` in two namespaces at once), so bridges, VXLAN devices and the like
 * are named by the caller as they like. Default veth names are `<prefix>-<peer ns>`.
 *
 * Ownership and cleanup. `Lab.create(prefix)` first removes the leftovers of an earlier run with
 * the same prefix (namespaces, processes, FRR directories, work directories) and refuses to start
 * if a live process still owns that prefix. Every process the lab starts (including FRR daemons,
 * which daemonize, and one-shot commands) carries the environment variable `EVPN_LAB=<prefix>`, so
 * that a later sweep finds it even after its namespace is gone. `teardown()` (sync twin
 * `teardownSync()`) kills processes (TERM, then KILL), stops FRR by its pid files, kills whatever
 * still runs in the lab's namespaces, deletes the namespaces, waits until no `<prefix>-*` link is
 * left in the root namespace, and removes `/etc/frr/<ns>`, `/var/run/frr/<ns>` and the work
 * directory (`$TMPDIR/evpn-lab-<prefix>.<pid>.*`: configs, daemon logs, pcaps). It is idempotent,
 * never throws, and returns the list of problems it met (empty when all is clean). While a lab is
 * live, handlers for `exit`, SIGINT, SIGTERM and SIGHUP tear it down synchronously, then the
 * signal is re-raised; a SIGKILLed run is cleaned up by the next `Lab.create` of the same prefix.
 *
 * Environment: `LAB_KEEP=1` keeps the work directory (logs, configs, pcaps) after teardown;
 * `LAB_VERBOSE=1` prints every command the lab runs.
 *
 * Diagnostics: `lab.waitFor()` appends the tails of all daemon logs to its timeout error,
 * `withLab` prints them when the test fails, `lab.dumpLogs()` returns them.
 *
 * Found on this machine (Debian 12): the kernel has no VRF or dummy device support. Facts about
 * the daemons are with their modules: frr.ts, frr-json.ts, gobgp.ts, capture.ts.
 *
 * Only one lab per prefix may be alive at a time (the test suite runs files with
 * --test-concurrency=1; different files use different prefixes).
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Capture } from "./capture.js";
import { Frr, type FrrOptions } from "./frr.js";
import { GoBgp, type GoBgpOptions } from "./gobgp.js";
import {
  type ExecOptions,
  type ExecResult,
  LabCommandError,
  LabProcess,
  type ProcessExit,
  type SpawnOptions,
  quote,
} from "./process.js";
import { LAB_ENV, errText, procStartTime, say } from "./proc.js";
import {
  cleanupStale as cleanupStaleLab,
  type Leftovers,
  WORK_PREFIX,
  leftovers,
  ownedWorkDirs,
  ownerAlive,
  readOwner,
  registerLab,
  sweep,
  unregisterLab,
} from "./system.js";
import type { Addrs } from "./topology.js";
import { type WaitOptions, waitFor } from "./wait.js";

const PREFIX_RE = /^[a-z][a-z0-9]{0,5}$/;
const NS_SHORT_RE = /^[a-z0-9][a-z0-9_]{0,30}$/;
const IFNAMSIZ = 15;

export interface LabOptions {
  /** Keep the work directory after teardown (default: LAB_KEEP=1). */
  keep?: boolean;
  /** Print every command (default: LAB_VERBOSE=1). */
  verbose?: boolean;
}

export interface LinkOptions {
  /** Interface names (default `<prefix>-<other ns>`, numbered when taken). */
  aIf?: string;
  bIf?: string;
  aMac?: string;
  bMac?: string;
  mtu?: number;
}

export interface BridgeOptions {
  mac?: string;
  /** Addresses (CIDR) on the bridge itself. */
  addrs?: string | string[];
}

export interface VxlanOptions {
  vni: number;
  /** Local VTEP address (no prefix length). */
  local: string;
  /** Default 4789. */
  dstport?: number;
  /** Kernel learning of remote MACs (default false: `nolearning`, as FRR wants). */
  learning?: boolean;
  /** Enslave to this bridge (in the same namespace). */
  bridge?: string;
  /** Static flood list: one `00:00:00:00:00:00 dst <ip>` fdb entry per remote VTEP. */
  flood?: string[];
}

export class Lab {
  private readonly namespaces = new Map<string, string>(); // short → full
  private readonly ifNames = new Map<string, Set<string>>(); // full ns → names used
  private readonly processes: LabProcess[] = [];
  private readonly frrs: Frr[] = [];
  private readonly gobgps: GoBgp[] = [];
  private readonly gobgpPorts = new Map<string, number>();
  private readonly inFlight = new Set<ChildProcess>(); // running exec() commands
  private logSeq = 0;
  private closed = false;
  private problems: string[] = [];

  private constructor(
    readonly prefix: string,
    /** Configs, daemon logs and pcaps; removed at teardown unless kept. */
    readonly workDir: string,
    private readonly opts: Required<LabOptions>,
  ) {}

  /**
   * Creates a lab: removes leftovers of an earlier run with this prefix (throws if a live process
   * owns it), makes the work directory, installs the exit/signal handlers.
   */
  static async create(prefix: string, opts: LabOptions = {}): Promise<Lab> {
    if (!PREFIX_RE.test(prefix)) throw new Error(`lab prefix must match ${PREFIX_RE}: "${prefix}"`);
    // an interrupted run may still be tearing down (its test runner has already returned)
    await waitFor(
      `the earlier owner of lab prefix "${prefix}" to exit`,
      () =>
        ownedWorkDirs(prefix).every((d) => {
          const o = readOwner(d);
          return !o || o.pid === process.pid || !ownerAlive(o);
        }),
      { timeoutMs: 15_000, intervalMs: 100 },
    ).catch(() => undefined); // cleanupStale() says who owns it
    const removed = Lab.cleanupStale(prefix);
    if (removed.length > 0) say(`[lab ${prefix}] removed leftovers of an earlier run: ${removed.join(", ")}`);
    const workDir = mkdtempSync(join(tmpdir(), `${WORK_PREFIX}${prefix}.${process.pid}.`));
    // FRR (user frr) writes its log below the work directory
    chmodSync(workDir, 0o755);
    writeFileSync(join(workDir, "owner"), JSON.stringify({ pid: process.pid, start: procStartTime(process.pid) }));
    const lab = new Lab(prefix, workDir, {
      keep: opts.keep ?? process.env["LAB_KEEP"] === "1",
      verbose: opts.verbose ?? process.env["LAB_VERBOSE"] === "1",
    });
    registerLab(lab);
    return lab;
  }

  /**
   * Removes everything an earlier (crashed, interrupted, SIGKILLed) run with this prefix left:
   * processes, namespaces, root links, FRR directories, work directories. Throws if a live lab
   * (in this or another process) owns the prefix. Returns what it found.
   */
  static cleanupStale(prefix: string): string[] {
    return cleanupStaleLab(prefix);
  }

  /** What exists on the machine with this prefix (all empty after a clean teardown). */
  static leftovers(prefix: string): Leftovers {
    return leftovers(prefix);
  }

  private log(msg: string): void {
    say(`[lab ${this.prefix}] ${msg}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`lab ${this.prefix} has been torn down`);
  }

  /** Full name of a namespace given by short or full name; null stays null (root namespace). */
  resolve(ns: string | null): string | null {
    if (ns === null) return null;
    const full = this.namespaces.get(ns);
    if (full !== undefined) return full;
    for (const v of this.namespaces.values()) if (v === ns) return v;
    throw new Error(`lab ${this.prefix}: unknown namespace "${ns}"`);
  }

  private resolveNs(ns: string): string {
    return this.resolve(ns)!;
  }

  private shortName(full: string): string {
    return full.slice(this.prefix.length + 1);
  }

  /** The full names of the lab's namespaces. */
  get namespaceNames(): string[] {
    return [...this.namespaces.values()];
  }

  // ------------------------------------------------------------------------------- commands --

  /**
   * Runs a command to completion inside namespace `ns` (`ip netns exec`) or, with `null`, in
   * the root namespace. Throws LabCommandError on a non-zero exit unless `check: false`.
   */
  async exec(ns: string | null, cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    this.assertOpen();
    const full = this.resolve(ns);
    const argv = full === null ? [cmd, ...args] : ["ip", "netns", "exec", full, cmd, ...args];
    return this.run(argv, opts);
  }

  private run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const text = quote(argv);
    if (this.opts.verbose) this.log(`+ ${text}`);
    const timeoutMs = opts.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const child = execFile(
        argv[0]!,
        argv.slice(1),
        {
          encoding: "utf8",
          timeout: timeoutMs,
          maxBuffer: 64 << 20,
          env: { ...process.env, ...opts.env, [LAB_ENV]: this.prefix },
        },
        (err, stdout, stderr) => {
          const e = err as (Error & { code?: number | string; killed?: boolean; signal?: string }) | null;
          const code = e === null ? 0 : typeof e.code === "number" ? e.code : -1;
          const result: ExecResult = { stdout, stderr, code };
          if (e === null || opts.check === false) return resolve(result);
          const detail = e.killed
            ? `timed out after ${timeoutMs} ms`
            : typeof e.code === "number"
              ? `exit ${e.code}`
              : e.signal
                ? `signal ${e.signal}`
                : e.message;
          reject(new LabCommandError(text, result, detail));
        },
      );
      this.inFlight.add(child);
      child.once("exit", () => this.inFlight.delete(child));
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      else child.stdin?.end();
    });
  }

  /** `ip -n <ns> <args>`. */
  async ip(ns: string, args: string[]): Promise<string> {
    this.assertOpen();
    return (await this.run(["ip", "-n", this.resolveNs(ns), ...args])).stdout;
  }

  /**
   * Starts a long-running process in `ns` (or the root namespace with null), in its own process
   * group, stdout and stderr appended to a log file in the work directory. It is killed at
   * teardown (TERM to its group, then KILL).
   */
  spawn(ns: string | null, cmd: string, args: string[] = [], opts: SpawnOptions = {}): LabProcess {
    this.assertOpen();
    const full = this.resolve(ns);
    const argv = full === null ? [cmd, ...args] : ["ip", "netns", "exec", full, cmd, ...args];
    const name = opts.name ?? `${cmd.split("/").at(-1)}${full ? `-${this.shortName(full)}` : ""}`;
    const logFile = join(
      this.workDir,
      `${String(++this.logSeq).padStart(2, "0")}-${name.replace(/[^\w.-]/g, "_")}.log`,
    );
    if (this.opts.verbose) this.log(`+ ${quote(argv)} >${logFile} &`);
    const fd = openSync(logFile, "a");
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ["ignore", fd, fd],
        env: { ...process.env, ...opts.env, [LAB_ENV]: this.prefix },
      });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (e) => {
        writeFileSync(logFile, `spawn failed: ${e.message}\n`, { flag: "a" });
        resolve({ code: -1, signal: null });
      });
    });
    if (child.pid === undefined) throw new Error(`could not start ${quote(argv)}`);
    const p = new LabProcess(name, full, child.pid, logFile, exited);
    this.processes.push(p);
    return p;
  }

  // ------------------------------------------------------------------------------- topology --

  /** Creates namespace `<prefix>-<name>` with lo up; returns its full name. */
  async ns(name: string): Promise<string> {
    this.assertOpen();
    if (!NS_SHORT_RE.test(name)) throw new Error(`namespace name must match ${NS_SHORT_RE}: "${name}"`);
    if (this.namespaces.has(name)) throw new Error(`namespace "${name}" exists already`);
    const full = `${this.prefix}-${name}`;
    await this.run(["ip", "netns", "add", full]);
    this.namespaces.set(name, full);
    this.ifNames.set(full, new Set(["lo"]));
    await this.ip(full, ["link", "set", "lo", "up"]);
    return full;
  }

  private claimIfName(full: string, name: string): string {
    if (name.length > IFNAMSIZ) throw new Error(`interface name longer than ${IFNAMSIZ} chars: "${name}"`);
    const used = this.ifNames.get(full)!;
    if (used.has(name)) throw new Error(`interface "${name}" exists already in ${full}`);
    used.add(name);
    return name;
  }

  private defaultIfName(full: string, peerFull: string): string {
    const used = this.ifNames.get(full)!;
    const base = `${this.prefix}-${this.shortName(peerFull)}`.slice(0, IFNAMSIZ);
    if (!used.has(base)) return base;
    for (let i = 2; ; i++) {
      const n = `${base.slice(0, IFNAMSIZ - String(i).length)}${i}`;
      if (!used.has(n)) return n;
    }
  }

  /** Adds addresses (CIDR; IPv6 ones without DAD) to a device. */
  async addr(ns: string, dev: string, addrs: Addrs): Promise<void> {
    const list = addrs === null || addrs === undefined ? [] : typeof addrs === "string" ? [addrs] : addrs;
    for (const a of list) {
      if (!a.includes("/")) throw new Error(`address needs a prefix length: "${a}"`);
      await this.ip(ns, ["addr", "add", a, "dev", dev, ...(a.includes(":") ? ["nodad"] : [])]);
    }
  }

  /**
   * Connects two namespaces with a veth pair, adds the addresses (CIDR, a list, or null for
   * none, e.g. a bridge port) and sets both ends up. Returns the interface names.
   */
  async link(
    a: string,
    aAddr: Addrs,
    b: string,
    bAddr: Addrs,
    opts: LinkOptions = {},
  ): Promise<{ aIf: string; bIf: string }> {
    this.assertOpen();
    const na = this.resolveNs(a);
    const nb = this.resolveNs(b);
    const aIf = this.claimIfName(na, opts.aIf ?? this.defaultIfName(na, nb));
    const bIf = this.claimIfName(nb, opts.bIf ?? this.defaultIfName(nb, na));
    const mtu = opts.mtu !== undefined ? ["mtu", String(opts.mtu)] : [];
    await this.run([
      "ip",
      "link",
      "add",
      aIf,
      "netns",
      na,
      ...mtu,
      ...(opts.aMac ? ["address", opts.aMac] : []),
      "type",
      "veth",
      "peer",
      "name",
      bIf,
      "netns",
      nb,
      ...mtu,
      ...(opts.bMac ? ["address", opts.bMac] : []),
    ]);
    await this.addr(na, aIf, aAddr);
    await this.addr(nb, bIf, bAddr);
    await this.ip(na, ["link", "set", aIf, "up"]);
    await this.ip(nb, ["link", "set", bIf, "up"]);
    return { aIf, bIf };
  }

  /** Creates a bridge in `ns`, enslaves the ports (set up), adds addresses, sets it up. */
  async bridge(ns: string, name: string, ports: string[] = [], opts: BridgeOptions = {}): Promise<string> {
    this.assertOpen();
    const full = this.resolveNs(ns);
    this.claimIfName(full, name);
    await this.ip(full, ["link", "add", name, ...(opts.mac ? ["address", opts.mac] : []), "type", "bridge"]);
    for (const p of ports) {
      await this.ip(full, ["link", "set", p, "master", name]);
      await this.ip(full, ["link", "set", p, "up"]);
    }
    await this.addr(full, name, opts.addrs);
    await this.ip(full, ["link", "set", name, "up"]);
    return name;
  }

  /**
   * Creates a kernel VXLAN device (`nolearning` unless asked), optionally enslaved to a bridge
   * and with a static flood list (a static VTEP), and sets it up.
   */
  async vxlan(ns: string, name: string, opts: VxlanOptions): Promise<string> {
    this.assertOpen();
    const full = this.resolveNs(ns);
    this.claimIfName(full, name);
    await this.ip(full, [
      "link",
      "add",
      name,
      "type",
      "vxlan",
      "id",
      String(opts.vni),
      "local",
      opts.local,
      "dstport",
      String(opts.dstport ?? 4789),
      ...(opts.learning ? [] : ["nolearning"]),
    ]);
    if (opts.bridge) await this.ip(full, ["link", "set", name, "master", opts.bridge]);
    await this.ip(full, ["link", "set", name, "up"]);
    for (const r of opts.flood ?? []) {
      await this.run(["bridge", "-n", full, "fdb", "append", "00:00:00:00:00:00", "dev", name, "dst", r]);
    }
    return name;
  }

  /** One ping round (default 1 packet, 2 s wait); true when answered. */
  async ping(ns: string, dest: string, opts: { count?: number; waitS?: number } = {}): Promise<boolean> {
    const r = await this.exec(
      ns,
      "ping",
      ["-n", "-q", "-c", String(opts.count ?? 1), "-i", "0.2", "-W", String(opts.waitS ?? 2), dest],
      { check: false },
    );
    return r.code === 0;
  }

  // -------------------------------------------------------------------------------- daemons --

  /** Starts FRR (zebra + bgpd by default) in `ns` with this frr.conf. */
  async frr(ns: string, config: string, opts: FrrOptions = {}): Promise<Frr> {
    this.assertOpen();
    const full = this.resolveNs(ns);
    if (this.frrs.some((f) => f.ns === full)) throw new Error(`FRR runs already in ${full}`);
    const f = new Frr(this, full, config, opts);
    this.frrs.push(f);
    await f.start();
    return f;
  }

  /** Starts gobgpd in `ns` with this TOML configuration; the lab picks the API port. */
  async gobgp(ns: string, toml: string, opts: GoBgpOptions = {}): Promise<GoBgp> {
    this.assertOpen();
    const full = this.resolveNs(ns);
    const port = (this.gobgpPorts.get(full) ?? 50050) + 1;
    this.gobgpPorts.set(full, port);
    const g = new GoBgp(this, full, port, toml, opts);
    this.gobgps.push(g);
    await g.start();
    return g;
  }

  /** Starts `tcpdump -U --immediate-mode -w` on `iface` in `ns`; resolves once it is listening. */
  async capture(ns: string, iface: string, filter = ""): Promise<Capture> {
    const full = this.resolveNs(ns);
    const file = join(this.workDir, `${this.shortName(full)}-${iface}-${++this.logSeq}.pcap`);
    return Capture.start(this, full, iface, file, filter);
  }

  // ---------------------------------------------------------------------------- diagnostics --

  /** waitFor() that appends the tails of all daemon logs to its timeout error. */
  waitFor<T>(
    what: string,
    fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
    opts: WaitOptions = {},
  ): Promise<T> {
    return waitFor(what, fn, { diagnostics: () => this.dumpLogs(), ...opts });
  }

  /** The last `lines` lines of every FRR log and every spawned process's log. */
  dumpLogs(lines = 30): string {
    const parts: string[] = [];
    for (const f of this.frrs) parts.push(`--- FRR ${f.ns} (${f.logFile}) ---\n${f.logTail(lines)}`);
    for (const p of this.processes) {
      const st = p.exitStatus ? ` exited ${JSON.stringify(p.exitStatus)}` : "";
      parts.push(`--- ${p.name} pid ${p.pid}${st} (${p.logFile}) ---\n${p.logTail(lines)}`);
    }
    return parts.join("\n");
  }

  /** Pids of everything the lab started that is still alive (spawned processes, FRR daemons). */
  pids(): number[] {
    return [...this.processes.filter((p) => p.running).map((p) => p.pid), ...this.frrs.flatMap((f) => f.pids())];
  }

  // ------------------------------------------------------------------------------- teardown --

  /** Async entry point of teardownSync() (see there). */
  teardown(): Promise<string[]> {
    return Promise.resolve(this.teardownSync());
  }

  /**
   * Removes everything the lab created: processes (TERM, then KILL), FRR daemons (pid files),
   * whatever else runs in its namespaces, the namespaces, `<prefix>-*` root links, FRR
   * directories, the work directory (unless kept). Idempotent; never throws; synchronous so that
   * it can run in `exit` and signal handlers. Returns the problems met (logged too).
   */
  teardownSync(): string[] {
    if (this.closed) return this.problems;
    this.closed = true;
    const t0 = Date.now();
    try {
      // commands still running (an `ip netns add` must not finish after the sweep)
      for (const c of this.inFlight) c.kill("SIGKILL");
      const known = this.processes.filter((p) => p.exitStatus === undefined).map((p) => ({ pid: p.pid, group: true }));
      this.problems = sweep(this.prefix, known, (m) => this.log(m));
      if (this.opts.keep) {
        rmSync(join(this.workDir, "owner"), { force: true });
        this.log(`work directory kept: ${this.workDir}`);
      } else {
        rmSync(this.workDir, { recursive: true, force: true });
      }
    } catch (e) {
      this.problems.push(`teardown: ${errText(e)}`);
      this.log(`teardown failed: ${errText(e)}`);
    } finally {
      unregisterLab(this);
    }
    if (this.opts.verbose) this.log(`torn down in ${Date.now() - t0} ms`);
    return this.problems;
  }
}
