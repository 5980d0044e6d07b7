// The proxy in the seed's topology (issue 4, acceptance points 1-5 and 7), in network namespaces
// built by lab/seed.ts: an FRR route reflector, two FRR EVPN VTEPs (e1 192.0.2.11, e2 .12), two
// Linux static VTEPs (s1 192.0.2.1, s2 .2), a host behind every VTEP for each of two services
// (VNI 10 = EVI 10, default route targets; VNI 20 in EVI 200 with explicit route target
// 65000:2000 on both sides) and `evpn-proxy run` (192.0.2.4) as a client of the RR.
//
// 1. Before the proxy: static<->static and EVPN<->EVPN hosts ping, static<->EVPN ones do not.
// 2. With the proxy: both FRR VTEPs flood VNI 10 to both static VTEPs; the configured static MAC
//    (the host behind s2) is remote at 192.0.2.2 and sticky on both; every VNI 10 pair pings.
// 3. The same for VNI 20 (EVI 200 ≠ VNI, explicit route targets).
// 4. SIGHUP with s1 removed from VNI 10 and 192.0.2.3 (no namespace has it) added: FRR's flood
//    lists follow within 2 s; VNI 20 is untouched; the session is not reset (RR's counters and
//    Established time, the TCP connection's ports).
// 5. SIGTERM: the RR and both VTEPs have no proxied route left within 2 s, the proxy sent a Cease
//    and exited 0 within 2 s.
// 7. Everything the proxy sent (captured on its underlay interface for the whole test) dissects
//    in tshark without a malformed or expert-error frame.
//
// Found here (FRR 8.4.4):
// - `show evpn mac vni <vni> json` has no sticky flag; `show evpn mac vni <vni> mac <mac> json`
//   has `"stickyMac": true` (keyed by the MAC, like the table form).
// - `show bgp neighbors <ip> json` of the RR's dynamic peer has `connectionsEstablished`,
//   `connectionsDropped`, `bgpTimerUpEstablishedEpoch` (wall clock minus uptime, in whole seconds:
//   it can read one second apart for the same session) and the TCP ports (`portForeign`).
// - In a shared frr.conf, zebra takes a `vni 20` block of `router bgp` as its own top-level
//   command (the default VRF's L3 VNI): see vtepVniConfig() in lab/seed.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  EVPN_VTEPS,
  type Host,
  PROXY_IP,
  PROXY_MAIN,
  type ProxyService,
  RR_IP,
  SERVICES,
  STATIC_MAC,
  STATIC_VTEPS,
  type SeedLab,
  UNDERLAY_IF,
  buildSeedLab,
  defaultProxyServices,
  formatMatrix,
  proxyConfigYaml,
  proxyLogLines,
  serviceRouteTargets,
  startProxy,
  unexpectedPings,
  waitWithProxy,
  writeProxyConfig,
  type PingMatrix,
} from "../../lab/seed.js";
import { requireTools } from "../helpers/env.js";
import { labNote, labSteps } from "../helpers/lab-steps.js";
import { FRR_BIN, type Frr, type FrrEvpnRoute, type LabProcess, withLab } from "../../tools/netlab/index.js";
import { frrNeighbor } from "./frr-json.js";

const TOOLS = ["ip", "bridge", "vtysh", "tshark", "tcpdump", "ping", `${FRR_BIN}/zebra`, `${FRR_BIN}/bgpd`];
const PREFIX = "t4px";
/** The static VTEP that SIGHUP adds: an address no namespace has. */
const NEW_VTEP = "192.0.2.3";
const S1 = STATIC_VTEPS[0]!.ip;
const S2 = STATIC_VTEPS[1]!.ip;
const EVPN_IPS = new Set(EVPN_VTEPS.map((v) => v.ip));
const ip4 = (ip: string): number => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
const byIp = (a: string, b: string): number => ip4(a) - ip4(b);

