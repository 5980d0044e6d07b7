/**
 * `npm run lab -- --replication`: the replication lab (lab/replication.ts). Builds it, starts
 * evpn-proxy with `replication: proxy` (and the ARP/ND proxy on, its default), shows the route
 * reflector's view of the proxy's routes, the ping matrices (IPv4 and IPv6), what the proxy
 * answered to ARP requests and neighbour solicitations from a static host (with how many of
 * those requests the other hosts saw), and the MACs the flood-and-learn static VTEPs learned
 * and where; then stays up until Ctrl-C, or with --scenario exits 0 when all is as expected.
 */
import { readFileSync } from "node:fs";
import { Lab } from "../tools/netlab/index.js";
import { type PingMatrix, PROXY_IP, SERVICES, STATIC_VTEPS, formatMatrix, unexpectedPings } from "./seed.js";
import {
  type ReplicationLab,
  buildReplicationLab,
  questions,
  replicationConfigYaml,
  resolutionProblems,
  resolveWatched,
  startReplicationProxy,
  waitForReplication,
  writeReplicationConfig,
} from "./replication.js";

export interface LabUi {
  say(msg?: string): void;
  step(msg: string): void;
  heading(msg: string): void;
  untilInterrupted(): Promise<number>;
  scenario: boolean;
}

function showMatrix(ui: LabUi, m: PingMatrix, family: string): boolean {
  ui.say(`${family}:`);
  ui.say(formatMatrix(m, "after"));
  const bad = unexpectedPings(m, "after");
  ui.say(
    bad.length === 0
      ? "as expected: every host pair pings in both directions"
      : `NOT as expected (marked !): ${bad.map((r) => `${r.from.name}->${r.to.name}`).join(", ")}`,
  );
  return bad.length === 0;
}

async function showFdb(ui: LabUi, rl: ReplicationLab): Promise<void> {
  ui.say("\nWhat the static VTEPs learned (`bridge fdb show dev vx<vni>`: inner MAC at outer source):");
  for (const v of STATIC_VTEPS) {
    for (const s of SERVICES) {
      const entries = await rl.vxlanFdb(v.name, s.vni);
      const text = entries.map((e) => `${e.mac}${e.state === "permanent" ? " (flood)" : ""} at ${e.dst}`);
      ui.say(`  ${v.name} vx${s.vni}: ${text.join("; ") || "-"}`);
    }
  }
}

export async function replicationMain(prefix: string, ui: LabUi): Promise<number> {
  const { say, step, heading } = ui;
  heading("building the replication lab (static VTEPs flood only to the proxy)");
  const lab = await Lab.create(prefix);
  const rl = await buildReplicationLab(lab, { log: step });

  heading("starting evpn-proxy (replication: proxy)");
  const configFile = writeReplicationConfig(lab, replicationConfigYaml());
  const proxy = startReplicationProxy(lab, configFile);
  say(`$ cat ${configFile}`);
  say(readFileSync(configFile, "utf8").trimEnd());
  step(`evpn-proxy (pid ${proxy.pid}, log ${proxy.logFile})`);
  await waitForReplication(rl, [proxy]);
  step("the proxy is Established, the FRR VTEPs flood to it (not to s1/s2), it replicates");
  say("\nThe proxy's routes as the route reflector has them (`show bgp l2vpn evpn`):");
  const ours = (await rl.rr.evpnRoutes()).filter((r) => r.paths.some((p) => p.peerId === PROXY_IP));
  for (const r of ours.sort((a, b) => `${a.rd} ${a.prefix}`.localeCompare(`${b.rd} ${b.prefix}`)))
    say(`  RD ${r.rd.padEnd(15)} ${r.prefix.padEnd(60)} ${r.paths[0]?.extendedCommunity?.string ?? ""}`);

  heading("pings through the proxy");
  const ok4 = showMatrix(ui, await rl.pingMatrix(), "IPv4");
  const ok6 = showMatrix(ui, await rl.pingMatrix6(), "IPv6");

  heading("what the proxy answered (a static host asks; tcpdump on every other host of VNI 10)");
  let answersOk = true;
  for (const q of questions(10, "s1")) {
    const r = await resolveWatched(lab, q.from, q.ip);
    const problems = resolutionProblems(r, q.want);
    answersOk &&= problems.length === 0;
    say(`  ${q.from.name} asks who has ${q.ip} (${q.what}):`);
    say(`    answered by ${r.answers.join(", ") || "nobody"}; requests seen: ${JSON.stringify(r.seen)}`);
    say(`    ${problems.length === 0 ? "as expected" : `NOT as expected: ${problems.join("; ")}`}`);
  }
  await showFdb(ui, rl);

  if (ui.scenario) {
    const ok = ok4 && ok6 && answersOk;
    heading(ok ? "scenario passed" : "scenario FAILED");
    if (!ok) say(lab.dumpLogs(20));
    await proxy.stop();
    const problems = await lab.teardown();
    if (problems.length > 0) say(`teardown problems: ${problems.join("; ")}`);
    return ok && problems.length === 0 ? 0 : 1;
  }
  heading("the lab stays up for exploring; Ctrl-C removes everything");
  const ns = (n: string): string => rl.nsName(n);
  const tips: [string, string][] = [
    [`ip netns exec ${ns("h10s1")} arping -c 1 198.51.100.11`, "answered by the proxy, not by h10e1"],
    [`ip netns exec ${ns("h10s1")} ndisc6 2001:db8:10::11 eth0`, "the same for IPv6"],
    [`ip netns exec ${ns("s1")} bridge fdb show dev vx10`, "MACs learned at the VTEP that sent them"],
    [`ip netns exec ${ns("px")} tcpdump -ni eth0 udp port 4789`, "the copies the proxy sends"],
    [`vtysh -N ${ns("e1")} -c 'show evpn vni 10'`, "FRR's flood list: e2 and the proxy"],
    [`vtysh -N ${ns("e1")} -c 'show evpn arp-cache vni 10'`, "what FRR answers from (neigh_suppress)"],
    [`tail -f ${proxy.logFile}`, "the proxy's log (JSON lines)"],
  ];
  const w = Math.max(...tips.map(([c]) => c.length));
  for (const [c, why] of tips) say(`  ${c.padEnd(w)}  # ${why}`);
  void proxy.exited.then((e) => step(`evpn-proxy exited ${JSON.stringify(e)} — see ${proxy.logFile}`));
  return ui.untilInterrupted();
}
