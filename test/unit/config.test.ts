// The configuration file: the documented minimum, every kind of bad file of acceptance 6 (each
// error naming the file, the key path and the reason), and the committed JSON Schema being current.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { checkCommand } from "../../src/cli/check.js";
import { CONFIG_SCHEMA_FILE, configJsonSchema } from "../../src/config/json-schema.js";
import { formatConfigError, loadConfig, parseConfig } from "../../src/config/load.js";
import type { ProxyConfig } from "../../src/config/model.js";
import { INGRESS } from "../helpers/service.js";

const ROOT = new URL("../../../", import.meta.url);
const EXAMPLE = new URL("examples/evpn-proxy.yaml", ROOT);

/** The documented minimum of issue 4, which must work exactly as written. */
const DOCUMENTED_MINIMUM = `router-id: 192.0.2.4        # BGP identifier; the proxy's own address
local-as: 65000
neighbors:
  - address: 192.0.2.10
    peer-as: 65000
    # optional: local-address, port, passive, hold-time, keepalive, description, graceful-restart
services:
  - name: vni10
    evi: 10
    vni: 10
    # optional: route-targets: ["65000:10"]   (default: <local-as>:<evi>)
    # optional: replication: proxy (the proxy replicates BUM and answers ARP/ND), replication-source, arp-nd-proxy
    static-vteps:
      - address: 192.0.2.1
      - address: 192.0.2.2
        macs: ["02:00:00:00:01:02"]          # "MAC [IP ...]": a MAC route, a MAC/IP route per IP
learning:                                    # data-plane learning from ARP/ND inside VXLAN
  vxlan-listen: 192.0.2.4
  include-ip: true
`;

/** `learning` with every default (what an empty or absent section yields, but for vxlan-listen). */
const LEARNING_DEFAULTS = {
  includeIp: true,
  captureInterfaces: [],
  anyFrame: false,
  autoDiscover: false,
  allowedPrefixes: [],
  ageingSeconds: 300,
  maxMoves: 5,
  moveWindowSeconds: 180,
  freezeSeconds: 180,
  maxMacsPerVtep: 10000,
  maxMacsPerVni: 100000,
  maxLearnPerVtepPerSecond: 100,
};

const MINIMUM_CONFIG: ProxyConfig = {
  routerId: "192.0.2.4",
  localAs: 65000,
  listen: { address: "192.0.2.4", port: 179 },
  gracefulRestart: { restartTime: 120 },
  neighbors: [
    {
      address: "192.0.2.10",
      peerAs: 65000,
      port: 179,
      passive: false,
      holdTime: 90,
      gracefulRestart: true,
      connectRetry: 10,
      damping: { idleHoldTime: 2, maxIdleHoldTime: 120 },
    },
  ],
  services: [
    {
      name: "vni10",
      evi: 10,
      vni: 10,
      routeTargets: ["65000:10"],
      ...INGRESS,
      staticVteps: [
        { address: "192.0.2.1", macs: [] },
        { address: "192.0.2.2", macs: [{ mac: "02:00:00:00:01:02", ips: [] }] },
      ],
    },
  ],
  learning: { vxlanListen: "192.0.2.4", ...LEARNING_DEFAULTS },
  management: { socket: "/run/evpn-proxy/api.sock", socketMode: 0o660, http: null, tokenFile: null },
  state: { directory: "/var/lib/evpn-proxy", saveSeconds: 5 },
};

function parseOk(text: string): ProxyConfig {
  const r = parseConfig(text, "test.yaml");
  if (!r.ok) assert.fail(r.errors.map(formatConfigError).join("\n"));
  return r.config;
}

function errorsOfText(text: string): string[] {
  const r = parseConfig(text, "bad.yaml");
  assert.ok(!r.ok, "expected the configuration to be rejected");
  return r.errors.map(formatConfigError);
}

// The documents edited by the cases are free-form YAML data.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

/** The documented minimum, edited, written back as YAML and loaded: the formatted errors. */
function errorsOf(edit: (d: Doc) => void): string[] {
  const d: Doc = parse(DOCUMENTED_MINIMUM);
  edit(d);
  return errorsOfText(stringify(d));
}

function okWith(edit: (d: Doc) => void): ProxyConfig {
  const d: Doc = parse(DOCUMENTED_MINIMUM);
  edit(d);
  return parseOk(stringify(d));
}

describe("the documented minimum", () => {
  test("examples/evpn-proxy.yaml is the documented minimum, exactly as written", () => {
    assert.equal(readFileSync(EXAMPLE, "utf8"), DOCUMENTED_MINIMUM);
  });

  test("loads to the normalized configuration with every default applied", () => {
    const r = loadConfig(EXAMPLE.pathname);
    if (!r.ok) assert.fail(r.errors.map(formatConfigError).join("\n"));
    assert.deepEqual(r.config, MINIMUM_CONFIG);
  });

  test("check prints a summary and returns 0", () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = checkCommand(EXAMPLE.pathname, sink(out), sink(err));
    assert.equal(code, 0);
    assert.deepEqual(err, []);
    assert.deepEqual(out, [`${EXAMPLE.pathname}: OK: 1 neighbor, 1 service, 2 static VTEPs, 1 static MAC\n`]);
  });
});

