// import-macs: the MACs behind a static VTEP's local ports, from a real `bridge -j fdb show` of a
// Linux VXLAN VTEP (test/fixtures/cli/bridge-fdb.json: how it was made is in its README) or from
// Cumulus NCLU's `show bridge macs dynamic json` (nclu-bridge-macs.json: where its shape comes
// from is in the README), added as static MACs of that VTEP with every other byte of the file
// kept; an invalid result or a wrong service or VTEP leaves the file as it was.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { addStaticMacs, importMacs, localMacs } from "../../src/cli/import-macs.js";
import { basicAuth, ncluBridgeMacs, NcluError, ncluRpcUrl, parseNcluAnswer } from "../../src/cli/nclu.js";
import { parseConfig } from "../../src/config/load.js";

const FDB = new URL("../../../test/fixtures/cli/bridge-fdb.json", import.meta.url);
const NCLU = new URL("../../../test/fixtures/cli/nclu-bridge-macs.json", import.meta.url);
const CONFIG = `# the proxy of the lab
router-id: 192.0.2.4     # aligned comments stay aligned
local-as: 65000
neighbors:
  - address: 192.0.2.10 # the route reflector
    peer-as: 65000
services:
  - name: vni10
    evi: 10
    vni: 10
    static-vteps:
      # rack 1
      - address: 192.0.2.1
      - address: 192.0.2.2
        macs: ["02:00:00:00:01:02"] # the printer
`;

function sink(): NodeJS.WritableStream & { text: string } {
  const s = { text: "", write: (t: string) => ((s.text += t), true) };
  return s as unknown as NodeJS.WritableStream & { text: string };
}

test("local MACs: learned and static entries on the bridge's local ports; not the VXLAN port's, not the ports' own", () => {
  assert.deepEqual(localMacs(JSON.parse(readFileSync(FDB, "utf8"))), [
    "02:00:00:00:aa:01",
    "02:00:00:00:aa:02",
    "02:00:00:00:aa:03",
  ]);
  assert.throws(() => localMacs({}), /JSON array/);
});

test("local MACs of one bridge: a dump with two bridges is refused until --bridge (or --vlan) picks one", () => {
  const one = JSON.parse(readFileSync(FDB, "utf8")) as Record<string, unknown>[];
  const other = [
    { mac: "02:00:00:00:cc:01", ifname: "p9", master: "br1", flags: [], state: "" },
    { mac: "02:00:00:00:cc:02", ifname: "vx1", master: "br1", flags: [], state: "" },
    { mac: "00:00:00:00:00:00", ifname: "vx1", dst: "192.0.2.9", flags: ["self"], state: "permanent" },
  ];
  assert.throws(
    () => localMacs([...one, ...other]),
    /more than one bridge or VLAN \(bridge br0, bridge br1\): pick the service's with --bridge or --vlan/,
  );
  assert.deepEqual(localMacs([...one, ...other], { bridge: "br1" }), ["02:00:00:00:cc:01"]);
  assert.deepEqual(localMacs([...one, ...other], { bridge: "br0" }), localMacs(one));
  assert.deepEqual(localMacs(one, { bridge: "nope" }), []);
});

test("NCLU's answer: MACs behind the access ports of the chosen VLAN; not the VXLAN ports' (tunnel entries)", () => {
  const entries = parseNcluAnswer(readFileSync(NCLU, "utf8"), "NCLU at https://192.0.2.1:8080");
  assert.throws(() => localMacs(entries), /\(bridge bridge VLAN 10, bridge bridge VLAN 20\)/);
  assert.deepEqual(localMacs(entries, { vlan: 10 }), ["02:00:00:00:10:21", "02:00:00:00:10:22", "02:00:00:00:10:23"]);
  assert.deepEqual(localMacs(entries, { bridge: "bridge", vlan: 20 }), ["02:00:00:00:20:21"]);
  // Cumulus Linux 3.x names the port `dev`; the VLAN may come as text.
  const old = (entries as Record<string, unknown>[]).map(({ ifname, vlan, ...e }) => ({
    ...e,
    dev: ifname,
    ...(vlan !== undefined ? { vlan: String(vlan) } : {}),
  }));
  assert.deepEqual(localMacs(old, { vlan: 10 }), localMacs(entries, { vlan: 10 }));
  // Nothing learned: NCLU prints nothing.
  assert.deepEqual(parseNcluAnswer(" \n", "x"), []);
  assert.throws(
    () => parseNcluAnswer("ERROR: 'show bridge macs' is not a command", "NCLU at h"),
    (e) => {
      assert.ok(e instanceof NcluError);
      assert.equal(e.message, `NCLU at h answered with no JSON: "ERROR: 'show bridge macs' is not a command"`);
      return true;
    },
  );
  assert.throws(() => parseNcluAnswer('{"bridge": {}}', "NCLU at h"), /JSON that is not the list of FDB entries/);
});

