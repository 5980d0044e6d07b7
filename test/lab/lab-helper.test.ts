// Proves the namespace lab helper (tools/netlab) on this machine:
// 1. an FRR EVPN VTEP (kernel VXLAN device + bridge + host namespace) and an FRR route reflector
//    accepting peers through `bgp listen range` reach Established over iBGP L2VPN EVPN, and the
//    RR holds the VTEP's type 3 route;
// 2. gobgpd peers with the RR and has that type 3 route in its RIB; it then announces a type 3
//    route on behalf of a Linux kernel static VTEP (what evpn-proxy will do), the FRR VTEP adds
//    it to its flood list and the hosts behind the two VTEPs ping each other over VXLAN (seen
//    by tcpdump);
// 3. after teardown nothing with the lab's prefix is left: namespaces, links, processes, dirs.
// Plus: a lab whose process is SIGKILLed is cleaned up by the next Lab.create of its prefix, and
// a lab whose process gets SIGINT tears itself down.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test, type TestContext } from "node:test";
import { requireTools } from "../helpers/env.js";
import {
  FRR_BIN,
  type GobgpPath,
  Lab,
  type ProcessExit,
  frrEvpnVtepConfig,
  frrRouteReflectorConfig,
  isAlive,
  withLab,
} from "../../tools/netlab/index.js";

const TOOLS = ["ip", "bridge", "vtysh", "gobgpd", "gobgp", "tcpdump", "ping", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];

const RR = "192.0.2.254";
const VTEP = "192.0.2.1";
const GOBGP = "192.0.2.2";
const STATIC_VTEP = "192.0.2.3";

const RR_CONF = frrRouteReflectorConfig({ hostname: "rr", as: 65000, routerId: RR, listenRange: "192.0.2.0/24" });

const VTEP_CONF = frrEvpnVtepConfig({ hostname: "vtep", as: 65000, routerId: VTEP, neighbor: RR });

const GOBGP_CONF = `[global.config]
  as = 65000
  router-id = "${GOBGP}"

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${RR}"
    peer-as = 65000
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 2
  [neighbors.transport.config]
    local-address = "${GOBGP}"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
`;

/** Number of packet records in a pcap file (classic format, as tcpdump -w writes it). */
function pcapPackets(file: string): number {
  const b = readFileSync(file);
  let n = 0;
  for (let off = 24; off + 16 <= b.length; off += 16 + b.readUInt32LE(off + 8)) n++;
  return n;
}

function assertNothingLeft(prefix: string, pids: number[]): void {
  const left = Lab.leftovers(prefix);
  assert.deepEqual(left, { namespaces: [], links: [], processes: [], dirs: [] }, `leftovers of ${prefix}`);
  const netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  assert.ok(!netns.includes(`${prefix}-`), `ip netns list still shows ${prefix}-*:\n${netns}`);
  const links = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
  assert.ok(!links.includes(`${prefix}-`), `ip link still shows ${prefix}-*`);
  assert.deepEqual(
    pids.filter((p) => isAlive(p)),
    [],
    "processes of the lab still alive",
  );
}

