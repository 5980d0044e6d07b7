// The EVPN controller: keeps what the proxy announces equal to plan(configuration, EVPN VTEPs
// seen, VTEPs discovered) plus what the learning engine learned. Pure: RIB changes, learning
// frames, configuration differences and the time come in; speaker commands (RouteSink) and
// events go out. The composition root owns sockets and timers: after any input it runs
// `settle()` once `pending` is set (outside the speaker's inbound processing) and arms a timer
// for `nextDeadline()`.

import type { OutAttrs } from "../bgp/adj-rib-out.js";
import type { OwnedRoutes } from "../bgp/io/speaker.js";
import type { RibChange } from "../bgp/rib.js";
import { evpnRouteKey, sameEvpnRoute } from "../bgp/route-key.js";
import type { EvpnRoute } from "../codec/index.js";
import { type ConfigDiff, diffConfig } from "../config/diff.js";
import type { ProxyConfig, ServiceSettings } from "../config/model.js";
import type { FabricView, LearnAction, LearnConfig, Learner } from "../dataplane/learning/learner.js";
import type { ReplicationEngine } from "../dataplane/replication/engine.js";
import { formatMac } from "../net/addr.js";
import type { LearnedFrame } from "../wire/packet.js";
import type { EvpnEvents } from "./events.js";
import { RibFabric, type RibView } from "./fabric.js";

export type { RibView } from "./fabric.js";
import { forEachLearned, LearnedAttrs, learnedRoute, ownedTable } from "./learned.js";
import { AttrsCache, plan } from "./plan.js";
import { arpNdConfig, configuredMacs, evpnBinding, floodInputs, replicatedServices } from "./replication.js";
import type { ArpNdEvent } from "../dataplane/replication/engine.js";
import { EvpnVtepTracker } from "./vteps.js";

/** What the controller commands of the BGP speaker. */
export interface RouteSink {
  /** Announces routes that share one attribute object. */
  announceAll(routes: EvpnRoute[], attrs: OutAttrs): void;
  withdraw(route: EvpnRoute): void;
  /** Learned routes: the learning engine keeps them, the speaker only sends them. */
  announceOwned(route: EvpnRoute, attrs: OutAttrs): void;
  withdrawOwned(route: EvpnRoute): void;
  setOwnedRoutes(table: OwnedRoutes | null): void;
}

export interface ControllerDeps {
  sink: RouteSink;
  rib: RibView;
  events: EvpnEvents;
  /** Builds the learning engine (the data plane's; injected so that evpn does not depend on it). */
  newLearner(cfg: LearnConfig, fabric: FabricView): Learner;
  /** The replication engine, when the data plane replicates (kept equal to the control plane here). */
  replication?: ReplicationEngine;
}

/** Learning is on when it has a source. */
export function learningEnabled(c: ProxyConfig): boolean {
  return c.learning.vxlanListen !== undefined || c.learning.captureInterfaces.length > 0;
}

function learnConfig(c: ProxyConfig): LearnConfig {
  return { ...c.learning, services: c.services };
}

/** Changed services whose learned routes need new attributes (route targets) after a reload. */
function retargeted(
  prev: readonly ServiceSettings[],
  next: readonly ServiceSettings[],
  changed: string[],
): Set<string> {
  const out = new Set<string>();
  for (const name of changed) {
    const p = prev.find((x) => x.name === name);
    const s = next.find((x) => x.name === name);
    if (p && s && String(p.routeTargets) !== String(s.routeTargets)) out.add(name);
  }
  return out;
}

export class Controller {
  private config: ProxyConfig;
  private sink: RouteSink;
  private rib: RibView;
  private readonly events: EvpnEvents;
  private readonly newLearner: ControllerDeps["newLearner"];
  private tracker: EvpnVtepTracker;
  private readonly cache = new AttrsCache();
  private learnedAttrs: LearnedAttrs;
  private readonly fabric: RibFabric;
  /** Planned routes (configuration and discovered VTEPs), by route key. */
  private readonly announced = new Map<string, { route: EvpnRoute; attrs: OutAttrs }>();
  /** Remote MAC changes waiting for the learning engine. */
  private remoteQueue: { vni: number; mac: string }[] = [];
  private replan = false;
  private suppressedNow = new Set<string>();
  private engine: Learner | undefined;
  private readonly replication: ReplicationEngine | undefined;
  private macsByVni = new Map<number, Map<string, string>>();
  /** VNIs whose MAC/IP routes feed the proxy-ARP/ND table, and the changes waiting for it. */
  private arpNdVnis = new Set<number>();
  private evpnQueue: RibChange[] = [];
  /** The time of the latest input, for the replication engine's election timer. */
  private now = 0;

