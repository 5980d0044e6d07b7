// Interop with FRR 8.4 (issue 3, acceptance points 3 and 4, FRR part), in network namespaces:
//
// 1. FRR as route reflector: an FRR RR (192.0.2.254) with two FRR EVPN VTEPs (192.0.2.1, .2;
//    kernel VXLAN VNI 10, one static MAC each) and our speaker (192.0.2.4) as clients, plus a
//    second speaker (192.0.2.5) as a further client that shows byte for byte what the RR reflects.
//    Our type 3 (for a static VTEP 192.0.2.101 that is no lab host; PMSI ingress replication),
//    type 2 (MAC and MAC/IP, MAC mobility sticky) and type 5 (with a gateway) routes, each with
//    two route targets, appear intact in the RR and, reflected (ORIGINATOR_ID, CLUSTER_LIST), in
//    both VTEPs, which flood VNI 10 to 192.0.2.101; the VTEPs' routes appear intact in our
//    Loc-RIB; withdrawals propagate both ways.
// 2. FRR as VTEP on a direct iBGP session: the same checks.
// 3. Graceful restart, FRR restarting: with `bgp graceful-restart` (and preserve-fw-state) FRR's
//    routes stay in our Loc-RIB, stale, while its bgpd is down (clean stop, and SIGKILL), and are
//    refreshed (no longer stale, none swept) after its End-of-RIB.
// 4. Graceful restart, our speaker restarting: FRR 8.4 sees our capability but is no graceful
//    restart helper for L2VPN EVPN (see the test); the restarted speaker's R bit reaches FRR, and
//    its routes are back.
//
// FRR 8.4 facts found here (see also frr-json.ts):
// - On SIGTERM bgpd sends no NOTIFICATION to a peer that advertised graceful restart (its debug
//   log says "configured Graceful-Restart, skipping unconfig notification"): a clean stop is a
//   graceful restart for us. bgpd sets the R bit in its OPENs for a while after it started, also
//   on its very first session.
// - A route reflector adds MULTI_EXIT_DISC 0 to the routes it reflects, and sends them to the
//   whole update group, their originator included (who drops them by ORIGINATOR_ID).
// - FRR keeps no type 5 gateway IP: no output shows it, and the RR reflects the route with
//   gateway 0.0.0.0 (the same for gobgpd's routes; ours carry it on the wire, checked with tshark).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import type { SpeakerOptions } from "../../src/bgp/io/speaker.js";
import type { NeighborStatus } from "../../src/bgp/view.js";
import { neighbor } from "../helpers/neighbor.js";
import {
  encapsulation,
  type EvpnRoute,
  findAttr,
  formatEvpnRoute,
  formatExtCommunity,
  macIpRoute,
  macMobility,
  type PathAttribute,
  routeTarget,
} from "../../src/codec/index.js";
import { requireTools } from "../helpers/env.js";
import {
  FRR_BIN,
  type Frr,
  type Lab,
  frrEvpnVtepConfig,
  frrRouteReflectorConfig,
  withLab,
} from "../../tools/netlab/index.js";
import { type RibEntry, SpeakerProc } from "../helpers/speaker-proc.js";
import {
  evpnDetail,
  extCommunityTokens,
  type FrrDetailPath,
  type FrrDetailRoute,
  frrNeighbor,
  frrVersion,
} from "./frr-json.js";

const TOOLS = ["ip", "bridge", "vtysh", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];
const PREFIX = "t3fr";

const AS = 65000;
const RR = "192.0.2.254";
const V1 = "192.0.2.1";
const V2 = "192.0.2.2";
const US = "192.0.2.4";
const OBS = "192.0.2.5";
/** The static VTEP our routes speak for: a documentation address that no lab host has. */
const STATIC = "192.0.2.101";
const VNI = 10;
const L3VNI = 100;
const V1_MAC = "02:00:00:00:01:0a";
const V2_MAC = "02:00:00:00:02:0b";
const OUR_MAC = "02:00:00:00:65:01";

// ---------------------------------------------------------------------------------- our routes --

const IMET: EvpnRoute = { routeType: 3, rd: `${STATIC}:${VNI}`, ethernetTag: 0, originator: STATIC };
const MAC_ONLY = macIpRoute({ rd: `${STATIC}:${VNI}`, mac: OUR_MAC, label1: VNI });
const MAC_IP = macIpRoute({ rd: `${STATIC}:${VNI}`, mac: OUR_MAC, ip: "198.51.100.101", label1: VNI });
const PREFIX5: EvpnRoute = {
  routeType: 5,
  rd: `${STATIC}:${L3VNI}`,
  esi: "00:00:00:00:00:00:00:00:00:00",
  ethernetTag: 0,
  prefix: "203.0.113.0/24",
  gateway: "198.51.100.101",
  label: L3VNI,
};
const BASE: PathAttribute[] = [
  { kind: "origin", origin: 0 },
  { kind: "as-path", segments: [] },
  { kind: "local-pref", localPref: 100 },
];
const IMET_ATTRS: OutAttrs = {
  nextHop: STATIC,
  attributes: [
    ...BASE,
    { kind: "ext-communities", communities: [routeTarget(`${AS}:${VNI}`), routeTarget(`${AS}:1010`), encapsulation()] },
    { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: VNI, endpoint: STATIC },
  ],
};
const MAC_ATTRS: OutAttrs = {
  nextHop: STATIC,
  attributes: [
    ...BASE,
    {
      kind: "ext-communities",
      communities: [routeTarget(`${AS}:${VNI}`), routeTarget(`${AS}:1010`), encapsulation(), macMobility(0, true)],
    },
  ],
};
const PREFIX_ATTRS: OutAttrs = {
  nextHop: STATIC,
  attributes: [
    ...BASE,
    {
      kind: "ext-communities",
      communities: [routeTarget(`${AS}:${L3VNI}`), routeTarget(`${AS}:1010`), encapsulation()],
    },
  ],
};
const OURS: { route: EvpnRoute; attrs: OutAttrs }[] = [
  { route: IMET, attrs: IMET_ATTRS },
  { route: MAC_ONLY, attrs: MAC_ATTRS },
  { route: MAC_IP, attrs: MAC_ATTRS },
  { route: PREFIX5, attrs: PREFIX_ATTRS },
];