test("NCLU's URL and credentials: the RPC path added, Basic credentials from the password file's first line", () => {
  assert.equal(ncluRpcUrl("https://192.0.2.1:8080").href, "https://192.0.2.1:8080/nclu/v1/rpc");
  assert.equal(ncluRpcUrl("http://127.0.0.1:9/other").href, "http://127.0.0.1:9/other");
  assert.throws(() => ncluRpcUrl("192.0.2.1"), /--nclu: expected a URL such as https:\/\/192\.0\.2\.1:8080/);
  assert.throws(() => ncluRpcUrl("ftp://h/"), /expected an https:\/\/ or http:\/\/ URL/);
  assert.throws(() => ncluRpcUrl("https://u:p@h/"), /no credentials in the URL; use --user and --password-file/);
  const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-nclu-"));
  try {
    const pw = join(dir, "pw");
    writeFileSync(pw, "CumulusLinux!\nignored\n");
    // RFC 7617 §2: base64 of user-id ":" password.
    assert.equal(basicAuth("cumulus", pw), `Basic ${Buffer.from("cumulus:CumulusLinux!").toString("base64")}`);
    assert.equal(basicAuth(undefined, undefined), undefined);
    assert.throws(() => basicAuth("cumulus", undefined), /--user and --password-file go together/);
    assert.throws(() => basicAuth("a:b", pw), /cannot contain ':'/);
    writeFileSync(pw, "\n");
    assert.throws(() => basicAuth("cumulus", pw), /is empty/);
    assert.throws(() => basicAuth("cumulus", join(dir, "none")), /cannot read the password file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("NCLU over plain HTTP: nothing learned (an empty answer), 401 without credentials, other errors, a timeout", async () => {
  let answer: { status: number; body: string } | null = { status: 200, body: "" };
  const server = http.createServer((req, res) => {
    req.resume();
    if (answer === null) return; // never answers
    res.writeHead(answer.status).end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.deepEqual(await ncluBridgeMacs({ url }), []);
    answer = { status: 401, body: "" };
    await assert.rejects(ncluBridgeMacs({ url }), {
      message: `NCLU at ${url} asks for credentials (401): give --user and --password-file`,
    });
    answer = { status: 500, body: "Internal Server Error\nmore" };
    await assert.rejects(ncluBridgeMacs({ url }), { message: `NCLU at ${url} answered 500: "Internal Server Error"` });
    answer = null;
    await assert.rejects(ncluBridgeMacs({ url, timeoutMs: 200 }), {
      name: "NcluError",
      message: `no answer from NCLU at ${url} within 0.2 s`,
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test("every other byte of the file kept: a block list gets lines as its items, an empty flow list its first item", () => {
  const block = CONFIG.replace(
    '        macs: ["02:00:00:00:01:02"] # the printer\n',
    "        macs:   # by hand\n          -   02:00:00:00:01:02   # the printer\n        description: x\n",
  );
  const r = addStaticMacs(block.replace("        description: x\n", ""), "vni10", "192.0.2.2", ["02:00:00:00:aa:09"]);
  assert.equal(
    r.text,
    block
      .replace("        description: x\n", "")
      .replace("# the printer\n", "# the printer\n          -   02:00:00:00:aa:09\n"),
  );
  const empty = addStaticMacs(CONFIG.replace('["02:00:00:00:01:02"]', "[ ]"), "vni10", "192.0.2.2", [
    "02:00:00:00:aa:09",
  ]);
  assert.match(empty.text, /macs: \[ "02:00:00:00:aa:09"\] # the printer/);
  assert.equal(parseConfig(empty.text, "x.yaml").ok, true);
  // A VTEP written as a flow mapping cannot be spliced: the whole document is written again, meaning the same.
  const flow = CONFIG.replace("      - address: 192.0.2.1\n", "      - { address: 192.0.2.1 } # rack 1b\n");
  const f = addStaticMacs(flow, "vni10", "192.0.2.1", ["02:00:00:00:aa:09"]);
  const c = parseConfig(f.text, "x.yaml");
  assert.ok(c.ok);
  assert.deepEqual(
    c.config.services[0]!.staticVteps[0]!.macs.map((m) => m.mac),
    ["02:00:00:00:aa:09"],
  );
  assert.match(f.text, /# rack 1b/);
});

test("added under the VTEP, comments and order kept; MACs configured already are not added twice", () => {
  const r = addStaticMacs(CONFIG, "vni10", "192.0.2.1", ["02:00:00:00:aa:01", "02:00:00:00:aa:02"]);
  assert.deepEqual(r.added, ["02:00:00:00:aa:01", "02:00:00:00:aa:02"]);
  assert.equal(
    r.text,
    CONFIG.replace(
      "      - address: 192.0.2.1\n",
      "      - address: 192.0.2.1\n        macs:\n          - 02:00:00:00:aa:01\n          - 02:00:00:00:aa:02\n",
    ),
  );
  const again = addStaticMacs(r.text, "vni10", "192.0.2.1", ["02:00:00:00:aa:01"]);
  assert.deepEqual(again.added, []);
  const two = addStaticMacs(CONFIG, "vni10", "192.0.2.2", ["02:00:00:00:01:02", "02:00:00:00:aa:03"]);
  assert.deepEqual(two.added, ["02:00:00:00:aa:03"]);
  assert.match(two.text, /macs: \["02:00:00:00:01:02", "02:00:00:00:aa:03"\] # the printer/);
  const c = parseConfig(two.text, "x.yaml");
  assert.ok(c.ok);
  assert.deepEqual(
    c.config.services[0]!.staticVteps[1]!.macs.map((m) => m.mac),
    ["02:00:00:00:01:02", "02:00:00:00:aa:03"],
  );
  assert.throws(() => addStaticMacs(CONFIG, "vni20", "192.0.2.1", []), /no service "vni20"/);
  assert.throws(() => addStaticMacs(CONFIG, "vni10", "192.0.2.9", []), /not a static VTEP/);
});

test("the command: --dry-run changes nothing; a MAC configured at another VTEP makes the result invalid, file unchanged", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-import-"));
  try {
    const file = join(dir, "proxy.yaml");
    writeFileSync(file, CONFIG);
    const o = { config: file, service: "vni10", vtep: "192.0.2.1", source: { bridgeFdb: FDB.pathname }, filter: {} };
    const out = sink();
    assert.equal(await importMacs({ ...o, dryRun: true }, out, sink()), 0);
    assert.equal(
      out.text,
      "would add 3 static MAC(s) under service vni10, static VTEP 192.0.2.1:\n+ 02:00:00:00:aa:01\n+ 02:00:00:00:aa:02\n+ 02:00:00:00:aa:03\n",
    );
    assert.equal(readFileSync(file, "utf8"), CONFIG);
    assert.equal(await importMacs({ ...o, dryRun: false }, sink(), sink()), 0);
    assert.match(
      readFileSync(file, "utf8"),
      /# rack 1\n {6}- address: 192\.0\.2\.1\n {8}macs:\n {10}- 02:00:00:00:aa:01/,
    );
    // The same MACs under the other VTEP: a MAC has one location in a service.
    const before = readFileSync(file, "utf8");
    const err = sink();
    assert.equal(await importMacs({ ...o, vtep: "192.0.2.2", dryRun: false }, sink(), err), 2);
    assert.match(err.text, /the result would be invalid; .* is unchanged\n.*duplicate MAC 02:00:00:00:aa:01/);
    assert.equal(readFileSync(file, "utf8"), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
