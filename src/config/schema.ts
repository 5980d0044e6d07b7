// The configuration file of evpn-proxy, defined once: this zod schema validates the YAML as
// written (kebab-case keys, every object strict so that unknown keys are errors) and is the source
// of the JSON Schema for editors (json-schema.ts). Every message is written for the operator:
// what was expected, and what the file holds ("expected an IPv4 address, got "192.0.2.300"").
// Checks across fields (duplicates, the router-id used as a neighbour) and the normalized,
// camelCase form the daemon uses are in load.ts.
import { z } from "zod";
import { formatAdminValue, normalizeIp, normalizeMac, parseAdminValue } from "../codec/index.js";
import { InvariantError } from "../errors.js";

/** Operator-readable rendering of a value found in the file, for "got …" in messages. */
export function showValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

export const MISSING = "required key is missing";

type Issue = { code?: string; input?: unknown };

/** The error function of a schema: "required key is missing", or "expected <what>, got <value>". */
function expected(what: string, why = ""): (iss: Issue) => string {
  return (iss) =>
    iss.input === undefined && iss.code === "invalid_type"
      ? MISSING
      : `expected ${what}, got ${showValue(iss.input)}${why === "" || typeof iss.input !== "number" ? "" : ` (${why})`}`;
}

// ---- value parsers shared with load.ts (canonical text, or a reason) ------------------------------

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Why an address cannot be a host's (unspecified, multicast, broadcast), or null. */
function notUnicast(canonical: string): string | null {
  if (canonical === "0.0.0.0" || canonical === "::") return "the unspecified address";
  if (canonical === "255.255.255.255") return "the broadcast address";
  if (canonical.includes(":")) return /^ff[0-9a-f]{2}:/.test(canonical) ? "a multicast address" : null;
  const first = Number(canonical.slice(0, canonical.indexOf(".")));
  return first >= 224 && first <= 239 ? "a multicast address" : null;
}

export type IpFamily = "ipv4" | "ip";

/** Canonical text of an address (RFC 5952 for IPv6); `unicast` also rejects what no host can have. */
export function parseAddress(s: string, family: IpFamily, unicast: boolean): Parsed<string> {
  const what = family === "ipv4" ? "an IPv4 address" : "an IPv4 or IPv6 address";
  const value = family === "ipv4" && s.includes(":") ? null : normalizeIp(s);
  if (value === null) return { ok: false, reason: `expected ${what}, got ${showValue(s)}` };
  const bad = unicast ? notUnicast(value) : null;
  if (bad !== null) return { ok: false, reason: `expected a unicast address, got ${showValue(s)} (${bad})` };
  return { ok: true, value };
}

export interface MacEntry {
  mac: string;
  /** Canonical addresses (IPv4, IPv6), each announced in a MAC/IP route; may be empty. */
  ips: string[];
}

const MAC_ENTRY_FORM = `"MAC" or "MAC IP ..." (e.g. "02:00:00:00:01:02 10.0.0.2 2001:db8::2")`;

/** A static MAC entry: "MAC" or "MAC IP IP ..."; the MAC in lowercase colon form, the IPs canonical. */
export function parseMacEntry(s: string): Parsed<MacEntry> {
  const parts = s.trim().split(/\s+/);
  if (parts[0] === "") return { ok: false, reason: `expected ${MAC_ENTRY_FORM}, got ${showValue(s)}` };
  const mac = normalizeMac(parts[0]!);
  if (mac === null)
    return { ok: false, reason: `expected a MAC address such as "02:00:00:00:01:02", got ${showValue(parts[0])}` };
  if (mac === "00:00:00:00:00:00") return { ok: false, reason: `expected a unicast MAC address, got the all-zero MAC` };
  if ((Number.parseInt(mac.slice(0, 2), 16) & 1) === 1)
    return {
      ok: false,
      reason: `expected a unicast MAC address, got ${showValue(parts[0])} (the I/G bit of the first octet is set: multicast or broadcast)`,
    };
  const ips: string[] = [];
  for (const text of parts.slice(1)) {
    const ip = normalizeIp(text);
    if (ip === null)
      return { ok: false, reason: `expected an IPv4 or IPv6 address after the MAC, got ${showValue(text)}` };
    const bad = notUnicast(ip);
    if (bad !== null)
      return { ok: false, reason: `expected a unicast address after the MAC, got ${showValue(text)} (${bad})` };
    if (ips.includes(ip)) return { ok: false, reason: `duplicate address ${ip} in ${showValue(s)}` };
    ips.push(ip);
  }
  return { ok: true, value: { mac, ips } };
}

