// The BGP side of the soak (soak.ts): one scripted iBGP peer of the daemon, graceful-restart
// capable, that connects (retrying while the daemon holds it idle), announces a small fabric of
// its own (an EVPN VTEP's IMET route and MAC routes, then End-of-RIB), keeps the routes the daemon
// announces as a table, and on request flaps: a Cease NOTIFICATION and a close, or a TCP reset.
// Each session records when it came up, when the daemon's End-of-RIB arrived and which of the
// routes the soak expects in every initial table were missing from it.
import {
  type BgpMessage,
  encodeMessage,
  type EvpnRoute,
  endOfRib,
  endOfRibFamily,
  KEEPALIVE,
} from "../../src/codec/index.js";
import { setTimeout as sleep } from "node:timers/promises";
import { imetUpdate, macUpdate } from "./api.js";
import { PEER } from "./daemon-run.js";
import { GR_EVPN, ScriptedPeer } from "./scripted-peer.js";

/** The fabric's own VTEP (an EVPN VTEP behind the peer) and how many MACs it announces. */
export const FABRIC_VTEP = "127.0.0.20";
const FABRIC_MACS = 50;
const fabricMac = (i: number) => `02:00:00:09:00:${i.toString(16).padStart(2, "0")}`;

export interface SessionRecord {
  /** 1, 2, …; how the previous one ended ("first" for the first). */
  n: number;
  after: "first" | "cease" | "reset";
  /** ms since the soak began: the flap (or start), the session Established, the daemon's End-of-RIB. */
  flapAt: number;
  upAt: number;
  eorAt: number | null;
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
  private p: ScriptedPeer | null = null;
  private keepalive: NodeJS.Timeout | null = null;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly port: number,
    private readonly t0: number,
    /** Route keys every initial table must hold (asked at each End-of-RIB). */
    private readonly expected: () => string[],
    private readonly address = PEER,
  ) {}

  get up(): boolean {
    return this.p !== null && !this.p.closed;
  }

  /** Connects (retrying up to `timeoutMs`), announces the fabric, and reads until the next flap. */
  async connect(after: SessionRecord["after"], flapAt: number, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let attempts = 0;
    for (;;) {
      attempts++;
      const p = await ScriptedPeer.connect("127.0.0.1", this.port, this.address).catch(() => null);
      const ok =
        p &&
        (await p
          .handshake({ asn: 65000, id: "192.0.2.254", hold: 90, extra: [GR_EVPN] })
          .then(() => true)
          .catch(() => false));
      if (p && ok) {
        this.p = p;
        break;
      }
      p?.close();
      if (Date.now() > end) throw new Error(`no session with the daemon within ${timeoutMs} ms (${attempts} attempts)`);
      await sleep(250);
    }
    const s: SessionRecord = {
      n: this.sessions.length + 1,
      after,
      flapAt,
      upAt: Date.now() - this.t0,
      eorAt: null,
      routesAtEor: 0,
      missingAtEor: [],
      attempts,
    };
    this.sessions.push(s);
    this.table.clear();
    const p = this.p;
    p.send(imetUpdate(FABRIC_VTEP));
    for (let i = 0; i < FABRIC_MACS; i++) p.send(macUpdate(FABRIC_VTEP, fabricMac(i), `203.0.113.${i + 1}`, 0));
    p.send(encodeMessage(endOfRib(25, 70)));
    this.keepalive = setInterval(() => p.send(encodeMessage(KEEPALIVE)), 30_000);
    this.reading = this.read(p, s);
  }

  private async read(p: ScriptedPeer, s: SessionRecord): Promise<void> {
    for (;;) {
      const m: BgpMessage | null | undefined = await p.next(3_600_000).catch(() => undefined);
      if (m === null) return;
      if (m === undefined || m.type !== 2) continue;
      if (endOfRibFamily(m)?.afi === 25) {
        if (s.eorAt === null) {
          s.eorAt = Date.now() - this.t0;
          s.routesAtEor = this.table.size;
          s.missingAtEor = this.expected().filter((k) => !this.table.has(k));
        }
        continue;
      }
      for (const a of m.attributes) {
        if (a.kind === "mp-reach" && a.nlri.family === "evpn")
          for (const r of a.nlri.routes) this.table.add(routeKey(r));
        if (a.kind === "mp-unreach" && a.nlri.family === "evpn")
          for (const r of a.nlri.routes) this.table.delete(routeKey(r));
      }
    }
  }

  /** Ends the session: a Cease (Administrative Shutdown, RFC 4486) and a close, or a TCP reset. */
  async flap(how: "cease" | "reset"): Promise<void> {
    const p = this.p;
    if (!p) return;
    if (this.keepalive) clearInterval(this.keepalive);
    if (how === "cease") {
      p.send(encodeMessage({ type: 3, code: 6, subcode: 2, data: new Uint8Array(0) }));
      p.sock.end();
      await Promise.race([p.closedPromise, sleep(5000)]);
      p.close();
    } else p.sock.resetAndDestroy();
    await p.closedPromise;
    await this.reading;
    this.p = null;
  }

  /** Closes for good (a Cease). */
  async stop(): Promise<void> {
    await this.flap("cease");
  }
}
