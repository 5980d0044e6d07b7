// services[].replication, replication-source and arp-nd-proxy: defaults, normalization, checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatConfigError, parseConfig } from "../../src/config/load.js";
import type { ProxyConfig } from "../../src/config/model.js";

function yaml(service: string, learning = "learning:\n  vxlan-listen: 192.0.2.4\n"): string {
  return `router-id: 192.0.2.4
local-as: 65000
neighbors:
  - address: 192.0.2.10
    peer-as: 65000
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
      - address: 192.0.2.1
        macs: ["02:00:00:00:01:01 198.51.100.1", "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:07"]
${service}
${learning}`;
}

function ok(text: string): ProxyConfig {
  const r = parseConfig(text, "t.yaml");
  if (!r.ok) assert.fail(r.errors.map(formatConfigError).join("\n"));
  return r.config;
}

function errors(text: string): string[] {
  const r = parseConfig(text, "t.yaml");
  assert.equal(r.ok, false, "expected errors");
  return r.ok ? [] : r.errors.map(formatConfigError);
}

const DEFAULTS = {
  static: [],
  floodUnknown: true,
  floodGratuitous: true,
  duplicateMaxMoves: 5,
  duplicateWindowSeconds: 180,
  duplicateHoldSeconds: 540,
  requestRate: 10,
  requestBurst: 100,
};

describe("replication settings", () => {
  test("absent: ingress replication from the VTEP's address, no proxy-ARP/ND", () => {
    const s = ok(yaml("")).services[0]!;
    assert.deepEqual([s.replication, s.replicationSource, s.arpNdProxy], ["ingress", "vtep", null]);
  });

  test("replication: proxy turns the proxy-ARP/ND function on with its defaults (RFC 9161 §3.7 timers)", () => {
    const s = ok(yaml("    replication: proxy")).services[0]!;
    assert.deepEqual([s.replication, s.replicationSource], ["proxy", "vtep"]);
    assert.deepEqual(s.arpNdProxy, DEFAULTS);
  });

  test("arp-nd-proxy: false, true and a mapping", () => {
    assert.equal(ok(yaml("    replication: proxy\n    arp-nd-proxy: false")).services[0]!.arpNdProxy, null);
    assert.deepEqual(ok(yaml("    replication: proxy\n    arp-nd-proxy: true")).services[0]!.arpNdProxy, DEFAULTS);
    const s = ok(
      yaml(
        [
          "    replication: proxy",
          "    replication-source: proxy",
          "    arp-nd-proxy:",
          '      static: ["198.51.100.10   02:00:00:00:00:0A", "2001:DB8::0:10 02-00-00-00-00-0b"]',
          "      flood-unknown: false",
          "      flood-gratuitous: false",
          "      duplicate-max-moves: 3",
          "      duplicate-window-seconds: 60",
          "      duplicate-hold-seconds: 600",
          "      max-requests-per-source: 3",
          "      request-burst: 20",
        ].join("\n"),
      ),
    ).services[0]!;
    assert.equal(s.replicationSource, "proxy");
    assert.deepEqual(
      s.staticVteps[0]!.macs.map((m) => [m.mac, m.ips]),
      [
        ["02:00:00:00:01:01", ["198.51.100.1"]],
        ["02:00:00:00:00:0a", ["198.51.100.10"]],
        ["02:00:00:00:00:0b", ["2001:db8::10"]],
        ["02:00:00:00:00:07", []],
      ],
      "static entries become configured bindings of their MAC",
    );
    assert.deepEqual(s.arpNdProxy, {
      static: [
        { ip: "198.51.100.10", mac: "02:00:00:00:00:0a" },
        { ip: "2001:db8::10", mac: "02:00:00:00:00:0b" },
      ],
      floodUnknown: false,
      floodGratuitous: false,
      duplicateMaxMoves: 3,
      duplicateWindowSeconds: 60,
      duplicateHoldSeconds: 600,
      requestRate: 3,
      requestBurst: 20,
    });
  });

  test("bad values name the key and the reason", () => {
    assert.deepEqual(errors(yaml("    replication: head-end")), [
      't.yaml: services[0].replication: expected "ingress" or "proxy", got "head-end"',
    ]);
    assert.deepEqual(errors(yaml("    replication: proxy\n    replication-source: router")), [
      't.yaml: services[0].replication-source: expected "vtep" or "proxy", got "router"',
    ]);
    assert.deepEqual(
      errors(
        yaml(
          '    replication: proxy\n    arp-nd-proxy:\n      static: ["198.51.100.10", "0.0.0.0 02:00:00:00:00:01", "198.51.100.11 01:00:5e:00:00:01"]',
        ),
      ),
      [
        't.yaml: services[0].arp-nd-proxy.static[0]: expected "IP MAC" (e.g. "198.51.100.10 02:00:00:00:00:10"), got "198.51.100.10"',
        't.yaml: services[0].arp-nd-proxy.static[1]: expected a unicast address, got "0.0.0.0" (the unspecified address) before the MAC',
        't.yaml: services[0].arp-nd-proxy.static[2]: expected a unicast MAC address, got "01:00:5e:00:00:01" (the I/G bit of the first octet is set: multicast or broadcast)',
      ],
    );
    assert.deepEqual(errors(yaml("    replication: proxy\n    arp-nd-proxy:\n      flood-unknwn: false")), [
      't.yaml: services[0].arp-nd-proxy.flood-unknwn: unknown key; did you mean "flood-unknown"?',
    ]);
  });

  test("checks across fields", () => {
    assert.deepEqual(errors(yaml("    replication: proxy", "")), [
      "t.yaml: services[0].replication: replication: proxy needs learning.vxlan-listen, the address static VTEPs list as their only flood entry",
    ]);
    assert.deepEqual(errors(yaml("    arp-nd-proxy: {}")), [
      "t.yaml: services[0].arp-nd-proxy: the proxy-ARP/ND function needs replication: proxy (with ingress replication every request reaches every host, and the proxy's answers would duplicate theirs)",
    ]);
    assert.equal(ok(yaml("    arp-nd-proxy: false")).services[0]!.arpNdProxy, null);
    assert.deepEqual(
      errors(
        yaml(
          '    replication: proxy\n    arp-nd-proxy:\n      static: ["198.51.100.1 02:00:00:00:09:09", "198.51.100.7 02:00:00:00:00:07", "198.51.100.7 02:00:00:00:00:08"]',
        ),
      ),
      [
        "t.yaml: services[0].arp-nd-proxy.static[0]: 198.51.100.1 is bound to MAC 02:00:00:00:01:01 under static-vteps; an address has one MAC",
        "t.yaml: services[0].arp-nd-proxy.static[2]: duplicate entry for 198.51.100.7 (also services[0].arp-nd-proxy.static[1])",
        "t.yaml: services[0].arp-nd-proxy.static[2]: MAC 02:00:00:00:00:08 is not configured under any static VTEP of the service; a static entry is announced where its MAC is (add it to that VTEP's macs)",
      ],
    );
    const self = yaml("    replication: proxy").replace("vxlan-listen: 192.0.2.4", "vxlan-listen: 192.0.2.1");
    assert.deepEqual(errors(self), [
      "t.yaml: services[0].static-vteps[0].address: 192.0.2.1 is learning.vxlan-listen, the proxy's own VXLAN address, not a static VTEP",
    ]);
  });
});
