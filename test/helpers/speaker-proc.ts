// Client side of speaker-child.ts: starts a Speaker in a network namespace as its own process and
// calls its API over stdin/stdout. Logs go to a file for diagnosis.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import type { SpeakerOptions } from "../../src/bgp/io/speaker.js";
import type { NeighborStatus } from "../../src/bgp/view.js";
import type { EvpnRoute, PathAttribute } from "../../src/codec/index.js";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";
import { fromJsonSafe, toJsonSafe } from "./json-bytes.js";

const CHILD = new URL("./speaker-child.js", import.meta.url).pathname;

export interface RibEntry {
  route: EvpnRoute;
  nextHop: string;
  attributes: PathAttribute[];
  source: string;
  stale: boolean;
  best: boolean;
}

export class SpeakerProc {
  readonly child: ChildProcess;
  readonly logFile: string;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly ready: Promise<Record<string, unknown>>;
  exited: Promise<number | null>;

  /**
   * `netns` null runs it in the current namespace; `nodeArgs` go to node (e.g. --expose-gc);
   * `initial` routes are announced before the sessions start.
   */
  constructor(
    netns: string | null,
    opts: Omit<SpeakerOptions, "onEvent">,
    logFile: string,
    nodeArgs: string[] = [],
    initial: { routes: EvpnRoute[]; attrs: OutAttrs }[] = [],
  ) {
    this.logFile = logFile;
    // The daemon's own V8 flags, so that what tests and benchmarks measure is what ships.
    const args = [
      process.execPath,
      ...NODE_FLAGS,
      ...nodeArgs,
      CHILD,
      JSON.stringify(opts),
      JSON.stringify(toJsonSafe(initial)),
    ];
    this.child = netns
      ? spawn("ip", ["netns", "exec", netns, ...args], { stdio: ["pipe", "pipe", "pipe"] })
      : spawn(args[0]!, args.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr!.pipe(createWriteStream(logFile, { flags: "a" }));
    let readyResolve!: (v: Record<string, unknown>) => void;
    this.ready = new Promise((r) => (readyResolve = r));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const msg = fromJsonSafe(JSON.parse(line)) as Record<string, unknown>;
      if (msg["id"] === 0) return readyResolve(msg);
      const p = this.pending.get(msg["id"] as number);
      if (!p) return;
      this.pending.delete(msg["id"] as number);
      if (msg["ok"]) p.resolve(msg);
      else p.reject(new Error(String(msg["error"])));
    });
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        for (const p of this.pending.values()) p.reject(new Error(`speaker exited with ${code}`));
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  /** Waits until the speaker listens (or fails to start). */
  async started(timeoutMs = 10000): Promise<void> {
    const t = new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error(`speaker did not start:\n${this.logTail()}`)), timeoutMs).unref(),
    );
    const dead = this.exited.then((c) => {
      throw new Error(`speaker exited with ${c}:\n${this.logTail()}`);
    });
    await Promise.race([this.ready, t, dead]);
  }

  private call(cmd: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify(toJsonSafe({ id, cmd, ...body }))}\n`);
    });
  }

  async announce(routes: EvpnRoute[], attrs: OutAttrs): Promise<void> {
    await this.call("announce", { routes, attrs });
  }

  async withdraw(routes: EvpnRoute[]): Promise<void> {
    await this.call("withdraw", { routes });
  }

  async status(): Promise<NeighborStatus[]> {
    return (await this.call("status"))["result"] as NeighborStatus[];
  }

  async rib(): Promise<RibEntry[]> {
    return (await this.call("rib"))["result"] as RibEntry[];
  }

  /** process.memoryUsage() of the speaker, after a GC when started with --expose-gc. */
  async memory(): Promise<NodeJS.MemoryUsage> {
    return (await this.call("memory"))["result"] as NodeJS.MemoryUsage;
  }

  /**
   * Announces `count` type-2 routes generated inside the speaker process; returns how long
   * announceAll took and when it started (epoch ms, comparable across processes).
   */
  async generate(count: number, vtep: string, vni: number): Promise<{ announceMs: number; startedAt: number }> {
    return (await this.call("generate", { count, vtep, vni }))["result"] as { announceMs: number; startedAt: number };
  }

  async refresh(peer: string): Promise<void> {
    await this.call("refresh", { peer });
  }

  /** Cease / Administrative Shutdown to every peer, then the process exits. */
  async stop(communication?: string): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.call("stop", communication ? { communication } : {}).catch(() => undefined);
    await this.exited;
  }

  /** Ends the process without a word to the peers (a crash, for graceful restart tests). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}
