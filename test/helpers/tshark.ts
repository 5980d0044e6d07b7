/**
 * Test helper: dissect BGP messages with tshark and return the dissected field values.
 *
 * `dissectBgp()` writes the messages as one TCP stream 192.0.2.1:50179 -> 192.0.2.2:179 (one frame
 * per element of `messages`; an element may be an array of messages that then share one frame)
 * using `text2pcap`, runs `tshark -T json --no-duplicate-keys` on it and flattens the result.
 * Besides the field values it reports, per frame, the problems tshark saw: malformed markers,
 * expert infos of severity warning or error (from the JSON), frames matched by the display filter
 * `_ws.malformed or _ws.expert.severity >= "warning"` (a second, independent tshark run), and
 * structural mismatches (number of BGP messages, bgp.length, bgp.type against what was sent).
 *
 * All of the following was found by dissecting hand-made messages with tshark 4.0.17 (Debian 12)
 * and `tshark -G fields`, not guessed.
 *
 * JSON shape (tshark 4.0, -T json): layers -> "bgp" (an array when a frame holds several BGP
 * messages; without --no-duplicate-keys it would be repeated "bgp" keys, which JSON.parse
 * collapses, so --no-duplicate-keys is required). Leaf fields are keyed by field name with string
 * values; a field with a subtree also has a "<name>_tree" object; text-only tree items are objects
 * keyed by their display label (e.g. "10.0.1.0/24", "IP Address: NOT INCLUDED"). Repeated keys
 * become arrays. Values are the raw field values, not the display text (see RD below).
 *
 * Expert infos appear as `"_ws.expert": { "<expert field>": "", "_ws.expert.message": "...",
 * "_ws.expert.severity": "<n>", "_ws.expert.group": "<n>" }` with numeric strings:
 * comment 1048576 (0x100000), chat 2097152 (0x200000), note 4194304 (0x400000),
 * warning 6291456 (0x600000), error 8388608 (0x800000). Malformed packets add
 * `"_ws.malformed": "Malformed Packet"` (inside the bgp tree and/or as a top-level layer object).
 * In display filters the severity names are "Comment", "Chat", "Note", "Warning", "Error"
 * (case-insensitive; "warn" is rejected).
 *
 * Field names (tshark 4.0):
 * - Header: bgp.marker, bgp.length, bgp.type
 * - EVPN NLRI subtree: bgp.evpn.nlri (one object per route; under
 *   bgp.update.path_attribute.mp_reach_nlri or ...mp_unreach_nlri for withdrawals)
 *   - route type bgp.evpn.nlri.rt, length bgp.evpn.nlri.len
 *   - RD bgp.evpn.nlri.rd: raw bytes "00:01:01:01:01:01:de:ed"; the text view shows
 *     "000101010101deed (1.1.1.1:57069)". Use formatRd() to get "1.1.1.1:57069", "65000:100",
 *     "65536:100" as tshark displays types 1, 0, 2.
 *   - ESI bgp.evpn.nlri.esi (all 10 bytes incl. type, "00:11:..."), ESI type
 *     bgp.evpn.nlri.esi.type, ESI value bgp.evpn.nlri.esi.value (9 bytes); per type e.g.
 *     bgp.evpn.nlri.esi.type0, .lacp_mac/.lacp_portkey (1), .root_bridge/.rb_prio (2),
 *     .system_mac/.system_mac_discr (3), .router_id/.router_discr (4), .asn/.asn_discr (5)
 *   - ethernet tag bgp.evpn.nlri.etag
 *   - MAC length bgp.evpn.nlri.maclen, MAC bgp.evpn.nlri.mac_addr ("00:11:22:33:44:01")
 *   - IP length bgp.evpn.nlri.iplen, IPv4 bgp.evpn.nlri.ip.addr, IPv6 bgp.evpn.nlri.ipv6.addr
 *     (type 2 with iplen 0 adds a NOTE expert info "IP Address: NOT INCLUDED", bgp.evpn.no_ip)
 *   - labels, types 1 and 2: bgp.evpn.nlri.mpls_ls1 / bgp.evpn.nlri.mpls_ls2 show the 20-bit MPLS
 *     label (3-byte field >> 4, so VNI 0xAABBCC shows as 699324). ONLY when an EXTENDED_COMMUNITIES
 *     attribute carrying encapsulation VXLAN (tunnel type 8) comes BEFORE MP_REACH_NLRI in the same
 *     UPDATE does tshark show the full 24 bits as bgp.evpn.nlri.vni (one value per label). With the
 *     RFC 4271 ascending type-code order (14 before 16) expect mpls_ls1 == vni >> 4.
 *   - type 3 originating router IP: bgp.evpn.nlri.iplen + bgp.evpn.nlri.ip.addr / .ipv6.addr
 *     (bgp.evpn.nlri.or_addr_ipv4/6 and .or_length are for the multicast route types 6-8)
 *   - type 4: bgp.evpn.nlri.esi, bgp.evpn.nlri.iplen, bgp.evpn.nlri.ip.addr / .ipv6.addr
 *   - type 5: IP prefix length bgp.evpn.nlri.prefix_len, prefix bgp.evpn.nlri.ip.addr /
 *     bgp.evpn.nlri.ipv6.addr, gateway bgp.evpn.nlri.ipv4.gtw_addr / bgp.evpn.nlri.ipv6.gtw_addr,
 *     label bgp.update.path_attribute.mpls_label_value (raw 24 bits, inside a
 *     bgp.update.path_attribute.mpls_label subtree) unless VXLAN encapsulation precedes
 *     MP_REACH (then bgp.evpn.nlri.vni). Without it the text view decodes an MPLS label stack
 *     that reads on until a bottom-of-stack bit, past the NLRI ("BOGUS: Bottom of Stack NOT set").
 * - MP_REACH_NLRI: bgp.update.path_attribute.mp_reach_nlri.afi / .safi, next hop
 *   bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4 / .next_hop.ipv6 (/ .ipv6.link_local);
 *   ...mp_reach_nlri.next_hop itself is raw bytes INCLUDING the length byte ("04:01:01:01:01").
 *   MP_UNREACH: bgp.update.path_attribute.mp_unreach_nlri.afi / .safi.
 * - Path attributes (each a bgp.update.path_attribute object): bgp.update.path_attribute.flags,
 *   .type_code, .length; ORIGIN bgp.update.path_attribute.origin; NEXT_HOP
 *   bgp.update.path_attribute.next_hop; MED bgp.update.path_attribute.multi_exit_disc;
 *   LOCAL_PREF bgp.update.path_attribute.local_pref; ORIGINATOR_ID
 *   bgp.update.path_attribute.originator_id; CLUSTER_LIST bgp.path_attribute.cluster_id (one per
 *   id, in bgp.path_attribute.cluster_list)
 * - AS_PATH: bgp.update.path_attribute.as_path_segment.type (2 SEQUENCE, 1 SET), .length, and
 *   bgp.update.path_attribute.as_path_segment.as2 or .as4: the ASN width is AUTO-DETECTED
 *   (pref bgp.asn_len, "not 100% accurate"); pass prefs { "bgp.asn_len": "4 octet" } to force it.
 *   An empty AS_PATH has no segment fields, only length 0.
 * - COMMUNITIES: bgp.update.path_attribute.community_as + .community_value per community;
 *   well-known ones instead bgp.update.path_attribute.community_wellknown ("0xffffff01")
 * - LARGE_COMMUNITY: bgp.large_communities.ga, bgp.large_communities.ldp1, .ldp2 (one per
 *   community; bgp.large_communities itself is a useless "[ Null ]")
 * - Extended communities (bgp.ext_communities > bgp.ext_community objects): type bgp.ext_com.type
 *   ("0x00"), subtype by type: bgp.ext_com.stype_tr_as2 / stype_tr_IP4 / stype_tr_as4 /
 *   stype_tr_opaque / stype_tr_evpn ("0x02")
 *   - RT 2-octet AS (00 02): bgp.ext_com.value_as2 + bgp.ext_com.value_an4
 *   - RT IPv4 (01 02): bgp.ext_com.value_IP4 + bgp.ext_com.value_an2
 *   - RT 4-octet AS (02 02): bgp.ext_com.value_as4 + bgp.ext_com.value_an2
 *     (Route Origin 00 03 uses the same value fields)
 *   - encapsulation (03 0c): bgp.ext_com.tunnel_type (8 = VXLAN)
 *   - MAC mobility (06 00): bgp.ext_com_evpn.mmac.seq, bgp.ext_com_evpn.mmac.flags ("0x01"),
 *     bgp.ext_com_evpn.mmac.flags.sticky ("1"/"0")
 *   - ESI label (06 01): bgp.ext_com_l2.esi_label_flag (single-active), label
 *     bgp.update.path_attribute.mpls_label_value (raw 24 bits) and
 *     bgp.update.path_attribute.mpls_label_value_20bits, .mpls_traffic_class, .mpls_bottom_stack
 *   - ES-import RT (06 02): bgp.ext_com_evpn.esi.rt (MAC)
 *   - router's MAC (06 03): bgp.ext_com_evpn.esi.router_mac
 *   - default gateway (03 0d): no own field, bgp.ext_com.stype_tr_opaque "0x0d" +
 *     bgp.ext_com.value_raw ("0x0000000000000000")
 *   - ARP/ND (RFC 9047, 06 08): not decoded; shown as subtype "ND" with
 *     bgp.ext_com.stype_tr_evpn "0x08" + bgp.ext_com.value_raw
 * - PMSI tunnel: bgp.update.path_attribute.pmsi.tunnel.flags, .pmsi.tunnel.type (6 = ingress
 *   replication), endpoint bgp.update.path_attribute.pmsi.ingress_rep_ip; label
 *   bgp.update.path_attribute.mpls_label_value_20bits (20-bit MPLS label) unless VXLAN
 *   encapsulation came earlier in the UPDATE, then bgp.evpn.nlri.vni (full 24 bits).
 * - IPv4 NLRI (label-keyed objects): bgp.prefix_length + bgp.nlri_prefix; withdrawn routes
 *   bgp.prefix_length + bgp.withdrawn_prefix; MP IPv4/IPv6 unicast:
 *   bgp.mp_reach_nlri_ipv4_prefix / _ipv6_prefix, bgp.mp_unreach_nlri_ipv4_prefix / _ipv6_prefix
 * - UPDATE lengths: bgp.update.withdrawn_routes.length, bgp.update.path_attributes.length
 * - OPEN: bgp.open.version, bgp.open.myas, bgp.open.holdtime, bgp.open.identifier,
 *   bgp.open.opt.len, bgp.open.opt.param.type / .len; capabilities (bgp.cap objects):
 *   bgp.cap.type, bgp.cap.length; MP bgp.cap.mp.afi / .safi; 4-octet AS bgp.cap.4as;
 *   add-path bgp.cap.ap.afi / .safi / .sendreceive; graceful restart bgp.cap.gr.timers,
 *   bgp.cap.gr.timers.restart_flag / .notification_flag / .restart_time, bgp.cap.gr.afi / .safi /
 *   .flag / .flag.pfs; extended next hop bgp.cap.enh.afi / .safi / .nhafi; FQDN
 *   bgp.cap.orf.fqdn.hostname(.len) / .domain_name(.len); route refresh (2), enhanced route
 *   refresh (70) and extended message (6) have only type/length; BGP role (9) and LLGR (71) are
 *   unknown to 4.0 (bgp.cap.unknown). Graceful restart without AFIs gives a CHAT expert info.
 * - NOTIFICATION: bgp.notify.major_error, minor code per major: bgp.notify.minor_error_open /
 *   _update / _expired / _cease / ... ; data bgp.notify.minor_data; shutdown communication
 *   (cease 2/4) bgp.notify.communication_length + bgp.notify.communication; bad peer AS
 *   bgp.notify.error_open.bad_peer_as
 * - ROUTE-REFRESH: bgp.route_refresh.afi, bgp.route_refresh.subtype (0 normal, 1 BoRR, 2 EoRR),
 *   bgp.route_refresh.safi
 *
 * Limits of tshark 4.0 as a validator (found by feeding broken messages): it does NOT flag an EVPN
 * NLRI whose length byte disagrees with its content (type 3 ignores the length byte entirely,
 * type 2 uses it to step to the next route), nor an IP length of 33, nor an unknown BGP message
 * type, nor a bad marker (the data is then shown as "bgp.continuation", which the structural
 * checks here report). It does flag: attribute length overrunning the path attribute block
 * ("Path attribute length is invalid", error + malformed), total path attribute length overrunning
 * the message (exception, malformed), unknown EVPN route type (error + malformed). So conformance
 * tests must also compare bgp.evpn.nlri.len and the other field values themselves.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** tshark field name -> all values, in order of appearance within the subtree. */
