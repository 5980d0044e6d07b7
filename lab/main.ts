/**
 * `npm run lab`: the newcomer's "main job". Builds the seed's topology in network namespaces
 * (lab/seed.ts: FRR route reflector, two FRR EVPN VTEPs, two Linux static VTEPs, a host per VTEP
 * and service, the proxy's namespace), shows which hosts ping each other before the proxy runs,
 * starts evpn-proxy, shows the pings again with FRR's flood lists and MAC tables, then leaves the
 * lab up for exploring until Ctrl-C. Everything is removed on exit.
 *
 *   node dist/lab/main.js               explore: stays up until Ctrl-C
 *   node dist/lab/main.js --scenario    exits after the second matrix: 0 when both are as expected
 *   node dist/lab/main.js --no-proxy    builds the lab without starting the proxy, stays up
 *   node dist/lab/main.js --replication the replication lab (lab/replication.ts): static VTEPs flood
 *                                       only to the proxy, which replicates and answers ARP/ND;
 *                                       pings (IPv4, IPv6), what the proxy answered, the static
 *                                       VTEPs' learned MACs; with --scenario it exits 0/1
 *
 * Needs root, iproute2, FRR 8.4 (zebra, bgpd, vtysh) and ping; --replication also tcpdump, arping
 * and ndisc6. LAB_KEEP=1 keeps the work
 * directory (configuration, proxy and FRR logs) after exit; LAB_VERBOSE=1 prints every command.
 */
import { readFileSync } from "node:fs";
import { hasTool, isRoot } from "../test/helpers/env.js";
import { FRR_BIN, Lab, type LabProcess } from "../tools/netlab/index.js";
import { replicationMain } from "./replication-main.js";
import {
  EVPN_VTEPS,
  formatMatrix,
  PROXY_IP,
  proxyConfigYaml,
  RR_IP,
  SERVICES,
  type SeedLab,
  STATIC_MAC,
  STATIC_VTEPS,
  buildSeedLab,
  startProxy,
  unexpectedPings,
  waitWithProxy,
  writeProxyConfig,
  type PingMatrix,
  type Phase,
} from "./seed.js";

const PREFIX = "lab";

