// What the fuzzer runs: the BGP message decoder under several session contexts and the stream
// framer, the data-plane decoders (outer IP/Ethernet, VXLAN, inner ARP/ND), the replication
// engine with its proxy-ARP/ND function, the configuration loader and the state file decoder with
// the restore at start. Each target states the properties that must hold for every input.
import { readFileSync } from "node:fs";
import { type CodecContext, decodeMessage, fromHex, MessageFramer } from "../../src/codec/index.js";
import { ProxyError } from "../../src/errors.js";
import { parseConfig } from "../../src/config/load.js";
import { type BindingRecord, Learner } from "../../src/dataplane/learning/learner.js";
import { decodeState, describeStateError, StateEncoder, type StateResult } from "../../src/state/codec.js";
import { crc32c } from "../../src/state/crc32c.js";
import { restoreFrom } from "../../src/state/policy.js";
import { normalizeIp } from "../../src/net/addr.js";
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
import { A, B, config, FakeFabric, fr, M1, M2, S, STATIC } from "../helpers/learning.js";
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

// ---- the state file ----------------------------------------------------------------------------

const T0 = 1767225600000; // 2026-01-01T00:00:00Z
const learnConfig = () => config({ allowedPrefixes: ["198.51.100.0/24", "2001:db8::/32"], maxMoves: 2 });

