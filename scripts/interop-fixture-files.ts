// The fixture files of scripts/capture-interop-fixtures.ts: BGP messages reassembled from the
// capture (framing by src/codec), deduplicated and annotated, checked, and the README.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MessageFramer, checkHeader, fromHex, toHex } from "../src/codec/index.js";
import { type Stats, describe, newStats, typeName } from "./bgp-describe.js";

export const ASN = 65000;
export const FRR_IP = "192.0.2.1";
export const GOBGP_IP = "192.0.2.2";

export const log = (msg: string): void => void process.stderr.write(`[efx] ${msg}\n`);

interface Sent {
  /** TCP stream number (tshark's). */
  session: number;
  msg: Uint8Array;
}

/**
 * The BGP messages each address sent, per TCP stream, from tshark's per-segment payloads with
 * raw sequence numbers (tshark 4.0's "follow,tcp,raw" does not mark the direction reliably).
 * Retransmitted or overlapping bytes are checked for equality and dropped.
 */
export function reassemble(segments: string): { perSpeaker: Map<string, Sent[]>; conns: Map<number, string> } {
  const flows = new Map<string, { stream: number; src: string; port: string; segs: { seq: number; data: Buffer }[] }>();
  const conns = new Map<number, string>(); // TCP stream number -> "client -> server"
  for (const line of segments.split("\n")) {
    if (!line.trim()) continue;
    const [stream, src, port, dst, dport, seq, payload] = line.split("\t") as [string, ...string[]];
    const key = `${stream}\t${src}`;
    if (!flows.has(key)) flows.set(key, { stream: Number(stream), src: src!, port: port!, segs: [] });
    // connection label: client (the side not on port 179) first
    conns.set(
      Number(stream),
      port === "179" ? `${dst}:${dport} -> ${src}:${port}` : `${src}:${port} -> ${dst}:${dport}`,
    );
    flows.get(key)!.segs.push({ seq: Number(seq), data: Buffer.from(payload!.replace(/:/g, ""), "hex") });
  }
  const perSpeaker = new Map<string, Sent[]>();
  for (const f of [...flows.values()].sort((a, b) => a.stream - b.stream)) {
    const what = `stream ${f.stream} from ${f.src}`;
    const base = f.segs[0]!.seq; // first data byte seen (the capture starts before the session)
    let buf = Buffer.alloc(0);
    let dup = 0;
    for (const s of f.segs
      .map((s) => ({ ...s, off: (s.seq - base + 2 ** 32) % 2 ** 32 }))
      .sort((a, b) => a.off - b.off)) {
      if (s.off > buf.length) throw new Error(`${what}: gap at byte ${buf.length}`);
      const overlap = Math.min(buf.length - s.off, s.data.length);
      if (!s.data.subarray(0, overlap).equals(buf.subarray(s.off, s.off + overlap)))
        throw new Error(`${what}: retransmitted bytes differ`);
      dup += overlap;
      buf = Buffer.concat([buf, s.data.subarray(overlap)]);
    }
    const msgs = split(buf, what);
    const dropped = dup ? `, ${dup} retransmitted bytes dropped` : "";
    log(`${what}:${f.port}: ${buf.length} bytes, ${msgs.length} BGP messages${dropped}`);
    const list = perSpeaker.get(f.src) ?? [];
    perSpeaker.set(f.src, list);
    for (const msg of msgs) list.push({ session: f.stream, msg });
  }
  return { perSpeaker, conns };
}

/** Splits a byte stream into whole BGP messages (src/codec's framer); throws on bad framing. */
function split(buf: Uint8Array, what: string): Uint8Array[] {
  const framer = new MessageFramer();
  framer.push(buf);
  const out: Uint8Array[] = [];
  for (let f = framer.next(); f !== null; f = framer.next()) {
    if (!f.ok) throw new Error(`${what}: ${f.error.message}`);
    out.push(f.frame);
  }
  if (framer.bufferedBytes > 0) throw new Error(`${what}: ${framer.bufferedBytes} stray bytes at the end`);
  return out;
}

/** Messages per "sender type" must agree with tshark's own BGP dissector. */
export function crossCheck(perSpeaker: Map<string, Sent[]>, bgpTypes: string): void {
  const count = (m: Record<string, number>, k: string): number => (m[k] = (m[k] ?? 0) + 1);
  const tshark: Record<string, number> = {};
  for (const line of bgpTypes.split("\n")) {
    if (!line.trim()) continue;
    const [src, types] = line.split("\t") as [string, string];
    for (const t of types.split(",")) count(tshark, `${src} ${t}`);
  }
  const mine: Record<string, number> = {};
  for (const [src, list] of perSpeaker) for (const { msg } of list) count(mine, `${src} ${msg[18]}`);
  for (const k of new Set([...Object.keys(tshark), ...Object.keys(mine)]))
    if (tshark[k] !== mine[k]) throw new Error(`count mismatch for ${k}: tshark ${tshark[k]}, reassembly ${mine[k]}`);
  log("message counts per sender and type agree with tshark's BGP dissector");
}