const args = new Set(process.argv.slice(2));
if (args.has("--help") || args.has("-h")) {
  process.stdout.write(
    "usage: npm run lab [-- --scenario | --no-proxy | --replication [--scenario]]\n" +
      "  (no flag)      build the lab, ping, start evpn-proxy, ping again, stay up until Ctrl-C\n" +
      "  --scenario     the same, but exit after the second ping matrix (exit 0 when as expected)\n" +
      "  --no-proxy     build the lab and ping, without the proxy; stay up until Ctrl-C\n" +
      "  --replication  the replication lab: static VTEPs flood only to evpn-proxy, which replicates\n" +
      "                 and answers ARP/ND; pings, answers, learned MACs; stays up (or --scenario)\n",
  );
  process.exit(0);
}
const unknown = [...args].filter((a) => !["--scenario", "--no-proxy", "--replication"].includes(a));
if (unknown.length > 0 || (args.has("--replication") && args.has("--no-proxy"))) {
  process.stderr.write(`unknown or conflicting argument(s): ${[...args].join(" ")} (try --help)\n`);
  process.exit(2);
}
const replication = args.has("--replication");
const missing = [
  ...["ip", "bridge", "ping", "vtysh", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`],
  ...(replication ? ["tcpdump", "arping", "ndisc6"] : []),
].filter((x) => !hasTool(x));
if (!isRoot()) missing.push("root privileges (network namespaces)");
if (missing.length > 0) {
  process.stderr.write(
    `npm run lab needs: ${missing.join(", ")} (Debian: apt-get install frr iproute2 iputils-ping tcpdump arping ndisc6)\n`,
  );
  process.exit(2);
}
const scenario = args.has("--scenario");
const noProxy = args.has("--no-proxy");

const t0 = Date.now();
const say = (msg = ""): void => void process.stdout.write(`${msg}\n`);
const step = (msg: string): void => say(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const heading = (msg: string): void => say(`\n=== ${msg} ${"=".repeat(Math.max(3, 94 - msg.length))}`);

function showMatrix(m: PingMatrix, phase: Phase): boolean {
  say(formatMatrix(m, phase));
  const bad = unexpectedPings(m, phase);
  if (bad.length === 0) {
    say(
      phase === "before"
        ? "as expected: static<->static and EVPN<->EVPN ping, static<->EVPN do not (FRR floods only to EVPN VTEPs)"
        : "as expected: every host pair pings in both directions",
    );
  } else {
    say(
      `NOT as expected (marked !): ${bad.map((r) => `${r.from.name}->${r.to.name} ${r.ok ? "ok" : "fails"}`).join(", ")}`,
    );
  }
  return bad.length === 0;
}

const ip4 = (ip: string): number => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);

/** "192.0.2.1 (s1, static)" for the lab's VTEPs. */
function vtepLabel(ip: string): string {
  const v = [...STATIC_VTEPS, ...EVPN_VTEPS].find((x) => x.ip === ip);
  return v ? `${ip} (${v.name}${v.kind === "static" ? ", static" : ""})` : ip;
}

async function showFrr(seed: SeedLab): Promise<void> {
  say("\nFRR's flood lists (remote VTEPs per VNI, from type 3 routes; `show evpn vni <vni>`):");
  const fl = await seed.floodLists();
  for (const v of EVPN_VTEPS) {
    for (const s of SERVICES) {
      const list = [...fl[v.name]![s.vni]!].sort((a, b) => ip4(a) - ip4(b));
      say(`  ${v.name} VNI ${s.vni}: ${list.map(vtepLabel).join(", ") || "-"}`);
    }
  }
  say("FRR's MAC tables (`show evpn mac vni <vni>`; sticky: `show evpn mac vni <vni> mac <mac>`):");
  for (const v of EVPN_VTEPS) {
    const frr = seed.frr[v.name]!;
    for (const s of SERVICES) {
      const macs = await frr.evpnMacs(s.vni);
      const cells: string[] = [];
      for (const [mac, e] of Object.entries(macs).sort(([a], [b]) => a.localeCompare(b))) {
        let sticky = false;
        if (e.type === "remote") {
          const d = await frr.vtyshJson<Record<string, { stickyMac?: boolean }>>(
            `show evpn mac vni ${s.vni} mac ${mac} json`,
          );
          sticky = d[mac]?.stickyMac === true;
        }
        const where = e.type === "local" ? `port ${e.intf ?? "?"}` : `at ${e.remoteVtep ?? "?"}`;
        cells.push(`${mac} ${e.type} ${where}${sticky ? " STICKY" : ""}`);
      }
      say(`  ${v.name} VNI ${s.vni}: ${cells.join("; ") || "-"}`);
    }
  }
}

function explain(seed: SeedLab, configFile: string | undefined, proxy: LabProcess | undefined): void {
  const ns = (n: string): string => seed.nsName(n);
  heading("the lab stays up for exploring; Ctrl-C removes everything");
  say(
    `namespaces: ${["sw", "rr", "px", ...STATIC_VTEPS.map((v) => v.name), ...EVPN_VTEPS.map((v) => v.name)].map(ns).join(" ")}`,
  );
  say(`hosts:      ${seed.hosts.map((h) => ns(h.name)).join(" ")}`);
  say("");
  say("try:");
  const tips: [string, string][] = [
    [`ip netns exec ${ns("h10s1")} ping 198.51.100.11`, "static host -> host behind FRR VTEP e1"],
    [`ip netns exec ${ns("h20e2")} ping 203.0.113.2`, "VNI 20 (EVI 200): EVPN host -> static host"],
    [`vtysh -N ${ns("e1")} -c 'show evpn vni 10'`, "FRR's flood list (remote VTEPs)"],
    [`vtysh -N ${ns("e1")} -c 'show evpn mac vni 10'`, `MACs; ${STATIC_MAC} is the proxy's sticky one`],
    [`vtysh -N ${ns("rr")} -c 'show bgp l2vpn evpn'`, "all routes; the proxy's have RD <static VTEP>:<EVI>"],
    [`vtysh -N ${ns("rr")} -c 'show bgp l2vpn evpn summary'`, `BGP sessions; the proxy is ${PROXY_IP}`],
    [`ip netns exec ${ns("s1")} bridge fdb show dev vx10`, "a static VTEP's hand-written flood list"],
    [`ip netns exec ${ns("px")} tcpdump -ni eth0 -v tcp port 179`, `BGP between the proxy and the RR ${RR_IP}`],
    [`ip netns exec ${ns("e1")} tcpdump -ni eth0 udp port 4789`, "VXLAN on an FRR VTEP's underlay"],
  ];
  if (configFile) tips.push([`cat ${configFile}`, "the proxy's configuration"]);
  if (proxy) {
    tips.push([`tail -f ${proxy.logFile}`, "the proxy's log (JSON lines)"]);
    tips.push([`kill -HUP ${proxy.pid}`, "after editing the configuration: the proxy reloads it"]);
  }
  const w = Math.max(...tips.map(([c]) => c.length));
  for (const [c, why] of tips) say(`  ${c.padEnd(w)}  # ${why}`);
  say("");
  say("LAB_KEEP=1 npm run lab keeps the work directory (configs, logs) after exit.");
}

