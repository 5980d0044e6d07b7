// Interop of our BGP speaker with gobgpd 3.10 (issue 3), in a namespace lab: gobgpd in "gb"
// (192.0.2.2), our speaker as its own process in "us" (192.0.2.4), one veth, iBGP AS 65000,
// L2VPN EVPN.
// 1. Us active (gobgpd passive-mode) and us passive (gobgpd connects): the session comes up; our
//    routes (type 2 MAC only / MAC+IPv4 with two labels / MAC+IPv6 with a 24-bit VNI, sticky MAC
//    mobility, type 3 with PMSI ingress replication, type 5 IPv4 and IPv6 with router's MAC; RDs of
//    types 0, 1, 2; route targets of types 0, 1, 2; VXLAN encapsulation) are in `gobgp global rib
//    -a evpn -j` field by field; routes injected with the gobgp CLI (types 2, 3, 5, several RTs,
//    PMSI, router's MAC, a type 5 gateway) are in our Loc-RIB field by field; gobgpd attaches MAC
//    mobility to a MAC we announced first and that arrives intact; withdrawals go both ways.
// 2. Graceful restart with gobgpd restarting (we are the receiving speaker, RFC 4724 §4.2):
//    SIGTERM makes gobgpd send Cease / Peer De-configured, which ends graceful restart (no RFC
//    8538), so its routes go at once; after a SIGKILL its routes stay, stale, until gobgpd is back
//    in restarting mode, has re-announced some and sent End-of-RIB: those are fresh again, the
//    others are swept.
// 3. Without `gracefulRestart` in our options we still advertise the capability without
//    families (RFC 4724 §3 receiving speaker), so gobgpd sends End-of-RIB after its restart and
//    the stale routes it no longer has are swept then, not after the stale path time (360 s).
//
// What gobgpd 3.10 does, as seen here:
// - CLI-injected routes: ORIGIN INCOMPLETE; on iBGP it adds an empty AS_PATH and LOCAL_PREF 100.
// - MAC mobility: when it is given a MAC that is in its RIB under another RD, gobgpd adds a MAC
//   mobility community itself with sequence = highest sequence seen + 1, where a route without the
//   community counts as -1: so seq 0 after our route without community (RFC 7432 §15.1 would want
//   1), seq 8 after our sticky seq 7, and the sticky flag is not kept.
// - On SIGTERM it sends NOTIFICATION Cease / Peer De-configured (6/3) to every peer.
// - Its OPEN's graceful restart capability: restart time from `restart-time`, EVPN with the
//   forwarding bit and the Restart State bit only in restarting mode (`gobgpd -r`, or
//   `[neighbors.graceful-restart.state] local-restarting = true` in the TOML); without it a
//   restarted gobgpd makes us drop its stale routes at once (RFC 4724 §4.2, F bit clear).
// - In restarting mode it waits for our End-of-RIB, then sends its routes and End-of-RIB. It sends
//   End-of-RIB only to peers that advertised the graceful restart capability.
// - Its first connection comes 5-10 s after its start (hence gobgpd passive when we test GR).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { OutAttrs } from "../../src/bgp/adj-rib-out.js";
import { evpnRouteKey } from "../../src/bgp/route-key.js";
import type { SpeakerOptions } from "../../src/bgp/io/speaker.js";
import { neighbor } from "../helpers/neighbor.js";
import {
  encapsulation,
  type EvpnRoute,
  type ExtCommunity,
  macIpRoute,
  macMobility,
  type PathAttribute,
  routeTarget,
} from "../../src/codec/index.js";
import { requireTools } from "../helpers/env.js";
import { type GoBgp, type Lab, withLab } from "../../tools/netlab/index.js";
import { type RibEntry, SpeakerProc } from "../helpers/speaker-proc.js";
import { type GobgpEvpnPath, gobgpEvpnPaths } from "./gobgp-json.js";

const PREFIX = "t3gb";
const TOOLS = ["ip", "ss", "gobgpd", "gobgp"];
const GB = "192.0.2.2";
const US = "192.0.2.4";
/** The static VTEP we announce for (next hop of our type 2 and 3 routes). */
const OUR_VTEP = "192.0.2.9";
/** The VTEP gobgpd's routes point to. */
const GB_VTEP = "192.0.2.12";
const ZERO_ESI = "00:00:00:00:00:00:00:00:00:00";

// ------------------------------------------------------------------------------ configuration --

interface GobgpConf {
  /** gobgpd waits for our connection (`passive-mode`). */
  passive: boolean;
  /** `[neighbors.graceful-restart.state] local-restarting`: what `gobgpd -r` sets (R and F bits). */
  restarting?: boolean;
  /** `admin-down`: gobgpd refuses the session until `gobgp neighbor <us> enable`. */
  adminDown?: boolean;
}

