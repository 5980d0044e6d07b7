/**
 * The seed's topology (lab/seed.ts) in replication mode (`services[].replication: proxy`):
 *
 * ```
 *                 switch namespace "sw": bridge "fabric" (underlay 192.0.2.0/24)
 *     ┌──────────┬──────────┬───────────┬───────────┬───────────┬──────────┬ - - - - - ┐
 *   s1 .1      s2 .2      e1 .11      e2 .12      rr .10      px .4      px2 .5 (two-proxy labs)
 *   static     static     FRR VTEP    FRR VTEP    FRR route   evpn-proxy  evpn-proxy
 *   flood-and-learn       neigh_suppress + SVI    reflector
 * ```
 *
 * Differences from the seed:
 * - Static VTEPs s1/s2: the only flood entry of vx10/vx20 is the proxy (each proxy, in the
 *   two-proxy lab), and the VXLAN devices learn (no `nolearning`): a flood-and-learn VTEP puts each
 *   inner source MAC at the outer source address of the datagram that carried it.
 * - FRR VTEPs e1/e2: `neigh_suppress on` on the bridge ports vx10/vx20 and an SVI on br10/br20
 *   (`svi4`/`svi6`), so that zebra learns its hosts' addresses from the kernel's neighbour table,
 *   announces MAC/IP routes for them and answers ARP/NS for remote MAC/IP routes. The kernel only
 *   adds a neighbour entry for a host that talks to the SVI itself: `primeSvis` makes every EVPN
 *   host ping its SVI once.
 * - Hosts have IPv6 too: 2001:db8:<vni>::<VTEP's last octet>/64 (nodad).
 * - rp_filter on the static VTEPs is set explicitly (default 1, strict, on `all` and eth0): copies
 *   that keep the sender's address arrive from the proxy's MAC with an outer source of another
 *   VTEP; in this one-subnet underlay that source is on-link through eth0, the interface they
 *   arrive on, so strict reverse-path filtering accepts them (measured: TcpExt
 *   IPReversePathFilter stays 0). Where the route back to the source leaves through another
 *   interface, strict filtering drops them (measured: with `ip route add 192.0.2.2/32 dev br10` on
 *   s1, two ARP requests from h10s2 for an unused address raised s1's IPReversePathFilter by 2 and
 *   none reached h10s1; rp_filter 2 let them through): such underlays need 2 or 0 on the VTEPs, or
 *   `replication-source: proxy`.
 */
import {
  EVPN_VTEPS,
  type Host,
  HOSTS,
  PROXY_IP,
  type ProxyService,
  SERVICES,
  type SeedLab,
  STATIC_VTEPS,
  type ServiceSpec,
  UNDERLAY_IF,
  type VtepSpec,
  defaultProxyServices,
  pingMatrix,
  proxyArgv,
  proxyConfigYaml,
  seedLab,
  seedTopology,
  waitForFrrFabric,
  writeProxyConfig,
  type PingMatrix,
} from "./seed.js";
import {
  type Capture,
  type Lab,
  type LabProcess,
  type Topology,
  arping,
  buildTopology,
  ndisc,
} from "../tools/netlab/index.js";

/** The second proxy of the two-proxy lab. */
export const PROXY2_IP = "192.0.2.5";

const lastOctet = (ip: string): number => Number(ip.split(".").at(-1)!);

/** A host's IPv6 address: 2001:db8:<vni>::<its VTEP's last octet>. */
export const ip6 = (h: Host): string => `2001:db8:${h.service.vni}::${lastOctet(h.vtep.ip)}`;

/** The SVI address of an FRR VTEP in a service: <net>.<100 + VTEP's last octet> (e.g. 198.51.100.111). */
export const svi4 = (v: VtepSpec, s: ServiceSpec): string => `${s.net}.${100 + lastOctet(v.ip)}`;
/** The SVI's IPv6 address: 2001:db8:<vni>::<100 + VTEP's last octet>. */
export const svi6 = (v: VtepSpec, s: ServiceSpec): string => `2001:db8:${s.vni}::${100 + lastOctet(v.ip)}`;

/** The namespace of a proxy: px for PROXY_IP, px2 for PROXY2_IP. */
export function proxyNs(ip: string): string {
  if (ip === PROXY_IP) return "px";
  if (ip === PROXY2_IP) return "px2";
  throw new Error(`no proxy namespace for ${ip}`);
}

