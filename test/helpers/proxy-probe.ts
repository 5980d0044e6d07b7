// `evpn-proxy run` through bench/proxy-gc.ts: as shipped, plus a probe on SIGUSR2 that answers
// with its memory after two full GCs and its event-loop delay since the previous probe.
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventLoopDelay } from "../../bench/eld.js";
import { daemonYaml, freePort, SPEAKER, start } from "./daemon-run.js";

const PROXY_GC = new URL("../../bench/proxy-gc.js", import.meta.url).pathname;

/** process.memoryUsage() of the daemon after two full GCs, and its event-loop delay since the previous probe. */
export interface ProxyProbe {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** V8's code statistics (bytes, metadata included): compiled code, and bytecode. */
  code: { compiled: number; bytecode: number };
  eld: EventLoopDelay;
}

export interface ProbedDaemon {
  child: ChildProcess;
  /** Its stdout and stderr. */
  out: string[];
  exited: Promise<number | null>;
  /** Asks for a probe (SIGUSR2) and waits for it (up to 4 s). */
  probe(): Promise<ProxyProbe>;
}

/** Starts the daemon on `config`; probes are exchanged through the file `probeFile`. */
export function startProbed(config: string, probeFile: string): ProbedDaemon {
  const d = start(config, ["--expose-gc", PROXY_GC, probeFile]);
  return {
    ...d,
    async probe() {
      rmSync(probeFile, { force: true });
      d.child.kill("SIGUSR2");
      for (let i = 0; i < 200 && !existsSync(probeFile); i++) await sleep(20);
      // written with one writeFileSync: a short read means it is still being written
      for (let i = 0; i < 50; i++) {
        try {
          return JSON.parse(readFileSync(probeFile, "utf8")) as ProxyProbe;
        } catch {
          await sleep(20);
        }
      }
      throw new Error(`no probe from the daemon in ${probeFile}`);
    },
  };
}

/** Heap and array buffers: what the daemon holds alive. */
export function liveBytes(p: ProxyProbe): number {
  return p.heapUsed + p.arrayBuffers;
}

/**
 * A private directory (under the system's tmpdir) holding the configuration of a daemon on
 * loopback (daemonYaml: BGP passive towards PEER) that learns MAC routes from VXLAN on `vxlan`
 * from the static VTEP `vtep`, nothing ageing within a run; `neighbor` and `top` add lines to the
 * neighbour's mapping and to the top level. Returns the directory, the file and the BGP port.
 */
export async function learningDaemonConfig(o: {
  name: string;
  vxlan: string;
  vtep: string;
  maxMacs: number;
  learnRate: number;
  neighbor: string;
  top?: string;
}): Promise<{ dir: string; file: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), `evpn-${o.name}-`));
  const port = await freePort(SPEAKER);
  const file = join(dir, "evpn-proxy.yaml");
  const learning = `learning:
  vxlan-listen: ${o.vxlan}
  include-ip: false
  max-macs-per-vtep: ${o.maxMacs}
  max-learn-rate: ${o.learnRate}
  mac-ageing-seconds: 86400
${o.top ?? ""}`;
  writeFileSync(file, daemonYaml(port, [o.vtep], [], learning, false, o.neighbor));
  return { dir, file, port };
}
