// Reads the JSON of `gobgp global rib -a evpn -j` (gobgp 3.10) into the codec's types, so that a
// path in gobgpd's RIB can be compared field by field with a path in our Loc-RIB or with what we
// announced. Only the forms gobgp 3.10 prints for what the interop tests use are understood;
// anything else throws with the JSON in the message rather than being guessed at.
//
// gobgp's notation, as seen on this machine:
//   RD            {"type":0,"admin":65000,"assigned":10}, {"type":1,"admin":"192.0.2.2","assigned":10},
//                 {"type":2,"admin":4200000000,"assigned":11}
//   ESI           "single-homed" for ESI 0
//   type 2        {"rd","esi","etag","mac","ip" ("<nil>" for none),"labels":[l1] or [l1,l2]}
//   type 3        {"rd","etag","ip"}  (ip = originating router)
//   type 5        {"rd","esi","etag","prefix","gateway","label"}
//   RT            {"type":0|1|2,"subtype":2,"value":"65000:10"}; type 2 (4-octet AS) in asdot:
//                 "64086.59904:40" for 4200000000:40
//   encapsulation {"type":3,"subtype":12,"tunnel_type":8}
//   MAC mobility  {"type":6,"subtype":0,"sequence":7,"is_sticky":true}
//   router's MAC  {"type":6,"subtype":3,"mac":"02:00:00:00:02:ff"}
//   PMSI          {"type":22,"is-leaf-info-required":false,"tunnel-type":6,"label":10,"tunnel-id":"192.0.2.12"}
//   MP_REACH      {"type":14,"nexthop":"192.0.2.12","afi":25,"safi":70,"value":[every NLRI of the UPDATE]}
// gobgpd keeps its own (CLI-injected) routes with ORIGIN only (INCOMPLETE); it adds an empty
// AS_PATH and LOCAL_PREF 100 when it sends them over iBGP.
import type { GobgpPath } from "../../tools/netlab/index.js";
import { MAC_MOBILITY_STICKY, type EvpnRoute, type ExtCommunity, type PathAttribute } from "../../src/codec/index.js";

const ESI_ZERO = "00:00:00:00:00:00:00:00:00:00";

/** One EVPN path of gobgpd's RIB in the codec's terms. */
export interface GobgpEvpnPath {
  /** gobgp's text for the route, e.g. "[type:multicast][rd:192.0.2.2:10][etag:0][ip:192.0.2.12]". */
  text: string;
  route: EvpnRoute;
  /** The MP_REACH_NLRI next hop. */
  nextHop: string | undefined;
  /** The path attributes except MP_REACH_NLRI, in gobgp's order, without flags. */
  attributes: PathAttribute[];
  /** The peer it came from (absent for gobgpd's own routes). */
  neighbor: string | undefined;
  best: boolean;
  stale: boolean;
}

function fail(what: string, v: unknown): never {
  throw new Error(`gobgp JSON: unexpected ${what}: ${JSON.stringify(v)}`);
}

function rec(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(what, v);
  return v as Record<string, unknown>;
}

function num(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== "number") fail(`number "${k}"`, o);
  return v;
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== "string") fail(`string "${k}"`, o);
  return v;
}

/** A 4-octet AS in asplain or asdot ("64086.59904") as the codec writes it (RFC 5668 / RD type 2). */
function as4Text(asn: number, assigned: number): string {
  return asn > 0xffff ? `${asn}:${assigned}` : `${asn}L:${assigned}`;
}

function parseAs(text: string): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) fail("AS number", text);
  return m[2] === undefined ? Number(m[1]) : Number(m[1]) * 65536 + Number(m[2]);
}

/** gobgp's RD object as the codec's RD text. */
export function gobgpRd(v: unknown): string {
  const rd = rec(v, "RD");
  const assigned = num(rd, "assigned");
  switch (rd["type"]) {
    case 0:
      return `${num(rd, "admin")}:${assigned}`;
    case 1:
      return `${str(rd, "admin")}:${assigned}`;
    case 2:
      return as4Text(num(rd, "admin"), assigned);
    default:
      return fail("RD", v);
  }
}

function gobgpEsi(v: unknown): string {
  if (v === "single-homed") return ESI_ZERO;
  return fail("ESI (only ESI 0 is understood)", v);
}