function sink(lines: string[]): NodeJS.WritableStream {
  return { write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WritableStream;
}

describe("every key, normalized", () => {
  test("optional keys, canonical addresses, MACs and route targets", () => {
    const c = parseOk(`
router-id: 192.0.2.4
local-as: 65000
listen: { address: "2001:DB8:0:0::4", port: 1179 }
graceful-restart: { restart-time: 300 }
neighbors:
  - address: 2001:db8:0:0:0:0:0:10
    peer-as: 65001
    local-address: 2001:db8::4
    port: 1790
    passive: true
    hold-time: 30
    keepalive: 10
    description: route reflector
    graceful-restart: false
    connect-retry: 5
    damping: { idle-hold-time: 1, max-idle-hold-time: 30 }
  - address: 192.0.2.11
    peer-as: 4200000000
    hold-time: 0
    damping: false
services:
  - name: blue.10
    evi: 20
    vni: 16777215
    route-targets: ["65000:20", "192.0.2.4:20", "4200000000:20", "65000L:21", " 65001:1 "]
    static-vteps:
      - address: 2001:db8::1
        macs:
          - 02:AA:BB:CC:DD:EE
          - 02-aa-bb-cc-dd-ee 10.0.0.1
          - "02:aa:bb:cc:dd:ee   2001:DB8::a"
          - 02:aa:bb:cc:dd:ef 10.0.0.2 2001:DB8::B 10.0.0.3
      - address: 192.0.2.1
        macs: []
  - name: empty
    evi: 65535
    vni: 1
learning: {}
state-directory: /srv/evpn-proxy/state
state-save-seconds: 30
`);
    assert.deepEqual(c, {
      routerId: "192.0.2.4",
      localAs: 65000,
      listen: { address: "2001:db8::4", port: 1179 },
      gracefulRestart: { restartTime: 300 },
      neighbors: [
        {
          address: "2001:db8::10",
          peerAs: 65001,
          localAddress: "2001:db8::4",
          port: 1790,
          passive: true,
          holdTime: 30,
          keepalive: 10,
          description: "route reflector",
          gracefulRestart: false,
          connectRetry: 5,
          damping: { idleHoldTime: 1, maxIdleHoldTime: 30 },
        },
        {
          address: "192.0.2.11",
          peerAs: 4200000000,
          port: 179,
          passive: false,
          holdTime: 0,
          gracefulRestart: true,
          connectRetry: 10,
          damping: null,
        },
      ],
      services: [
        {
          name: "blue.10",
          evi: 20,
          vni: 16777215,
          routeTargets: ["65000:20", "192.0.2.4:20", "4200000000:20", "65000L:21", "65001:1"],
          ...INGRESS,
          staticVteps: [
            {
              address: "2001:db8::1",
              macs: [
                { mac: "02:aa:bb:cc:dd:ee", ips: [] },
                { mac: "02:aa:bb:cc:dd:ee", ips: ["10.0.0.1"] },
                { mac: "02:aa:bb:cc:dd:ee", ips: ["2001:db8::a"] },
                { mac: "02:aa:bb:cc:dd:ef", ips: ["10.0.0.2", "2001:db8::b", "10.0.0.3"] },
              ],
            },
            { address: "192.0.2.1", macs: [] },
          ],
        },
        { name: "empty", evi: 65535, vni: 1, routeTargets: ["65000:65535"], ...INGRESS, staticVteps: [] },
      ],
      learning: LEARNING_DEFAULTS,
      management: MINIMUM_CONFIG.management,
      state: { directory: "/srv/evpn-proxy/state", saveSeconds: 30 },
    });
  });

  test("state-directory: false keeps no state", () => {
    assert.equal(okWith((d) => (d["state-directory"] = false)).state, null);
  });

  test("listen and graceful-restart: false disables, true and {} take the defaults", () => {
    const off = okWith((d) => {
      d.listen = false;
      d["graceful-restart"] = false;
      delete d.learning;
    });
    assert.equal(off.listen, null);
    assert.equal(off.gracefulRestart, null);
    assert.deepEqual(off.learning, LEARNING_DEFAULTS);
    const on = okWith((d) => {
      d.listen = true;
      d["graceful-restart"] = {};
    });
    assert.deepEqual(on.listen, { address: "192.0.2.4", port: 179 });
    assert.deepEqual(on.gracefulRestart, { restartTime: 120 });
    const port = okWith((d) => {
      d.listen = { port: 1179 };
    });
    assert.deepEqual(port.listen, { address: "192.0.2.4", port: 1179 });
  });

  test("the default route target is <local-as>:<evi>, 4-octet-AS form above AS 65535", () => {
    const c = okWith((d) => {
      d["local-as"] = 4200000000;
      d.neighbors[0]["peer-as"] = 4200000000;
    });
    assert.deepEqual(c.services[0]!.routeTargets, ["4200000000:10"]);
  });

  test("the same VTEP in two services, the same MAC in two services, a MAC with two IPs", () => {
    const c = okWith((d) => {
      d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 10.0.0.2", "02:00:00:00:01:02 2001:db8::2"];
      d.services.push({
        name: "vni20",
        evi: 20,
        vni: 20,
        "static-vteps": [{ address: "192.0.2.2", macs: ["02:00:00:00:01:02"] }],
      });
    });
    assert.equal(c.services.length, 2);
  });
});

const F = "bad.yaml";
const EVI_WHY =
  "the EVI is the assigned number of the route distinguisher <vtep>:<evi>: 16 bits in an IPv4-administered RD, RFC 4364 type 1";

type Case = [name: string, edit: (d: Doc) => void, errors: string[]];

const BAD: Case[] = [
  // missing required keys, at the top and nested
  ["no router-id", (d) => delete d["router-id"], [`${F}: router-id: required key is missing`]],
  ["no local-as", (d) => delete d["local-as"], [`${F}: local-as: required key is missing`]],
  ["no neighbors", (d) => delete d.neighbors, [`${F}: neighbors: required key is missing`]],
  ["no services", (d) => delete d.services, [`${F}: services: required key is missing`]],
  [
    "no neighbor address",
    (d) => delete d.neighbors[0].address,
    [`${F}: neighbors[0].address: required key is missing`],
  ],
  ["no peer-as", (d) => delete d.neighbors[0]["peer-as"], [`${F}: neighbors[0].peer-as: required key is missing`]],
  ["no service name", (d) => delete d.services[0].name, [`${F}: services[0].name: required key is missing`]],
  ["no evi", (d) => delete d.services[0].evi, [`${F}: services[0].evi: required key is missing`]],
  ["no vni", (d) => delete d.services[0].vni, [`${F}: services[0].vni: required key is missing`]],
  [
    "no VTEP address",
    (d) => delete d.services[0]["static-vteps"][1].address,
    [`${F}: services[0].static-vteps[1].address: required key is missing`],
  ],
  [
    "an empty value",
    (d) => (d.services[0].vni = null),
    [`${F}: services[0].vni: expected an integer from 1 to 16777215, got an empty value`],
  ],
  // wrong types
  [
    "local-as as a string",
    (d) => (d["local-as"] = "65000"),
    [`${F}: local-as: expected an integer from 1 to 4294967295, got "65000"`],
  ],
  [
    "neighbors as a mapping",
    (d) => (d.neighbors = d.neighbors[0]),
    [`${F}: neighbors: expected a list of at least one neighbor, got a mapping`],
  ],
  [
    "no neighbors listed",
    (d) => (d.neighbors = []),
    [`${F}: neighbors: expected a list of at least one neighbor, got an empty list`],
  ],
  [
    "no services listed",
    (d) => (d.services = []),
    [`${F}: services: expected a list of at least one service, got an empty list`],
  ],
  [
    "a neighbor as a string",
    (d) => (d.neighbors[0] = "192.0.2.10"),
    [`${F}: neighbors[0]: expected a mapping with address and peer-as, got "192.0.2.10"`],
  ],
  [
    "passive: yes",
    (d) => (d.neighbors[0].passive = "yes"),
    [`${F}: neighbors[0].passive: expected true or false, got "yes"`],
  ],
  [
    "hold-time 1.5",
    (d) => (d.neighbors[0]["hold-time"] = 1.5),
    [
      `${F}: neighbors[0].hold-time: expected 0 or an integer from 3 to 65535, got 1.5 (RFC 4271 §4.2: 0 for no KEEPALIVEs, else at least 3 s)`,
    ],
  ],
  [
    "description: 5",
    (d) => (d.neighbors[0].description = 5),
    [`${F}: neighbors[0].description: expected a text, got 5`],
  ],
  [
    "static-vteps as a string",
    (d) => (d.services[0]["static-vteps"] = "192.0.2.1"),
    [`${F}: services[0].static-vteps: expected a list of static VTEPs, got "192.0.2.1"`],
  ],
  [
    "macs as a string",
    (d) => (d.services[0]["static-vteps"][1].macs = "02:00:00:00:01:02"),
    [`${F}: services[0].static-vteps[1].macs: expected a list of MACs, got "02:00:00:00:01:02"`],
  ],
  [
    "a MAC as a number",
    (d) => (d.services[0]["static-vteps"][1].macs = [2]),
    [`${F}: services[0].static-vteps[1].macs[0]: expected a MAC, or "MAC IP ...", got 2`],
  ],
  [
    "route-targets empty",
    (d) => (d.services[0]["route-targets"] = []),
    [`${F}: services[0].route-targets: expected a list of at least one route target, got an empty list`],
  ],
  [
    "listen: 5",
    (d) => (d.listen = 5),
    [`${F}: listen: expected a mapping with address and/or port, true, or false to accept no connections, got 5`],
  ],
  [
    "learning: yes",
    (d) => (d.learning = "yes"),
    [`${F}: learning: expected a mapping of learning settings, got "yes"`],
  ],
  [
    "allowed-vtep-prefixes: prefix length 33",
    (d) => (d.learning["allowed-vtep-prefixes"] = ["192.0.2.0/24", "192.0.2.0/33"]),
    [`${F}: learning.allowed-vtep-prefixes[1]: expected a prefix such as 192.0.2.0/24, got "192.0.2.0/33"`],
  ],
  [
    "mac-ageing-seconds: 0",
    (d) => (d.learning["mac-ageing-seconds"] = 0),
    [`${F}: learning.mac-ageing-seconds: expected an integer from 1 to 86400, got 0`],
  ],
  [
    "include-ip: 1",
    (d) => (d.learning["include-ip"] = 1),
    [`${F}: learning.include-ip: expected true or false, got 1`],
  ],
  [
    "a service name with a space",
    (d) => (d.services[0].name = "vni 10"),
    [`${F}: services[0].name: expected a name of letters, digits, '_', '.' or '-', got "vni 10"`],
  ],
  // malformed addresses
  [
    "router-id 192.0.2.300",
    (d) => (d["router-id"] = "192.0.2.300"),
    [`${F}: router-id: expected an IPv4 address, got "192.0.2.300"`],
  ],
  [
    "router-id IPv6",
    (d) => (d["router-id"] = "2001:db8::4"),
    [`${F}: router-id: expected an IPv4 address, got "2001:db8::4"`],
  ],
  [
    "router-id 0.0.0.0",
    (d) => (d["router-id"] = "0.0.0.0"),
    [`${F}: router-id: expected a unicast address, got "0.0.0.0" (the unspecified address)`],
  ],
  [
    "router-id with a leading zero",
    (d) => (d["router-id"] = "192.0.2.04"),
    [`${F}: router-id: expected an IPv4 address, got "192.0.2.04"`],
  ],
  [
    "a neighbor 2001:db8::g",
    (d) => (d.neighbors[0].address = "2001:db8::g"),
    [`${F}: neighbors[0].address: expected an IPv4 or IPv6 address, got "2001:db8::g"`],
  ],
  [
    "a neighbor as a number",
    (d) => (d.neighbors[0].address = 10),
    [`${F}: neighbors[0].address: expected an IPv4 or IPv6 address, got 10`],
  ],
  [
    "a multicast VTEP",
    (d) => (d.services[0]["static-vteps"][0].address = "239.1.1.1"),
    [`${F}: services[0].static-vteps[0].address: expected a unicast address, got "239.1.1.1" (a multicast address)`],
  ],
  [
    "local-address malformed",
    (d) => (d.neighbors[0]["local-address"] = "192.0.2"),
    [`${F}: neighbors[0].local-address: expected an IPv4 or IPv6 address, got "192.0.2"`],
  ],
  [
    "vxlan-listen malformed",
    (d) => (d.learning["vxlan-listen"] = "localhost"),
    [`${F}: learning.vxlan-listen: expected an IPv4 or IPv6 address, got "localhost"`],
  ],
  // malformed MACs and "MAC IP"
  [
    "a short MAC",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected a MAC address such as "02:00:00:00:01:02", got "02:00:00:00:01"`,
    ],
  ],
  [
    "a MAC with a bad digit",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:0g"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected a MAC address such as "02:00:00:00:01:02", got "02:00:00:00:01:0g"`,
    ],
  ],
  [
    "a multicast MAC",
    (d) => (d.services[0]["static-vteps"][1].macs = ["01:00:5e:00:00:01"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected a unicast MAC address, got "01:00:5e:00:00:01" (the I/G bit of the first octet is set: multicast or broadcast)`,
    ],
  ],
  [
    "the broadcast MAC",
    (d) => (d.services[0]["static-vteps"][1].macs = ["ff:ff:ff:ff:ff:ff"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected a unicast MAC address, got "ff:ff:ff:ff:ff:ff" (the I/G bit of the first octet is set: multicast or broadcast)`,
    ],
  ],
  [
    "the zero MAC",
    (d) => (d.services[0]["static-vteps"][1].macs = ["00:00:00:00:00:00"]),
    [`${F}: services[0].static-vteps[1].macs[0]: expected a unicast MAC address, got the all-zero MAC`],
  ],
  [
    "MAC IP with a bad IP",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 10.0.0.300"]),
    [`${F}: services[0].static-vteps[1].macs[0]: expected an IPv4 or IPv6 address after the MAC, got "10.0.0.300"`],
  ],
  [
    "MAC IP with a multicast IP",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 ff02::1"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected a unicast address after the MAC, got "ff02::1" (a multicast address)`,
    ],
  ],
  [
    "MAC IP and more",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 10.0.0.2 x"]),
    [`${F}: services[0].static-vteps[1].macs[0]: expected an IPv4 or IPv6 address after the MAC, got "x"`],
  ],
  [
    "MAC IP IP with a multicast second IP",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 10.0.0.2 2001:db8::2 224.0.0.1"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected a unicast address after the MAC, got "224.0.0.1" (a multicast address)`,
    ],
  ],
  [
    "an address twice in one entry",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 2001:db8::2 10.0.0.2 2001:DB8:0::2"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: duplicate address 2001:db8::2 in "02:00:00:00:01:02 2001:db8::2 10.0.0.2 2001:DB8:0::2"`,
    ],
  ],
  [
    "an empty MAC entry",
    (d) => (d.services[0]["static-vteps"][1].macs = ["  "]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: expected "MAC" or "MAC IP ..." (e.g. "02:00:00:00:01:02 10.0.0.2 2001:db8::2"), got "  "`,
    ],
  ],
  [
    "a malformed route target",
    (d) => (d.services[0]["route-targets"] = ["65000:10", "target:1"]),
    [
      `${F}: services[0].route-targets[1]: expected a route target "AS:N" (AS ≤ 65535, N ≤ 4294967295), "IPv4:N" or "AS4:N" (N ≤ 65535), e.g. "65000:10", "192.0.2.1:10" or "4200000000:10", got "target:1"`,
    ],
  ],
  [
    "a 4-octet-AS route target with a 32-bit number",
    (d) => (d.services[0]["route-targets"] = ["4200000000:65536"]),
    [
      `${F}: services[0].route-targets[0]: expected a route target "AS:N" (AS ≤ 65535, N ≤ 4294967295), "IPv4:N" or "AS4:N" (N ≤ 65535), e.g. "65000:10", "192.0.2.1:10" or "4200000000:10", got "4200000000:65536"`,
    ],
  ],
  // out of range
  [
    "EVI 0",
    (d) => (d.services[0].evi = 0),
    [`${F}: services[0].evi: expected an integer from 1 to 65535, got 0 (${EVI_WHY})`],
  ],
  [
    "EVI 65536",
    (d) => (d.services[0].evi = 65536),
    [`${F}: services[0].evi: expected an integer from 1 to 65535, got 65536 (${EVI_WHY})`],
  ],
  [
    "VNI 0",
    (d) => (d.services[0].vni = 0),
    [
      `${F}: services[0].vni: expected an integer from 1 to 16777215, got 0 (a VXLAN network identifier has 24 bits, RFC 7348)`,
    ],
  ],
  [
    "VNI 16777216",
    (d) => (d.services[0].vni = 16777216),
    [
      `${F}: services[0].vni: expected an integer from 1 to 16777215, got 16777216 (a VXLAN network identifier has 24 bits, RFC 7348)`,
    ],
  ],
  ["local-as 0", (d) => (d["local-as"] = 0), [`${F}: local-as: expected an integer from 1 to 4294967295, got 0`]],
  [
    "peer-as 4294967296",
    (d) => (d.neighbors[0]["peer-as"] = 4294967296),
    [`${F}: neighbors[0].peer-as: expected an integer from 1 to 4294967295, got 4294967296`],
  ],
  [
    "local-as AS_TRANS",
    (d) => (d["local-as"] = 23456),
    [`${F}: local-as: AS 23456 is AS_TRANS (RFC 6793), a placeholder that cannot be a real AS number`],
  ],
  [
    "port 65536",
    (d) => (d.neighbors[0].port = 65536),
    [`${F}: neighbors[0].port: expected an integer from 1 to 65535, got 65536`],
  ],
  [
    "hold-time 2",
    (d) => (d.neighbors[0]["hold-time"] = 2),
    [
      `${F}: neighbors[0].hold-time: expected 0 or an integer from 3 to 65535, got 2 (RFC 4271 §4.2: 0 for no KEEPALIVEs, else at least 3 s)`,
    ],
  ],
  [
    "keepalive 21846",
    (d) => (d.neighbors[0].keepalive = 21846),
    [`${F}: neighbors[0].keepalive: expected an integer from 1 to 21845, got 21846`],
  ],
  [
    "keepalive not below hold-time",
    (d) => Object.assign(d.neighbors[0], { "hold-time": 9, keepalive: 9 }),
    [`${F}: neighbors[0].keepalive: keepalive 9 must be less than hold-time 9 (RFC 4271 §10 suggests a third)`],
  ],
  [
    "a relative state-directory",
    (d) => (d["state-directory"] = "state"),
    [`${F}: state-directory: expected an absolute directory path, got "state"`],
  ],
  [
    "state-directory: true",
    (d) => (d["state-directory"] = true),
    [`${F}: state-directory: expected an absolute directory path, or false to keep no state, got true`],
  ],
  [
    "state-save-seconds 0",
    (d) => (d["state-save-seconds"] = 0),
    [`${F}: state-save-seconds: expected an integer from 1 to 3600, got 0`],
  ],
  [
    "damping: max-idle-hold-time below idle-hold-time",
    (d) => (d.neighbors[0].damping = { "idle-hold-time": 300 }),
    [`${F}: neighbors[0].damping.max-idle-hold-time: max-idle-hold-time 120 must be at least idle-hold-time 300`],
  ],
  [
    "damping: not a mapping",
    (d) => (d.neighbors[0].damping = 5),
    [
      `${F}: neighbors[0].damping: expected a mapping with idle-hold-time and/or max-idle-hold-time, true, or false, got 5`,
    ],
  ],
  [
    "keepalive with hold-time 0",
    (d) => Object.assign(d.neighbors[0], { "hold-time": 0, keepalive: 30 }),
    [`${F}: neighbors[0].keepalive: hold-time 0 means no KEEPALIVEs; remove keepalive or set a hold-time`],
  ],
  [
    "restart-time 4096",
    (d) => (d["graceful-restart"] = { "restart-time": 4096 }),
    [`${F}: graceful-restart.restart-time: expected an integer from 1 to 4095, got 4096 (12 bits, RFC 4724 §3)`],
  ],
  [
    "connect-retry 0",
    (d) => (d.neighbors[0]["connect-retry"] = 0),
    [`${F}: neighbors[0].connect-retry: expected an integer from 1 to 65535, got 0`],
  ],
  // duplicates and impossible combinations
  [
    "duplicate neighbors",
    (d) => d.neighbors.push({ address: "192.0.2.10", "peer-as": 65001 }),
    [`${F}: neighbors[1].address: duplicate neighbor 192.0.2.10 (also neighbors[0].address)`],
  ],
  [
    "duplicate neighbors, written differently",
    (d) => {
      d.neighbors = [
        { address: "2001:db8::10", "peer-as": 65000 },
        { address: "2001:DB8:0::10", "peer-as": 65000 },
      ];
    },
    [`${F}: neighbors[1].address: duplicate neighbor 2001:db8::10 (also neighbors[0].address)`],
  ],
  [
    "a neighbor at the router-id",
    (d) => (d.neighbors[0].address = "192.0.2.4"),
    [`${F}: neighbors[0].address: 192.0.2.4 is the router-id, the proxy's own address; a neighbor is another router`],
  ],
  [
    "local-address of the other family",
    (d) => (d.neighbors[0]["local-address"] = "2001:db8::4"),
    [`${F}: neighbors[0].local-address: 2001:db8::4 is IPv6 but the neighbor address 192.0.2.10 is not`],
  ],
  [
    "duplicate service name",
    (d) => d.services.push({ name: "vni10", evi: 20, vni: 20 }),
    [`${F}: services[1].name: duplicate service name vni10 (also services[0].name)`],
  ],
  [
    "duplicate VNI",
    (d) => d.services.push({ name: "other", evi: 20, vni: 10 }),
    [`${F}: services[1].vni: duplicate VNI 10 (also services[0].vni)`],
  ],
  [
    "duplicate EVI",
    (d) => d.services.push({ name: "other", evi: 10, vni: 20 }),
    [
      `${F}: services[1].evi: duplicate EVI 10 (also services[0].evi); the route distinguishers <vtep>:<evi> would collide`,
    ],
  ],
  [
    "duplicate route target in a service",
    (d) => (d.services[0]["route-targets"] = ["65000:10", "65000:0010"]),
    [`${F}: services[0].route-targets[1]: duplicate route target 65000:10 (also services[0].route-targets[0])`],
  ],
  [
    "a route target of another service",
    (d) => d.services.push({ name: "other", evi: 20, vni: 20, "route-targets": ["65000:10"] }),
    [
      `${F}: services[1].route-targets: route target 65000:10 is also a route target of service "vni10" (services[0].route-targets); EVPN VTEPs would import the routes of both services into both (the default route target is <local-as>:<evi>)`,
    ],
  ],
  [
    "duplicate static VTEP",
    (d) => (d.services[0]["static-vteps"][1].address = "192.0.2.1"),
    [
      `${F}: services[0].static-vteps[1].address: duplicate static VTEP 192.0.2.1 (also services[0].static-vteps[0].address)`,
    ],
  ],
  [
    "a static VTEP at the router-id",
    (d) => (d.services[0]["static-vteps"][0].address = "192.0.2.4"),
    [
      `${F}: services[0].static-vteps[0].address: 192.0.2.4 is the router-id, the proxy's own address, not a static VTEP`,
    ],
  ],
  [
    "a MAC behind two VTEPs",
    (d) => (d.services[0]["static-vteps"][0].macs = ["02:00:00:00:01:02 10.0.0.2"]),
    [
      `${F}: services[0].static-vteps[1].macs[0]: duplicate MAC 02:00:00:00:01:02: already behind static VTEP 192.0.2.1 (services[0].static-vteps[0].macs[0]); a MAC has one location in a service`,
    ],
  ],
  [
    "the same MAC twice, written differently",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02", "02-00-00-00-01-02"]),
    [
      `${F}: services[0].static-vteps[1].macs[1]: duplicate MAC entry "02:00:00:00:01:02" (also services[0].static-vteps[1].macs[0])`,
    ],
  ],
  [
    "an IP bound to two MACs",
    (d) => (d.services[0]["static-vteps"][1].macs = ["02:00:00:00:01:02 10.0.0.2", "02:00:00:00:01:03 10.0.0.2"]),
    [
      `${F}: services[0].static-vteps[1].macs[1]: duplicate IP 10.0.0.2: already bound to MAC 02:00:00:00:01:02 (services[0].static-vteps[1].macs[0])`,
    ],
  ],
  [
    "an IPv6 address of a MAC with several bound to another MAC",
    (d) =>
      (d.services[0]["static-vteps"][1].macs = [
        "02:00:00:00:01:02 10.0.0.2 2001:db8::2",
        "02:00:00:00:01:03 10.0.0.3 2001:db8:0:0::2",
      ]),
    [
      `${F}: services[0].static-vteps[1].macs[1]: duplicate IP 2001:db8::2: already bound to MAC 02:00:00:00:01:02 (services[0].static-vteps[1].macs[0])`,
    ],
  ],
  // unknown keys, at every level
  [
    "an unknown top-level key",
    (d) => (d.routerid = "192.0.2.4"),
    [`${F}: routerid: unknown key; did you mean "router-id"?`],
  ],
  [
    "an unrelated top-level key",
    (d) => (d.colour = "blue"),
    [
      `${F}: colour: unknown key; expected one of router-id, local-as, listen, graceful-restart, neighbors, services, learning, management, state-directory, state-save-seconds`,
    ],
  ],
  [
    "listen.addr",
    (d) => (d.listen = { addr: "192.0.2.4" }),
    [`${F}: listen.addr: unknown key; expected one of address, port`],
  ],
  [
    "graceful-restart.restart",
    (d) => (d["graceful-restart"] = { restart: 120 }),
    [`${F}: graceful-restart.restart: unknown key; expected restart-time`],
  ],
  [
    "neighbors[0].hold_time",
    (d) => (d.neighbors[0].hold_time = 9),
    [`${F}: neighbors[0].hold_time: unknown key; did you mean "hold-time"?`],
  ],
  [
    "services[0].static-vtep (misspelt)",
    (d) => {
      d.services[0]["static-vtep"] = d.services[0]["static-vteps"];
      delete d.services[0]["static-vteps"];
    },
    [`${F}: services[0].static-vtep: unknown key; did you mean "static-vteps"?`],
  ],
  [
    "services[0].route-target (misspelt)",
    (d) => (d.services[0]["route-target"] = ["65000:10"]),
    [`${F}: services[0].route-target: unknown key; did you mean "route-targets"?`],
  ],
  [
    "static-vteps[1].mac",
    (d) => (d.services[0]["static-vteps"][1].mac = "02:00:00:00:01:03"),
    [`${F}: services[0].static-vteps[1].mac: unknown key; did you mean "macs"?`],
  ],
  [
    "learning.vxlan_listen",
    (d) => (d.learning.vxlan_listen = "192.0.2.4"),
    [`${F}: learning.vxlan_listen: unknown key; did you mean "vxlan-listen"?`],
  ],
  [
    "a key with a space",
    (d) => (d.services[0]["the vni"] = 10),
    [
      `${F}: services[0]["the vni"]: unknown key; expected one of name, evi, vni, route-targets, replication, replication-source, arp-nd-proxy, static-vteps`,
    ],
  ],
];

