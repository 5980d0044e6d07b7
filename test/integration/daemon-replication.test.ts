// `evpn-proxy run` with `replication: proxy` over loopback: the daemon announces its own IMET
// route, learns an EVPN VTEP from a scripted route reflector, and replicates a broadcast from a
// static VTEP to every other VTEP (never back), from the proxy's address or, as root, from the
// static VTEP's own. The VTEPs are UDP sockets on 127.0.0.11–13 port 4789.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeMessage, fromHex, type PathAttribute } from "../../src/codec/index.js";
import parse from "parse-prometheus-text-format";
import { RESPONSE_SCHEMAS } from "../../src/api/schemas.js";
import { call, sample } from "../helpers/api.js";
import { collect, daemonYaml, freePort, openSession, routesOf, SPEAKER, start } from "../helpers/daemon-run.js";

const S1 = "127.0.0.11";
const S2 = "127.0.0.12";
const E1 = "127.0.0.13";
const BROADCAST_ARP = fromHex(
  // VXLAN (I flag, VNI 10) | Ethernet ff:ff:ff:ff:ff:ff ← 02:00:00:00:00:11, ARP request who-has .12 tell .11
  "0800000000000a00" + "ffffffffffff0200000000110806" + "0001080006040001020000000011c6336411000000000000c633640c",
)!;

async function vtep(address: string): Promise<{ sock: dgram.Socket; got: { from: string; hex: string }[] }> {
  const sock = dgram.createSocket("udp4");
  const got: { from: string; hex: string }[] = [];
  sock.on("message", (b, r) => got.push({ from: r.address, hex: b.toString("hex") }));
  await new Promise<void>((r) => sock.bind({ address, port: 4789 }, () => r()));
  return { sock, got };
}

function imet(originator: string): Uint8Array {
  const attrs: PathAttribute[] = [
    { kind: "origin", origin: 0 },
    { kind: "as-path", segments: [] },
    { kind: "local-pref", localPref: 100 },
    {
      kind: "ext-communities",
      communities: [
        { kind: "route-target", value: "65000:10" },
        { kind: "encapsulation", tunnelType: 8 },
      ],
    },
    { kind: "pmsi-tunnel", tunnelFlags: 0, tunnelType: 6, label: 10, endpoint: originator },
    {
      kind: "mp-reach",
      afi: 25,
      safi: 70,
      nextHop: [originator],
      nlri: { family: "evpn", routes: [{ routeType: 3, rd: `${originator}:10`, ethernetTag: 0, originator }] },
    },
  ];
  return encodeMessage({ type: 2, withdrawn: [], nlri: [], attributes: attrs });
}

const root = process.getuid?.() === 0;

/** GET /metrics over the API's Unix socket. */
function metricsText(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: "/metrics" }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
  });
}

