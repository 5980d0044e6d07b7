// The BGP finite state machine of one connection (RFC 4271 §8), as pure logic: events and the
// current time (ms) in, actions out. Timers are deadlines the caller turns into one wake-up.
//
// Options of RFC 4271 §8.1.1 in force: AllowAutomaticStart (by the peer controller),
// PassiveTcpEstablishment (per peer), DampPeerOscillations (by the peer controller);
// DelayOpen, SendNOTIFICATIONwithoutOPEN, TrackTcpState and CollisionDetectEstablishedState off.

import {
  BgpError,
  type BgpMessage,
  CeaseSub,
  type CodecContext,
  type LoopIds,
  ceaseNotification,
  decodeMessage,
  encodeMessage,
  endOfRibFamily,
  ErrCode,
  type ErrorAction,
  FsmSub,
  KEEPALIVE,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MessageFramer,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from "../codec/index.js";
import { buildLocalOpen, type LocalSpeaker, type Negotiated, negotiate } from "./negotiate.js";

export type FsmState = "Idle" | "Connect" | "Active" | "OpenSent" | "OpenConfirm" | "Established";

export interface FsmConfig {
  local: LocalSpeaker;
  peerAs: number;
  /** ConnectRetryTime: seconds between connection attempts (RFC 4271 §10 suggests 120). */
  connectRetry: number;
  /** Seconds between KEEPALIVEs; default a third of the negotiated hold time (RFC 4271 §10). */
  keepalive?: number;
  /** Never initiate the TCP connection (PassiveTcpEstablishment). */
  passive: boolean;
  /** Hold time while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes). */
  openHoldTime?: number;
  /** Uniform [0,1) source for timer jitter (RFC 4271 §10). */
  random: () => number;
}

export type FsmEvent =
  /** ManualStart (event 1); with passiveTcp, ManualStart_with_PassiveTcpEstablishment (event 4). */
  | { type: "ManualStart"; passiveTcp?: boolean }
  | { type: "ManualStop"; communication?: string }
  | { type: "AutomaticStop"; subcode: number; communication?: string }
  /** Our outgoing connection was accepted (Tcp_CR_Acked, event 16). */
  | { type: "TcpConnected" }
  /** An incoming connection was handed to this FSM (TcpConnectionConfirmed, event 17). */
  | { type: "TcpAccepted" }
  /** The connection failed or was closed by the peer (TcpConnectionFails, event 18). */
  | { type: "TcpFailed"; reason: string }
  | { type: "Data"; bytes: Uint8Array }
  /** Timers: fire whatever deadline has passed. */
  | { type: "Tick" }
  /** Lost connection collision resolution (OpenCollisionDump, event 23). */
  | { type: "CollisionDump" }
  /** Encoded UPDATEs to send (Established only). */
  | { type: "SendUpdates"; messages: Uint8Array[] }
  | { type: "SendRouteRefresh"; afi: number; safi: number; subtype?: number };

export type DownCause = "notification-sent" | "notification-received" | "tcp-failed" | "hold-timer-expired";

export type FsmAction =
  | { type: "connect" }
  | { type: "close" }
  | { type: "write"; bytes: Uint8Array }
  | { type: "state"; from: FsmState; to: FsmState; reason: string }
  | { type: "open-received"; open: OpenMessage; negotiated: Negotiated }
  | { type: "established"; negotiated: Negotiated }
  | { type: "update"; update: UpdateMessage; action: ErrorAction | null; errors: BgpError[] }
  | { type: "end-of-rib"; afi: number; safi: number }
  | { type: "route-refresh"; message: RouteRefreshMessage }
  | { type: "notification-sent"; message: NotificationMessage; error?: BgpError }
  | { type: "notification-received"; message: NotificationMessage }
  /** An Established session ended. */
  | { type: "down"; cause: DownCause; reason: string };

export interface FsmCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  keepalivesIn: number;
  keepalivesOut: number;
  notificationsIn: number;
  notificationsOut: number;
  routeRefreshIn: number;
  routeRefreshOut: number;
  connectRetryCounter: number;
}

const OPEN_HOLD_DEFAULT = 240;

export class Fsm {
  state: FsmState = "Idle";
  negotiated: Negotiated | undefined;
  peerOpen: OpenMessage | undefined;
  readonly counters: FsmCounters = {
    messagesIn: 0,
    messagesOut: 0,
    updatesIn: 0,
    updatesOut: 0,
    keepalivesIn: 0,
    keepalivesOut: 0,
    notificationsIn: 0,
    notificationsOut: 0,
    routeRefreshIn: 0,
    routeRefreshOut: 0,
    connectRetryCounter: 0,
  };
  /** Timer deadlines in ms, or undefined when stopped. */
  connectRetryAt: number | undefined;
  holdAt: number | undefined;
  keepaliveAt: number | undefined;

