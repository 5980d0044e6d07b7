// Adj-RIB-Out of one peer (RFC 4271 §3.2) and its UPDATE packer. Pure: drain() returns encoded
// messages, the caller writes them.
//
// Callers share one OutAttrs object between routes with identical attributes: its identity is the
// grouping key, so routes of a group leave together, as many per UPDATE as the negotiated maximum
// message size allows, in one MP_REACH_NLRI (RFC 4760 §3). The group's other attributes are
// encoded once and copied into every UPDATE.

import {
  Afi,
  AsSegmentType,
  attrCode,
  AttrFlag,
  AttrType,
  type CodecContext,
  encodeAttribute,
  encodeEvpnRoute,
  type EvpnRoute,
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MsgType,
  parseIpv4Into,
  parseIpv6Into,
  type PathAttribute,
  Safi,
  Writer,
} from "../codec/index.js";
import { evpnRouteKey, sameEvpnRoute } from "./route-key.js";

/** Attributes shared by the routes of a group: everything but MP_REACH_NLRI, in sending order. */
export interface OutAttrs {
  /** The MP_REACH_NLRI next hop: an IPv4 or IPv6 address. */
  readonly nextHop: string;
  readonly attributes: readonly PathAttribute[];
}

export interface AdvertisedRoute {
  readonly key: string;
  readonly route: EvpnRoute;
  readonly attrs: OutAttrs;
}

export interface AdjRibOutOptions {
  ctx: CodecContext;
  /** Defaults to 4096, or 65535 with RFC 8654 extended messages (ctx.extendedMessage). */
  maxMessageSize?: number;
}

/** A staged or advertised route; `attrs` null stages a withdrawal. */
class OutRoute {
  key: string;
  route: EvpnRoute;
  attrs: OutAttrs | null;

  constructor(key: string, route: EvpnRoute, attrs: OutAttrs | null) {
    this.key = key;
    this.route = route;
    this.attrs = attrs;
  }
}

/** A group's attributes, encoded: those before MP_REACH_NLRI, its fixed head, those after. */
interface EncodedAttrs {
  before: Uint8Array;
  /** AFI, SAFI, next hop length, next hop, reserved octet (RFC 4760 §3). */
  mpHead: Uint8Array;
  after: Uint8Array;
}

// UPDATE fixed part (RFC 4271 §4.3): header, withdrawn routes length, total path attribute length.
const UPDATE_FIXED = HEADER_LENGTH + 4;
// MP attribute header with the Extended Length flag: flags, type, 2-octet length.
const MP_ATTR_HEADER = 4;
const MP_FLAGS = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;

/** Inserts `a` before the first attribute with a higher type code (RFC 4271 §5: ascending order). */
function insertByCode(list: PathAttribute[], a: PathAttribute): void {
  const code = attrCode(a);
  const i = list.findIndex((x) => attrCode(x) > code);
  list.splice(i < 0 ? list.length : i, 0, a);
}

/**
 * RFC 6793 §4.2.2: towards a 2-octet AS speaker, AS numbers above 65535 travel as AS_TRANS, so
 * the 4-octet path goes in AS4_PATH (without confederation segments) and the aggregator in
 * AS4_AGGREGATOR, unless the caller supplied them.
 */
function withAs4Attributes(attrs: readonly PathAttribute[]): readonly PathAttribute[] {
  let asPath: Extract<PathAttribute, { kind: "as-path" }> | undefined;
  let aggregator: Extract<PathAttribute, { kind: "aggregator" }> | undefined;
  let hasAs4Path = false;
  let hasAs4Aggregator = false;
  for (const a of attrs) {
    if (a.kind === "as-path") asPath = a;
    else if (a.kind === "aggregator") aggregator = a;
    else if (a.kind === "as4-path") hasAs4Path = true;
    else if (a.kind === "as4-aggregator") hasAs4Aggregator = true;
  }
  // RFC 6793 §3: confederation segments never travel in AS4_PATH.
  const as4Segments =
    hasAs4Path || asPath === undefined
      ? []
      : asPath.segments.filter((s) => s.type === AsSegmentType.AS_SEQUENCE || s.type === AsSegmentType.AS_SET);
  const needPath = as4Segments.some((s) => s.asns.some((n) => n > 0xffff));
  const needAgg = !hasAs4Aggregator && aggregator !== undefined && aggregator.as4 !== true && aggregator.asn > 0xffff;
  if (!needPath && !needAgg) return attrs;
  const out = [...attrs];
  if (needPath) insertByCode(out, { kind: "as4-path", segments: as4Segments });
  if (needAgg) insertByCode(out, { kind: "as4-aggregator", asn: aggregator!.asn, address: aggregator!.address });
  return out;
}

