// The evpn-proxy daemon: a BGP speaker driven by the configuration and by what the fabric
// announces. It keeps the announced routes equal to plan(configuration, EVPN VTEPs seen) and
// applies a new configuration as a difference (SIGHUP). Learned routes (data-plane learning)
// are not part of the plan: each learning action goes to the speaker as it happens.

import type { OutAttrs } from "../bgp/adj-rib-out.js";
import { evpnRouteKey, sameEvpnRoute } from "../bgp/route-key.js";
import { type OwnedRoutes, Speaker, type SpeakerOptions } from "../bgp/io/speaker.js";
import { bgpEventLogger } from "../mgmt/bgp-log.js";
import { type EvpnRoute, macIpRoute, macMobility } from "../codec/index.js";
import { type FabricView, type LearnAction, Learner } from "../dataplane/learning/learner.js";
import type { LearnedFrame } from "../wire/packet.js";
import { CaptureSource } from "../dataplane/io/capture-source.js";
import { VxlanUdpSource } from "../dataplane/io/udp-source.js";
import type { LearningSettings as ProxyLearning } from "../config/model.js";
import type { Logger } from "./log.js";
import { AttrsCache, macRouteAttributes, plan, type ServicePlan, staticVtepRd } from "../evpn/plan.js";
import { EvpnVtepTracker } from "../evpn/vteps.js";

/** The daemon's view of the validated configuration (src/config produces it). */
export interface DaemonConfig {
  routerId: string;
  localAs: number;
  listen: { address: string; port: number } | null;
  gracefulRestart: { restartTime: number } | null;
  neighbors: {
    address: string;
    peerAs: number;
    localAddress?: string | undefined;
    port: number;
    passive: boolean;
    holdTime: number;
    keepalive?: number | undefined;
    description?: string | undefined;
    gracefulRestart: boolean;
    connectRetry: number;
  }[];
  services: ServicePlan[];
  learning?: ProxyLearning;
}

function speakerOptions(c: DaemonConfig, log: Logger): SpeakerOptions {
  return {
    routerId: c.routerId,
    localAs: c.localAs,
    listen: c.listen,
    gracefulRestart: c.gracefulRestart,
    // A start after a crash is a restart: the Restart State bit asks peers that kept our routes
    // to wait for our End-of-RIB (RFC 4724 §4.1); after a clean stop they kept nothing.
    restarting: true,
    neighbors: c.neighbors,
    onEvent: bgpEventLogger(log),
  };
}

const globalKey = (c: DaemonConfig): string => JSON.stringify([c.routerId, c.localAs, c.listen, c.gracefulRestart]);

export class Daemon {
  private config: DaemonConfig;
  private speaker: Speaker;
  private tracker: EvpnVtepTracker;
  private readonly cache = new AttrsCache();
  /** Planned routes (configuration and discovered VTEPs), by route key. */
  private readonly announced = new Map<string, { route: EvpnRoute; attrs: OutAttrs }>();
  /** Attribute objects of learned routes, by service, VTEP and sequence. */
  private learnedAttrs = new Map<string, OutAttrs>();
  /** Remote MAC changes waiting for the learning engine (handled outside inbound processing). */
  private remoteQueue: { vni: number; mac: string }[] = [];
  /** EVPN VTEPs per VNI (see fabric.isEvpnVtep); null: to be rebuilt. */
  private evpnVteps: Map<number, Set<string>> | null = null;
  private suppressed = new Set<string>();
  private unsubscribe: () => void = () => undefined;
  private syncQueued = false;
  private learner: Learner | undefined;
  private source: VxlanUdpSource | undefined;
  private readonly captures: CaptureSource[] = [];
  private learnTimer: NodeJS.Timeout | undefined;
  private learnDue = 0;

  constructor(
    config: DaemonConfig,
    private readonly log: Logger,
  ) {
    this.config = config;
    this.tracker = new EvpnVtepTracker(config.localAs);
    this.speaker = this.makeSpeaker();
    this.learner = this.makeLearner();
  }