export interface ReplicationLabOptions {
  /** The proxies the static VTEPs flood to (default [PROXY_IP]; PROXY2_IP adds namespace px2). */
  proxies?: string[];
  /** rp_filter of the static VTEPs, on `all` and eth0 (default 1, strict). */
  rpFilter?: 0 | 1 | 2;
  /** Progress messages (default: none). */
  log?: (msg: string) => void;
  /** FRR log level (default "informational"). */
  frrLogLevel?: string;
  /** How long to wait for FRR's sessions and flood lists (default 30 s). */
  timeoutMs?: number;
}

export interface ReplicationLab extends SeedLab {
  /** The proxies' addresses. */
  proxies: readonly string[];
  /** Pings every host pair of every service at the hosts' IPv6 addresses. */
  pingMatrix6(): Promise<PingMatrix>;
  /** The VXLAN forwarding entries of a VTEP's device (`bridge -j fdb show dev vx<vni>`). */
  vxlanFdb(vtep: string, vni: number): Promise<VxlanFdbEntry[]>;
  /**
   * Where a VTEP's kernel floods BUM frames of a VNI: the destinations of its all-zero fdb
   * entries, sorted. (FRR's `show evpn vni` lists more: zebra adds the next hop of a remote MAC
   * route as a remote VTEP "with flood disabled" when it has no IMET route from it.)
   */
  floodTargets(vtep: string, vni: number): Promise<string[]>;
}

/** One entry of `bridge -j fdb show dev vx<vni>` that has a remote VTEP (dst). */
export interface VxlanFdbEntry {
  mac: string;
  dst: string;
  /** "permanent" for configured ones, "" for learned ones. */
  state: string;
}

/** The replication lab's topology (without FRR, which `buildReplicationLab` starts afterwards). */
export function replicationTopology(proxies: readonly string[], frrOpts: { logLevel?: string } = {}): Topology {
  const topo = seedTopology(frrOpts);
  const links = topo.links!;
  for (const ip of proxies.filter((p) => p !== PROXY_IP)) {
    const ns = proxyNs(ip);
    topo.namespaces.push(ns);
    links.push({ a: "sw", b: ns, bAddr: `${ip}/24`, aIf: ns, bIf: UNDERLAY_IF });
    topo.bridges!.find((b) => b.ns === "sw")!.ports!.push(ns);
  }
  for (const l of links) {
    const h = HOSTS.find((x) => x.name === l.a);
    if (h) l.aAddr = [`${h.ip}/24`, `${ip6(h)}/64`];
  }
  for (const b of topo.bridges!) {
    const v = EVPN_VTEPS.find((x) => x.name === b.ns);
    const s = v && topo.vxlans!.find((x) => x.ns === v.name && x.bridge === b.name);
    if (v && s) {
      const svc = HOSTS.find((h) => h.service.vni === s.vni)!.service;
      b.addrs = [`${svi4(v, svc)}/24`, `${svi6(v, svc)}/64`];
    }
  }
  for (const x of topo.vxlans!) {
    if (!STATIC_VTEPS.some((v) => v.name === x.ns)) continue;
    x.flood = [...proxies];
    x.learning = true;
  }
  return topo;
}

/**
 * Builds the replication lab: the topology, neigh_suppress on the FRR VTEPs' VXLAN ports,
 * rp_filter on the static VTEPs, then FRR; waits until the FRR VTEPs flood to each other and
 * announce MAC/IP routes (IPv4 and IPv6) for their hosts.
 */
