/**
 * Captures real BGP EVPN messages sent by FRR 8.4 and by GoBGP 3 in a throw-away namespace lab
 * and writes them as hex fixtures for the codec's round-trip tests.
 *
 *   npm run build && node dist/scripts/capture-interop-fixtures.js [OUT_DIR]
 *     OUT_DIR   default: <repo>/test/fixtures/interop
 *   LAB_KEEP=1  keep the lab's work directory (pcap, daemon logs)
 *
 * Needs root, iproute2, FRR 8.4, gobgpd/gobgp, tcpdump, tshark, ping, dpkg-query. Writes
 * OUT_DIR/frr-8.4.hex, OUT_DIR/gobgp-3.hex and OUT_DIR/README.md. Fixture format: '#' comment
 * lines, blank lines, and one complete BGP message (marker, length, type, body) per line in
 * lowercase hex.
 *
 * The lab's prefix is "efx": namespaces efx-frr (FRR, EVPN VTEP 192.0.2.1), efx-gobgp (gobgpd
 * 192.0.2.2), efx-h10 and efx-h20 (hosts in VNI 10 and 20 behind FRR). Everything is removed on
 * exit, also on failure. Only documentation address ranges are used, only inside the namespaces.
 *
 * Runs differ in timing only: the TCP ports, how often KEEPALIVEs and repeats were sent, and how
 * FRR packs routes into UPDATEs (e.g. host h10's IPv4 and IPv6 MAC/IP routes in one or two).
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FRR_BIN,
  type Frr,
  type GoBgp,
  Lab,
  type Topology,
  buildTopology,
  frrEvpnVtepConfig,
  sleep,
} from "../tools/netlab/index.js";
import {
  ASN,
  FRR_IP,
  GOBGP_IP,
  type Speaker,
  crossCheck,
  header,
  interopNotes,
  log,
  readmeText,
  reassemble,
  verify,
  writeFixture,
} from "./interop-fixture-files.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const OUT_DIR = process.argv[2] ?? join(REPO, "test/fixtures/interop");
/** Seconds to wait for each expected routing state. */
const WAIT_MS = 60_000;

//  h10 --veth-- [efx-br10 + efx-vx10: VNI 10, SVI 198.51.100.1/25, 2001:db8:10::1/64]
//  h20 --veth-- [efx-br20 + efx-vx20: VNI 20, no SVI]
//               [efx-br100 + efx-vx100: L3VNI 100 of the default VRF; its MAC is the router MAC]
//                frr  efx-f0 192.0.2.1/24 ==veth== efx-g0 192.0.2.2/24  gobgp
const vxlan = (name: string, vni: number): NonNullable<Topology["vxlans"]>[number] => ({
  ns: "frr",
  name: `efx-vx${name}`,
  vni,
  local: FRR_IP,
  bridge: `efx-br${name}`,
});
const TOPOLOGY: Topology = {
  namespaces: ["frr", "gobgp", "h10", "h20"],
  links: [
    { a: "frr", aAddr: `${FRR_IP}/24`, b: "gobgp", bAddr: `${GOBGP_IP}/24`, aIf: "efx-f0", bIf: "efx-g0" },
    {
      a: "h10",
      aAddr: ["198.51.100.11/25", "2001:db8:10::11/64"],
      b: "frr",
      aIf: "efx-h10a",
      bIf: "efx-h10p",
      aMac: "02:00:00:00:01:0a",
    },
    { a: "h20", aAddr: "198.51.100.130/25", b: "frr", aIf: "efx-h20a", bIf: "efx-h20p", aMac: "02:00:00:00:01:14" },
  ],
  bridges: [
    { ns: "frr", name: "efx-br100", mac: "02:00:00:00:01:64" },
    {
      ns: "frr",
      name: "efx-br10",
      mac: "02:00:00:00:01:01",
      addrs: ["198.51.100.1/25", "2001:db8:10::1/64"],
      ports: ["efx-h10p"],
    },
    { ns: "frr", name: "efx-br20", mac: "02:00:00:00:01:02", ports: ["efx-h20p"] },
  ],
  vxlans: [vxlan("100", 100), vxlan("10", 10), vxlan("20", 20)],
};