/** Our routes grouped by their shared attributes. */
function groups(which: EvpnRoute[] = OURS.map((o) => o.route)): { routes: EvpnRoute[]; attrs: OutAttrs }[] {
  return [IMET_ATTRS, MAC_ATTRS, PREFIX_ATTRS]
    .map((attrs) => ({
      attrs,
      routes: OURS.filter((o) => o.attrs === attrs && which.includes(o.route)).map((o) => o.route),
    }))
    .filter((g) => g.routes.length > 0);
}

async function announce(sp: SpeakerProc, which?: EvpnRoute[]): Promise<void> {
  for (const g of groups(which)) await sp.announce(g.routes, g.attrs);
}

const key = (r: EvpnRoute): string => formatEvpnRoute(r);
/** What came over the JSON pipe has no `undefined` members: compare in that form. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const extString = (attrs: readonly PathAttribute[]): string =>
  (findAttr(attrs, "ext-communities")?.communities ?? []).map(formatExtCommunity).join(" ");
const noFlags = (attrs: readonly PathAttribute[]): PathAttribute[] =>
  attrs.map((a) => {
    const { flags: _flags, ...rest } = a as PathAttribute & { flags?: number };
    return rest as PathAttribute;
  });

// ------------------------------------------------------------------------------------ FRR configs --

const RR_CONF = frrRouteReflectorConfig({ hostname: "rr", as: AS, routerId: RR, listenRange: "192.0.2.0/24" });

/** An FRR EVPN VTEP peering with `peer` (the RR, or our speaker directly). */
function vtepConf(ip: string, peer: string, gracefulRestart = false): string {
  return frrEvpnVtepConfig({
    hostname: `v${ip.split(".").at(-1)}`,
    as: AS,
    routerId: ip,
    neighbor: peer,
    gracefulRestart,
  });
}

// ---------------------------------------------------------------------------------- lab helpers --

/** Per-test bookkeeping: our speakers (stopped at the end), timings, waits with diagnostics. */
class Run {
  readonly speakers: SpeakerProc[] = [];
  private readonly t0 = Date.now();
  private seq = 0;

  constructor(
    readonly t: TestContext,
    readonly lab: Lab,
  ) {}

  note(msg: string): void {
    this.t.diagnostic(`${((Date.now() - this.t0) / 1000).toFixed(2)} s: ${msg}`);
  }

  logs(): string {
    const sp = this.speakers.map((s) => `--- speaker ${s.logFile} ---\n${s.logTail(30)}`);
    return `${this.lab.dumpLogs()}\n${sp.join("\n")}`;
  }

  wait<T>(
    what: string,
    fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
    timeoutMs = 20_000,
  ): Promise<T> {
    return this.lab.waitFor(what, fn, { timeoutMs, intervalMs: 100, diagnostics: () => this.logs() });
  }

  /** Starts a speaker in namespace `ns` and waits until it runs. */
  /** A speaker in namespace `ns`; `initial` routes are announced before its sessions start. */
  async speaker(
    ns: string,
    opts: Omit<SpeakerOptions, "onEvent">,
    initial: { routes: EvpnRoute[]; attrs: OutAttrs }[] = [],
  ): Promise<SpeakerProc> {
    const log = join(this.lab.workDir, `speaker-${ns}-${++this.seq}.log`);
    const sp = new SpeakerProc(this.lab.resolve(ns), opts, log, [], initial);
    this.speakers.push(sp);
    await sp.started();
    return sp;
  }

  async killSpeakers(): Promise<void> {
    await Promise.all(this.speakers.map((s) => s.kill()));
  }
}

/** Runs `fn` in a fresh lab; our speakers are killed before the lab is torn down. */
async function inLab(t: TestContext, fn: (run: Run) => Promise<void>): Promise<void> {
  await withLab(t, PREFIX, async (lab) => {
    const run = new Run(t, lab);
    try {
      await fn(run);
    } catch (e) {
      process.stderr.write(`[${PREFIX}] speaker logs:\n${run.speakers.map((s) => s.logTail(60)).join("\n---\n")}\n`);
      throw e;
    } finally {
      await run.killSpeakers();
    }
  });
}

