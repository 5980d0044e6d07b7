// GET /metrics: Prometheus text format (prom-client's registry), prefix evpn_proxy_. Like GoBGP's
// collector, nothing is counted twice: every value is read from the daemon's state at scrape
// time. Labels are bounded: peers, services, states, route types, reasons; never a MAC or an IP
// of the data plane. Large tables are counted a slice per event-loop turn.

import { monitorEventLoopDelay } from "node:perf_hooks";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { FsmState } from "../bgp/fsm.js";
import type { History } from "../mgmt/history.js";
import type { DaemonState, Views } from "../mgmt/views.js";

const P = "evpn_proxy_";
const STATES: FsmState[] = ["Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"];
/** Route types by number (RFC 7432 §7, RFC 9136); anything else is "other". */
const TYPES = ["1", "2", "3", "4", "5", "other"];
const typeLabel = (t: number | "unknown") => (typeof t === "number" && t >= 1 && t <= 5 ? String(t) : "other");
/** Event-loop delay buckets (seconds). */
const DELAY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];
/** Slots or RIB destinations counted per event-loop turn. */
const SLICE = 50_000;

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels?: Labels;
  metricName?: string;
}
type MetricType = "gauge" | "counter" | "histogram";

export interface MetricsDeps {
  version: string;
  state: DaemonState;
  views: Views;
  history: History;
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** The registry of the daemon's metrics; `stop()` ends the event-loop monitor. */
export function daemonMetrics(d: MetricsDeps): { registry: Registry; stop(): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: P });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();

  const add = (name: string, help: string, type: MetricType, values: () => Value[] | Promise<Value[]>) =>
    registry.registerMetric({
      name: P + name,
      help,
      type,
      aggregator: "sum",
      get: async () => ({ name: P + name, help, type, aggregator: "sum", values: await values() }),
    } as unknown as Parameters<Registry["registerMetric"]>[0]);

  const perPeer = (f: (n: ReturnType<Views["neighbors"]>[number]) => Value[]) => () => d.views.neighbors().flatMap(f);

  // ---- per peer ----
  add(
    "bgp_peer_up",
    "1 when the session with the peer is Established",
    "gauge",
    perPeer((n) => [{ labels: { peer: n.address }, value: n.state === "Established" ? 1 : 0 }]),
  );
  add(
    "bgp_peer_state",
    "RFC 4271 §8 state of the session: 1 for the current state",
    "gauge",
    perPeer((n) => STATES.map((s) => ({ labels: { peer: n.address, state: s }, value: n.state === s ? 1 : 0 }))),
  );
  add(
    "bgp_peer_established_timestamp_seconds",
    "When the session became Established (Unix time); 0 when it is not",
    "gauge",
    perPeer((n) => [
      { labels: { peer: n.address }, value: n.uptimeMs === null ? 0 : (d.state.now() - n.uptimeMs) / 1000 },
    ]),
  );
  add(
    "bgp_peer_transitions_total",
    "State changes of the session",
    "counter",
    perPeer((n) => [{ labels: { peer: n.address }, value: d.history.transitionCount(n.address) }]),
  );
  add(
    "bgp_peer_flaps_total",
    "Established sessions that went down",
    "counter",
    perPeer((n) => [{ labels: { peer: n.address }, value: n.counters.flaps }]),
  );
  const messages = (dir: "In" | "Out") =>
    perPeer((n) => {
      const c = n.counters;
      const update = c[`updates${dir}`],
        keepalive = c[`keepalives${dir}`],
        notification = c[`notifications${dir}`];
      const refresh = c[`routeRefresh${dir}`];
      const total = c[`messages${dir}`];
      const by: Labels = {
        open: total - update - keepalive - notification - refresh,
        update,
        keepalive,
        notification,
        route_refresh: refresh,
      };
      return Object.entries(by).map(([type, value]) => ({ labels: { peer: n.address, type }, value: Number(value) }));
    });
  add("bgp_messages_received_total", "BGP messages received from the peer, by type", "counter", messages("In"));
  add("bgp_messages_sent_total", "BGP messages sent to the peer, by type", "counter", messages("Out"));
  add(
    "bgp_notifications_total",
    "NOTIFICATIONs sent and received, by code and subcode (RFC 4271 §4.5)",
    "counter",
    () =>
      d.history.peerAddresses().flatMap((peer) =>
        d.history.notifications(peer).map((x) => ({
          labels: { peer, direction: x.direction, code: x.code, subcode: x.subcode },
          value: x.count,
        })),
      ),
  );
  add("bgp_routes_received", "Paths held from the peer, by EVPN route type", "gauge", () =>
    d.views.neighbors().flatMap((n) => {
      const by = new Map(TYPES.map((t) => [t, 0]));
      for (const p of d.state.rib().adjIn(n.address))
        by.set(typeLabel(p.route.routeType), by.get(typeLabel(p.route.routeType))! + 1);
      return [...by].map(([route_type, value]) => ({ labels: { peer: n.address, route_type }, value }));
    }),
  );
  add("bgp_routes_advertised", "Routes advertised to the peer (its Adj-RIB-Out), by EVPN route type", "gauge", () => {
    const by = new Map(TYPES.map((t) => [t, 0]));
    for (const r of d.state.controller().planned())
      by.set(typeLabel(r.route.routeType), by.get(typeLabel(r.route.routeType))! + 1);
    by.set("2", by.get("2")! + (d.state.controller().learner?.announcedRoutes() ?? 0));
    return d.views.neighbors().flatMap((n) =>
      [...by].map(([route_type, value]) => ({
        labels: { peer: n.address, route_type },
        value: n.state === "Established" ? value : 0,
      })),
    );
  });

  // ---- per service ----
  add("vteps", "VTEPs of each service by origin (static, discovered, evpn)", "gauge", () =>
    d.views.services().flatMap((s) => {
      const static_ = s.staticVteps.filter((v) => v.source === "configured").length;
      return [
        { labels: { service: s.name, origin: "static" }, value: static_ },
        { labels: { service: s.name, origin: "discovered" }, value: s.staticVteps.length - static_ },
        { labels: { service: s.name, origin: "evpn" }, value: s.evpnVteps.length },
      ];
    }),
  );
  add(
    "macs",
    "MACs of each service by source (static: configured, learned: ARP/ND, evpn: the fabric's routes)",
    "gauge",
    async () => {
      const svcs = d.state.config().services;
      const learned = new Map<number, number>();
      const learner = d.state.controller().learner;
      const none: never[] = [];
      const count = (vni: number, _vtep: string, configured: boolean) => {
        if (!configured) learned.set(vni, (learned.get(vni) ?? 0) + 1);
        return false;
      };
      if (learner) for (let from = 0; from !== -1; await nextTurn()) from = learner.scan(from, SLICE, none, count);
      const evpn = new Map<string, number>();
      const rts = new Map(svcs.flatMap((s) => s.routeTargets.map((rt) => [rt, s.name] as const)));
      let i = 0;
      for (const dst of d.state.rib().locRib()) {
        const p = dst.best;
        if (p.source !== "local" && p.route.routeType === 2 && p.route.ip === undefined)
          for (const c of p.attrs.extCommunities)
            if (c.kind === "route-target" && rts.has(c.value)) {
              evpn.set(rts.get(c.value)!, (evpn.get(rts.get(c.value)!) ?? 0) + 1);
              break;
            }
        if (++i % SLICE === 0) await nextTurn();
      }
      return svcs.flatMap((s) => [
        {
          labels: { service: s.name, source: "static" },
          value: new Set(s.staticVteps.flatMap((v) => v.macs.map((m) => m.mac))).size,
        },
        { labels: { service: s.name, source: "learned" }, value: learned.get(s.vni) ?? 0 },
        { labels: { service: s.name, source: "evpn" }, value: evpn.get(s.name) ?? 0 },
      ]);
    },
  );
  const perVni =
    (
      f: (v: { moves: number; duplicates: number; limits: Record<string, number> }) => Value[],
      labels: (v: Value) => Labels = (v) => v.labels ?? {},
    ) =>
    () =>
      d.state.config().services.flatMap((s) => {
        const v = d.history.perVni.get(s.vni) ?? { moves: 0, duplicates: 0, limits: {} };
        return f(v).map((x) => ({ value: x.value, labels: { service: s.name, ...labels(x) } }));
      });
  add(
    "mac_moves_total",
    "MAC moves (RFC 7432 §15.1) learned in each service",
    "counter",
    perVni((v) => [{ value: v.moves }]),
  );
  add(
    "mac_duplicates_total",
    "MACs found duplicate (RFC 7432 §15.1) in each service",
    "counter",
    perVni((v) => [{ value: v.duplicates }]),
  );
  add(
    "learning_limit_hits_total",
    "Bindings refused by a limit in each service, by limit",
    "counter",
    perVni((v) => ["vtep", "vni", "rate", "ips"].map((limit) => ({ value: v.limits[limit] ?? 0, labels: { limit } }))),
  );
  add("learning_skipped_total", "Frames that taught nothing, by reason", "counter", () => {
    const l = d.views.counters().learning;
    if (l === null) return [];
    const by: Record<string, number> = {
      unknown_vni: l.unknownVni,
      evpn_vtep: l.evpnVtep,
      unknown_vtep: l.unknownVtep,
      no_binding: l.noBinding,
      static_mac: l.staticMac,
      sticky_blocked: l.stickyBlocked,
      frozen: l.frozenDropped,
    };
    return Object.entries(by).map(([reason, value]) => ({ labels: { reason }, value }));
  });
  add("learning_frames_total", "ARP/ND frames given to the learning engine", "counter", () => [
    { value: d.views.counters().learning?.frames ?? 0 },
  ]);

  // ---- process ----
  add("build_info", "Version of evpn-proxy and of Node.js", "gauge", () => [
    { labels: { version: d.version, node: process.version }, value: 1 },
  ]);
  add("config_reloads_total", "Configuration reloads by result", "counter", () =>
    (["applied", "rejected", "failed"] as const).map((result) => ({
      labels: { result },
      value: d.history.reloads[result],
    })),
  );
  add(
    "event_loop_delay_seconds",
    "Event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) since the start; buckets from its percentiles",
    "histogram",
    () => {
      const n = delay.count;
      const pct = [...delay.percentiles].map(([p, ns]) => [p, ns / 1e9] as const);
      const values: Value[] = DELAY_BUCKETS.map((le) => {
        let below = 0;
        for (const [p, v] of pct) if (v <= le) below = p;
        return {
          metricName: `${P}event_loop_delay_seconds_bucket`,
          labels: { le },
          value: Math.round((below / 100) * n),
        };
      });
      values.push(
        { metricName: `${P}event_loop_delay_seconds_bucket`, labels: { le: "+Inf" }, value: n },
        {
          metricName: `${P}event_loop_delay_seconds_sum`,
          value: n * (Number.isNaN(delay.mean) ? 0 : delay.mean / 1e9),
        },
        { metricName: `${P}event_loop_delay_seconds_count`, value: n },
      );
      return values;
    },
  );
  return { registry, stop: () => delay.disable() };
}