export type FieldMap = Map<string, string[]>;

export interface DissectedBgpMessage {
  /** bgp.type, or -1 when tshark did not recognise a BGP header. */
  type: number;
  /** Every bgp.* field of the message, including those inside NLRI subtrees. */
  fields: FieldMap;
  /** One map per reachable NLRI: EVPN routes (MP_REACH) and IPv4/IPv6 prefixes. */
  nlri: FieldMap[];
  /** One map per withdrawn route: EVPN routes (MP_UNREACH) and IPv4/IPv6 withdrawn prefixes. */
  withdrawn: FieldMap[];
}

export interface DissectedFrame {
  /** frame.number, 1-based; frame i+1 holds messages[i]. */
  frame: number;
  /** Empty when tshark dissected the frame cleanly. */
  problems: string[];
  messages: DissectedBgpMessage[];
}

export interface DissectOptions {
  /** BGP (destination) port; default 179. Other ports are decoded as BGP with -d. */
  port?: number;
  /** Keep the temporary directory (its path is printed to stderr). */
  keepDir?: boolean;
  /** Extra tshark preferences, e.g. { "bgp.asn_len": "4 octet" }. */
  prefs?: Record<string, string>;
  /** Timeout per external command in ms; default 60000. */
  timeoutMs?: number;
}