const FRR_CONF = frrEvpnVtepConfig({
  hostname: "efx-frr",
  as: ASN,
  routerId: FRR_IP,
  neighbor: GOBGP_IP,
  global: ["vni 100"],
  ipv4Networks: ["192.0.2.0/24", "203.0.113.0/25"],
  ipv6Networks: ["2001:db8:10::/64"],
  evpn: ["vni 10", " advertise-default-gw", "exit-vni", "advertise ipv4 unicast", "advertise ipv6 unicast"],
});

// passive: exactly one TCP session at a time, FRR connects
const GOBGPD_CONF = `[global.config]
  as = ${ASN}
  router-id = "${GOBGP_IP}"
  local-address-list = ["${GOBGP_IP}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${FRR_IP}"
    peer-as = ${ASN}
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 2
  [neighbors.transport.config]
    passive-mode = true
    local-address = "${GOBGP_IP}"
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 30
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`;

/** Routes injected into gobgpd, as `gobgp global rib -a evpn add` arguments (VTEP 192.0.2.2). */
const rd = (n: number): string[] => ["rd", `${GOBGP_IP}:${n}`];
const rt = (...n: number[]): string[] => ["rt", ...n.map((x) => `${ASN}:${x}`)];
const NH = ["encap", "vxlan", "nexthop", GOBGP_IP];
const LACP = ["esi", "lacp", "02:00:00:00:00:aa", "1"];
const macadv = (mac: string, ip: string, label: number, ...rest: string[]): string[] => [
  "macadv",
  mac,
  ip,
  ...rest,
  "etag",
  "0",
  "label",
  String(label),
  ...rd(label),
];
const imet = (vni: number): string[] => ["multicast", GOBGP_IP, "etag", "0", ...rd(vni)];
const v6Prefix = ["prefix", "2001:db8:20::/64", "gw", "::", "etag", "0", "label", "100", ...rd(100)];
const adEvi = ["a-d", ...LACP, "etag", "0", "label", "10", ...rd(10)];
// (gobgp 3.10's CLI has no MAC Mobility/sticky option; 'default-gateway' and 'esi-label ...
// single-active' do not parse together with the other options)
const GOBGP_ROUTES: string[][] = [
  // type 3 inclusive multicast with PMSI ingress replication, VNI 10 and 20
  [...imet(10), ...rt(10), "encap", "vxlan", "pmsi", "ingress-repl", "10", GOBGP_IP, "nexthop", GOBGP_IP],
  [...imet(20), ...rt(20), "encap", "vxlan", "pmsi", "ingress-repl", "20", GOBGP_IP, "nexthop", GOBGP_IP],
  // type 2 MAC/IP: IPv4, MAC only, IPv6, two RTs, ESI type 1 (LACP) and type 0, router MAC
  [...macadv("02:00:00:00:02:01", "198.51.100.21", 10), ...rt(10), ...NH],
  [...macadv("02:00:00:00:02:02", "0.0.0.0", 10), ...rt(10), ...NH],
  [...macadv("02:00:00:00:02:03", "2001:db8:10::23", 10), ...rt(10), ...NH],
  [...macadv("02:00:00:00:02:04", "198.51.100.24", 10), ...rt(10, 20), ...NH],
  [...macadv("02:00:00:00:02:05", "198.51.100.25", 10, ...LACP), ...rt(10), ...NH],
  [...macadv("02:00:00:00:02:06", "0.0.0.0", 20, "esi", "arbitrary", "11:22:33:44:55:66:77:88:99"), ...rt(20), ...NH],
  [...macadv("02:00:00:00:02:fe", "198.51.100.126", 10), ...rt(10), "encap", "vxlan"].concat([
    "router-mac",
    "02:00:00:00:02:fe",
    "nexthop",
    GOBGP_IP,
  ]),
  // type 5 IP prefix (IPv4 and IPv6) in L3VNI 100
  ["prefix", "203.0.113.128/25", "gw", "0.0.0.0", "etag", "0", "label", "100", ...rd(100), ...rt(100)].concat([
    "encap",
    "vxlan",
    "router-mac",
    "02:00:00:00:02:fe",
    "nexthop",
    GOBGP_IP,
  ]),
  [...v6Prefix, ...rt(100), "encap", "vxlan", "router-mac", "02:00:00:00:02:fe", "nexthop", GOBGP_IP],
  // type 1 Ethernet A-D (per ES with ESI label, and per EVI) and type 4 ES route
  ["a-d", ...LACP, "etag", "4294967295", "label", "0", ...rd(1), ...rt(10), "encap", "vxlan"].concat([
    "esi-label",
    "100",
    "nexthop",
    GOBGP_IP,
  ]),
  [...adEvi, ...rt(10), ...NH],
  ["esi", GOBGP_IP, ...LACP, ...rd(1), ...NH],
];

