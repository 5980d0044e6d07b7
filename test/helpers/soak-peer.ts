// The BGP side of the soak (soak.ts): a FlappingPeer (graceful-restart capable) that, once its
// session is up, announces a small fabric of its own (an EVPN VTEP's IMET route and MAC routes,
// then End-of-RIB) and keeps every route the daemon announces as a table, for the whole session
// (FlappingPeer itself reads only the initial table). Each session records when it came up, when
// the daemon's End-of-RIB arrived and which routes the soak expects in every initial table were
// missing from it.
import { setTimeout as sleep } from "node:timers/promises";
import { encodeMessage, endOfRib, type EvpnRoute, type UpdateMessage } from "../../src/codec/index.js";
import { imetUpdate, macUpdate } from "./api.js";
import { PEER, SPEAKER } from "./daemon-run.js";
import { type FlapKind, FlappingPeer } from "./flapping-peer.js";
import { GR_EVPN, type ScriptedPeer } from "./scripted-peer.js";

/** The fabric's own VTEP (an EVPN VTEP behind the peer) and how many MACs it announces. */
export const FABRIC_VTEP = "127.0.0.20";
const FABRIC_MACS = 50;
const fabricMac = (i: number) => `02:00:00:09:00:${i.toString(16).padStart(2, "0")}`;

export interface SessionRecord {
  /** 1, 2, …; how the previous one ended ("first" for the first). */
  n: number;
  after: "first" | FlapKind;
  /** ms since the soak began: the flap (or the start); the daemon's End-of-RIB. */
  flapAt: number;
  eorAt: number;
  /** Routes held at End-of-RIB, and expected ones missing then (MAC routes of stable hosts, IMETs). */
  routesAtEor: number;
  missingAtEor: string[];
  /** Connection attempts until the session came up (the daemon may hold us idle after a flap). */
  attempts: number;
}

/** `RD MAC IP|-` of a type 2 route, `imet RD` of a type 3, for the held table. */
export function routeKey(r: EvpnRoute): string {
  if (r.routeType === 2) return `${r.rd} ${r.mac} ${r.ip ?? "-"}`;
  return r.routeType === 3 ? `imet ${r.rd}` : `type ${r.routeType}`;
}

export class SoakPeer {
  readonly sessions: SessionRecord[] = [];
  /** The routes the daemon announced to the current session (keys as routeKey). */
  readonly table = new Set<string>();
  private readonly peer: FlappingPeer;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    port: number,
    private readonly t0: number,
    /** Route keys every initial table must hold (asked at each End-of-RIB). */
    private readonly expected: () => string[],
  ) {
    this.peer = new FlappingPeer({
      host: SPEAKER,
      port,
      local: PEER,
      asn: 65000,
      id: "192.0.2.254",
      extra: [GR_EVPN],
      onUpdate: (u) => this.apply(u),
    });
  }

  get up(): boolean {
    return this.peer.session !== undefined;
  }

  /** Connects (retrying), reads the initial table, announces the fabric, and reads on until the next flap. */
  async connect(after: SessionRecord["after"], flapAt: number): Promise<void> {
    this.table.clear();
    const initial = await this.peer.up();
    const p = this.peer.session!;
    this.sessions.push({
      n: this.sessions.length + 1,
      after,
      flapAt,
      eorAt: Date.now() - this.t0,
      routesAtEor: this.table.size,
      missingAtEor: this.expected().filter((k) => !this.table.has(k)),
      attempts: initial.attempts,
    });
    p.send(imetUpdate(FABRIC_VTEP));
    for (let i = 0; i < FABRIC_MACS; i++) p.send(macUpdate(FABRIC_VTEP, fabricMac(i), `203.0.113.${i + 1}`, 0));
    p.send(encodeMessage(endOfRib(25, 70)));
    this.reading = this.read(p);
  }

  private apply(u: UpdateMessage): void {
    for (const a of u.attributes) {
      if (a.kind === "mp-reach" && a.nlri.family === "evpn") for (const r of a.nlri.routes) this.table.add(routeKey(r));
      if (a.kind === "mp-unreach" && a.nlri.family === "evpn")
        for (const r of a.nlri.routes) this.table.delete(routeKey(r));
    }
  }

  private async read(p: ScriptedPeer): Promise<void> {
    for (;;) {
      const m = await p.next(3_600_000).catch(() => undefined);
      if (m === null) return;
      if (m?.type === 2) this.apply(m);
    }
  }

  /** Ends the session: a Cease (Administrative Reset) and a close, or a TCP reset. */
  async flap(how: FlapKind): Promise<void> {
    await this.peer.down(how);
    await Promise.race([this.reading, sleep(5000)]);
  }
}
