// The BGP speaker's I/O layer: drives the pure peer controllers with node:net sockets and timers,
// feeds the RIB, and sends the Adj-RIB-Out with back-pressure. Everything protocol-related is
// decided in peer.ts, fsm.ts, rib.ts, adj-rib-out.ts and policy.ts; this file only moves bytes
// and time, and reports what happens as events (events.ts).

import net from "node:net";
import { performance } from "node:perf_hooks";
import {
  type AfiSafi,
  CeaseSub,
  type ErrorAction,
  formatEvpnRoute,
  type EvpnRoute,
  type PathAttribute,
  ipv4Number,
  type LoopIds,
  RouteRefreshSubtype,
} from "../../codec/index.js";
import type { NeighborSettings, ProxyConfig } from "../../config/model.js";
import { AdjRibOut, type OutAttrs, type OwnedRoutes, type RoutePut } from "../adj-rib-out.js";
import { actionEvent, type SpeakerEvent } from "../events.js";
import type { Negotiated } from "../negotiate.js";
import { digestAttributes, type PathAttrs } from "../path-attrs.js";
import { Peer, type PeerAction, SESSION_TIMERS, type SessionTimers } from "../peer.js";
import {
  earlyFlushRoutes,
  endOfRibMessages,
  EVPN,
  ExportPolicy,
  inboundRoutes,
  localSpeaker,
  neighborAddress,
  refreshAnswer,
  type SpeakerGlobals,
} from "../policy.js";
import { type PeerRef, Rib, type RibChange } from "../rib.js";
import { evpnRouteKey } from "../route-key.js";
import { NeighborRecord, neighborStatus, type NeighborStatus } from "../view.js";
import { ProxyError } from "../../errors.js";
import { RefusalThrottle } from "../event-throttle.js";
import { DeadlineTimer } from "./deadline-timer.js";

export interface SpeakerOptions extends SpeakerGlobals, Pick<ProxyConfig, "listen"> {
  neighbors: NeighborSettings[];
  /** CLUSTER_ID for route reflection loop checks (RFC 4456 §8); default the router ID. */
  clusterId?: string;
  /**
   * Coalescing window (ms) between a local route change and the UPDATEs it causes. Default 0:
   * the UPDATEs leave once the current event-loop turn is done (setImmediate), so an idle
   * speaker adds no delay and a loaded one packs whatever a turn produced.
   */
  updateDelayMs?: number;
  /** Damping-forget and stale-path timers of every neighbour (peer.ts SESSION_TIMERS by default); damping itself is per neighbour. */
  timers?: Partial<SessionTimers>;
  /** What happens: sessions, NOTIFICATIONs, malformed UPDATEs (see events.ts). */
  onEvent?: (e: SpeakerEvent) => void;
  /** Refused connections: the first per source within this window is reported, the rest summed (60 s). */
  refusalWindowMs?: number;
}

export type SpeakerListener = (changes: readonly RibChange[]) => void;

export type { OwnedRoutes, RoutePut } from "../adj-rib-out.js";

interface Neighbor {
  cfg: NeighborSettings;
  peer: Peer;
  record: NeighborRecord;
  sockets: Map<number, net.Socket>;
  timer: DeadlineTimer;
  flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  ref: PeerRef | undefined;
  adjOut: AdjRibOut | undefined;
  /** The initial table is being sent; End-of-RIB follows it (RFC 4724 §2). */
  eorPending: boolean;
  /** Enhanced route refresh: EoRR follows the re-advertisement (RFC 7313 §4). */
  eorrPending: AfiSafi[];
  blocked: boolean;
  /** Pending routes that make a burst flush at once (earlyFlushRoutes of the session's size). */
  earlyFlush: number;
  /** Walks the owned routes into the Adj-RIB-Out (initial table, route refresh); null when done. */
  pull: ((max: number, put: RoutePut) => boolean) | null;
}

