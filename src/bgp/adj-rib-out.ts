// Adj-RIB-Out of one peer (RFC 4271 §3.2) and its UPDATE packer. Pure: drain() returns encoded
// messages, the caller writes them.
//
// Callers share one OutAttrs object between routes with identical attributes: its identity is the
// grouping key, so routes of a group leave together, as many per UPDATE as the negotiated maximum
// message size allows, in one MP_REACH_NLRI (RFC 4760 §3). The group's other attributes are
// encoded once and copied into every UPDATE.

import {
  EncodeError,
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
import { InvariantError } from "../errors.js";

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
  /** Told about a staged route that cannot be encoded (it is dropped, never sent). */
  onRejected?: (route: EvpnRoute, error: EncodeError) => void;
}

/**
 * One route key towards the peer: what the peer has (`route`/`attrs`, null when nothing) and the
 * change staged for it, if any (`next`/`nextAttrs`; nextAttrs null stages a withdrawal). One map
 * holds both, so a burst costs one lookup and one insertion per route.
 */
class OutRoute {
  key: string;
  route: EvpnRoute | null = null;
  attrs: OutAttrs | null = null;
  next: EvpnRoute | null = null;
  nextAttrs: OutAttrs | null = null;
  /** The queue the staged change waits in; null when nothing is staged. */
  queue: Queue | null = null;
  /** False for an owner-kept route: the entry is forgotten once its change is sent. */
  keep = true;

  constructor(key: string) {
    this.key = key;
  }
}

/** Staged changes of one group in arrival order; entries that moved away are skipped lazily. */
class Queue {
  items: OutRoute[] = [];
  pos = 0;
  constructor(readonly attrs: OutAttrs | null) {}
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
  /** Every key the peer has a route for or that has a staged change. */
  private readonly routes = new Map<string, OutRoute>();
  /** Queues of staged changes by OutAttrs identity; null holds the withdrawals. */
  private readonly groups = new Map<OutAttrs | null, Queue>();
  private readonly encoded = new WeakMap<OutAttrs, EncodedAttrs>();
  private readonly w: Writer;
  private readonly onRejected: ((route: EvpnRoute, error: EncodeError) => void) | undefined;
  private staged = 0;
  private sent = 0;
  /** Routes dropped because they could not be encoded. */
  rejected = 0;

  constructor(opts: AdjRibOutOptions) {
    this.ctx = opts.ctx;
    this.onRejected = opts.onRejected;
    this.maxMessageSize =
      opts.maxMessageSize ?? (opts.ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH);
    this.w = new Writer(this.maxMessageSize + 64);
  }

  /**
   * Stages an announcement. `key` is evpnRouteKey(route), for callers that hold it already (the
   * string is then shared, not rebuilt). Throws TypeError for MP attributes in OutAttrs or a next
   * hop that is not an address, RangeError when one route with these attributes exceeds the
   * maximum message size; a route field that cannot be encoded is reported by drain().
   */
  announce(route: EvpnRoute, attrs: OutAttrs, key: string = evpnRouteKey(route), keep = true): void {
    let p = this.routes.get(key);
    if (p !== undefined) {
      if (p.queue !== null && p.nextAttrs === attrs && sameEvpnRoute(p.next!, route)) return;
      if (p.route !== null && p.attrs === attrs && sameEvpnRoute(p.route, route)) {
        if (p.queue !== null) this.unstage(p); // back to what the peer has
        return;
      }
    }
    this.check(route, attrs);
    if (p === undefined) this.routes.set(key, (p = new OutRoute(key)));
    p.keep = keep;
    this.stage(p, route, attrs);
  }

  /**
   * Stages the withdrawal of an owner-kept route (announced with `keep` false): this table does
   * not know whether the peer has it, so the withdrawal is sent in any case (a peer ignores the
   * withdrawal of a route it does not have).
   */
  withdrawUnkept(route: EvpnRoute, key: string = evpnRouteKey(route)): void {
    let p = this.routes.get(key);
    if (p === undefined) this.routes.set(key, (p = new OutRoute(key)));
    else if (p.queue !== null && p.nextAttrs === null) return;
    p.keep = false;
    this.stage(p, p.route ?? route, null);
  }