/** An RFC 9161 static proxy-ARP/ND entry: "IP MAC", the IP canonical, the MAC a unicast one. */
export function parseArpNdEntry(s: string): Parsed<{ ip: string; mac: string }> {
  const parts = s.trim().split(/\s+/);
  const shape = `expected "IP MAC" (e.g. "198.51.100.10 02:00:00:00:00:10"), got ${showValue(s)}`;
  if (parts.length !== 2) return { ok: false, reason: shape };
  const ip = parseAddress(parts[0]!, "ip", true);
  if (!ip.ok) return { ok: false, reason: `${ip.reason} before the MAC` };
  const mac = parseMacEntry(parts[1]!);
  if (!mac.ok) return { ok: false, reason: mac.reason.replace(/^expected "MAC" or "MAC IP".*$/, shape) };
  return { ok: true, value: { ip: ip.value, mac: mac.value.mac } };
}

/** A route target as the codec prints it: "65000:10", "192.0.2.1:10", "4200000000:10", "65000L:10". */
export function parseRouteTarget(s: string): Parsed<string> {
  const b = new Uint8Array(6);
  const layout = parseAdminValue(s.trim(), b, 0);
  if (layout < 0)
    return {
      ok: false,
      reason: `expected a route target "AS:N" (AS ≤ 65535, N ≤ 4294967295), "IPv4:N" or "AS4:N" (N ≤ 65535), e.g. "65000:10", "192.0.2.1:10" or "4200000000:10", got ${showValue(s)}`,
    };
  return { ok: true, value: formatAdminValue(layout, b, 0) };
}

/** The default route target of a service: `<local-as>:<evi>`, the 4-octet-AS form when the AS needs it. */
export function defaultRouteTarget(localAs: number, evi: number): string {
  // "AS:N" is type 0 (2-octet AS, 32-bit N) when the AS fits 2 octets, else type 2 (4-octet AS,
  // 16-bit N; the EVI is at most 65535).
  const rt = parseRouteTarget(`${localAs}:${evi}`);
  if (!rt.ok) throw new InvariantError("ERR_CONFIG_INVARIANT", `no default route target for AS ${localAs}, EVI ${evi}`);
  return rt.value;
}

// ---- schema builders ------------------------------------------------------------------------------

function integer(min: number, max: number, why = "") {
  return z
    .number({ error: expected(`an integer from ${min} to ${max}`, why) })
    .int()
    .min(min)
    .max(max);
}

const AS_TRANS = 23456;

function asNumber() {
  return integer(1, 4294967295).refine((v) => v !== AS_TRANS, {
    message: "AS 23456 is AS_TRANS (RFC 6793), a placeholder that cannot be a real AS number",
  });
}

function port() {
  return integer(1, 65535);
}

function bool() {
  return z.boolean({ error: expected("true or false") });
}

function address(family: IpFamily, unicast: boolean) {
  const what = family === "ipv4" ? "an IPv4 address" : "an IPv4 or IPv6 address";
  return z
    .string({ error: expected(what) })
    .superRefine((s, ctx) => {
      const r = parseAddress(s, family, unicast);
      if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason, input: s });
    })
    .meta(family === "ipv4" ? { format: "ipv4" } : { anyOf: [{ format: "ipv4" }, { format: "ipv6" }] });
}

