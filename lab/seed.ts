/**
 * The seed's topology in network namespaces, with FRR in place of SR Linux (issue 4's lab):
 *
 * ```
 *                         switch namespace "sw": bridge "fabric" (underlay 192.0.2.0/24)
 *     ┌──────────┬──────────┬───────────┬───────────┬───────────┬──────────┐
 *   s1 .1      s2 .2      e1 .11      e2 .12      rr .10      px .4
 *   static     static     FRR VTEP    FRR VTEP    FRR route   evpn-proxy
 *   VTEP       VTEP       (EVPN)      (EVPN)      reflector   (router-id 192.0.2.4)
 *     │          │          │           │
 *   hosts      hosts      hosts       hosts      one per VTEP and service:
 *                                                  VNI 10 (EVI 10):  198.51.100.<VTEP's last octet>
 *                                                  VNI 20 (EVI 200): 203.0.113.<VTEP's last octet>
 * ```
 *
 * - Static VTEPs (s1, s2): kernel VXLAN devices `vx10`/`vx20` (nolearning) in bridges
 *   `br10`/`br20` with the host ports, and a static flood list naming every other VTEP (both
 *   static, both FRR) and the proxy. No BGP.
 * - FRR VTEPs (e1, e2): the same kernel devices, zebra + bgpd with `advertise-all-vni`, iBGP to
 *   the route reflector. VNI 10 uses FRR's derived route target 65000:10 (= the proxy's default
 *   `<AS>:<EVI>`); VNI 20 belongs to EVI 200, so its route target 65000:2000 is configured on
 *   both sides (`vni 20` block here, `route-targets` in the proxy's configuration).
 * - Route reflector (rr): `bgp listen range 192.0.2.0/24` with a peer group of route reflector
 *   clients, so the proxy needs no configuration there.
 * - Hosts: namespace `h<vni><vtep>` (e.g. `h10s2`), interface eth0 with a fixed MAC
 *   `02:00:00:00:<vni>:<VTEP's last octet>` (e.g. 02:00:00:00:10:02).
 *
 * Before the proxy runs, static↔static and EVPN↔EVPN pings work, static↔EVPN ones do not (the
 * FRR VTEPs flood only to the VTEPs they have a type 3 route for). With the proxy's type 3 routes
 * every pair pings.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Frr,
  type FrrOptions,
  type Lab,
  type LabProcess,
  type Topology,
  buildTopology,
  frrEvpnVtepConfig,
  frrRouteReflectorConfig,
  sleep,
} from "../tools/netlab/index.js";

export const AS = 65000;
export const RR_IP = "192.0.2.10";
/** The proxy's address and BGP identifier. */
export const PROXY_IP = "192.0.2.4";
/** Underlay interface in every VTEP, RR and proxy namespace. */
export const UNDERLAY_IF = "eth0";

export type VtepKind = "static" | "evpn";

export interface VtepSpec {
  /** Short namespace name: s1, s2 (static), e1, e2 (FRR). */
  name: string;
  kind: VtepKind;
  ip: string;
}

export const VTEPS: readonly VtepSpec[] = [
  { name: "s1", kind: "static", ip: "192.0.2.1" },
  { name: "s2", kind: "static", ip: "192.0.2.2" },
  { name: "e1", kind: "evpn", ip: "192.0.2.11" },
  { name: "e2", kind: "evpn", ip: "192.0.2.12" },
];
export const STATIC_VTEPS = VTEPS.filter((v) => v.kind === "static");
export const EVPN_VTEPS = VTEPS.filter((v) => v.kind === "evpn");

export interface ServiceSpec {
  /** Service name in the proxy's configuration. */
  name: string;
  evi: number;
  vni: number;
  /** Explicit route targets (on FRR and in the proxy); undefined: the defaults (<AS>:<EVI>). */
  routeTargets?: string[];
  /** The hosts' /24, first three octets. */
  net: string;
}

export const SERVICES: readonly ServiceSpec[] = [
  { name: "vni10", evi: 10, vni: 10, net: "198.51.100" },
  { name: "evi200", evi: 200, vni: 20, routeTargets: [`${AS}:2000`], net: "203.0.113" },
];

