// Log volume under attack: 2,000 TCP connections to the BGP port from an address that is no
// neighbour's produce one log line when the first comes and one with the count of the others
// (here at SIGTERM, which ends the 60-second window), while a session with a 3-second hold time
// stays up.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { encodeMessage, KEEPALIVE } from "../../src/codec/index.js";
import { daemonYaml, freePort, PEER, SPEAKER, start } from "../helpers/daemon-run.js";
import { ScriptedPeer } from "../helpers/scripted-peer.js";

const ATTACKER = "127.0.0.3";
const CONNECTIONS = 2000;

function connectOnce(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: SPEAKER, port, localAddress: ATTACKER });
    s.on("error", () => resolve());
    s.on("close", () => resolve());
  });
}

function logLines(out: string[]): { msg: string; [k: string]: unknown }[] {
  return out
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string });
}

test("2,000 connections from an unconfigured address: two log lines with the count, the session stays", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evpn-proxy-refusals-"));
  const port = await freePort(SPEAKER);
  const file = join(dir, "proxy.yaml");
  writeFileSync(file, daemonYaml(port, ["192.0.2.1"], []));
  const d = start(file);
  let keepalives: NodeJS.Timeout | undefined;
  try {
    let p: ScriptedPeer | undefined;
    for (let i = 0; i < 100 && !p; i++)
      p = await ScriptedPeer.connect(SPEAKER, port, PEER).catch(() => sleep(50).then(() => undefined));
    assert.ok(p, `daemon never listened:\n${d.out.join("")}`);
    await p.handshake({ asn: 65000, id: "192.0.2.254", hold: 3 });
    keepalives = setInterval(() => p.send(encodeMessage(KEEPALIVE)), 1000);
    const received: number[] = [];
    p.sock.on("data", () => received.push(Date.now()));

    const t0 = Date.now();
    for (let done = 0; done < CONNECTIONS; done += 50)
      await Promise.all(Array.from({ length: 50 }, () => connectOnce(port)));
    const floodMs = Date.now() - t0;
    await sleep(4000); // longer than the hold time
    assert.equal(p.closed, false, "the session stays up");
    const last = received.filter((t) => t > Date.now() - 3000).length;
    assert.ok(last >= 2, `keepalives from the daemon in the last 3 s: ${last}`);

    const during = logLines(d.out).filter((l) => /unconfigured/.test(l.msg) || l["reason"] === "unconfigured");
    assert.equal(during.length, 1, JSON.stringify(during));
    assert.equal(during[0]!["remote"], ATTACKER);

    d.child.kill("SIGTERM");
    assert.equal(await d.exited, 0);
    const all = logLines(d.out).filter((l) => /unconfigured/.test(l.msg));
    assert.equal(all.length, 2, JSON.stringify(all));
    assert.deepEqual(
      { source: all[1]!["source"], count: all[1]!["count"] },
      { source: ATTACKER, count: CONNECTIONS - 1 },
    );
    process.stderr.write(`${CONNECTIONS} connections in ${floodMs} ms: ${all.map((l) => l.msg).join(" | ")}\n`);
  } finally {
    clearInterval(keepalives);
    d.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