/** An IPv4 or IPv6 prefix in CIDR notation, e.g. 192.0.2.0/24. */
function prefix() {
  return z.string({ error: expected("a prefix such as 192.0.2.0/24") }).superRefine((s, ctx) => {
    const slash = s.indexOf("/");
    const len = Number(s.slice(slash + 1));
    const a = slash > 0 ? parseAddress(s.slice(0, slash), "ip", false) : undefined;
    const max = s.includes(":") ? 128 : 32;
    if (!a?.ok || !/^\d{1,3}$/.test(s.slice(slash + 1)) || len > max)
      ctx.addIssue({
        code: "custom",
        message: `expected a prefix such as 192.0.2.0/24, got ${showValue(s)}`,
        input: s,
      });
  });
}

/** A list; `min` 1 makes it non-empty. */
function list<T extends z.ZodType>(item: T, what: string, min = 0) {
  const msg = min > 0 ? `expected a list of at least one ${what}` : `expected a list of ${what}s`;
  return z
    .array(item, { error: (iss) => (iss.input === undefined ? MISSING : msg + `, got ${showValue(iss.input)}`) })
    .min(min, {
      error: `${msg}, got an empty list`,
    });
}

/** A mapping with exactly these keys. */
function mapping<S extends z.ZodRawShape>(shape: S, what: string) {
  return z.strictObject(shape, { error: expected(what) });
}

// ---- the configuration file -----------------------------------------------------------------------

/** RFC 4271 §8.2.1: BGP listens and connects on TCP port 179. */
export const BGP_PORT = 179;
/** Graceful restart time advertised by default (RFC 4724 §3; FRR's default too). */
export const RESTART_TIME = 120;
/** Peer oscillation damping (RFC 4271 §8.1.1): first idle hold time (s), doubled per failure up to the maximum. */
export const IDLE_HOLD_TIME = 2;
export const MAX_IDLE_HOLD_TIME = 120;
/** Where learned state is kept across restarts, and the least time between two saves (s). */
export const STATE_DIRECTORY = "/var/lib/evpn-proxy";
export const STATE_SAVE_SECONDS = 5;

const MAC_ENTRY_PATTERN =
  "^\\s*[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}(\\s+([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))*\\s*$";

export const NeighborSchema = mapping(
  {
    address: address("ip", true).describe("Address of the BGP neighbour (IPv4 or IPv6)."),
    "peer-as": asNumber().describe("AS number of the neighbour (equal to local-as for iBGP)."),
    "local-address": address("ip", false)
      .optional()
      .describe("Source address of the connections to this neighbour; by default the kernel chooses."),
    port: port().default(BGP_PORT).describe("TCP port of the neighbour."),
    passive: bool().default(false).describe("Never connect to this neighbour; only accept its connections."),
    "hold-time": z
      .number({
        error: expected("0 or an integer from 3 to 65535", "RFC 4271 §4.2: 0 for no KEEPALIVEs, else at least 3 s"),
      })
      .int()
      .min(0)
      .max(65535)
      .refine((v) => v === 0 || v >= 3)
      .meta({ not: { enum: [1, 2] } })
      .default(90)
      .describe("Hold time in seconds proposed in the OPEN (RFC 4271): 0, or from 3 to 65535."),
    keepalive: integer(1, 21845)
      .optional()
      .describe("Seconds between KEEPALIVEs; by default a third of the negotiated hold time. Must be below hold-time."),
    description: z
      .string({ error: expected("a text") })
      .optional()
      .describe("Free text naming the neighbour, shown in logs."),
    "graceful-restart": bool()
      .default(true)
      .describe(
        "Negotiate graceful restart (RFC 4724) with this neighbour, when graceful-restart is enabled globally.",
      ),
    "connect-retry": integer(1, 65535).default(10).describe("Seconds between attempts to connect to the neighbour."),
    damping: z
      .union(
        [
          mapping(
            {
              "idle-hold-time": integer(0, 65535)
                .default(IDLE_HOLD_TIME)
                .describe("Seconds the session stays idle after its first failure; doubled on each further failure."),
              "max-idle-hold-time": integer(0, 65535)
                .default(MAX_IDLE_HOLD_TIME)
                .describe("The longest idle hold, in seconds (at least idle-hold-time)."),
            },
            "a mapping with idle-hold-time and/or max-idle-hold-time",
          ),
          bool(),
        ],
        { error: expected("a mapping with idle-hold-time and/or max-idle-hold-time, true, or false") },
      )
      .optional()
      .describe(
        `Peer oscillation damping (RFC 4271 §8.1.1): after a failure the session waits idle-hold-time seconds before restarting, doubled on each further failure up to max-idle-hold-time, reset by a session that stays up 60 s. True or absent: ${IDLE_HOLD_TIME} and ${MAX_IDLE_HOLD_TIME}; false: restart at once (only connect-retry paces connection attempts).`,
      ),
  },
  "a mapping with address and peer-as",
).describe("A BGP neighbour: a route reflector or an EVPN VTEP speaking L2VPN EVPN.");