  private readonly cfg: FsmConfig;
  private framer = new MessageFramer();
  private ctx: CodecContext = { as4: true };
  /** The session's context with RFC 4456 loop ids, while looped routes may go unbuilt; else null. */
  private loopCtx: CodecContext | null = null;
  private out: FsmAction[] = [];
  private now = 0;

  constructor(cfg: FsmConfig) {
    this.cfg = cfg;
  }

  /** The earliest timer deadline, for the caller's single wake-up. */
  nextDeadline(): number | undefined {
    return earliest(earliest(this.connectRetryAt, this.holdAt), this.keepaliveAt);
  }

  handle(ev: FsmEvent, now: number): FsmAction[] {
    this.now = now;
    this.out = [];
    this.dispatch(ev);
    return this.out;
  }

  private dispatch(ev: FsmEvent): void {
    switch (ev.type) {
      case "ManualStart":
        return this.start(ev.passiveTcp === true);
      case "ManualStop":
        return this.stop(ceaseNotification(CeaseSub.ADMIN_SHUTDOWN, ev.communication), "administrative shutdown");
      case "AutomaticStop":
        return this.stop(ceaseNotification(ev.subcode, ev.communication), "automatic stop");
      case "TcpConnected":
      case "TcpAccepted":
        return this.tcpUp(ev.type === "TcpConnected" ? "connection established" : "connection accepted");
      case "TcpFailed":
        return this.tcpFailed(ev.reason);
      case "Data":
        return this.data(ev.bytes);
      case "Tick":
        return this.tick();
      case "CollisionDump":
        if (this.state !== "Idle")
          this.fail(ceaseNotification(CeaseSub.CONNECTION_COLLISION), "connection collision resolution");
        return;
      case "SendUpdates":
        if (this.state !== "Established") return;
        for (const m of ev.messages) this.emitWrite(m);
        this.counters.updatesOut += ev.messages.length;
        this.restartKeepalive(); // RFC 4271 §8.2.2: sending an UPDATE restarts the KeepaliveTimer
        return;
      case "SendRouteRefresh":
        if (this.state !== "Established" || !this.negotiated?.routeRefresh) return;
        this.counters.routeRefreshOut++;
        this.send({ type: 5, afi: ev.afi, safi: ev.safi, subtype: ev.subtype ?? 0 });
        return;
    }
  }

  // ---- transitions ----------------------------------------------------------------------

  private go(to: FsmState, reason: string): void {
    if (to === this.state) return;
    const from = this.state;
    this.state = to;
    this.out.push({ type: "state", from, to, reason });
    if (to === "Idle") {
      this.connectRetryAt = this.holdAt = this.keepaliveAt = undefined;
      this.framer = new MessageFramer();
      this.ctx = { as4: true };
      this.loopCtx = null;
    }
  }

  /** ManualStart / AutomaticStart (events 1, 3, 4, 5): Idle → Connect, or Active when passive. */
  private start(passiveTcp: boolean): void {
    if (this.state !== "Idle") return;
    this.counters.connectRetryCounter = 0;
    this.startConnectRetry();
    if (this.cfg.passive || passiveTcp) this.go("Active", "start, waiting for the peer to connect");
    else {
      this.out.push({ type: "connect" });
      this.go("Connect", "start, connecting");
    }
  }

  /** ManualStop / AutomaticStop (events 2, 8). */
  private stop(n: NotificationMessage, reason: string): void {
    if (this.state === "Idle") return;
    if (this.state === "OpenSent" || this.state === "OpenConfirm" || this.state === "Established")
      this.sendNotification(n);
    this.closeTo(reason, "notification-sent");
    this.counters.connectRetryCounter = 0;
  }

  private tcpUp(reason: string): void {
    if (this.state !== "Connect" && this.state !== "Active") return;
    this.connectRetryAt = undefined;
    this.send(buildLocalOpen(this.cfg.local));
    this.holdAt = this.now + (this.cfg.openHoldTime ?? OPEN_HOLD_DEFAULT) * 1000;
    this.go("OpenSent", reason);
  }

  private tcpFailed(reason: string): void {
    switch (this.state) {
      case "Idle":
        return;
      case "Connect":
      case "Active":
        // Retry when the ConnectRetryTimer expires (a passive FSM keeps listening).
        this.startConnectRetry();
        this.go("Active", `connection failed: ${reason}`);
        return;
      default:
        this.counters.connectRetryCounter++;
        this.closeTo(`connection lost: ${reason}`, "tcp-failed");
    }
  }