export interface Speaker {
  ip: string;
  file: string;
  name: string;
  header: string[];
}

/** Writes one fixture; returns its section of the README's contents. */
export function writeFixture(dir: string, sp: Speaker, list: Sent[], conns: Map<number, string>): string[] {
  if (list.length === 0) throw new Error(`no messages from ${sp.ip}`);
  const st: Stats = newStats();
  const seen = new Map<string, { count: number }>();
  type Entry = { marker: string; empty: boolean } | { head: string; lines: string[]; hex: string; count: number };
  const entries: Entry[] = [];
  const counts: Record<string, { sent: number; unique: number }> = {};
  let session = -1;
  let marker = { marker: "", empty: true };
  for (const { session: s, msg } of list) {
    const hex = toHex(msg);
    const c = (counts[typeName(msg[18]!)] ??= { sent: 0, unique: 0 });
    c.sent++;
    if (s !== session) {
      session = s;
      marker = { marker: `# ===== TCP connection ${s + 1} of ${conns.size}: ${conns.get(s)} =====`, empty: true };
      entries.push(marker);
    }
    const again = seen.get(hex);
    if (again) {
      again.count++;
      continue;
    }
    marker.empty = false;
    c.unique++;
    const [head, lines] = describe(msg, st);
    const e = { head, lines, hex, count: 1 };
    seen.set(hex, e);
    entries.push(e);
  }
  const out = [...sp.header, ""];
  for (const e of entries) {
    if ("marker" in e) out.push(e.empty ? `${e.marker}\n# (only repeats of messages listed above)` : e.marker, "");
    else out.push(`# ${e.head}${e.count > 1 ? ` (sent ${e.count} times, listed once)` : ""}`, ...e.lines, e.hex, "");
  }
  writeFileSync(join(dir, sp.file), out.join("\n"));
  const countTxt = Object.entries(counts)
    .map(([t, c]) => (c.sent === c.unique ? `${t} ${c.sent}` : `${t} ${c.unique} (${c.sent} sent)`))
    .join(", ");
  const rts = (o: Record<number, number>): string =>
    Object.entries(o)
      .map(([t, n]) => `type-${t} x${n}`)
      .join(", ") || "none";
  log(`${sp.file}: ${countTxt}`);
  const sessions = new Set(list.map((x) => x.session)).size;
  return [
    `### ${sp.file} (${sp.name}, ${sp.ip})`,
    "",
    `- messages listed (sent): ${countTxt}; sent on ${sessions} of ${conns.size} TCP connections`,
    `- EVPN NLRI announced in the listed UPDATEs: ${rts(st.evpnAnnounced)}`,
    `- EVPN NLRI withdrawn in the listed UPDATEs: ${rts(st.evpnWithdrawn)}`,
    `- IPv4 unicast prefixes announced: ${st.ipv4Announced}, withdrawn: ${st.ipv4Withdrawn}`,
    `- MAC Mobility sequence numbers seen: ${[...st.mmSeq].join(", ") || "none"}`,
    `- features: ${[...st.features].sort().join("; ")}`,
    "",
  ];
}