function gobgpToml(c: GobgpConf): string {
  return `[global.config]
  as = 65000
  router-id = "${GB}"
  local-address-list = ["${GB}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${US}"
    peer-as = 65000${c.adminDown ? "\n    admin-down = true" : ""}
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 1
  [neighbors.transport.config]
    local-address = "${GB}"${c.passive ? "\n    passive-mode = true" : ""}
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120${c.restarting ? "\n  [neighbors.graceful-restart.state]\n    local-restarting = true" : ""}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`;
}

function speakerOptions(active: boolean, extra: Partial<SpeakerOptions> = {}): Omit<SpeakerOptions, "onEvent"> {
  return {
    routerId: US,
    localAs: 65000,
    listen: active ? null : { address: US, port: 179 },
    gracefulRestart: null,
    neighbors: [
      neighbor({
        address: GB,
        "peer-as": 65000,
        passive: !active,
        "connect-retry": 1,
        "hold-time": 9,
        // after gobgpd went away: retry every 1-2 s, not with the default damping up to 120 s
        damping: { "idle-hold-time": 1, "max-idle-hold-time": 2 },
      }),
    ],
    ...extra,
  };
}

// ---------------------------------------------------------------------------------- our routes --

const BASE: PathAttribute[] = [
  { kind: "origin", origin: 0 },
  { kind: "as-path", segments: [] },
  { kind: "local-pref", localPref: 100 },
];

const OUR_MAC: OutAttrs = {
  nextHop: OUR_VTEP,
  attributes: [
    ...BASE,
    {
      kind: "ext-communities",
      communities: [
        routeTarget("65000:10"),
        routeTarget("192.0.2.4:30"),
        routeTarget("4200000000:40"),
        encapsulation(),
      ],
    },
  ],
};
const OUR_MAC_IP: OutAttrs = {
  nextHop: OUR_VTEP,
  attributes: [
    ...BASE,
    {
      kind: "ext-communities",
      communities: [routeTarget("65000:10"), routeTarget("65000:20"), encapsulation(), macMobility(7, true)],
    },
  ],
};
const OUR_IMET: OutAttrs = {
  nextHop: OUR_VTEP,
  attributes: [
    ...BASE,
    { kind: "ext-communities", communities: [routeTarget("65000:10"), routeTarget("65000:20"), encapsulation()] },
    { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: OUR_VTEP },
  ],
};
const OUR_PREFIX: OutAttrs = {
  nextHop: US,
  attributes: [
    ...BASE,
    {
      kind: "ext-communities",
      communities: [routeTarget("65000:5000"), encapsulation(), { kind: "router-mac", mac: "02:00:00:00:04:ff" }],
    },
  ],
};

const OUR_MAC_X = "02:00:00:00:09:01"; // MAC only, no MAC mobility community
const OUR_MAC_Y = "02:00:00:00:09:02"; // MAC+IPv4, sticky, sequence 7

const OURS: { routes: EvpnRoute[]; attrs: OutAttrs }[] = [
  { routes: [macIpRoute({ rd: "192.0.2.9:10", mac: OUR_MAC_X, label1: 10 })], attrs: OUR_MAC },
  {
    routes: [
      macIpRoute({ rd: "192.0.2.9:10", mac: OUR_MAC_Y, ip: "198.51.100.92", label1: 10, label2: 5000 }),
      // RD type 2 (4-octet AS) and a VNI above 2^20: the label field is a 24-bit VNI (RFC 8365)
      macIpRoute({ rd: "4200000000:11", mac: "02:00:00:00:09:03", ip: "2001:db8::93", label1: 10000010 }),
    ],
    attrs: OUR_MAC_IP,
  },
  { routes: [{ routeType: 3, rd: "192.0.2.9:10", ethernetTag: 0, originator: OUR_VTEP }], attrs: OUR_IMET },
  {
    routes: [
      {
        routeType: 5,
        rd: "65000:5000",
        esi: ZERO_ESI,
        ethernetTag: 0,
        prefix: "203.0.113.0/24",
        gateway: "0.0.0.0",
        label: 5000,
      },
      {
        routeType: 5,
        rd: "65000:5000",
        esi: ZERO_ESI,
        ethernetTag: 0,
        prefix: "2001:db8:4::/48",
        gateway: "::",
        label: 5000,
      },
    ],
    attrs: OUR_PREFIX,
  },
];
const OUR_ROUTES = OURS.flatMap((o) => o.routes);

// ------------------------------------------------------------------------------ gobgpd's routes --