/** gobgp's NLRI object (`path.nlri` or an entry of MP_REACH's `value`) as an EvpnRoute. */
export function gobgpEvpnRoute(nlri: unknown): EvpnRoute {
  const n = rec(nlri, "NLRI");
  const v = rec(n["value"], "NLRI value");
  switch (n["type"]) {
    case 2: {
      const labels = v["labels"];
      if (!Array.isArray(labels) || labels.length < 1 || labels.length > 2) fail("labels", v);
      const ip = str(v, "ip");
      return {
        routeType: 2,
        rd: gobgpRd(v["rd"]),
        esi: gobgpEsi(v["esi"]),
        ethernetTag: num(v, "etag"),
        mac: str(v, "mac"),
        ip: ip === "<nil>" ? undefined : ip,
        label1: labels[0] as number,
        label2: labels[1] as number | undefined,
      };
    }
    case 3:
      return { routeType: 3, rd: gobgpRd(v["rd"]), ethernetTag: num(v, "etag"), originator: str(v, "ip") };
    case 5:
      return {
        routeType: 5,
        rd: gobgpRd(v["rd"]),
        esi: gobgpEsi(v["esi"]),
        ethernetTag: num(v, "etag"),
        prefix: str(v, "prefix"),
        gateway: str(v, "gateway"),
        label: num(v, "label"),
      };
    default:
      return fail("EVPN route type (2, 3 and 5 are understood)", nlri);
  }
}

/** One extended community of gobgp's attribute 16. */
export function gobgpExtCommunity(v: unknown): ExtCommunity {
  const c = rec(v, "extended community");
  const type = c["type"];
  const sub = c["subtype"];
  if ((type === 0 || type === 1 || type === 2) && (sub === 2 || sub === 3)) {
    const text = str(c, "value");
    let value = text;
    if (type === 2) {
      const colon = text.lastIndexOf(":");
      value = as4Text(parseAs(text.slice(0, colon)), Number(text.slice(colon + 1)));
    }
    return { kind: sub === 2 ? "route-target" : "route-origin", value };
  }
  if (type === 3 && sub === 12) return { kind: "encapsulation", tunnelType: num(c, "tunnel_type") };
  if (type === 3 && sub === 13) return { kind: "default-gateway" };
  if (type === 6 && sub === 0)
    return { kind: "mac-mobility", flags: c["is_sticky"] ? MAC_MOBILITY_STICKY : 0, sequence: num(c, "sequence") };
  if (type === 6 && sub === 3) return { kind: "router-mac", mac: str(c, "mac") };
  return fail("extended community", v);
}

/** gobgp's attribute list as PathAttributes (no flags); MP_REACH_NLRI is left out. */
export function gobgpAttributes(attrs: GobgpPath["attrs"]): PathAttribute[] {
  const out: PathAttribute[] = [];
  for (const a of attrs) {
    switch (a.type) {
      case 1:
        out.push({ kind: "origin", origin: num(a, "value") });
        break;
      case 2: {
        const segs = a["as_paths"];
        if (!Array.isArray(segs)) fail("AS_PATH", a);
        out.push({
          kind: "as-path",
          segments: segs.map((s) => {
            const seg = rec(s, "AS_PATH segment");
            return { type: num(seg, "segment_type"), asns: seg["asns"] as number[] };
          }),
        });
        break;
      }
      case 5:
        out.push({ kind: "local-pref", localPref: num(a, "value") });
        break;
      case 14:
        break; // the next hop is read separately; the NLRI are the path's own
      case 16: {
        const list = a["value"];
        if (!Array.isArray(list)) fail("EXTENDED_COMMUNITIES", a);
        out.push({ kind: "ext-communities", communities: list.map(gobgpExtCommunity) });
        break;
      }
      case 22:
        out.push({
          kind: "pmsi-tunnel",
          tunnelFlags: a["is-leaf-info-required"] ? 1 : 0,
          tunnelType: num(a, "tunnel-type"),
          label: num(a, "label"),
          endpoint: str(a, "tunnel-id"),
        });
        break;
      default:
        fail("path attribute", a);
    }
  }
  return out;
}

/** Every path of `gobgp global rib -a evpn -j` (GoBgp.rib("evpn")). */
export function gobgpEvpnPaths(rib: Record<string, GobgpPath[]>): GobgpEvpnPath[] {
  const out: GobgpEvpnPath[] = [];
  for (const [text, paths] of Object.entries(rib)) {
    for (const p of paths) {
      const mp = p.attrs.find((a) => a.type === 14);
      out.push({
        text,
        route: gobgpEvpnRoute(p.nlri),
        nextHop: mp === undefined ? undefined : str(mp, "nexthop"),
        attributes: gobgpAttributes(p.attrs),
        neighbor: p["neighbor-ip"],
        best: p.best,
        stale: p.stale === true,
      });
    }
  }
  return out;
}