/** Routes announced by the proxy: every RD that is not one of an FRR VTEP (`<router-id>:<n>`). */
const proxied = (routes: FrrEvpnRoute[]): FrrEvpnRoute[] => routes.filter((r) => !EVPN_IPS.has(r.rd.split(":")[0]!));
const keys = (routes: FrrEvpnRoute[]): string[] => routes.map((r) => `${r.rd} ${r.prefix}`).sort();

/** What FRR should flood a VNI to at VTEP `self`: the other FRR VTEP plus the proxied ones. */
function expectedFlood(self: string, staticVteps: string[]): string[] {
  return [...EVPN_VTEPS.map((v) => v.ip).filter((ip) => ip !== self), ...staticVteps].sort(byIp);
}

/** One MAC's entry in `show evpn mac vni <vni> mac <mac> json` (the only form with stickyMac). */
interface FrrMacDetail {
  type?: string;
  remoteVtep?: string;
  stickyMac?: boolean;
  [k: string]: unknown;
}

async function macDetail(frr: Frr, vni: number, mac: string): Promise<FrrMacDetail | undefined> {
  const r = await frr.vtyshJson<Record<string, FrrMacDetail>>(`show evpn mac vni ${vni} mac ${mac} json`);
  return r[mac];
}

function pairs(m: PingMatrix, vni: number, pred: (from: Host, to: Host) => boolean): PingMatrix {
  return m.filter((r) => r.service.vni === vni && pred(r.from, r.to));
}
const names = (m: PingMatrix): string[] => m.map((r) => `${r.from.name}->${r.to.name}`);