interface Injected {
  /** Arguments after `gobgp global rib -a evpn add` (and `del`). */
  cli: string[];
  route: EvpnRoute;
  nextHop: string;
  communities: ExtCommunity[];
  pmsi?: PathAttribute;
}

const RMAC_GB = "02:00:00:00:02:ff";

// prettier-ignore
const INJECTED: Injected[] = [
  {
    cli: ["macadv", "02:00:00:00:02:01", "198.51.100.21", "etag", "0", "label", "10,5000", "rd", "192.0.2.2:10",
      "rt", "65000:10", "65000:20", "192.0.2.2:30", "encap", "vxlan", "router-mac", RMAC_GB, "nexthop", GB_VTEP],
    route: macIpRoute({ rd: "192.0.2.2:10", mac: "02:00:00:00:02:01", ip: "198.51.100.21", label1: 10, label2: 5000 }),
    nextHop: GB_VTEP,
    communities: [routeTarget("65000:10"), routeTarget("65000:20"), routeTarget("192.0.2.2:30"), encapsulation(),
      { kind: "router-mac", mac: RMAC_GB }],
  },
  {
    // MAC only ("0.0.0.0"), RD type 0, a 24-bit VNI
    cli: ["macadv", "02:00:00:00:02:02", "0.0.0.0", "etag", "0", "label", "10000010", "rd", "65000:12",
      "rt", "65000:10", "encap", "vxlan", "nexthop", GB_VTEP],
    route: macIpRoute({ rd: "65000:12", mac: "02:00:00:00:02:02", label1: 10000010 }),
    nextHop: GB_VTEP,
    communities: [routeTarget("65000:10"), encapsulation()],
  },
  {
    cli: ["macadv", "02:00:00:00:02:03", "2001:db8::23", "etag", "0", "label", "10", "rd", "192.0.2.2:10",
      "rt", "65000:10", "encap", "vxlan", "nexthop", GB_VTEP],
    route: macIpRoute({ rd: "192.0.2.2:10", mac: "02:00:00:00:02:03", ip: "2001:db8::23", label1: 10 }),
    nextHop: GB_VTEP,
    communities: [routeTarget("65000:10"), encapsulation()],
  },
  {
    cli: ["multicast", GB_VTEP, "etag", "0", "rd", "192.0.2.2:10", "rt", "65000:10", "65000:20", "encap", "vxlan",
      "pmsi", "ingress-repl", "10", GB_VTEP, "nexthop", GB_VTEP],
    route: { routeType: 3, rd: "192.0.2.2:10", ethernetTag: 0, originator: GB_VTEP },
    nextHop: GB_VTEP,
    communities: [routeTarget("65000:10"), routeTarget("65000:20"), encapsulation()],
    pmsi: { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: GB_VTEP },
  },
  {
    cli: ["prefix", "203.0.113.128/25", "gw", "198.51.100.1", "etag", "0", "label", "5000", "rd", "192.0.2.2:5000",
      "rt", "65000:5000", "encap", "vxlan", "router-mac", RMAC_GB, "nexthop", GB_VTEP],
    route: { routeType: 5, rd: "192.0.2.2:5000", esi: ZERO_ESI, ethernetTag: 0, prefix: "203.0.113.128/25",
      gateway: "198.51.100.1", label: 5000 },
    nextHop: GB_VTEP,
    communities: [routeTarget("65000:5000"), encapsulation(), { kind: "router-mac", mac: RMAC_GB }],
  },
  {
    cli: ["prefix", "2001:db8:2::/48", "gw", "::", "etag", "0", "label", "5000", "rd", "192.0.2.2:5000",
      "rt", "65000:5000", "encap", "vxlan", "router-mac", RMAC_GB, "nexthop", GB_VTEP],
    route: { routeType: 5, rd: "192.0.2.2:5000", esi: ZERO_ESI, ethernetTag: 0, prefix: "2001:db8:2::/48",
      gateway: "::", label: 5000 },
    nextHop: GB_VTEP,
    communities: [routeTarget("65000:5000"), encapsulation(), { kind: "router-mac", mac: RMAC_GB }],
  },
];