for (const source of ["proxy", "vtep"] as const) {
  test(`replication: proxy, replication-source ${source}: a broadcast from a static VTEP reaches every other VTEP once`, async (t) => {
    if (source === "vtep" && !root) {
      if (process.env.CI === "true") throw new Error("CI=true: the raw sender needs root");
      process.stderr.write(`\n*** SKIPPING "${t.name}": the raw sender needs root (CAP_NET_RAW) ***\n\n`);
      t.skip("not root");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-repl-"));
    const file = join(dir, "c.yaml");
    const port = await freePort(SPEAKER);
    const extra = `    replication: proxy\n    replication-source: ${source}\n    arp-nd-proxy: false\nlearning:\n  vxlan-listen: ${SPEAKER}\n`;
    writeFileSync(file, daemonYaml(port, [S1, S2], [], extra));
    const vteps = await Promise.all([S1, S2, E1].map(vtep));
    const d = start(file);
    try {
      const p = await openSession(port, d.out);
      const first = routesOf(await collect(p));
      assert.deepEqual(
        first.announced.map((a) => a.route),
        [{ routeType: 3, rd: `${SPEAKER}:10`, ethernetTag: 0, originator: SPEAKER }],
        "one IMET route, the proxy's own",
      );
      p.send(imet(E1)); // an EVPN VTEP joins the service
      await sleep(3500); // RFC 7432 §8.5 DF wait before the proxy replicates
      await new Promise<void>((r) => vteps[0]!.sock.send(BROADCAST_ARP, 4789, SPEAKER, () => r()));
      for (let i = 0; i < 100 && (vteps[1]!.got.length < 1 || vteps[2]!.got.length < 1); i++) await sleep(20);
      await sleep(200);
      const want = Buffer.from(BROADCAST_ARP).toString("hex");
      const from = source === "vtep" ? S1 : SPEAKER;
      assert.deepEqual(vteps[1]!.got, [{ from, hex: want }], `${S2}: one copy, outer source ${from}`);
      assert.deepEqual(vteps[2]!.got, [{ from, hex: want }], `${E1}: one copy`);
      assert.deepEqual(vteps[0]!.got, [], "never back to the sender");
      p.close();
    } finally {
      d.child.kill("SIGTERM");
      await d.exited;
      for (const v of vteps) v.sock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a static proxy-ARP entry is announced after start without any input (RFC 9161 §3.2), once the DF wait is over", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-repl-"));
  const file = join(dir, "c.yaml");
  const port = await freePort(SPEAKER);
  const extra =
    "    replication: proxy\n    replication-source: proxy\n" +
    '    arp-nd-proxy:\n      static: ["198.51.100.33 02:00:00:00:00:21"]\n' +
    `learning:\n  vxlan-listen: ${SPEAKER}\n` +
    `management:\n  socket: ${join(dir, "api.sock")}\n`;
  writeFileSync(file, daemonYaml(port, [S1, S2], ["02:00:00:00:00:21"], extra));
  const vteps = await Promise.all([S1, S2].map(vtep));
  const d = start(file);
  try {
    for (let i = 0; i < 300 && vteps[1]!.got.length < 1; i++) await sleep(20);
    await sleep(200);
    // VXLAN (VNI 10) | Ethernet broadcast from the MAC | ARP request, sender = target = 198.51.100.33
    const garp =
      "0800000000000a00" + "ffffffffffff0200000000210806" + "0001080006040001020000000021c6336421000000000000c6336421";
    assert.deepEqual(vteps[1]!.got, [{ from: SPEAKER, hex: garp }], `${S2}: the gratuitous ARP, once`);
    assert.deepEqual(vteps[0]!.got, [], `${S1}: where the MAC sits, nothing`);

    // What the operator sees of it: the table, the counters, the metrics.
    const socket = join(dir, "api.sock");
    const page = await call(socket, "GET", "/api/v1/evpn/arp-nd?service=vni10", 200, RESPONSE_SCHEMAS.ArpNdPage);
    assert.deepEqual(
      page.items.map((e) => [e.ip, e.mac, e.vtep, e.source, e.immutable, e.duplicate]),
      [["198.51.100.33", "02:00:00:00:00:21", S1, "static", true, false]],
    );
    const svc = await call(socket, "GET", "/api/v1/evpn/services/vni10", 200, RESPONSE_SCHEMAS.Service);
    assert.deepEqual(svc.arpNd, { static: 1, evpn: 0, dynamic: 0, duplicate: 0 });
    const c = await call(socket, "GET", "/api/v1/learning/counters", 200, RESPONSE_SCHEMAS.LearningCounters);
    assert.equal(c.arpNd?.gratuitousSent, 1);
    await call(socket, "GET", "/api/v1/evpn/arp-nd", 400, RESPONSE_SCHEMAS.Error);
    const clear = await call(socket, "POST", "/api/v1/evpn/duplicates/clear", 200, RESPONSE_SCHEMAS.Action);
    assert.equal(clear.message, "0 duplicate MACs and 0 duplicate IPs (proxy-ARP/ND) released");
    const m = parse(await metricsText(socket));
    const v = (name: string, labels: Record<string, string> = {}) => sample(m, `evpn_proxy_${name}`, labels);
    assert.equal(v("arpnd_entries", { service: "vni10", source: "static" }), 1);
    assert.equal(v("arpnd_sent_total", { kind: "gratuitous" }), 1);
    assert.equal(v("replication_forwarding", { service: "vni10" }), 1);
  } finally {
    d.child.kill("SIGTERM");
    await d.exited;
    for (const v of vteps) v.sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