/** Every non-comment line of each file is exactly one well-formed message. */
export function verify(files: string[]): void {
  let bad = 0;
  for (const file of files) {
    const counts: Record<string, number> = {};
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (line === "" || line.startsWith("#")) return;
        const b = /^([0-9a-f]{2})+$/.test(line) ? fromHex(line) : null;
        try {
          if (b === null) throw new Error("not lowercase hex bytes");
          if (checkHeader(b, 0) !== b.length) throw new Error("length field differs from the line's byte count");
          counts[typeName(b[18]!)] = (counts[typeName(b[18]!)] ?? 0) + 1;
        } catch (e) {
          bad++;
          log(`${file}:${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
    log(
      `${file}: ${Object.entries(counts)
        .map(([t, n]) => `${t} ${n}`)
        .join(", ")}`,
    );
  }
  if (bad > 0) throw new Error(`${bad} malformed fixture line(s)`);
}

export function header(who: string, date: string, versions: string): string[] {
  const v = versions
    .split("\n")
    .map((l) => l.split("\t").join(" "))
    .join(", ");
  return `# BGP messages sent by ${who} on an iBGP session (AS ${ASN}, L2VPN EVPN + IPv4 unicast)
# between FRR bgpd (${FRR_IP}) and gobgpd (${GOBGP_IP}), captured on ${date}
# by scripts/capture-interop-fixtures.ts - see README.md in this directory.
# Versions (dpkg-query -W frr gobgpd): ${v}
#
# Format: '#' lines are comments, blank lines are ignored; every other line is
# exactly one complete BGP message (16-byte marker, length, type, body) in
# lowercase hex, in the order sent. A message sent again byte for byte
# (KEEPALIVEs, UPDATEs re-sent after a route refresh or on a later TCP
# connection) is listed only at its first occurrence. The comment lines above each message are a
# decoding made by the capture script, for humans; the hex is authoritative.`.split("\n");
}

/** Interop quirks the daemons logged. */
export function interopNotes(gobgpLog: string, frrLog: string): string {
  let notes = "";
  const taw = gobgpLog.split("\n").filter((l) => l.includes("treated as withdraw")).length;
  if (taw > 0) {
    const subtypes = [...new Set(gobgpLog.match(/unknown evpn subtype: \d+/g) ?? [])].sort().join(",");
    notes += `- gobgpd 3.10 logged "the received Update message was treated as withdraw"
  ${taw} time(s), error "${subtypes}":
  it does not know the EVPN ND extended community (subtype 8, RFC 9047) that
  FRR puts on the SVI's IPv6 MAC/IP routes.
`;
  }
  if (frrLog.includes("in Extended Next-hop capability")) {
    const line = /192\.0\.2\.2 Unexpected afi\/safi\/next-hop afi.*/.exec(frrLog)?.[0] ?? "";
    notes += `- FRR logged: "${line}"
  (gobgpd's OPEN offers Extended Next Hop for l2vpn/evpn with IPv6 next hops).
`;
  }
  return notes;
}

export interface ReadmeFacts {
  date: string;
  versions: string;
  tools: string;
  system: string;
  summary: string;
  malformed: string;
  notes: string;
}

export function readmeText(f: ReadmeFacts): string {
  return `# Interop fixtures: BGP messages captured from FRR 8.4 and GoBGP 3

- \`frr-8.4.hex\`: every distinct BGP message FRR's bgpd sent to gobgpd.
- \`gobgp-3.hex\`: every distinct BGP message gobgpd sent to FRR.

Format: UTF-8 text; lines starting with \`#\` are comments, blank lines are
ignored, every other line is exactly one complete BGP message (16-byte marker,
length, type, body) in lowercase hex, in the order it was sent. A message that
was sent again byte for byte (KEEPALIVEs, UPDATEs re-sent after the route
refresh or in the second session) is listed once, at its first occurrence; its
comment says how often it was sent. The \`#\` lines before each message are a
decoding made by the capture script with src/codec (summary, attributes, \`+\`
announced and \`-\` withdrawn NLRI), for humans only.

## How they were captured

- Date: ${f.date}
- Command: \`npm run build && node dist/scripts/capture-interop-fixtures.js\` (as
  root; writes this directory; nothing is left behind in the system afterwards;
  \`LAB_KEEP=1\` keeps the pcap and the daemon logs)
- Versions (\`dpkg-query -W frr gobgpd\`):

\`\`\`
${f.versions}
\`\`\`

- Also: ${f.tools}, ${f.system}.

The script (\`scripts/capture-interop-fixtures.ts\`, on the namespace lab library
\`tools/netlab\`) builds a lab of network namespaces (all names \`efx-*\`,
documentation addresses only): \`efx-frr\` runs FRR (zebra + bgpd, \`frr defaults
datacenter\`) as an EVPN VTEP ${FRR_IP}; \`efx-gobgp\` runs gobgpd ${GOBGP_IP}
(passive, graceful restart enabled); a veth pair connects them. iBGP AS ${ASN},
address families L2VPN EVPN and IPv4 unicast, timers 3/9. tcpdump on gobgpd's
side of the veth records TCP port 179; the payload of each direction is
reassembled by TCP sequence number and split at the BGP length field, and the
per-sender counts are checked against tshark's BGP dissector. (tshark 4.0's
\`-z follow,tcp,raw\` was not used: its output showed gobgpd's OPEN as if FRR
had sent it.)

FRR's kernel side: VNI 10 = bridge \`efx-br10\` + VXLAN \`efx-vx10\` with an SVI
(198.51.100.1/25, 2001:db8:10::1/64, MAC 02:00:00:00:01:01, \`advertise-default-gw\`)
and host \`efx-h10\` (MAC 02:00:00:00:01:0a, 198.51.100.11, 2001:db8:10::11) behind
it; VNI 20 = \`efx-br20\` + \`efx-vx20\`, no SVI, host \`efx-h20\` (MAC
02:00:00:00:01:14) and static fdb entries 02:00:00:00:14:01 (\`static\`) and
02:00:00:00:14:02 (\`static sticky\`); L3VNI 100 of the default VRF = \`efx-br100\`
(router MAC 02:00:00:00:01:64) + \`efx-vx100\`, with \`advertise ipv4/ipv6
unicast\`, so FRR's BGP IPv4/IPv6 unicast prefixes (\`network 192.0.2.0/24\`,
\`network 203.0.113.0/25\` via a blackhole route, \`network 2001:db8:10::/64\`)
are also announced as type-5 routes. The kernel used has no VRF or dummy
device support, hence the default-VRF L3VNI.

## What happened on the wire, in order

1. Session 1 comes up (FRR connects); OPENs, End-of-RIBs.
2. FRR announces what zebra learnt: type 3 for VNI 10 and 20 (PMSI ingress
   replication), type 2 for host h10 (MAC only, MAC+IPv4, MAC+IPv6, IPv6
   link-local; MAC/IP routes carry two labels, VNI 10 + L3VNI 100, and the
   router MAC), the SVI's MAC/IPs with the default-gateway community (IPv6 ones
   also with the EVPN ND extended community), host h20 and the two static MACs
   (one with MAC Mobility "sticky"), type 5 and IPv4 unicast prefixes. It
   also passes on what it imported from gobgpd: gobgpd's IPv4 unicast routes
   as type 5 (keeping MED, LOCAL_PREF, COMMUNITIES) and gobgpd's type 5
   203.0.113.128/25 as an IPv4 unicast route (with ORIGINATOR_ID and
   CLUSTER_LIST).
3. gobgpd announces routes injected with the \`gobgp\` CLI: type 3 for VNI 10
   and 20 (PMSI ingress replication); type 2 with IPv4, without IP, with IPv6,
   with two route targets (65000:10 65000:20), with an ESI of type 1 (LACP) and
   of type 0 (arbitrary), with a router MAC; type 5 for 203.0.113.128/25 and
   2001:db8:20::/64 with router MAC; type 1 per-ES (etag 0xffffffff, ESI label
   community) and per-EVI; type 4 (with ES-import RT); IPv4 unicast
   203.0.113.192/26 (MED, LOCAL_PREF, COMMUNITIES) and 203.0.113.224/27.
4. MAC mobility: gobgpd announces h10's MAC/IP as well and adds a MAC
   Mobility community (seq 0) by itself. Then gobgpd announces MAC
   02:00:00:00:01:0b; the MAC appears on FRR's bridge, FRR announces it with MAC
   Mobility seq 1 and gobgpd withdraws its own route; gobgpd announces it again
   (seq 2) and FRR withdraws its route.
5. Withdrawals: gobgpd withdraws the MAC-only and IPv6 type 2, VNI 20's type 3,
   the IPv6 type 5, the per-EVI type 1 and 203.0.113.224/27; FRR withdraws a
   static MAC, 203.0.113.0/25 (IPv4 unicast and type 5) and all of VNI 20 (its
   VXLAN device goes down).
6. FRR sends a ROUTE-REFRESH (\`clear bgp ${GOBGP_IP} soft in\`); gobgpd answers
   by sending its routes again.
7. FRR ends the session (\`neighbor shutdown message ...\`: NOTIFICATION Cease /
   Administrative Shutdown with a shutdown message) and is then allowed to
   reconnect. gobgpd, still idle, may close FRR's first reconnection right
   after FRR's OPEN; then the second session comes up, where both sides
   announce their routes again (FRR now packs several NLRI per UPDATE).
   gobgpd ends it (\`gobgp neighbor ${FRR_IP} shutdown --reason ...\`:
   NOTIFICATION Cease / Administrative Shutdown with a shutdown message).

## Contents (generated from the capture)

${f.summary}

## Checks

- Every non-comment line parses as exactly one BGP message whose length
  field equals the line's byte count (the script's \`verify\` step).
- \`tshark -r bgp.pcap -Y '_ws.malformed or _ws.expert.severity >= "error"'\`:
  ${f.malformed}

## Interop notes seen during the capture

${f.notes}- The gobgp 3.10 CLI cannot set MAC Mobility / sticky, and \`default-gateway\`
  or \`esi-label ... single-active\` do not parse together with the other
  options used, so gobgpd's MAC Mobility communities come from its own
  MAC-move handling and FRR provides the sticky and default-gateway ones.
`;
}