  /** Data-plane learning (issue 5) when `learning.vxlan-listen` is set. */
  private makeLearner(): Learner | undefined {
    const l = this.config.learning;
    if (!l?.vxlanListen && !l?.captureInterfaces.length) return undefined;
    return new Learner({ ...l, services: this.config.services }, this.fabric);
  }

  /** What the learning engine asks of the fabric, answered from the RIB. */
  private readonly fabric: FabricView = {
    isEvpnVtep: (vni, vtep) => {
      // Asked for every datagram: answered from a per-VNI cache, rebuilt after the tracker changed.
      let byVni = this.evpnVteps;
      if (!byVni) {
        byVni = this.evpnVteps = new Map();
        for (const s of this.config.services) byVni.set(s.vni, this.tracker.vteps(s.routeTargets));
      }
      return byVni.get(vni)?.has(vtep) === true;
    },
    remoteMac: (vni, mac) => {
      // RFC 7432 §15: the learned route with the highest sequence (absent community = 0) wins,
      // an equal one goes to the lower VTEP address.
      let best: { vtep: string; seq: number; sticky: boolean } | undefined;
      for (const key of this.speaker.rib.byMac(mac))
        for (const p of this.speaker.rib.paths(key)) {
          if (p.source === "local" || p.route.routeType !== 2 || p.route.label1 !== vni) continue;
          let seq = 0;
          let sticky = false;
          for (const c of p.attrs.extCommunities)
            if (c.kind === "mac-mobility") {
              seq = c.sequence;
              sticky = (c.flags & 1) !== 0;
            }
          const cand = { vtep: p.attrs.nextHop, seq, sticky };
          if (!best || cand.seq > best.seq || (cand.seq === best.seq && cand.vtep < best.vtep)) best = cand;
        }
      return best;
    },
  };

  private makeSpeaker(): Speaker {
    const s = new Speaker(speakerOptions(this.config, this.log));
    this.unsubscribe = s.subscribe((changes) => {
      const dirty = this.tracker.apply(changes);
      if (dirty) this.evpnVteps = null;
      if (this.learner) {
        const first = this.remoteQueue.length === 0;
        for (const c of changes)
          if (c.route.routeType === 2) this.remoteQueue.push({ vni: c.route.label1, mac: c.route.mac });
        if (first && this.remoteQueue.length > 0) queueMicrotask(() => this.remoteChanges());
      }
      if (dirty) this.queueSync();
    });
    return s;
  }

  /** The fabric's routes for some MACs changed: the learning engine may withdraw or re-announce ours. */
  private remoteChanges(): void {
    const q = this.remoteQueue;
    this.remoteQueue = [];
    const learner = this.learner;
    if (!learner) return;
    const now = Date.now();
    let dirty = false;
    for (const c of q) dirty = this.learnActions(learner.remoteChanged(c.vni, c.mac, now)) || dirty;
    if (dirty) this.queueSync();
  }

  async start(): Promise<void> {
    this.sync(); // routes first: they leave with the initial table, before End-of-RIB
    this.speaker.setOwnedRoutes(this.learner ? this.learnedTable(this.learner) : null); // kept over a restart of every session
    await this.speaker.start();
    await this.startLearning();
    const c = this.config;
    this.log.info(
      { routerId: c.routerId, localAs: c.localAs, neighbors: c.neighbors.length, services: c.services.length },
      `evpn-proxy ${c.routerId} AS ${c.localAs}: ${c.neighbors.length} neighbor(s), ${c.services.length} service(s), ${this.announced.size} route(s)`,
    );
  }

  /** Cease / Administrative Shutdown to every peer (RFC 4486, RFC 9003 communication). */
  async stop(communication: string): Promise<void> {
    this.unsubscribe();
    await this.stopLearning();
    await this.speaker.stop(communication);
  }

