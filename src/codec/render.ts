// Rendering for people and tools: EVPN routes in FRR's prefix notation, and a stable JSON form
// (fixed key order, bytes as lowercase hex) for messages, attributes and routes.

import type { PathAttribute } from "./attributes.js";
import { toHex } from "./bytes.js";
import { notificationName } from "./constants.js";
import type { EvpnRoute } from "./evpn.js";
import { type ExtCommunity, formatExtCommunity } from "./extcommunity.js";
import type { BgpMessage } from "./message.js";
import { shutdownCommunication } from "./notification.js";

function ipBits(ip: string): number {
  return ip.includes(":") ? 128 : 32;
}

/**
 * FRR's notation (lib/prefix.c): "[2]:[0]:[48]:[02:00:00:00:01:01]:[32]:[198.51.100.101]",
 * "[3]:[0]:[32]:[192.0.2.1]", "[4]:[esi]:[32]:[ip]", "[5]:[0]:[24]:[203.0.113.0]".
 * Type 1 as "[1]:[tag]:[esi]", since FRR's form adds fields that are not in the NLRI.
 */
export function formatEvpnPrefix(r: EvpnRoute): string {
  switch (r.routeType) {
    case 1:
      return `[1]:[${r.ethernetTag}]:[${r.esi}]`;
    case 2:
      return r.ip === undefined
        ? `[2]:[${r.ethernetTag}]:[48]:[${r.mac}]`
        : `[2]:[${r.ethernetTag}]:[48]:[${r.mac}]:[${ipBits(r.ip)}]:[${r.ip}]`;
    case 3:
      return `[3]:[${r.ethernetTag}]:[${ipBits(r.originator)}]:[${r.originator}]`;
    case 4:
      return `[4]:[${r.esi}]:[${ipBits(r.originator)}]:[${r.originator}]`;
    case 5: {
      const slash = r.prefix.indexOf("/");
      return `[5]:[${r.ethernetTag}]:[${r.prefix.slice(slash + 1)}]:[${r.prefix.slice(0, slash)}]`;
    }
    default:
      return `[${r.code}]:[${toHex(r.value)}]`;
  }
}

/** RD and prefix, as one line of "show bgp l2vpn evpn": "192.0.2.1:10 [3]:[0]:[32]:[192.0.2.1]". */
export function formatEvpnRoute(r: EvpnRoute): string {
  return r.routeType === "unknown" ? formatEvpnPrefix(r) : `${r.rd} ${formatEvpnPrefix(r)}`;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Stable JSON of an EVPN route: fixed key order per route type, absent fields omitted. */
export function evpnRouteToJson(r: EvpnRoute): Json {
  switch (r.routeType) {
    case 1:
      return { routeType: 1, rd: r.rd, esi: r.esi, ethernetTag: r.ethernetTag, label: r.label };
    case 2: {
      const o: { [k: string]: Json } = {
        routeType: 2,
        rd: r.rd,
        esi: r.esi,
        ethernetTag: r.ethernetTag,
        mac: r.mac,
      };
      if (r.ip !== undefined) o["ip"] = r.ip;
      o["label1"] = r.label1;
      if (r.label2 !== undefined) o["label2"] = r.label2;
      return o;
    }
    case 3:
      return { routeType: 3, rd: r.rd, ethernetTag: r.ethernetTag, originator: r.originator };
    case 4:
      return { routeType: 4, rd: r.rd, esi: r.esi, originator: r.originator };
    case 5:
      return {
        routeType: 5,
        rd: r.rd,
        esi: r.esi,
        ethernetTag: r.ethernetTag,
        prefix: r.prefix,
        gateway: r.gateway,
        label: r.label,
      };
    default:
      return { routeType: "unknown", code: r.code, value: toHex(r.value) };
  }
}

export function extCommunityToJson(c: ExtCommunity): Json {
  const o: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(c)) o[k] = v instanceof Uint8Array ? toHex(v) : (v as Json);
  o["text"] = formatExtCommunity(c);
  return o;
}

function generic(v: unknown): Json {
  if (v === undefined || v === null) return null;
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(generic);
  if (typeof v === "object") {
    const o: { [k: string]: Json } = {};
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    // "kind"/"type"/"family" lead, the rest follow in alphabetical order: stable across builders.
    const lead = ["kind", "type", "family"];
    entries.sort(([a], [b]) => {
      const ia = lead.indexOf(a);
      const ib = lead.indexOf(b);
      if (ia !== -1 || ib !== -1) return (ia === -1 ? 9 : ia) - (ib === -1 ? 9 : ib);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    for (const [k, x] of entries) o[k] = generic(x);
    return o;
  }
  return v as Json;
}

export function attributeToJson(a: PathAttribute): Json {
  if (a.kind === "ext-communities") {
    const o = generic({ ...a, communities: undefined }) as { [k: string]: Json };
    o["communities"] = a.communities.map(extCommunityToJson);
    return o;
  }
  if ((a.kind === "mp-reach" || a.kind === "mp-unreach") && a.nlri.family === "evpn") {
    const o = generic({ ...a, nlri: undefined }) as { [k: string]: Json };
    o["nlri"] = { family: "evpn", routes: a.nlri.routes.map(evpnRouteToJson) };
    return o;
  }
  return generic(a);
}

/** Stable JSON of any message; NOTIFICATIONs also carry their words and shutdown communication. */
export function messageToJson(m: BgpMessage): Json {
  switch (m.type) {
    case 2:
      return {
        type: 2,
        withdrawn: m.withdrawn,
        attributes: m.attributes.map(attributeToJson),
        nlri: m.nlri,
      };
    case 3: {
      const o: { [k: string]: Json } = {
        type: 3,
        code: m.code,
        subcode: m.subcode,
        data: toHex(m.data),
        text: notificationName(m.code, m.subcode),
      };
      const comm = shutdownCommunication(m);
      if (comm !== undefined) o["communication"] = comm;
      return o;
    }
    default:
      return generic(m);
  }
}