test(
  "proxy lab: static VTEPs join FRR's EVPN fabric through evpn-proxy (issue 4: 1-5, 7)",
  { timeout: 180_000 },
  async (t) => {
    if (!requireTools(t, TOOLS, { root: true })) return;
    const note = labNote(t);

    await withLab(t, PREFIX, async (lab) => {
      const seed: SeedLab = await buildSeedLab(lab);
      const { rr } = seed;
      const e1 = seed.frr["e1"]!;
      const e2 = seed.frr["e2"]!;
      const evpn: [string, Frr][] = EVPN_VTEPS.map((v) => [v.ip, seed.frr[v.name]!]);
      note("lab built, FRR VTEPs flood to each other");
      const cap = await lab.capture("px", UNDERLAY_IF, "tcp port 179");
      let proxy: LabProcess | undefined;

      const step = labSteps(t, lab, PREFIX, 60_000);
      const wait = <T>(
        what: string,
        fn: () => Promise<T | undefined | null | false>,
        timeoutMs = 20_000,
        intervalMs = 100,
      ): Promise<T> => (proxy ? waitWithProxy(lab, proxy, what, fn, timeoutMs, intervalMs) : lab.waitFor(what, fn));

      await step("1. before the proxy: static<->static and EVPN<->EVPN ping, static->EVPN does not", async () => {
        const m = await seed.pingMatrix();
        note(`ping matrix before the proxy:\n${formatMatrix(m, "before")}`);
        for (const s of SERVICES) {
          const cross = pairs(m, s.vni, (a, b) => a.vtep.kind !== b.vtep.kind);
          const same = pairs(m, s.vni, (a, b) => a.vtep.kind === b.vtep.kind);
          assert.deepEqual(names(cross.filter((r) => r.ok)), [], `VNI ${s.vni}: static<->EVPN pings that worked`);
          assert.deepEqual(names(same.filter((r) => !r.ok)), [], `VNI ${s.vni}: same-kind pings that failed`);
        }
        assert.deepEqual(unexpectedPings(m, "before"), []);
      });

      await step("2. with the proxy: flood lists, sticky static MAC, every VNI 10 pair pings", async () => {
        const configFile = writeProxyConfig(lab, proxyConfigYaml());
        const check = await lab.exec(null, process.execPath, [PROXY_MAIN, "check", "--config", configFile], {
          check: false,
        });
        assert.equal(check.code, 0, `evpn-proxy check: ${check.stdout}${check.stderr}`);
        proxy = startProxy(lab, configFile);
        await wait(
          "RR: session with the proxy Established",
          async () => (await rr.peerState(PROXY_IP)) === "Established",
        );
        note("proxy <-> RR Established");
        for (const [ip, frr] of evpn) {
          await wait(`${ip}: VNI 10 floods to both static VTEPs`, async () => {
            const fl = await frr.remoteVteps(10);
            return fl.includes(S1) && fl.includes(S2) && fl;
          });
          assert.deepEqual(
            (await frr.remoteVteps(10)).sort(byIp),
            expectedFlood(ip, [S1, S2]),
            `${ip} VNI 10 flood list`,
          );
        }
        note("FRR VTEPs flood VNI 10 to the static VTEPs");
        for (const [ip, frr] of evpn) {
          const mac = await wait(`${ip}: static MAC ${STATIC_MAC} in VNI 10`, () => macDetail(frr, 10, STATIC_MAC));
          assert.equal(mac.type, "remote", `${ip}: ${JSON.stringify(mac)}`);
          assert.equal(mac.remoteVtep, S2, `${ip}: ${JSON.stringify(mac)}`);
          assert.equal(mac.stickyMac, true, `${ip}: sticky flag: ${JSON.stringify(mac)}`);
          assert.equal((await frr.evpnMacs(10))[STATIC_MAC]?.type, "remote");
        }
        // the routes behind it, as the RR has them from the proxy
        const routes = keys(proxied(await rr.evpnRoutes()));
        assert.deepEqual(
          routes,
          [
            `${S1}:10 [3]:[0]:[32]:[${S1}]`,
            `${S1}:200 [3]:[0]:[32]:[${S1}]`,
            `${S2}:10 [2]:[0]:[48]:[${STATIC_MAC}]`,
            `${S2}:10 [3]:[0]:[32]:[${S2}]`,
            `${S2}:200 [3]:[0]:[32]:[${S2}]`,
          ],
          "the proxy's routes in the RR",
        );
        const m = await seed.pingMatrix();
        note(`ping matrix with the proxy:\n${formatMatrix(m, "after")}`);
        assert.deepEqual(names(pairs(m, 10, () => true).filter((r) => !r.ok)), [], "VNI 10 pairs that do not ping");
      });

      await step("3. second service, EVI 200 on VNI 20 with explicit route targets, works the same", async () => {
        const rt = serviceRouteTargets(SERVICES.find((s) => s.vni === 20)!);
        assert.deepEqual(rt, ["65000:2000"]);
        for (const [ip, frr] of evpn) {
          const fl = await wait(`${ip}: VNI 20 floods to both static VTEPs`, async () => {
            const l = await frr.remoteVteps(20);
            return l.includes(S1) && l.includes(S2) && l;
          });
          assert.deepEqual(fl.sort(byIp), expectedFlood(ip, [S1, S2]), `${ip} VNI 20 flood list`);
        }
        for (const r of proxied(await rr.evpnRoutes()).filter((x) => x.rd.endsWith(":200"))) {
          const ext = r.paths[0]?.extendedCommunity?.string ?? "";
          assert.match(ext, /\bRT:65000:2000\b/, `${r.rd} ${r.prefix}: ${ext}`);
          assert.doesNotMatch(ext, /\bRT:65000:(20|200)\b/, `${r.rd} ${r.prefix}: ${ext}`);
        }
        const m = await seed.pingMatrix();
        assert.deepEqual(names(pairs(m, 20, () => true).filter((r) => !r.ok)), [], "VNI 20 pairs that do not ping");
        assert.deepEqual(unexpectedPings(m, "after"), [], formatMatrix(m, "after"));
      });

      await step(
        "4. SIGHUP: add a static VTEP, remove another: flood lists follow within 2 s, session kept",
        async () => {
          const p = proxy!;
          const nbBefore = await frrNeighbor(rr, PROXY_IP);
          assert.ok(nbBefore, "RR knows the proxy");
          const tcpBefore = (
            await lab.exec("px", "ss", ["-Htn", "state", "established", "( dport = :179 )"])
          ).stdout.trim();
          assert.match(
            tcpBefore,
            new RegExp(`${PROXY_IP.replace(/\./g, "\\.")}:\\d+\\s+${RR_IP.replace(/\./g, "\\.")}:179`),
          );
          const vni20Before = await Promise.all(evpn.map(([, f]) => f.remoteVteps(20)));

          const services: ProxyService[] = defaultProxyServices().map((s) =>
            s.vni === 10
              ? { ...s, staticVteps: [...s.staticVteps.filter((v) => v.address !== S1), { address: NEW_VTEP }] }
              : s,
          );
          writeProxyConfig(lab, proxyConfigYaml(services));
          const sent = Date.now();
          process.kill(p.pid, "SIGHUP");
          for (const [ip, frr] of evpn) {
            const want = expectedFlood(ip, [S2, NEW_VTEP]);
            await wait(
              `${ip}: VNI 10 flood list ${want.join(" ")} within 2 s of SIGHUP`,
              async () => JSON.stringify((await frr.remoteVteps(10)).sort(byIp)) === JSON.stringify(want),
              Math.max(0, 2000 - (Date.now() - sent)),
              50,
            );
          }
          const took = Date.now() - sent;
          note(`SIGHUP: both FRR VTEPs' VNI 10 flood lists followed in ${took} ms`);
          assert.ok(took <= 2000, `flood lists followed in ${took} ms`);
          assert.ok(p.running, "the proxy still runs after SIGHUP");
          assert.deepEqual(
            keys(proxied(await rr.evpnRoutes())),
            [
              `${S1}:200 [3]:[0]:[32]:[${S1}]`,
              `${S2}:10 [2]:[0]:[48]:[${STATIC_MAC}]`,
              `${S2}:10 [3]:[0]:[32]:[${S2}]`,
              `${S2}:200 [3]:[0]:[32]:[${S2}]`,
              `${NEW_VTEP}:10 [3]:[0]:[32]:[${NEW_VTEP}]`,
            ],
            "the proxy's routes in the RR after SIGHUP",
          );
          assert.deepEqual(await Promise.all(evpn.map(([, f]) => f.remoteVteps(20))), vni20Before, "VNI 20 untouched");

          // the session was not reset
          const nbAfter = await frrNeighbor(rr, PROXY_IP);
          assert.equal(nbAfter?.bgpState, "Established");
          for (const k of ["connectionsEstablished", "connectionsDropped", "portForeign"]) {
            assert.equal(nbAfter?.[k], nbBefore[k], `RR's neighbour ${PROXY_IP}: ${k}`);
          }
          // FRR derives this epoch from the wall clock minus the session's monotonic uptime, in
          // whole seconds, so two reads of one session can differ by one (seen in a CI run).
          const epochDrift = Math.abs(
            (nbAfter?.["bgpTimerUpEstablishedEpoch"] as number) - (nbBefore["bgpTimerUpEstablishedEpoch"] as number),
          );
          assert.ok(epochDrift <= 1, `RR's neighbour ${PROXY_IP}: bgpTimerUpEstablishedEpoch moved by ${epochDrift} s`);
          assert.ok(
            (nbAfter?.["bgpTimerUpMsec"] as number) >= (nbBefore["bgpTimerUpMsec"] as number),
            "RR's uptime of the session kept growing",
          );
          const tcpAfter = (
            await lab.exec("px", "ss", ["-Htn", "state", "established", "( dport = :179 )"])
          ).stdout.trim();
          assert.equal(tcpAfter, tcpBefore, "the same TCP connection");
          const downs = proxyLogLines(p).filter((l) => /Established ->|session .*(down|closed)/i.test(l.msg ?? ""));
          assert.deepEqual(
            downs.map((l) => l.msg),
            [],
            "proxy log: the session left Established",
          );
          note(`session kept: connectionsEstablished ${String(nbAfter?.["connectionsEstablished"])}, TCP ${tcpAfter}`);
        },
      );

      await step("5. SIGTERM: FRR has withdrawn every proxied route within 2 s, exit status 0", async () => {
        const p = proxy!;
        const all = { rr, e1, e2 };
        for (const [name, frr] of Object.entries(all)) {
          assert.ok(proxied(await frr.evpnRoutes()).length > 0, `${name} has proxied routes before SIGTERM`);
        }
        const sent = Date.now();
        process.kill(p.pid, "SIGTERM");
        let exitedAt = 0;
        void p.exited.then(() => (exitedAt = Date.now()));
        await lab.waitFor(
          "RR and FRR VTEPs without proxied routes and flood lists without static VTEPs, within 2 s of SIGTERM",
          async () => {
            for (const frr of Object.values(all)) if (proxied(await frr.evpnRoutes()).length > 0) return false;
            for (const [ip, frr] of evpn) {
              for (const s of SERVICES) {
                if (JSON.stringify(await frr.remoteVteps(s.vni)) !== JSON.stringify(expectedFlood(ip, [])))
                  return false;
              }
            }
            return true;
          },
          { timeoutMs: 2000, intervalMs: 50 },
        );
        const took = Date.now() - sent;
        const exit = await Promise.race([
          p.exited,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 2500)),
        ]);
        assert.deepEqual(exit, { code: 0, signal: null }, "the proxy's exit status");
        assert.ok(exitedAt > 0, "exit time recorded");
        const exitMs = exitedAt - sent;
        note(`SIGTERM: proxied routes gone from RR, e1, e2 in ${took} ms; proxy exited 0 after ${exitMs} ms`);
        assert.ok(took <= 2000 && exitMs <= 2000, `withdrawn in ${took} ms, exited after ${exitMs} ms`);
        // the RR saw a Cease (administrative shutdown), not a dropped connection
        await lab.waitFor("RR's log: NOTIFICATION received from the proxy", () =>
          /NOTIFICATION: received from neighbor 192\.0\.2\.4.* 6\/2 \(Cease\/Administrative Shutdown\)/.test(
            rr.logTail(200),
          ),
        );
      });

      await step("7. every BGP message the proxy sent dissects cleanly in tshark", async () => {
        const pcap = await cap.stop();
        const tshark = async (filter: string, fields: string[] = []): Promise<string> => {
          const f = fields.flatMap((x) => ["-e", x]);
          const r = await lab.exec(null, "tshark", [
            "-r",
            pcap,
            "-d",
            "tcp.port==179,bgp",
            "-Y",
            filter,
            ...(f.length ? ["-T", "fields", ...f] : []),
          ]);
          return r.stdout.trim();
        };
        const bad = '(_ws.malformed or _ws.expert.severity >= "error")';
        const fromProxy = `ip.src == ${PROXY_IP}`;
        assert.equal(await tshark(`${bad} and ${fromProxy}`), "", "malformed or expert-error frames from the proxy");
        const others = await tshark(bad);
        if (others) note(`tshark problems in frames FRR sent (not ours):\n${others}`);
        // bgp.type per frame (several messages per frame: comma-separated)
        const types = (await tshark(`${fromProxy} and bgp`, ["bgp.type"]))
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number);
        const count = (n: number): number => types.filter((x) => x === n).length;
        const summary = { OPEN: count(1), UPDATE: count(2), NOTIFICATION: count(3), KEEPALIVE: count(4) };
        note(`BGP messages the proxy sent: ${types.length} ${JSON.stringify(summary)}`);
        assert.equal(summary.OPEN, 1);
        assert.ok(summary.UPDATE >= 3, "UPDATEs: announcements, SIGHUP's changes, End-of-RIB");
        assert.ok(summary.KEEPALIVE >= 1);
        assert.equal(summary.NOTIFICATION, 1);
        const cease = await tshark(`${fromProxy} and bgp.type == 3`, [
          "bgp.notify.major_error",
          "bgp.notify.minor_error_cease",
        ]);
        assert.equal(cease.replace(/\s+/g, " "), "6 2", "the NOTIFICATION is Cease / Administrative Shutdown");
      });
    });
  },
);
