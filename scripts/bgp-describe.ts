// Human-readable notes on captured BGP messages (the comment lines of the interop fixtures), and
// the features and statistics the fixtures' README summarises. Decoding is src/codec's.
import {
  type BgpMessage,
  type Capability,
  type EvpnRoute,
  type ExtCommunity,
  type MpNlri,
  type OpenMessage,
  type UpdateMessage,
  ESI_ZERO,
  decodeMessage,
  describeNotification,
  toHex,
} from "../src/codec/index.js";

export const TYPE_NAMES: Record<number, string> = {
  1: "OPEN",
  2: "UPDATE",
  3: "NOTIFICATION",
  4: "KEEPALIVE",
  5: "ROUTE-REFRESH",
};
const AFI: Record<number, string> = { 1: "ipv4", 2: "ipv6", 25: "l2vpn" };
const SAFI: Record<number, string> = { 1: "unicast", 2: "multicast", 70: "evpn", 128: "vpn" };
const fam = (afi: number, safi: number): string => `${AFI[afi] ?? `afi${afi}`}-${SAFI[safi] ?? `safi${safi}`}`;
const ORIGIN = ["IGP", "EGP", "INCOMPLETE"];
const CAPS: Record<number, string> = {
  1: "MP",
  2: "route-refresh",
  5: "extended-nexthop",
  6: "extended-message",
  9: "role",
  64: "graceful-restart",
  65: "4-octet-AS",
  69: "add-path",
  70: "enhanced-route-refresh",
  71: "long-lived-GR",
  73: "FQDN",
  128: "route-refresh(old)",
};

/** What the messages of one speaker showed, for the README. */
export interface Stats {
  features: Set<string>;
  evpnAnnounced: Record<number, number>;
  evpnWithdrawn: Record<number, number>;
  ipv4Announced: number;
  ipv4Withdrawn: number;
  mmSeq: Set<string>;
}

export function newStats(): Stats {
  return {
    features: new Set(),
    evpnAnnounced: {},
    evpnWithdrawn: {},
    ipv4Announced: 0,
    ipv4Withdrawn: 0,
    mmSeq: new Set(),
  };
}

export const typeName = (t: number): string => TYPE_NAMES[t] ?? `TYPE-${t}`;

function labels(...ls: (number | undefined)[]): string {
  const l = ls.filter((x) => x !== undefined);
  return l.length > 0 ? ` label ${l.join(",")}` : "";
}

function evpnRoute(r: EvpnRoute, st: Stats): string {
  if (r.routeType === "unknown") return `type-${r.code} (${r.value.length} bytes)`;
  const esi = "esi" in r && r.esi !== ESI_ZERO ? ` esi ${r.esi}` : "";
  if (esi) st.features.add("ESI (non-zero)");
  switch (r.routeType) {
    case 1:
      return `type-1 rd ${r.rd}${esi} etag ${r.ethernetTag}${labels(r.label)}`;
    case 2: {
      const v6 = r.ip?.includes(":") === true;
      st.features.add(r.ip === undefined ? "type-2 MAC only" : v6 ? "type-2 MAC+IPv6" : "type-2 MAC+IPv4");
      if (v6 && /^fe[89ab]/.test(r.ip!)) st.features.add("type-2 IPv6 link-local");
      if (r.label2 !== undefined) st.features.add("type-2 with two labels (L2 VNI + L3 VNI)");
      const ip = r.ip !== undefined ? ` ip ${r.ip}` : "";
      return `type-2 rd ${r.rd}${esi} etag ${r.ethernetTag} mac ${r.mac}${ip}${labels(r.label1, r.label2)}`;
    }
    case 3:
      return `type-3 rd ${r.rd} etag ${r.ethernetTag} orig ${r.originator}`;
    case 4:
      return `type-4 rd ${r.rd}${esi} orig ${r.originator}`;
    case 5: {
      st.features.add(r.prefix.includes(":") ? "type-5 IPv6 prefix" : "type-5 IPv4 prefix");
      if (r.gateway !== "0.0.0.0" && r.gateway !== "::") st.features.add("type-5 gateway IP");
      return `type-5 rd ${r.rd}${esi} etag ${r.ethernetTag} prefix ${r.prefix} gw ${r.gateway}${labels(r.label)}`;
    }
  }
}

function countTypes(types: number[]): string {
  const c: Record<number, number> = {};
  for (const t of types) c[t] = (c[t] ?? 0) + 1;
  const list = Object.entries(c).map(([t, n]) => `type-${t} x${n}`);
  return `${types.length} NLRI (${list.join(", ")})`;
}

