// examples/grafana-dashboard.json asks only for metrics the daemon exports: every evpn_proxy_*
// name in its queries is registered by daemonMetrics (a histogram's _bucket/_sum/_count included).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { daemonMetrics } from "../../src/api/metrics.js";
import { History } from "../../src/mgmt/history.js";
import { EventBus } from "../../src/mgmt/events.js";
import type { DaemonState, Views } from "../../src/mgmt/views.js";

test("every metric the Grafana dashboard queries is exported", () => {
  const dashboard = readFileSync(new URL("../../../examples/grafana-dashboard.json", import.meta.url), "utf8");
  const asked = new Set([...dashboard.matchAll(/evpn_proxy_[a-z0-9_]+/g)].map((m) => m[0]));
  const m = daemonMetrics({
    version: "test",
    state: {} as DaemonState,
    views: {} as Views,
    history: new History(new EventBus(), () => 0),
  });
  try {
    const names = new Set<string>();
    for (const x of m.registry.getMetricsAsArray()) {
      const { name, type } = x as unknown as { name: string; type: string };
      names.add(name);
      if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    }
    assert.ok(asked.size >= 15, `${asked.size} metrics asked`);
    assert.deepEqual(
      [...asked].filter((n) => !names.has(n)),
      [],
    );
  } finally {
    m.stop();
  }
});