export const StaticVtepSchema = mapping(
  {
    address: address("ip", true).describe(
      "Address of the static VTEP: the VXLAN tunnel endpoint named in its flood list, announced as next hop and originator of its routes.",
    ),
    macs: list(
      z
        .string({ error: expected('a MAC, or "MAC IP ..."') })
        .superRefine((s, ctx) => {
          const r = parseMacEntry(s);
          if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason, input: s });
        })
        .meta({ pattern: MAC_ENTRY_PATTERN })
        .describe(
          'A unicast MAC behind this VTEP ("02:00:00:00:01:02"), announced as a type 2 route; each address after it ("02:00:00:00:01:02 10.0.0.2 2001:db8::2") adds a MAC/IP route. With learning.include-ip, the addresses the MAC uses in ARP/ND at this VTEP are learned as sticky MAC/IP routes too.',
        ),
      "MAC",
    )
      .default([])
      .describe("Static MACs behind this VTEP, announced as sticky (static) type 2 routes (RFC 7432 §15.2)."),
  },
  "a mapping with address (and optionally macs)",
).describe("A static (non-EVPN) VXLAN VTEP the proxy announces on behalf of.");

export const ArpNdProxySchema = mapping(
  {
    static: list(
      z
        .string({ error: expected('"IP MAC"') })
        .superRefine((s, ctx) => {
          const r = parseArpNdEntry(s);
          if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason, input: s });
        })
        .describe('An address and its MAC: "198.51.100.10 02:00:00:00:00:10".'),
      "entry",
    )
      .default([])
      .describe(
        "Static entries (RFC 9161 §3.2): always answered, never overridden, announced as MAC/IP routes with the immutable flag (RFC 9047) where the MAC is located.",
      ),
    "flood-unknown": bool()
      .default(true)
      .describe("Replicate requests for addresses not in the table; false drops them (an all-static IXP)."),
    "flood-gratuitous": bool()
      .default(true)
      .describe("Replicate gratuitous ARP and unsolicited NA; false only learns from them."),
    "duplicate-max-moves": integer(1, 1000)
      .default(5)
      .describe(
        "An IP whose MAC changes more often than this within duplicate-window-seconds is a duplicate (RFC 9161 §3.7).",
      ),
    "duplicate-window-seconds": integer(1, 86400).default(180).describe("The window of duplicate-max-moves."),
    "duplicate-hold-seconds": integer(1, 86400)
      .default(540)
      .describe("How long a duplicate IP is not answered before it is released."),
    "max-requests-per-source": integer(1, 1000000)
      .default(10)
      .describe(
        "Requests per second one requester (VTEP and MAC) may have replicated; more are dropped and counted, so that an ARP flood from one host does not reach every VTEP.",
      ),
    "request-burst": integer(1, 1000000)
      .default(100)
      .describe("Requests one requester may have replicated at once above max-requests-per-source."),
  },
  "a mapping of proxy-ARP/ND settings",
).describe("RFC 9161 proxy-ARP/ND settings of a service.");