  private tick(): void {
    const now = this.now;
    if (this.holdAt !== undefined && this.holdAt <= now) {
      // RFC 4271 §6.5: Hold Timer Expired.
      this.counters.connectRetryCounter++;
      this.sendNotification({ type: 3, code: ErrCode.HOLD_TIMER_EXPIRED, subcode: 0, data: new Uint8Array(0) });
      this.closeTo("hold timer expired", "hold-timer-expired");
      return;
    }
    if (this.keepaliveAt !== undefined && this.keepaliveAt <= now) {
      if (this.state === "OpenConfirm" || this.state === "Established") {
        this.send(KEEPALIVE);
        this.counters.keepalivesOut++;
      }
      this.restartKeepalive();
    }
    if (this.connectRetryAt !== undefined && this.connectRetryAt <= now) {
      this.startConnectRetry();
      if (this.state === "Connect" || (this.state === "Active" && !this.cfg.passive)) {
        // Events 9 in Connect/Active: drop the attempt, try again.
        if (this.state === "Connect") this.out.push({ type: "close" });
        this.out.push({ type: "connect" });
        this.go("Connect", "connect retry timer expired");
      }
    }
  }

  /**
   * While the receiver holds no route from this peer, routes that loop back to us (RFC 4456 §8:
   * our ORIGINATOR_ID or CLUSTER_ID) need not be built: they are checked, counted and dropped
   * (CodecContext.loopIds). Null builds every route. Reset by the next UPDATE that brings routes.
   */
  ignoreLoopedRoutes(ids: LoopIds | null): void {
    if (ids === null || this.state !== "Established") this.loopCtx = null;
    else if (this.loopCtx?.loopIds !== ids) this.loopCtx = { ...this.ctx, loopIds: ids };
  }

  private data(bytes: Uint8Array): void {
    if (this.state !== "OpenSent" && this.state !== "OpenConfirm" && this.state !== "Established") return;
    this.framer.push(bytes);
    for (;;) {
      const f = this.framer.next();
      if (f === null) return;
      if (!f.ok) return this.failWith(f.error); // BGPHeaderErr (event 21)
      const r = decodeMessage(f.frame, this.loopCtx ?? this.ctx);
      if (!r.ok) return this.failWith(r.error); // events 21, 22, 28
      // Routes of this UPDATE may now be in the receiver's RIB: a later looped UPDATE from this
      // peer must be built, to replace them (RFC 4271 §9 implicit withdraw).
      if (this.loopCtx !== null && r.message.type === 2 && buildsEvpnRoutes(r.message)) this.loopCtx = null;
      this.counters.messagesIn++;
      this.message(r.message, r.action, r.errors);
      if ((this.state as FsmState) === "Idle") return;
    }
  }

  private message(m: BgpMessage, action: ErrorAction | null, errors: BgpError[]): void {
    if (m.type === 3) {
      // RFC 4271 §6.4: the connection closes after a NOTIFICATION; it is never answered.
      this.counters.notificationsIn++;
      this.out.push({ type: "notification-received", message: m });
      this.counters.connectRetryCounter++;
      this.closeTo("NOTIFICATION received", "notification-received");
      return;
    }
    switch (this.state) {
      case "OpenSent":
        if (m.type !== 1) return this.fsmError(FsmSub.UNEXPECTED_IN_OPENSENT, m);
        return this.open(m);
      case "OpenConfirm":
        if (m.type === 4) {
          this.counters.keepalivesIn++;
          this.restartHold();
          this.go("Established", "KEEPALIVE received");
          this.out.push({ type: "established", negotiated: this.negotiated! });
          return;
        }
        return this.fsmError(FsmSub.UNEXPECTED_IN_OPENCONFIRM, m);
      case "Established":
        this.restartHold();
        switch (m.type) {
          case 4:
            this.counters.keepalivesIn++;
            return;
          case 2:
            this.counters.updatesIn++;
            return this.update(m, action, errors);
          case 5:
            this.counters.routeRefreshIn++;
            // RFC 2918 §4: ignore a request for a family that was not negotiated.
            if (this.negotiated!.families.some((f) => f.afi === m.afi && f.safi === m.safi))
              this.out.push({ type: "route-refresh", message: m });
            return;
          default:
            return this.fsmError(FsmSub.UNEXPECTED_IN_ESTABLISHED, m);
        }
      default:
        return; // no connection: data() drops bytes in these states
    }
  }

