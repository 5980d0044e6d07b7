// What the fuzzer runs: the BGP message decoder under several session contexts and the stream
// framer, the data-plane decoders (outer IP/Ethernet, VXLAN, inner ARP/ND), the replication
// engine with its proxy-ARP/ND function, and the configuration loader. Each target states the
// properties that must hold for every input.
import { readFileSync } from "node:fs";
import { type CodecContext, decodeMessage, fromHex, MessageFramer } from "../../src/codec/index.js";
import { ProxyError } from "../../src/errors.js";
import { parseConfig } from "../../src/config/load.js";
import { type CopySink, ReplicationEngine } from "../../src/dataplane/replication/engine.js";
import { ARPND_SKIP_REASONS, decodeArpNdInto, newArpNdMessage } from "../../src/wire/arpnd.js";
import {
  decodeEthernetInto,
  decodeIpInto,
  decodeVxlanInto,
  newLearnedFrame,
  SKIP_REASONS,
} from "../../src/wire/packet.js";
import { h } from "../helpers/hex.js";
import { SEED, V } from "../helpers/frame-vectors.js";
import { W } from "../helpers/wire-vectors.js";
import type { FuzzTarget } from "./engine.js";

const ROOT = new URL("../../../", import.meta.url);

function fixtureMessages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of ["frr-8.4.hex", "gobgp-3.hex"])
    for (const l of readFileSync(new URL(`test/fixtures/interop/${f}`, ROOT), "utf8").split("\n")) {
      const t = l.trim();
      if (t === "" || t.startsWith("#")) continue;
      const b = fromHex(t);
      if (b) out.push(b);
    }
  return out;
}

const CONTEXTS: CodecContext[] = [
  { as4: true },
  { as4: false },
  { as4: true, ebgp: true },
  { as4: true, extendedMessage: true },
  { as4: true, loopIds: { originatorId: 0xc0000204, clusterId: 0xc000020a } },
];

/** RFC 4271 §4.5 error codes 1–6 (7 is ROUTE-REFRESH, RFC 7313). */
function checkError(e: unknown): string | null {
  if (!(e instanceof ProxyError)) return `not a ProxyError: ${String(e)}`;
  const n = e as ProxyError & { notifyCode?: number; notifySubcode?: number };
  if (typeof e.code !== "string" || e.code === "") return "error without a stable code";
  if (!Number.isInteger(n.notifyCode) || n.notifyCode! < 1 || n.notifyCode! > 7) return `notify code ${n.notifyCode}`;
  return null;
}

export const bgpTarget: FuzzTarget = {
  name: "bgp-message",
  seeds: fixtureMessages(),
  lengthFields: (s) => {
    // the header length; in an UPDATE the withdrawn-routes and path-attribute lengths
    const out = [16];
    if (s[18] === 2 && s.length > 21) {
      out.push(19);
      const wl = (s[19]! << 8) | s[20]!;
      out.push(21 + wl);
    }
    return out;
  },
  run(input) {
    for (const ctx of CONTEXTS) {
      const r = decodeMessage(input, ctx);
      if (!r.ok) {
        const bad = checkError(r.error);
        if (bad) return bad;
      } else if (r.errors.length > 0 && r.action === null) return "UPDATE errors without an RFC 7606 action";
      else for (const e of r.errors) if (checkError(e)) return checkError(e);
    }
    // the same bytes as a TCP stream, in two pieces
    const f = new MessageFramer();
    f.push(input.subarray(0, input.length >> 1));
    f.push(input.subarray(input.length >> 1));
    for (let i = 0; i < 8; i++) {
      const m = f.next();
      if (m === null) break;
      if (!m.ok) return checkError(m.error);
      decodeMessage(m.frame);
    }
    return null;
  },
};

const SKIPS = new Set<string>(SKIP_REASONS);
const ARPND_SKIPS = new Set<string>(ARPND_SKIP_REASONS);
const frame = newLearnedFrame();
const msg = newArpNdMessage();
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function checkFrame(skip: string | null): string | null {
  if (skip !== null) return SKIPS.has(skip) ? null : `unknown skip reason ${skip}`;
  if (frame.vni < 0 || frame.vni > 0xffffff) return `VNI ${frame.vni}`;
  if (frame.mac !== null && !MAC.test(frame.mac)) return `MAC ${frame.mac}`;
  return null;
}