/** A learning engine's table as the saver writes it: records through the engine's cursor, in chunks. */
function savedFile(l: Learner | BindingRecord[], savedAt: number): Uint8Array {
  const e = new StateEncoder(savedAt);
  const parts: Uint8Array[] = [e.take().slice()];
  if (Array.isArray(l)) for (const r of l) e.add(r);
  else {
    const next = l.records();
    while (next(3, (r) => e.add(r))) parts.push(e.take().slice());
  }
  parts.push(e.take().slice(), e.finish().slice());
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * Seeds: the files of learning engines (learned MACs with IPv4 and IPv6 bindings, a configured
 * MAC with a learned IP, a MAC that moved until it was frozen as a duplicate: sequence, moves and
 * deadline), one with two services and an IPv6 VTEP, and an empty table.
 */
function stateSeeds(): Uint8Array[] {
  const l = new Learner(learnConfig(), new FakeFabric());
  l.frame(fr(A, M1, "198.51.100.1"), T0);
  l.frame(fr(A, M1, "2001:db8::1"), T0 + S);
  l.frame(fr(B, M2), T0 + 2 * S);
  l.frame(fr(A, STATIC, "198.51.100.15"), T0 + 3 * S);
  const small = savedFile(l, T0 + 4 * S);
  const dup = "02:00:00:00:02:01";
  for (let i = 0; i < 4; i++) l.frame(fr(i & 1 ? A : B, dup, "198.51.100.21"), T0 + (5 + i) * S);
  for (let i = 0; i < 24; i++) l.frame(fr(i & 1 ? B : A, `02:00:00:00:03:${(16 + i).toString(16)}`), T0 + (9 + i) * S);
  const two: BindingRecord[] = ["vni10", "blue.20"].map((service, i) => ({
    service,
    evi: 10 + 10 * i,
    vni: 10 + 10 * i,
    vtep: i === 0 ? A : "2001:db8::2",
    mac: `02:00:00:00:04:0${i}`,
    ips: [{ ip: "198.51.100.40", lastSeen: T0 }],
    seq: 7 * i,
    maxSeq: 9 * i,
    configured: false,
    announced: i === 0,
    frozenUntil: i === 0 ? 0 : T0 + 600 * S,
    moves: i === 0 ? [] : [T0 - S, T0],
    lastSeen: T0,
  }));
  return [small, savedFile(l, T0 + 40 * S), savedFile(two, T0), savedFile([], T0)];
}

const STATE_ERRORS = new Set(["truncated", "magic", "version", "checksum", "layout"]);
const sameNumber = (a: number, b: number) => Object.is(a, b);

/** Why two records differ, or null. */
function recordDiff(a: BindingRecord, b: BindingRecord): string | null {
  for (const k of ["service", "evi", "vni", "vtep", "mac", "seq", "maxSeq", "configured", "announced"] as const)
    if (a[k] !== b[k]) return `${k}: ${String(a[k])} ≠ ${String(b[k])}`;
  if (!sameNumber(a.lastSeen, b.lastSeen) || !sameNumber(a.frozenUntil, b.frozenUntil)) return "a time differs";
  if (a.moves.length !== b.moves.length || a.moves.some((x, i) => !sameNumber(x, b.moves[i]!))) return "moves differ";
  if (a.ips.length !== b.ips.length) return "IP count differs";
  for (let i = 0; i < a.ips.length; i++)
    if (a.ips[i]!.ip !== b.ips[i]!.ip || !sameNumber(a.ips[i]!.lastSeen, b.ips[i]!.lastSeen)) return `IP ${i} differs`;
  return null;
}

/**
 * Checks one decode: a refusal is a known error with a log line; an accepted file yields its
 * `count` records, with well-formed MAC and address text, and encodes again (nothing left out) to
 * a file that decodes to the same records and save time.
 */
function checkState(r: StateResult): string | null {
  if (!r.ok) {
    if (!STATE_ERRORS.has(r.error.code)) return `unknown state error ${r.error.code}`;
    return describeStateError(r.error) === "" ? "an error without a description" : null;
  }
  const recs = [...r.state.records()];
  if (recs.length !== r.state.count) return `${recs.length} records of ${r.state.count}`;
  for (const x of recs) {
    if (!MAC.test(x.mac)) return `MAC ${x.mac}`;
    for (const ip of [x.vtep, ...x.ips.map((i) => i.ip)]) if (normalizeIp(ip) !== ip) return `address text ${ip}`;
  }
  const e = new StateEncoder(r.state.savedAt);
  for (const x of recs) e.add(x);
  if (e.skipped > 0) return `${e.skipped} decoded record(s) do not encode again`;
  const head = e.take().slice(); // take() and finish() share the encoder's buffer
  const again = decodeState(Buffer.concat([head, e.finish()]));
  if (!again.ok) return `re-encoded file refused: ${describeStateError(again.error)}`;
  if (!sameNumber(again.state.savedAt, r.state.savedAt)) return "save time differs after re-encoding";
  const back = [...again.state.records()];
  if (back.length !== recs.length) return `${back.length} records after re-encoding, ${recs.length} before`;
  for (let i = 0; i < recs.length; i++) {
    const d = recordDiff(recs[i]!, back[i]!);
    if (d !== null) return `record ${i} after re-encoding: ${d}`;
  }
  return null;
}

/**
 * The state file decoder, on each input as it is and resealed (its CRC-32C recomputed, so that
 * mutations reach the layout checks and the records), and the restore at start: a file the
 * decoder accepts restores into a fresh learning engine with a typed outcome, never a throw.
 */
export const stateTarget: FuzzTarget = {
  name: "state-file",
  seeds: stateSeeds(),
  // the footer's count and tables offset (their low 16 bits), a record's move and IP counts
  lengthFields: (s) => [s.length - 10, s.length - 6, 20 + 29, 20 + 31 + 8 * ((s[20 + 29]! << 8) | s[20 + 30]!)],
  run(input) {
    const bad = checkState(decodeState(input));
    if (bad !== null) return bad;
    if (input.length < 4) return null;
    const sealed = input.slice();
    new DataView(sealed.buffer).setUint32(sealed.length - 4, crc32c(sealed, 0, 0, sealed.length - 4));
    const r = decodeState(sealed);
    const bad2 = checkState(r);
    if (bad2 !== null || !r.ok) return bad2;
    const out = restoreFrom("fuzz.state", sealed, new Learner(learnConfig(), new FakeFabric()), T0 + 60 * S);
    return out.type === "state-restored" && out.records !== r.state.count ? "restored a different count" : null;
  },
};

export function targets(): FuzzTarget[] {
  return [bgpTarget, frameTarget, replicationTarget(), configTarget, stateTarget];
}