/** Severity values of _ws.expert.severity in tshark's JSON (PI_* in epan/proto.h). */
export const EXPERT_SEVERITY = {
  comment: 0x100000,
  chat: 0x200000,
  note: 0x400000,
  warning: 0x600000,
  error: 0x800000,
} as const;

const SEVERITY_NAMES: Record<string, number> = {
  comment: EXPERT_SEVERITY.comment,
  chat: EXPERT_SEVERITY.chat,
  note: EXPERT_SEVERITY.note,
  warn: EXPERT_SEVERITY.warning,
  warning: EXPERT_SEVERITY.warning,
  error: EXPERT_SEVERITY.error,
};

export const PROBLEM_FILTER = '_ws.malformed or _ws.short or _ws.expert.severity >= "warning"';

const SRC_IP = "192.0.2.1";
const DST_IP = "192.0.2.2";
const SRC_PORT = 50179;
const MAX_FRAME_PAYLOAD = 65_000;

const EVPN_NLRI_KEY = "bgp.evpn.nlri";
const REACH_PREFIX_KEYS = ["bgp.nlri_prefix", "bgp.mp_reach_nlri_ipv4_prefix", "bgp.mp_reach_nlri_ipv6_prefix"];
const WITHDRAWN_PREFIX_KEYS = [
  "bgp.withdrawn_prefix",
  "bgp.mp_unreach_nlri_ipv4_prefix",
  "bgp.mp_unreach_nlri_ipv6_prefix",
];
const WITHDRAWN_CONTAINERS = ["bgp.update.path_attribute.mp_unreach_nlri", "bgp.update.withdrawn_routes"];

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asList(v: Json): Json[] {
  return Array.isArray(v) ? v : [v];
}