/** A switch namespace "sw" with bridge "fabric" and one veth per member (192.0.2.0/24). */
async function fabric(lab: Lab, members: [string, string][]): Promise<void> {
  await lab.ns("sw");
  const ports: string[] = [];
  for (const [ns, ip] of members) {
    await lab.ns(ns);
    ports.push((await lab.link("sw", null, ns, `${ip}/24`)).aIf);
  }
  await lab.bridge("sw", "fabric", ports);
}

/**
 * The kernel side of an FRR VTEP: bridge br10 with VXLAN vx10 (VNI 10) and a port towards a host
 * namespace that carries one static MAC (learning off, so the MAC set stays exactly this).
 */
async function vtepKernel(lab: Lab, ns: string, ip: string, host: string, mac: string): Promise<string> {
  await lab.ns(host);
  const { bIf } = await lab.link(host, null, ns, null, { aMac: mac });
  await lab.bridge(ns, "br10", [bIf]);
  await lab.exec(ns, "bridge", ["link", "set", "dev", bIf, "learning", "off"]);
  await lab.vxlan(ns, "vx10", { vni: VNI, local: ip, bridge: "br10" });
  await lab.exec(ns, "bridge", ["fdb", "replace", mac, "dev", bIf, "master", "static"]);
  return bIf;
}

function speakerOpts(
  routerId: string,
  peer: string,
  extra: Partial<SpeakerOptions> = {},
): Omit<SpeakerOptions, "onEvent"> {
  return {
    routerId,
    localAs: AS,
    listen: null,
    gracefulRestart: null,
    neighbors: [
      neighbor({ address: peer, "peer-as": AS, "local-address": routerId, "connect-retry": 1, "hold-time": 9 }),
    ],
    ...extra,
  };
}

async function status(sp: SpeakerProc): Promise<NeighborStatus> {
  return (await sp.status())[0]!;
}

async function established(sp: SpeakerProc): Promise<boolean> {
  return (await status(sp)).state === "Established";
}

/** Loc-RIB paths learnt from `source` (a neighbour address). */
async function learnt(sp: SpeakerProc, source: string): Promise<RibEntry[]> {
  return (await sp.rib()).filter((e) => e.source === source);
}

/** The speaker's log as parsed pino lines. */
function speakerLog(sp: SpeakerProc): { msg: string; [k: string]: unknown }[] {
  const lines: { msg: string }[] = [];
  for (const l of readFileSync(sp.logFile, "utf8").split("\n")) {
    if (!l.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(l) as { msg: string });
    } catch {
      // a torn last line
    }
  }
  return lines;
}

// ------------------------------------------------------------------------------------- checks --

interface Via {
  /** Who sent FRR the path (peer.peerId). */
  peerId: string;
  /** Reflected by the RR: ORIGINATOR_ID and CLUSTER_LIST expected. */
  reflectedFrom?: string;
}

/** All of our routes, intact, in FRR's detailed EVPN table, as received from `via`. */
async function checkOursInFrr(frr: Frr, via: Via, routes = OURS): Promise<void> {
  const table = await evpnDetail(frr);
  for (const { route, attrs } of routes) {
    const k = key(route);
    const e = table.get(k);
    assert.ok(e, `${frr.ns}: our route ${k} missing; has ${[...table.keys()].join(", ")}`);
    assert.equal(e.paths.length, 1, `${frr.ns} ${k}: one path`);
    const p = e.paths[0]!;
    const what = `${frr.ns} ${k}`;
    assert.equal(`${e.rd} ${e.prefix}`, k);
    assert.equal(e.routeType, route.routeType, what);
    assert.equal(e.ethTag, 0, what);
    switch (route.routeType) {
      case 2:
        assert.equal(e.mac, route.mac, what);
        assert.equal(e.ip, route.ip, what);
        assert.equal(e.ipLen, route.ip ? 32 : undefined, what);
        assert.equal(p.VNI, String(route.label1), `${what}: label`);
        break;
      case 3:
        assert.equal(e.ip, route.originator, what);
        assert.equal(e.ipLen, 32, what);
        assert.deepEqual(p.pmsi, { tunnelType: "Ingress Replication", label: VNI }, `${what}: PMSI`);
        break;
      case 5:
        assert.equal(`${e.ip}/${e.ipLen}`, route.prefix, what);
        assert.equal(p.VNI, String(route.label), `${what}: label`);
        break;
      default:
        assert.fail(`unexpected route type in ${what}`);
    }
    assert.equal(p.extendedCommunity?.string, extString(attrs.attributes), `${what}: extended communities`);
    assert.deepEqual(
      p.nexthops?.map((n) => n.ip),
      [STATIC],
      `${what}: next hop`,
    );
    assert.equal(p.origin, "IGP", what);
    assert.equal(p.aspath?.length, 0, what);
    assert.equal(p.locPrf, 100, what);
    assert.equal(p.valid, true, what);
    assert.equal(p.bestpath?.overall, true, what);
    assert.equal(p.stale, undefined, `${what}: not stale`);
    assert.equal(p.peer?.peerId, via.peerId, `${what}: received from`);
    if (via.reflectedFrom) {
      assert.equal(p.originatorId, US, `${what}: ORIGINATOR_ID`);
      assert.deepEqual(p.clusterList?.list, [via.reflectedFrom], `${what}: CLUSTER_LIST`);
      assert.equal(p.metric, 0, `${what}: the RR adds MED 0`);
    } else {
      assert.equal(p.originatorId, undefined, what);
      assert.equal(p.clusterList, undefined, what);
      assert.equal(p.metric, undefined, what);
    }
  }
}