  constructor(config: ProxyConfig, deps: ControllerDeps) {
    this.config = config;
    this.sink = deps.sink;
    this.rib = deps.rib;
    this.events = deps.events;
    this.newLearner = deps.newLearner;
    this.tracker = new EvpnVtepTracker(config.localAs);
    this.learnedAttrs = new LearnedAttrs(config.localAs, config.services);
    this.fabric = new RibFabric(
      () => this.rib,
      () => new Map(this.config.services.map((s) => [s.vni, this.tracker.vteps(s.routeTargets)])),
    );
    if (learningEnabled(config)) this.engine = this.newLearner(learnConfig(config), this.fabric);
    this.replication = deps.replication;
    this.configureReplication(config);
  }

  /** The learning engine, when learning is on (read by views and the data-plane sources). */
  get learner(): Learner | undefined {
    return this.engine;
  }

  /** Announces the configured routes and hands the learned table to the speaker; before the speaker starts. */
  start(now = 0): void {
    this.now = now;
    const delta = this.sync();
    this.sink.setOwnedRoutes(this.engine ? this.ownedTable(this.engine) : null);
    this.events.emit({ type: "routes-synced", reason: "start", ...delta, routes: this.announced.size, before: 0 });
  }

  /**
   * A new speaker replaces the old one (router-id, AS, listen address or graceful restart
   * changed): it knows nothing, so every route is announced to it again; learned bindings stay
   * unless the new configuration removes them.
   */
  restart(sink: RouteSink, rib: RibView, next: ProxyConfig, now: number): void {
    this.sink = sink;
    this.rib = rib;
    this.announced.clear();
    this.remoteQueue = [];
    this.replan = false;
    this.tracker = new EvpnVtepTracker(next.localAs);
    if (next.localAs !== this.config.localAs) this.learnedAttrs = new LearnedAttrs(next.localAs, next.services);
    this.reconfigure(next, now);
    this.sink.setOwnedRoutes(this.engine ? this.ownedTable(this.engine) : null);
  }

  /** Work is waiting for `settle()`. */
  get pending(): boolean {
    return this.replan || this.remoteQueue.length > 0 || this.evpnQueue.length > 0;
  }

  /** Best-path changes of the RIB (from inside the speaker's inbound processing: only recorded). */
  ribChanged(changes: readonly RibChange[]): void {
    if (this.tracker.apply(changes)) {
      this.fabric.invalidate();
      this.replan = true;
    }
    if (this.engine)
      for (const c of changes)
        if (c.route.routeType === 2) this.remoteQueue.push({ vni: c.route.label1, mac: c.route.mac });
    if (this.arpNdVnis.size > 0)
      for (const c of changes)
        if (c.route.routeType === 2 && c.route.ip !== undefined && this.arpNdVnis.has(c.route.label1))
          this.evpnQueue.push(c);
  }

  /** The fabric's routes for some MACs changed (the learning engine may withdraw or re-announce ours), then the plan. */
  settle(now: number): void {
    this.now = now;
    const q = this.remoteQueue;
    this.remoteQueue = [];
    const engine = this.engine;
    if (engine) for (const c of q) this.apply(engine.remoteChanged(c.vni, c.mac, now));
    const r = this.replication;
    if (r && this.evpnQueue.length > 0) {
      const eq = this.evpnQueue;
      this.evpnQueue = [];
      for (const c of eq) {
        const b = evpnBinding(c);
        if (b) r.evpnRoute(b.vni, b.ip, b.mac, b.old, b.best, now);
      }
      this.arpNdEvents(r.drain());
    }
    if (this.replan) {
      this.replan = false;
      this.sync();
    }
  }

  /** A frame from a data-plane source; true when it changed something (the deadline may have moved). */
  frame(f: LearnedFrame, now: number): boolean {
    const engine = this.engine;
    if (!engine) return false;
    this.now = now;
    engine.macEvents = this.events.tracing;
    const actions = engine.frame(f, now);
    if (actions.length === 0) return false;
    this.apply(actions);
    return true;
  }

  /** Ageing and duplicate release, due at `nextDeadline()`. */
  tick(now: number): void {
    this.now = now;
    if (this.replication) this.arpNdEvents(this.replication.tick(now));
    const engine = this.engine;
    if (!engine) return;
    engine.macEvents = this.events.tracing;
    this.apply(engine.tick(now));
  }

  /** An operator's `clear evpn duplicates`: every frozen MAC is released now; how many were. */
  clearDuplicates(): number {
    const actions = this.engine?.releaseDuplicates() ?? [];
    this.apply(actions);
    return actions.length;
  }