/** Our MACs X and Y announced by gobgpd too, under its RD: gobgpd adds MAC mobility itself. */
// prettier-ignore
const MOVED: Injected[] = [
  {
    cli: ["macadv", OUR_MAC_X, "0.0.0.0", "etag", "0", "label", "10", "rd", "192.0.2.2:10", "rt", "65000:10",
      "encap", "vxlan", "nexthop", GB_VTEP],
    route: macIpRoute({ rd: "192.0.2.2:10", mac: OUR_MAC_X, label1: 10 }),
    nextHop: GB_VTEP,
    // our route had no MAC mobility community: gobgpd counts that as -1, so 0
    communities: [routeTarget("65000:10"), encapsulation(), macMobility(0)],
  },
  {
    cli: ["macadv", OUR_MAC_Y, "198.51.100.92", "etag", "0", "label", "10", "rd", "192.0.2.2:10", "rt", "65000:10",
      "encap", "vxlan", "nexthop", GB_VTEP],
    route: macIpRoute({ rd: "192.0.2.2:10", mac: OUR_MAC_Y, ip: "198.51.100.92", label1: 10 }),
    nextHop: GB_VTEP,
    // ours was sticky with sequence 7: gobgpd takes 7 + 1 and drops the sticky flag
    communities: [routeTarget("65000:10"), encapsulation(), macMobility(8)],
  },
];

/** The attributes gobgpd sends for a CLI-injected route on iBGP. */
function sentByGobgp(i: Injected): PathAttribute[] {
  return [
    { kind: "origin", origin: 2 },
    { kind: "as-path", segments: [] },
    { kind: "local-pref", localPref: 100 },
    { kind: "ext-communities", communities: i.communities },
    ...(i.pmsi ? [i.pmsi] : []),
  ];
}

// ------------------------------------------------------------------------------------- helpers --

/** A value as it crosses JSON: fields that are undefined are left out (routes from macIpRoute). */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Attributes as received, without their flags octets. */
function noFlags(attrs: readonly PathAttribute[]): PathAttribute[] {
  return attrs.map((a) => {
    const { flags: _flags, ...rest } = a;
    return rest as PathAttribute;
  });
}

const keyOf = (r: EvpnRoute): string => evpnRouteKey(r);

class Ctx {
  readonly usNs: string;
  sp!: SpeakerProc;
  gb!: GoBgp;
  private readonly t0 = Date.now();

  constructor(
    readonly lab: Lab,
    private readonly diagnostic: (msg: string) => void,
  ) {
    this.usNs = `${PREFIX}-us`;
  }

  note(msg: string): void {
    this.diagnostic(`${((Date.now() - this.t0) / 1000).toFixed(2)} s: ${msg}`);
  }

  diagnostics = (): string =>
    `${this.lab.dumpLogs(40)}\n--- speaker (${this.sp?.logFile}) ---\n${this.sp?.logTail(60)}`;

  wait<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
    return this.lab.waitFor(what, fn, { timeoutMs, diagnostics: this.diagnostics });
  }

  async gobgpRib(): Promise<GobgpEvpnPath[]> {
    return gobgpEvpnPaths(await this.gb.rib("evpn"));
  }

  async fromGobgpd(): Promise<RibEntry[]> {
    return (await this.sp.rib()).filter((e) => e.source === GB);
  }

  async state(): Promise<string | undefined> {
    return (await this.sp.status())[0]?.state;
  }

  async inject(i: Injected): Promise<void> {
    await this.gb.cli(["global", "rib", "-a", "evpn", "add", ...i.cli]);
  }

  async remove(i: Injected): Promise<void> {
    await this.gb.cli(["global", "rib", "-a", "evpn", "del", ...i.cli]);
  }

  /** The established TCP connections of our namespace on port 179, "local peer" each. */
  async bgpConnections(): Promise<string[]> {
    const r = await this.lab.exec(this.usNs, "ss", [
      "-Htn",
      "state",
      "established",
      "( sport = :179 or dport = :179 )",
    ]);
    return r.stdout
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => l.trim().split(/\s+/).slice(-2).join(" "));
  }
}

/** Our Loc-RIB entry of a gobgpd route: every field as injected, and as gobgpd itself has it. */
function assertFromGobgp(entry: RibEntry | undefined, i: Injected, own: GobgpEvpnPath | undefined): void {
  const what = `${keyOf(i.route)} from gobgpd`;
  assert.ok(entry, `${what} missing in our Loc-RIB`);
  assert.deepEqual(plain(entry.route), plain(i.route), `${what}: NLRI`);
  assert.equal(entry.nextHop, i.nextHop, `${what}: next hop`);
  assert.deepEqual(noFlags(entry.attributes), plain(sentByGobgp(i)), `${what}: attributes`);
  assert.equal(entry.stale, false, `${what}: stale`);
  assert.equal(entry.best, true, `${what}: best`);
  // the same as in gobgpd's own RIB (it keeps ORIGIN, EXTENDED_COMMUNITIES and PMSI_TUNNEL)
  assert.ok(own, `${what}: not in gobgpd's own RIB`);
  assert.deepEqual(plain(own.route), plain(entry.route), `${what}: NLRI as gobgpd has it`);
  assert.equal(own.nextHop, entry.nextHop, `${what}: next hop as gobgpd has it`);
  const mine = noFlags(entry.attributes).filter((a) => a.kind !== "as-path" && a.kind !== "local-pref");
  assert.deepEqual(own.attributes, plain(mine), `${what}: attributes as gobgpd has them`);
}

