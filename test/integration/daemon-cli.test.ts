// `evpn-proxy run` end to end over loopback with a scripted peer: the routes of issue 4 exactly,
// SIGHUP applying a difference without a session reset, SIGTERM with Cease and exit 0 within 2 s,
// and a bad configuration refused with exit 2 before any socket is opened.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { NODE_FLAGS } from "../../src/cli/node-flags.js";
import type { BgpMessage } from "../../src/codec/index.js";
import { collect, daemonYaml, freePort, openSession, PEER, routesOf, SPEAKER, start } from "../helpers/daemon-run.js";
import { h } from "../helpers/hex.js";
import { ScriptedPeer } from "../helpers/scripted-peer.js";

const MAIN = new URL("../../src/cli/main.js", import.meta.url).pathname;
/** The first static VTEP gets two configured MACs (one with two addresses) unless `macs` is false. */
function config(port: number, vteps: string[], extra = "", macs = true): string {
  const entries = ["02:00:00:00:01:02", "02:00:00:00:01:03 198.51.100.3 2001:db8::3"];
  return daemonYaml(port, vteps, macs ? entries : [], extra);
}

describe("evpn-proxy run", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "evpn-proxy-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("announces the issue's routes, applies SIGHUP as a difference, stops with Cease on SIGTERM", async () => {
    const port = await freePort(SPEAKER);
    const file = join(dir, "proxy.yaml");
    writeFileSync(file, config(port, ["192.0.2.1", "192.0.2.2"]));
    const d = start(file);
    try {
      let p: ScriptedPeer | undefined;
      for (let i = 0; i < 100 && !p; i++)
        p = await ScriptedPeer.connect(SPEAKER, port, PEER).catch(() => sleep(50).then(() => undefined));
      assert.ok(p, `daemon never listened:\n${d.out.join("")}`);
      await p.handshake({ asn: 65000, id: "192.0.2.254", hold: 90 });
      const first = routesOf(await collect(p));
      const byRd = first.announced
        .map((x) => x.route)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      assert.deepEqual(
        byRd.map((r) =>
          r.routeType === 2
            ? `2 ${r.rd} ${r.mac} ${r.ip ?? "-"} ${r.label1}`
            : r.routeType === 3
              ? `3 ${r.rd} ${r.originator}`
              : "?",
        ),
        [
          "2 192.0.2.1:10 02:00:00:00:01:02 - 10",
          "2 192.0.2.1:10 02:00:00:00:01:03 198.51.100.3 10",
          "2 192.0.2.1:10 02:00:00:00:01:03 2001:db8::3 10",
          "2 192.0.2.1:10 02:00:00:00:01:03 - 10",
          "3 192.0.2.1:10 192.0.2.1",
          "3 192.0.2.2:10 192.0.2.2",
        ],
      );
      const imet = first.announced.find((x) => x.route.routeType === 3)!;
      const reach = imet.u.attributes.find((a) => a.kind === "mp-reach");
      assert.deepEqual(reach && reach.kind === "mp-reach" && reach.nextHop, [
        (imet.route as { originator: string }).originator,
      ]);
      const pmsi = imet.u.attributes.find((a) => a.kind === "pmsi-tunnel");
      assert.ok(pmsi && pmsi.kind === "pmsi-tunnel" && pmsi.tunnelType === 6 && pmsi.label === 10);
      const mac = first.announced.find((x) => x.route.routeType === 2)!;
      const ext = mac.u.attributes.find((a) => a.kind === "ext-communities");
      assert.ok(
        ext &&
          ext.kind === "ext-communities" &&
          ext.communities.some((c) => c.kind === "mac-mobility" && c.flags === 1),
      );
      assert.ok(ext.communities.some((c) => c.kind === "route-target" && c.value === "65000:10"));

      // SIGHUP: 192.0.2.2 goes, 192.0.2.3 comes; the session stays.
      writeFileSync(file, config(port, ["192.0.2.1", "192.0.2.3"]));
      d.child.kill("SIGHUP");
      const delta = routesOf(await collect(p));
      assert.deepEqual(
        delta.announced.map((x) => (x.route as { rd: string }).rd),
        ["192.0.2.3:10"],
      );
      assert.deepEqual(
        delta.withdrawn.map((r) => (r as { rd: string }).rd),
        ["192.0.2.2:10"],
      );
      assert.equal(p.closed, false, "no session reset");

      // An invalid file is refused; the running configuration stays.
      writeFileSync(file, config(port, ["192.0.2.1", "192.0.2.1"]));
      d.child.kill("SIGHUP");
      assert.deepEqual(routesOf(await collect(p)).announced, []);
      await sleep(200);
      assert.match(d.out.join(""), /configuration rejected/);

      const t0 = Date.now();
      d.child.kill("SIGTERM");
      let m = await p.next(2000);
      while (m && m.type !== 3) m = await p.next(2000);
      assert.ok(m && m.type === 3 && m.code === 6 && m.subcode === 2, "Cease / Administrative Shutdown");
      assert.equal(await d.exited, 0);
      assert.ok(Date.now() - t0 < 2000, `exited after ${Date.now() - t0} ms`);
    } finally {
      d.child.kill("SIGKILL");
    }
  });

  test("a bad configuration: exit 2 naming the key path, and nothing listens", async () => {
    const port = await freePort(SPEAKER);
    const file = join(dir, "bad.yaml");
    writeFileSync(file, config(port, ["192.0.2.1", "192.0.2.300"]));
    const d = start(file);
    assert.equal(await d.exited, 2);
    assert.match(d.out.join(""), /services\[0\]\.static-vteps\[1\]\.address/);
    await assert.rejects(ScriptedPeer.connect(SPEAKER, port, PEER), /ECONNREFUSED/);
  });
});