test(
  "lab: FRR VTEP and route reflector, gobgpd, static VTEP; teardown leaves nothing",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    const prefix = "t0lab";
    const t0 = Date.now();
    const note = (msg: string): void => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(2)} s: ${msg}`);
    let pids: number[] = [];
    let workDir = "";

    await withLab(t, prefix, async (lab) => {
      workDir = lab.workDir;
      // Underlay: a bridge "fabric" in the RR's namespace joins the VTEPs and gobgpd (192.0.2.0/24).
      for (const n of ["rr", "vtep", "gobgp", "svtep", "h10", "hs"]) await lab.ns(n);
      const ports: string[] = [];
      ports.push((await lab.link("rr", null, "vtep", `${VTEP}/24`)).aIf);
      ports.push((await lab.link("rr", null, "gobgp", `${GOBGP}/24`)).aIf);
      const { aIf: toStatic, bIf: staticUplink } = await lab.link("rr", null, "svtep", `${STATIC_VTEP}/24`);
      ports.push(toStatic);
      await lab.bridge("rr", "fabric", ports, { addrs: `${RR}/24` });
      // FRR VTEP: host h10 - br10 + vx10 (VNI 10, learnt by zebra)
      const h10 = await lab.link("h10", "198.51.100.11/24", "vtep", null, { aMac: "02:00:00:00:01:0a" });
      await lab.bridge("vtep", "br10", [h10.bIf]);
      await lab.vxlan("vtep", "vx10", { vni: 10, local: VTEP, bridge: "br10" });
      // Kernel static VTEP: host hs - br10 + vx10 with a static flood list towards the FRR VTEP
      const hs = await lab.link("hs", "198.51.100.12/24", "svtep", null, { aMac: "02:00:00:00:02:0c" });
      await lab.bridge("svtep", "br10", [hs.bIf]);
      await lab.vxlan("svtep", "vx10", { vni: 10, local: STATIC_VTEP, bridge: "br10", flood: [VTEP] });
      note("topology built");

      // (1) FRR VTEP <-> FRR RR
      const rr = await lab.frr("rr", RR_CONF);
      const vtep = await lab.frr("vtep", VTEP_CONF);
      note("FRR started");
      // gobgpd now already: it connects to the RR on its own, 5-10 s after its start (gobgp 3)
      const gb = await lab.gobgp("gobgp", GOBGP_CONF);
      note("gobgpd started");
      await lab.waitFor(
        "VTEP: session with the RR Established",
        async () => (await vtep.peerState(RR)) === "Established",
      );
      const rrPeer = await lab.waitFor("RR: dynamic peer VTEP Established", async () => {
        const p = (await rr.bgpSummary()).peers?.[VTEP];
        return p?.state === "Established" && p;
      });
      assert.equal(rrPeer.dynamicPeer, true);
      note("VTEP <-> RR Established");
      const imet = await lab.waitFor("RR: the VTEP's type 3 route", async () =>
        (await rr.evpnRoutes()).find((r) => r.prefix === `[3]:[0]:[32]:[${VTEP}]`),
      );
      assert.match(imet.rd, /^192\.0\.2\.1:\d+$/); // auto RD <router-id>:<index>
      assert.equal(imet.paths[0]?.routeType, 3);
      assert.equal(imet.paths[0]?.ip, VTEP);
      assert.equal(imet.paths[0]?.pathFrom, "internal");
      assert.match(imet.paths[0]?.extendedCommunity?.string ?? "", /RT:65000:10/);
      note("type 3 route in the RR");

      // (2) gobgpd <-> RR
      await lab.waitFor("gobgpd: session with the RR Established", () => gb.established(RR), { timeoutMs: 30_000 });
      note("gobgpd <-> RR Established");
      const [key, paths] = await lab.waitFor("gobgpd: the VTEP's type 3 route", async () =>
        Object.entries(await gb.rib("evpn")).find(([k]) => k.startsWith(`[type:multicast][rd:${VTEP}:`)),
      );
      assert.equal(key, `[type:multicast][rd:${imet.rd}][etag:0][ip:${VTEP}]`);
      const path = paths[0] as GobgpPath;
      assert.equal(path.nlri.type, 3);
      assert.equal(path.nlri.value?.["ip"], VTEP);
      assert.equal(path["neighbor-ip"], RR);
      const pmsi = path.attrs.find((a) => a.type === 22);
      assert.equal(pmsi?.["tunnel-id"], VTEP);
      assert.equal(pmsi?.["label"], 10);
      note("type 3 route in gobgpd");

      // gobgpd announces a type 3 route for the static VTEP; FRR floods to it; the hosts ping.
      const cap = await lab.capture("svtep", staticUplink, "udp port 4789");
      // prettier-ignore
      await gb.cli([
        "global", "rib", "-a", "evpn", "add", "multicast", STATIC_VTEP, "etag", "0", "rd", `${STATIC_VTEP}:10`,
        "rt", "65000:10", "encap", "vxlan", "pmsi", "ingress-repl", "10", STATIC_VTEP, "nexthop", STATIC_VTEP,
      ]);
      await lab.waitFor("FRR VTEP: static VTEP in VNI 10's flood list", async () =>
        (await vtep.remoteVteps(10)).includes(STATIC_VTEP),
      );
      await lab.waitFor("h10 pings hs over VXLAN", () => lab.ping("h10", "198.51.100.12"), { timeoutMs: 10_000 });
      await lab.waitFor(
        "FRR VTEP: h10's MAC local in VNI 10",
        async () => (await vtep.evpnMacs(10))["02:00:00:00:01:0a"]?.type === "local",
      );
      const packets = pcapPackets(await cap.stop());
      assert.ok(packets >= 2, `VXLAN packets captured on the static VTEP's uplink: ${packets}`);
      note(`static VTEP reachable, ${packets} VXLAN packets captured`);

      pids = lab.pids();
      assert.deepEqual(
        [...pids].sort(),
        [...rr.pids(), ...vtep.pids(), gb.process.pid].sort(),
        "alive: zebra and bgpd twice, gobgpd (tcpdump has been stopped)",
      );
    });

    // (3) withLab has torn the lab down
    note("torn down");
    assertNothingLeft(prefix, pids);
    assert.ok(!existsSync(workDir), `work directory ${workDir} removed`);
    assert.ok(!existsSync(`/etc/frr/${prefix}-rr`) && !existsSync(`/var/run/frr/${prefix}-vtep`));
  },
);