/** Acceptance point 1 over an established session (either side active). */
async function routeInterop(c: Ctx): Promise<void> {
  const { sp } = c;
  // ---- ours -> gobgpd
  for (const o of OURS) await sp.announce(o.routes, o.attrs);
  const received = await c.wait("gobgpd: all our routes", async () => {
    const paths = (await c.gobgpRib()).filter((p) => p.neighbor === US);
    return paths.length === OUR_ROUTES.length && paths;
  });
  for (const o of OURS)
    for (const r of o.routes) {
      const p = received.find((x) => keyOf(x.route) === keyOf(r));
      const what = `our ${keyOf(r)} in gobgpd`;
      assert.ok(p, `${what}: missing (gobgp has ${received.map((x) => x.text).join(", ")})`);
      assert.deepEqual(plain(p.route), plain(r), `${what}: NLRI`);
      assert.equal(p.nextHop, o.attrs.nextHop, `${what}: next hop`);
      assert.deepEqual(p.attributes, plain(o.attrs.attributes), `${what}: attributes`);
      assert.equal(p.best, true, `${what}: best`);
    }
  c.note(`our ${OUR_ROUTES.length} routes intact in gobgpd's RIB`);

  // ---- gobgpd -> us
  for (const i of INJECTED) await c.inject(i);
  const fromGb = await c.wait("our Loc-RIB: gobgpd's routes", async () => {
    const e = await c.fromGobgpd();
    return e.length === INJECTED.length && e;
  });
  let own = (await c.gobgpRib()).filter((p) => p.neighbor === undefined);
  for (const i of INJECTED)
    assertFromGobgp(
      fromGb.find((e) => keyOf(e.route) === keyOf(i.route)),
      i,
      own.find((p) => keyOf(p.route) === keyOf(i.route)),
    );
  c.note(`gobgpd's ${INJECTED.length} routes intact in our Loc-RIB`);

  // ---- MAC mobility: gobgpd announces our MACs X and Y under its RD and numbers the move itself
  for (const i of MOVED) await c.inject(i);
  const moved = await c.wait("our Loc-RIB: gobgpd's routes for our MACs", async () => {
    const e = (await c.fromGobgpd()).filter(
      (x) => x.route.routeType === 2 && [OUR_MAC_X, OUR_MAC_Y].includes(x.route.mac),
    );
    return e.length === MOVED.length && e;
  });
  own = (await c.gobgpRib()).filter((p) => p.neighbor === undefined);
  for (const i of MOVED)
    assertFromGobgp(
      moved.find((e) => keyOf(e.route) === keyOf(i.route)),
      i,
      own.find((p) => keyOf(p.route) === keyOf(i.route)),
    );
  const rib = await sp.rib();
  for (const mac of [OUR_MAC_X, OUR_MAC_Y]) {
    const paths = rib.filter((e) => e.route.routeType === 2 && e.route.mac === mac);
    assert.deepEqual(paths.map((e) => `${e.source} ${e.route.routeType === 2 ? e.route.rd : ""}`).sort(), [
      `${GB} 192.0.2.2:10`,
      "local 192.0.2.9:10",
    ]);
  }
  c.note("MAC mobility: gobgpd's seq 0 (after no community) and seq 8 (after sticky 7) intact in our Loc-RIB");

  // ---- withdrawals, gobgpd -> us
  const [first, ...rest] = [...INJECTED, ...MOVED];
  await c.remove(first!);
  await c.wait("our Loc-RIB: gobgpd's first withdrawal", async () => {
    const e = await c.fromGobgpd();
    return e.length === rest.length && !e.some((x) => keyOf(x.route) === keyOf(first!.route));
  });
  for (const i of rest) await c.remove(i);
  await c.wait("our Loc-RIB: every gobgpd route withdrawn", async () => (await c.fromGobgpd()).length === 0);
  assert.deepEqual(
    (await sp.rib())
      .map((e) => keyOf(e.route))
      .sort()
      .filter((k) => !OUR_ROUTES.some((r) => keyOf(r) === k)),
    [],
    "only our own routes left in our Loc-RIB",
  );
  c.note("gobgpd's withdrawals reached our Loc-RIB");

  // ---- withdrawals, us -> gobgpd
  const [ourFirst, ...ourRest] = OUR_ROUTES;
  await sp.withdraw([ourFirst!]);
  await c.wait("gobgpd: our first withdrawal", async () => {
    const p = (await c.gobgpRib()).filter((x) => x.neighbor === US);
    return p.length === ourRest.length && !p.some((x) => keyOf(x.route) === keyOf(ourFirst!));
  });
  await sp.withdraw(ourRest);
  await c.wait("gobgpd: RIB empty", async () => (await c.gobgpRib()).length === 0);
  c.note("our withdrawals reached gobgpd");

  const st = (await sp.status())[0]!;
  assert.equal(st.state, "Established", "the session stayed up");
  assert.equal(st.counters.established, 1, "one session all along");
}