  private async startLearning(): Promise<void> {
    const l = this.config.learning;
    if (!this.learner || !l) return;
    const learner = this.learner;
    const onFrame = (f: LearnedFrame) => {
      const actions = learner.frame(f, Date.now());
      if (actions.length > 0 && this.learnActions(actions)) this.queueSync();
    };
    if (l.vxlanListen) {
      this.source = new VxlanUdpSource({ address: l.vxlanListen, anyFrame: l.anyFrame }, onFrame);
      await this.source.start();
      this.log.info(
        {
          address: l.vxlanListen,
          port: this.source.port,
          receiver: this.source.receiver,
          receiveBuffer: this.source.receiveBufferBytes,
        },
        "learning from VXLAN datagrams",
      );
    }
    for (const device of l.captureInterfaces) {
      const c = new CaptureSource({ device, anyFrame: l.anyFrame }, onFrame);
      c.start(); // a missing `cap` package or device fails the start, with the reason
      this.captures.push(c);
      this.log.info({ device }, `learning from a live capture on ${device}`);
    }
  }

  private async stopLearning(): Promise<void> {
    if (this.learnTimer) clearTimeout(this.learnTimer);
    this.learnTimer = undefined;
    for (const c of this.captures.splice(0)) c.stop();
    const src = this.source;
    this.source = undefined;
    await src?.stop();
  }

  /**
   * Applies the learning engine's actions to the speaker and logs them (each route at debug
   * level, events at info or warn); true when the plan must be recomputed (a discovered VTEP).
   */
  private learnActions(actions: LearnAction[]): boolean {
    let replan = false;
    const debug = this.log.isLevelEnabled("debug");
    for (const a of actions) {
      if (a.type === "announce" || a.type === "withdraw") {
        if (debug)
          this.log.debug({ action: a.type, vni: a.vni, vtep: a.vtep, mac: a.mac, ip: a.ip }, `learning: ${a.type}`);
        const route = this.learnedRoute(a);
        if (a.type === "announce") {
          const attrs = this.learnedAttrsFor(a.service, a.vtep, a.seq, a.sticky);
          if (attrs) this.speaker.announceOwned(route, attrs);
        } else this.speaker.withdrawOwned(route);
        continue;
      }
      if (a.type === "discover-vtep") {
        replan = true;
        this.log.info({ action: a.type, vni: a.vni, vtep: a.vtep }, `learning: ${a.type}`);
        continue;
      }
      const level = a.event === "duplicate" || a.event.startsWith("limit") ? "warn" : "info";
      this.log[level](
        { event: a.event, vni: a.vni, vtep: a.vtep, mac: a.mac, suppressed: a.suppressed },
        `learning: ${a.event}`,
      );
    }
    this.scheduleLearnTick();
    return replan;
  }

  /**
   * The type 2 route of a learned binding (RFC 7432 §7.2): RD, route targets and label as for
   * the VTEP's IMET route; the MAC route when `ip` is null, else the MAC/IP route.
   */
  private learnedRoute(k: { vtep: string; evi: number; vni: number; mac: string; ip: string | null }): EvpnRoute {
    const rd = staticVtepRd(k.vtep, k.evi, this.config.localAs);
    return macIpRoute({ rd, mac: k.mac, ...(k.ip !== null ? { ip: k.ip } : {}), label1: k.vni });
  }

  /**
   * Attributes of a learned route (RFC 7432 §15): the next hop is the VTEP the MAC was learned
   * at; MAC mobility is left out at sequence 0 so that the first announcement is a plain one;
   * the proxy marker as on every proxied route. One object per (service, VTEP, sequence).
   */
  private learnedAttrsFor(service: string, vtep: string, seq: number, sticky: boolean): OutAttrs | undefined {
    const key = `${service}|${vtep}|${seq}|${sticky ? 1 : 0}`;
    let attrs = this.learnedAttrs.get(key);
    if (attrs) return attrs;
    const s = this.config.services.find((x) => x.name === service);
    if (!s) return undefined;
    const mobility = seq > 0 || sticky ? macMobility(seq, sticky) : null; // left out at 0: a plain first announcement
    const attributes = macRouteAttributes(this.config.localAs, s.routeTargets, mobility);
    this.learnedAttrs.set(key, (attrs = { nextHop: vtep, attributes }));
    return attrs;
  }

