// What the speaker decides about routes and sessions, as pure functions: the attributes sent to
// each kind of peer, what an inbound UPDATE means for the RIB (RFC 7606), the OPEN parameters
// of a neighbour, End-of-RIB, and how UPDATEs are paced. The I/O layer (io/speaker.ts) applies
// them.

import {
  type AfiSafi,
  attrCode,
  encodeMessage,
  endOfRib,
  type ErrorAction,
  type EvpnRoute,
  type PathAttribute,
  RouteRefreshSubtype,
} from "../codec/index.js";
import type { NeighborSettings, ProxyConfig } from "../config/model.js";
import type { OutAttrs } from "./adj-rib-out.js";
import type { LocalSpeaker, Negotiated } from "./negotiate.js";

export const EVPN: AfiSafi = { afi: 25, safi: 70 };

/** LOCAL_PREF sent to internal peers when a route has none (RFC 4271 §5.1.5; the usual default). */
export const DEFAULT_LOCAL_PREF = 100;

/** An AS_SEQUENCE segment holds at most 255 ASes (RFC 4271 §4.3, one-octet segment length). */
const MAX_SEGMENT_ASNS = 255;
const AS_SEQUENCE = 2;

const LOCAL_PREF = 5;

/**
 * Attributes towards an external peer (RFC 4271 §5.1.2, §5.1.5): our AS in front of the
 * AS_PATH — into its first AS_SEQUENCE while that has room, else as a new segment — and no
 * LOCAL_PREF, which is never sent to external peers.
 */
export function ebgpAttributes(attributes: readonly PathAttribute[], localAs: number): PathAttribute[] {
  const out: PathAttribute[] = [];
  let sawPath = false;
  for (const a of attributes) {
    if (a.kind === "local-pref") continue;
    if (a.kind === "as-path") {
      sawPath = true;
      const first = a.segments[0];
      const segments =
        first && first.type === AS_SEQUENCE && first.asns.length < MAX_SEGMENT_ASNS
          ? [{ type: AS_SEQUENCE, asns: [localAs, ...first.asns] }, ...a.segments.slice(1)]
          : [{ type: AS_SEQUENCE, asns: [localAs] }, ...a.segments];
      out.push({ kind: "as-path", segments });
    } else out.push(a);
  }
  if (!sawPath) out.unshift({ kind: "as-path", segments: [{ type: AS_SEQUENCE, asns: [localAs] }] });
  return out;
}

/**
 * Attributes towards an internal peer: as given, with LOCAL_PREF (RFC 4271 §5.1.5: included in
 * every UPDATE to internal peers) added when missing, in ascending type-code order (RFC 4271 §5);
 * null when nothing changes.
 */
export function ibgpAttributes(attributes: readonly PathAttribute[]): PathAttribute[] | null {
  if (attributes.some((a) => a.kind === "local-pref")) return null;
  let at = 0;
  while (at < attributes.length && attrCode(attributes[at]!) < LOCAL_PREF) at++;
  return [...attributes.slice(0, at), { kind: "local-pref", localPref: DEFAULT_LOCAL_PREF }, ...attributes.slice(at)];
}

/**
 * The attributes a route is sent with, per kind of session. One OutAttrs object maps to one
 * object per kind, so that routes sharing attributes still share them (and their UPDATEs).
 */
export class ExportPolicy {
  private readonly ebgp = new WeakMap<OutAttrs, OutAttrs>();
  private readonly ibgp = new WeakMap<OutAttrs, OutAttrs>();

  constructor(private readonly localAs: number) {}

  attrsFor(attrs: OutAttrs, ebgp: boolean): OutAttrs {
    const cache = ebgp ? this.ebgp : this.ibgp;
    let v = cache.get(attrs);
    if (!v) {
      const changed = ebgp ? ebgpAttributes(attrs.attributes, this.localAs) : ibgpAttributes(attrs.attributes);
      v = changed ? { nextHop: attrs.nextHop, attributes: changed } : attrs;
      cache.set(attrs, v);
    }
    return v;
  }
}

/** What an UPDATE does to the RIB. */
export interface InboundRoutes {
  announced: EvpnRoute[];
  withdrawn: EvpnRoute[];
  /** Next hop of the announced routes. */
  nextHop: string;
  /** Announced routes the codec skipped as our own reflected back (RFC 4456 §8). */
  looped: number;
  /** RFC 7606 §2 treat-as-withdraw applied: how many announced routes it withdrew; else null. */
  treatedAsWithdraw: number | null;
}