/** What FRR must have announced, as gobgpd renders it. */
const FRR_SENT = [
  `[type:multicast][rd:${FRR_IP}:`, // type 3
  "[mac:02:00:00:00:01:0a][ip:<nil>]", // host h10: MAC only
  "[mac:02:00:00:00:01:0a][ip:198.51.100.11]", // host h10: MAC + IPv4
  "[mac:02:00:00:00:01:0a][ip:2001:db8:10::11]", // host h10: MAC + IPv6
  "[mac:02:00:00:00:01:01][ip:198.51.100.1]", // SVI, default gateway
  "[mac:02:00:00:00:01:14][ip:<nil>]", // host h20 (VNI 20)
  "[mac:02:00:00:00:14:01][ip:<nil>]", // static MAC
  "[mac:02:00:00:00:14:02][ip:<nil>]", // static sticky MAC
  "[prefix:203.0.113.0/25]", // type 5 IPv4
  "[prefix:2001:db8:10::/64]", // type 5 IPv6
  "192.0.2.0/24", // IPv4 unicast
  "203.0.113.0/25 ", // IPv4 unicast
];

class Run {
  constructor(
    readonly lab: Lab,
    readonly frr: Frr,
    readonly gobgp: GoBgp,
  ) {}

  async wait(what: string, fn: () => Promise<boolean>): Promise<void> {
    const t0 = Date.now();
    log(`waiting for: ${what}`);
    await this.lab.waitFor(what, fn, { timeoutMs: WAIT_MS, intervalMs: 1000 });
    log(`ok after ${Math.round((Date.now() - t0) / 1000)}s: ${what}`);
  }

  /** Runs `gobgp <args>` in gobgpd's namespace, printing it. */
  async gobgpCmd(args: string[]): Promise<void> {
    log(`+ gobgp ${args.join(" ")}`);
    await this.gobgp.cli(args);
  }

  async frrCmd(args: string[], check = true): Promise<void> {
    log(`+ ${args.join(" ")}`);
    await this.lab.exec("frr", args[0]!, args.slice(1), { check });
  }

  async frrConfigure(lines: string[]): Promise<void> {
    log(`+ vtysh: ${lines.join(" ")}`);
    await this.frr.configure(lines);
  }

  sessionUp = (): Promise<boolean> => this.gobgp.established(FRR_IP);

  /** What gobgpd received from FRR (gobgp's text rendering) contains every pattern / none. */
  async gobgpHas(patterns: string[], none = false): Promise<boolean> {
    const rib = [
      await this.gobgp.cli(["neighbor", FRR_IP, "adj-in", "-a", "evpn"]),
      await this.gobgp.cli(["neighbor", FRR_IP, "adj-in", "-a", "ipv4"]),
    ].join("\n");
    return patterns.every((p) => rib.includes(p) !== none);
  }

  /** FRR holds `n` prefixes of `family` received from gobgpd. */
  frrReceived = (family: string, n: number) => async (): Promise<boolean> =>
    ((await this.frr.bgpSummary(family)).peers?.[GOBGP_IP]?.pfxRcd ?? -1) === n;
}