/** FRR's routes with RD `<vtep>:*`, from its own table (the originals). */
function originated(table: Map<string, FrrDetailRoute>, vtep: string): FrrDetailRoute[] {
  return [...table.values()].filter((e) => e.rd.startsWith(`${vtep}:`));
}

/**
 * The VTEP's own routes (`originals`, from its table) are in our Loc-RIB, intact, learnt from
 * `source`; via the RR also with ORIGINATOR_ID, CLUSTER_LIST and the RR's MED 0, and the
 * extended communities exactly as the RR shows them (`rrTable`, wire order).
 */
function checkFrrInRib(
  rib: RibEntry[],
  vtep: string,
  originals: FrrDetailRoute[],
  source: string,
  rrTable?: Map<string, FrrDetailRoute>,
): void {
  const mine = rib.filter((e) => e.source === source && key(e.route).startsWith(`${vtep}:`));
  assert.deepEqual(
    mine.map((e) => key(e.route)).sort(),
    originals.map((o) => `${o.rd} ${o.prefix}`).sort(),
    `routes of ${vtep} learnt from ${source}`,
  );
  for (const o of originals) {
    const k = `${o.rd} ${o.prefix}`;
    const e = mine.find((x) => key(x.route) === k)!;
    const p: FrrDetailPath = o.paths[0]!;
    const r = e.route;
    assert.equal(e.nextHop, vtep, `${k}: next hop`);
    assert.equal(e.stale, false, `${k}: not stale`);
    assert.equal(e.best, true, `${k}: best`);
    if (r.routeType === 2) {
      assert.equal(r.mac, o.mac, k);
      assert.equal(r.ethernetTag, o.ethTag, k);
      assert.equal(r.label1, Number(p.VNI), `${k}: label`);
    } else if (r.routeType === 3) {
      assert.equal(r.originator, o.ip, k);
      assert.equal(r.ethernetTag, o.ethTag, k);
      assert.deepEqual(
        noFlags([findAttr(e.attributes, "pmsi-tunnel")!]),
        [{ kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: p.pmsi!.label, endpoint: vtep }],
        `${k}: PMSI`,
      );
    } else assert.fail(`unexpected route ${k} from ${vtep}`);
    // FRR shows its own routes' communities sorted, received ones in wire order: compare as sets
    const ours = (findAttr(e.attributes, "ext-communities")?.communities ?? []).map(formatExtCommunity);
    assert.deepEqual([...ours].sort(), extCommunityTokens(p.extendedCommunity!.string).sort(), `${k}: ext communities`);
    if (rrTable) {
      const atRr = rrTable.get(k)?.paths[0]?.extendedCommunity?.string;
      assert.equal(ours.join(" "), atRr, `${k}: ext communities as the RR has them`);
    }
    const reflected = rrTable !== undefined;
    const expected: PathAttribute[] = [
      { kind: "origin", origin: 0 },
      { kind: "as-path", segments: [] },
      ...(reflected ? [{ kind: "med", med: 0 } as PathAttribute] : []),
      { kind: "local-pref", localPref: 100 },
      ...(reflected
        ? [
            { kind: "originator-id", originatorId: vtep } as PathAttribute,
            { kind: "cluster-list", clusterIds: [RR] } as PathAttribute,
          ]
        : []),
      findAttr(e.attributes, "ext-communities")!,
      ...(r.routeType === 3 ? [findAttr(e.attributes, "pmsi-tunnel")!] : []),
    ];
    assert.deepEqual(noFlags(e.attributes), noFlags(expected), `${k}: path attributes`);
  }
}

// -------------------------------------------------------------------------------------- tests --

