// The operator's view inside the seed lab. Step 1 (issue 13, acceptance 4): `evpn-proxy show bgp
// summary` and `show evpn macs`/`routes` (the API's JSON, through the command line, over the
// proxy's socket) agree with FRR's own view of the proxy: the route reflector's session with it
// (state, prefixes sent and received), the routes the RR holds from it, and the static MAC as both
// FRR VTEPs see it (remote at its static VTEP, sticky). Step 2 (acceptance 5): the hosts behind
// static VTEP s1 ping, s1's kernel bridge learns their MACs, and `bridge -j fdb show` in s1 piped
// into `evpn-proxy import-macs --bridge-fdb -` adds exactly those MACs to the daemon's commented
// configuration file; after the reload both FRR VTEPs hold them remote at s1 and sticky, and the
// proxy's routes for them carry the sticky MAC mobility flag, at the proxy and at the RR.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
  host,
  proxyConfigYaml,
  startProxy,
  waitWithProxy,
  writeProxyConfig,
} from "../../lab/seed.js";
import { requireTools } from "../helpers/env.js";
import { labNote, labSteps } from "../helpers/lab-steps.js";
import { FRR_BIN, withLab } from "../../tools/netlab/index.js";

const TOOLS = ["ip", "bridge", "vtysh", "ping", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];
const PREFIX = "t13api";
const EVPN_IPS = new Set(EVPN_VTEPS.map((v) => v.ip));
/** A second host behind static VTEP s1 in VNI 10 (the seed lab has one per VTEP and service). */
const EXTRA = { ns: "h10s1b", ip: "198.51.100.81", mac: "02:00:00:00:10:81", port: "host10b" };

const sh = (argv: string[]): string => argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");