async function exchange(r: Run): Promise<void> {
  await r.wait("BGP session established", r.sessionUp);

  log("letting FRR learn MACs and neighbours (host traffic, static fdb entries)");
  const ping = (ns: string, dest: string, check = true): Promise<unknown> =>
    r.lab.exec(ns, "ping", ["-c", "2", "-i", "0.2", dest], { check });
  await ping("h10", "198.51.100.1");
  await ping("h10", "2001:db8:10::1");
  // no SVI in VNI 20: the ARP broadcast is enough for the bridge to learn the MAC
  await ping("h20", "198.51.100.131", false);
  await r.frrCmd(["bridge", "fdb", "add", "02:00:00:00:14:01", "dev", "efx-h20p", "master", "static"]);
  await r.frrCmd(["bridge", "fdb", "add", "02:00:00:00:14:02", "dev", "efx-h20p", "master", "static", "sticky"]);

  log("injecting routes into gobgpd");
  const ev = ["global", "rib", "-a", "evpn"];
  for (const route of GOBGP_ROUTES) await r.gobgpCmd([...ev, "add", ...route]);
  // plain IPv4 unicast (one with MED, LOCAL_PREF and a community)
  await r.gobgpCmd(
    ["global", "rib", "-a", "ipv4", "add", "203.0.113.192/26", "nexthop", GOBGP_IP].concat([
      "med",
      "10",
      "local-pref",
      "200",
      "community",
      `${ASN}:100`,
    ]),
  );
  await r.gobgpCmd(["global", "rib", "-a", "ipv4", "add", "203.0.113.224/27", "nexthop", GOBGP_IP]);
  let evpn = GOBGP_ROUTES.length;
  let ipv4 = 2;

  // (gobgp 3.10 treats FRR's routes carrying the EVPN ND extended community - the SVI's IPv6
  // addresses - as withdrawn, "unknown evpn subtype: 8", so those are checked on FRR's side.)
  await r.wait("FRR's routes in gobgpd", () => r.gobgpHas(FRR_SENT));
  await r.wait("FRR's IPv6 SVI route in FRR", async () =>
    (await r.frr.vtysh("show bgp l2vpn evpn route")).includes("[02:00:00:00:01:01]:[128]:[2001:db8:10::1]"),
  );
  await r.wait(`gobgpd's ${evpn} EVPN routes in FRR`, r.frrReceived("l2vpn evpn", evpn));
  await r.wait(`gobgpd's ${ipv4} IPv4 routes in FRR`, r.frrReceived("ipv4 unicast", ipv4));

  log("MAC mobility 1: gobgpd announces host h10's MAC/IP too (gobgpd adds MAC Mobility seq 0)");
  await r.gobgpCmd([...ev, "add", ...macadv("02:00:00:00:01:0a", "198.51.100.11", 10), ...rt(10), ...NH]);
  evpn++;
  await r.wait("h10's MAC/IP from gobgpd in FRR", r.frrReceived("l2vpn evpn", evpn));

  log("MAC mobility 2: a MAC moves from gobgpd's VTEP to FRR's and back");
  const moving = [...ev, "add", ...macadv("02:00:00:00:01:0b", "0.0.0.0", 10), ...rt(10), ...NH];
  await r.gobgpCmd(moving);
  await r.wait(
    "FRR sees 02:00:00:00:01:0b as remote",
    async () => (await r.frr.evpnMacs(10))["02:00:00:00:01:0b"]?.type === "remote",
  );
  // the MAC appears locally on FRR: FRR announces it with MAC Mobility seq 1, gobgpd withdraws
  await r.frrCmd(["bridge", "fdb", "replace", "02:00:00:00:01:0b", "dev", "efx-h10p", "master", "static"]);
  await r.wait("FRR announces the moved MAC with MAC Mobility seq 1", () =>
    r.gobgpHas(["[mac:02:00:00:00:01:0b][ip:<nil>]"]),
  );
  // gobgpd announces it again: seq 2 (one higher than FRR's); FRR withdraws
  await r.gobgpCmd(moving);
  await r.wait("FRR withdraws the moved-back MAC", () => r.gobgpHas(["[mac:02:00:00:00:01:0b]"], true));
  evpn++;
  await r.wait(`gobgpd's ${evpn} EVPN routes in FRR`, r.frrReceived("l2vpn evpn", evpn));

  log("withdrawing routes on both sides");
  await r.gobgpCmd([...ev, "del", ...macadv("02:00:00:00:02:02", "0.0.0.0", 10)]);
  await r.gobgpCmd([...ev, "del", ...macadv("02:00:00:00:02:03", "2001:db8:10::23", 10)]);
  await r.gobgpCmd([...ev, "del", ...imet(20)]);
  await r.gobgpCmd([...ev, "del", ...v6Prefix]);
  await r.gobgpCmd([...ev, "del", ...adEvi]);
  await r.gobgpCmd(["global", "rib", "-a", "ipv4", "del", "203.0.113.224/27"]);
  evpn -= 5;
  ipv4 -= 1;
  await r.frrCmd(["bridge", "fdb", "del", "02:00:00:00:14:01", "dev", "efx-h20p", "master"]); // one type 2
  await r.frrConfigure([`router bgp ${ASN}`, "address-family ipv4 unicast", "no network 203.0.113.0/25"]);
  await r.frrCmd(["ip", "link", "set", "efx-vx20", "down"]); // VNI 20 goes away: its type 3 and 2 routes
  await r.wait("gobgpd's EVPN withdrawals in FRR", r.frrReceived("l2vpn evpn", evpn));
  await r.wait("gobgpd's IPv4 withdrawal in FRR", r.frrReceived("ipv4 unicast", ipv4));
  const gone = ["[mac:02:00:00:00:14:01]", "[mac:02:00:00:00:01:14]", "[prefix:203.0.113.0/25]", "203.0.113.0/25 "];
  await r.wait("FRR's withdrawals in gobgpd", () => r.gobgpHas(gone, true));

  log("FRR asks gobgpd for a route refresh");
  await r.frr.vtysh(`clear bgp ${GOBGP_IP} soft in`);
  await sleep(4000); // time for gobgpd's answer and a few KEEPALIVEs

  log("FRR shuts the session down (Cease NOTIFICATION with a shutdown message)");
  await r.frrConfigure([`router bgp ${ASN}`, `neighbor ${GOBGP_IP} shutdown message efx fixture capture, FRR side`]);
  await r.wait("session down", async () => !(await r.sessionUp()));

  log("second session, ended by gobgpd (Cease NOTIFICATION from gobgpd)");
  await r.frrConfigure([`router bgp ${ASN}`, `no neighbor ${GOBGP_IP} shutdown`]);
  await r.wait("BGP session established again", r.sessionUp);
  await r.wait("gobgpd's routes in FRR again", r.frrReceived("l2vpn evpn", evpn));
  await sleep(2000);
  // ('shutdown' is deprecated in favour of 'disable', but only 'shutdown' puts the --reason
  // text into the NOTIFICATION)
  await r.gobgpCmd(["neighbor", FRR_IP, "shutdown", "--reason", "efx fixture capture, gobgp side"]);
  await r.wait("session down", async () => !(await r.sessionUp()));
  await sleep(1000);
}

