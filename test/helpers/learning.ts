// The learning engine's test fixtures: a configuration (VNI 10, static VTEPs A with one
// configured MAC and B), a fake fabric, frames, and a compact text form of actions.
// Documentation addresses only.
import type { FabricView, LearnAction, LearnConfig } from "../../src/dataplane/learning/learner.js";
import type { FrameKind, LearnedFrame } from "../../src/wire/packet.js";

export const A = "192.0.2.1"; // static VTEP
export const B = "192.0.2.2"; // static VTEP
export const E = "192.0.2.20"; // EVPN VTEP
export const LOW = "192.0.2.0"; // an EVPN VTEP with a lower address than A
export const M1 = "02:00:00:00:01:01";
export const M2 = "02:00:00:00:01:02";
export const STATIC = "02:00:00:00:0f:01";
export const S = 1000;

const TIMERS = { ageingSeconds: 300, maxMoves: 5, moveWindowSeconds: 180, freezeSeconds: 600 };
const NO_LIMITS = { maxMacsPerVtep: 0, maxMacsPerVni: 0, maxLearnPerVtepPerSecond: 0 };

export function config(over: Partial<LearnConfig> = {}): LearnConfig {
  return {
    services: [
      {
        name: "vni10",
        evi: 10,
        vni: 10,
        staticVteps: [
          { address: A, macs: [{ mac: STATIC, ips: [] }] },
          { address: B, macs: [] },
        ],
      },
    ],
    includeIp: true,
    autoDiscover: false,
    allowedPrefixes: ["198.51.100.0/24"],
    ...TIMERS,
    ...NO_LIMITS,
    ...over,
  };
}

export class FakeFabric implements FabricView {
  evpn = new Set<string>([`10/${E}`, `10/${LOW}`]);
  routes = new Map<string, { vtep: string; seq: number; sticky: boolean }>();
  isEvpnVtep(vni: number, vtep: string): boolean {
    return this.evpn.has(`${vni}/${vtep}`);
  }
  remoteMac(vni: number, mac: string) {
    return this.routes.get(`${vni}/${mac}`);
  }
  set(mac: string, vtep: string, seq: number, sticky = false): void {
    this.routes.set(`10/${mac}`, { vtep, seq, sticky });
  }
}

export function fr(
  vtep: string,
  mac: string | null,
  ip: string | null = null,
  vni = 10,
  kind: FrameKind = "arp-request",
): LearnedFrame {
  return { vtep, vni, vlan: null, innerSrcMac: mac ?? M1, kind, mac, ip };
}

/** Compact action text: "+A M1 seq", "+A M1/ip seq", "-A M1", "-A M1/ip", "imet X", "!event". */
export function show(actions: LearnAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case "announce":
        return `+${a.vtep} ${a.mac}${a.ip === null ? "" : "/" + a.ip} ${a.seq}${a.sticky ? " sticky" : ""}`;
      case "withdraw":
        return `-${a.vtep} ${a.mac}${a.ip === null ? "" : "/" + a.ip}`;
      case "discover-vtep":
        return `imet ${a.vtep} ${a.vni}`;
      case "event":
        return `!${a.event}${a.mac === undefined ? "" : " " + a.mac}${a.suppressed ? ` (${a.suppressed})` : ""}`;
    }
  });
}

/** A deterministic pseudo-random source (an LCG): `rnd(n)` is in 0..n-1. */
export function random(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
}