export class AdjRibOut {
  readonly ctx: CodecContext;
  readonly maxMessageSize: number;
  /** What the peer has been sent, by route key. */
  private readonly advertised = new Map<string, OutRoute>();
  /** Staged changes, by route key: at most one per key. */
  private readonly pending = new Map<string, OutRoute>();
  /** Staged changes grouped by OutAttrs identity; null holds the withdrawals. */
  private readonly groups = new Map<OutAttrs | null, Set<OutRoute>>();
  private readonly encoded = new WeakMap<OutAttrs, EncodedAttrs>();
  private readonly w: Writer;
  private readonly scratch = new Writer(64);

  constructor(opts: AdjRibOutOptions) {
    this.ctx = opts.ctx;
    this.maxMessageSize =
      opts.maxMessageSize ?? (opts.ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH);
    this.w = new Writer(this.maxMessageSize + 64);
  }

  /**
   * Stages an announcement. `key` is evpnRouteKey(route), for callers that hold it already (the
   * string is then shared, not rebuilt). Throws on local input that cannot be sent: EncodeError
   * for an invalid route or attribute field, TypeError for MP attributes in OutAttrs or a next
   * hop that is not an address, RangeError when one route with these attributes exceeds the
   * maximum message size.
   */
  announce(route: EvpnRoute, attrs: OutAttrs, key: string = evpnRouteKey(route)): void {
    const p = this.pending.get(key);
    if (p !== undefined && p.attrs === attrs && sameEvpnRoute(p.route, route)) return;
    const a = this.advertised.get(key);
    if (a !== undefined && a.attrs === attrs && sameEvpnRoute(a.route, route)) {
      if (p !== undefined) this.unstage(p); // back to what the peer has
      return;
    }
    this.check(route, attrs);
    this.stage(key, route, attrs, p);
  }

  /** Stages a withdrawal; nothing is sent for a route the peer was never sent. */
  withdraw(route: EvpnRoute, key: string = evpnRouteKey(route)): void {
    const p = this.pending.get(key);
    const a = this.advertised.get(key);
    if (a === undefined) {
      if (p !== undefined) this.unstage(p);
      return;
    }
    if (p !== undefined && p.attrs === null) return;
    // The NLRI withdrawn is the one advertised: same key, and the labels the peer knows.
    this.stage(key, a.route, null, p);
  }

  /** RFC 2918 §4, RFC 7313 §4: stage every advertised route again (a pending change takes precedence). */
  resendAll(): void {
    for (const a of this.advertised.values())
      if (!this.pending.has(a.key)) this.stage(a.key, a.route, a.attrs, undefined);
  }

  /** Forgets everything (session down): the next session starts from an empty Adj-RIB-Out. */
  clear(): void {
    this.advertised.clear();
    this.pending.clear();
    this.groups.clear();
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Number of routes the peer has been sent. */
  get size(): number {
    return this.advertised.size;
  }

  get(key: string): AdvertisedRoute | undefined {
    return this.advertised.get(key) as AdvertisedRoute | undefined;
  }

  entries(): IterableIterator<AdvertisedRoute> {
    return this.advertised.values() as IterableIterator<AdvertisedRoute>;
  }

  /**
   * Encodes up to `maxMessages` UPDATEs (whole messages, header included) from the staged changes,
   * withdrawals first. What they carry counts as advertised from now on: the caller must send
   * every message returned, and calls again while hasPending() when the socket drains.
   */
  drain(maxMessages: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (out.length < maxMessages && this.groups.size > 0) {
      const [attrs, set] = this.groups.has(null)
        ? [null, this.groups.get(null)!]
        : (this.groups.entries().next().value as [OutAttrs, Set<OutRoute>]);
      out.push(attrs === null ? this.packWithdrawals(set) : this.packAnnouncements(attrs, set));
      if (set.size === 0) this.groups.delete(attrs);
    }
    return out;
  }

  // --- internals

  private stage(key: string, route: EvpnRoute, attrs: OutAttrs | null, p: OutRoute | undefined): void {
    if (p === undefined) {
      p = new OutRoute(key, route, attrs);
      this.pending.set(key, p);
      this.group(p);
    } else if (p.attrs !== attrs) {
      this.ungroup(p);
      p.route = route;
      p.attrs = attrs;
      this.group(p);
    } else p.route = route;
  }

  private unstage(p: OutRoute): void {
    this.ungroup(p);
    this.pending.delete(p.key);
  }

  private group(p: OutRoute): void {
    let s = this.groups.get(p.attrs);
    if (s === undefined) this.groups.set(p.attrs, (s = new Set()));
    s.add(p);
  }

  private ungroup(p: OutRoute): void {
    const s = this.groups.get(p.attrs)!;
    s.delete(p);
    if (s.size === 0) this.groups.delete(p.attrs);
  }

  /** Encodes the route once so that a bad local route fails here, not in drain(). */
  private check(route: EvpnRoute, attrs: OutAttrs): void {
    const e = this.encodedAttrs(attrs);
    this.scratch.pos = 0;
    encodeEvpnRoute(this.scratch, route);
    const size = UPDATE_FIXED + e.before.length + MP_ATTR_HEADER + e.mpHead.length + this.scratch.pos + e.after.length;
    if (size > this.maxMessageSize)
      throw new RangeError(`UPDATE of ${size} bytes for one route exceeds the maximum of ${this.maxMessageSize}`);
  }

  private encodedAttrs(attrs: OutAttrs): EncodedAttrs {
    let e = this.encoded.get(attrs);
    if (e !== undefined) return e;
    const list = this.ctx.as4 ? attrs.attributes : withAs4Attributes(attrs.attributes);
    const w = new Writer(256);
    let split = -1;
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      if (a.kind === "mp-reach" || a.kind === "mp-unreach")
        throw new TypeError("OutAttrs.attributes must not contain MP_REACH_NLRI or MP_UNREACH_NLRI");
      // RFC 4271 §5: attributes SHOULD be ordered by type code; MP_REACH_NLRI goes before the first
      // one above it.
      if (split < 0 && attrCode(a) > AttrType.MP_REACH_NLRI) split = w.pos;
      encodeAttribute(w, a, this.ctx);
    }
    if (split < 0) split = w.pos;
    const all = w.finish();
    const nh = new Uint8Array(16);
    const nhLen = attrs.nextHop.includes(":")
      ? parseIpv6Into(attrs.nextHop, nh, 0)
        ? 16
        : 0
      : parseIpv4Into(attrs.nextHop, nh, 0)
        ? 4
        : 0;
    if (nhLen === 0) throw new TypeError(`OutAttrs.nextHop "${attrs.nextHop}" is not an IP address`);
    // RFC 4760 §3: AFI, SAFI, length of next hop, next hop, reserved; RFC 7432 §7 for L2VPN EVPN.
    const mpHead = new Uint8Array(5 + nhLen);
    mpHead[0] = Afi.L2VPN >>> 8;
    mpHead[1] = Afi.L2VPN & 0xff;
    mpHead[2] = Safi.EVPN;
    mpHead[3] = nhLen;
    mpHead.set(nh.subarray(0, nhLen), 4);
    e = { before: all.subarray(0, split), mpHead, after: all.subarray(split) };
    this.encoded.set(attrs, e);
    return e;
  }