// --------------------------------------------------------------------------------------- main --

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" }).trim();

function preflight(): void {
  const missing = ["ip", "bridge", "vtysh", "gobgp", "gobgpd", "tcpdump", "tshark", "ping", "dpkg-query"].filter(
    (c) => {
      try {
        execFileSync("sh", ["-c", `command -v ${c}`], { stdio: "ignore" });
        return false;
      } catch {
        return true;
      }
    },
  );
  for (const d of ["zebra", "bgpd"]) if (!existsExecutable(join(FRR_BIN, d))) missing.push(join(FRR_BIN, d));
  if (process.getuid?.() !== 0) missing.push("root privileges");
  if (missing.length > 0) throw new Error(`missing: ${missing.join(", ")}`);
}

function existsExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  preflight();
  const lab = await Lab.create("efx");
  let frr: Frr | undefined;
  let gobgpLog = "";
  try {
    log(`creating namespaces and links (work directory ${lab.workDir})`);
    await buildTopology(lab, TOPOLOGY);
    // gives FRR a prefix to announce as type 5
    await lab.exec("frr", "ip", ["route", "add", "blackhole", "203.0.113.0/25"]);

    log("starting tcpdump on efx-g0 (namespace efx-gobgp)");
    const cap = await lab.capture("gobgp", "efx-g0", "tcp port 179");
    log("starting zebra and bgpd in efx-frr");
    frr = await lab.frr("frr", FRR_CONF);
    log("starting gobgpd in efx-gobgp (passive, so there is exactly one TCP session)");
    const gobgp = await lab.gobgp("gobgp", GOBGPD_CONF);
    gobgpLog = gobgp.logFile;
    await exchange(new Run(lab, frr, gobgp));
    log("stopping tcpdump");
    const pcap = await cap.stop();

    log("extracting the TCP payload per direction");
    const tshark = async (args: string[]): Promise<string> =>
      (await lab.exec(null, "tshark", ["-r", pcap, ...args], { timeoutMs: 60_000 })).stdout;
    const segments = await tshark(
      ["-o", "tcp.desegment_tcp_streams:FALSE", "-Y", "tcp.len > 0", "-T", "fields"]
        .concat(["-E", "separator=/t", "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst"])
        .concat(["-e", "tcp.dstport", "-e", "tcp.seq_raw", "-e", "tcp.payload"]),
    );
    const bgpTypes = await tshark([
      "-Y",
      "bgp",
      "-T",
      "fields",
      "-E",
      "separator=/t",
      "-e",
      "ip.src",
      "-e",
      "bgp.type",
    ]);
    const { perSpeaker, conns } = reassemble(segments);
    crossCheck(perSpeaker, bgpTypes);

    const versions = sh("dpkg-query", ["-W", "frr", "gobgpd"]);
    const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const stage = join(lab.workDir, "out");
    mkdirSync(stage, { recursive: true });
    const speakers: Speaker[] = [
      { ip: FRR_IP, file: "frr-8.4.hex", name: "FRR 8.4 bgpd", header: header("FRR 8.4 (bgpd)", date, versions) },
      { ip: GOBGP_IP, file: "gobgp-3.hex", name: "GoBGP 3 gobgpd", header: header("GoBGP 3 (gobgpd)", date, versions) },
    ];
    const summary = speakers.flatMap((sp) => writeFixture(stage, sp, perSpeaker.get(sp.ip) ?? [], conns));
    log("checking the written fixtures");
    verify(speakers.map((sp) => join(stage, sp.file)));

    log("asking tshark for malformed packets / expert errors");
    const malformed = (
      await lab.exec(null, "tshark", ["-r", pcap, "-Y", '_ws.malformed or _ws.expert.severity >= "error"'], {
        check: false,
      })
    ).stdout.trim();
    log(malformed ? `tshark reports:\n${malformed}` : "tshark reports nothing");
    const readme = readmeText({
      date,
      versions,
      tools: `tshark ${sh("dpkg-query", ["-W", "-f", "${Version}", "tshark"])}, tcpdump ${sh("dpkg-query", ["-W", "-f", "${Version}", "tcpdump"])}`,
      system: `node ${process.version}; Debian ${readFileSync("/etc/debian_version", "utf8").trim()}, kernel ${release()}`,
      summary: summary.join("\n"),
      malformed: malformed ? `It printed:\n\n\`\`\`\n${malformed}\n\`\`\`\n` : "It printed nothing.",
      notes: interopNotes(readFileSync(gobgpLog, "utf8"), readFileSync(frr.logFile, "utf8")),
    });
    writeFileSync(join(stage, "README.md"), readme);

    log(`writing ${OUT_DIR}`);
    mkdirSync(OUT_DIR, { recursive: true });
    for (const f of ["frr-8.4.hex", "gobgp-3.hex", "README.md"])
      writeFileSync(join(OUT_DIR, f), readFileSync(join(stage, f)));
    verify(speakers.map((sp) => join(OUT_DIR, sp.file)));
    log(`done: ${OUT_DIR}/{frr-8.4.hex,gobgp-3.hex,README.md}`);
  } catch (e) {
    log(`failed; daemon logs:\n${lab.dumpLogs(20)}`);
    throw e;
  } finally {
    log("cleaning up");
    const problems = await lab.teardown();
    if (problems.length > 0) log(`WARNING: teardown problems: ${problems.join("; ")}`);
  }
}

main().catch((e: unknown) => {
  log(`ERROR: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
