// The learned table across restarts of `evpn-proxy run`: a daemon killed with SIGKILL and
// started again announces what it had learned in its initial table, before End-of-RIB (RFC 4724:
// a peer that kept our routes stale refreshes them instead of sweeping them); a clean stop saves
// the table; a state file that is torn, truncated, garbage or from elsewhere is logged and
// ignored, never a crash; a state directory that cannot be used fails the start in one line.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BgpMessage,
  capabilitiesOf,
  endOfRibFamily,
  GR_FORWARDING_PRESERVED,
  GR_RESTART_STATE,
} from "../../src/codec/index.js";
import { decodeState, encodeState } from "../../src/state/codec.js";
import { STATE_FILE } from "../../src/state/io/store.js";
import { arpInVxlan, collect, daemonYaml, freePort, PEER, routesOf, SPEAKER, start } from "../helpers/daemon-run.js";
import { ScriptedPeer } from "../helpers/scripted-peer.js";

const VTEP = "127.0.0.3";
/** The VXLAN socket's address: its own, so that other daemons on 127.0.0.1:4789 do not collide. */
const VXLAN = "127.0.0.21";
const root = mkdtempSync(join(tmpdir(), "evpn-proxy-daemon-state-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A configuration file learning from VXLAN on loopback, saving into its own state directory. */
function setup(saveSeconds: number): { file: string; state: string; port: Promise<number> } {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  const state = join(dir, "state");
  const file = join(dir, "proxy.yaml");
  const port = freePort(SPEAKER).then((p) => {
    const learning = `learning:\n  vxlan-listen: ${VXLAN}\n  include-ip: true\n  max-learn-rate: 100000\nstate-save-seconds: ${saveSeconds}\n`;
    writeFileSync(file, daemonYaml(p, [VTEP], [], learning, state));
    return p;
  });
  return { file, state, port };
}

/** A session from a graceful-restart-capable peer (EVPN kept, forwarding preserved); the daemon's OPEN. */
async function session(port: number, out: string[]): Promise<{ p: ScriptedPeer; open: BgpMessage }> {
  for (let i = 0; i < 100; i++) {
    const p = await ScriptedPeer.connect(SPEAKER, port, PEER).catch(() => undefined);
    const open = await p
      ?.handshake({
        asn: 65000,
        id: "192.0.2.254",
        hold: 90,
        extra: [
          {
            code: 64,
            restartFlags: 0,
            restartTime: 120,
            families: [{ afi: 25, safi: 70, flags: GR_FORWARDING_PRESERVED }],
          },
        ],
      })
      .catch(() => undefined);
    if (p && open) return { p, open };
    p?.close();
    await sleep(50);
  }
  throw new Error(`no session with the daemon:\n${out.join("")}`);
}

/** Messages up to and including the EVPN End-of-RIB. */
async function untilEndOfRib(p: ScriptedPeer): Promise<BgpMessage[]> {
  const got: BgpMessage[] = [];
  for (;;) {
    const m = await p.nextNonKeepalive(5000);
    assert.ok(m, "the session closed before End-of-RIB");
    got.push(m);
    if (m.type === 2 && endOfRibFamily(m)?.afi === 25) return got;
  }
}

/** `MAC IP|-` of the type 2 routes announced in `msgs`. */
function macRoutes(msgs: BgpMessage[]): string[] {
  return routesOf(msgs)
    .announced.flatMap(({ route: r }) => (r.routeType === 2 ? [`${r.mac} ${r.ip ?? "-"}`] : []))
    .sort();
}

async function learn(count: number): Promise<void> {
  const tx = dgram.createSocket("udp4");
  await new Promise<void>((r) => tx.bind({ address: VTEP, port: 0 }, () => r()));
  for (let i = 0; i < count; i++) await new Promise<void>((r) => tx.send(arpInVxlan(7, i), 4789, VXLAN, () => r()));
  tx.close();
}

function expected(count: number): string[] {
  const macs: string[] = [];
  for (let i = 0; i < count; i++) {
    const mac = `02:00:00:07:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
    macs.push(`${mac} -`, `${mac} 198.51.100.${1 + (i % 200)}`);
  }
  return macs.sort();
}

/** Polls the state file until it holds `count` records. */
async function savedRecords(state: string, count: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = decodeState(readFileSync(join(state, STATE_FILE)));
      if (r.ok && r.state.count === count) return;
    } catch {
      // not there yet
    }
    await sleep(100);
  }
  assert.fail(`the state file never held ${count} records`);
}

const log = (out: string[]) => out.join("");

describe("the learned table across restarts", () => {
  test("SIGKILL, then a restart: the learned routes are in the first UPDATEs, before End-of-RIB", async () => {
    const { file, state, port: portP } = setup(1);
    const port = await portP;
    const first = start(file);
    let second: ReturnType<typeof start> | undefined;
    try {
      const { p } = await session(port, first.out);
      await untilEndOfRib(p);
      await learn(150);
      const got: BgpMessage[] = [];
      while (macRoutes(got).length < 300) {
        const more = await collect(p, 2000);
        assert.ok(more.length > 0, `learned ${macRoutes(got).length / 2} of 150:\n${log(first.out).slice(-2000)}`);
        got.push(...more);
      }
      assert.deepEqual(macRoutes(got), expected(150));
      await savedRecords(state, 150);
      first.child.kill("SIGKILL");
      assert.equal(await first.exited, null, "killed");
      p.close();

      second = start(file);
      const s = await session(port, second.out);
      // RFC 4724 §4.1: the restarted speaker says so (Restart State), with EVPN forwarding preserved.
      const gr = s.open.type === 1 ? capabilitiesOf(s.open).find((c) => c.code === 64) : undefined;
      assert.ok(gr && gr.code === 64 && gr.restartFlags & GR_RESTART_STATE, "Restart State bit");
      const initial = await untilEndOfRib(s.p);
      assert.deepEqual(macRoutes(initial), expected(150), "every learned route before End-of-RIB");
      assert.match(log(second.out), /restored 150 learned MAC\(s\) and 150 IP\(s\) of 150 saved; 0 dropped/);
      s.p.close();
    } finally {
      first.child.kill("SIGKILL");
      second?.child.kill("SIGKILL");
    }
  });

  test("a clean stop saves the table (within the stop deadline), the next start restores it", async () => {
    const { file, state, port: portP } = setup(3600);
    const port = await portP;
    const first = start(file);
    let second: ReturnType<typeof start> | undefined;
    try {
      const { p } = await session(port, first.out);
      await untilEndOfRib(p);
      await learn(20);
      const got: BgpMessage[] = [];
      while (macRoutes(got).length < 40) got.push(...(await collect(p, 2000)));
      const t0 = Date.now();
      first.child.kill("SIGTERM");
      assert.equal(await first.exited, 0);
      assert.ok(Date.now() - t0 < 2000, "stopped within 2 s");
      const r = decodeState(readFileSync(join(state, STATE_FILE)));
      assert.ok(r.ok);
      assert.equal(r.state.count, 20);
      p.close();
      second = start(file);
      const s = await session(port, second.out);
      assert.deepEqual(macRoutes(await untilEndOfRib(s.p)), expected(20));
      s.p.close();
    } finally {
      first.child.kill("SIGKILL");
      second?.child.kill("SIGKILL");
    }
  });

  test("a torn, truncated, garbage, foreign or unreadable state file is logged and ignored; the daemon runs", async () => {
    const valid = encodeState(Date.now(), [
      {
        service: "vni10",
        evi: 10,
        vni: 10,
        vtep: VTEP,
        mac: "02:00:00:00:09:01",
        ips: [],
        seq: 0,
        maxSeq: 0,
        configured: false,
        announced: true,
        frozenUntil: 0,
        moves: [],
        lastSeen: Date.now(),
      },
    ]);
    const flipped = valid.slice();
    flipped[30] ^= 0x10;
    const future = valid.slice();
    future[9] = 9;
    const cases: [string, Uint8Array | "directory", RegExp][] = [
      ["empty", new Uint8Array(0), /too short for a state file \(0 bytes\)/],
      ["truncated", valid.subarray(0, valid.length - 7), /checksum mismatch .*: torn or corrupt/],
      ["a bit flipped", flipped, /checksum mismatch .*: torn or corrupt/],
      ["garbage", Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff), /no EVPXSTAT magic/],
      ["a later version", future, /state file version 9, this evpn-proxy reads version 1/],
      ["a directory", "directory", /cannot read it: is a directory, not a file/],
    ];
    for (const [what, content, reason] of cases) {
      const { file, state, port: portP } = setup(3600);
      const port = await portP;
      mkdirSync(state);
      if (content === "directory") mkdirSync(join(state, STATE_FILE));
      else writeFileSync(join(state, STATE_FILE), content);
      const d = start(file);
      try {
        const { p } = await session(port, d.out);
        const initial = await untilEndOfRib(p);
        assert.deepEqual(macRoutes(initial), [], what);
        assert.equal(routesOf(initial).announced.length, 1, `${what}: the IMET route only`);
        assert.match(log(d.out), /saved learned table ignored, learning from scratch/, what);
        assert.match(log(d.out), reason, what);
        if (what === "a bit flipped") {
          // Learning goes on; the clean stop replaces the bad file with a good one.
          await learn(3);
          const got: BgpMessage[] = [];
          while (macRoutes(got).length < 6) got.push(...(await collect(p, 2000)));
          d.child.kill("SIGTERM");
          assert.equal(await d.exited, 0);
          const r = decodeState(readFileSync(join(state, STATE_FILE)));
          assert.ok(r.ok && r.state.count === 3, what);
        }
        p.close();
      } finally {
        d.child.kill("SIGKILL");
        await d.exited;
      }
    }
  });

  test("SIGHUP moves the state to a new directory; one that cannot be used fails the reload, the old one kept", async () => {
    const { file, state, port: portP } = setup(1);
    const port = await portP;
    const d = start(file);
    try {
      const { p } = await session(port, d.out);
      await untilEndOfRib(p);
      await learn(5);
      await savedRecords(state, 5);
      const moved = `${state}-moved`;
      const yaml = readFileSync(file, "utf8");
      writeFileSync(file, yaml.replace(`state-directory: ${state}`, `state-directory: ${moved}`));
      d.child.kill("SIGHUP");
      await savedRecords(moved, 5);
      const bad = join(moved, STATE_FILE, "below-a-file");
      writeFileSync(file, yaml.replace(`state-directory: ${state}`, `state-directory: ${bad}`));
      d.child.kill("SIGHUP");
      for (let i = 0; i < 50 && !log(d.out).includes("reload failed"); i++) await sleep(100);
      assert.match(log(d.out), new RegExp(`reload failed: state-directory ${bad}: cannot create it`));
      await learn(7); // MACs 0-6: two more
      await savedRecords(moved, 7);
      p.close();
    } finally {
      d.child.kill("SIGKILL");
      await d.exited;
    }
  });

  test("a state directory that cannot be used: one line naming it and the reason, exit 1", async () => {
    const dir = join(root, `d${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "not-a-dir"), "");
    const port = await freePort(SPEAKER);
    const file = join(dir, "proxy.yaml");
    writeFileSync(file, daemonYaml(port, [VTEP], [], "", join(dir, "not-a-dir", "state")));
    const d = start(file);
    assert.equal(await d.exited, 1);
    const lines = log(d.out)
      .split("\n")
      .filter((l) => l.includes("cannot start"));
    assert.equal(lines.length, 1);
    assert.match(
      JSON.parse(lines[0]!).msg as string,
      new RegExp(
        `^cannot start: state-directory ${join(dir, "not-a-dir", "state")}: cannot create it: a path component is not a directory`,
      ),
    );
    await assert.rejects(ScriptedPeer.connect(SPEAKER, port, PEER), /ECONNREFUSED/, "nothing listens");
  });
});