function isScalar(v: Json): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** First value of a field, or undefined. */
export function first(fields: FieldMap, name: string): string | undefined {
  return fields.get(name)?.[0];
}

/** All values of a field (empty array when absent). */
export function all(fields: FieldMap, name: string): string[] {
  return fields.get(name) ?? [];
}

/**
 * Renders a raw RD field value ("00:01:01:01:01:01:de:ed") the way tshark 4.0 displays it in its
 * text view: type 0 "65000:100", type 1 "1.1.1.1:57069", type 2 "65536:100".
 */
export function formatRd(raw: string): string {
  const b = raw.split(":").map((x) => Number.parseInt(x, 16));
  if (b.length !== 8 || b.some((x) => Number.isNaN(x))) throw new Error(`not an RD: ${raw}`);
  const u16 = (i: number) => (b[i] << 8) | b[i + 1];
  const u32 = (i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  switch (u16(0)) {
    case 0:
      return `${u16(2)}:${u32(4)}`;
    case 1:
      return `${b[2]}.${b[3]}.${b[4]}.${b[5]}:${u16(6)}`;
    case 2:
      return `${u32(2)}:${u16(6)}`;
    default:
      return `Unknown (0x${u16(0).toString(16).padStart(4, "0")}) RD type`;
  }
}

function push(map: FieldMap, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Collects every bgp.* leaf below `node` (skipping _ws.* expert/malformed subtrees). */
function collectFields(node: JsonObject, into: FieldMap): void {
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("_ws.")) continue;
    for (const v of asList(value)) {
      if (isObject(v)) collectFields(v, into);
      else if (Array.isArray(v)) collectFields({ [key]: v }, into);
      else if (isScalar(v) && key.startsWith("bgp.")) push(into, key, String(v));
    }
  }
}

