// `evpn-proxy show`, `clear` and `reload` as processes against a running daemon: tables, --json
// equal to the API's answer, exit statuses; and, without a daemon or without permission on its
// socket, one line on stderr and exit 1, never a stack trace.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MacPageSchema } from "../../src/api/schemas.js";
import { apiRequest } from "../../src/cli/api-client.js";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";
import { apiYaml, STATIC_MAC } from "../helpers/api.js";
import { collect, freePort, openSession, routesOf, SPEAKER, start } from "../helpers/daemon-run.js";
import type { ScriptedPeer } from "../helpers/scripted-peer.js";

const MAIN = new URL("../../src/cli/main.js", import.meta.url).pathname;
const FIXTURES = new URL("../../../test/fixtures/cli/", import.meta.url);

function cli(args: string[], uid?: number): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((r) => child.on("exit", (code) => r({ code, out, err })));
}

describe("show, clear and reload against a running daemon", () => {
  let dir: string;
  let socket: string;
  let file: string;
  let d: ReturnType<typeof start>;
  let p: ScriptedPeer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "evpn-proxy-cli-"));
    socket = join(dir, "api.sock");
    file = join(dir, "proxy.yaml");
    writeFileSync(join(dir, "token"), "t\n");
    const bgpPort = await freePort(SPEAKER);
    const httpPort = await freePort("127.0.0.1");
    writeFileSync(file, apiYaml({ bgpPort, socket, httpPort, tokenFile: join(dir, "token"), vxlan: "127.0.0.42" }));
    d = start(file);
    p = await openSession(bgpPort, d.out);
    await collect(p);
  });
  after(() => {
    p?.close();
    d?.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("show bgp summary: the golden header, the session Established", async () => {
    const r = await cli(["show", "bgp", "summary", "--socket", socket]);
    assert.equal(r.code, 0, r.err);
    const golden = readFileSync(new URL("bgp-summary.txt", FIXTURES), "utf8").split("\n")[0]!.replace(/ {2,}/g, " ");
    const lines = r.out.trimEnd().split("\n");
    assert.equal(lines[0]!.replace(/ {2,}/g, " "), golden);
    assert.match(lines[1]!, /^127\.0\.0\.2\s+65000\s+Established\s+00:00:\d\d\s+0\s+4\s/);
  });

  test("show evpn macs: a table; --json is the API's items", async () => {
    const t = await cli(["show", "evpn", "macs", "--socket", socket]);
    assert.equal(t.code, 0, t.err);
    assert.equal(
      t.out,
      "MAC                IP               VTEP             Source   Seq  Sticky  Dup  Age\n" +
        `${STATIC_MAC}  198.51.100.2     127.0.0.3        static   0    yes     no   -\n`,
    );
    const j = await cli(["show", "evpn", "macs", "--json", "--socket", socket]);
    const api = MacPageSchema.parse((await apiRequest(socket, "GET", "/api/v1/evpn/macs")).body);
    assert.deepEqual(JSON.parse(j.out), { items: api.items });
    const none = await cli(["show", "evpn", "macs", "--source", "evpn", "--socket", socket]);
    assert.equal(none.out, "no MACs\n");
  });

  test("show evpn services, flood-list, routes, learning, bgp neighbor; errors are one line, exit 1", async () => {
    for (const args of [
      ["evpn", "services"],
      ["evpn", "flood-list", "vni10"],
      ["evpn", "routes", "advertised", "--type", "3"],
      ["learning"],
      ["bgp", "neighbor", "127.0.0.2"],
      ["evpn", "mac", STATIC_MAC],
    ]) {
      const r = await cli(["show", ...args, "--socket", socket]);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.err}`);
      assert.ok(r.out.length > 0);
    }
    const missing = await cli(["show", "evpn", "flood-list", "nope", "--socket", socket]);
    assert.deepEqual(missing, { code: 1, out: "", err: 'evpn-proxy: no service "nope"\n' });
    const bad = await cli(["show", "bgp", "neighbor", "not-an-ip", "--socket", socket]);
    assert.deepEqual(bad, {
      code: 1,
      out: "",
      err: 'evpn-proxy: ip: expected an IPv4 or IPv6 address, got "not-an-ip"\n',
    });
  });

  test("clear bgp --soft, reload: the difference; a bad file: the errors and exit 2", async () => {
    const dups = await cli(["clear", "evpn", "duplicates", "--socket", socket]);
    assert.deepEqual(dups, { code: 0, out: "0 duplicate MACs released\n", err: "" });
    const soft = await cli(["clear", "bgp", "127.0.0.2", "--soft", "--socket", socket]);
    assert.deepEqual(soft, { code: 0, out: "ROUTE-REFRESH sent to 127.0.0.2\n", err: "" });
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace("      - address: 127.0.0.4\n", ""));
    const ok = await cli(["reload", "--socket", socket]);
    assert.deepEqual(ok, { code: 0, out: "reload applied:\n  services changed: vni10\n", err: "" });
    writeFileSync(file, text.replace("evi: 10", "evi: 0"));
    const bad = await cli(["reload", "--socket", socket]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.out,
      /^reload rejected; the running configuration is kept\nservices\[0\]\.evi: expected an integer/,
    );
    writeFileSync(file, text);
  });

  test("import-macs: a static VTEP's local MACs (a real bridge fdb dump) become sticky type 2 routes after the reload", async () => {
    await collect(p, 300);
    const fdb = new URL("bridge-fdb.json", FIXTURES).pathname;
    const args = ["import-macs", "-c", file, "--service", "vni10", "--vtep", "127.0.0.4", "--bridge-fdb", fdb];
    const dry = await cli([...args, "--dry-run", "--socket", socket]);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /^would add 3 static MAC\(s\)/);
    assert.deepEqual(routesOf(await collect(p, 300)).announced, []);
    const r = await cli([...args, "--socket", socket]);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^adding 3 static MAC\(s\) under service vni10, static VTEP 127\.0\.0\.4:\n(\+ .*\n){3}reload applied:\n {2}services changed: vni10\n$/,
    );
    // (the reload also brings back the IMET route of 127.0.0.4, which the reload test took away)
    const got = routesOf(await collect(p, 500)).announced.filter((x) => x.route.routeType === 2);
    assert.deepEqual(got.map((x) => (x.route.routeType === 2 ? `${x.route.rd} ${x.route.mac}` : "?")).sort(), [
      "127.0.0.4:10 02:00:00:00:aa:01",
      "127.0.0.4:10 02:00:00:00:aa:02",
      "127.0.0.4:10 02:00:00:00:aa:03",
    ]);
    for (const { u } of got) {
      const ext = u.attributes.find((a) => a.kind === "ext-communities");
      assert.ok(
        ext?.kind === "ext-communities" &&
          ext.communities.some((c) => c.kind === "mac-mobility" && (c.flags & 1) === 1),
        "sticky",
      );
    }
  });
});

describe("no daemon, no permission: one line, exit 1", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "evpn-proxy-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("no socket", async () => {
    const s = join(dir, "none.sock");
    const r = await cli(["show", "bgp", "summary", "--socket", s]);
    assert.deepEqual(r, { code: 1, out: "", err: `evpn-proxy: the daemon is not running: no socket ${s}\n` });
  });

  test("a socket nobody answers on", async () => {
    const s = join(dir, "stale.sock");
    writeFileSync(s, "");
    const r = await cli(["show", "evpn", "macs", "--socket", s]);
    assert.deepEqual(r, { code: 1, out: "", err: `evpn-proxy: the daemon is not running: nothing answers on ${s}\n` });
  });

  test("a socket without permission (as an unprivileged user)", async (t) => {
    // The test's own socket, mode 0660 and owned by root, used by uid 65534; as non-root, a mode 000 socket of ours.
    const root = process.getuid?.() === 0;
    const s = join(dir, "api.sock");
    const net = await import("node:net");
    const server = net.createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(s, () => r()));
    try {
      chmodSync(dir, 0o755);
      chmodSync(s, root ? 0o660 : 0o000);
      if (!root && process.env.CI === "true") throw new Error("CI=true: needs root to run as another user");
      if (!root) t.diagnostic("not root: the socket is mode 000 and ours");
      const r = await cli(["reload", "--socket", s], root ? 65534 : undefined);
      assert.deepEqual(r, {
        code: 1,
        out: "",
        err: `evpn-proxy: permission denied on ${s}: run as root or as a member of the socket's group\n`,
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
