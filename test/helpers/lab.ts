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
 * Found on this machine (Debian 12, FRR 8.4, gobgp 3.10, kernel without VRF/dummy support):
 * - FRR: `zebra -d` returns before the daemon has read its configuration; `Frr.start` therefore
 *   waits for one vtysh round trip per daemon. Each daemon reads the whole frr.conf and logs
 *   "No such command on config line N" for the other daemons' lines; a line no daemon accepted is
 *   a real error and makes `lab.frr()` fail (see `Frr.configErrors`). vtysh exits 1 on
 *   "% Unknown command" (message on stdout). Timings with `frr defaults datacenter`, `timers bgp
 *   3 9`, `timers connect 2`: Established about 1 s after start, routes about 1 s later.
 * - FRR JSON: `show evpn vni <vni> json` names the LIST of remote VTEPs `numRemoteVteps` (absent
 *   when none); `show evpn arp-cache vni <vni> json` prints nothing at all when empty.
 * - gobgpd 3 makes its first outgoing connection 5-10 s after start (random, whatever
 *   connect-retry says; later retries max(connect-retry, 5)..2x that). For a fast session let
 *   the other side connect (`passive-mode = true` in gobgpd's neighbor transport config). After a
 *   session went down it stays idle for about 5 s before it accepts a new one.
 * - tcpdump needs --immediate-mode, or packets captured in the last second before it is stopped
 *   are lost (libpcap TPACKET_V3 blocks).
 *
 * Only one lab per prefix may be alive at a time (the test suite runs files with
 * --test-concurrency=1; different files use different prefixes).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

/** Where the FRR daemons are installed (Debian). */
export const FRR_BIN = "/usr/lib/frr";
const FRR_ETC = "/etc/frr";
const FRR_RUN = "/var/run/frr";
const NETNS_DIR = "/run/netns";
/** Environment variable that marks every process a lab starts; its value is the lab's prefix. */
export const LAB_ENV = "EVPN_LAB";
const WORK_PREFIX = "evpn-lab-";
const PREFIX_RE = /^[a-z][a-z0-9]{0,5}$/;
const NS_SHORT_RE = /^[a-z0-9][a-z0-9_]{0,30}$/;
const IFNAMSIZ = 15;

// ------------------------------------------------------------------------------------ utilities --

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Blocks the thread for `ms` milliseconds (teardown from `exit`/signal handlers must be sync). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Writes to stderr synchronously and never throws (EPIPE once the test runner has gone, ...). */
function say(msg: string): void {
  try {
    writeSync(2, msg.endsWith("\n") ? msg : `${msg}\n`);
  } catch {
    // nowhere left to write to
  }
}

function errText(e: unknown): string {
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

interface SyncResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function runSync(cmd: string, args: string[], timeoutMs = 10_000): SyncResult {
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

// ------------------------------------------------------------------------------------ processes --

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

function procStartTime(pid: number): string | undefined {
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

interface KillTarget {
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
function terminateSync(targets: KillTarget[], graceMs: number): number[] {
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
async function terminate(targets: KillTarget[], graceMs: number): Promise<number[]> {
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

// --------------------------------------------------------------------------------- system state --

function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** Names of the links of the root namespace (without the `@peer` suffix). */
function listRootLinks(): string[] {
  const r = runSync("ip", ["-o", "link", "show"]);
  const names: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m) names.push(m[1]!);
  }
  return names;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Work directories of labs with this prefix that are not marked as kept. */
function ownedWorkDirs(prefix: string): string[] {
  const base = tmpdir();
  return listDir(base)
    .filter((d) => d.startsWith(`${WORK_PREFIX}${prefix}.`))
    .map((d) => join(base, d))
    .filter((d) => existsSync(join(d, "owner")));
}

interface Owner {
  pid: number;
  start: string;
}

function readOwner(dir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, "owner"), "utf8")) as Partial<Owner>;
    if (typeof o.pid === "number" && typeof o.start === "string") return { pid: o.pid, start: o.start };
  } catch {
    // unreadable: treat as stale
  }
  return undefined;
}

function ownerAlive(o: Owner): boolean {
  return isAlive(o.pid) && procStartTime(o.pid) === o.start;
}

/** What exists on this machine with the given prefix (see `Lab.leftovers`). */
export interface Leftovers {
  /** Namespaces `<prefix>-*`. */
  namespaces: string[];
  /** Links `<prefix>-*` in the root namespace. */
  links: string[];
  /** Live processes carrying `EVPN_LAB=<prefix>`. */
  processes: number[];
  /** `/etc/frr/<prefix>-*`, `/var/run/frr/<prefix>-*` and unkept work directories. */
  dirs: string[];
}

function leftovers(prefix: string): Leftovers {
  const p = `${prefix}-`;
  return {
    namespaces: listNamespaces().filter((n) => n.startsWith(p)),
    links: listRootLinks().filter((n) => n.startsWith(p)),
    processes: markedPids(prefix),
    dirs: [
      ...listDir(FRR_ETC)
        .filter((d) => d.startsWith(p))
        .map((d) => join(FRR_ETC, d)),
      ...listDir(FRR_RUN)
        .filter((d) => d.startsWith(p))
        .map((d) => join(FRR_RUN, d)),
      ...ownedWorkDirs(prefix),
    ],
  };
}

/**
 * Removes everything carrying the prefix: known processes first (gracefully), FRR daemons by pid
 * file, then every process in the namespaces or marked with the prefix, the namespaces, root
 * links and FRR directories. Work directories are not touched. Returns the problems met.
 */
function sweep(prefix: string, known: KillTarget[], log: (msg: string) => void): string[] {
  const problems: string[] = [];
  const problem = (msg: string): void => {
    problems.push(msg);
    log(`teardown problem: ${msg}`);
  };
  const p = `${prefix}-`;
  const namespaces = listNamespaces().filter((n) => n.startsWith(p));

  // 1. processes we know (TERM first: tcpdump flushes, bgpd sends its Cease), FRR by pid files
  const targets = [...known];
  for (const dir of listDir(FRR_RUN).filter((d) => d.startsWith(p))) {
    for (const f of listDir(join(FRR_RUN, dir)).filter((f) => f.endsWith(".pid"))) {
      const pid = Number(readFileSync(join(FRR_RUN, dir, f), "utf8").trim());
      // only if it still is an FRR daemon of this namespace (pids get reused)
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1");
      } catch {
        continue;
      }
      if (cmdline.includes(`\0-N\0${dir}\0`) || cmdline.includes(`\0--pathspace\0${dir}\0`)) targets.push({ pid });
    }
  }
  for (const pid of terminateSync(targets, 3000)) problem(`process ${pid} survived SIGKILL`);

  // 2. anything else still running in our namespaces or marked as ours
  const rest = new Set<number>(markedPids(prefix));
  for (const ns of namespaces) {
    const r = runSync("ip", ["netns", "pids", ns]);
    for (const s of r.stdout.split(/\s+/)) if (/^\d+$/.test(s) && Number(s) !== process.pid) rest.add(Number(s));
  }
  if (rest.size > 0) {
    log(`killing leftover processes ${[...rest].join(" ")}`);
    for (const pid of terminateSync(
      [...rest].map((pid) => ({ pid })),
      1500,
    ))
      problem(`process ${pid} survived SIGKILL`);
  }

  // 3. namespaces (their links go with them), then root links with our prefix
  for (const ns of namespaces) {
    const r = runSync("ip", ["netns", "del", ns]);
    if (!r.ok) problem(`ip netns del ${ns}: ${r.stderr}`);
  }
  for (const link of listRootLinks().filter((n) => n.startsWith(p))) runSync("ip", ["link", "del", link]);
  const deadline = Date.now() + 5000;
  let links = listRootLinks().filter((n) => n.startsWith(p));
  while (links.length > 0 && Date.now() < deadline) {
    sleepSync(50);
    links = listRootLinks().filter((n) => n.startsWith(p));
  }
  if (links.length > 0) problem(`links still present: ${links.join(" ")}`);

  // 4. FRR directories
  for (const base of [FRR_ETC, FRR_RUN]) {
    for (const dir of listDir(base).filter((d) => d.startsWith(p))) {
      try {
        rmSync(join(base, dir), { recursive: true, force: true });
      } catch (e) {
        problem(`rm ${join(base, dir)}: ${errText(e)}`);
      }
    }
  }
  const ns = listNamespaces().filter((n) => n.startsWith(p));
  if (ns.length > 0) problem(`namespaces still present: ${ns.join(" ")}`);
  return problems;
}

// ------------------------------------------------------------------------ exit/signal handlers --

const liveLabs = new Set<Lab>();
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let handlersInstalled = false;

function tearDownAllSync(): void {
  for (const lab of [...liveLabs]) lab.teardownSync();
}

function onSignal(sig: NodeJS.Signals): void {
  say(`[lab] ${sig} received: tearing down ${liveLabs.size} live lab(s)`);
  tearDownAllSync();
  uninstallHandlers();
  // re-raise so that the process ends the way it would have without us
  process.kill(process.pid, sig);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", tearDownAllSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off("exit", tearDownAllSync);
  for (const s of SIGNALS) process.off(s, onSignal);
}

// ------------------------------------------------------------------------------------- waitFor --

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

// ---------------------------------------------------------------------------------------- exec --

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

function quote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

// ---------------------------------------------------------------------------------- LabProcess --

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

// ----------------------------------------------------------------------------------- JSON shapes --
// Shapes as printed by FRR 8.4 and gobgp 3.10 (only the fields tests use; see lab-helper.test.ts).

/** One peer of `show bgp <afi> <safi> summary json` (key: peer address). */
export interface FrrSummaryPeer {
  /** "Established", "Active", "Connect", "Idle", "OpenSent", ... */
  state: string;
  remoteAs: number;
  localAs: number;
  version: number;
  msgRcvd: number;
  msgSent: number;
  peerUptime: string;
  peerUptimeMsec: number;
  /** Prefixes received (present once Established). */
  pfxRcd?: number;
  pfxSnt?: number;
  /** Set for peers accepted through `bgp listen range`. */
  dynamicPeer?: boolean;
  /** Peer group name when the peer is in one. */
  peerGroup?: string;
  [k: string]: unknown;
}

/** `show bgp l2vpn evpn summary json` ({} when BGP is not configured). */
export interface FrrBgpSummary {
  routerId?: string;
  as?: number;
  vrfName?: string;
  peerCount?: number;
  dynamicPeers?: number;
  peers?: Record<string, FrrSummaryPeer>;
  failedPeers?: number;
  totalPeers?: number;
  [k: string]: unknown;
}

/** One path of `show bgp l2vpn evpn route json`. */
export interface FrrEvpnPath {
  valid?: boolean;
  bestpath?: boolean;
  /** "local" for routes originated here, "internal"/"external" for learnt ones. */
  pathFrom?: string;
  /** Route type 1..5. */
  routeType: number;
  ethTag?: number;
  ipLen?: number;
  ip?: string;
  mac?: string;
  /** Originating router IP (type 3). */
  originatorIp?: string;
  /** Space-separated extended communities, e.g. "RT:65000:10 ET:8". */
  extendedCommunity?: { string: string };
  nexthops?: { ip: string; hostname?: string; afi: string; used: boolean }[];
  peerId?: string;
  [k: string]: unknown;
}

/** A prefix entry: `{ prefix, prefixLen, paths: [[path, ...]] }` (paths is an array of arrays). */
export interface FrrEvpnPrefix {
  prefix: string;
  prefixLen: number;
  paths: FrrEvpnPath[][];
}

/**
 * `show bgp l2vpn evpn route json`: keyed by route distinguisher (plus a few counters). Under each
 * RD: `rd` and the prefixes keyed by their FRR notation, e.g. "[3]:[0]:[32]:[192.0.2.1]".
 */
export type FrrEvpnRouteTable = Record<string, unknown> & {
  numPrefix?: number;
  numPaths?: number;
};

/** Flattened route of `show bgp l2vpn evpn route json` (see `Frr.evpnRoutes`). */
export interface FrrEvpnRoute {
  rd: string;
  /** FRR notation, e.g. "[3]:[0]:[32]:[192.0.2.1]" or "[2]:[0]:[48]:[02:00:00:00:01:0a]". */
  prefix: string;
  paths: FrrEvpnPath[];
}

/**
 * `show evpn vni <vni> json`. FRR 8.4 quirk: here `numRemoteVteps` is the LIST of remote VTEP
 * IPs (absent when there is none), while `show evpn vni json` has a count `numRemoteVteps` and a
 * list `remoteVteps` per VNI. Use `Frr.remoteVteps(vni)`.
 */
export interface FrrEvpnVni {
  vni: number;
  /** "L2" or "L3". */
  type: string;
  vrf?: string;
  vxlanInterface?: string;
  sviInterface?: string;
  vtepIp?: string;
  mcastGroup?: string;
  numMacs?: number;
  numArpNd?: number;
  numRemoteVteps?: string[] | number;
  [k: string]: unknown;
}

/** One MAC of `show evpn mac vni <vni> json` (`{ numMacs, macs: { "<mac>": FrrEvpnMac } }`). */
export interface FrrEvpnMac {
  /** "local" or "remote". */
  type: string;
  /** Local MACs: the bridge port. */
  intf?: string;
  /** Remote MACs: the VTEP. */
  remoteVtep?: string;
  localSequence?: number;
  remoteSequence?: number;
  isDuplicate?: boolean;
  [k: string]: unknown;
}

/** gobgp `neighbor -j`: one entry per neighbor (only the fields used here). */
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

// ------------------------------------------------------------------------------------------ Frr --

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

/** Turns FRR's RD-keyed `show bgp l2vpn evpn route json` into a list. */
export function flattenFrrEvpn(table: FrrEvpnRouteTable): FrrEvpnRoute[] {
  const routes: FrrEvpnRoute[] = [];
  for (const [rd, v] of Object.entries(table)) {
    if (typeof v !== "object" || v === null) continue;
    for (const [prefix, e] of Object.entries(v as Record<string, unknown>)) {
      if (typeof e !== "object" || e === null || !("paths" in e)) continue;
      const entry = e as FrrEvpnPrefix;
      routes.push({ rd, prefix, paths: entry.paths.flat() });
    }
  }
  return routes;
}

// ---------------------------------------------------------------------------------------- GoBgp --

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

// -------------------------------------------------------------------------------------- Capture --

/** A running `tcpdump -U -w`. */
export class Capture {
  constructor(
    readonly file: string,
    readonly process: LabProcess,
  ) {}

  /** Stops tcpdump (it flushes on SIGTERM) and returns the pcap's path. */
  async stop(): Promise<string> {
    await this.process.stop();
    return this.file;
  }
}

// ------------------------------------------------------------------------------------------ Lab --

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

export interface SpawnOptions {
  /** Name used for the log file and messages (default: the command's base name). */
  name?: string;
  env?: Record<string, string>;
}

type Addrs = string | string[] | null | undefined;

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
    liveLabs.add(lab);
    installHandlers();
    return lab;
  }

  /**
   * Removes everything an earlier (crashed, interrupted, SIGKILLed) run with this prefix left:
   * processes, namespaces, root links, FRR directories, work directories. Throws if a live lab
   * (in this or another process) owns the prefix. Returns what it found.
   */
  static cleanupStale(prefix: string): string[] {
    for (const lab of liveLabs) {
      if (lab.prefix === prefix) throw new Error(`a lab with prefix "${prefix}" is already live in this process`);
    }
    const dirs = ownedWorkDirs(prefix);
    for (const dir of dirs) {
      const o = readOwner(dir);
      if (o && o.pid !== process.pid && ownerAlive(o)) {
        throw new Error(`lab prefix "${prefix}" is in use by process ${o.pid} (${dir}); use another prefix`);
      }
    }
    const before = leftovers(prefix);
    const found = [
      ...before.namespaces.map((n) => `netns ${n}`),
      ...before.links.map((n) => `link ${n}`),
      ...before.processes.map((p) => `pid ${p}`),
      ...before.dirs,
    ];
    if (found.length === 0) return [];
    const problems = sweep(prefix, [], (m) => say(`[lab ${prefix}] ${m}`));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`cannot clean up stale lab "${prefix}": ${problems.join("; ")}`);
    return found;
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
    // --immediate-mode: without it libpcap (TPACKET_V3) hands packets over in blocks, up to 1 s
    // late, and packets still in a block when tcpdump is stopped are lost
    const args = ["-i", iface, "-n", "-s", "0", "-U", "--immediate-mode", "-Z", "root", "-w", file];
    const proc = this.spawn(full, "tcpdump", filter ? [...args, filter] : args, {
      name: `tcpdump-${this.shortName(full)}-${iface}`,
    });
    await waitFor(
      `tcpdump listening on ${iface} in ${full}`,
      () => {
        if (!proc.running) throw new Error(`tcpdump exited: ${proc.log()}`);
        return proc.log().includes("listening on");
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    return new Capture(file, proc);
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
      liveLabs.delete(this);
      if (liveLabs.size === 0) uninstallHandlers();
    }
    if (this.opts.verbose) this.log(`torn down in ${Date.now() - t0} ms`);
    return this.problems;
  }
}