describe("bad configuration files: each error names the file, the key path and the reason", () => {
  for (const [name, edit, errors] of BAD) test(name, () => assert.deepEqual(errorsOf(edit), errors));

  test("several errors are all reported, in file order", () => {
    assert.deepEqual(
      errorsOf((d) => {
        d.services[0].evi = 0;
        d.bogus = 1;
        d.neighbors[0]["peer-as"] = "x";
      }),
      [
        `${F}: neighbors[0].peer-as: expected an integer from 1 to 4294967295, got "x"`,
        `${F}: services[0].evi: expected an integer from 1 to 65535, got 0 (${EVI_WHY})`,
        `${F}: bogus: unknown key; expected one of router-id, local-as, listen, graceful-restart, neighbors, services, learning, management, state-directory, state-save-seconds`,
      ],
    );
  });

  test("errors carry the line of the key", () => {
    const r = parseConfig(DOCUMENTED_MINIMUM.replace("vni: 10", "vni: 0"), F);
    assert.ok(!r.ok);
    assert.deepEqual(r.errors[0], {
      file: F,
      path: "services[0].vni",
      message: "expected an integer from 1 to 16777215, got 0 (a VXLAN network identifier has 24 bits, RFC 7348)",
      line: 10,
      column: 5,
    });
  });

  test("YAML 1.2: yes is a string, not a boolean", () => {
    assert.deepEqual(errorsOfText(DOCUMENTED_MINIMUM.replace("include-ip: true", "include-ip: yes")), [
      `${F}: learning.include-ip: expected true or false, got "yes"`,
    ]);
  });

  test("a YAML syntax error names its line and column", () => {
    assert.deepEqual(
      errorsOfText(DOCUMENTED_MINIMUM.replace('macs: ["02:00:00:00:01:02"]', 'macs: ["02:00:00:00:01:02"')),
      [
        `${F}: YAML syntax error at line 17, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      ],
    );
    const tab = errorsOfText("router-id: 192.0.2.4\n\tlocal-as: 65000\n");
    assert.equal(tab.length >= 1, true);
    assert.match(tab[0]!, /^bad\.yaml: YAML syntax error at line 2, column 1: /);
  });

  test("a duplicate key is a YAML error naming the key", () => {
    assert.deepEqual(errorsOfText(`${DOCUMENTED_MINIMUM}local-as: 65001\n`), [
      `${F}: YAML syntax error at line 20, column 1: Map keys must be unique: local-as`,
    ]);
  });

  test("an empty file, a list, a scalar, two documents", () => {
    assert.deepEqual(errorsOfText(""), [
      `${F}: the file is empty; expected a mapping with router-id, local-as, neighbors and services`,
    ]);
    assert.deepEqual(errorsOfText("# nothing\n"), [
      `${F}: the file is empty; expected a mapping with router-id, local-as, neighbors and services`,
    ]);
    assert.deepEqual(errorsOfText("- router-id: 192.0.2.4\n"), [
      `${F}: expected a mapping with router-id, local-as, neighbors and services at the top level, got a list`,
    ]);
    assert.deepEqual(errorsOfText("evpn\n"), [
      `${F}: expected a mapping with router-id, local-as, neighbors and services at the top level, got "evpn"`,
    ]);
    const two = errorsOfText(`${DOCUMENTED_MINIMUM}---\n${DOCUMENTED_MINIMUM}`);
    assert.match(two[0]!, /^bad\.yaml: YAML syntax error at line 20, column 1: Source contains multiple documents/);
  });

  test("a missing file, a directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-config-"));
    try {
      const missing = join(dir, "nope.yaml");
      assert.deepEqual(loadConfig(missing), {
        ok: false,
        errors: [{ file: missing, path: "", message: "cannot read the configuration file: no such file" }],
      });
      assert.deepEqual(loadConfig(dir), {
        ok: false,
        errors: [{ file: dir, path: "", message: "cannot read the configuration file: is a directory, not a file" }],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("check prints every error and returns 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-config-"));
    try {
      const file = join(dir, "bad.yaml");
      writeFileSync(file, DOCUMENTED_MINIMUM.replace("evi: 10", "evi: 65536").replace("static-vteps:", "static-vtep:"));
      const out: string[] = [];
      const err: string[] = [];
      assert.equal(checkCommand(file, sink(out), sink(err)), 2);
      assert.deepEqual(out, []);
      assert.deepEqual(err, [
        `${file}: services[0].evi: expected an integer from 1 to 65535, got 65536 (${EVI_WHY})\n`,
        `${file}: services[0].static-vtep: unknown key; did you mean "static-vteps"?\n`,
      ]);
      assert.equal(checkCommand(join(dir, "missing.yaml"), sink(out), sink(err)), 2);
      assert.equal(err[2], `${join(dir, "missing.yaml")}: cannot read the configuration file: no such file\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("management", () => {
  const withManagement = (m: string) => `${DOCUMENTED_MINIMUM}management:\n${m}`;
  test("defaults: the socket, mode 0660, no TCP listener, no token", () => {
    assert.deepEqual(parseOk(DOCUMENTED_MINIMUM).management, MINIMUM_CONFIG.management);
  });
  test("http: true is loopback on the default port; a mapping may change either", () => {
    assert.deepEqual(parseOk(withManagement("  http: true\n")).management.http, { address: "127.0.0.1", port: 9179 });
    assert.deepEqual(parseOk(withManagement("  http: {port: 9000}\n")).management.http, {
      address: "127.0.0.1",
      port: 9000,
    });
    const c = parseOk(withManagement('  socket: false\n  socket-mode: "0600"\n  http: {address: "::1"}\n'));
    assert.deepEqual(c.management, {
      socket: null,
      socketMode: 0o600,
      http: { address: "::1", port: 9179 },
      tokenFile: null,
    });
  });
  test("a non-loopback listener needs a token file", () => {
    assert.deepEqual(errorsOfText(withManagement("  http: {address: 192.0.2.4}\n")), [
      "bad.yaml: management.http.address: 192.0.2.4 is not a loopback address: a listener there needs management.token-file (its clients must present the token)",
    ]);
    const c = parseOk(withManagement("  http: {address: 192.0.2.4}\n  token-file: /etc/evpn-proxy/token\n"));
    assert.equal(c.management.tokenFile, "/etc/evpn-proxy/token");
  });
  test("bad values name the key", () => {
    assert.deepEqual(errorsOfText(withManagement("  socket: run/api.sock\n  socket-mode: 660x\n  htp: true\n")), [
      'bad.yaml: management.socket: expected an absolute path, or false for no socket, got "run/api.sock"',
      'bad.yaml: management.socket-mode: expected an octal file mode such as "0660", got "660x"',
      'bad.yaml: management.htp: unknown key; did you mean "http"?',
    ]);
  });
});

describe("the JSON Schema", () => {
  const schema = configJsonSchema();

  test(`${CONFIG_SCHEMA_FILE} is what the generator produces (npm run schema)`, () => {
    const committed: unknown = JSON.parse(readFileSync(new URL(CONFIG_SCHEMA_FILE, ROOT), "utf8"));
    assert.deepEqual(
      committed,
      JSON.parse(JSON.stringify(schema)),
      `${CONFIG_SCHEMA_FILE} is not current: run npm run schema`,
    );
  });

  test("has $schema and title; every key has a description; no object takes unknown keys", () => {
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(schema.title, "evpn-proxy configuration");
    let objects = 0;
    const walk = (s: Record<string, unknown>, path: string) => {
      if (s.type === "object") {
        objects++;
        assert.equal(s.additionalProperties, false, `${path} takes unknown keys`);
        for (const [k, v] of Object.entries(s.properties as Record<string, Record<string, unknown>>)) {
          assert.equal(typeof v.description, "string", `${path}.${k} has no description`);
          walk(v, `${path}.${k}`);
        }
      }
      if (s.items !== undefined) walk(s.items as Record<string, unknown>, `${path}[]`);
      for (const o of (s.anyOf as Record<string, unknown>[] | undefined) ?? []) walk(o, path);
    };
    walk(schema, "");
    // top, listen, graceful-restart, neighbor, damping, service, arp-nd-proxy, static VTEP, learning, management, http
    assert.equal(objects, 11);
  });
});