/** The routes of an EVPN NLRI field as lines, counting their types into `into`. */
function evpnLines(nlri: MpNlri, sign: string, into: Record<number, number>, st: Stats): [string, string[]] {
  if (nlri.family !== "evpn") return ["", []];
  const types = nlri.routes.map((r) => (r.routeType === "unknown" ? r.code : r.routeType));
  for (const t of types) into[t] = (into[t] ?? 0) + 1;
  return [countTypes(types), nlri.routes.map((r) => `#   ${sign} ${evpnRoute(r, st)}`)];
}

function extCommunity(c: ExtCommunity, st: Stats): string {
  const f = st.features;
  switch (c.kind) {
    case "route-target":
      return `RT ${c.value}`;
    case "route-origin":
      return `SoO ${c.value}`;
    case "encapsulation":
      return `encap ${c.tunnelType === 8 ? "VXLAN" : c.tunnelType}`;
    case "default-gateway":
      f.add("default gateway ext community");
      return "default-gateway";
    case "mac-mobility": {
      const sticky = (c.flags & 1) === 1;
      f.add("MAC Mobility ext community");
      if (sticky) f.add("MAC Mobility sticky");
      st.mmSeq.add(`${c.sequence}${sticky ? " (sticky)" : ""}`);
      return `MAC-mobility seq ${c.sequence}${sticky ? " sticky" : ""}`;
    }
    case "esi-label":
      f.add("ESI label ext community");
      return `ESI-label ${c.label} ${c.flags & 1 ? "single-active" : "all-active"}`;
    case "es-import-rt":
      f.add("ES-import RT ext community");
      return `ES-import ${c.mac}`;
    case "router-mac":
      f.add("router MAC ext community");
      return `router-MAC ${c.mac}`;
    case "arp-nd":
      f.add("EVPN ND ext community (subtype 8)");
      return `ND flags 0x${c.flags.toString(16)}`;
    case "raw":
      return `ext ${toHex(c.bytes)}`;
  }
}

function describeUpdate(u: UpdateMessage, st: Stats): [string, string[]] {
  const lines: string[] = [];
  const parts: string[] = [];
  const attrs: string[] = [];
  if (u.withdrawn.length > 0) {
    parts.push(`withdraw ipv4-unicast x${u.withdrawn.length}`);
    for (const p of u.withdrawn) lines.push(`#   - ipv4 ${p}`);
    st.ipv4Withdrawn += u.withdrawn.length;
    st.features.add("IPv4 unicast withdrawal");
  }
  let onlyEor: string | null = null;
  const add = (text: string, feature?: string): void => {
    attrs.push(text);
    if (feature !== undefined) st.features.add(feature);
  };
  for (const a of u.attributes) {
    switch (a.kind) {
      case "origin":
        add(`ORIGIN ${ORIGIN[a.origin] ?? a.origin}`);
        break;
      case "as-path":
        add(`AS_PATH ${a.segments.length > 0 ? a.segments.map((s) => s.asns.join(" ")).join(" | ") : "empty"}`);
        break;
      case "next-hop":
        add(`NEXT_HOP ${a.nextHop}`);
        break;
      case "med":
        add(`MED ${a.med}`);
        break;
      case "local-pref":
        add(`LOCAL_PREF ${a.localPref}`);
        break;
      case "originator-id":
        add(`ORIGINATOR_ID ${a.originatorId}`, "ORIGINATOR_ID attribute");
        break;
      case "cluster-list":
        add(`CLUSTER_LIST ${a.clusterIds.join(" ")}`, "CLUSTER_LIST attribute");
        break;
      case "communities":
        add(`COMMUNITIES ${a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(" ")}`, "COMMUNITIES attribute");
        break;
      case "mp-reach": {
        const f = fam(a.afi, a.safi);
        const [count, routes] = evpnLines(a.nlri, "+", st.evpnAnnounced, st);
        const nh = a.nextHopRaw ? toHex(a.nextHopRaw) : a.nextHop.join(" ");
        parts.push(`MP_REACH ${f} nh ${nh}: ${count || `${nlriCount(a.nlri)} NLRI`}`);
        lines.push(...routes);
        break;
      }
      case "mp-unreach": {
        const f = fam(a.afi, a.safi);
        if (nlriCount(a.nlri) === 0) onlyEor = f;
        else {
          const [count, routes] = evpnLines(a.nlri, "-", st.evpnWithdrawn, st);
          parts.push(`MP_UNREACH ${f}: ${count ? `withdraw ${count}` : `${nlriCount(a.nlri)} NLRI`}`);
          lines.push(...routes);
          if (count) st.features.add("EVPN withdrawal (MP_UNREACH)");
        }
        break;
      }
      case "ext-communities": {
        const c = a.communities.map((x) => extCommunity(x, st));
        if (a.communities.filter((x) => x.kind === "route-target").length > 1) st.features.add("several route targets");
        attrs.push(`EXT_COMMUNITIES ${c.join(", ")}`);
        break;
      }
      case "pmsi-tunnel": {
        st.features.add("PMSI tunnel attribute");
        const tun = a.tunnelType === 6 ? "ingress-replication" : `tunnel-type ${a.tunnelType}`;
        const id = a.endpoint ?? (a.tunnelId ? toHex(a.tunnelId) : "");
        attrs.push(`PMSI ${tun} label ${a.label} tunnel ${id}`);
        break;
      }
      case "unknown":
        attrs.push(`attr ${a.code} (${a.value.length} bytes)`);
        st.features.add(`path attribute ${a.code}`);
        break;
      default:
        attrs.push(a.kind);
    }
  }
  if (u.nlri.length > 0) {
    parts.push(`ipv4-unicast x${u.nlri.length}`);
    for (const p of u.nlri) lines.push(`#   + ipv4 ${p}`);
    st.ipv4Announced += u.nlri.length;
  }
  let head: string;
  if (u.withdrawn.length === 0 && u.attributes.length === 0 && u.nlri.length === 0) head = "End-of-RIB ipv4-unicast";
  else if (onlyEor !== null && parts.length === 0) head = `End-of-RIB ${onlyEor}`;
  else head = parts.join("; ");
  if (head.startsWith("End-of-RIB")) st.features.add(head);
  if (attrs.length > 0) lines.unshift(`#   attrs: ${attrs.join("; ")}`);
  return [head, lines];
}