// -------------------------------------------------------------------------------------- withLab --

/**
 * Runs `fn` with a fresh lab and tears it down afterwards, also when `fn` throws or the test is
 * cancelled or times out (`t.signal`). On failure the tails of the daemon logs go to stderr.
 * Fails the test if teardown leaves something behind.
 */
export async function withLab<T>(
  t: TestContext,
  prefix: string,
  fn: (lab: Lab) => Promise<T>,
  opts: LabOptions = {},
): Promise<T> {
  const lab = await Lab.create(prefix, opts);
  const onAbort = (): void => {
    say(`[lab ${prefix}] test "${t.name}" aborted: tearing down`);
    lab.teardownSync();
  };
  t.signal.addEventListener("abort", onAbort, { once: true });
  let ok = false;
  try {
    const r = await fn(lab);
    ok = true;
    return r;
  } catch (e) {
    say(`[lab ${prefix}] test "${t.name}" failed; daemon logs:\n${lab.dumpLogs()}`);
    throw e;
  } finally {
    t.signal.removeEventListener("abort", onAbort);
    const problems = await lab.teardown();
    // eslint-disable-next-line no-unsafe-finally
    if (ok && problems.length > 0) throw new Error(`lab teardown left problems: ${problems.join("; ")}`);
  }
}
