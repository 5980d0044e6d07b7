// `evpn-proxy learn --pcap FILE --config FILE --dry-run` as a process: the learned table of the
// text2pcap fixture (see test/unit/dataplane-pcap.test.ts), its JSON form, a configuration error
// with check's messages and exit 2, no --dry-run refused with exit 2, unreadable or malformed
// captures with exit 1.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";
import { vni10Yaml } from "../helpers/config-yaml.js";

const MAIN = new URL("../../src/cli/main.js", import.meta.url).pathname;
const FIXTURE = new URL("../../../test/fixtures/pcap/vxlan-arp-nd.pcap", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-learn-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, MAIN, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const config = (staticVteps: string): string => vni10Yaml(staticVteps);

const CONFIG = file("ok.yaml", config("      - address: 192.0.2.1"));

test("prints the learned table and counters; exit 0", () => {
  const r = cli("learn", "--pcap", FIXTURE, "--config", CONFIG, "--dry-run");
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    [
      "SERVICE  VNI  VTEP       MAC                IPS                           SEQ  STATE",
      "vni10    10   192.0.2.1  02:00:00:00:01:01  198.51.100.1,2001:db8:100::1  0    announced",
      "vni10    10   192.0.2.1  02:00:00:00:01:02  198.51.100.2,2001:db8:100::2  0    announced",
      "records: 4 (0 cut by the snap length), frames: 4, skipped: 0",
      "skipped by reason: none",
      "learned: 2 MACs, 4 IPs; moves: 0, IP moves: 0, refreshed: 0, aged: 0 MACs, 0 IPs",
      "not learned: unknown VNI 0, unknown VTEP 0, static MAC 0, sticky 0, no binding 0, frozen 0, limits 0",
      "events: none",
      "",
    ].join("\n"),
  );
});

test("--json", () => {
  const r = cli("learn", "--pcap", FIXTURE, "--config", CONFIG, "--dry-run", "--json");
  assert.equal(r.status, 0);
  const j = JSON.parse(r.stdout) as {
    table: { mac: string; vtep: string; ips: string[]; seq: number; announced: boolean }[];
    replay: { records: number; frames: number };
    learner: { learned: number; learnedIps: number };
  };
  assert.deepEqual(
    j.table.map((b) => [b.mac, b.vtep, b.ips, b.seq, b.announced]),
    [
      ["02:00:00:00:01:01", "192.0.2.1", ["198.51.100.1", "2001:db8:100::1"], 0, true],
      ["02:00:00:00:01:02", "192.0.2.1", ["198.51.100.2", "2001:db8:100::2"], 0, true],
    ],
  );
  assert.deepEqual([j.replay.records, j.replay.frames, j.learner.learned, j.learner.learnedIps], [4, 4, 2, 4]);
});

test("an unknown VTEP and a static MAC are counted; the static MAC's addresses at its VTEP are learned", () => {
  const cfg = file(
    "other.yaml",
    config(
      '      - address: 192.0.2.2\n        macs: ["02:00:00:00:01:01"]\n      - address: 192.0.2.1\n        macs: ["02:00:00:00:01:02"]',
    ),
  );
  const r = cli("learn", "--pcap", FIXTURE, "--config", cfg, "--dry-run");
  assert.equal(r.status, 0);
  assert.match(
    r.stdout,
    /^SERVICE .*\nvni10 +10 +192\.0\.2\.1 +02:00:00:00:01:02 +198\.51\.100\.2,2001:db8:100::2 +0 +configured\n/,
  );
  assert.match(r.stdout, /learned: 0 MACs, 2 IPs;/);
  assert.match(r.stdout, /static MAC 2, sticky 2,/);
  assert.match(r.stdout, /events: sticky-blocked 1\n/);
  const unknown = file("unknown.yaml", config("      - address: 192.0.2.2"));
  const u = cli("learn", "--pcap", FIXTURE, "--config", unknown, "--dry-run");
  assert.equal(u.status, 0);
  assert.match(u.stdout, /unknown VTEP 4,/);
  assert.match(u.stdout, /events: unknown-vtep 1\n/);
});

test("a bad configuration: check's messages, exit 2", () => {
  const bad = file("bad.yaml", config("      - address: 192.0.2.1").replace("local-as: 65000", "local-as: x"));
  const r = cli("learn", "--pcap", FIXTURE, "--config", bad, "--dry-run");
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  const c = cli("check", "--config", bad);
  assert.equal(c.status, 2);
  assert.notEqual(r.stderr, "");
  assert.equal(r.stderr, c.stderr);
});

test("without --dry-run: refused, exit 2", () => {
  const r = cli("learn", "--pcap", FIXTURE, "--config", CONFIG);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /only dry runs exist yet/);
});

test("unreadable, pcapng and truncated captures: exit 1", () => {
  const missing = cli("learn", "--pcap", join(dir, "missing.pcap"), "--config", CONFIG, "--dry-run");
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /ENOENT/);
  const ng = file("x.pcapng", Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]));
  const r = cli("learn", "--pcap", ng, "--config", CONFIG, "--dry-run");
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /pcapng is not supported, convert with `tshark -F pcap/);
  // the fixture cut inside its last record: the three complete records are replayed and printed
  const bytes = readFileSync(FIXTURE);
  const cut = file("cut.pcap", bytes.subarray(0, bytes.length - 10));
  const t = cli("learn", "--pcap", cut, "--config", CONFIG, "--dry-run");
  assert.equal(t.status, 1);
  assert.match(t.stdout, /^records: 3 /m);
  assert.match(t.stderr, /record 4: .*the 3 records before it were replayed/);
});