/** Never resolves; keeps the process alive until Ctrl-C (the lab's SIGINT handler cleans up). */
function untilInterrupted(): Promise<number> {
  setInterval(() => undefined, 1 << 30);
  return new Promise<number>(() => undefined);
}

async function main(): Promise<number> {
  heading("building the lab (seed topology, FRR in place of SR Linux)");
  const lab = await Lab.create(PREFIX);
  const seed = await buildSeedLab(lab, { log: step });

  heading("pings before the proxy runs");
  const before = showMatrix(await seed.pingMatrix(), "before");
  await showFrr(seed);
  if (noProxy) {
    explain(seed, undefined, undefined);
    return untilInterrupted();
  }

  heading("starting evpn-proxy");
  const configFile = writeProxyConfig(lab, proxyConfigYaml());
  say(`$ cat ${configFile}`);
  say(readFileSync(configFile, "utf8").trimEnd());
  const proxy = startProxy(lab, configFile);
  step(`evpn-proxy run --config ${configFile} (pid ${proxy.pid}, log ${proxy.logFile})`);
  const wait = <T>(what: string, fn: () => Promise<T | undefined | null | false>): Promise<T> =>
    waitWithProxy(lab, proxy, what, fn);
  await wait("the route reflector's session with the proxy Established", async () => {
    return (await seed.rr.peerState(PROXY_IP)) === "Established";
  });
  step("BGP session proxy <-> route reflector Established");
  await wait("the FRR VTEPs flood to both static VTEPs in every VNI", async () => {
    const fl = await seed.floodLists();
    return EVPN_VTEPS.every((v) =>
      SERVICES.every((s) => STATIC_VTEPS.every((sv) => fl[v.name]![s.vni]!.includes(sv.ip))),
    );
  });
  step("the FRR VTEPs flood to the static VTEPs");
  say("\nThe proxy's routes as the route reflector has them (RD <static VTEP>:<EVI>; `show bgp l2vpn evpn`):");
  const ours = (await seed.rr.evpnRoutes()).filter((r) => !EVPN_VTEPS.some((v) => r.rd.startsWith(`${v.ip}:`)));
  for (const r of ours.sort((a, b) => `${a.rd} ${a.prefix}`.localeCompare(`${b.rd} ${b.prefix}`))) {
    const p = r.paths[0];
    const kind = r.prefix.startsWith("[3]") ? "type 3 (IMET)" : "type 2 (MAC) ";
    say(`  ${kind}  RD ${r.rd.padEnd(15)} ${r.prefix.padEnd(34)} ${p?.extendedCommunity?.string ?? ""}`);
  }

  heading("pings with the proxy");
  const after = showMatrix(await seed.pingMatrix(), "after");
  await showFrr(seed);

  if (scenario) {
    heading(before && after ? "scenario passed" : "scenario FAILED");
    if (!(before && after)) say(lab.dumpLogs(20));
    await proxy.stop();
    const problems = await lab.teardown();
    if (problems.length > 0) say(`teardown problems: ${problems.join("; ")}`);
    return before && after && problems.length === 0 ? 0 : 1;
  }
  explain(seed, configFile, proxy);
  void proxy.exited.then((e) => step(`evpn-proxy exited ${JSON.stringify(e)} — see ${proxy.logFile}`));
  return untilInterrupted();
}

(replication ? replicationMain(PREFIX, { say, step, heading, untilInterrupted, scenario }) : main()).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`\nlab failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1); // the lab's exit handler tears everything down
  },
);
