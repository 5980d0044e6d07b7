// The per-UPDATE attribute digest: the values best-path selection and loop prevention read,
// computed once per UPDATE and shared by every route the UPDATE carries.

import {
  AS_TRANS,
  bytesEqual,
  AsSegmentType,
  type AsPathSegment,
  type ExtCommunity,
  ORIGIN_INCOMPLETE,
  type PathAttribute,
} from "../codec/index.js";

export interface PathAttrs {
  /** The UPDATE's attributes except MP_REACH_NLRI and MP_UNREACH_NLRI, in received order. */
  readonly attributes: readonly PathAttribute[];
  /** The MP_REACH_NLRI next hop (the VTEP for EVPN over VXLAN, RFC 8365 §5.1.3). */
  readonly nextHop: string;
  readonly origin: number;
  /** RFC 4271 §9.1.2.2a: an AS_SET counts 1; RFC 5065 §5.3: confederation segments count 0. */
  readonly asPathLength: number;
  /** Neighbour AS for MED comparison (RFC 4271 §9.1.2.2c); 0 stands for the local AS. */
  readonly firstAs: number;
  readonly localPref: number;
  readonly med: number;
  readonly originatorId?: string;
  readonly clusterListLength: number;
  readonly clusterList: readonly string[];
  readonly extCommunities: readonly ExtCommunity[];
}

const NONE: readonly never[] = Object.freeze([]);

/** RFC 4271 §5.1.5 leaves LOCAL_PREF to policy; 100 is the customary default. */
export const DEFAULT_LOCAL_PREF = 100;

function countAses(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === AsSegmentType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AsSegmentType.AS_SET) n += 1;
  }
  return n;
}

/**
 * RFC 4271 §9.1.2.2c: the neighbour AS is the leftmost AS of a leading AS_SEQUENCE; a path that is
 * empty or starts with an AS_SET was originated or aggregated inside the local AS, and one that
 * starts with a confederation segment came from inside the local confederation: both are local (0).
 */
function leadingAs(segments: readonly AsPathSegment[]): number {
  const s = segments[0];
  return s !== undefined && s.type === AsSegmentType.AS_SEQUENCE && s.asns.length > 0 ? s.asns[0]! : 0;
}

/** Digests an UPDATE's attributes. `nextHop` is the first MP_REACH_NLRI next hop. */
export function digestAttributes(attrs: readonly PathAttribute[], nextHop: string): PathAttrs {
  let kept: readonly PathAttribute[] = attrs;
  let origin = ORIGIN_INCOMPLETE; // absent only on locally built attributes: least preferred
  let asPath: readonly AsPathSegment[] = NONE;
  let as4Path: readonly AsPathSegment[] | undefined;
  let localPref = DEFAULT_LOCAL_PREF;
  let med = 0; // RFC 4271 §9.1.2.2c: a missing MED is the lowest possible value
  let originatorId: string | undefined;
  let clusterList: readonly string[] = NONE;
  let extCommunities: readonly ExtCommunity[] = NONE;
  let hasMp = false;
  for (const a of attrs) {
    switch (a.kind) {
      case "origin":
        origin = a.origin;
        break;
      case "as-path":
        asPath = a.segments;
        break;
      case "as4-path":
        as4Path = a.segments;
        break;
      case "local-pref":
        localPref = a.localPref;
        break;
      case "med":
        med = a.med;
        break;
      case "originator-id":
        originatorId = a.originatorId;
        break;
      case "cluster-list":
        clusterList = a.clusterIds;
        break;
      case "ext-communities":
        extCommunities = a.communities;
        break;
      case "mp-reach":
      case "mp-unreach":
        hasMp = true;
        break;
      default:
        break;
    }
  }
  if (hasMp) kept = attrs.filter((a) => a.kind !== "mp-reach" && a.kind !== "mp-unreach");
  const asPathLength = countAses(asPath);
  let firstAs = leadingAs(asPath);
  // RFC 6793 §4.2.3: from a 2-octet speaker the path is AS_PATH's leading (n - m) ASes followed by
  // AS4_PATH, and AS4_PATH is ignored when longer than AS_PATH; its length stays n. With n = m the
  // neighbour AS comes from AS4_PATH.
  if (firstAs === AS_TRANS && as4Path !== undefined && countAses(as4Path) === asPathLength)
    firstAs = leadingAs(as4Path);
  return {
    attributes: kept,
    nextHop,
    origin,
    asPathLength,
    firstAs,
    localPref,
    med,
    originatorId,
    clusterListLength: clusterList.length,
    clusterList,
    extCommunities,
  };
}

/** Structural equality of decoded attribute data: primitives, arrays, Uint8Array, plain objects. */
function dataEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
  if (x instanceof Uint8Array) return y instanceof Uint8Array && bytesEqual(x, y);
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!dataEqual(x[i], y[i])) return false;
    return true;
  }
  if (Array.isArray(y) || y instanceof Uint8Array) return false;
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  for (const k in a) if (!dataEqual(a[k], b[k])) return false;
  for (const k in b) if (!(k in a) && b[k] !== undefined) return false;
  return true;
}

/** Whether two digests describe the same attributes (the digest fields derive from them). */
export function sameAttrs(a: PathAttrs, b: PathAttrs): boolean {
  return a === b || (a.nextHop === b.nextHop && dataEqual(a.attributes, b.attributes));
}
