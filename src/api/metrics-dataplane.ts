// The data plane's metrics: replication by the proxy (copies, drops by reason, election state),
// the VXLAN senders, and the RFC 9161 proxy-ARP/ND table. Read at each scrape from the engine's
// counters directly: views.counters() and views.services() count the RIB and build every service.

import type { MetricsDeps, MetricType, Value } from "./metrics.js";

type Add = (name: string, help: string, type: MetricType, values: () => Value[]) => void;

/** One value per key of `r`, labelled `label` (reasons as the API spells them). */
const by = (r: Partial<Record<string, number>>, label = "reason"): Value[] =>
  Object.entries(r).flatMap(([k, value]) => (value === undefined ? [] : [{ labels: { [label]: k }, value }]));

export function dataplaneMetrics(add: Add, d: MetricsDeps): void {
  const replication = () => d.state.replication();
  const replicating = () => d.state.config().services.filter((s) => s.replication === "proxy");
  /** Per service with the proxy-ARP/ND function: its name and entry counts. */
  const arpNdCounts = () =>
    d.state.config().services.flatMap((s) => {
      const c = s.arpNdProxy ? replication().arpNd?.table.counts(s.vni) : undefined;
      return c ? [{ service: s.name, c }] : [];
    });
  const arpNd = () => {
    const a = replication().arpNd;
    return a ? { table: a.table.counters(), responder: a.counters } : null;
  };

  add(
    "replication_forwarding",
    "1 when this proxy replicates the service now (elected, past the RFC 7432 §8.5 wait)",
    "gauge",
    () =>
      replicating().map((s) => ({
        labels: { service: s.name },
        value: replication().flood.forwards(s.vni, d.state.now()) ? 1 : 0,
      })),
  );
  add("replication_datagrams_total", "VXLAN datagrams given to the replication engine", "counter", () => [
    { value: replication().counters.datagrams },
  ]);
  add("replication_frames_total", "Frames replicated, by kind (flooded: BUM and unknown unicast)", "counter", () => {
    const r = replication().counters;
    return [
      { labels: { kind: "flooded" }, value: r.flooded },
      { labels: { kind: "unicast" }, value: r.unicast },
    ];
  });
  add("replication_copies_total", "Copies queued to the senders", "counter", () => [
    { value: replication().counters.copies },
  ]);
  add("replication_dropped_total", "Datagrams not replicated, by reason", "counter", () =>
    by(replication().counters.dropped),
  );
  add("sender_datagrams_total", "Datagrams the kernel accepted from the VXLAN senders, by mode", "counter", () =>
    d.state.senders().map((s) => ({ labels: { mode: s.mode }, value: s.counters.datagrams })),
  );
  add("sender_dropped_total", "Datagrams the VXLAN senders could not send, by mode and reason", "counter", () =>
    d.state
      .senders()
      .flatMap((s) =>
        Object.entries(s.counters.errors).map(([reason, value]) => ({ labels: { mode: s.mode, reason }, value })),
      ),
  );

  add("arpnd_entries", "Entries of the proxy-ARP/ND table (RFC 9161) by service and source", "gauge", () =>
    arpNdCounts().flatMap(({ service, c }) =>
      (["static", "evpn", "dynamic"] as const).map((source) => ({ labels: { service, source }, value: c[source] })),
    ),
  );
  add("arpnd_duplicate_ips", "IPs not answered as duplicates (RFC 9161 §3.7) by service", "gauge", () =>
    arpNdCounts().map(({ service, c }) => ({ labels: { service }, value: c.duplicate })),
  );
  add(
    "arpnd_requests_total",
    "ARP requests and neighbour solicitations seen by the proxy-ARP/ND function",
    "counter",
    () => {
      const a = arpNd();
      return a ? [{ value: a.table.requests }] : [];
    },
  );
  add("arpnd_sent_total", "What the proxy-ARP/ND function sent, by kind", "counter", () => {
    const a = arpNd();
    if (!a) return [];
    const r = a.responder;
    return [
      { labels: { kind: "answer" }, value: r.answered },
      { labels: { kind: "gratuitous" }, value: r.gratuitousSent },
      { labels: { kind: "refresh" }, value: r.refreshSent },
    ];
  });
  add("arpnd_flooded_total", "Requests and announcements replicated instead of answered, by reason", "counter", () => {
    const a = arpNd()?.table;
    if (!a) return [];
    return by({
      unknown: a.floodUnknown,
      duplicate: a.floodDuplicate,
      self: a.floodSelf,
      gratuitous: a.floodGratuitous,
    });
  });
  add("arpnd_dropped_total", "Requests and announcements neither answered nor replicated, by reason", "counter", () => {
    const a = arpNd();
    return a ? by(a.responder.dropped) : [];
  });
  add("arpnd_malformed_total", "Malformed ARP/ND frames dropped, by decoder reason", "counter", () => {
    const a = arpNd();
    return a ? by(a.responder.malformed) : [];
  });
  add("arpnd_table_events_total", "Changes of the proxy-ARP/ND table, by event", "counter", () => {
    const a = arpNd()?.table;
    if (!a) return [];
    return by(
      {
        learned: a.learned,
        moved: a.moves,
        aged: a.aged,
        refused_static: a.refusedStatic,
        refused_immutable: a.refusedImmutable,
        refused_sequence: a.refusedSequence,
        refused_duplicate: a.refusedDuplicate,
        duplicate: a.duplicates,
        released: a.released,
        limit: a.limit,
      },
      "event",
    );
  });
}