  /**
   * The learning engine's routes as the speaker's owned table: the engine is their only copy,
   * walked when a session needs the whole table (RFC 4271 §3.2 leaves the Adj-RIB-Out's form open).
   */
  private learnedTable(learner: Learner): OwnedRoutes {
    return {
      cursor: () => {
        const next = learner.cursor();
        const actions: LearnAction[] = [];
        return (max, put) => {
          const more = next(max, actions);
          for (const a of actions)
            if (a.type === "announce") {
              const attrs = this.learnedAttrsFor(a.service, a.vtep, a.seq, a.sticky);
              if (attrs) put(this.learnedRoute(a), attrs);
            }
          actions.length = 0;
          return more;
        };
      },
    };
  }

  /** Withdraws every route `learner` announced (it is being replaced). */
  private withdrawLearned(learner: Learner): void {
    const next = learner.cursor();
    const actions: LearnAction[] = [];
    for (let more = true; more; actions.length = 0) {
      more = next(4096, actions);
      for (const a of actions) if (a.type === "announce") this.speaker.withdrawOwned(this.learnedRoute(a));
    }
  }

  /** Keeps a timer for the learning engine's next deadline (an earlier one replaces it). */
  private scheduleLearnTick(): void {
    const d = this.learner?.nextDeadline();
    if (this.learnTimer && d !== undefined && this.learnDue <= d) return; // it fires first, then reschedules
    if (this.learnTimer) clearTimeout(this.learnTimer);
    this.learnTimer = undefined;
    if (d === undefined) return;
    this.learnDue = d;
    this.learnTimer = setTimeout(
      () => {
        this.learnTimer = undefined;
        if (this.learner && this.learnActions(this.learner.tick(Date.now()))) this.queueSync();
      },
      Math.max(0, d - Date.now()),
    );
    this.learnTimer.unref();
  }

  private queueSync(): void {
    if (this.syncQueued) return;
    // Outside the speaker's inbound processing, and once for a burst of changes.
    this.syncQueued = true;
    queueMicrotask(() => {
      this.syncQueued = false;
      this.sync();
    });
  }

  /** Applies a new configuration as a difference: only changed neighbours are reset. */
  async reload(next: DaemonConfig): Promise<void> {
    const prev = this.config;
    this.config = next;
    this.evpnVteps = null;
    // The learning engine is built for one configuration: after a change it starts afresh
    // (learned MACs are learned again from the next ARP/ND).
    const learningChanged =
      JSON.stringify([prev.learning, prev.services]) !== JSON.stringify([next.learning, next.services]);
    if (globalKey(prev) !== globalKey(next)) {
      // Router-id, AS, listen address or graceful restart concern every session.
      this.log.warn("router-id, local-as, listen or graceful-restart changed: restarting every session");
      await this.stop("configuration change");
      this.announced.clear();
      this.learnedAttrs.clear();
      if (learningChanged) this.learner = this.makeLearner(); // the old routes went with the old speaker
      this.tracker = new EvpnVtepTracker(next.localAs);
      this.evpnVteps = null;
      this.speaker = this.makeSpeaker();
      await this.start();
      return;
    }
    const before = new Map(prev.neighbors.map((n) => [n.address, JSON.stringify(n)]));
    const after = new Map(next.neighbors.map((n) => [n.address, n]));
    for (const [addr, text] of before) {
      const n = after.get(addr);
      if (n && JSON.stringify(n) === text) continue;
      this.speaker.removeNeighbor(addr);
      this.log.info({ peer: addr }, n ? `neighbor ${addr} changed: session restarts` : `neighbor ${addr} removed`);
    }
    for (const [addr, n] of after)
      if (before.get(addr) !== JSON.stringify(n)) {
        this.speaker.addNeighbor(n);
        this.speaker.startNeighbor(addr);
        if (!before.has(addr)) this.log.info({ peer: addr }, `neighbor ${addr} added`);
      }
    if (learningChanged) {
      await this.stopLearning();
      if (this.learner) this.withdrawLearned(this.learner);
      this.learnedAttrs.clear();
      this.learner = this.makeLearner();
      this.speaker.setOwnedRoutes(this.learner ? this.learnedTable(this.learner) : null);
      await this.startLearning();
    }
    const n0 = this.announced.size;
    const delta = this.sync();
    this.log.info(
      { announced: delta.announced, withdrawn: delta.withdrawn, routes: this.announced.size, before: n0 },
      "configuration reloaded",
    );
  }

