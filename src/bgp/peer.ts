// One configured neighbour, as pure logic: its FSM, connection collision detection (RFC 4271
// §6.8), automatic restart with peer oscillation damping (RFC 4271 §8.1.1 DampPeerOscillations)
// and the graceful restart receiver timers (RFC 4724 §4.2). Calls take the time in ms and return
// actions; connections are numbered by this class and reported back by the I/O layer.

import {
  type BgpError,
  CeaseSub,
  ipv4Number,
  type LoopIds,
  type ErrorAction,
  type NotificationMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from "../codec/index.js";
import {
  type DownCause,
  earliest,
  Fsm,
  type FsmAction,
  type FsmConfig,
  type FsmCounters,
  type FsmEvent,
  type FsmState,
} from "./fsm.js";
import type { LocalSpeaker, Negotiated } from "./negotiate.js";
import type { NeighborSettings } from "../config/model.js";

/** Timers of the peer controller that the configuration does not set (tests shorten them). */
export interface SessionTimers {
  /** A session that stayed up this long (s) resets the damping. */
  dampForgetTime: number;
  /** Longest wait (s) for a restarted peer's End-of-RIB before its stale routes go (FRR: 360). */
  stalePathTime: number;
}

export const SESSION_TIMERS: SessionTimers = {
  dampForgetTime: 60,
  stalePathTime: 360,
};

/** The neighbour's settings (src/config/model.ts) the controller uses, and its timers. */
export type PeerConfig = Pick<
  NeighborSettings,
  "address" | "peerAs" | "passive" | "holdTime" | "keepalive" | "connectRetry" | "damping"
> &
  SessionTimers;

export type Family = { afi: number; safi: number };

export type PeerAction =
  | { type: "connect"; conn: number }
  | { type: "close"; conn: number }
  | { type: "write"; conn: number; bytes: Uint8Array }
  | { type: "state"; from: FsmState; to: FsmState; reason: string }
  | { type: "established"; negotiated: Negotiated }
  | { type: "down"; cause: DownCause; reason: string; gracefulRestart: boolean }
  | { type: "update"; update: UpdateMessage; action: ErrorAction | null; errors: BgpError[] }
  | { type: "end-of-rib"; afi: number; safi: number }
  | { type: "route-refresh"; message: RouteRefreshMessage }
  | { type: "notification-sent"; message: NotificationMessage; error?: BgpError }
  | { type: "notification-received"; message: NotificationMessage }
  /** Drop every route of the peer. */
  | { type: "flush" }
  /** Keep the peer's routes of these families but mark them stale (RFC 4724 §4.2). */
  | { type: "stale"; families: Family[] }
  /** Remove what is still stale: of one family, or of all when `family` is absent. */
  | { type: "sweep-stale"; family?: Family; reason: string }
  | { type: "connection-refused"; conn: number; reason: string };

export interface PeerCounters extends FsmCounters {
  established: number;
  flaps: number;
  refusedConnections: number;
  collisions: number;
}

function sameFamily(a: Family, b: Family): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

interface Slot {
  fsm: Fsm;
  conn: number | undefined;
  /** Who opened the current connection. */
  initiatedByUs: boolean;
}

export class Peer {
  readonly cfg: PeerConfig;
  private readonly fsmCfg: FsmConfig;
  private primary: Slot;
  private candidate: Slot | undefined;
  private nextConn = 1;
  private out: PeerAction[] = [];
  private adminUp = false;
  private failures = 0;
  private establishedAt: number | undefined;
  /** Automatic restart (AutomaticStart_with_DampPeerOscillations, event 6) deadline. */
  restartAt: number | undefined;
  /** Graceful restart: the peer's restart time runs until it reconnects. */
  grRestartAt: number | undefined;
  /** Graceful restart: after reconnecting, the wait for End-of-RIB. */
  stalePathAt: number | undefined;
  /** Families whose routes are stale and wait for End-of-RIB. */
  private staleFamilies: Family[] = [];
  private readonly extra = { established: 0, flaps: 0, refusedConnections: 0, collisions: 0 };
  private retired: FsmCounters[] = [];

  constructor(cfg: PeerConfig, local: LocalSpeaker, random: () => number = Math.random) {
    this.cfg = cfg;
    this.fsmCfg = {
      local,
      peerAs: cfg.peerAs,
      connectRetry: cfg.connectRetry,
      passive: cfg.passive,
      random,
      ...(cfg.keepalive !== undefined ? { keepalive: cfg.keepalive } : {}),
    };
    this.fsmCfg.local = { ...local, holdTime: cfg.holdTime };
    this.primary = { fsm: new Fsm(this.fsmCfg), conn: undefined, initiatedByUs: false };
  }

  get state(): FsmState {
    return this.primary.fsm.state;
  }

  /** The connection the session runs on (or is being set up on). */
  get sessionConn(): number | undefined {
    return this.primary.conn;
  }

  get negotiated(): Negotiated | undefined {
    return this.primary.fsm.state === "Established" ? this.primary.fsm.negotiated : undefined;
  }

  get counters(): PeerCounters {
    const sum = { ...this.primary.fsm.counters };
    for (const c of [...this.retired, ...(this.candidate ? [this.candidate.fsm.counters] : [])])
      for (const k of Object.keys(sum) as (keyof FsmCounters)[]) if (k !== "connectRetryCounter") sum[k] += c[k];
    return { ...sum, ...this.extra };
  }

  get staleWaiting(): Family[] {
    return [...this.staleFamilies];
  }

  nextDeadline(): number | undefined {
    const d = earliest(this.primary.fsm.nextDeadline(), this.candidate?.fsm.nextDeadline());
    return earliest(earliest(d, this.restartAt), earliest(this.grRestartAt, this.stalePathAt));
  }

  // ---- administrative events --------------------------------------------------------------

  start(now: number): PeerAction[] {
    this.out = [];
    this.adminUp = true;
    this.restartAt = undefined;
    this.feed(this.primary, { type: "ManualStart" }, now);
    return this.out;
  }

  /**
   * ManualStop: Cease / Administrative Shutdown with an optional RFC 9003 communication, or
   * another Cease subcode (RFC 4486 §4, e.g. Peer De-configured).
   */
  stop(now: number, communication?: string, subcode: number = CeaseSub.ADMIN_SHUTDOWN): PeerAction[] {
    this.out = [];
    this.adminUp = false;
    this.restartAt = undefined;
    const ev: FsmEvent =
      subcode !== CeaseSub.ADMIN_SHUTDOWN
        ? { type: "AutomaticStop", subcode }
        : communication === undefined
          ? { type: "ManualStop" }
          : { type: "ManualStop", communication };
    if (this.candidate) this.feed(this.candidate, ev, now);
    this.feed(this.primary, ev, now);
    return this.out;
  }

  // ---- I/O events -------------------------------------------------------------------------

  connected(conn: number, now: number): PeerAction[] {
    return this.onConn(conn, { type: "TcpConnected" }, now);
  }

  connectFailed(conn: number, reason: string, now: number): PeerAction[] {
    return this.onConn(conn, { type: "TcpFailed", reason }, now);
  }

  closed(conn: number, reason: string, now: number): PeerAction[] {
    return this.onConn(conn, { type: "TcpFailed", reason }, now);
  }

  data(conn: number, bytes: Uint8Array, now: number): PeerAction[] {
    return this.onConn(conn, { type: "Data", bytes }, now);
  }

  /** Fsm.ignoreLoopedRoutes for the session: the caller holds no route from this peer (or null). */
  ignoreLoopedRoutes(ids: LoopIds | null): void {
    this.primary.fsm.ignoreLoopedRoutes(ids);
  }

  /**
   * The peer connected to us. Returns the connection number (the I/O layer uses it from then
   * on) with the actions; a refused connection gets a "connection-refused" and a "close".
   */
  incoming(now: number): { conn: number; actions: PeerAction[] } {
    this.out = [];
    const conn = this.nextConn++;
    const p = this.primary;
    const refuse = (reason: string) => {
      this.extra.refusedConnections++;
      this.out.push({ type: "connection-refused", conn, reason }, { type: "close", conn });
    };
    // An automatic restart already due (damping off: at once) is made now rather than at the next
    // tick, so that the peer's prompt reconnection is taken (RFC 4271 §8.1.1, §8.2.2 Idle).
    if (this.adminUp && p.fsm.state === "Idle" && this.restartAt !== undefined && this.restartAt <= now) {
      this.restartAt = undefined;
      this.feed(p, { type: "ManualStart" }, now);
    }
    if (!this.adminUp) refuse("neighbour is administratively down");
    else
      switch (p.fsm.state) {
        case "Idle":
          refuse("waiting before restarting the session (idle hold)");
          break;
        case "Connect":
          // RFC 4271 §8.2.2 Connect, event 17: take the peer's connection, drop our attempt.
          if (p.conn !== undefined) this.out.push({ type: "close", conn: p.conn });
          p.conn = conn;
          p.initiatedByUs = false;
          this.feed(p, { type: "TcpAccepted" }, now);
          break;
        case "Active":
          p.conn = conn;
          p.initiatedByUs = false;
          this.feed(p, { type: "TcpAccepted" }, now);
          break;
        case "OpenSent":
        case "OpenConfirm":
          if (this.candidate) refuse("a connection collision is already being resolved");
          else {
            // RFC 4271 §6.8: run both connections until an OPEN tells which one stays.
            this.extra.collisions++;
            this.candidate = { fsm: new Fsm(this.fsmCfg), conn, initiatedByUs: false };
            this.feed(this.candidate, { type: "ManualStart", passiveTcp: true }, now);
            this.feed(this.candidate, { type: "TcpAccepted" }, now);
          }
          break;
        case "Established":
          if (p.fsm.negotiated?.peerGracefulRestart) {
            // RFC 4724 §4.2: a new connection from a graceful-restart peer means it restarted:
            // the old session ends as if its TCP connection failed; the new one takes over.
            this.feed(p, { type: "TcpFailed", reason: "peer reconnected (graceful restart)" }, now);
            this.restartAt = undefined;
            p.conn = conn;
            p.initiatedByUs = false;
            this.feed(p, { type: "ManualStart", passiveTcp: true }, now);
            this.feed(p, { type: "TcpAccepted" }, now);
          } else refuse("session already established (RFC 4271 §6.8)");
          break;
      }
    return { conn, actions: this.out };
  }

  tick(now: number): PeerAction[] {
    this.out = [];
    if (this.restartAt !== undefined && this.restartAt <= now) {
      this.restartAt = undefined;
      if (this.adminUp) this.feed(this.primary, { type: "ManualStart" }, now);
    }
    if (this.grRestartAt !== undefined && this.grRestartAt <= now) {
      this.grRestartAt = undefined;
      this.sweepAll("the peer's restart time expired before it came back", now);
    }
    if (this.stalePathAt !== undefined && this.stalePathAt <= now) {
      this.stalePathAt = undefined;
      this.sweepAll("no End-of-RIB within the stale path time", now);
    }
    if (this.candidate) this.feed(this.candidate, { type: "Tick" }, now);
    this.feed(this.primary, { type: "Tick" }, now);
    return this.out;
  }

  sendUpdates(messages: Uint8Array[], now: number): PeerAction[] {
    this.out = [];
    this.feed(this.primary, { type: "SendUpdates", messages }, now);
    return this.out;
  }

  sendRouteRefresh(afi: number, safi: number, subtype: number, now: number): PeerAction[] {
    this.out = [];
    this.feed(this.primary, { type: "SendRouteRefresh", afi, safi, subtype }, now);
    return this.out;
  }

  // ---- internals --------------------------------------------------------------------------

  private onConn(conn: number, ev: FsmEvent, now: number): PeerAction[] {
    this.out = [];
    const slot = this.primary.conn === conn ? this.primary : this.candidate?.conn === conn ? this.candidate : undefined;
    if (slot) this.feed(slot, ev, now);
    else if (ev.type === "Data" || ev.type === "TcpConnected") this.out.push({ type: "close", conn }); // stale connection
    return this.out;
  }

  private feed(slot: Slot, ev: FsmEvent, now: number): void {
    for (const a of slot.fsm.handle(ev, now)) this.act(slot, a, now);
  }

  private act(slot: Slot, a: FsmAction, now: number): void {
    const isPrimary = slot === this.primary;
    switch (a.type) {
      case "connect":
        slot.conn = this.nextConn++;
        slot.initiatedByUs = true;
        this.out.push({ type: "connect", conn: slot.conn });
        return;
      case "close":
        if (slot.conn !== undefined) this.out.push({ type: "close", conn: slot.conn });
        slot.conn = undefined;
        return;
      case "write":
        if (slot.conn !== undefined) this.out.push({ type: "write", conn: slot.conn, bytes: a.bytes });
        return;
      case "state":
        if (isPrimary) this.out.push(a);
        if (a.to === "Idle") this.slotIdle(slot, now);
        return;
      case "open-received":
        this.resolveCollision(slot, now);
        return;
      case "established":
        this.onEstablished(slot, a.negotiated, now);
        return;
      case "down":
        this.onDown(slot, a.cause, a.reason, now);
        return;
      case "end-of-rib":
        this.out.push(a);
        this.onEndOfRib({ afi: a.afi, safi: a.safi });
        return;
      default:
        this.out.push(a);
    }
  }

  /** RFC 4271 §6.8: on an OPEN, compare with any other connection in OpenConfirm. */
  private resolveCollision(slot: Slot, now: number): void {
    const other = slot === this.primary ? this.candidate : this.primary;
    if (!other || other.fsm.state !== "OpenConfirm") return;
    const local = ipv4Number(this.fsmCfg.local.routerId);
    const remote = ipv4Number(slot.fsm.peerOpen!.bgpId);
    // The lower identifier gives way: keep the connection the higher-identifier side opened.
    const keepRemoteInitiated = local < remote;
    const keep = slot.initiatedByUs !== keepRemoteInitiated ? slot : other;
    const dump = keep === slot ? other : slot;
    this.feed(dump, { type: "CollisionDump" }, now);
  }

  private slotIdle(slot: Slot, now: number): void {
    if (slot !== this.primary) {
      if (slot === this.candidate) this.candidate = undefined;
      this.retired.push(slot.fsm.counters);
      return;
    }
    // The primary stopped: a live candidate takes over, or the peer restarts later.
    if (this.candidate && this.candidate.fsm.state !== "Idle") {
      this.retired.push(this.primary.fsm.counters);
      this.primary = this.candidate;
      this.candidate = undefined;
      return;
    }
    if (!this.adminUp) return;
    const up = this.establishedAt;
    this.establishedAt = undefined;
    const d = this.cfg.damping;
    if (d === null) {
      // RFC 4271 §8.1.1 without DampPeerOscillations: AutomaticStart at once (at the next tick).
      this.restartAt = now;
      return;
    }
    if (up !== undefined && now - up >= this.cfg.dampForgetTime * 1000) this.failures = 0;
    this.failures++;
    const wait = Math.min(d.idleHoldTime * 2 ** (this.failures - 1), d.maxIdleHoldTime);
    this.restartAt = now + wait * 1000;
  }

  private onEstablished(slot: Slot, n: Negotiated, now: number): void {
    if (slot !== this.primary) {
      // The candidate won: it becomes the session.
      const old = this.primary;
      this.primary = slot;
      this.candidate = undefined;
      if (old.fsm.state !== "Idle") this.feed(old, { type: "CollisionDump" }, now);
      this.out.push({ type: "state", from: "OpenConfirm", to: "Established", reason: "KEEPALIVE received" });
    } else if (this.candidate) {
      // RFC 4271 §6.8: an Established session closes any newer connection.
      this.feed(this.candidate, { type: "CollisionDump" }, now);
    }
    this.establishedAt = now;
    this.extra.established++;
    this.grRestartAt = undefined;
    this.out.push({ type: "established", negotiated: n });
    if (this.staleFamilies.length > 0) {
      // RFC 4724 §4.2: families the restarted peer no longer preserves (or no longer announces
      // graceful restart for) lose their stale routes now; the others wait for End-of-RIB.
      const gr = n.peerGracefulRestart;
      for (const f of [...this.staleFamilies]) {
        const kept = gr?.families.find((g) => sameFamily(g, f));
        if (!kept || !kept.forwardingPreserved) {
          this.staleFamilies = this.staleFamilies.filter((x) => !sameFamily(x, f));
          this.out.push({
            type: "sweep-stale",
            family: f,
            reason: "forwarding state not preserved by the restarted peer",
          });
        }
      }
      this.stalePathAt = this.staleFamilies.length > 0 ? now + this.cfg.stalePathTime * 1000 : undefined;
    }
  }

  private onDown(slot: Slot, cause: DownCause, reason: string, now: number): void {
    if (slot !== this.primary) return;
    this.extra.flaps++;
    const n = slot.fsm.negotiated;
    const gr = n?.peerGracefulRestart;
    // RFC 4724 §4.2: the end of the TCP session (here also a silent peer's hold timer expiry)
    // keeps the routes of the families in the peer's capability; a NOTIFICATION does not.
    const graceful =
      gr !== undefined && gr.families.length > 0 && (cause === "tcp-failed" || cause === "hold-timer-expired");
    this.out.push({ type: "down", cause, reason, gracefulRestart: graceful });
    if (graceful) {
      const fams = gr.families
        .filter((f) => n!.families.some((g) => sameFamily(f, g)))
        .map((f) => ({ afi: f.afi, safi: f.safi }));
      this.staleFamilies = fams;
      this.out.push({ type: "stale", families: fams });
      this.grRestartAt = now + gr.restartTime * 1000;
      this.stalePathAt = undefined;
    } else {
      this.staleFamilies = [];
      this.grRestartAt = this.stalePathAt = undefined;
      this.out.push({ type: "flush" });
    }
  }

  private onEndOfRib(f: Family): void {
    if (!this.staleFamilies.some((x) => sameFamily(x, f))) return;
    this.staleFamilies = this.staleFamilies.filter((x) => !sameFamily(x, f));
    this.out.push({ type: "sweep-stale", family: f, reason: "End-of-RIB received" });
    if (this.staleFamilies.length === 0) this.stalePathAt = undefined;
  }

  private sweepAll(reason: string, _now: number): void {
    if (this.staleFamilies.length === 0) return;
    this.staleFamilies = [];
    this.out.push({ type: "sweep-stale", reason });
  }
}