  /** Stages a withdrawal; nothing is sent for a route the peer was never sent. */
  withdraw(route: EvpnRoute, key: string = evpnRouteKey(route)): void {
    const p = this.routes.get(key);
    if (p === undefined) return;
    if (p.route === null) {
      this.unstage(p);
      return;
    }
    if (p.queue !== null && p.nextAttrs === null) return;
    // The NLRI withdrawn is the one advertised: same key, and the labels the peer knows.
    this.stage(p, p.route, null);
  }

  /** RFC 2918 §4, RFC 7313 §4: stage every advertised route again (a pending change takes precedence). */
  resendAll(): void {
    for (const p of this.routes.values()) if (p.route !== null && p.queue === null) this.stage(p, p.route, p.attrs);
  }

  /** Forgets everything (session down): the next session starts from an empty Adj-RIB-Out. */
  clear(): void {
    this.routes.clear();
    this.groups.clear();
    this.staged = this.sent = 0;
  }

  hasPending(): boolean {
    return this.staged > 0;
  }

  get pendingCount(): number {
    return this.staged;
  }

  /** Number of kept routes the peer has been sent (owner-kept ones are not counted). */
  get size(): number {
    return this.sent;
  }

  get(key: string): AdvertisedRoute | undefined {
    const p = this.routes.get(key);
    return p?.route ? { key, route: p.route, attrs: p.attrs! } : undefined;
  }

  *entries(): IterableIterator<AdvertisedRoute> {
    for (const p of this.routes.values()) if (p.route !== null) yield { key: p.key, route: p.route, attrs: p.attrs! };
  }

  /**
   * Encodes up to `maxMessages` UPDATEs (whole messages, header included) from the staged changes,
   * withdrawals first. What they carry counts as advertised from now on: the caller must send
   * every message returned, and calls again while hasPending() when the socket drains.
   */
  drain(maxMessages: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (out.length < maxMessages && this.groups.size > 0) {
      const q = this.groups.get(null) ?? (this.groups.values().next().value as Queue);
      const from = q.pos;
      const m = q.attrs === null ? this.packWithdrawals(q) : this.packAnnouncements(q.attrs, q);
      if (m !== null) out.push(m);
      else if (q.pos === from)
        throw new InvariantError("ERR_ADJ_RIB_OUT", "AdjRibOut: a staged route does not fit an UPDATE");
      if (q.pos >= q.items.length) this.groups.delete(q.attrs);
    }
    return out;
  }

  // --- internals

  private stage(p: OutRoute, route: EvpnRoute, attrs: OutAttrs | null): void {
    if (p.queue === null) this.staged++;
    p.next = route;
    p.nextAttrs = attrs;
    if (p.queue !== null && p.queue.attrs === attrs) return; // already waiting in that queue
    let q = this.groups.get(attrs);
    if (q === undefined) this.groups.set(attrs, (q = new Queue(attrs)));
    else if (q.pos > 1024 && q.pos * 2 > q.items.length) {
      q.items = q.items.slice(q.pos); // drop what was sent while the peer kept adding
      q.pos = 0;
    }
    q.items.push(p);
    p.queue = q;
  }

  private unstage(p: OutRoute): void {
    if (p.queue === null) return;
    p.queue = null; // its queue entry is skipped when reached
    p.next = p.nextAttrs = null;
    this.staged--;
    if (p.route === null) this.routes.delete(p.key);
  }

  /** Marks a staged change as sent (or, for a withdrawal, the route as gone). */
  private done(p: OutRoute): void {
    const was = p.route !== null;
    if (p.nextAttrs === null || !p.keep) {
      p.route = p.attrs = null; // withdrawn, or owner-kept: the owner holds the route
      this.routes.delete(p.key);
    } else {
      p.route = p.next;
      p.attrs = p.nextAttrs;
    }
    if (was !== (p.route !== null)) this.sent += was ? -1 : 1;
    p.next = p.nextAttrs = null;
    p.queue = null;
    this.staged--;
  }