function nlriCount(n: MpNlri): number {
  return n.family === "evpn" ? n.routes.length : n.family === "raw" ? n.data.length : n.prefixes.length;
}

function capability(c: Capability): string {
  switch (c.code) {
    case 1:
      return `MP ${fam(c.afi, c.safi)}`;
    case 64:
      return `graceful-restart time ${c.restartTime}`;
    case 65:
      return `4-octet-AS ${c.asn}`;
    case "unknown": {
      const v = c.value;
      let s = CAPS[c.type] ?? `cap ${c.type}`;
      if (c.type === 73 && v.length > 0) s += ` "${new TextDecoder().decode(v.subarray(1, 1 + v[0]!))}"`;
      if (c.type === 5) {
        const l: string[] = [];
        const u16 = (i: number): number => (v[i]! << 8) | v[i + 1]!;
        for (let i = 0; i + 6 <= v.length; i += 6) l.push(`${fam(u16(i), u16(i + 2))}/nh-${AFI[u16(i + 4)]}`);
        s += ` ${l.join(",")}`;
      }
      return s;
    }
    default:
      return CAPS[c.code]!;
  }
}

function describeOpen(m: OpenMessage): string {
  const caps = m.params.flatMap((p) => (p.type === 2 ? p.capabilities.map(capability) : [`param ${p.code}`]));
  return `v${m.version} AS ${m.myAs} hold ${m.holdTime} id ${m.bgpId}; capabilities: ${caps.join(", ")}`;
}

function describeDecoded(m: BgpMessage, st: Stats): [string, string[]] {
  const name = typeName(m.type);
  switch (m.type) {
    case 1:
      return [`${name} ${describeOpen(m)}`, []];
    case 2: {
      const [h, l] = describeUpdate(m, st);
      return [`${name} ${h}`, l];
    }
    case 3:
      st.features.add("NOTIFICATION");
      return [`${name} ${describeNotification(m)}`, []];
    case 4:
      return [name, []];
    case 5:
      st.features.add("ROUTE-REFRESH");
      return [`${name} ${fam(m.afi, m.safi)} (${["request", "BoRR", "EoRR"][m.subtype] ?? m.subtype})`, []];
  }
}

/** The summary line and the detail lines ("#   ...") of one complete message. */
export function describe(msg: Uint8Array, st: Stats): [string, string[]] {
  const d = decodeMessage(msg, { as4: true, extendedMessage: true });
  if (!d.ok) return [`${typeName(msg[18]!)} (not decodable: ${d.error.message})`, []];
  const [head, lines] = describeDecoded(d.message, st);
  const errors = d.errors.map((e) => `#   codec: ${e.message}`);
  return [head, [...lines, ...errors]];
}
