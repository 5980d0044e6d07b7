// Path attributes (RFC 4271 §4.3, §5): the decoded model, the codec context, and the table of
// the attributes this codec knows.

import { AttrFlag, AttrType } from "./constants.js";
import type { EvpnRoute } from "./evpn.js";
import type { ExtCommunity } from "./extcommunity.js";

/** AS_PATH segment types, RFC 4271 §4.3 and RFC 5065 §3. */
export const AsSegmentType = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;

export interface AsPathSegment {
  type: number;
  asns: number[];
}

export interface LargeCommunity {
  global: number;
  local1: number;
  local2: number;
}

/** NLRI carried in MP_REACH_NLRI / MP_UNREACH_NLRI, by address family. */
export type MpNlri =
  /** `ignored`: routes checked but not built (CodecContext.loopIds). */
  | { family: "evpn"; routes: EvpnRoute[]; ignored?: number }
  | { family: "ipv4" | "ipv6"; prefixes: string[] }
  | { family: "raw"; data: Uint8Array };

export interface MpReachAttr {
  kind: "mp-reach";
  flags?: number;
  afi: number;
  safi: number;
  /** One address, or global + link-local for a 32-byte IPv6 next hop (RFC 2545 §3). */
  nextHop: string[];
  /** Next hop bytes for address families whose next hop this codec does not interpret. */
  nextHopRaw?: Uint8Array;
  /** The reserved octet after the next hop (RFC 4760 §3, formerly the SNPA count); 0 on send. */
  reserved?: number;
  nlri: MpNlri;
}

export interface MpUnreachAttr {
  kind: "mp-unreach";
  flags?: number;
  afi: number;
  safi: number;
  nlri: MpNlri;
}

export interface PmsiTunnelAttr {
  kind: "pmsi-tunnel";
  flags?: number;
  /** PMSI flags octet (RFC 6514 §5: bit 0x01 Leaf Information Required). */
  tunnelFlags: number;
  /** RFC 6514 §5 tunnel type; 6 = ingress replication. */
  tunnelType: number;
  /** The 24-bit label field; the VNI for VXLAN (RFC 8365 §5.1.3). */
  label: number;
  /** Tunnel endpoint for ingress replication with a 4- or 16-byte identifier. */
  endpoint?: string;
  /** The tunnel identifier bytes when it is not an ingress-replication endpoint address. */
  tunnelId?: Uint8Array;
}

export type PathAttribute =
  | { kind: "origin"; flags?: number; origin: number }
  | { kind: "as-path"; flags?: number; segments: AsPathSegment[] }
  | { kind: "next-hop"; flags?: number; nextHop: string }
  | { kind: "med"; flags?: number; med: number }
  | { kind: "local-pref"; flags?: number; localPref: number }
  | { kind: "atomic-aggregate"; flags?: number }
  | { kind: "aggregator"; flags?: number; asn: number; address: string; as4?: boolean }
  | { kind: "communities"; flags?: number; communities: number[] }
  | { kind: "originator-id"; flags?: number; originatorId: string }
  | { kind: "cluster-list"; flags?: number; clusterIds: string[] }
  | MpReachAttr
  | MpUnreachAttr
  | { kind: "ext-communities"; flags?: number; communities: ExtCommunity[] }
  | { kind: "as4-path"; flags?: number; segments: AsPathSegment[] }
  | { kind: "as4-aggregator"; flags?: number; asn: number; address: string }
  | PmsiTunnelAttr
  | { kind: "large-communities"; flags?: number; communities: LargeCommunity[] }
  | { kind: "unknown"; flags: number; code: number; value: Uint8Array };

export const ORIGIN_IGP = 0;
export const ORIGIN_EGP = 1;
export const ORIGIN_INCOMPLETE = 2;

/** Codec context negotiated on a session. */
export interface CodecContext {
  /** RFC 6793: both sides advertised the 4-octet AS capability. */
  as4: boolean;
  /** RFC 8654 extended message negotiated (max UPDATE size 65535). */
  extendedMessage?: boolean;
  /** True on an eBGP session: LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST are then discarded (RFC 7606 §7.5, §7.9, §7.10). */
  ebgp?: boolean;
  /**
   * Decoding only, iBGP: an UPDATE whose ORIGINATOR_ID is `originatorId` or whose CLUSTER_LIST
   * holds `clusterId` is a reflection loop whose routes the receiver ignores (RFC 4456 §8), so its
   * MP_REACH_NLRI EVPN routes are checked (errors as usual) but not built: `routes` stays empty
   * and `ignored` counts them. For a receiver that needs no key of them (nothing to replace).
   */
  loopIds?: LoopIds;
}