  /** Makes the announced routes equal to the plan; returns how many changed. */
  private sync(): { announced: number; withdrawn: number } {
    const c = this.config;
    const learner = this.learner;
    // Auto-discovered static VTEPs get their IMET route like configured ones.
    const services = learner
      ? c.services.map((s) => {
          const extra = learner.discovered(s.vni).filter((v) => !s.staticVteps.some((x) => x.address === v));
          return extra.length
            ? { ...s, staticVteps: [...s.staticVteps, ...extra.map((address) => ({ address, macs: [] }))] }
            : s;
        })
      : c.services;
    const groups = plan({ localAs: c.localAs, services }, (s) => this.tracker.vteps(s.routeTargets), this.cache);
    this.reportSuppressed();
    const want = new Map<string, { route: EvpnRoute; attrs: OutAttrs }>();
    for (const g of groups) for (const r of g.routes) want.set(evpnRouteKey(r), { route: r, attrs: g.attrs });
    let withdrawn = 0;
    for (const [key, cur] of this.announced)
      if (!want.has(key)) {
        this.speaker.withdraw(cur.route);
        this.announced.delete(key);
        withdrawn++;
      }
    const byAttrs = new Map<OutAttrs, EvpnRoute[]>();
    for (const [key, w] of want) {
      const cur = this.announced.get(key);
      if (cur && cur.attrs === w.attrs && sameEvpnRoute(cur.route, w.route)) continue;
      this.announced.set(key, w);
      let list = byAttrs.get(w.attrs);
      if (!list) byAttrs.set(w.attrs, (list = []));
      list.push(w.route);
    }
    let announced = 0;
    for (const [attrs, routes] of byAttrs) {
      this.speaker.announceAll(routes, attrs);
      announced += routes.length;
    }
    this.cache.retain(new Set(groups.map((g) => g.attrs)));
    return { announced, withdrawn };
  }

  /** Logs each static VTEP that starts or stops announcing its own IMET route. */
  private reportSuppressed(): void {
    const now = new Set<string>();
    for (const s of this.config.services) {
      const own = this.tracker.vteps(s.routeTargets);
      for (const v of s.staticVteps) if (own.has(v.address)) now.add(`${s.name}|${v.address}`);
    }
    for (const k of now)
      if (!this.suppressed.has(k)) {
        const [service, vtep] = k.split("|");
        this.log.warn(
          { service, vtep },
          `static VTEP ${vtep} announces its own IMET route for service ${service}: no longer proxied there`,
        );
      }
    for (const k of this.suppressed)
      if (!now.has(k)) {
        const [service, vtep] = k.split("|");
        this.log.info(
          { service, vtep },
          `static VTEP ${vtep} no longer announces itself for service ${service}: proxied again`,
        );
      }
    this.suppressed = now;
  }

  status(): object {
    return {
      routerId: this.config.routerId,
      announced: this.speaker.rib.localCount + (this.learner?.announcedRoutes() ?? 0),
      neighbors: this.speaker.status(),
      evpnVteps: this.tracker.all(),
      learning: this.learner ? { counters: this.learner.counters(), source: this.source?.counters } : null,
      suppressed: [...this.suppressed],
    };
  }
}