  private open(m: OpenMessage): void {
    const n = negotiate(this.cfg.local, this.cfg.peerAs, m);
    if (!("peerAs" in n)) return this.failWith(n); // BGPOpenMsgErr (event 22)
    this.negotiated = n;
    this.peerOpen = m;
    this.ctx = { as4: n.as4, extendedMessage: n.extendedMessage, ebgp: n.ebgp };
    this.loopCtx = null;
    if (n.extendedMessage) this.framer.maxLength = MAX_EXTENDED_MESSAGE_LENGTH;
    this.send(KEEPALIVE);
    this.counters.keepalivesOut++;
    this.restartHold();
    this.restartKeepalive();
    this.go("OpenConfirm", `OPEN received from ${m.bgpId} AS ${n.peerAs}, hold time ${n.holdTime} s`);
    this.out.push({ type: "open-received", open: m, negotiated: n });
  }

  private update(m: UpdateMessage, action: ErrorAction | null, errors: BgpError[]): void {
    if (action === "afi-safi-disable") {
      // RFC 7606 §5.3 allows session reset where AFI/SAFI disable is not supported: a proxy
      // session without its EVPN family is of no use.
      return this.failWith(errors.find((e) => e.action === "afi-safi-disable")!);
    }
    const eor = endOfRibFamily(m);
    if (eor !== null) {
      this.out.push({ type: "end-of-rib", afi: eor.afi, safi: eor.safi });
      return;
    }
    this.out.push({ type: "update", update: m, action, errors });
  }

  // ---- helpers ----------------------------------------------------------------------------

  private fsmError(subcode: number, m: BgpMessage): void {
    // RFC 6608 §4: the subcode names the state; the data is the message type.
    this.failWith(
      new BgpError({
        code: "ERR_FSM_UNEXPECTED_MESSAGE",
        message: `unexpected message type ${m.type} in ${this.state}`,
        action: "session-reset",
        notifyCode: ErrCode.FSM,
        notifySubcode: subcode,
        data: Uint8Array.of(m.type),
      }),
    );
  }

  private failWith(e: BgpError): void {
    this.counters.connectRetryCounter++;
    const n: NotificationMessage = { type: 3, code: e.notifyCode, subcode: e.notifySubcode, data: e.data };
    this.sendNotification(n, e);
    this.closeTo(e.message, "notification-sent");
  }

  private fail(n: NotificationMessage, reason: string): void {
    this.counters.connectRetryCounter++;
    this.sendNotification(n);
    this.closeTo(reason, "notification-sent");
  }

  private sendNotification(n: NotificationMessage, error?: BgpError): void {
    this.counters.notificationsOut++;
    this.send(n);
    this.out.push(error ? { type: "notification-sent", message: n, error } : { type: "notification-sent", message: n });
  }

  private closeTo(reason: string, cause: DownCause): void {
    const wasEstablished = this.state === "Established";
    this.out.push({ type: "close" });
    this.go("Idle", reason);
    if (wasEstablished) this.out.push({ type: "down", cause, reason });
  }

  private send(m: BgpMessage): void {
    this.counters.messagesOut++;
    this.emitWrite(encodeMessage(m, this.ctx));
  }

  private emitWrite(bytes: Uint8Array): void {
    this.out.push({ type: "write", bytes });
  }

  private jitter(seconds: number): number {
    // RFC 4271 §10: jitter by a random factor in [0.75, 1].
    return seconds * 1000 * (0.75 + 0.25 * this.cfg.random());
  }

  private startConnectRetry(): void {
    this.connectRetryAt = this.now + this.jitter(this.cfg.connectRetry);
  }

  private restartHold(): void {
    const hold = this.negotiated?.holdTime ?? 0;
    this.holdAt = hold > 0 ? this.now + hold * 1000 : undefined;
  }

  private restartKeepalive(): void {
    const hold = this.negotiated?.holdTime ?? 0;
    if (hold === 0) {
      this.keepaliveAt = undefined;
      return;
    }
    const ka = Math.min(this.cfg.keepalive ?? hold / 3, hold / 3);
    this.keepaliveAt = this.now + this.jitter(ka);
  }
}

/** The earlier of two optional deadlines (no array: this runs after every message sent). */
export function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined || a <= b ? a : b;
}

function buildsEvpnRoutes(m: UpdateMessage): boolean {
  for (const a of m.attributes) if (a.kind === "mp-reach" && a.nlri.family === "evpn") return a.nlri.routes.length > 0;
  return false;
}