/** Lab, gobgpd and our speaker; stops the speaker and prints its log if `fn` fails. */
async function withSetup(
  t: TestContext,
  gobgp: GobgpConf,
  speaker: Omit<SpeakerOptions, "onEvent">,
  fn: (c: Ctx) => Promise<void>,
): Promise<void> {
  await withLab(t, PREFIX, async (lab) => {
    const c = new Ctx(lab, (m) => t.diagnostic(m));
    await lab.ns("gb");
    await lab.ns("us");
    await lab.link("gb", `${GB}/24`, "us", `${US}/24`);
    c.gb = await lab.gobgp("gb", gobgpToml(gobgp));
    c.sp = new SpeakerProc(c.usNs, speaker, join(lab.workDir, "speaker.log"));
    let ok = false;
    try {
      await c.sp.started();
      c.note("gobgpd and our speaker started");
      await fn(c);
      ok = true;
    } catch (e) {
      process.stderr.write(`--- our speaker's log (${c.sp.logFile}) ---\n${c.sp.logTail(80)}\n`);
      throw e;
    } finally {
      if (ok) await c.sp.stop("test done");
      else await c.sp.kill();
    }
  });
}

// --------------------------------------------------------------------------------------- tests --

/** The one BGP connection of our namespace: opened by us (to port 179) or by gobgpd (to ours). */
async function assertConnection(c: Ctx, weConnected: boolean): Promise<void> {
  const conns = await c.bgpConnections();
  assert.equal(conns.length, 1, `one BGP connection: ${conns.join("; ")}`);
  const [local, peer] = conns[0]!.split(" ");
  if (weConnected) {
    assert.equal(peer, `${GB}:179`);
    assert.match(local!, new RegExp(`^${US.replace(/\./g, "\\.")}:\\d+$`));
    assert.notEqual(local, `${US}:179`);
  } else {
    assert.equal(local, `${US}:179`);
    assert.notEqual(peer, `${GB}:179`);
  }
}

test(
  "gobgpd interop, us active: routes both ways field by field, MAC mobility, withdrawals",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    await withSetup(t, { passive: true }, speakerOptions(true), async (c) => {
      await c.wait("session Established (we connect)", async () => (await c.state()) === "Established");
      assert.equal(await c.gb.established(US), true);
      await assertConnection(c, true);
      c.note("Established, our connection");
      await routeInterop(c);
    });
  },
);

test(
  "gobgpd interop, us passive: routes both ways field by field, MAC mobility, withdrawals",
  { timeout: 60_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    await withSetup(t, { passive: false }, speakerOptions(false), async (c) => {
      // gobgpd 3 makes its first connection 5-10 s after its start
      await c.wait("session Established (gobgpd connects)", async () => (await c.state()) === "Established", 30_000);
      assert.equal(await c.gb.established(US), true);
      await assertConnection(c, false);
      c.note("Established, gobgpd's connection");
      await routeInterop(c);
    });
  },
);

// Graceful restart: R1 (type 3) and R2 (type 2) are re-announced after the restart, R3 (type 5) is not.
const GR_KEEP = [INJECTED[3]!, INJECTED[0]!];
const GR_GONE = INJECTED[4]!;