/** Our BGP Identifier and cluster ID as 32-bit numbers (RFC 4456 §7, §8). */
export interface LoopIds {
  originatorId: number;
  clusterId: number;
}
export const DEFAULT_CONTEXT: CodecContext = { as4: true };

const WK = AttrFlag.TRANSITIVE; // well-known: optional 0, transitive 1
export const ON = AttrFlag.OPTIONAL; // optional non-transitive
const OT = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE; // optional transitive

type KnownKind = Exclude<PathAttribute["kind"], "unknown">;

/** Each known attribute's type code and the Optional/Transitive bits it must carry (RFC 4271 §5, RFC 7606 §3c). */
const KNOWN: { readonly [K in KnownKind]: readonly [code: number, flags: number] } = {
  origin: [AttrType.ORIGIN, WK],
  "as-path": [AttrType.AS_PATH, WK],
  "next-hop": [AttrType.NEXT_HOP, WK],
  med: [AttrType.MULTI_EXIT_DISC, ON],
  "local-pref": [AttrType.LOCAL_PREF, WK],
  "atomic-aggregate": [AttrType.ATOMIC_AGGREGATE, WK],
  aggregator: [AttrType.AGGREGATOR, OT],
  communities: [AttrType.COMMUNITIES, OT],
  "originator-id": [AttrType.ORIGINATOR_ID, ON],
  "cluster-list": [AttrType.CLUSTER_LIST, ON],
  "mp-reach": [AttrType.MP_REACH_NLRI, ON],
  "mp-unreach": [AttrType.MP_UNREACH_NLRI, ON],
  "ext-communities": [AttrType.EXTENDED_COMMUNITIES, OT],
  "as4-path": [AttrType.AS4_PATH, OT],
  "as4-aggregator": [AttrType.AS4_AGGREGATOR, OT],
  "pmsi-tunnel": [AttrType.PMSI_TUNNEL, OT],
  "large-communities": [AttrType.LARGE_COMMUNITIES, OT],
};

/** The standard flags by type code; 0 for a type this codec does not know. */
export const STANDARD_FLAGS = new Uint8Array(256);
for (const [code, flags] of Object.values(KNOWN)) STANDARD_FLAGS[code] = flags;

/** The names of AttrType, by code. */
const NAMES = new Map<number, string>(Object.entries(AttrType).map(([name, code]) => [code, name]));

export function attrCode(a: PathAttribute): number {
  return a.kind === "unknown" ? a.code : KNOWN[a.kind][0];
}

/** The standard flags of a known kind; an unknown attribute keeps its own. */
export function kindFlags(a: PathAttribute): number {
  return a.kind === "unknown" ? a.flags : KNOWN[a.kind][1];
}

export function attrName(type: number): string {
  return NAMES.get(type) ?? `attribute ${type}`;
}

/**
 * Attributes to pass on to another peer: optional transitive attributes this speaker does not
 * recognise get the Partial bit, unrecognised optional non-transitive ones are dropped
 * (RFC 4271 §5 and §9.1.4).
 */
export function attributesForPropagation(attrs: readonly PathAttribute[]): PathAttribute[] {
  const out: PathAttribute[] = [];
  for (const a of attrs) {
    if (a.kind !== "unknown") out.push(a);
    else if (a.flags & AttrFlag.TRANSITIVE) out.push({ ...a, flags: a.flags | AttrFlag.PARTIAL });
  }
  return out;
}

/** First attribute of a kind, typed. */
export function findAttr<K extends PathAttribute["kind"]>(
  attrs: readonly PathAttribute[],
  kind: K,
): Extract<PathAttribute, { kind: K }> | undefined {
  for (const a of attrs) if (a.kind === kind) return a as Extract<PathAttribute, { kind: K }>;
  return undefined;
}
