// The proxy table's storage: one slot per (VNI, IP) in typed-array columns, off the V8 heap
// but for the MAC strings and the per-service Map from IP key to slot.
//
// A slot holds the binding answered (`src`, `mac`, `vtep`, `flags`, `seq`) and, apart, the EVPN
// route held for the IP (`e*` columns, `hasE`), so that the route takes over when the static or
// dynamic binding above it goes (RFC 9161 §3: one entry per IP, static > EVPN > dynamic, a newer
// dynamic binding over an older EVPN one). Dynamic entries sit in one of two ageing queues in
// the order they were last queued: `fresh` (awaiting their refresh at half the ageing time) and
// `stale` (refreshed, awaiting the full ageing time), so tick() only looks at queue heads.
//
// Memory per entry, 1,000,000 entries in one service with distinct MACs made by the decoders'
// formatters (heap and array buffers after GC, empty table subtracted; Node 20): IPv4 dynamic
// 171 bytes, IPv4 EVPN 182 (its pending announcement included), IPv6 dynamic 252 (the key is
// the address text). Of that, ~70 bytes are typed-array columns (capacity doubles), 24 the
// three JS array slots, ~40 the MAC string, the rest the service Map's entry.

import { formatIpv4, parseIpv4Into } from "../../net/addr.js";
import { growF64, growI32, growU8, INITIAL_SLOTS, NIL, SlotQueue } from "../learning/slot-queue.js";
import type { CompiledService, CompiledStatic } from "./settings.js";
import { type EntrySource, FLAG_IMMUTABLE, FLAG_OVERRIDE, FLAG_ROUTER } from "./types.js";

/** Slot sources (`src` column); 0: free. */
export const DYNAMIC = 1;
export const EVPN = 2;
export const STATIC = 3;

export const SOURCE_NAMES: readonly EntrySource[] = ["dynamic", "dynamic", "evpn", "static"];

/** Queue of a slot (`inQ` column). */
const NONE = 0;
const FRESH = 1;
const STALE = 2;

/** A slot is re-queued only when its queueing time is at least this old: ageing is exact to it. */
export const AGE_GRANULARITY_MS = 1000;

const V4 = new Uint8Array(4);
const V4_WORD = new DataView(V4.buffer);

/**
 * Key of an IP in a service's Map: an IPv4 dotted quad as its int32 value (a Smi: no string
 * kept), any other text (IPv6, canonical RFC 5952 as the decoders print it) as itself.
 */
export function ipKey(ip: string): number | string {
  return ip.length <= 15 && parseIpv4Into(ip, V4, 0) ? V4_WORD.getInt32(0) : ip;
}

export function keyText(k: number | string): string {
  if (typeof k === "string") return k;
  V4_WORD.setInt32(0, k);
  return formatIpv4(V4, 0);
}

/** A service and its entries. */
export interface Svc {
  cfg: CompiledService;
  idx: number;
  /** IP key → slot. */
  ips: Map<number | string, number>;
  /** Static MAC → its located VTEP index (NIL: not located). */
  located: Map<string, number>;
  /** Slots by active source (index DYNAMIC, EVPN, STATIC). */
  count: [number, number, number, number];
}

export class ProxyTable {
  svcs: Svc[] = [];
  private readonly vtepIds = new Map<string, number>();
  readonly vtepNames: string[] = [];

  /** Allocation and the `fresh` queue. */
  readonly fresh = new SlotQueue((n) => this.grow(n));
  /** The `stale` queue: only its list operations (slots come from `fresh`). */
  readonly stale = new SlotQueue(() => undefined);

  key: (number | string)[] = [];
  mac: string[] = [];
  eMac: string[] = [];
  svc = new Int32Array(INITIAL_SLOTS);
  src = new Uint8Array(INITIAL_SLOTS);
  vtep = new Int32Array(INITIAL_SLOTS);
  /** RFC 9047 flags of the binding answered. */
  flags = new Uint8Array(INITIAL_SLOTS);
  seq = new Float64Array(INITIAL_SLOTS);
  seen = new Float64Array(INITIAL_SLOTS);
  queued = new Float64Array(INITIAL_SLOTS);
  inQ = new Uint8Array(INITIAL_SLOTS);
  hasE = new Uint8Array(INITIAL_SLOTS);
  eVtep = new Int32Array(INITIAL_SLOTS);
  eFlags = new Uint8Array(INITIAL_SLOTS);
  eSeq = new Float64Array(INITIAL_SLOTS);
  /** 1: in duplicate state (RFC 9161 §3.7). */
  dup = new Uint8Array(INITIAL_SLOTS);
  /** 1: a gratuitous ARP / NA is pending for the slot. */
  garp = new Uint8Array(INITIAL_SLOTS);

  private grow(n: number): void {
    this.svc = growI32(this.svc, n);
    this.src = growU8(this.src, n);
    this.vtep = growI32(this.vtep, n);
    this.flags = growU8(this.flags, n);
    this.seq = growF64(this.seq, n);
    this.seen = growF64(this.seen, n);
    this.queued = growF64(this.queued, n);
    this.inQ = growU8(this.inQ, n);
    this.hasE = growU8(this.hasE, n);
    this.eVtep = growI32(this.eVtep, n);
    this.eFlags = growU8(this.eFlags, n);
    this.eSeq = growF64(this.eSeq, n);
    this.dup = growU8(this.dup, n);
    this.garp = growU8(this.garp, n);
    this.stale.prev = growI32(this.stale.prev, n);
    this.stale.next = growI32(this.stale.next, n);
  }

