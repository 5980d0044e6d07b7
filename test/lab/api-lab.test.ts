// The operator's view inside the seed lab (issue 13, acceptance 4): `evpn-proxy show bgp summary`
// and `show evpn macs`/`routes` (the API's JSON, through the command line, over the proxy's
// socket) agree with FRR's own view of the proxy: the route reflector's session with it (state,
// prefixes sent and received), the routes the RR holds from it, and the static MAC as both FRR
// VTEPs see it (remote at its static VTEP, sticky).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { ApiJson } from "../../src/api/schemas.js";
import {
  EVPN_VTEPS,
  PROXY_IP,
  PROXY_MAIN,
  RR_IP,
  STATIC_MAC,
  STATIC_VTEPS,
  buildSeedLab,
  proxyConfigYaml,
  startProxy,
  waitWithProxy,
  writeProxyConfig,
} from "../../lab/seed.js";
import { requireTools } from "../helpers/env.js";
import { labNote } from "../helpers/lab-steps.js";
import { FRR_BIN, withLab } from "../../tools/netlab/index.js";

const TOOLS = ["ip", "bridge", "vtysh", "ping", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];
const PREFIX = "t13api";
const EVPN_IPS = new Set(EVPN_VTEPS.map((v) => v.ip));

test("show bgp summary and show evpn macs agree with FRR's view of the proxy", { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, TOOLS, { root: true })) return;
  const note = labNote(t);
  await withLab(t, PREFIX, async (lab) => {
    const seed = await buildSeedLab(lab);
    const { rr } = seed;
    const socket = join(lab.workDir, "api.sock");
    const file = writeProxyConfig(lab, `${proxyConfigYaml()}management:\n  socket: ${socket}\n`);
    const proxy = startProxy(lab, file);
    const wait = <T>(what: string, fn: () => Promise<T | undefined | null | false>) =>
      waitWithProxy(lab, proxy, what, fn, 30_000, 200);
    const show = async <T>(...args: string[]): Promise<T> => {
      const r = await lab.exec(null, process.execPath, [PROXY_MAIN, "show", ...args, "--json", "--socket", socket]);
      return JSON.parse(r.stdout) as T;
    };
    await wait("RR: session with the proxy Established", async () => (await rr.peerState(PROXY_IP)) === "Established");
    const s2 = STATIC_VTEPS[1]!.ip;
    for (const v of EVPN_VTEPS)
      await wait(`${v.name}: the static MAC remote at ${s2}`, async () => {
        const m = (await seed.frr[v.name]!.evpnMacs(10))[STATIC_MAC];
        return m?.type === "remote" && m.remoteVtep === s2;
      });
    // Both sides settled: the RR has every route the proxy advertised.
    const fromProxy = async () =>
      (await rr.evpnRoutes()).filter(
        (r) => !EVPN_IPS.has(r.rd.split(":")[0]!) && r.paths.some((p) => p.peerId === PROXY_IP),
      );
    const neighbors = await wait("the proxy's table at the RR", async () => {
      const n = await show<ApiJson<"Neighbors">>("bgp", "summary");
      const rrView = n.neighbors.find((x) => x.address === RR_IP);
      return rrView?.endOfRibSent && (await fromProxy()).length === rrView.routes.advertised.total && n;
    });
    const mine = neighbors.neighbors.find((x) => x.address === RR_IP)!;
    const frrPeer = (await rr.bgpSummary()).peers?.[PROXY_IP];
    note(`proxy: ${JSON.stringify(mine.routes)}; RR: ${JSON.stringify(frrPeer)}`);
    assert.equal(mine.state, "Established");
    assert.equal(frrPeer?.state, "Established");
    // What one side sent, the other received.
    assert.equal(mine.routes.advertised.total, frrPeer?.pfxRcd, "PfxSnt (proxy) = PfxRcd (RR)");
    assert.equal(mine.routes.received.total, frrPeer?.pfxSnt, "PfxRcd (proxy) = PfxSnt (RR)");
    // The routes: the RR's from the proxy are the proxy's advertised ones (its planned routes; nothing learned here).
    const routes = await show<{ routes: ApiJson<"Route">[] }>("evpn", "routes", "advertised");
    assert.deepEqual(
      routes.routes.map((r) => `${r.rd} ${r.prefix}`).sort(),
      (await fromProxy()).map((r) => `${r.rd} ${r.prefix}`).sort(),
    );
    // The static MAC: configured at s2 and sticky in the proxy's table, remote at s2 and sticky at both FRR VTEPs.
    const macs = await show<{ items: ApiJson<"Mac">[] }>("evpn", "macs", "--source", "static");
    const mac = macs.items.find((m) => m.mac === STATIC_MAC && m.vni === 10);
    assert.deepEqual([mac?.vtep, mac?.sticky, mac?.announced], [s2, true, true]);
    for (const v of EVPN_VTEPS) {
      const detail = await seed.frr[v.name]!.vtyshJson<Record<string, { remoteVtep?: string; stickyMac?: boolean }>>(
        `show evpn mac vni 10 mac ${STATIC_MAC} json`,
      );
      assert.deepEqual([detail[STATIC_MAC]?.remoteVtep, detail[STATIC_MAC]?.stickyMac], [s2, true], v.name);
    }
  });
});