export const ServiceSchema = mapping(
  {
    name: z
      .string({ error: expected("a name of letters, digits, '_', '.' or '-'") })
      .regex(/^[A-Za-z0-9_.-]+$/, { error: expected("a name of letters, digits, '_', '.' or '-'") })
      .describe("Name of the service (unique), used in logs: letters, digits, '_', '.', '-'."),
    evi: integer(
      1,
      65535,
      "the EVI is the assigned number of the route distinguisher <vtep>:<evi>: 16 bits in an IPv4-administered RD, RFC 4364 type 1",
    ).describe(
      "EVPN instance number (RFC 7432), unique. At most 65535: the route distinguisher <vtep>:<evi> is IPv4-administered (RFC 4364 type 1) with a 16-bit assigned number.",
    ),
    vni: integer(1, 16777215, "a VXLAN network identifier has 24 bits, RFC 7348").describe(
      "VXLAN network identifier (RFC 7348, 24 bits), unique: the label of the routes and of the PMSI tunnel attribute.",
    ),
    "route-targets": list(
      z
        .string({ error: expected('a route target such as "65000:10"') })
        .superRefine((s, ctx) => {
          const r = parseRouteTarget(s);
          if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason, input: s });
        })
        .meta({ pattern: "^(\\d+L?|\\d{1,3}(\\.\\d{1,3}){3}):\\d+$" })
        .describe('A route target: "AS:N", "IPv4:N" or "AS4:N" (e.g. "65000:10", "192.0.2.1:10", "4200000000:10").'),
      "route target",
      1,
    )
      .optional()
      .describe(
        "Route targets of the routes announced for this service. Default: <local-as>:<evi> (in the 4-octet-AS form when local-as is above 65535). EVPN VTEPs import by route target.",
      ),
    replication: z
      .enum(["ingress", "proxy"], { error: expected('"ingress" or "proxy"') })
      .default("ingress")
      .describe(
        'BUM replication: "ingress" (static VTEPs list every VTEP and the proxy announces an IMET route per static VTEP) or "proxy" (static VTEPs list only the proxy, which announces one IMET route of its own and replicates their broadcast, unknown unicast and multicast frames; needs learning.vxlan-listen).',
      ),
    "replication-source": z
      .enum(["vtep", "proxy"], { error: expected('"vtep" or "proxy"') })
      .default("vtep")
      .describe(
        'Outer source address of the copies and ARP/ND answers the proxy sends: "vtep", the VTEP the frame (or the answered MAC) comes from, so that flood-and-learn VTEPs learn MACs where they are (needs CAP_NET_RAW); "proxy", the proxy\'s own address, for underlays with strict uRPF.',
      ),
    "arp-nd-proxy": z
      .union([ArpNdProxySchema, bool()], {
        error: expected("a mapping of proxy-ARP/ND settings, true, or false"),
      })
      .optional()
      .describe(
        "The RFC 9161 proxy-ARP/ND function: answer ARP requests and neighbour solicitations for known addresses instead of replicating them. On by default with replication: proxy; false turns it off.",
      ),
    "static-vteps": list(StaticVtepSchema, "static VTEP")
      .default([])
      .describe("Static VTEPs of this service: each gets a type 3 (IMET) route, and its MACs type 2 routes."),
  },
  "a mapping with name, evi and vni",
).describe("A layer-2 service: one EVPN instance and one VXLAN VNI (VLAN-based service, RFC 8365).");