  nextDeadline(): number | undefined {
    const a = this.engine?.nextDeadline();
    const b = this.replication?.nextDeadline();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  /** After a batch of datagrams: what the proxy-ARP/ND table queued is sent, its events reported. */
  drainReplication(): void {
    if (this.replication) this.arpNdEvents(this.replication.drain());
  }

  private arpNdEvents(events: readonly ArpNdEvent[]): void {
    for (const e of events) {
      const { type: _type, ...rest } = e;
      this.events.emit({ type: "arp-nd", ...rest });
    }
  }

  /**
   * Applies a new configuration as a difference: planned routes are diffed; learned bindings of
   * services and VTEPs that still exist stay (and are not re-sent); those of removed ones are
   * withdrawn; learned routes of a service whose route targets changed are re-announced. The
   * learning engine, which walks its bindings, is reconfigured only when learning settings or
   * services changed.
   */
  reconfigure(next: ProxyConfig, now: number, diff: ConfigDiff = diffConfig(this.config, next)): void {
    const prev = this.config;
    this.config = next;
    this.now = now;
    this.configureReplication(next);
    this.fabric.invalidate();
    const s = diff.services;
    const changed = retargeted(prev.services, next.services, s.changed);
    this.learnedAttrs.update(next.services, changed);
    const engine = this.engine;
    if (engine && learningEnabled(next)) {
      if (diff.learning || s.added.length + s.removed.length + s.changed.length > 0)
        this.apply(engine.reconfigure(learnConfig(next), now));
      if (changed.size > 0)
        forEachLearned(engine, (a) => {
          if (!changed.has(a.service)) return;
          const attrs = this.learnedAttrs.get(a.service, a.vtep, a.seq, a.sticky);
          if (attrs) this.sink.announceOwned(learnedRoute(a, next.localAs), attrs);
        });
    } else if (engine) {
      forEachLearned(engine, (a) => this.sink.withdrawOwned(learnedRoute(a, prev.localAs)));
      this.engine = undefined;
      this.sink.setOwnedRoutes(null);
    } else if (learningEnabled(next)) {
      this.engine = this.newLearner(learnConfig(next), this.fabric);
      this.sink.setOwnedRoutes(this.ownedTable(this.engine));
    }
    const before = this.announced.size;
    const delta = this.sync();
    this.events.emit({ type: "routes-synced", reason: "reload", ...delta, routes: this.announced.size, before });
  }

  /** Planned routes announced now (configuration and discovered VTEPs). */
  get plannedCount(): number {
    return this.announced.size;
  }

  /** Planned routes announced now, for views. */
  planned(): { route: EvpnRoute; attrs: OutAttrs }[] {
    return [...this.announced.values()];
  }

  /** `service|vtep` of static VTEPs that announce themselves and are not proxied there. */
  suppressed(): string[] {
    return [...this.suppressedNow];
  }

  /** EVPN VTEPs seen in the fabric with the route targets they announce. */
  evpnVteps(): { vtep: string; routeTargets: readonly string[] }[] {
    return this.tracker.all();
  }

  /** EVPN VTEPs of one service (by its route targets). */
  evpnVtepsOf(s: ServiceSettings): ReadonlySet<string> {
    return this.tracker.vteps(s.routeTargets);
  }

  private ownedTable(engine: Learner): OwnedRoutes {
    return ownedTable(engine, this.learnedAttrs, this.config.localAs);
  }

  /** Applies the learning engine's actions to the speaker and reports them. */
  private apply(actions: readonly LearnAction[]): void {
    const ev = this.events;
    const localAs = this.config.localAs;
    for (const a of actions) {
      switch (a.type) {
        case "announce": {
          if (ev.tracing) ev.trace({ type: "learned-route", action: "announce", ...keyOf(a) });
          const attrs = this.learnedAttrs.get(a.service, a.vtep, a.seq, a.sticky);
          if (attrs) this.sink.announceOwned(learnedRoute(a, localAs), attrs);
          if (a.ip !== null && a.ip.includes(":") && this.arpNdVnis.has(a.vni))
            this.replication?.learnedBinding(a.vni, a.ip, a.mac, a.vtep, a.seq, this.now);
          break;
        }
        case "withdraw":
          if (ev.tracing) ev.trace({ type: "learned-route", action: "withdraw", ...keyOf(a) });
          this.sink.withdrawOwned(learnedRoute(a, localAs));
          break;
        case "discover-vtep":
          this.replan = true; // auto-discovered static VTEPs get their IMET route like configured ones
          ev.emit({ type: "vtep-discovered", service: a.service, vni: a.vni, vtep: a.vtep });
          break;
        case "event":
          if (a.event === "learned" || a.event === "moved" || a.event === "aged") {
            ev.trace({ type: "mac", event: a.event, vni: a.vni, vtep: a.vtep!, mac: a.mac! });
            break;
          }
          ev.emit({
            type: "learning",
            event: a.event,
            vni: a.vni,
            ...(a.vtep !== undefined ? { vtep: a.vtep } : {}),
            ...(a.mac !== undefined ? { mac: a.mac } : {}),
            ...(a.suppressed !== undefined ? { suppressed: a.suppressed } : {}),
          });
          break;
      }
    }
  }

  /** Makes the planned routes equal to the plan; returns how many changed. */
  private sync(): { announced: number; withdrawn: number } {
    const c = this.config;
    const engine = this.engine;
    const services = engine
      ? c.services.map((s) => {
          const extra = engine.discovered(s.vni).filter((v) => !s.staticVteps.some((x) => x.address === v));
          return extra.length
            ? { ...s, staticVteps: [...s.staticVteps, ...extra.map((address) => ({ address, macs: [] }))] }
            : s;
        })
      : c.services;
    const groups = plan(
      {
        localAs: c.localAs,
        services,
        ...(c.learning.vxlanListen !== undefined ? { vxlanAddress: c.learning.vxlanListen } : {}),
      },
      (s) => this.tracker.vteps(s.routeTargets),
      this.cache,
    );
    this.reportSuppressed();
    const want = new Map<string, { route: EvpnRoute; attrs: OutAttrs }>();
    for (const g of groups) for (const r of g.routes) want.set(evpnRouteKey(r), { route: r, attrs: g.attrs });
    let withdrawn = 0;
    for (const [key, cur] of this.announced)
      if (!want.has(key)) {
        this.sink.withdraw(cur.route);
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
      this.sink.announceAll(routes, attrs);
      announced += routes.length;
    }
    this.cache.retain(new Set(groups.map((g) => g.attrs)));
    this.syncFloodLists();
    return { announced, withdrawn };
  }

  private configureReplication(c: ProxyConfig): void {
    if (!this.replication) return;
    this.replication.setSelf(c.learning.vxlanListen ?? c.routerId);
    this.replication.setServices(replicatedServices(c));
    this.macsByVni = configuredMacs(c);
    const arpNd = arpNdConfig(c);
    this.arpNdVnis = new Set(arpNd?.settings.services.map((s) => s.vni) ?? []);
    this.arpNdEvents(this.replication.setArpNd(arpNd, this.now));
  }

  /** The replication engine's flood lists from the VTEPs known now. */
  private syncFloodLists(): void {
    const r = this.replication;
    if (!r) return;
    const engine = this.engine;
    const inputs = floodInputs(this.config, {
      evpn: (s) => this.tracker.vteps(s.routeTargets),
      replicators: (s) => this.tracker.replicators(s.routeTargets),
      discovered: (vni) => engine?.discovered(vni) ?? [],
    });
    for (const input of inputs) r.flood.update(input, this.now);
  }

  /**
   * The VTEP behind which the MAC at `buf[off..off+6]` sits in a VNI: configured, learned (the
   * learning engine's binding) or announced by an EVPN VTEP (the best type 2 route, RFC 7432 §15.1).
   */
  locate(vni: number, buf: Uint8Array, off: number): string | undefined {
    const mac = formatMac(buf, off);
    return this.macsByVni.get(vni)?.get(mac) ?? this.engine?.locate(vni, mac) ?? this.fabric.remoteMac(vni, mac)?.vtep;
  }

  /** Reports each static VTEP that starts or stops announcing its own IMET route. */
  private reportSuppressed(): void {
    const now = new Set<string>();
    for (const s of this.config.services) {
      const own = this.tracker.vteps(s.routeTargets);
      for (const v of s.staticVteps) if (own.has(v.address)) now.add(`${s.name}|${v.address}`);
    }
    for (const k of now) if (!this.suppressedNow.has(k)) this.events.emit({ type: "vtep-suppressed", ...splitKey(k) });
    for (const k of this.suppressedNow) if (!now.has(k)) this.events.emit({ type: "vtep-proxied", ...splitKey(k) });
    this.suppressedNow = now;
  }
}

function keyOf(a: { vni: number; vtep: string; mac: string; ip: string | null }) {
  return { vni: a.vni, vtep: a.vtep, mac: a.mac, ip: a.ip };
}

function splitKey(k: string): { service: string; vtep: string } {
  const i = k.indexOf("|");
  return { service: k.slice(0, i), vtep: k.slice(i + 1) };
}