test(
  "FRR 8.4 as route reflector: our types 2, 3, 5 reach both FRR VTEPs intact, theirs reach us, withdrawals both ways",
  { timeout: 90_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    await inLab(t, async (run) => {
      const { lab } = run;
      await fabric(lab, [
        ["rr", RR],
        ["v1", V1],
        ["v2", V2],
        ["spk", US],
        ["obs", OBS],
      ]);
      const v1Port = await vtepKernel(lab, "v1", V1, "h1", V1_MAC);
      await vtepKernel(lab, "v2", V2, "h2", V2_MAC);
      const rr = await lab.frr("rr", RR_CONF);
      const v1 = await lab.frr("v1", vtepConf(V1, RR));
      const v2 = await lab.frr("v2", vtepConf(V2, RR));
      const sp = await run.speaker("spk", speakerOpts(US, RR));
      const obs = await run.speaker("obs", speakerOpts(OBS, RR));
      await announce(sp);
      run.note("lab built, FRR and speakers started, our routes announced");

      // Sessions: ours and the observer's are dynamic peers of the RR (bgp listen range).
      await run.wait("our session with the RR Established", () => established(sp));
      await run.wait("the observer's session with the RR Established", () => established(obs));
      const summary = await run.wait("RR: 4 Established dynamic peers", async () => {
        const peers = (await rr.bgpSummary()).peers ?? {};
        return [V1, V2, US, OBS].every((p) => peers[p]?.state === "Established") && peers;
      });
      assert.equal(summary[US]?.dynamicPeer, true);
      assert.equal(summary[US]?.pfxRcd, OURS.length);
      run.note("all sessions Established");

      // Our routes in the RR (from us), and reflected to both VTEPs.
      await run.wait("RR: our 4 routes", async () => (await checkOursInFrr(rr, { peerId: US }), true));
      for (const v of [v1, v2])
        await run.wait(`${v.ns}: our 4 routes, reflected`, async () => {
          await checkOursInFrr(v, { peerId: RR, reflectedFrom: RR });
          return true;
        });
      // Zebra accepted our IMET (flood list, from its originator field) and our MAC.
      for (const [v, other] of [
        [v1, V2],
        [v2, V1],
      ] as const) {
        await run.wait(`${v.ns}: VNI 10 floods to ${STATIC} and ${other}`, async () => {
          const vteps = await v.remoteVteps(VNI);
          return vteps.length === 2 && vteps.includes(STATIC) && vteps.includes(other);
        });
        const mac = (await v.evpnMacs(VNI))[OUR_MAC];
        assert.equal(mac?.type, "remote");
        assert.equal(mac?.remoteVtep, STATIC);
      }
      run.note("our routes intact in the RR and in both VTEPs; flood lists include the static VTEP");

      // What the RR reflects, byte for byte, at the second client: everything, the PMSI endpoint
      // included (no FRR output shows it), but the type 5 gateway, which FRR 8.4 loses.
      const atObs = await run.wait("observer: our 4 routes", async () => {
        const r = await learnt(obs, RR);
        return OURS.every((o) => r.some((e) => key(e.route) === key(o.route))) && r;
      });
      const v = await frrVersion(rr);
      for (const { route, attrs } of OURS) {
        const e = atObs.find((x) => key(x.route) === key(route))!;
        // FRR 8.4 keeps no type 5 gateway IP (its outputs show none either) and reflects the route
        // with gateway 0.0.0.0; it does the same to gobgpd's type 5 routes, so this is FRR's.
        const expected =
          route.routeType === 5 && v.major === 8 && v.minor === 4 ? { ...route, gateway: "0.0.0.0" } : route;
        assert.deepEqual(e.route, plain(expected), `observer: ${key(route)}`);
        assert.equal(e.nextHop, STATIC);
        const rest = attrs.attributes.slice(BASE.length);
        assert.deepEqual(
          noFlags(e.attributes),
          plain([
            ...BASE.slice(0, 2),
            { kind: "med", med: 0 }, // added by FRR's RR
            BASE[2]!,
            { kind: "originator-id", originatorId: US },
            { kind: "cluster-list", clusterIds: [RR] },
            ...rest,
          ]),
          `observer: ${key(route)} attributes`,
        );
      }
      run.note(`the observer received our routes, reflected, intact (${v.text}: type 5 gateway 0.0.0.0)`);

      // The VTEPs' routes, reflected by the RR, in our Loc-RIB.
      const rrTable = await evpnDetail(rr);
      const orig1 = originated(await evpnDetail(v1), V1);
      const orig2 = originated(await evpnDetail(v2), V2);
      assert.deepEqual(orig1.map((o) => o.prefix).sort(), [`[2]:[0]:[48]:[${V1_MAC}]`, `[3]:[0]:[32]:[${V1}]`]);
      assert.deepEqual(orig2.map((o) => o.prefix).sort(), [`[2]:[0]:[48]:[${V2_MAC}]`, `[3]:[0]:[32]:[${V2}]`]);
      await run.wait("our Loc-RIB: 2 routes of each VTEP", async () => (await learnt(sp, RR)).length === 4);
      const rib = await sp.rib();
      checkFrrInRib(rib, V1, orig1, RR, rrTable);
      checkFrrInRib(rib, V2, orig2, RR, rrTable);
      // FRR sends a reflected route to its whole update group, its originator included: we drop
      // our own routes by their ORIGINATOR_ID (RFC 4456 §8), they never reach the Loc-RIB.
      await run.wait(
        "our own routes, reflected back, rejected",
        async () => (await status(sp)).rib.rejectedLoop === OURS.length,
      );
      assert.deepEqual(
        (await sp.rib()).filter((e) => OURS.some((o) => key(o.route) === key(e.route))).map((e) => e.source),
        OURS.map(() => "local"),
      );
      run.note("both VTEPs' routes intact in our Loc-RIB");

      // Withdrawals, ours: the IMET, the MAC/IP and the type 5 go; the MAC-only route stays.
      await sp.withdraw([IMET, MAC_IP, PREFIX5]);
      const gone = [IMET, MAC_IP, PREFIX5].map(key);
      for (const f of [rr, v1, v2])
        await run.wait(`${f.ns}: our withdrawals`, async () => {
          const table = await evpnDetail(f);
          return gone.every((k) => !table.has(k)) && table.has(key(MAC_ONLY));
        });
      await checkOursInFrr(v1, { peerId: RR, reflectedFrom: RR }, [{ route: MAC_ONLY, attrs: MAC_ATTRS }]);
      await run.wait(`v1: ${STATIC} no longer in the flood list`, async () => {
        const vteps = await v1.remoteVteps(VNI);
        return vteps.length === 1 && vteps[0] === V2;
      });
      await run.wait("observer: our withdrawals", async () => {
        const keys = (await learnt(obs, RR)).map((e) => key(e.route));
        return gone.every((k) => !keys.includes(k)) && keys.includes(key(MAC_ONLY));
      });
      run.note("our withdrawals reached the RR, both VTEPs and the observer");

      // Withdrawals, FRR's: v1's static MAC goes (type 2), then v2's VXLAN device (type 3, type 2).
      await lab.exec("v1", "bridge", ["fdb", "del", V1_MAC, "dev", v1Port, "master"]);
      await run.wait("our Loc-RIB: v1's MAC withdrawn", async () => {
        const keys = (await learnt(sp, RR)).map((e) => key(e.route));
        return !keys.includes(`${orig1.find((o) => o.routeType === 2)!.rd} [2]:[0]:[48]:[${V1_MAC}]`) && keys;
      });
      await lab.ip("v2", ["link", "set", "vx10", "down"]);
      await run.wait("our Loc-RIB: v2's routes withdrawn, v1's type 3 left", async () => {
        const left = (await learnt(sp, RR)).map((e) => key(e.route));
        return left.length === 1 && left[0] === `${orig1.find((o) => o.routeType === 3)!.rd} [3]:[0]:[32]:[${V1}]`;
      });
      run.note("FRR's withdrawals reached our Loc-RIB");
    });
  },
);