export async function buildReplicationLab(lab: Lab, opts: ReplicationLabOptions = {}): Promise<ReplicationLab> {
  const log = opts.log ?? ((): void => undefined);
  const proxies = opts.proxies ?? [PROXY_IP];
  const rpFilter = opts.rpFilter ?? 1;
  const topo = replicationTopology(proxies, opts.frrLogLevel ? { logLevel: opts.frrLogLevel } : {});

  log(`underlay: switch namespace sw, bridge fabric, 192.0.2.0/24; proxies ${proxies.join(", ")}`);
  for (const v of STATIC_VTEPS)
    log(
      `static VTEP ${v.name} ${v.ip}: vx10/vx20 flood to ${proxies.join(", ")} only, learning on, rp_filter ${rpFilter}`,
    );
  for (const v of EVPN_VTEPS) log(`FRR VTEP ${v.name} ${v.ip}: vx10/vx20 neigh_suppress on, SVIs on br10/br20`);
  await buildTopology(lab, { ...topo, frr: [] });
  for (const v of EVPN_VTEPS)
    for (const x of topo.vxlans!.filter((d) => d.ns === v.name))
      await lab.exec(v.name, "bridge", ["link", "set", "dev", x.name, "neigh_suppress", "on"]);
  for (const v of STATIC_VTEPS)
    for (const conf of ["all", UNDERLAY_IF])
      await lab.exec(v.name, "sh", ["-c", `echo ${rpFilter} > /proc/sys/net/ipv4/conf/${conf}/rp_filter`]);

  log("FRR: route reflector rr, EVPN VTEPs e1 and e2");
  const { rr, ...frr } = await buildTopology(lab, { namespaces: [], frr: topo.frr ?? [] });
  const seed = seedLab(lab, rr!, frr);
  await waitForFrrFabric(seed, opts.timeoutMs);
  log("FRR: sessions Established, the FRR VTEPs flood to each other");
  await primeSvis(lab, seed, opts.timeoutMs);
  log("FRR: MAC/IP routes (IPv4, IPv6) of every EVPN host at the route reflector");

  const vxlanFdb = async (vtep: string, vni: number): Promise<VxlanFdbEntry[]> => {
    const r = await lab.exec(vtep, "bridge", ["-j", "fdb", "show", "dev", `vx${vni}`]);
    const all = JSON.parse(r.stdout || "[]") as { mac: string; dst?: string; state?: string }[];
    return all.filter((e) => e.dst !== undefined).map((e) => ({ mac: e.mac, dst: e.dst!, state: e.state ?? "" }));
  };
  return {
    ...seed,
    proxies,
    pingMatrix6: () => pingMatrix(lab, ip6),
    vxlanFdb,
    floodTargets: async (vtep, vni) =>
      (await vxlanFdb(vtep, vni))
        .filter((e) => e.mac === "00:00:00:00:00:00")
        .map((e) => e.dst)
        .sort(),
  };
}

/** A static VTEP forgets a learned MAC: its VXLAN entry (the remote VTEP) and its bridge entry. */
export async function forgetMac(lab: Lab, vtep: string, vni: number, mac: string): Promise<void> {
  for (const where of ["self", "master"])
    await lab.exec(vtep, "bridge", ["fdb", "del", mac, "dev", `vx${vni}`, where], { check: false });
}

/** The route-reflector prefix of a MAC/IP route: `[2]:[0]:[48]:[<mac>]:[32|128]:[<ip>]`. */
export const macIpPrefix = (mac: string, ip: string): string =>
  `[2]:[0]:[48]:[${mac}]:[${ip.includes(":") ? 128 : 32}]:[${ip}]`;

/**
 * Every EVPN host pings its VTEP's SVI (IPv4 and IPv6), so that the kernel's neighbour table on
 * the bridge has it and zebra announces MAC/IP routes; waits for those at the route reflector.
 */
async function primeSvis(lab: Lab, seed: SeedLab, timeoutMs = 30_000): Promise<void> {
  const evpnHosts = HOSTS.filter((h) => h.vtep.kind === "evpn");
  await Promise.all(
    evpnHosts.flatMap((h) => [
      lab.ping(h.name, svi4(h.vtep, h.service), { waitS: 1 }),
      lab.ping(h.name, svi6(h.vtep, h.service), { waitS: 1 }),
    ]),
  );
  await lab.waitFor(
    "the route reflector has MAC/IP routes (IPv4 and IPv6) of every EVPN host",
    async () => {
      const have = new Set((await seed.rr.evpnRoutes()).map((r) => r.prefix));
      return evpnHosts.every((h) => have.has(macIpPrefix(h.mac, h.ip)) && have.has(macIpPrefix(h.mac, ip6(h))));
    },
    { timeoutMs },
  );
}

// ------------------------------------------------------------------------------- proxy config --

export interface ReplicationProxyConfig {
  /** The proxy's address: router-id and learning.vxlan-listen (default PROXY_IP). */
  self?: string;
  /** replication-source (default "vtep"). */
  source?: "vtep" | "proxy";
  /** arp-nd-proxy as a YAML value (default: the key absent, i.e. on). */
  arpNd?: string;
  /** More keys of the learning section, as YAML values. */
  learning?: Record<string, string>;
}

/** The services: both static VTEPs in both, no configured MAC, replication: proxy. */
export function replicationServices(o: ReplicationProxyConfig = {}): ProxyService[] {
  return defaultProxyServices().map((s) => ({
    ...s,
    staticVteps: s.staticVteps.map((v) => ({ address: v.address })),
    keys: {
      replication: "proxy",
      "replication-source": o.source ?? "vtep",
      ...(o.arpNd !== undefined ? { "arp-nd-proxy": o.arpNd } : {}),
    },
  }));
}

