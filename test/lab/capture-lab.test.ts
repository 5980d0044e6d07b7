// Live capture (native/capture.c) in network namespaces: `evpn-proxy run` with
// `capture-interfaces` in namespace px learns from VXLAN datagrams that pass its interface on
// their way to another host (192.0.2.3 and 2001:db8::3 do not exist: the sender in vt has static
// neighbour entries for them), read from the debug log's "learning: announce" lines. This
// kernel has no 802.1Q devices: tagged frames are written whole to vt0 through a packet socket
// (python3), and on receive the kernel takes the outer tag out of the frame as it would anyway.
//   1. capture on the veth cap0: ARP over IPv4, NA over IPv6, ARP with an outer 802.1Q tag,
//      ARP with an 802.1ad and an 802.1Q tag, ARP with an inner tag, NS over IPv4;
//   2. `ip link set cap0 down`: logged (ENETDOWN, downs 1), the daemon runs on; up again: capture
//      resumes and learns;
//   3. `ip link del cap0`: logged (downs 2); the veth made again: capture resumes and learns;
//   4. a daemon capturing on `any`: untagged, tagged and IPv6-carried frames are learned.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PROXY_MAIN, writeProxyConfig } from "../../lab/seed.js";
import { arpDatagram, benchMac, ndDatagram } from "../../bench/vxlan-arp.js";
import { type Lab, type LabProcess, withLab } from "../../tools/netlab/index.js";
import { requireTools } from "../helpers/env.js";
import { W } from "../helpers/wire-vectors.js";

const PREFIX = "t15cp";
const SEND = new URL("../helpers/vxlan-send.js", import.meta.url).pathname;
const VT4 = "192.0.2.1";
const VT6 = "2001:db8::1";
const VTV = "198.51.100.1"; // the outer source of the tagged frames
const TO4 = "192.0.2.3";
const TO6 = "2001:db8::3";

const vxlan = (vni: number, inner: string): string => `08000000 ${vni.toString(16).padStart(6, "0")}00 | ${inner}`;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const strip = (s: string): string => s.replace(/[\s|]/g, "");

function config(device: string): string {
  const svc = (vni: number, vtep: string): string =>
    `  - name: vni${vni}\n    evi: ${vni}\n    vni: ${vni}\n    static-vteps:\n      - address: ${vtep}\n`;
  return `router-id: 192.0.2.2
local-as: 65000
listen: false
neighbors:
  - address: 192.0.2.99
    peer-as: 65000
    passive: true
services:
${svc(10, VT4)}${svc(20, VT6)}${svc(30, VTV)}${svc(40, VT4)}${svc(50, VT4)}learning:
  capture-interfaces: [${device}]
  include-ip: true
`;
}

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

function lines(p: LabProcess): LogLine[] {
  return p
    .log()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
}

/** "vni vtep mac ip" of every MAC/IP route the daemon announced. */
function learned(p: LabProcess): Set<string> {
  const out = new Set<string>();
  for (const l of lines(p))
    if (l.msg === "learning: announce" && l["ip"] !== null) out.add(`${l["vni"]} ${l["vtep"]} ${l["mac"]} ${l["ip"]}`);
  return out;
}

/** The sender's side: static neighbours for the hosts that do not exist. */
async function senderSide(lab: Lab): Promise<void> {
  const lladdr = ["lladdr", "02:00:00:00:00:03", "dev", "vt0", "nud", "permanent"];
  await lab.ip("vt", ["neigh", "replace", TO4, ...lladdr]);
  await lab.ip("vt", ["-6", "neigh", "replace", TO6, ...lladdr]);
}

async function send(lab: Lab, list: { to: string; hex: string }[]): Promise<void> {
  await lab.exec("vt", process.execPath, [SEND, JSON.stringify(list)]);
}

/**
 * An Ethernet frame to 02:00:00:00:00:03 with `tags` (e.g. "8100 0064") carrying the VXLAN
 * datagram `payload` in UDP 4789 over IPv4 from 198.51.100.1 to .3 (RFC 791 header checksum,
 * UDP checksum 0 as RFC 7348 §5 allows).
 */
function taggedFrame(tags: string, payload: string): string {
  const p = Buffer.from(strip(payload), "hex");
  const ip = Buffer.from("450000000000400040110000c6336401c6336403", "hex");
  ip.writeUInt16BE(20 + 8 + p.length, 2);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.from("c00012b500000000", "hex");
  udp.writeUInt16BE(8 + p.length, 4);
  return `020000000003 020000000001 ${tags} 0800 ${ip.toString("hex")} ${udp.toString("hex")} ${p.toString("hex")}`;
}

/** Writes whole frames to vt0 through a packet socket. */
async function inject(lab: Lab, frames: string[]): Promise<void> {
  const py = [
    "import socket, sys",
    "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)",
    "s.bind(('vt0', 0))",
    "for f in sys.argv[1:]: s.send(bytes.fromhex(f))",
  ].join("\n");
  await lab.exec("vt", "python3", ["-c", py, ...frames.map(strip)]);
}