/** The route targets a service's routes carry. */
export function serviceRouteTargets(s: ServiceSpec): string[] {
  return s.routeTargets ?? [`${AS}:${s.evi}`];
}

const lastOctet = (ip: string): string => ip.split(".").at(-1)!;

export interface Host {
  /** Short namespace name, e.g. "h10s2". */
  name: string;
  vtep: VtepSpec;
  service: ServiceSpec;
  ip: string;
  mac: string;
}

/** One host per (service, VTEP). */
export const HOSTS: readonly Host[] = SERVICES.flatMap((service) =>
  VTEPS.map((vtep) => ({
    name: `h${service.vni}${vtep.name}`,
    vtep,
    service,
    ip: `${service.net}.${lastOctet(vtep.ip)}`,
    mac: `02:00:00:00:${String(service.vni).padStart(2, "0")}:${lastOctet(vtep.ip).padStart(2, "0")}`,
  })),
);

export function host(vni: number, vtepName: string): Host {
  const h = HOSTS.find((x) => x.service.vni === vni && x.vtep.name === vtepName);
  if (!h) throw new Error(`no host for VNI ${vni} behind ${vtepName}`);
  return h;
}

/** The static MAC the proxy's default configuration announces: the host behind s2 on VNI 10. */
export const STATIC_MAC = host(10, "s2").mac;

// ------------------------------------------------------------------------------------ FRR configs --

export const RR_CONF = frrRouteReflectorConfig({
  hostname: "rr",
  as: AS,
  routerId: RR_IP,
  listenRange: "192.0.2.0/24",
});

/** An FRR EVPN VTEP, client of the route reflector (explicit route targets: see vtepVniConfig). */
export function vtepConf(v: VtepSpec): string {
  return frrEvpnVtepConfig({ hostname: v.name, as: AS, routerId: v.ip, neighbor: RR_IP });
}

/**
 * The `vni <vni>` blocks with the explicit route targets of the services that have them, as
 * vtysh configuration lines. They are applied through vtysh after FRR has started, not written
 * into frr.conf: every FRR daemon reads the whole frr.conf, and zebra, which rejects
 * `router bgp`, stays at the top level and takes `vni 20` as ITS command "vni <vni>" (the
 * default VRF's L3 VNI), after which `show evpn vni` lists VNI 20 as an L3 VNI and zebra floods
 * it nowhere.
 */
export function vtepVniConfig(): string[] {
  const lines = [`router bgp ${AS}`, "address-family l2vpn evpn"];
  for (const s of SERVICES.filter((x) => x.routeTargets)) {
    lines.push(`vni ${s.vni}`);
    for (const rt of s.routeTargets!) lines.push(`route-target import ${rt}`, `route-target export ${rt}`);
    lines.push("exit-vni");
  }
  return lines;
}

// ------------------------------------------------------------------------------- proxy config --

export interface ProxyStaticVtep {
  address: string;
  macs?: string[];
}

export interface ProxyService {
  name: string;
  evi: number;
  vni: number;
  routeTargets?: string[];
  staticVteps: ProxyStaticVtep[];
  /** More keys of the service, as YAML values (e.g. { replication: "proxy", "arp-nd-proxy": "false" }). */
  keys?: Record<string, string>;
}

/** The proxy's services for the lab: both static VTEPs in both services, STATIC_MAC on s2/VNI 10. */
export function defaultProxyServices(): ProxyService[] {
  return SERVICES.map((s) => ({
    name: s.name,
    evi: s.evi,
    vni: s.vni,
    ...(s.routeTargets ? { routeTargets: s.routeTargets } : {}),
    staticVteps: STATIC_VTEPS.map((v) => ({
      address: v.ip,
      ...(s.vni === 10 && v.name === "s2" ? { macs: [STATIC_MAC] } : {}),
    })),
  }));
}