function flatten(node: JsonObject): FieldMap {
  const map: FieldMap = new Map();
  collectFields(node, map);
  return map;
}

/** Finds EVPN NLRI subtrees and prefix subtrees; `withdrawn` tells under which container. */
function collectNlri(node: JsonObject, withdrawn: boolean, out: { nlri: FieldMap[]; withdrawn: FieldMap[] }): void {
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("_ws.")) continue;
    const inWithdrawn = withdrawn || WITHDRAWN_CONTAINERS.includes(key);
    for (const v of asList(value)) {
      if (!isObject(v)) continue;
      const hasReachPrefix = REACH_PREFIX_KEYS.some((k) => k in v);
      const hasWithdrawnPrefix = WITHDRAWN_PREFIX_KEYS.some((k) => k in v);
      if (key === EVPN_NLRI_KEY || hasReachPrefix || hasWithdrawnPrefix) {
        const target = inWithdrawn || hasWithdrawnPrefix ? out.withdrawn : out.nlri;
        target.push(flatten(v));
      } else {
        collectNlri(v, inWithdrawn, out);
      }
    }
  }
}

function severityValue(v: Json | undefined): number {
  if (v === undefined) return 0;
  const s = String(asList(v)[0]);
  const n = Number(s);
  if (Number.isFinite(n)) return n;
  return SEVERITY_NAMES[s.toLowerCase()] ?? 0;
}

function severityName(n: number): string {
  if (n >= EXPERT_SEVERITY.error) return "error";
  if (n >= EXPERT_SEVERITY.warning) return "warning";
  if (n >= EXPERT_SEVERITY.note) return "note";
  if (n >= EXPERT_SEVERITY.chat) return "chat";
  return "comment";
}

/** Collects malformed markers and expert infos of severity >= warning anywhere in the frame. */
function collectProblems(node: JsonObject, layer: string, out: Set<string>): void {
  for (const [key, value] of Object.entries(node)) {
    for (const v of asList(value)) {
      if (key === "_ws.expert" && isObject(v)) {
        const sev = severityValue(v["_ws.expert.severity"]);
        if (sev >= EXPERT_SEVERITY.warning) {
          const msg = String(v["_ws.expert.message"] ?? "(no message)");
          const id = Object.keys(v).find((k) => !k.startsWith("_ws.expert."));
          out.add(`${layer}: expert ${severityName(sev)}: ${msg}${id ? ` [${id}]` : ""}`);
        }
      } else if (key.startsWith("_ws.malformed") || key.startsWith("_ws.short")) {
        const text = isScalar(v) ? String(v) : key;
        out.add(`${layer}: ${key}: ${text}`);
        if (isObject(v)) collectProblems(v, layer, out);
      } else if (isObject(v)) {
        collectProblems(v, layer, out);
      } else if (Array.isArray(v)) {
        collectProblems({ [key]: v }, layer, out);
      }
    }
  }
}