test(
  "FRR 8.4 as EVPN VTEP on a direct iBGP session: routes intact both ways, withdrawals both ways",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    await inLab(t, async (run) => {
      const { lab } = run;
      await fabric(lab, [
        ["v1", V1],
        ["spk", US],
      ]);
      const v1Port = await vtepKernel(lab, "v1", V1, "h1", V1_MAC);
      const v1 = await lab.frr("v1", vtepConf(V1, US));
      // We listen too: FRR connects as well, so collisions get resolved on the way.
      const sp = await run.speaker("spk", speakerOpts(US, V1, { listen: { address: US, port: 179 } }));
      await announce(sp);
      await run.wait("our session with v1 Established", () => established(sp));
      await run.wait("v1: session with us Established", async () => (await v1.peerState(US)) === "Established");
      run.note("session Established");

      await run.wait("v1: our 4 routes", async () => (await checkOursInFrr(v1, { peerId: US }), true));
      await run.wait(`v1: VNI 10 floods to ${STATIC}`, async () => {
        const vteps = await v1.remoteVteps(VNI);
        return vteps.length === 1 && vteps[0] === STATIC;
      });
      const mac = (await v1.evpnMacs(VNI))[OUR_MAC];
      assert.equal(mac?.type, "remote");
      assert.equal(mac?.remoteVtep, STATIC);
      const orig = originated(await evpnDetail(v1), V1);
      assert.equal(orig.length, 2);
      await run.wait("our Loc-RIB: v1's 2 routes", async () => (await learnt(sp, V1)).length === 2);
      checkFrrInRib(await sp.rib(), V1, orig, V1);
      run.note("routes intact both ways");

      await sp.withdraw([IMET, MAC_IP, PREFIX5]);
      await run.wait("v1: our withdrawals", async () => {
        const table = await evpnDetail(v1);
        return [IMET, MAC_IP, PREFIX5].every((r) => !table.has(key(r))) && table.has(key(MAC_ONLY));
      });
      await run.wait("v1: flood list empty", async () => (await v1.remoteVteps(VNI)).length === 0);
      await lab.exec("v1", "bridge", ["fdb", "del", V1_MAC, "dev", v1Port, "master"]);
      await run.wait("our Loc-RIB: v1's MAC withdrawn", async () => {
        const left = await learnt(sp, V1);
        return left.length === 1 && left[0]!.route.routeType === 3;
      });
      await lab.ip("v1", ["link", "set", "vx10", "down"]);
      await run.wait("our Loc-RIB: v1's IMET withdrawn", async () => (await learnt(sp, V1)).length === 0);
      run.note("withdrawals both ways");

      // For the record, FRR's clean stop (SIGTERM) towards a peer without graceful restart: bgpd
      // closes the connection, in our runs without a NOTIFICATION (one early run counted one, not
      // seen again in 25 runs); towards a graceful restart peer it sends none by design (see
      // frrRestarts).
      const logAt = speakerLog(sp).length;
      await v1.stop();
      await run.wait("our session with v1 down", async () => !(await established(sp)));
      const after = speakerLog(sp).slice(logAt);
      const notification = after.find((l) => l.msg.startsWith(`NOTIFICATION received from ${V1}`));
      const down = after.find((l) => l.msg === `session with ${V1} down`);
      run.note(`FRR stopped with SIGTERM: ${notification?.msg ?? "no NOTIFICATION"}; ${String(down?.["reason"])}`);
    });
  },
);