/** A proxy's YAML configuration for the replication lab. */
export function replicationConfigYaml(o: ReplicationProxyConfig = {}): string {
  const self = o.self ?? PROXY_IP;
  const base = proxyConfigYaml(replicationServices(o)).replace(/^router-id: \S+/m, `router-id: ${self}`);
  const lines = ["learning:", `  vxlan-listen: ${self}`, "  include-ip: true"];
  for (const [k, v] of Object.entries(o.learning ?? {})) lines.push(`  ${k}: ${v}`);
  return `${base}${lines.join("\n")}\n`;
}

/** Writes a proxy's configuration into the lab's work directory; returns its path. */
export function writeReplicationConfig(lab: Lab, yaml: string, self = PROXY_IP): string {
  return writeProxyConfig(lab, yaml, `evpn-proxy-${proxyNs(self)}.yaml`);
}

/** Starts the daemon in the namespace of proxy `self`. */
export function startReplicationProxy(lab: Lab, configFile: string, self = PROXY_IP, logLevel = "info"): LabProcess {
  const ns = proxyNs(self);
  return lab.spawn(ns, process.execPath, proxyArgv(configFile, logLevel), { name: `evpn-proxy-${ns}` });
}

/** The proxy's log line objects whose `msg` matches (pino JSON lines; others skipped). */
export function logLinesMatching(p: LabProcess, msg: RegExp): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of p.log().split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (typeof o["msg"] === "string" && msg.test(o["msg"])) out.push(o);
    } catch {
      // a torn last line
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------- waiting --

/** lab.waitFor() that gives up at once, with the log, when one of the proxies exits. */
export async function waitWithProxies<T>(
  lab: Lab,
  proxies: readonly LabProcess[],
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  let done = false;
  const died = proxies.map((p) =>
    p.exited.then((e) => {
      if (done) return undefined as never;
      throw new Error(`${p.name} exited ${JSON.stringify(e)} while waiting for: ${what}\n${p.logTail(40)}`);
    }),
  );
  try {
    return await Promise.race([lab.waitFor(what, fn, { timeoutMs, intervalMs }), ...died]);
  } finally {
    done = true;
  }
}

/**
 * Waits until the proxies replicate: each Established with the route reflector, the FRR VTEPs
 * flooding to every proxy and to no static VTEP (the proxies' own IMET routes replace the static
 * VTEPs'), and a ping between the static hosts of each service answered (the elected proxy's
 * RFC 7432 §8.5 wait of 3 s is over).
 */
export async function waitForReplication(rl: ReplicationLab, procs: readonly LabProcess[]): Promise<void> {
  const wait = <T>(what: string, fn: () => Promise<T | undefined | null | false>): Promise<T> =>
    waitWithProxies(rl.lab, procs, what, fn);
  for (const ip of rl.proxies)
    await wait(
      `RR: session with the proxy ${ip} Established`,
      async () => (await rl.rr.peerState(ip)) === "Established",
    );
  const want = (v: VtepSpec): string =>
    [...EVPN_VTEPS.filter((o) => o !== v).map((o) => o.ip), ...rl.proxies].sort().join(" ");
  await wait(`the FRR VTEPs flood to each other and to ${rl.proxies.join(" and ")} only`, async () => {
    for (const v of EVPN_VTEPS)
      for (const s of SERVICES) if ((await rl.floodTargets(v.name, s.vni)).join(" ") !== want(v)) return false;
    return true;
  });
  for (const s of SERVICES) {
    const [a, b] = STATIC_VTEPS.map((v) => HOSTS.find((h) => h.service === s && h.vtep === v)!);
    await wait(`${a!.name} pings ${b!.name} through the proxy`, () => rl.lab.ping(a!.name, b!.ip, { waitS: 1 }));
  }
}

// ---------------------------------------------------------------------------- asking around --

/** An address of VNI 10's subnet that no host uses. */
export const UNUSED_IP = "198.51.100.99";

/** An address of a service's subnet that no host uses: <net>.99 / 2001:db8:<vni>::99. */
export const unusedIp = (s: ServiceSpec, v6 = false): string => (v6 ? `2001:db8:${s.vni}::99` : `${s.net}.99`);

export interface Question {
  from: Host;
  ip: string;
  what: string;
  /** The MAC that should answer; null: nobody (the request is replicated to every other host). */
  want: string | null;
}

/**
 * What a static host of service `vni` behind `vtep` asks in the suppression checks: the IPv4 and
 * IPv6 addresses of an EVPN host (entries from its MAC/IP routes), the IPv4 address of the other
 * static VTEP's host (a dynamic entry, learned from its ARP requests: run pings first), and unused
 * IPv4 and IPv6 addresses.
 */
export function questions(vni: number, vtep: string): Question[] {
  const from = HOSTS.find((h) => h.service.vni === vni && h.vtep.name === vtep)!;
  const evpn = HOSTS.find((h) => h.service === from.service && h.vtep.kind === "evpn")!;
  const other = HOSTS.find((h) => h.service === from.service && h.vtep.kind === "static" && h !== from)!;
  return [
    { from, ip: evpn.ip, what: `${evpn.name}'s IPv4 (its MAC/IP route)`, want: evpn.mac },
    { from, ip: ip6(evpn), what: `${evpn.name}'s IPv6 (its MAC/IP route)`, want: evpn.mac },
    { from, ip: other.ip, what: `${other.name}'s IPv4 (learned from its ARP)`, want: other.mac },
    { from, ip: unusedIp(from.service), what: "an unused IPv4 address", want: null },
    { from, ip: unusedIp(from.service, true), what: "an unused IPv6 address", want: null },
  ];
}

export interface Resolution {
  /** The MACs that answered (ARP replies' sender MACs, NAs' target link-layer addresses). */
  answers: string[];
  /** Per other host of the service: how many of the requests for the address its eth0 saw. */
  seen: Record<string, number>;
  /** Per other host: every captured line that names the address (requests of others included). */
  lines: Record<string, string[]>;
}

/**
 * tcpdump's line (`tcpdump -n -e -r`) of an ARP request / NS for `ip` sent by `mac` (others, e.g.
 * an FRR VTEP's SVI probing its own host's address, do not count).
 */
function isRequestFor(line: string, ip: string, mac: string): boolean {
  if (!line.includes(` ${mac} > `)) return false;
  return ip.includes(":")
    ? line.includes(`neighbor solicitation, who has ${ip},`) || line.includes(`neighbor solicitation, who has ${ip} `)
    : line.includes(`Request who-has ${ip} `);
}

/**
 * `from` asks for `ip` once (arping, or ndisc6 for IPv6) while tcpdump listens on eth0 of every
 * other host of its service; returns the answers and how many of the requests each host saw.
 */
export async function resolveWatched(lab: Lab, from: Host, ip: string): Promise<Resolution> {
  const others = HOSTS.filter((h) => h.service === from.service && h !== from);
  const filter = ip.includes(":") ? "icmp6" : "arp";
  const caps: [Host, Capture][] = await Promise.all(
    others.map(async (h): Promise<[Host, Capture]> => [h, await lab.capture(h.name, "eth0", filter)]),
  );
  await lab.exec(from.name, "ip", ["neigh", "flush", "all"]);
  const answers = ip.includes(":")
    ? await ndisc(lab, from.name, ip)
    : (await arping(lab, from.name, ip, { count: 1, deadlineS: 1 })).map((a) => a.mac);
  const seen: Record<string, number> = {};
  const lines: Record<string, string[]> = {};
  for (const [h, c] of caps) {
    const all = await c.lines();
    seen[h.name] = all.filter((l) => isRequestFor(l, ip, from.mac)).length;
    lines[h.name] = all.filter((l) => l.includes(` ${ip}`));
  }
  return { answers, seen, lines };
}

/**
 * What is wrong with a resolution: with `want` a MAC, exactly that answer and no other host saw
 * the request (it was answered, not replicated); with null, no answer and every other host saw
 * the request exactly once (replicated once to each VTEP). Empty when all is as expected.
 */
export function resolutionProblems(r: Resolution, want: string | null): string[] {
  const out: string[] = [];
  const seen = want === null ? 1 : 0;
  if (want !== null && JSON.stringify(r.answers) !== JSON.stringify([want]))
    out.push(`answers ${JSON.stringify(r.answers)} instead of [${want}]`);
  if (want === null && r.answers.length > 0) out.push(`answered by ${r.answers.join(", ")}`);
  for (const [h, n] of Object.entries(r.seen)) if (n !== seen) out.push(`${h} saw ${n} request(s), not ${seen}`);
  return out;
}