test(
  "gobgpd graceful restart: SIGTERM flushes, SIGKILL keeps routes stale until End-of-RIB, then refreshed or swept",
  { timeout: 90_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    // We also advertise graceful restart for our own routes here; the next test covers the plain
    // receiving speaker.
    const opts = speakerOptions(true, { gracefulRestart: { restartTime: 120 }, restarting: false });
    await withSetup(t, { passive: true }, opts, async (c) => {
      const { sp, gb } = c;
      const established = (n: number): Promise<true> =>
        c.wait(
          `session Established (${n})`,
          async () => {
            const st = (await sp.status())[0]!;
            return st.state === "Established" && st.counters.established === n;
          },
          30_000,
        );
      const injectAll = async (): Promise<void> => {
        for (const i of [...GR_KEEP, GR_GONE]) await c.inject(i);
      };
      const gbKeys = async (): Promise<string[]> =>
        (await c.fromGobgpd()).map((e) => `${keyOf(e.route)} stale=${e.stale}`).sort();
      const fresh = [...GR_KEEP, GR_GONE].map((i) => `${keyOf(i.route)} stale=false`).sort();
      const stale = [...GR_KEEP, GR_GONE].map((i) => `${keyOf(i.route)} stale=true`).sort();

      await established(1);
      let neg = (await sp.status())[0]!.negotiated!;
      assert.deepEqual(
        neg.peerGracefulRestart,
        {
          restartTime: 120,
          restartState: false,
          families: [{ afi: 25, safi: 70, forwardingPreserved: false }],
        },
        "gobgpd's capability on a normal start: no R bit, no F bit",
      );
      assert.equal(neg.localGracefulRestart, true);
      await sp.announce(OURS[2]!.routes, OURS[2]!.attrs);
      await injectAll();
      await c.wait(
        "our Loc-RIB: gobgpd's routes",
        async () => JSON.stringify(await gbKeys()) === JSON.stringify(fresh),
      );
      c.note("session 1 up, routes in");

      // ---- clean stop: NOTIFICATION Cease / Peer De-configured, graceful restart does not apply
      await gb.stop();
      c.note("gobgpd stopped (SIGTERM)");
      await c.wait("gobgpd's routes flushed", async () => (await c.fromGobgpd()).length === 0, 5_000);
      // The speaker's log is written asynchronously: the line may follow the flush by a moment.
      const cease = /NOTIFICATION received from 192\.0\.2\.2: Cease \/ Peer De-configured/;
      await c.wait("the Cease in our speaker's log", async () => cease.test(sp.logTail(200)), 5_000);
      const log1 = sp.logTail(200);
      assert.doesNotMatch(log1, /keeping routes of 192\.0\.2\.2 as stale/);
      assert.equal((await sp.status())[0]!.rib.stale, 0);

      await gb.restart(gobgpToml({ passive: true }));
      await established(2);
      await injectAll();
      await c.wait(
        "our Loc-RIB: gobgpd's routes again",
        async () => JSON.stringify(await gbKeys()) === JSON.stringify(fresh),
      );
      c.note("session 2 up, routes in again");

      // ---- crash: the TCP connection ends without a NOTIFICATION, the routes stay, stale
      await gb.kill();
      c.note("gobgpd killed (SIGKILL)");
      await c.wait(
        "session down, gobgpd's routes stale",
        async () => (await c.state()) !== "Established" && JSON.stringify(await gbKeys()) === JSON.stringify(stale),
        5_000,
      );
      assert.equal((await sp.status())[0]!.rib.stale, 3);

      // gobgpd back in restarting mode, held admin-down until it has its routes again (injected
      // routes do not survive a restart; otherwise its End-of-RIB could come before them)
      await gb.restart(gobgpToml({ passive: true, restarting: true, adminDown: true }));
      for (const i of GR_KEEP) await c.inject(i);
      await new Promise((r) => setTimeout(r, 1500)); // we keep trying to connect meanwhile
      assert.notEqual(await c.state(), "Established");
      assert.deepEqual(await gbKeys(), stale, "still stale while gobgpd is back but refuses the session");
      c.note("gobgpd restarted (restarting mode), R1 and R2 injected, routes still stale");
      await gb.cli(["neighbor", US, "enable"]);
      await established(3);
      neg = (await sp.status())[0]!.negotiated!;
      assert.deepEqual(
        neg.peerGracefulRestart,
        {
          restartTime: 120,
          restartState: true,
          families: [{ afi: 25, safi: 70, forwardingPreserved: true }],
        },
        "gobgpd's capability after its restart: R bit and F bit",
      );
      const kept = await c.wait("R1 and R2 fresh, R3 swept", async () => {
        const e = await c.fromGobgpd();
        const keys = e.map((x) => `${keyOf(x.route)} stale=${x.stale}`).sort();
        return JSON.stringify(keys) === JSON.stringify(GR_KEEP.map((i) => `${keyOf(i.route)} stale=false`).sort()) && e;
      });
      const own = (await c.gobgpRib()).filter((p) => p.neighbor === undefined);
      for (const i of GR_KEEP)
        assertFromGobgp(
          kept.find((e) => keyOf(e.route) === keyOf(i.route)),
          i,
          own.find((p) => keyOf(p.route) === keyOf(i.route)),
        );
      const swept = /"removed":1,"reason":"End-of-RIB received","msg":"stale routes of 192\.0\.2\.2 swept"/;
      await c.wait("the sweep in our speaker's log", async () => swept.test(sp.logTail(400)), 5_000);
      const log = sp.logTail(400);
      assert.match(log, /End-of-RIB from 192\.0\.2\.2/);
      assert.match(log, /"removed":1,"reason":"End-of-RIB received","msg":"stale routes of 192\.0\.2\.2 swept"/);
      assert.equal((await sp.status())[0]!.rib.stale, 0);
      // and gobgpd has our route again
      await c.wait("gobgpd: our type 3 route again", async () =>
        (await c.gobgpRib()).some((p) => p.neighbor === US && keyOf(p.route) === keyOf(OURS[2]!.routes[0]!)),
      );
      c.note("session 3 up: R1, R2 refreshed, R3 swept after End-of-RIB");
    });
  },
);