  /** Writes the header and an empty withdrawn routes field; returns where the attribute length goes. */
  private begin(): number {
    const w = this.w;
    w.pos = 0;
    w.buf.fill(0xff, 0, 16);
    w.pos = 16;
    w.u16(0);
    w.u8(MsgType.UPDATE);
    w.u16(0); // withdrawn routes length: EVPN is withdrawn in MP_UNREACH_NLRI (RFC 4760 §4)
    w.u16(0); // total path attribute length, set by finish()
    return w.pos - 2;
  }

  private finish(attrLenAt: number): Uint8Array {
    const w = this.w;
    w.setU16(attrLenAt, w.pos - attrLenAt - 2);
    w.setU16(16, w.pos);
    return w.finish();
  }

  private packAnnouncements(attrs: OutAttrs, set: Set<OutRoute>): Uint8Array {
    const e = this.encodedAttrs(attrs);
    const w = this.w;
    const attrLenAt = this.begin();
    w.bytes(e.before);
    const mpAt = w.pos;
    w.u8(MP_FLAGS);
    w.u8(AttrType.MP_REACH_NLRI);
    w.u16(0);
    w.bytes(e.mpHead);
    const limit = this.maxMessageSize - e.after.length;
    const first = w.pos;
    for (const p of set) {
      const at = w.pos;
      encodeEvpnRoute(w, p.route);
      if (w.pos > limit) {
        w.pos = at;
        break;
      }
      set.delete(p);
      this.pending.delete(p.key);
      this.advertised.set(p.key, p);
    }
    if (w.pos === first) throw new Error("AdjRibOut: a staged route does not fit an UPDATE");
    w.setU16(mpAt + 2, w.pos - mpAt - MP_ATTR_HEADER);
    w.bytes(e.after);
    return this.finish(attrLenAt);
  }

  private packWithdrawals(set: Set<OutRoute>): Uint8Array {
    const w = this.w;
    const attrLenAt = this.begin();
    // RFC 4760 §4: MP_UNREACH_NLRI alone; no other attribute is needed to withdraw.
    const mpAt = w.pos;
    w.u8(MP_FLAGS);
    w.u8(AttrType.MP_UNREACH_NLRI);
    w.u16(0);
    w.u16(Afi.L2VPN);
    w.u8(Safi.EVPN);
    for (const p of set) {
      const at = w.pos;
      encodeEvpnRoute(w, p.route);
      if (w.pos > this.maxMessageSize) {
        w.pos = at;
        break;
      }
      set.delete(p);
      this.pending.delete(p.key);
      this.advertised.delete(p.key);
    }
    w.setU16(mpAt + 2, w.pos - mpAt - MP_ATTR_HEADER);
    return this.finish(attrLenAt);
  }
}