export const LearningSchema = mapping(
  {
    "vxlan-listen": address("ip", false)
      .optional()
      .describe("Address on which to receive VXLAN packets for data-plane learning (UDP port 4789)."),
    "include-ip": bool()
      .default(true)
      .describe("Announce learned MACs with their IP address (MAC/IP routes), from ARP and ND (UDP port 4789)."),
    "capture-interfaces": list(
      z
        .string({ error: expected("an interface name") })
        .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, { error: expected("an interface name (at most 15 characters)") }),
      "interface name",
    )
      .default([])
      .describe(
        'Interfaces to capture VXLAN-carried ARP/ND on, or "any" (AF_PACKET, native addon; CAP_NET_RAW). A missing or down interface is waited for.',
      ),
    "any-frame": bool()
      .default(false)
      .describe("Also learn the source MAC of inner frames that are neither ARP nor ND."),
    "auto-discover-static-vteps": bool()
      .default(false)
      .describe("Proxy an unconfigured VTEP seen sending VXLAN for a configured VNI, if inside allowed-vtep-prefixes."),
    "allowed-vtep-prefixes": list(prefix(), "prefix")
      .default([])
      .describe("Prefixes (CIDR) in which auto-discovered static VTEPs may lie."),
    "mac-ageing-seconds": integer(1, 86400)
      .default(300)
      .describe("A learned binding not seen for this long is withdrawn; configured MACs never age."),
    "max-moves": integer(1, 1000)
      .default(5)
      .describe("More moves of one MAC than this within move-window-seconds mark it duplicate (RFC 7432 §15.1)."),
    "move-window-seconds": integer(1, 86400).default(180).describe("The window of max-moves."),
    "freeze-seconds": integer(1, 86400)
      .default(180)
      .describe("How long a duplicate MAC's changes are not announced before it is released."),
    "max-macs-per-vtep": integer(1, 1000000).default(10000).describe("Learned MACs per VTEP at most."),
    "max-macs-per-vni": integer(1, 10000000).default(100000).describe("Learned MACs per VNI at most."),
    "max-learn-rate": integer(1, 1000000).default(100).describe("New bindings per second per VTEP at most."),
  },
  "a mapping of learning settings",
).describe("Data-plane learning of MACs and IPs from ARP/ND inside VXLAN.");

/** The management API's Unix socket by default. */
export const API_SOCKET = "/run/evpn-proxy/api.sock";
/** The management API's TCP listener, when enabled: loopback, this port. */
export const API_HTTP_ADDRESS = "127.0.0.1";
export const API_HTTP_PORT = 9179;

export const ManagementSchema = mapping(
  {
    socket: z
      .union(
        [
          z
            .string({ error: expected("an absolute path") })
            .regex(/^\/./, { error: expected("an absolute path, or false for no socket") }),
          z.literal(false, { error: expected("an absolute path, or false") }),
        ],
        { error: expected("an absolute path, or false for no socket") },
      )
      .default(API_SOCKET)
      .describe(
        "Unix socket of the management API (read and write; the show, clear and reload commands use it); false for none.",
      ),
    "socket-mode": z
      .string({ error: expected('an octal file mode such as "0660"') })
      .regex(/^0?[0-7]{3}$/, { error: expected('an octal file mode such as "0660"') })
      .default("0660")
      .describe("File mode of the socket: who may use the API is who may open it (owner and group by default)."),
    http: z
      .union(
        [
          mapping(
            {
              address: address("ip", false)
                .default(API_HTTP_ADDRESS)
                .describe(`Address of the TCP listener; default ${API_HTTP_ADDRESS}.`),
              port: port().default(API_HTTP_PORT).describe(`TCP port of the listener; default ${API_HTTP_PORT}.`),
            },
            "a mapping with address and/or port",
          ),
          bool(),
        ],
        { error: expected("a mapping with address and/or port, true, or false") },
      )
      .default(false)
      .describe(
        `Optional HTTP listener over TCP (off by default; true: ${API_HTTP_ADDRESS}:${API_HTTP_PORT}): read-only endpoints and /metrics without a token on a loopback address; writes, and everything on any other address, need the bearer token of token-file.`,
      ),
    "token-file": z
      .string({ error: expected("a file name") })
      .min(1, { error: expected("a file name") })
      .optional()
      .describe(
        "File holding the bearer token (one line) that TCP clients must send as 'Authorization: Bearer <token>'; read at start and at each reload. Required for an http address that is not loopback.",
      ),
  },
  "a mapping of management settings",
).describe("The management API: a Unix socket, an optional TCP listener, the token for TCP clients.");