const now = (): number => performance.now();
/** Established, and the initial table sent with End-of-RIB after it. */
const eorSent = (n: Neighbor): boolean => n.adjOut !== undefined && n.peer.state === "Established" && !n.eorPending;
/** Wall-clock time (ms since the epoch) for the neighbour view. */
const epochNow = (): number => performance.timeOrigin + performance.now();

export class Speaker {
  readonly rib: Rib;
  readonly stats = { unconfiguredConnections: 0 };
  private readonly opts: SpeakerOptions;
  private readonly onEvent: (e: SpeakerEvent) => void;
  private readonly timers: SessionTimers;
  private readonly neighbors = new Map<string, Neighbor>();
  // Local routes live in the RIB; these map their shared attribute objects both ways.
  private readonly digests = new WeakMap<OutAttrs, PathAttrs>();
  private readonly outAttrsOf = new WeakMap<PathAttrs, OutAttrs>();
  private readonly exportPolicy: ExportPolicy;
  private readonly listeners = new Set<SpeakerListener>();
  private server: net.Server | undefined;
  private owned: OwnedRoutes | null = null;
  private readonly loopIds: LoopIds;
  private readonly refusals: RefusalThrottle;
  private refusalTimer: NodeJS.Timeout | undefined;

  constructor(opts: SpeakerOptions) {
    this.opts = opts;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.timers = { ...SESSION_TIMERS, ...opts.timers };
    this.exportPolicy = new ExportPolicy(opts.localAs);
    this.loopIds = { originatorId: ipv4Number(opts.routerId), clusterId: ipv4Number(opts.clusterId ?? opts.routerId) };
    this.rib = new Rib({
      routerId: opts.routerId,
      localAs: opts.localAs,
      ...(opts.clusterId ? { clusterId: opts.clusterId } : {}),
    });
    for (const n of opts.neighbors) this.addNeighbor(n);
    this.refusals = new RefusalThrottle(opts.refusalWindowMs ?? 60_000, this.onEvent);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.opts.listen) await this.listen(this.opts.listen.address, this.opts.listen.port);
    for (const n of this.neighbors.values()) this.run(n, n.peer.start(now()));
  }

  /** The port we listen on (useful with port 0). */
  get listenPort(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === "object" ? a.port : undefined;
  }

  /**
   * Stops every session with Cease / Administrative Shutdown (RFC 4486, RFC 9003 communication)
   * and waits for the NOTIFICATIONs to leave, at most `timeoutMs`.
   */
  async stop(communication?: string, timeoutMs = 1500): Promise<void> {
    const sockets: net.Socket[] = [];
    for (const n of this.neighbors.values()) {
      sockets.push(...n.sockets.values());
      this.run(n, n.peer.stop(now(), communication));
      this.clearTimers(n);
    }
    const server = this.server;
    this.server = undefined;
    clearTimeout(this.refusalTimer);
    this.refusals.flush();
    await Promise.all([
      ...sockets.map((s) => closedWithin(s, timeoutMs)),
      server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve(),
    ]);
  }

  addNeighbor(cfg: NeighborSettings): void {
    if (this.neighbors.has(cfg.address))
      throw new ProxyError("ERR_NEIGHBOR_EXISTS", `neighbor ${cfg.address} already configured`);
    const n: Neighbor = {
      cfg,
      peer: new Peer({ ...this.timers, ...cfg }, localSpeaker(this.opts, cfg)),
      record: new NeighborRecord(),
      sockets: new Map(),
      timer: new DeadlineTimer(now, () => this.run(n, n.peer.tick(now()))),
      flushTimer: undefined,
      ref: undefined,
      adjOut: undefined,
      eorPending: false,
      eorrPending: [],
      blocked: false,
      earlyFlush: earlyFlushRoutes(4096),
      pull: null,
    };
    this.neighbors.set(cfg.address, n);
  }

  /** Removes a neighbour: Cease / Peer De-configured (RFC 4486 §4), its routes withdrawn. */
  removeNeighbor(address: string): void {
    const n = this.neighbors.get(address);
    if (!n) return;
    this.run(n, n.peer.stop(now(), undefined, CeaseSub.PEER_DECONFIGURED));
    this.clearTimers(n);
    this.neighbors.delete(address);
    this.publish(this.rib.withdrawAll(address));
  }

  /**
   * A hard reset: Cease / Administrative Reset (RFC 4486 §4), then the session starts again.
   * False when no such neighbour is configured.
   */
  resetNeighbor(address: string): boolean {
    const n = this.neighbors.get(address);
    if (!n) return false;
    this.run(n, n.peer.stop(now(), undefined, CeaseSub.ADMIN_RESET));
    this.run(n, n.peer.start(now()));
    return true;
  }

  startNeighbor(address: string): void {
    const n = this.neighbors.get(address);
    if (n) this.run(n, n.peer.start(now()));
  }

  // ---- local routes -----------------------------------------------------------------------

  /** Announces (or replaces) a local route. Share one OutAttrs object between routes with equal attributes. */
  announce(route: EvpnRoute, attrs: OutAttrs): void {
    this.announceAll([route], attrs);
  }

  /** Announces routes that share attributes: one call for a burst (a configuration, a table). */
  announceAll(routes: readonly EvpnRoute[], attrs: OutAttrs): void {
    const digest = this.digest(attrs);
    const outs: { n: Neighbor; out: AdjRibOut; attrs: OutAttrs }[] = [];
    for (const n of this.neighbors.values())
      if (n.adjOut) outs.push({ n, out: n.adjOut, attrs: this.outAttrsFor(n, attrs) });
    // Peers first, so that the UPDATEs leave (and the peers work on them) while the RIB catches up.
    const keys: string[] = new Array(routes.length);
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      const key = (keys[i] = evpnRouteKey(route));
      for (const o of outs) {
        o.out.announce(route, o.attrs, key);
        // A full batch leaves at once, so that the peer works on it while the burst goes on.
        if (o.out.pendingCount >= o.n.earlyFlush && !o.n.blocked && o.n.adjOut === o.out) this.flush(o.n);
      }
    }
    for (const o of outs) this.scheduleFlush(o.n);
    for (let i = 0; i < routes.length; i++) this.rib.addLocal(routes[i]!, digest, keys[i], false);
  }

  withdraw(route: EvpnRoute): void {
    const key = evpnRouteKey(route);
    this.rib.withdrawLocal(route, key, false);
    for (const n of this.neighbors.values())
      if (n.adjOut) {
        n.adjOut.withdraw(route, key);
        this.pace(n);
      }
  }

  /**
   * Sets the owner-kept table (null: none). Established sessions are sent the new table; the
   * owner withdraws what the previous table had and this one does not (withdrawOwned).
   */
  setOwnedRoutes(table: OwnedRoutes | null): void {
    this.owned = table;
    for (const n of this.neighbors.values())
      if (n.adjOut) {
        n.pull = table?.cursor() ?? null;
        this.scheduleFlush(n);
      }
  }

  /** Announces (or replaces) a route of the owned table; nothing of it is kept once sent. */
  announceOwned(route: EvpnRoute, attrs: OutAttrs): void {
    const key = evpnRouteKey(route);
    for (const n of this.neighbors.values()) {
      const out = n.adjOut;
      if (!out) continue;
      out.announce(route, this.outAttrsFor(n, attrs), key, false);
      this.pace(n);
    }
  }

  /** Withdraws a route of the owned table. */
  withdrawOwned(route: EvpnRoute): void {
    const key = evpnRouteKey(route);
    for (const n of this.neighbors.values())
      if (n.adjOut) {
        n.adjOut.withdrawUnkept(route, key);
        this.pace(n);
      }
  }

  /** Configured neighbour addresses. */
  neighborAddresses(): string[] {
    return [...this.neighbors.keys()];
  }

  /**
   * Subscribes to changes of best paths in the Loc-RIB caused by peers (announcements,
   * withdrawals, session ends, graceful-restart sweeps); our own announcements are not echoed.
   * Returns the unsubscribe function.
   */
  subscribe(fn: SpeakerListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The neighbours as they are now (view.ts). */
  status(): NeighborStatus[] {
    const t = epochNow();
    return [...this.neighbors.values()].map((n) =>
      neighborStatus(n.cfg, n.peer, this.rib.counters(n.cfg.address), n.adjOut, n.record, t, eorSent(n)),
    );
  }

  /** Asks a peer to re-send its routes (ROUTE-REFRESH, RFC 2918); false when no such neighbour. */
  requestRefresh(address: string, family: AfiSafi = EVPN): boolean {
    const n = this.neighbors.get(address);
    if (n) this.run(n, n.peer.sendRouteRefresh(family.afi, family.safi, 0, now()));
    return n !== undefined;
  }

  // ---- internals --------------------------------------------------------------------------

  private publish(changes: RibChange[]): void {
    if (changes.length === 0) return;
    for (const fn of this.listeners) fn(changes);
  }

  private digest(attrs: OutAttrs): PathAttrs {
    let d = this.digests.get(attrs);
    if (!d) {
      d = digestAttributes(attrs.attributes, attrs.nextHop);
      this.digests.set(attrs, d);
      this.outAttrsOf.set(d, attrs);
    }
    return d;
  }

  /** The attributes sent to this neighbour's session (policy.ts). */
  private outAttrsFor(n: Neighbor, attrs: OutAttrs): OutAttrs {
    return this.exportPolicy.attrsFor(attrs, n.ref?.ebgp === true);
  }

  private report(n: Neighbor | null, e: SpeakerEvent): void {
    n?.record.observe(e, epochNow());
    if (this.refusals.admit(e, now())) this.onEvent(e);
    else this.refusalTimer ??= setTimeout(() => this.endRefusals(), this.refusals.windowEnd - now()).unref();
  }

  /** The refusal window is over: its sums are reported (re-armed if the timer fired early). */
  private endRefusals(): void {
    this.refusalTimer = undefined;
    if (now() >= this.refusals.windowEnd) this.refusals.flush();
    else this.refusalTimer = setTimeout(() => this.endRefusals(), this.refusals.windowEnd - now()).unref();
  }

  private async listen(address: string, port: number): Promise<void> {
    const server = net.createServer({ noDelay: true }, (sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: address, port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (error) => this.report(null, { kind: "listener-error", error }));
    this.report(null, { kind: "listening", address, port: this.listenPort });
  }

  private accept(sock: net.Socket): void {
    const remote = neighborAddress(sock.remoteAddress);
    const n = this.neighbors.get(remote);
    if (!n) {
      this.stats.unconfiguredConnections++;
      this.report(null, { kind: "unconfigured-connection", remote, remotePort: sock.remotePort });
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    const { conn, actions } = n.peer.incoming(now());
    this.bind(n, conn, sock, true);
    this.run(n, actions);
  }

  private bind(n: Neighbor, conn: number, sock: net.Socket, connected: boolean): void {
    n.sockets.set(conn, sock);
    let up = connected;
    let lastError = "";
    sock.on("connect", () => {
      up = true;
      this.run(n, n.peer.connected(conn, now()));
    });
    sock.on("data", (chunk: Buffer) => {
      // RFC 4456 §8: a route reflector sends our own routes back (FRR sends all of them); while
      // this peer has nothing in our RIB, they need not be built to be ignored.
      n.peer.ignoreLoopedRoutes(this.rib.pathCount(n.cfg.address) === 0 ? this.loopIds : null);
      this.run(n, n.peer.data(conn, chunk, now()));
    });
    sock.on("error", (e) => {
      lastError = e.message;
    });
    sock.on("close", () => {
      // Closed by us: the FSM already knows.
      if (n.sockets.get(conn) !== sock) return;
      n.sockets.delete(conn);
      const reason = lastError || "closed by peer";
      this.run(n, up ? n.peer.closed(conn, reason, now()) : n.peer.connectFailed(conn, reason, now()));
    });
  }

  private run(n: Neighbor, actions: PeerAction[]): void {
    for (const a of actions) this.act(n, a);
    this.schedule(n);
  }

  private act(n: Neighbor, a: PeerAction): void {
    const id = n.cfg.address;
    const e = actionEvent(id, a);
    if (e) this.report(n, e);
    switch (a.type) {
      case "connect": {
        const sock = net.connect({
          host: n.cfg.address,
          port: n.cfg.port,
          ...(n.cfg.localAddress ? { localAddress: n.cfg.localAddress } : {}),
          noDelay: true,
        });
        this.bind(n, a.conn, sock, false);
        return;
      }
      case "close": {
        const sock = n.sockets.get(a.conn);
        if (!sock) return;
        n.sockets.delete(a.conn);
        sock.end(); // lets a NOTIFICATION written just before leave first
        setTimeout(() => sock.destroy(), 1000).unref();
        return;
      }
      case "write": {
        const sock = n.sockets.get(a.conn);
        if (!sock || sock.destroyed) return;
        if (!sock.write(a.bytes) && a.conn === n.peer.sessionConn && !n.blocked) {
          // Back-pressure: stop producing UPDATEs until the socket drains.
          n.blocked = true;
          sock.once("drain", () => {
            n.blocked = false;
            this.flush(n);
          });
        }
        return;
      }
      case "established":
        return this.established(n, a.negotiated);
      case "down":
        n.adjOut = undefined;
        n.pull = null;
        n.eorPending = false;
        n.eorrPending = [];
        n.blocked = false;
        cancelFlush(n);
        return;
      case "update":
        return this.inbound(n, a.update.attributes, a.action, a.errors.length);
      case "route-refresh":
        return this.refresh(n, a.message.afi, a.message.safi, a.message.subtype);
      case "flush":
        this.publish(this.rib.withdrawAll(id));
        return;
      case "stale":
        this.rib.markStale(id);
        return;
      case "sweep-stale": {
        const changes = this.rib.sweepStale(id);
        this.report(n, { kind: "stale-swept", peer: id, removed: changes.length, reason: a.reason });
        this.publish(changes);
        return;
      }
      default:
        return; // state, end-of-rib, notifications, refused connections: reported above
    }
  }

  private established(n: Neighbor, neg: Negotiated): void {
    const id = n.cfg.address;
    n.ref = { id, address: id, routerId: neg.peerRouterId, asn: neg.peerAs, ebgp: neg.ebgp };
    const { peerAs, holdTime, families } = neg;
    const gracefulRestart = !!neg.peerGracefulRestart;
    this.report(n, { kind: "established", peer: id, peerAs, holdTime, families, gracefulRestart });
    n.adjOut = new AdjRibOut({
      ctx: { as4: neg.as4, extendedMessage: neg.extendedMessage },
      maxMessageSize: neg.maxMessageSize,
      onRejected: (route, e) =>
        this.report(n, { kind: "route-not-sent", peer: id, route: formatEvpnRoute(route), error: e.message }),
    });
    n.earlyFlush = earlyFlushRoutes(neg.maxMessageSize);
    for (const p of this.rib.localPaths())
      n.adjOut.announce(p.route, this.outAttrsFor(n, this.outAttrsOf.get(p.attrs)!), p.key);
    n.pull = this.owned?.cursor() ?? null;
    n.eorPending = true;
    this.flush(n);
  }

  private inbound(n: Neighbor, attributes: readonly PathAttribute[], action: ErrorAction | null, errors: number): void {
    if (!n.ref) return;
    const r = inboundRoutes(attributes, action);
    if (r.looped > 0) this.rib.countLooped(n.ref, r.looped);
    if (r.treatedAsWithdraw !== null)
      this.report(n, { kind: "treat-as-withdraw", peer: n.cfg.address, routes: r.treatedAsWithdraw, errors });
    if (r.announced.length === 0 && r.withdrawn.length === 0) return;
    this.publish(this.rib.applyUpdate(n.ref, r.announced, digestAttributes(attributes, r.nextHop), r.withdrawn));
  }

  private refresh(n: Neighbor, afi: number, safi: number, subtype: number): void {
    const answer = refreshAnswer(subtype, n.peer.negotiated?.enhancedRouteRefresh === true);
    if (!n.adjOut || !answer.resend) return;
    this.report(n, { kind: "route-refresh", peer: n.cfg.address, afi, safi });
    if (answer.bracket) {
      this.run(n, n.peer.sendRouteRefresh(afi, safi, RouteRefreshSubtype.BORR, now()));
      n.eorrPending.push({ afi, safi });
    }
    n.adjOut.resendAll();
    n.pull = this.owned?.cursor() ?? null;
    this.flush(n);
  }

  /** After a local change: once a few messages' worth is pending, send at once, else soon. */
  private pace(n: Neighbor): void {
    if (n.adjOut!.pendingCount >= n.earlyFlush && !n.blocked) this.flush(n);
    else this.scheduleFlush(n);
  }

  private scheduleFlush(n: Neighbor): void {
    if (n.flushTimer || n.blocked) return;
    const run = () => {
      n.flushTimer = undefined;
      this.flush(n);
    };
    const delay = this.opts.updateDelayMs ?? 0;
    n.flushTimer = delay > 0 ? setTimeout(run, delay) : setImmediate(run);
  }

  /** Sends pending UPDATEs while the socket takes them; End-of-RIB / EoRR once all are out. */
  private flush(n: Neighbor): void {
    const out = n.adjOut;
    if (!out || n.blocked || n.peer.state !== "Established") return;
    for (;;) {
      // Owned routes are pulled a batch at a time, so that a big table is never staged whole.
      if (n.pull !== null && out.pendingCount < n.earlyFlush) this.pullOwned(n, out);
      if (!out.hasPending()) {
        if (n.pull !== null) continue;
        break;
      }
      const msgs = out.drain(64);
      if (msgs.length === 0) break;
      this.run(n, n.peer.sendUpdates(msgs, now()));
      if (n.blocked || n.adjOut !== out) return;
    }
    if (n.eorPending) {
      n.eorPending = false;
      this.run(n, n.peer.sendUpdates(endOfRibMessages(n.peer.negotiated!), now()));
    }
    if (n.eorrPending.length > 0)
      for (const f of n.eorrPending.splice(0))
        this.run(n, n.peer.sendRouteRefresh(f.afi, f.safi, RouteRefreshSubtype.EORR, now()));
  }

  private pullOwned(n: Neighbor, out: AdjRibOut): void {
    const put: RoutePut = (route, attrs) => out.announce(route, this.outAttrsFor(n, attrs), evpnRouteKey(route), false);
    if (!n.pull!(n.earlyFlush, put)) n.pull = null;
  }

  /**
   * Arms the neighbour's timer for its next deadline. Every UPDATE sent pushes the keepalive
   * deadline later (RFC 4271 §10), so an armed timer that fires no later than the new deadline
   * is kept: firing early costs one tick() that finds nothing due and re-arms, while replacing
   * the timer after each UPDATE would cost a Timeout per message.
   */
  private schedule(n: Neighbor): void {
    n.timer.arm(n.peer.nextDeadline());
  }

  private clearTimers(n: Neighbor): void {
    n.timer.clear();
    cancelFlush(n);
  }
}

function cancelFlush(n: Neighbor): void {
  const t = n.flushTimer;
  n.flushTimer = undefined;
  if (t === undefined) return;
  if ("refresh" in t)
    clearTimeout(t); // a Timeout (updateDelayMs > 0)
  else clearImmediate(t);
}

function closedWithin(sock: net.Socket, ms: number): Promise<void> {
  if (sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      sock.destroy();
      resolve();
    }, ms);
    t.unref();
    sock.once("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
