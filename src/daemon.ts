// The evpn-proxy daemon: a BGP speaker driven by the configuration and by what the fabric
// announces. It keeps the announced routes equal to plan(configuration, EVPN VTEPs seen) and
// applies a new configuration as a difference (SIGHUP).

import type { OutAttrs } from "./bgp/adj-rib-out.js";
import { evpnRouteKey, sameEvpnRoute } from "./bgp/route-key.js";
import { type NeighborConfig, Speaker, type SpeakerOptions } from "./bgp/speaker.js";
import type { EvpnRoute } from "./codec/index.js";
import type { Logger } from "./log.js";
import { AttrsCache, plan, type ServicePlan } from "./proxy/plan.js";
import { EvpnVtepTracker } from "./proxy/vteps.js";

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
}

type NeighborSettings = DaemonConfig["neighbors"][number];

function neighborConfig(n: NeighborSettings): NeighborConfig {
  return {
    address: n.address,
    peerAs: n.peerAs,
    port: n.port,
    passive: n.passive,
    holdTime: n.holdTime,
    connectRetryTime: n.connectRetry,
    gracefulRestart: n.gracefulRestart,
    ...(n.localAddress !== undefined ? { localAddress: n.localAddress } : {}),
    ...(n.keepalive !== undefined ? { keepaliveTime: n.keepalive } : {}),
    ...(n.description !== undefined ? { description: n.description } : {}),
  };
}

function speakerOptions(c: DaemonConfig, log: Logger): SpeakerOptions {
  return {
    routerId: c.routerId,
    localAs: c.localAs,
    ...(c.listen ? { listen: c.listen } : {}),
    // A start after a crash is a restart: the Restart State bit asks peers that kept our routes
    // to wait for our End-of-RIB (RFC 4724 §4.1); after a clean stop they kept nothing.
    ...(c.gracefulRestart ? { gracefulRestart: { restartTime: c.gracefulRestart.restartTime, restarting: true } } : {}),
    neighbors: c.neighbors.map(neighborConfig),
    logger: log,
  };
}

const globalKey = (c: DaemonConfig): string => JSON.stringify([c.routerId, c.localAs, c.listen, c.gracefulRestart]);

export class Daemon {
  private config: DaemonConfig;
  private speaker: Speaker;
  private tracker: EvpnVtepTracker;
  private readonly cache = new AttrsCache();
  private readonly announced = new Map<string, { route: EvpnRoute; attrs: OutAttrs }>();
  private suppressed = new Set<string>();
  private unsubscribe: () => void = () => undefined;
  private syncQueued = false;

  constructor(
    config: DaemonConfig,
    private readonly log: Logger,
  ) {
    this.config = config;
    this.tracker = new EvpnVtepTracker(config.localAs);
    this.speaker = this.makeSpeaker();
  }

  private makeSpeaker(): Speaker {
    const s = new Speaker(speakerOptions(this.config, this.log));
    this.unsubscribe = s.subscribe((changes) => {
      if (this.tracker.apply(changes) && !this.syncQueued) {
        // Outside the speaker's inbound processing, and once for a burst of changes.
        this.syncQueued = true;
        queueMicrotask(() => {
          this.syncQueued = false;
          this.sync();
        });
      }
    });
    return s;
  }

  async start(): Promise<void> {
    this.sync(); // routes first: they leave with the initial table, before End-of-RIB
    await this.speaker.start();
    const c = this.config;
    this.log.info(
      { routerId: c.routerId, localAs: c.localAs, neighbors: c.neighbors.length, services: c.services.length },
      `evpn-proxy ${c.routerId} AS ${c.localAs}: ${c.neighbors.length} neighbor(s), ${c.services.length} service(s), ${this.announced.size} route(s)`,
    );
  }

  /** Cease / Administrative Shutdown to every peer (RFC 4486, RFC 9003 communication). */
  async stop(communication: string): Promise<void> {
    this.unsubscribe();
    await this.speaker.stop(communication);
  }

  /** Applies a new configuration as a difference: only changed neighbours are reset. */
  async reload(next: DaemonConfig): Promise<void> {
    const prev = this.config;
    this.config = next;
    if (globalKey(prev) !== globalKey(next)) {
      // Router-id, AS, listen address or graceful restart concern every session.
      this.log.warn("router-id, local-as, listen or graceful-restart changed: restarting every session");
      await this.stop("configuration change");
      this.announced.clear();
      this.tracker = new EvpnVtepTracker(next.localAs);
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
        this.speaker.addNeighbor(neighborConfig(n));
        this.speaker.startNeighbor(addr);
        if (!before.has(addr)) this.log.info({ peer: addr }, `neighbor ${addr} added`);
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
    const groups = plan(
      { localAs: c.localAs, services: c.services },
      (s) => this.tracker.vteps(s.routeTargets),
      this.cache,
    );
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
      announced: this.announced.size,
      neighbors: this.speaker.status(),
      evpnVteps: this.tracker.all(),
      suppressed: [...this.suppressed],
    };
  }
}