test(
  "show agrees with FRR's view of the proxy; import-macs from a static VTEP's bridge fdb",
  { timeout: 300_000 },
  async (t) => {
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
      const fromProxy = async () =>
        (await rr.evpnRoutes()).filter(
          (r) => !EVPN_IPS.has(r.rd.split(":")[0]!) && r.paths.some((p) => p.peerId === PROXY_IP),
        );
      const step = labSteps(t, lab, PREFIX, 120_000, () => `--- proxy log ---\n${proxy.logTail(40)}`);
      await step("1. show bgp summary and show evpn macs agree with FRR's view of the proxy", async () => {
        await wait(
          "RR: session with the proxy Established",
          async () => (await rr.peerState(PROXY_IP)) === "Established",
        );
        const s2 = STATIC_VTEPS[1]!.ip;
        for (const v of EVPN_VTEPS)
          await wait(`${v.name}: the static MAC remote at ${s2}`, async () => {
            const m = (await seed.frr[v.name]!.evpnMacs(10))[STATIC_MAC];
            return m?.type === "remote" && m.remoteVtep === s2;
          });
        // Both sides settled: the RR has every route the proxy advertised.
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
          const detail = await seed.frr[v.name]!.vtyshJson<
            Record<string, { remoteVtep?: string; stickyMac?: boolean }>
          >(`show evpn mac vni 10 mac ${STATIC_MAC} json`);
          assert.deepEqual([detail[STATIC_MAC]?.remoteVtep, detail[STATIC_MAC]?.stickyMac], [s2, true], v.name);
        }
      });

      await step(
        "2. import-macs: s1's learned MACs from its bridge fdb become sticky type 2 routes; comments kept",
        async () => {
          const s1 = STATIC_VTEPS[0]!;
          const own = host(10, s1.name);
          await lab.ns(EXTRA.ns);
          await lab.link(EXTRA.ns, `${EXTRA.ip}/24`, s1.name, null, { aIf: "eth0", bIf: EXTRA.port, aMac: EXTRA.mac });
          await lab.ip(s1.name, ["link", "set", EXTRA.port, "master", "br10"]);
          const macs = [own.mac, EXTRA.mac].sort();
          // Nothing announces them yet: the FRR VTEPs do not hold them at s1.
          const atFrr = async (v: string, mac: string) =>
            (
              await seed.frr[v]!.vtyshJson<Record<string, { remoteVtep?: string; stickyMac?: boolean }>>(
                `show evpn mac vni 10 mac ${mac} json`,
              )
            )[mac];
          for (const v of EVPN_VTEPS) {
            const table = await seed.frr[v.name]!.evpnMacs(10);
            for (const m of macs) assert.notEqual(table[m]?.remoteVtep, s1.ip, `${v.name}: ${m} not at ${s1.ip} yet`);
          }
          // The hosts behind s1 talk to an EVPN host (VNI 10) and s1's VNI 20 host too, so s1 learns MACs in both bridges.
          const e1 = host(10, EVPN_VTEPS[0]!.name);
          for (const [from, to] of [
            [own.name, e1.ip],
            [EXTRA.ns, e1.ip],
            [host(20, s1.name).name, host(20, EVPN_VTEPS[0]!.name).ip],
          ] as const)
            assert.ok(await lab.ping(from, to, { count: 3, waitS: 2 }), `${from} pings ${to}`);
          const dump = JSON.parse((await lab.exec(s1.name, "bridge", ["-j", "fdb", "show"])).stdout) as {
            mac: string;
            ifname: string;
            master?: string;
          }[];
          for (const m of macs)
            assert.ok(
              dump.some((e) => e.mac === m && e.master === "br10"),
              `s1's br10 learned ${m}`,
            );
          note(`s1's bridge fdb: ${dump.length} entries`);
          // `bridge -j fdb show` in s1 piped into import-macs, against the daemon's own (commented) file.
          const before = readFileSync(file, "utf8");
          assert.match(before, /^# evpn-proxy configuration of the namespace lab/);
          const pipe = (extra: string[]) =>
            lab.exec(
              null,
              "sh",
              [
                "-c",
                `${sh(["ip", "netns", "exec", seed.nsName(s1.name), "bridge", "-j", "fdb", "show"])} | ${sh([
                  process.execPath,
                  PROXY_MAIN,
                  "import-macs",
                  "-c",
                  file,
                  "--service",
                  "vni10",
                  "--vtep",
                  s1.ip,
                  "--bridge-fdb",
                  "-",
                  "--socket",
                  socket,
                  ...extra,
                ])}`,
              ],
              { check: false },
            );
          // The whole dump has br10's and br20's MACs: refused until the service's bridge is named.
          const both = await pipe([]);
          assert.equal(both.code, 2, both.stderr);
          assert.match(
            both.stderr,
            /more than one bridge or VLAN \(bridge br10, bridge br20\): pick the service's with --bridge/,
          );
          assert.equal(readFileSync(file, "utf8"), before);
          const r = await pipe(["--bridge", "br10"]);
          note(`import-macs: exit ${r.code}\n${r.stdout}${r.stderr}`);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(
            r.stdout,
            `adding 2 static MAC(s) under service vni10, static VTEP ${s1.ip}:\n${macs.map((m) => `+ ${m}\n`).join("")}` +
              "reload applied:\n  services changed: vni10\n",
          );
          // Every line of the file kept (comments included); exactly these MACs added, under s1 in vni10.
          assert.equal(
            readFileSync(file, "utf8"),
            before.replace(
              `      - address: ${s1.ip}\n`,
              `      - address: ${s1.ip}\n        macs:\n${macs.map((m) => `          - ${m}\n`).join("")}`,
            ),
          );
          // Both FRR VTEPs: remote at s1, sticky.
          for (const v of EVPN_VTEPS)
            for (const m of macs)
              await wait(`${v.name}: ${m} remote at ${s1.ip}, sticky`, async () => {
                const x = await atFrr(v.name, m);
                return x?.remoteVtep === s1.ip && x.stickyMac === true;
              });
          // The proxy's advertised MAC routes for them: sticky (RFC 7432 §15.2), next hop s1; and so at the RR.
          const adv = await show<{ routes: ApiJson<"Route">[] }>("evpn", "routes", "advertised", "--type", "2");
          const mine2 = adv.routes.filter((x) => x.mac !== null && macs.includes(x.mac));
          assert.deepEqual(
            mine2.map((x) => `${x.rd} ${x.mac} ${x.nextHop} sticky=${x.sticky}`).sort(),
            macs.map((m) => `${s1.ip}:10 ${m} ${s1.ip} sticky=true`),
          );
          const atRr = (await fromProxy()).filter((x) => macs.some((m) => x.prefix.includes(`[${m}]`)));
          note(`RR: ${atRr.map((x) => `${x.rd} ${x.prefix} ${x.paths[0]?.extendedCommunity?.string}`).join("; ")}`);
          assert.equal(atRr.length, 2);
          for (const x of atRr) assert.match(x.paths[0]?.extendedCommunity?.string ?? "", /sticky MAC/, x.prefix);
        },
      );
    });
  },
);