/** A direct session between our speaker and FRR VTEP v1, both with graceful restart. */
async function grLab(run: Run): Promise<{ v1: Frr; sp: SpeakerProc; orig: FrrDetailRoute[]; before: RibEntry[] }> {
  const { lab } = run;
  await fabric(lab, [
    ["v1", V1],
    ["spk", US],
  ]);
  await vtepKernel(lab, "v1", V1, "h1", V1_MAC);
  const v1 = await lab.frr("v1", vtepConf(V1, US, true));
  const sp = await run.speaker(
    "spk",
    speakerOpts(US, V1, {
      listen: { address: US, port: 179 },
      gracefulRestart: { restartTime: 120 },
      restarting: false,
    }),
  );
  await announce(sp);
  await run.wait("our session with v1 Established", () => established(sp));
  await run.wait("v1: our 4 routes", async () => (await checkOursInFrr(v1, { peerId: US }), true));
  const orig = originated(await evpnDetail(v1), V1);
  assert.equal(orig.length, 2);
  const before = await run.wait("our Loc-RIB: v1's 2 routes", async () => {
    const r = await learnt(sp, V1);
    return r.length === 2 && r;
  });
  checkFrrInRib(await sp.rib(), V1, orig, V1);

  // The capabilities as both sides see them.
  // FRR sets the R bit in every OPEN for a while after bgpd started, this first one included.
  const neg = (await status(sp)).negotiated!;
  assert.equal(neg.peerGracefulRestart?.restartTime, 120);
  assert.deepEqual(neg.peerGracefulRestart?.families, [{ afi: 25, safi: 70, forwardingPreserved: true }]);
  assert.equal(neg.localGracefulRestart, true);
  const n = (await frrNeighbor(v1, US))!;
  assert.equal(n.neighborCapabilities?.gracefulRestart, "advertisedAndReceived");
  assert.equal(n.neighborCapabilities?.gracefulRestartRemoteTimerMsecs, 120_000);
  assert.deepEqual(n.neighborCapabilities?.addressFamiliesByPeer, { l2VpnEvpn: { preserved: true } });
  assert.equal(n.gracefulRestartInfo?.localGrMode, "Restart*");
  assert.equal(n.gracefulRestartInfo?.rBit, false);
  assert.equal(n.gracefulRestartInfo?.timers?.receivedRestartTimer, 120);
  run.note("graceful restart negotiated both ways; routes exchanged");
  return { v1, sp, orig, before };
}

/**
 * FRR's bgpd is gone (`takeDown`): its routes stay in our Loc-RIB, stale; after its restart they
 * are refreshed by its routes and End-of-RIB, nothing swept.
 */
async function frrRestarts(run: Run, how: string, takeDown: (v1: Frr) => Promise<void>): Promise<void> {
  const { v1, sp, orig, before } = await grLab(run);
  const notificationsBefore = (await status(sp)).counters.notificationsIn;
  const logBefore = speakerLog(sp).length;
  await takeDown(v1);
  const down = await run.wait("our session with v1 down", async () => {
    const s = await status(sp);
    return s.state !== "Established" && s;
  });
  assert.equal(down.counters.notificationsIn, notificationsBefore, `no NOTIFICATION from FRR (${how})`);
  // The speaker's log is written asynchronously: wait for the line rather than read it once.
  const downLine = await run.wait("the session-down line in our speaker's log", async () =>
    speakerLog(sp)
      .slice(logBefore)
      .find((l) => l.msg === `session with ${V1} down`),
  );
  assert.equal(downLine?.["cause"], "tcp-failed");
  assert.equal(downLine?.["gracefulRestart"], true);
  run.note(`FRR down (${how}), no NOTIFICATION`);

  // While FRR is down (its restart time is 120 s) its routes stay, stale, unchanged.
  for (let i = 0; i < 2; i++) {
    const r = await learnt(sp, V1);
    assert.deepEqual(
      r.map((e) => e.stale),
      [true, true],
      "v1's routes kept, stale",
    );
    assert.deepEqual(
      r.map((e) => plain([e.route, e.nextHop, e.attributes])),
      before.map((e) => plain([e.route, e.nextHop, e.attributes])),
    );
    assert.equal((await status(sp)).rib.stale, 2);
    if (i === 0) await new Promise((r) => setTimeout(r, 1000));
  }
  run.note("FRR's routes kept as stale while it is down");

  await v1.restart();
  let staleWhileUp = false;
  await run.wait(
    "our session with v1 Established again",
    async () => {
      const up = await established(sp);
      if (up && (await learnt(sp, V1)).some((e) => e.stale)) staleWhileUp = true;
      return up;
    },
    30_000,
  );
  await run.wait("v1's routes refreshed (not stale)", async () => {
    const r = await learnt(sp, V1);
    if (r.some((e) => e.stale)) staleWhileUp = true;
    return r.length === 2 && r.every((e) => !e.stale);
  });
  const neg = (await status(sp)).negotiated!;
  run.note(
    `FRR back; R bit ${neg.peerGracefulRestart?.restartState}; routes seen stale after re-establishment: ${staleWhileUp}`,
  );
  checkFrrInRib(await sp.rib(), V1, orig, V1);
  assert.deepEqual(
    (await learnt(sp, V1)).map((e) => plain([e.route, e.nextHop, e.attributes])),
    before.map((e) => plain([e.route, e.nextHop, e.attributes])),
  );
  // In our log since the restart: established, End-of-RIB, then the sweep that removed nothing.
  await run.wait("the sweep in our speaker's log", async () =>
    speakerLog(sp)
      .slice(logBefore)
      .some((l) => l.msg === `stale routes of ${V1} swept`),
  );
  const log = speakerLog(sp).slice(logBefore);
  const up = log.findIndex((l) => l.msg === `session with ${V1} established`);
  const eor = log.findIndex((l) => l.msg === `End-of-RIB from ${V1}`);
  const sweeps = log.filter((l) => l.msg === `stale routes of ${V1} swept`);
  assert.ok(up >= 0 && eor > up, "End-of-RIB after re-establishment");
  assert.equal(sweeps.length, 1, "one sweep");
  assert.equal(sweeps[0]!["reason"], "End-of-RIB received");
  assert.equal(sweeps[0]!["removed"], 0);
  assert.ok(log.indexOf(sweeps[0]!) > eor, "swept at End-of-RIB, not before");
  // and ours are back in FRR
  await run.wait("v1: our 4 routes again", async () => (await checkOursInFrr(v1, { peerId: US }), true));
}