function hexDump(frames: Uint8Array[]): string {
  const lines: string[] = [];
  for (const frame of frames) {
    for (let off = 0; off < frame.length; off += 16) {
      const bytes = Array.from(frame.subarray(off, off + 16), (b) => b.toString(16).padStart(2, "0"));
      lines.push(`${off.toString(16).padStart(6, "0")} ${bytes.join(" ")}`);
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

async function run(cmd: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      timeout: timeoutMs,
      maxBuffer: 512 * 1024 * 1024,
      encoding: "utf8",
      env: env ?? process.env,
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    const why = e.killed ? `timed out after ${timeoutMs} ms` : e.message;
    throw new Error(`${cmd} ${args.join(" ")} failed: ${why}\n${e.stderr ?? ""}`);
  }
}

/**
 * Dissects BGP messages with tshark. Each element of `messages` becomes one TCP segment/frame of
 * a single client->server stream; an array element puts several messages into one frame.
 * Resolves to one DissectedFrame per element, in order.
 */
export async function dissectBgp(
  messages: Array<Uint8Array | Uint8Array[]>,
  opts: DissectOptions = {},
): Promise<DissectedFrame[]> {
  const port = opts.port ?? 179;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const groups = messages.map((m) => (m instanceof Uint8Array ? [m] : m));
  const payloads = groups.map((g) => Buffer.concat(g));
  payloads.forEach((p, i) => {
    if (p.length === 0) throw new Error(`frame ${i + 1}: no bytes`);
    if (p.length > MAX_FRAME_PAYLOAD) throw new Error(`frame ${i + 1}: ${p.length} bytes too big`);
  });

  const dir = await mkdtemp(join(tmpdir(), "bgp-tshark-"));
  try {
    const dump = join(dir, "messages.txt");
    const pcap = join(dir, "messages.pcapng");
    const configDir = join(dir, "wireshark-config");
    await mkdir(configDir);
    await writeFile(dump, hexDump(payloads));
    await run("text2pcap", ["-q", "-T", `${SRC_PORT},${port}`, "-4", `${SRC_IP},${DST_IP}`, dump, pcap], timeoutMs);

    // An empty personal config dir keeps the user's Wireshark profile out of the results.
    const env = { ...process.env, WIRESHARK_CONFIG_DIR: configDir };
    const prefs: Record<string, string> = {
      "tcp.desegment_tcp_streams": "TRUE",
      "tcp.analyze_sequence_numbers": "TRUE",
      "bgp.desegment": "TRUE",
      ...opts.prefs,
    };
    const common = [
      "-n",
      "-r",
      pcap,
      "-d",
      `tcp.port==${port},bgp`,
      ...Object.entries(prefs).flatMap(([k, v]) => ["-o", `${k}:${v}`]),
    ];
    const [jsonText, filtered] = await Promise.all([
      run("tshark", [...common, "-T", "json", "--no-duplicate-keys"], timeoutMs, env),
      run("tshark", [...common, "-Y", PROBLEM_FILTER, "-T", "fields", "-e", "frame.number"], timeoutMs, env),
    ]);

    const flagged = new Set(
      filtered
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "")
        .map(Number),
    );
    const packets = JSON.parse(jsonText) as JsonObject[];
    if (!Array.isArray(packets) || packets.length !== groups.length) {
      throw new Error(
        `tshark returned ${Array.isArray(packets) ? packets.length : "no"} frames, expected ${groups.length}`,
      );
    }
    return packets.map((packet, i) => toFrame(packet, i + 1, groups[i], flagged.has(i + 1)));
  } finally {
    if (opts.keepDir) process.stderr.write(`tshark helper: kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

function toFrame(packet: JsonObject, frameNo: number, sent: Uint8Array[], flagged: boolean): DissectedFrame {
  const source = packet["_source"];
  const layers = isObject(source) ? source["layers"] : undefined;
  if (!isObject(layers)) throw new Error(`frame ${frameNo}: no _source.layers in tshark JSON`);

  const problems = new Set<string>();
  for (const [name, layer] of Object.entries(layers)) {
    if (name.startsWith("_ws.malformed") || name.startsWith("_ws.short")) {
      problems.add(`${name}: frame marked malformed`);
    }
    for (const v of asList(layer)) {
      if (isObject(v)) collectProblems(v, name, problems);
    }
  }
  if (flagged) problems.add(`display filter matched: ${PROBLEM_FILTER}`);

  const messages: DissectedBgpMessage[] = [];
  const bgp = layers["bgp"];
  for (const v of bgp === undefined ? [] : asList(bgp)) {
    if (!isObject(v)) continue;
    const fields = flatten(v);
    const typeText = first(fields, "bgp.type");
    const out = { nlri: [] as FieldMap[], withdrawn: [] as FieldMap[] };
    collectNlri(v, false, out);
    messages.push({ type: typeText === undefined ? -1 : Number(typeText), fields, ...out });
  }

  if (messages.length !== sent.length) {
    problems.add(`expected ${sent.length} BGP message(s), tshark dissected ${messages.length}`);
  }
  messages.forEach((m, i) => {
    const bytes = sent[i];
    if (m.type < 0) {
      const keys = [...m.fields.keys()].join(", ");
      problems.add(`message ${i + 1}: not recognised as a BGP message (${keys})`);
      return;
    }
    if (!bytes) return;
    const length = first(m.fields, "bgp.length");
    if (length !== String(bytes.length)) {
      problems.add(`message ${i + 1}: bgp.length ${length} but ${bytes.length} bytes were sent`);
    }
    if (bytes.length > 18 && m.type !== bytes[18]) {
      problems.add(`message ${i + 1}: bgp.type ${m.type} but type byte is ${bytes[18]}`);
    }
  });

  return { frame: frameNo, problems: [...problems], messages };
}
