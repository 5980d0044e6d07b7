// import-macs: the MACs behind a static VTEP's local ports, from a real `bridge -j fdb show` of a
// Linux VXLAN VTEP (test/fixtures/cli/bridge-fdb.json: how it was made is in its README), added
// as static MACs of that VTEP with the file's comments and order kept; an invalid result or a
// wrong service or VTEP leaves the file as it was.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { addStaticMacs, importMacs, localMacs } from "../../src/cli/import-macs.js";
import { parseConfig } from "../../src/config/load.js";

const FDB = new URL("../../../test/fixtures/cli/bridge-fdb.json", import.meta.url);
const CONFIG = `# the proxy of the lab
router-id: 192.0.2.4
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

test("the command: --dry-run changes nothing; a MAC configured at another VTEP makes the result invalid, file unchanged", () => {
  const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-import-"));
  try {
    const file = join(dir, "proxy.yaml");
    writeFileSync(file, CONFIG);
    const o = { config: file, service: "vni10", vtep: "192.0.2.1", bridgeFdb: FDB.pathname, dryRun: true };
    const out = sink();
    assert.equal(importMacs(o, out, sink()), 0);
    assert.equal(
      out.text,
      "would add 3 static MAC(s) under service vni10, static VTEP 192.0.2.1:\n+ 02:00:00:00:aa:01\n+ 02:00:00:00:aa:02\n+ 02:00:00:00:aa:03\n",
    );
    assert.equal(readFileSync(file, "utf8"), CONFIG);
    assert.equal(importMacs({ ...o, dryRun: false }, sink(), sink()), 0);
    assert.match(
      readFileSync(file, "utf8"),
      /# rack 1\n {6}- address: 192\.0\.2\.1\n {8}macs:\n {10}- 02:00:00:00:aa:01/,
    );
    // The same MACs under the other VTEP: a MAC has one location in a service.
    const before = readFileSync(file, "utf8");
    const err = sink();
    assert.equal(importMacs({ ...o, vtep: "192.0.2.2", dryRun: false }, sink(), err), 2);
    assert.match(err.text, /the result would be invalid; .* is unchanged\n.*duplicate MAC 02:00:00:00:aa:01/);
    assert.equal(readFileSync(file, "utf8"), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