  /**
   * Checks that one route fits an UPDATE with these attributes (encoded once per group). Route
   * fields are not encoded here, to keep a burst cheap: a route that cannot be encoded is dropped
   * by drain() and reported through `onRejected`.
   */
  private check(route: EvpnRoute, attrs: OutAttrs): void {
    const e = this.encodedAttrs(attrs);
    // RFC 7432/9136 route types take at most 60 bytes (type 5 with IPv6); unknown ones their value.
    const nlri = route.routeType === "unknown" ? 2 + route.value.length : 60;
    const size = UPDATE_FIXED + e.before.length + MP_ATTR_HEADER + e.mpHead.length + nlri + e.after.length;
    if (size > this.maxMessageSize)
      throw new RangeError(`UPDATE of ${size} bytes for one route exceeds the maximum of ${this.maxMessageSize}`);
  }

  /** Encodes one staged route; a route that cannot be encoded is dropped and reported. */
  private encodeOrDrop(w: Writer, p: OutRoute): boolean {
    const at = w.pos;
    try {
      encodeEvpnRoute(w, p.next!);
      return true;
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      w.pos = at;
      const route = p.next!;
      this.unstage(p);
      this.rejected++;
      this.onRejected?.(route, e);
      return false;
    }
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

  private packAnnouncements(attrs: OutAttrs, q: Queue): Uint8Array | null {
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
    this.packQueue(q, limit);
    if (w.pos === first) return null; // every route of the group was rejected
    w.setU16(mpAt + 2, w.pos - mpAt - MP_ATTR_HEADER);
    w.bytes(e.after);
    return this.finish(attrLenAt);
  }

  private packWithdrawals(q: Queue): Uint8Array | null {
    const w = this.w;
    const attrLenAt = this.begin();
    // RFC 4760 §4: MP_UNREACH_NLRI alone; no other attribute is needed to withdraw.
    const mpAt = w.pos;
    w.u8(MP_FLAGS);
    w.u8(AttrType.MP_UNREACH_NLRI);
    w.u16(0);
    w.u16(Afi.L2VPN);
    w.u8(Safi.EVPN);
    const first = w.pos;
    this.packQueue(q, this.maxMessageSize);
    if (w.pos === first) return null; // an empty MP_UNREACH_NLRI would be an End-of-RIB
    w.setU16(mpAt + 2, w.pos - mpAt - MP_ATTR_HEADER);
    return this.finish(attrLenAt);
  }

  /** Writes the queue's routes while they fit under `limit`; returns with the cursor advanced. */
  private packQueue(q: Queue, limit: number): void {
    const w = this.w;
    const items = q.items;
    while (q.pos < items.length) {
      const p = items[q.pos]!;
      if (p.queue !== q) {
        q.pos++; // moved to another queue or unstaged since
        continue;
      }
      const at = w.pos;
      if (!this.encodeOrDrop(w, p)) {
        q.pos++;
        continue;
      }
      if (w.pos > limit) {
        w.pos = at;
        return;
      }
      q.pos++;
      this.done(p);
    }
  }
}

/** Stages routes for a peer; see OwnedRoutes. */
export type RoutePut = (route: EvpnRoute, attrs: OutAttrs) => void;

/**
 * Local routes whose owner keeps the table (the learning engine, up to millions of MACs). The
 * speaker holds no copy of them — RFC 4271 §3.2 leaves the form of the Adj-RIB-Out to the
 * implementation — only the changes not yet sent. When a session comes up or the peer asks for
 * a route refresh, the speaker pulls the table through a cursor, a batch at a time as the socket
 * drains; changes made meanwhile go through announceOwned/withdrawOwned as usual.
 */
export interface OwnedRoutes {
  /**
   * A cursor over the routes as they are now. Each call passes the routes of up to `max` table
   * entries to `put` and returns false once the table has been walked.
   */
  cursor(): (max: number, put: RoutePut) => boolean;
}
