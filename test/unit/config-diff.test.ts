// What a reload changes: config/diff.ts on configurations parsed through the schema.
import assert from "node:assert/strict";
import { test } from "node:test";
import { diffConfig } from "../../src/config/diff.js";
import { parseConfig } from "../../src/config/load.js";
import type { ProxyConfig } from "../../src/config/model.js";

function cfg(over: { routerId?: string; neighbors?: string; services?: string; learning?: string } = {}): ProxyConfig {
  const r = parseConfig(
    `router-id: ${over.routerId ?? "192.0.2.4"}
local-as: 65000
neighbors:
${over.neighbors ?? "  - address: 192.0.2.254\n    peer-as: 65000\n  - address: 192.0.2.253\n    peer-as: 65000"}
services:
${over.services ?? "  - name: vni10\n    evi: 10\n    vni: 10\n    static-vteps:\n      - address: 192.0.2.1"}
${over.learning ?? ""}`,
    "diff.yaml",
  );
  assert.ok(r.ok, JSON.stringify(r));
  return r.config;
}

test("an identical configuration changes nothing", () => {
  assert.deepEqual(diffConfig(cfg(), cfg()), {
    global: false,
    neighbors: { added: [], removed: [], changed: [] },
    services: { added: [], removed: [], changed: [] },
    learning: false,
    learningSources: false,
    management: false,
    state: false,
  });
});

test("a management change is reported", () => {
  const d = diffConfig(cfg(), cfg({ learning: "management:\n  http: true" }));
  assert.equal(d.management, true);
  assert.equal(d.global, false);
});

test("router-id, AS, listen or graceful-restart concern every session", () => {
  const d = diffConfig(cfg(), cfg({ routerId: "192.0.2.5" }));
  assert.equal(d.global, true);
});

test("neighbours added, removed and changed, by address", () => {
  const d = diffConfig(
    cfg(),
    cfg({
      neighbors:
        "  - address: 192.0.2.254\n    peer-as: 65000\n    hold-time: 30\n  - address: 192.0.2.252\n    peer-as: 65000",
    }),
  );
  assert.equal(d.global, false);
  assert.deepEqual(
    d.neighbors.added.map((n) => n.address),
    ["192.0.2.252"],
  );
  assert.deepEqual(
    d.neighbors.removed.map((n) => n.address),
    ["192.0.2.253"],
  );
  assert.deepEqual(
    d.neighbors.changed.map((n) => [n.address, n.holdTime]),
    [["192.0.2.254", 30]],
  );
});

test("services by name; learning settings and learning sources apart", () => {
  const two = "  - name: vni10\n    evi: 10\n    vni: 10\n  - name: vni20\n    evi: 20\n    vni: 20";
  const d = diffConfig(cfg(), cfg({ services: two }));
  assert.deepEqual(d.services, { added: ["vni20"], removed: [], changed: ["vni10"] });
  assert.equal(d.learning, false);
  const ageing = diffConfig(cfg(), cfg({ learning: "learning:\n  mac-ageing-seconds: 60" }));
  assert.deepEqual([ageing.learning, ageing.learningSources], [true, false]);
  const listen = diffConfig(cfg(), cfg({ learning: "learning:\n  vxlan-listen: 192.0.2.4" }));
  assert.deepEqual([listen.learning, listen.learningSources], [true, true]);
  const state = diffConfig(cfg(), cfg({ learning: "state-save-seconds: 60" }));
  assert.deepEqual([state.state, state.learning, state.global], [true, false, false]);
});

test("a service switched to replication by the proxy reopens the sources (the senders and the datagram hook)", () => {
  const learning = "learning:\n  vxlan-listen: 192.0.2.4";
  const svc = (extra: string) =>
    `  - name: vni10\n    evi: 10\n    vni: 10\n${extra}    static-vteps:\n      - address: 192.0.2.1`;
  const ingress = cfg({ services: svc(""), learning });
  const proxy = cfg({ services: svc("    replication: proxy\n"), learning });
  const fromProxy = cfg({ services: svc("    replication: proxy\n    replication-source: proxy\n"), learning });
  assert.equal(diffConfig(ingress, proxy).learningSources, true);
  assert.equal(diffConfig(proxy, fromProxy).learningSources, true, "the raw sender is no longer needed");
  assert.equal(diffConfig(proxy, proxy).learningSources, false);
});