test(
  "graceful restart, FRR 8.4 restarts (clean stop): its routes stay in our Loc-RIB as stale, then refreshed",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    // SIGTERM (Frr.stop): FRR sends no NOTIFICATION to a graceful-restart peer, only a FIN.
    await inLab(t, (run) => frrRestarts(run, "SIGTERM", (v1) => v1.stop()));
  },
);

test(
  "graceful restart, FRR 8.4's bgpd crashes (SIGKILL): its routes stay in our Loc-RIB as stale, then refreshed",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    await inLab(t, (run) =>
      frrRestarts(run, "SIGKILL of bgpd", async (v1) => {
        const pid = Number(readFileSync(join(v1.runDir, "bgpd.pid"), "utf8").trim());
        assert.ok(v1.pids().includes(pid), "bgpd's pid file names a running daemon of this lab");
        process.kill(pid, "SIGKILL");
      }),
    );
  },
);

test(
  "graceful restart, our speaker crashes and restarts: FRR 8.4 sees our capability and R bit; what we do not re-announce is gone",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    await inLab(t, async (run) => {
      const { v1, sp } = await grLab(run);
      const version = await frrVersion(v1);
      const n = (await frrNeighbor(v1, US))!;
      // FRR counts the families it does graceful restart for and that we preserve; EVPN is none
      // of them in 8.4, hence "Helper" although we advertise Restart with forwarding state.
      run.note(`${version.text}: our mode as FRR sees it: ${n.gracefulRestartInfo?.remoteGrMode}`);

      await sp.kill();
      await run.wait("v1: session with us down", async () => (await frrNeighbor(v1, US))?.bgpState !== "Established");
      run.note("our speaker killed (SIGKILL)");
      if (version.major === 8 && version.minor === 4) {
        // FRR 8.4 is no graceful restart helper for L2VPN EVPN: bgpd keeps a restarting peer's
        // routes only for the SAFIs of lib/zebra.h FOREACH_AFI_SAFI_NSF (unicast, multicast,
        // MPLS VPN: safi <= SAFI_MPLS_VPN), so peer->nsf is never set for EVPN and the routes go
        // at once (FRR issue #9749; EVPN graceful restart came with FRR PR #19778, 2025). FRR
        // does the same to another FRR's EVPN routes, while it keeps IPv4 unicast ones stale.
        await run.wait("v1 (FRR 8.4): our routes withdrawn at once, not kept stale", async () => {
          const table = await evpnDetail(v1);
          return OURS.every((o) => !table.has(key(o.route)));
        });
        await run.wait("v1: flood list empty", async () => (await v1.remoteVteps(VNI)).length === 0);
        assert.equal(n.gracefulRestartInfo?.remoteGrMode, "Helper");
      } else {
        // An FRR with EVPN graceful restart must keep them, marked stale.
        await run.wait("v1: our routes kept, marked stale", async () => {
          const table = await evpnDetail(v1);
          return OURS.every((o) => table.get(key(o.route))?.paths[0]?.stale === true);
        });
        assert.ok((await v1.remoteVteps(VNI)).includes(STATIC));
      }

      // The restarted speaker (R bit) announces all but the type 5 route. With FRR 8.4 all went at
      // the kill already, so this shows what comes back; with an EVPN graceful restart helper it
      // shows the End-of-RIB sweep too. (The speaker child starts its Speaker before it takes
      // commands, so End-of-RIB could in principle leave before these routes; in every capture
      // taken here the routes came first.)
      const again: EvpnRoute[] = [IMET, MAC_ONLY, MAC_IP];
      // RFC 4724 §4.1: the restarted speaker sends its routes before its End-of-RIB.
      const sp2 = await run.speaker(
        "spk",
        speakerOpts(US, V1, {
          listen: { address: US, port: 179 },
          gracefulRestart: { restartTime: 120 },
          restarting: true,
        }),
        groups(again),
      );
      await run.wait("restarted speaker: session with v1 Established", () => established(sp2));
      const n2 = await run.wait("v1: R bit seen, our End-of-RIB received", async () => {
        const x = await frrNeighbor(v1, US);
        return x?.bgpState === "Established" && x.gracefulRestartInfo?.endOfRibRecv?.["l2VpnEvpn"] === true && x;
      });
      assert.equal(n2.gracefulRestartInfo?.rBit, true);
      await run.wait("v1: the 3 re-announced routes, not stale; the type 5 route gone", async () => {
        await checkOursInFrr(
          v1,
          { peerId: US },
          OURS.filter((o) => again.includes(o.route)),
        );
        return !(await evpnDetail(v1)).has(key(PREFIX5));
      });
      await run.wait(`v1: VNI 10 floods to ${STATIC} again`, async () => (await v1.remoteVteps(VNI)).includes(STATIC));
      run.note("restarted speaker's routes in FRR; the one not re-announced is gone");
    });
  },
);