const ipSeeds = [
  h(SEED),
  ...Object.values(V)
    .filter((v) => v.startsWith("4"))
    .map((v) => h(v)),
];
const ethSeeds = Object.values(V)
  .filter((v) => v.startsWith("02") && v.includes("| 4") === false && !v.startsWith("0800"))
  .map((v) => h(v));
const innerSeeds = Object.values(W).map((v) => h(v));

export const frameTarget: FuzzTarget = {
  name: "vxlan-arp-nd",
  seeds: [...ipSeeds, ...Object.values(V).map((v) => h(v)), ...innerSeeds, ...ethSeeds],
  lengthFields: () => [2, 4, 16, 18, 20, 22, 24, 32, 38, 42, 46],
  run(input) {
    const n = input.length;
    return (
      checkFrame(decodeEthernetInto(frame, input, 0, n, {})) ??
      checkFrame(decodeIpInto(frame, input, 0, n, { anyFrame: true })) ??
      checkFrame(decodeVxlanInto(frame, input, 0, n, "192.0.2.1", {})) ??
      (() => {
        const s = decodeArpNdInto(msg, input, 0, n);
        if (s !== null) return ARPND_SKIPS.has(s) ? null : `unknown ARP/ND skip reason ${s}`;
        if (msg.end > n || msg.l3 > n) return `offsets past the input: ${msg.l3}..${msg.end} of ${n}`;
        msg.targetIpText(); // must format whatever was accepted
        return null;
      })()
    );
  },
};

/** The replication engine with proxy-ARP/ND on, fed VXLAN datagrams from two static VTEPs and an EVPN VTEP. */
function replicationTarget(): FuzzTarget {
  const sink: CopySink = { stage: (_b, _o, len) => len, copy: () => undefined };
  const e = new ReplicationEngine("192.0.2.4", sink, (_vni, b, o) => (b[o + 5]! & 1 ? "192.0.2.1" : undefined), 0);
  e.setServices([{ vni: 10, name: "vni10", source: "vtep", arpNd: true }]);
  e.flood.update({ vni: 10, statics: ["192.0.2.1", "192.0.2.2"], evpn: ["192.0.2.11"], replicators: [] }, 0);
  e.setArpNd(
    {
      settings: {
        services: [{ vni: 10, name: "vni10", static: [{ ip: "198.51.100.2", mac: "02:00:00:00:01:02" }] }],
      },
      located: [{ vni: 10, mac: "02:00:00:00:01:02", vtep: "192.0.2.2" }],
    },
    0,
  );
  const froms = ["192.0.2.1", "192.0.2.2", "192.0.2.11", "198.51.100.99"];
  let now = 1;
  let i = 0;
  return {
    name: "replication",
    seeds: innerSeeds.map((b) => Buffer.concat([h("0800000000000a00"), b])),
    lengthFields: () => [4, 8 + 12, 8 + 18, 8 + 54],
    run(input) {
      now += 7;
      e.datagram(input, 0, input.length, froms[i++ & 3]!, now);
      if ((i & 255) === 0) {
        e.tick(now);
        e.drain();
      }
      return null;
    },
  };
}

const configSeeds = [
  readFileSync(new URL("examples/evpn-proxy.yaml", ROOT)),
  Buffer.from(`router-id: 192.0.2.4
local-as: 65000
neighbors:
  - address: 192.0.2.10
    peer-as: 65000
    hold-time: 9
services:
  - name: vni10
    evi: 10
    vni: 10
    replication: proxy
    arp-nd-proxy:
      static: ["198.51.100.2 02:00:00:00:01:02"]
    static-vteps:
      - address: 192.0.2.1
        macs: ["02:00:00:00:01:02 198.51.100.3 2001:db8::2"]
learning:
  vxlan-listen: 192.0.2.4
  max-moves: 3
`),
];

const text = new TextDecoder("utf-8", { fatal: false });

export const configTarget: FuzzTarget = {
  name: "config",
  seeds: configSeeds.map((b) => new Uint8Array(b)),
  run(input) {
    const r = parseConfig(text.decode(input), "fuzz.yaml");
    if (r.ok) return null;
    if (r.errors.length === 0) return "rejected without an error";
    for (const e of r.errors)
      if (typeof e.message !== "string" || e.message === "") return "an error without a message";
    return null;
  },
};

export function targets(): FuzzTarget[] {
  return [bgpTarget, frameTarget, replicationTarget(), configTarget];
}