test(
  "gobgpd graceful restart without our own graceful restart option: stale routes swept on End-of-RIB",
  {
    timeout: 60_000,
  },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    let swept = false;
    let endOfRib = false;
    await withSetup(t, { passive: true }, speakerOptions(true), async (c) => {
      const { sp, gb } = c;
      await c.wait("session Established", async () => (await c.state()) === "Established");
      await c.inject(GR_GONE);
      await c.wait("our Loc-RIB: R3", async () => (await c.fromGobgpd()).length === 1);
      await gb.kill();
      await c.wait("R3 stale", async () => (await c.fromGobgpd())[0]?.stale === true, 5_000);
      await gb.restart(gobgpToml({ passive: true, restarting: true }));
      await c.wait("session Established again", async () => (await sp.status())[0]!.counters.established === 2);
      c.note("session 2 up; gobgpd has no routes now");
      swept = await c
        .wait("R3 swept", async () => (await c.fromGobgpd()).length === 0, 5_000)
        .then(
          () => true,
          () => false,
        );
      endOfRib = await c
        .wait(
          "End-of-RIB in our speaker's log", // written asynchronously
          async () =>
            /End-of-RIB from 192\.0\.2\.2/.test(sp.logTail(400).split("session with 192.0.2.2 down")[1] ?? ""),
          5_000,
        )
        .then(
          () => true,
          () => false,
        );
    });
    assert.ok(endOfRib, "gobgpd sent End-of-RIB after its restart");
    assert.ok(swept, "the stale route gobgpd did not re-announce was swept within 5 s");
  },
);

test(
  "our speaker crashes and restarts: gobgpd keeps our routes stale until we re-announce, drops the rest after our End-of-RIB",
  { timeout: 90_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    // We are the restarting speaker (RFC 4724 §4.1): the capability carries our restart time and
    // the forwarding bit for EVPN, and after the restart the R bit. gobgpd is the receiving speaker.
    // (FRR 8.4 cannot play this part for EVPN: see interop-frr.test.ts.)
    const gr = (restarting: boolean) => speakerOptions(true, { gracefulRestart: { restartTime: 120 }, restarting });
    await withSetup(t, { passive: true }, gr(false), async (c) => {
      await c.wait("session Established", async () => (await c.state()) === "Established");
      for (const g of OURS) await c.sp.announce(g.routes, g.attrs);
      const ours = async () => (await c.gobgpRib()).filter((p) => p.neighbor === US);
      await c.wait("gobgpd has our routes", async () => (await ours()).length === OUR_ROUTES.length);
      const neighbor = (await c.gb.neighbors()).find((n) => n.conf?.neighbor_address === US);
      c.note(`gobgpd's view of us: ${JSON.stringify(neighbor?.state?.remote_cap ?? "?").slice(0, 300)}`);

      await c.sp.kill();
      c.note("our speaker killed");
      await c.wait("our routes stale in gobgpd", async () => {
        const p = await ours();
        return p.length === OUR_ROUTES.length && p.every((x) => x.stale);
      });
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await ours()).length, OUR_ROUTES.length, "kept while we are away, not withdrawn");

      // The restarted speaker announces all but the type 5 routes before its sessions start.
      const again = OURS.filter((g) => g.routes[0]!.routeType !== 5);
      c.sp = new SpeakerProc(c.usNs, gr(true), join(c.lab.workDir, "speaker-2.log"), [], again);
      await c.sp.started();
      await c.wait("session Established again", async () => (await c.state()) === "Established");
      const keep = new Set(again.flatMap((g) => g.routes).map(keyOf));
      await c.wait("re-announced routes fresh, the others gone", async () => {
        const p = await ours();
        return p.length === keep.size && p.every((x) => !x.stale && keep.has(keyOf(x.route)));
      });
      c.note("after the restart gobgpd has exactly the re-announced routes, none stale");
    });
  },
);