export const ConfigSchema = mapping(
  {
    "router-id": address("ipv4", true).describe("BGP identifier (IPv4): the proxy's own address."),
    "local-as": asNumber().describe("AS number of the proxy (1 to 4294967295)."),
    listen: z
      .union(
        [
          mapping(
            {
              address: address("ip", false)
                .optional()
                .describe("Address to accept BGP connections on; default the router-id."),
              port: port().optional().describe(`TCP port to accept BGP connections on; default ${BGP_PORT}.`),
            },
            "a mapping with address and/or port",
          ),
          bool(),
        ],
        { error: expected("a mapping with address and/or port, true, or false to accept no connections") },
      )
      .optional()
      .describe(
        `Where to accept BGP connections: a mapping with address and/or port; true or absent for the router-id, port ${BGP_PORT}; false for nowhere.`,
      ),
    "graceful-restart": z
      .union(
        [
          mapping(
            {
              "restart-time": integer(1, 4095, "12 bits, RFC 4724 §3")
                .default(RESTART_TIME)
                .describe("Seconds neighbours keep our routes while we restart (RFC 4724, 1 to 4095)."),
            },
            "a mapping with restart-time",
          ),
          bool(),
        ],
        { error: expected("a mapping with restart-time, true, or false to disable graceful restart") },
      )
      .optional()
      .describe(
        `Graceful restart (RFC 4724) advertised to neighbours: a mapping with restart-time; true or absent for restart-time ${RESTART_TIME}; false to disable.`,
      ),
    neighbors: list(NeighborSchema, "neighbor", 1).describe("BGP neighbours (at least one)."),
    services: list(ServiceSchema, "service", 1).describe("Services (at least one): an EVI and a VNI each."),
    // Absent: every learning default, no source (learning is off without vxlan-listen or capture-interfaces).
    learning: LearningSchema.prefault({}),
    management: ManagementSchema.prefault({}),
    "state-directory": z
      .union(
        [
          z
            .string({ error: expected("an absolute directory path") })
            .regex(/^\/[^\0]*$/, { error: expected("an absolute directory path") }),
          z.literal(false),
        ],
        { error: expected("an absolute directory path, or false to keep no state") },
      )
      .default(STATE_DIRECTORY)
      .describe(
        `Directory (absolute; created with mode 0750 when missing) where the learned table is saved, so that a restart, even after a crash, announces it again at once; false keeps nothing. Default ${STATE_DIRECTORY}.`,
      ),
    "state-save-seconds": integer(1, 3600)
      .default(STATE_SAVE_SECONDS)
      .describe(
        "Least seconds between two saves of the learned table while it changes (it is also saved at a clean stop).",
      ),
  },
  "a mapping with router-id, local-as, neighbors and services",
).meta({
  title: "evpn-proxy configuration",
  description:
    "Configuration file of evpn-proxy, a BGP EVPN proxy that announces statically configured VXLAN VTEPs and their MACs into a BGP EVPN fabric.",
});

/** The file as written (kebab-case), before defaults. */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The file as validated by the schema, zod defaults applied (kebab-case). */
export type ConfigFile = z.output<typeof ConfigSchema>;
