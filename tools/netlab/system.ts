// What a lab leaves on the machine (namespaces, root links, marked processes, FRR and work
// directories), the sweep that removes it, and the exit/signal handlers of live labs.
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type KillTarget,
  errText,
  isAlive,
  markedPids,
  procStartTime,
  runSync,
  say,
  sleepSync,
  terminateSync,
} from "./proc.js";

/** Where the FRR daemons are installed (Debian). */
export const FRR_BIN = "/usr/lib/frr";
export const FRR_ETC = "/etc/frr";
export const FRR_RUN = "/var/run/frr";
const NETNS_DIR = "/run/netns";
/** Work directories: `$TMPDIR/evpn-lab-<prefix>.<pid>.*`. */
export const WORK_PREFIX = "evpn-lab-";

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
export function ownedWorkDirs(prefix: string): string[] {
  const base = tmpdir();
  return listDir(base)
    .filter((d) => d.startsWith(`${WORK_PREFIX}${prefix}.`))
    .map((d) => join(base, d))
    .filter((d) => existsSync(join(d, "owner")));
}

export interface Owner {
  pid: number;
  start: string;
}

export function readOwner(dir: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, "owner"), "utf8")) as Partial<Owner>;
    if (typeof o.pid === "number" && typeof o.start === "string") return { pid: o.pid, start: o.start };
  } catch {
    // unreadable: treat as stale
  }
  return undefined;
}

export function ownerAlive(o: Owner): boolean {
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

export function leftovers(prefix: string): Leftovers {
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
export function sweep(prefix: string, known: KillTarget[], log: (msg: string) => void): string[] {
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

/** See Lab.cleanupStale. */
export function cleanupStale(prefix: string): string[] {
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

// ------------------------------------------------------------------------ exit/signal handlers --

/** A live lab as the handlers see it. */
export interface Teardownable {
  readonly prefix: string;
  teardownSync(): string[];
}

export const liveLabs = new Set<Teardownable>();
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

/** Adds a live lab; the first one installs the `exit` and signal handlers. */
export function registerLab(lab: Teardownable): void {
  liveLabs.add(lab);
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", tearDownAllSync);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/** Removes a lab; the last one removes the handlers. */
export function unregisterLab(lab: Teardownable): void {
  liveLabs.delete(lab);
  if (liveLabs.size === 0) uninstallHandlers();
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off("exit", tearDownAllSync);
  for (const s of SIGNALS) process.off(s, onSignal);
}