/** The EVPN routes of an UPDATE, after the RFC 7606 action its errors call for. */
export function inboundRoutes(attributes: readonly PathAttribute[], action: ErrorAction | null): InboundRoutes {
  let announced: EvpnRoute[] = [];
  let withdrawn: EvpnRoute[] = [];
  let nextHop = "";
  let looped = 0;
  for (const a of attributes) {
    if (a.kind === "mp-reach" && a.nlri.family === "evpn") {
      announced = a.nlri.routes;
      nextHop = a.nextHop[0] ?? "";
      looped = a.nlri.ignored ?? 0;
    } else if (a.kind === "mp-unreach" && a.nlri.family === "evpn") withdrawn = a.nlri.routes;
  }
  let treatedAsWithdraw: number | null = null;
  if (action === "treat-as-withdraw") {
    treatedAsWithdraw = announced.length;
    // RFC 7606 §2: the UPDATE's routes are withdrawn as if listed in a withdrawal.
    withdrawn = withdrawn.length ? withdrawn.concat(announced) : announced;
    announced = [];
  }
  // RFC 7606 §5.4: EVPN route types we do not know are discarded.
  const known = (r: EvpnRoute) => r.routeType !== "unknown";
  if (!announced.every(known)) announced = announced.filter(known);
  if (!withdrawn.every(known)) withdrawn = withdrawn.filter(known);
  return { announced, withdrawn, nextHop, looped, treatedAsWithdraw };
}

/** The speaker's global settings: the configuration's, and what this run adds. */
export interface SpeakerGlobals extends Pick<ProxyConfig, "routerId" | "localAs" | "gracefulRestart"> {
  /** This start follows a restart of ours: set the Restart State bit (RFC 4724 §4.1). */
  restarting?: boolean;
  /** Families offered (RFC 4760); default L2VPN EVPN. */
  families?: AfiSafi[];
  /** Offer RFC 8654 extended messages (UPDATEs up to 65535 bytes); default true. */
  extendedMessage?: boolean;
}

/**
 * Our side of a neighbour's OPEN: its hold time, and graceful restart with our restart time
 * when enabled globally and for the neighbour (RFC 4724 §3); otherwise the capability goes
 * without families (negotiate.ts).
 */
export function localSpeaker(
  g: SpeakerGlobals,
  n: Pick<NeighborSettings, "holdTime" | "gracefulRestart">,
): LocalSpeaker {
  const gr = g.gracefulRestart && n.gracefulRestart ? g.gracefulRestart : null;
  return {
    localAs: g.localAs,
    routerId: g.routerId,
    holdTime: n.holdTime,
    families: g.families ?? [EVPN],
    ...(gr ? { gracefulRestart: { restartTime: gr.restartTime, restarting: g.restarting === true } } : {}),
    ...(g.extendedMessage === false ? { extendedMessage: false } : {}),
  };
}

/** End-of-RIB of every negotiated family, sent once the initial table is out (RFC 4724 §2). */
export function endOfRibMessages(neg: Pick<Negotiated, "families" | "as4">): Uint8Array[] {
  return neg.families.map((f) => encodeMessage(endOfRib(f.afi, f.safi), { as4: neg.as4 }));
}

/**
 * How a ROUTE-REFRESH is answered (RFC 2918 §4, RFC 7313 §4): a request (subtype 0) re-sends
 * our routes, between BoRR and EoRR when enhanced route refresh was negotiated; BoRR/EoRR from
 * the peer need no answer.
 */
export function refreshAnswer(subtype: number, enhanced: boolean): { resend: boolean; bracket: boolean } {
  const resend = subtype === RouteRefreshSubtype.REQUEST;
  return { resend, bracket: resend && enhanced };
}

/**
 * A short coalescing window gathers a burst into full UPDATEs, but once a full UPDATE's worth
 * of routes is pending it leaves at once, so that the peer works on it while the burst goes on.
 * A type-2 MAC/IP route takes some 40 bytes.
 */
export function earlyFlushRoutes(maxMessageSize: number): number {
  return Math.floor(maxMessageSize / 40);
}

/** The neighbour address of a connection: an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2) as IPv4. */
export function neighborAddress(remote: string | undefined): string {
  if (remote === undefined) return "";
  return remote.startsWith("::ffff:") && remote.includes(".") ? remote.slice(7) : remote;
}