/** The proxy's YAML configuration (the format of issue 4), with comments for the reader. */
export function proxyConfigYaml(services: ProxyService[] = defaultProxyServices()): string {
  const lines = [
    "# evpn-proxy configuration of the namespace lab (lab/seed.ts)",
    `router-id: ${PROXY_IP}        # BGP identifier; the proxy's own address`,
    `local-as: ${AS}`,
    "state-directory: false   # the lab's proxy starts afresh each time (no saved learned table)",
    "neighbors:",
    `  - address: ${RR_IP}      # the FRR route reflector (it accepts us through bgp listen range)`,
    `    peer-as: ${AS}`,
    "services:",
  ];
  for (const s of services) {
    lines.push(`  - name: ${s.name}`, `    evi: ${s.evi}`, `    vni: ${s.vni}`);
    if (s.routeTargets) lines.push(`    route-targets: [${s.routeTargets.map((rt) => `"${rt}"`).join(", ")}]`);
    for (const [k, v] of Object.entries(s.keys ?? {})) lines.push(`    ${k}: ${v}`);
    lines.push("    static-vteps:");
    for (const v of s.staticVteps) {
      lines.push(`      - address: ${v.address}`);
      if (v.macs) lines.push(`        macs: [${v.macs.map((m) => `"${m}"`).join(", ")}]`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Writes a configuration file into the lab's work directory; returns its path. */
export function writeProxyConfig(lab: Lab, yaml: string, file = "evpn-proxy.yaml"): string {
  const path = join(lab.workDir, file);
  writeFileSync(path, yaml);
  return path;
}

/** The compiled command line of the daemon, next to this module in the same out dir. */
export const PROXY_MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

/** The arguments of `node` for `evpn-proxy run --config <file> --log-level <level>`. */
export function proxyArgv(configFile: string, logLevel = "info"): string[] {
  return ["--max-semi-space-size=1", PROXY_MAIN, "run", "--config", configFile, "--log-level", logLevel];
}

/**
 * Starts the daemon in the proxy's namespace (log: the process's logFile). Level "debug" logs
 * every learned route ("learning: announce" / "learning: withdraw"), which learning tests read.
 */
export function startProxy(lab: Lab, configFile: string, logLevel = "info"): LabProcess {
  return lab.spawn("px", process.execPath, proxyArgv(configFile, logLevel), { name: "evpn-proxy" });
}

/**
 * lab.waitFor() that gives up at once, with the proxy's log, when the proxy has exited (waitFor
 * alone would keep polling until its timeout).
 */
export async function waitWithProxy<T>(
  lab: Lab,
  proxy: LabProcess,
  what: string,
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  let done = false;
  const died = proxy.exited.then((e) => {
    if (done) return undefined as never;
    throw new Error(
      `evpn-proxy exited ${JSON.stringify(e)} while waiting for: ${what}\n--- proxy log (${proxy.logFile}) ---\n${proxy.logTail(40)}`,
    );
  });
  try {
    return await Promise.race([lab.waitFor(what, fn, { timeoutMs, intervalMs }), died]);
  } finally {
    done = true;
  }
}

/** The proxy's log as parsed pino JSON lines (other lines are skipped). */
export function proxyLogLines(p: LabProcess): { level?: number; msg?: string; [k: string]: unknown }[] {
  const out: { msg?: string }[] = [];
  for (const l of p.log().split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      out.push(JSON.parse(l) as { msg?: string });
    } catch {
      // a torn last line
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------- topology --

export interface BuildOptions {
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
  /** FRR log level (default "informational"). */
  frrLogLevel?: string;
  /** How long to wait for FRR's sessions and flood lists (default 30 s). */
  timeoutMs?: number;
}

export interface PingResult {
  service: ServiceSpec;
  from: Host;
  to: Host;
  ok: boolean;
}

export type PingMatrix = PingResult[];

export interface SeedLab {
  lab: Lab;
  /** The route reflector. */
  rr: Frr;
  /** FRR of each EVPN VTEP, by VTEP name (e1, e2). */
  frr: Record<string, Frr>;
  hosts: readonly Host[];
  /** Full namespace names by short name. */
  nsName(short: string): string;
  /** Pings every host pair of every service in both directions, all at once. */
  pingMatrix(): Promise<PingMatrix>;
  /** Remote VTEPs (flood list) of every FRR VTEP per VNI: { e1: { 10: [...], 20: [...] }, ... }. */
  floodLists(): Promise<Record<string, Record<number, string[]>>>;
}

/** The remote VTEPs a static VTEP floods to: every other VTEP and the proxy. */
const staticFlood = (v: VtepSpec): string[] => [...VTEPS.filter((o) => o !== v).map((o) => o.ip), PROXY_IP];

/**
 * The seed's topology: switch namespace "sw" with bridge "fabric" and one port per VTEP, the RR
 * and the proxy; per VTEP and service a bridge, a VXLAN device and a host; FRR on rr, e1 and e2.
 */
export function seedTopology(frrOpts: FrrOptions = {}): Topology {
  const members: [string, string][] = [...VTEPS.map((v): [string, string] => [v.name, v.ip]), ["rr", RR_IP]];
  members.push(["px", PROXY_IP]);
  const topo: Required<Topology> = {
    namespaces: ["sw", ...members.map(([name]) => name), ...HOSTS.map((h) => h.name)],
    links: members.map(([name, ip]) => ({ a: "sw", b: name, bAddr: `${ip}/24`, aIf: name, bIf: UNDERLAY_IF })),
    bridges: [{ ns: "sw", name: "fabric", ports: members.map(([name]) => name) }],
    vxlans: [],
    frr: [
      { ns: "rr", config: RR_CONF, ...frrOpts },
      ...EVPN_VTEPS.map((v) => ({ ns: v.name, config: vtepConf(v), configure: vtepVniConfig(), ...frrOpts })),
    ],
  };
  for (const v of VTEPS) {
    for (const s of SERVICES) {
      const h = host(s.vni, v.name);
      const port = `host${s.vni}`;
      topo.links.push({ a: h.name, aAddr: `${h.ip}/24`, b: v.name, aIf: "eth0", bIf: port, aMac: h.mac });
      topo.bridges.push({ ns: v.name, name: `br${s.vni}`, ports: [port] });
      const flood = v.kind === "static" ? staticFlood(v) : [];
      topo.vxlans.push({ ns: v.name, name: `vx${s.vni}`, vni: s.vni, local: v.ip, bridge: `br${s.vni}`, flood });
    }
  }
  return topo;
}

/** Builds the whole lab, starts FRR and waits until the FRR VTEPs flood to each other. */
export async function buildSeedLab(lab: Lab, opts: BuildOptions = {}): Promise<SeedLab> {
  const log = opts.log ?? ((): void => undefined);

  log("underlay: switch namespace sw, bridge fabric, 192.0.2.0/24");
  for (const v of VTEPS) {
    log(
      v.kind === "static"
        ? `static VTEP ${v.name} ${v.ip}: vx10/vx20 flood to ${staticFlood(v).join(", ")}`
        : `FRR VTEP ${v.name} ${v.ip}: vx10/vx20, bridges br10/br20`,
    );
  }
  log("FRR: route reflector rr, EVPN VTEPs e1 and e2");
  const { rr, ...frr } = await buildTopology(lab, seedTopology(opts.frrLogLevel ? { logLevel: opts.frrLogLevel } : {}));
  const seed = seedLab(lab, rr!, frr);
  await waitForFrrFabric(seed, opts.timeoutMs);
  log("FRR: sessions Established, the FRR VTEPs flood to each other");
  return seed;
}

/** The SeedLab handle of a built seed topology (its route reflector and FRR VTEPs). */
export function seedLab(lab: Lab, rr: Frr, frr: Record<string, Frr>): SeedLab {
  return {
    lab,
    rr,
    frr,
    hosts: HOSTS,
    nsName: (short) => lab.resolve(short)!,
    pingMatrix: () => pingMatrix(lab),
    floodLists: async () => {
      const out: Record<string, Record<number, string[]>> = {};
      await Promise.all(
        EVPN_VTEPS.map(async (v) => {
          const per: Record<number, string[]> = {};
          for (const s of SERVICES) per[s.vni] = (await frr[v.name]!.remoteVteps(s.vni)).sort();
          out[v.name] = per;
        }),
      );
      return out;
    },
  };
}

/** Waits until the FRR VTEPs are Established with the route reflector and flood to each other. */
export async function waitForFrrFabric(seed: SeedLab, timeoutMs = 30_000): Promise<void> {
  await seed.lab.waitFor(
    "FRR VTEPs Established with the route reflector",
    async () => {
      const peers = (await seed.rr.bgpSummary()).peers ?? {};
      return EVPN_VTEPS.every((v) => peers[v.ip]?.state === "Established");
    },
    { timeoutMs },
  );
  await seed.lab.waitFor(
    "FRR VTEPs flood to each other in every VNI",
    async () => {
      const fl = await seed.floodLists();
      return EVPN_VTEPS.every((v) =>
        SERVICES.every((s) => EVPN_VTEPS.filter((o) => o !== v).every((o) => fl[v.name]![s.vni]!.includes(o.ip))),
      );
    },
    { timeoutMs },
  );
}

// ---------------------------------------------------------------------------------- ping matrix --

/**
 * Pings every host pair of every service in both directions, all at once (3 echoes 0.2 s apart,
 * 1 s wait; answered = at least one reply), at `target(host)` (default: its IPv4 address).
 *
 * The hosts' neighbour (ARP) caches are flushed first, so that a matrix shows the forwarding
 * state of now, not what an earlier matrix left behind: a ping that failed leaves its ARP entry
 * INCOMPLETE for 3 s (3 broadcast probes 1 s apart, then FAILED), and packets to that address,
 * echo replies included, wait in the entry's queue and are dropped when it fails. Without the
 * flush, a matrix taken within 3 s after one in which a pair failed shows that pair failing,
 * whatever the fabric does now (seen: every static<->EVPN pair "failing" right after the proxy's
 * routes arrived, while the VXLAN capture showed the fabric forwarding).
 */
export async function pingMatrix(lab: Lab, target: (h: Host) => string = (h) => h.ip): Promise<PingMatrix> {
  await Promise.all(HOSTS.map((h) => lab.exec(h.name, "ip", ["neigh", "flush", "all"])));
  const jobs: Promise<PingResult>[] = [];
  for (const from of HOSTS) {
    for (const to of HOSTS) {
      if (from === to || from.service !== to.service) continue;
      jobs.push(
        lab.ping(from.name, target(to), { count: 3, waitS: 1 }).then((ok) => ({ service: from.service, from, to, ok })),
      );
      // a few ms apart: 24 `ip netns exec` at the very same moment are slower than staggered
      await sleep(5);
    }
  }
  return Promise.all(jobs);
}

export type Phase = "before" | "after";

/** Whether a pair should ping: before the proxy only VTEPs of the same kind, with it every pair. */
export function expectedPing(from: Host, to: Host, phase: Phase): boolean {
  return phase === "after" || from.vtep.kind === to.vtep.kind;
}

/** The cells of a matrix that differ from what the phase expects (empty when all is as expected). */
export function unexpectedPings(m: PingMatrix, phase: Phase): PingResult[] {
  return m.filter((r) => r.ok !== expectedPing(r.from, r.to, phase));
}

/**
 * The matrix as text, one table per service. "ok" = answered, "--" = no answer; a "!" marks a
 * cell that differs from what `phase` expects.
 */
export function formatMatrix(m: PingMatrix, phase?: Phase): string {
  const out: string[] = [];
  for (const s of SERVICES) {
    const hosts = HOSTS.filter((h) => h.service === s);
    const label = (h: Host): string => `${h.name} ${h.ip} (${h.vtep.kind} ${h.vtep.name})`;
    const width = Math.max(...hosts.map((h) => label(h).length));
    out.push(`VNI ${s.vni} (EVI ${s.evi}, ${s.net}.0/24)`);
    out.push(`  ${"from / to".padEnd(width)}  ${hosts.map((h) => h.name.padEnd(6)).join(" ")}`);
    for (const from of hosts) {
      const cells = hosts.map((to) => {
        if (to === from) return "  .   ";
        const r = m.find((x) => x.from === from && x.to === to);
        if (!r) return "  ?   ";
        const bad = phase !== undefined && r.ok !== expectedPing(from, to, phase);
        return `${r.ok ? "  ok" : "  --"}${bad ? "! " : "  "}`;
      });
      out.push(`  ${label(from).padEnd(width)}  ${cells.join(" ")}`);
    }
  }
  return out.join("\n");
}
