// What the replication labs (issue 12) share besides lab/replication.ts: the tools they need, the
// replicator marker of the proxy's IMET routes, the kernel's reverse-path-filter counter, ping
// bursts, and the frame of a test (build the lab, start the proxies, tear down).
import { type TestContext, test } from "node:test";
import {
  type ReplicationLab,
  type ReplicationProxyConfig,
  buildReplicationLab,
  replicationConfigYaml,
  startReplicationProxy,
  waitForReplication,
  writeReplicationConfig,
} from "../../lab/replication.js";
import { FRR_BIN, type Lab, type LabProcess, withLab } from "../../tools/netlab/index.js";
import { requireTools } from "../helpers/env.js";
import { labNote, labSteps } from "../helpers/lab-steps.js";

export const REPLICATION_LAB_TOOLS = [
  "ip",
  "bridge",
  "vtysh",
  "ping",
  "tcpdump",
  "arping",
  "ndisc6",
  `${FRR_BIN}/zebra`,
  `${FRR_BIN}/bgpd`,
];

/** The large community <as>:0x45565058:2 ("EVPX", 2: a replicating proxy) in FRR's JSON text. */
export const REPLICATOR_MARKER = /\b65000:1163284568:2\b/;

/** TcpExt IPReversePathFilter of a namespace: packets its rp_filter dropped (/proc/net/netstat). */
export async function rpFilterDrops(lab: Lab, ns: string): Promise<number> {
  const text = (await lab.exec(ns, "cat", ["/proc/net/netstat"])).stdout.split("\n");
  for (let i = 0; i + 1 < text.length; i += 2) {
    const names = text[i]!.split(/\s+/);
    const values = text[i + 1]!.split(/\s+/);
    if (names[0] !== "TcpExt:") continue;
    const k = names.indexOf("IPReversePathFilter");
    if (k > 0) return Number(values[k]);
  }
  throw new Error(`no TcpExt IPReversePathFilter in /proc/net/netstat of ${ns}`);
}

export interface PingBurst {
  transmitted: number;
  received: number;
  /** Replies beyond the first to one echo request (ping's "+N duplicates", a "DUP!" line each). */
  duplicates: number;
  summary: string;
}

/** `ping -c <count> -i <interval> -q` from `ns` to `ip`, with its summary line parsed. */
export async function pingBurst(lab: Lab, ns: string, ip: string, count = 100, intervalS = 0.02): Promise<PingBurst> {
  const args = ["-n", "-q", "-c", String(count), "-i", String(intervalS), "-W", "1", ip];
  const r = await lab.exec(ns, "ping", args, { check: false, timeoutMs: 30_000 });
  const summary = /^\d+ packets transmitted.*$/m.exec(r.stdout)?.[0] ?? r.stdout.trim();
  const num = (re: RegExp): number => Number(re.exec(summary)?.[1] ?? 0);
  return {
    transmitted: num(/^(\d+) packets transmitted/),
    received: num(/(\d+) received/),
    duplicates: num(/\+(\d+) duplicates/),
    summary,
  };
}

export interface ReplicationTest {
  t: TestContext;
  lab: Lab;
  rl: ReplicationLab;
  note: (msg: string) => void;
  /** Steps as subtests (60 s each): once one fails, the rest are skipped. */
  step: (name: string, fn: (st: TestContext) => Promise<void>) => Promise<void>;
  /** The running proxies by address (filled by `start`). */
  procs: Record<string, LabProcess>;
  /** Starts every proxy of the lab (configuration `o` with `self` set per proxy) and waits until they replicate. */
  start(o?: Omit<ReplicationProxyConfig, "self">): Promise<void>;
}

/**
 * A lab test of the replication lab: skips (or fails under CI) without root or the tools, builds
 * the lab with `proxies` under `prefix`, runs `body`, stops the proxies and tears the lab down.
 */
export function replicationLabTest(
  name: string,
  prefix: string,
  opts: { proxies?: string[]; timeoutMs?: number },
  body: (c: ReplicationTest) => Promise<void>,
): void {
  test(name, { timeout: opts.timeoutMs ?? 120_000 }, async (t) => {
    if (!requireTools(t, REPLICATION_LAB_TOOLS, { root: true })) return;
    const note = labNote(t);
    await withLab(t, prefix, async (lab) => {
      const rl = await buildReplicationLab(lab, opts.proxies ? { proxies: opts.proxies } : {});
      note(`lab built: s1/s2 flood to ${rl.proxies.join(" and ")}; the FRR VTEPs announce their hosts' MAC/IP routes`);
      const procs: Record<string, LabProcess> = {};
      const start = async (o: Omit<ReplicationProxyConfig, "self"> = {}): Promise<void> => {
        for (const ip of rl.proxies)
          procs[ip] = startReplicationProxy(
            lab,
            writeReplicationConfig(lab, replicationConfigYaml({ ...o, self: ip }), ip),
            ip,
          );
        await waitForReplication(rl, Object.values(procs));
        note(`${rl.proxies.join(" and ")} Established and replicating`);
      };
      const step = labSteps(t, lab, prefix, 60_000);
      await body({ t, lab, rl, note, step, procs, start });
      for (const p of Object.values(procs)) await p.stop();
    });
  });
}