describe("bad configuration files: run and check exit 2 naming the key path", () => {
  const base = (over: string) => `router-id: 192.0.2.4
local-as: 65000
listen:
  address: ${SPEAKER}
  port: PORT
neighbors:
  - address: ${PEER}
    peer-as: 65000
    passive: true
${over}`;
  const svc = (body: string) => `services:\n  - name: vni10\n${body}`;
  const cases: [string, string, RegExp][] = [
    ["missing required key", svc("    evi: 10\n    static-vteps: []\n"), /services\[0\]\.vni: /],
    ["wrong type", svc('    evi: "ten"\n    vni: 10\n'), /services\[0\]\.evi: /],
    [
      "malformed MAC",
      svc(
        '    evi: 10\n    vni: 10\n    static-vteps:\n      - address: 192.0.2.1\n        macs: ["02:00:00:00:01"]\n',
      ),
      /services\[0\]\.static-vteps\[0\]\.macs\[0\]: /,
    ],
    [
      "malformed address",
      svc("    evi: 10\n    vni: 10\n    static-vteps:\n      - address: 192.0.2.300\n"),
      /services\[0\]\.static-vteps\[0\]\.address: /,
    ],
    [
      "duplicate VTEP",
      svc("    evi: 10\n    vni: 10\n    static-vteps:\n      - address: 192.0.2.1\n      - address: 192.0.2.1\n"),
      /services\[0\]\.static-vteps\[1\]/,
    ],
    [
      "duplicate service",
      `${svc("    evi: 10\n    vni: 10\n")}  - name: vni10\n    evi: 11\n    vni: 11\n`,
      /services\[1\]\.name: /,
    ],
    ["VNI out of range", svc("    evi: 10\n    vni: 16777216\n"), /services\[0\]\.vni: /],
    ["EVI out of range", svc("    evi: 0\n    vni: 10\n"), /services\[0\]\.evi: /],
    ["unknown key", svc("    evi: 10\n    vni: 10\n    static-vtep: []\n"), /services\[0\]\.static-vtep: /],
  ];
  for (const [name, body, path] of cases)
    test(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-bad-"));
      try {
        const port = await freePort(SPEAKER);
        const file = join(dir, "bad.yaml");
        writeFileSync(file, base(body).replace("PORT", String(port)));
        for (const cmd of ["check", "run"]) {
          const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, cmd, "--config", file], {
            stdio: ["ignore", "pipe", "pipe"],
          });
          let err = "";
          child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
          const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
          assert.equal(code, 2, `${cmd}: exit status`);
          assert.match(err, path, `${cmd}: ${err}`);
          assert.ok(err.startsWith(`${file}: `), "the message names the file");
        }
        await assert.rejects(ScriptedPeer.connect(SPEAKER, port, PEER), /ECONNREFUSED/, "no session was opened");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  test("truncated, garbage and resource-exhausting YAML: check and run exit 2 with one message naming the file, never a stack", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-bad-"));
    try {
      const example = readFileSync(new URL("../../../examples/evpn-proxy.yaml", import.meta.url), "utf8");
      const bytes = new Uint8Array(4096);
      let x = 0x2545f491;
      for (let i = 0; i < bytes.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        bytes[i] = x & 0xff;
      }
      const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 10; i++) {
        const p = String.fromCharCode(96 + i);
        bomb.push(
          `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${p}`).join(",")}]`,
        );
      }
      const inputs: [string, string | Uint8Array][] = [
        ...[0.1, 0.35, 0.6, 0.85].map((f): [string, string] => [
          `truncated at ${f * 100} %`,
          example.slice(0, Math.floor(example.length * f)) + '\n  - "unterminated',
        ]),
        ["garbage bytes", bytes],
        ["an alias bomb", bomb.join("\n") + "\n"],
        ["a scalar", "42\n"],
        ["empty", ""],
      ];
      for (const [name, body] of inputs) {
        const file = join(dir, "bad.yaml");
        writeFileSync(file, body);
        for (const cmd of ["check", "run"]) {
          const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, cmd, "--config", file], {
            stdio: ["ignore", "pipe", "pipe"],
          });
          let err = "";
          child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
          const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
          assert.equal(code, 2, `${name}, ${cmd}: exit status (${err})`);
          assert.ok(err.startsWith(`${file}: `), `${name}, ${cmd}: the message names the file: ${err}`);
          assert.doesNotMatch(err, /^\s+at /m, `${name}, ${cmd}: no stack trace`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("the documented example passes check", async () => {
    const file = new URL("../../../examples/evpn-proxy.yaml", import.meta.url).pathname;
    const child = spawn(process.execPath, [MAIN, "check", "--config", file], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    assert.equal(await new Promise((r) => child.on("exit", r)), 0);
    assert.match(out, /OK/);
  });
});

describe("evpn-proxy run with data-plane learning (VXLAN UDP listener)", () => {
  test("an ARP reply inside VXLAN from a static VTEP becomes MAC and MAC/IP routes at that VTEP", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-learn-"));
    const port = await freePort(SPEAKER);
    const file = join(dir, "learn.yaml");
    writeFileSync(
      file,
      config(port, ["127.0.0.3"], `learning:\n  vxlan-listen: ${SPEAKER}\n  include-ip: true\n`, false),
    );
    const d = start(file);
    const tx = dgram.createSocket("udp4");
    try {
      const p = await openSession(port, d.out);
      await collect(p); // the IMET route and End-of-RIB
      await new Promise<void>((r) => tx.bind({ address: "127.0.0.3", port: 0 }, () => r()));
      // VXLAN (I flag, VNI 10) | Ethernet broadcast from 02:00:00:00:01:05 | ARP reply 198.51.100.5 is-at 02:00:00:00:01:05
      const frame = h(
        "08000000 00000a00 | ffffffffffff 020000000105 0806 | 0001 0800 06 04 0002 020000000105 c6336405 020000000106 c6336406",
      );
      await new Promise<void>((r) => tx.send(frame, 4789, SPEAKER, () => r()));
      const got = routesOf(await collect(p, 700));
      assert.deepEqual(
        got.announced
          .map((x) =>
            x.route.routeType === 2 ? `${x.route.rd} ${x.route.mac} ${x.route.ip ?? "-"} ${x.route.label1}` : "?",
          )
          .sort(),
        ["127.0.0.3:10 02:00:00:00:01:05 - 10", "127.0.0.3:10 02:00:00:00:01:05 198.51.100.5 10"],
      );
      const reach = got.announced[0]!.u.attributes.find((a) => a.kind === "mp-reach");
      assert.deepEqual(reach && reach.kind === "mp-reach" && reach.nextHop, ["127.0.0.3"]);
      // The same ARP again costs no BGP work.
      await new Promise<void>((r) => tx.send(frame, 4789, SPEAKER, () => r()));
      assert.deepEqual(routesOf(await collect(p, 500)).announced, []);
      // A new session is sent the learned routes again (the learning engine holds their only copy).
      p.close();
      let q: ScriptedPeer | undefined;
      let open: BgpMessage | undefined;
      for (let i = 0; i < 100 && !open; i++) {
        q = await ScriptedPeer.connect(SPEAKER, port, PEER).catch(() => undefined);
        open = await q?.handshake({ asn: 65000, id: "192.0.2.254", hold: 90 }).catch(() => undefined);
        if (!open) {
          q?.close();
          await sleep(100);
        }
      }
      assert.ok(q && open, `no second session:\n${d.out.join("")}`);
      const again = await collect(q);
      assert.deepEqual(
        routesOf(again)
          .announced.map((x) => (x.route.routeType === 2 ? `${x.route.mac} ${x.route.ip ?? "-"}` : "IMET"))
          .sort(),
        ["02:00:00:00:01:05 -", "02:00:00:00:01:05 198.51.100.5", "IMET"],
      );
      const last = again[again.length - 1];
      assert.ok(last?.type === 2 && last.attributes.length === 1, "End-of-RIB after the table");
      q.close();
    } finally {
      tx.close();
      d.child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