/** Starts a node process that builds a small lab (namespaces, veth, FRR, a sleep) and waits. */
function startLabProcess(t: TestContext, prefix: string): Promise<{ pid: number; exited: Promise<ProcessExit> }> {
  const lab = new URL("../../tools/netlab/index.js", import.meta.url).href;
  const code = `
    const { Lab } = await import(${JSON.stringify(lab)});
    const lab = await Lab.create(${JSON.stringify(prefix)});
    await lab.ns("a");
    await lab.ns("b");
    await lab.link("a", "192.0.2.1/24", "b", "192.0.2.2/24");
    lab.spawn("a", "sleep", ["600"]);
    await lab.frr("b", "hostname b\\n");
    process.stdout.write("ready\\n");
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<ProcessExit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab process not ready after 15 s:\n${out}`)), 15_000);
    child.stdout.on("data", () => {
      if (out.includes("ready\n")) {
        clearTimeout(timer);
        resolve({ pid: child.pid!, exited });
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`lab process exited ${JSON.stringify(e)}:\n${out}`));
    });
  });
}

test("lab: a SIGKILLed lab is cleaned up by the next Lab.create of its prefix", { timeout: 30_000 }, async (t) => {
  if (!requireTools(t, TOOLS, { root: true })) return;
  const prefix = "t0lbk";
  const child = await startLabProcess(t, prefix);
  const marked = Lab.leftovers(prefix).processes;
  process.kill(child.pid, "SIGKILL");
  await child.exited;
  const left = Lab.leftovers(prefix);
  assert.deepEqual(left.namespaces.sort(), [`${prefix}-a`, `${prefix}-b`]);
  assert.ok(left.processes.length >= 3, `sleep, zebra, bgpd outlive their lab: ${left.processes.join(" ")}`);
  const lab = await Lab.create(prefix);
  assert.deepEqual(Lab.leftovers(prefix).processes, []);
  assert.deepEqual(await lab.teardown(), []);
  assertNothingLeft(prefix, marked);
});

test("lab: SIGINT tears the lab down before the process ends", { timeout: 30_000 }, async (t) => {
  if (!requireTools(t, TOOLS, { root: true })) return;
  const prefix = "t0lbi";
  const child = await startLabProcess(t, prefix);
  const marked = Lab.leftovers(prefix).processes;
  assert.ok(marked.length >= 3);
  process.kill(child.pid, "SIGINT");
  // the handler re-raises the signal once done, so the process still dies of SIGINT
  assert.deepEqual(await child.exited, { code: null, signal: "SIGINT" });
  assertNothingLeft(prefix, marked);
});