test(
  "live capture: tagged and untagged ARP/ND learned; interface down, deleted and back",
  { timeout: 120_000 },
  async (t) => {
    if (!requireTools(t, ["ip", "python3"], { root: true })) return;
    await withLab(t, PREFIX, async (lab) => {
      await lab.ns("vt");
      await lab.ns("px");
      await lab.link("vt", [`${VT4}/24`, `${VT6}/64`], "px", ["192.0.2.2/24", "2001:db8::2/64"], {
        aIf: "vt0",
        bIf: "cap0",
      });
      await senderSide(lab);
      const start = (device: string): LabProcess =>
        lab.spawn(
          "px",
          process.execPath,
          [
            PROXY_MAIN,
            "run",
            "--config",
            writeProxyConfig(lab, config(device), `${device}.yaml`),
            "--log-level",
            "debug",
          ],
          { name: `evpn-proxy-${device}` },
        );
      const running = (p: LabProcess): void => {
        if (!p.running) throw new Error(`the daemon exited: ${p.log()}`);
      };
      const waitLog = (p: LabProcess, what: string, fn: (l: LogLine) => boolean): Promise<LogLine> =>
        lab.waitFor(what, () => (running(p), lines(p).find(fn)), { timeoutMs: 15_000, intervalMs: 100 });
      const waitLearned = (p: LabProcess, want: string[]): Promise<boolean> =>
        lab.waitFor(
          `learned: ${want.join(", ")}`,
          () => {
            running(p);
            const have = learned(p);
            return want.every((w) => have.has(w));
          },
          { timeoutMs: 10_000, intervalMs: 100 },
        );
      const resumed = (p: LabProcess): number => lines(p).filter((l) => /reads again/.test(l.msg)).length;

      // 1. capture on cap0
      const px = start("cap0");
      await waitLog(px, "capturing on cap0", (l) => l["device"] === "cap0" && l["capturing"] === true);
      await send(lab, [
        { to: TO4, hex: vxlan(10, W["arp-request"]) },
        { to: TO6, hex: vxlan(20, W["na-reply-so"]) },
        { to: TO4, hex: vxlan(40, W["arp-reply-dot1q"]) },
        { to: TO4, hex: vxlan(50, W.ns) },
      ]);
      await inject(lab, [
        taggedFrame("8100 0064", vxlan(30, W.garp)),
        taggedFrame("88a8 00c8 8100 0064", hex(arpDatagram(30, 0x1000, 10))),
      ]);
      await waitLearned(px, [
        `10 ${VT4} 02:00:00:00:01:01 198.51.100.1`,
        `20 ${VT6} 02:00:00:00:01:02 2001:db8:100::2`,
        `30 ${VTV} 02:00:00:00:01:02 198.51.100.2`,
        `30 ${VTV} ${benchMac(0x1000)} 198.51.100.10`,
        `40 ${VT4} 02:00:00:00:01:02 198.51.100.2`,
        `50 ${VT4} 02:00:00:00:01:01 2001:db8:100::1`,
      ]);

      // 2. down and up
      await lab.ip("px", ["link", "set", "cap0", "down"]);
      const down = await waitLog(px, "capture on cap0 stopped", (l) => l["source"] === "capture" && l["downs"] === 1);
      assert.equal(down["code"], "ENETDOWN");
      await lab.ip("px", ["link", "set", "cap0", "up"]);
      await lab.waitFor("capture on cap0 reads again", () => (running(px), resumed(px) === 1), { timeoutMs: 15_000 });
      await senderSide(lab);
      await send(lab, [{ to: TO4, hex: hex(arpDatagram(10, 0x1001, 11)) }]);
      await waitLearned(px, [`10 ${VT4} ${benchMac(0x1001)} 198.51.100.11`]);

      // 3. deleted and made again
      await lab.ip("px", ["link", "del", "cap0"]);
      await waitLog(px, "capture on cap0 stopped again", (l) => l["source"] === "capture" && l["downs"] === 2);
      assert.ok(px.running, "the daemon runs on without its interface");
      await lab.exec("px", "ip", [
        "link",
        "add",
        "cap0",
        "type",
        "veth",
        "peer",
        "name",
        "vt0",
        "netns",
        `${PREFIX}-vt`,
      ]);
      await lab.addr("px", "cap0", ["192.0.2.2/24", "2001:db8::2/64"]);
      await lab.addr("vt", "vt0", [`${VT4}/24`, `${VT6}/64`]);
      await lab.ip("vt", ["link", "set", "vt0", "up"]);
      await lab.ip("px", ["link", "set", "cap0", "up"]);
      await senderSide(lab);
      await lab.waitFor("capture on the new cap0", () => (running(px), resumed(px) === 2), { timeoutMs: 15_000 });
      await send(lab, [{ to: TO4, hex: hex(arpDatagram(10, 0x1002, 12)) }]);
      await waitLearned(px, [`10 ${VT4} ${benchMac(0x1002)} 198.51.100.12`]);
      await px.stop();

      // 4. the any device
      const any = start("any");
      await waitLog(any, "capturing on any", (l) => l["device"] === "any" && l["capturing"] === true);
      await send(lab, [
        { to: TO4, hex: hex(arpDatagram(10, 0x1003, 13)) },
        { to: TO6, hex: hex(ndDatagram(20, 0x1005)) },
      ]);
      await inject(lab, [taggedFrame("8100 0064", hex(arpDatagram(30, 0x1004, 14)))]);
      await waitLearned(any, [
        `10 ${VT4} ${benchMac(0x1003)} 198.51.100.13`,
        `30 ${VTV} ${benchMac(0x1004)} 198.51.100.14`,
        `20 ${VT6} ${benchMac(0x1005)} 2001:db8::2:0:0:1005`,
      ]);
      await any.stop();
    });
  },
);