  /** A new slot for `key` in `s`, no source yet (the caller sets one). */
  alloc(s: Svc, key: number | string): number {
    const i = this.fresh.alloc();
    if (i === this.key.length) {
      this.key.push(0);
      this.mac.push("");
      this.eMac.push("");
    }
    this.key[i] = key;
    this.svc[i] = s.idx;
    this.src[i] = 0;
    this.vtep[i] = NIL;
    this.flags[i] = 0;
    this.seq[i] = 0;
    this.seen[i] = 0;
    this.inQ[i] = NONE;
    this.hasE[i] = 0;
    this.dup[i] = 0;
    this.garp[i] = 0;
    s.ips.set(key, i);
    return i;
  }

  /** Frees slot `i` (its duplicate state is the caller's). */
  free(i: number): void {
    const s = this.svcs[this.svc[i]!]!;
    s.ips.delete(this.key[i]!);
    this.unqueue(i);
    this.setSrc(i, 0);
    this.key[i] = 0;
    this.mac[i] = "";
    this.eMac[i] = "";
    this.hasE[i] = 0;
    this.garp[i] = 0;
    this.fresh.release(i);
  }

  svcOf(i: number): Svc {
    return this.svcs[this.svc[i]!]!;
  }

  /** Sets the active source, keeping the per-service counts. */
  setSrc(i: number, src: number): void {
    const c = this.svcOf(i).count;
    const old = this.src[i]!;
    if (old !== 0) c[old]!--;
    if (src !== 0) c[src]!++;
    this.src[i] = src;
  }

  vtepId(vtep: string): number {
    let i = this.vtepIds.get(vtep);
    if (i === undefined) {
      i = this.vtepNames.length;
      this.vtepNames.push(vtep);
      this.vtepIds.set(vtep, i);
    }
    return i;
  }

  vtepName(id: number): string | undefined {
    return id === NIL ? undefined : this.vtepNames[id];
  }

  /** What an event or action says of slot `i`'s binding. */
  binding(i: number): { vni: number; ip: string; mac: string; vtep: string | undefined } {
    return {
      vni: this.svcOf(i).cfg.vni,
      ip: keyText(this.key[i]!),
      mac: this.mac[i]!,
      vtep: this.vtepName(this.vtep[i]!),
    };
  }

  /** Makes slot `i` a dynamic entry seen now at `vtep`, queued as the newest. */
  setDynamic(i: number, mac: string, vtep: number, flags: number, seq: number, now: number): void {
    this.setSrc(i, DYNAMIC);
    this.mac[i] = mac;
    this.vtep[i] = vtep;
    this.flags[i] = flags;
    this.seq[i] = seq;
    this.touch(i, now, true);
  }

  /** Answers slot `i` from its EVPN route; true when what is answered changed. */
  activateEvpn(i: number): boolean {
    this.unqueue(i);
    const changed =
      this.src[i] !== EVPN ||
      this.mac[i] !== this.eMac[i] ||
      this.vtep[i] !== this.eVtep[i] ||
      this.flags[i] !== this.eFlags[i];
    this.setSrc(i, EVPN);
    this.mac[i] = this.eMac[i]!;
    this.vtep[i] = this.eVtep[i]!;
    this.flags[i] = this.eFlags[i]!;
    this.seq[i] = this.eSeq[i]!;
    return changed;
  }

  /** Answers slot `i` from static entry `e` (located at `vtep`); true when what is answered changed. */
  activateStatic(i: number, e: CompiledStatic, vtep: number): boolean {
    this.unqueue(i);
    // A static entry is configured: immutable (RFC 9047), override set (RFC 4861 §7.2.4 for a unicast address).
    const flags = (e.router ? FLAG_ROUTER : 0) | FLAG_OVERRIDE | FLAG_IMMUTABLE;
    const changed = this.src[i] !== STATIC || this.mac[i] !== e.mac || this.vtep[i] !== vtep || this.flags[i] !== flags;
    this.setSrc(i, STATIC);
    this.mac[i] = e.mac;
    this.vtep[i] = vtep;
    this.flags[i] = flags;
    this.seq[i] = 0;
    return changed;
  }

  /** Moves the last-seen time; re-queues as fresh when a granule old (or forced). */
  touch(i: number, now: number, force = false): void {
    this.seen[i] = now;
    if (!force && this.inQ[i] === FRESH && now - this.queued[i]! < AGE_GRANULARITY_MS) return;
    this.requeue(i, now);
  }

  /** Queues slot `i` as the newest fresh one, queued at `now`. */
  requeue(i: number, now: number): void {
    this.unqueue(i);
    this.queued[i] = now;
    this.fresh.push(i);
    this.inQ[i] = FRESH;
  }

  /** A fresh slot whose refresh was sent: to the stale queue, keeping its queueing time. */
  toStale(i: number): void {
    this.fresh.unlink(i);
    this.stale.push(i);
    this.inQ[i] = STALE;
  }

  unqueue(i: number): void {
    const q = this.inQ[i];
    if (q === FRESH) this.fresh.unlink(i);
    else if (q === STALE) this.stale.unlink(i);
    this.inQ[i] = NONE;
  }

  /** Replaces the services; each kept Svc already holds its new `idx`. */
  setServices(next: Svc[]): void {
    for (const s of this.svcs) for (const i of s.ips.values()) this.svc[i] = s.idx;
    this.svcs = next;
  }
}
