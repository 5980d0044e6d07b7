// The learning engine's table: MAC entries and IP bindings as slots in typed-array columns,
// each kind with its ageing queue (SlotQueue), and the route actions built from them.
//
// Memory layout (~200 bytes per MAC with one IPv4 binding, bench/learning-engine.ts): entries
// and IP bindings are slots in typed-array columns (off the V8 heap), not objects. A MAC costs
// its text (kept once: the column and the key of its service's `macs` Map share it), a Map
// entry and ~60 bytes of columns; an IPv4 binding a Map entry keyed by a Smi (see ipKey) and
// ~36 bytes. Times and sequence numbers are Float64 (exact ms, any 32-bit sequence). A slot is
// reused only after its entry is gone.

import { formatIpv4 } from "../../net/addr.js";
import { growF64, growI32, growU8, INITIAL_SLOTS, NIL, SlotQueue, sortQueue } from "./slot-queue.js";
import { AGE_GRANULARITY_MS, type LearnAction, type LearnedBinding, type Service } from "./types.js";

/**
 * Key of an IP binding: a canonical dotted quad (what the decoder produces) as its int32 value,
 * a Smi, so no string is kept for it; any other text (IPv6, non-canonical) as itself. The two
 * never collide (a number is not a string) and ipText() gives back the original text.
 */
export function ipKey(s: string): number | string {
  const n = s.length;
  if (n < 7 || n > 15) return s;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return s;
      v = (v << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return s; // a leading zero: not canonical
      part = part * 10 + (c - 48);
      if (part > 255) return s;
      digits++;
    } else return s;
  }
  if (digits === 0 || dots !== 3) return s;
  return (v << 8) | part;
}

const V4 = new Uint8Array(4);

export function ipText(k: number | string): string {
  if (typeof k === "string") return k;
  V4[0] = k >>> 24;
  V4[1] = k >>> 16;
  V4[2] = k >>> 8;
  V4[3] = k;
  return formatIpv4(V4, 0);
}

/**
 * One entry per (VNI, MAC): its location (a VTEP), the MAC mobility sequence of our route,
 * whether our routes are announced. One binding per (VNI, IP) naming the MAC that owns the IP;
 * a MAC's bindings form a ring (circular doubly linked, in binding order).
 */
export class LearnTable {
  /** Services by index (the MAC table's service column). */
  svcs: Service[] = [];
  /** VTEP text ↔ index (the MAC table's VTEP column); only VTEPs MACs were learned at. */
  private readonly vtepIds = new Map<string, number>();
  readonly vtepNames: string[] = [];

  // MAC entries, one slot each; ageing queue in mq.
  readonly mq = new SlotQueue((n) => {
    this.mSvc = growI32(this.mSvc, n);
    this.mVtep = growI32(this.mVtep, n);
    this.mSeq = growF64(this.mSeq, n);
    this.mSeen = growF64(this.mSeen, n);
    this.mAnn = growU8(this.mAnn, n);
    this.mCfg = growU8(this.mCfg, n);
    this.mLast = growF64(this.mLast, n);
    this.mQueued = growF64(this.mQueued, n);
    this.mIp = growI32(this.mIp, n);
  });
  /** MAC text; "" when the slot is free. */
  mMac: string[] = [];
  mSvc = new Int32Array(INITIAL_SLOTS);
  mVtep = new Int32Array(INITIAL_SLOTS);
  /** Sequence number of our route (when announced) or of the last one we announced. */
  mSeq = new Float64Array(INITIAL_SLOTS);
  /** Highest sequence seen for the MAC, ours or the fabric's. */
  mSeen = new Float64Array(INITIAL_SLOTS);
  /** 1: our routes are announced. */
  mAnn = new Uint8Array(INITIAL_SLOTS);
  /**
   * 1: a configured MAC at its configured VTEP. Only its IP bindings are ours, announced sticky
   * at sequence 0 (RFC 7432 §15.2); its MAC route is the configuration's.
   */
  mCfg = new Uint8Array(INITIAL_SLOTS);
  mLast = new Float64Array(INITIAL_SLOTS);
  mQueued = new Float64Array(INITIAL_SLOTS);
  /** First IP binding (its owner ring, in binding order), or NIL. */
  mIp = new Int32Array(INITIAL_SLOTS);

  // IP bindings, one slot each; ageing queue in bq.
  readonly bq = new SlotQueue((n) => {
    this.bOwner = growI32(this.bOwner, n);
    this.bQueued = growF64(this.bQueued, n);
    this.bOPrev = growI32(this.bOPrev, n);
    this.bONext = growI32(this.bONext, n);
  });
  bKey: (number | string)[] = [];
  bOwner = new Int32Array(INITIAL_SLOTS);
  bQueued = new Float64Array(INITIAL_SLOTS);
  private bOPrev = new Int32Array(INITIAL_SLOTS);
  private bONext = new Int32Array(INITIAL_SLOTS);

  /** A new entry, not announced, queued as the newest. */
  addMac(svc: Service, mac: string, vtep: string, seq: number, now: number): number {
    const m = this.allocMac();
    this.mMac[m] = mac;
    this.mSvc[m] = svc.idx;
    this.mVtep[m] = this.vtepId(vtep);
    this.mSeq[m] = seq;
    this.mSeen[m] = seq;
    this.mAnn[m] = 0;
    this.mCfg[m] = 0;
    this.mLast[m] = now;
    this.mQueued[m] = now;
    this.mIp[m] = NIL;
    this.mq.push(m);
    svc.macs.set(mac, m);
    return m;
  }

  /** Frees entry `m` and its IP bindings (its routes are the caller's). */
  freeMac(m: number): void {
    const svc = this.svcs[this.mSvc[m]!]!;
    svc.macs.delete(this.mMac[m]!);
    this.mq.unlink(m);
    for (let b = this.mIp[m]!; b !== NIL; b = this.mIp[m]!) this.dropIp(svc, b, m);
    this.mMac[m] = "";
    this.mq.release(m);
  }

  /** Moves the last-seen time; re-queues when the entry is a granule old (or when forced). */
  touch(m: number, now: number, force = false): void {
    this.mLast[m] = now;
    if (!force && now - this.mQueued[m]! < AGE_GRANULARITY_MS) return;
    this.mQueued[m] = now;
    this.mq.toTail(m);
  }

  /** Re-queues binding `b` when it is a granule old. */
  touchIp(b: number, now: number): void {
    if (now - this.bQueued[b]! < AGE_GRANULARITY_MS) return;
    this.bQueued[b] = now;
    this.bq.toTail(b);
  }

  /** Binds `key` to entry `m`: in binding `b` (taken from its owner with takeIp) or a new one. */
  bindIp(svc: Service, m: number, key: number | string, b: number | undefined, now: number): void {
    if (b === undefined) {
      b = this.allocIp();
      this.bKey[b] = key;
      svc.ips.set(key, b);
    }
    this.bOwner[b] = m;
    this.bQueued[b] = now;
    this.bq.push(b);
    this.ringAdd(m, b);
  }

  /** Unbinds binding `b` from its owner, keeping its slot and key for bindIp; returns the owner. */
  takeIp(b: number): number {
    const o = this.bOwner[b]!;
    this.ringDel(o, b);
    this.bq.unlink(b);
    return o;
  }

  /** Unbinds binding `b` of entry `m` and frees its slot. */
  dropIp(svc: Service, b: number, m: number): void {
    svc.ips.delete(this.bKey[b]!);
    this.bq.unlink(b);
    this.ringDel(m, b);
    this.bKey[b] = 0;
    this.bq.release(b);
  }

  setVtep(m: number, vtep: string): void {
    this.mVtep[m] = this.vtepId(vtep);
  }

  vtepOf(m: number): string {
    return this.vtepNames[this.mVtep[m]!]!;
  }

  svcOf(m: number): Service {
    return this.svcs[this.mSvc[m]!]!;
  }

  /** Replaces the services; each kept Service already holds its new `idx`. */
  setServices(next: Service[]): void {
    for (let m = this.mq.head; m !== NIL; m = this.mq.next[m]!) this.mSvc[m] = this.svcs[this.mSvc[m]!]!.idx;
    this.svcs = next;
  }

  /** IPs bound to entry `m`, in binding order. */
  ipsOf(m: number): string[] {
    const ips: string[] = [];
    const h = this.mIp[m]!;
    if (h !== NIL)
      for (let b = h; ;) {
        ips.push(ipText(this.bKey[b]!));
        b = this.bONext[b]!;
        if (b === h) break;
      }
    return ips;
  }

  /** The first IP binding of entry `m` (NIL: none); nextIp() goes round its ring back to it. */
  firstIp(m: number): number {
    return this.mIp[m]!;
  }

  nextIp(b: number): number {
    return this.bONext[b]!;
  }

  /** Puts both ageing queues in queueing-time order (a restore queues entries as they come). */
  sortQueues(): void {
    sortQueue(this.mq, this.mQueued);
    sortQueue(this.bq, this.bQueued);
  }

  /** Number of IPs bound to entry `m`, counted up to `max`. */
  ipCount(m: number, max: number): number {
    const h = this.mIp[m]!;
    if (h === NIL) return 0;
    let n = 1;
    for (let b = this.bONext[h]!; b !== h && n < max; b = this.bONext[b]!) n++;
    return n;
  }

  /** The row of entry `m` (IPs sorted). */
  row(m: number, duplicate: boolean): LearnedBinding {
    const svc = this.svcOf(m);
    return {
      service: svc.name,
      vni: svc.vni,
      mac: this.mMac[m]!,
      vtep: this.vtepOf(m),
      ips: this.ipsOf(m).sort(),
      seq: this.mSeq[m]!,
      configured: this.mCfg[m] === 1,
      announced: this.mAnn[m] === 1,
      duplicate,
      lastSeen: this.mLast[m]!,
    };
  }

  announcement(m: number, ip: string | null): LearnAction {
    const { name: service, evi, vni } = this.svcOf(m);
    const vtep = this.vtepOf(m);
    const sticky = this.mCfg[m] === 1;
    return { type: "announce", service, evi, vni, vtep, mac: this.mMac[m]!, ip, seq: this.mSeq[m]!, sticky };
  }

  withdrawal(m: number, ip: string | null): LearnAction {
    const { name: service, evi, vni } = this.svcOf(m);
    return { type: "withdraw", service, evi, vni, vtep: this.vtepOf(m), mac: this.mMac[m]!, ip };
  }

  /** The MAC route (unless configured), then its MAC/IP routes. */
  announceAll(m: number, out: LearnAction[]): void {
    if (this.mCfg[m] === 0) out.push(this.announcement(m, null));
    for (const ip of this.ipsOf(m).sort()) out.push(this.announcement(m, ip));
  }

  /** MAC/IP routes first, then the MAC route (unless configured). */
  withdrawAll(m: number, out: LearnAction[]): void {
    for (const ip of this.ipsOf(m).sort()) out.push(this.withdrawal(m, ip));
    if (this.mCfg[m] === 0) out.push(this.withdrawal(m, null));
  }

  private allocMac(): number {
    const m = this.mq.alloc();
    if (m === this.mMac.length) this.mMac.push("");
    return m;
  }

  private allocIp(): number {
    const b = this.bq.alloc();
    if (b === this.bKey.length) this.bKey.push(0);
    return b;
  }

  private vtepId(vtep: string): number {
    let i = this.vtepIds.get(vtep);
    if (i === undefined) {
      i = this.vtepNames.length;
      this.vtepNames.push(vtep);
      this.vtepIds.set(vtep, i);
    }
    return i;
  }

  /** Appends binding `b` to the ring of entry `m` (kept in binding order). */
  private ringAdd(m: number, b: number): void {
    const h = this.mIp[m]!;
    if (h === NIL) {
      this.mIp[m] = b;
      this.bOPrev[b] = b;
      this.bONext[b] = b;
    } else {
      const t = this.bOPrev[h]!;
      this.bONext[t] = b;
      this.bOPrev[b] = t;
      this.bONext[b] = h;
      this.bOPrev[h] = b;
    }
  }

  private ringDel(m: number, b: number): void {
    const n = this.bONext[b]!;
    if (n === b) {
      this.mIp[m] = NIL;
      return;
    }
    const p = this.bOPrev[b]!;
    this.bONext[p] = n;
    this.bOPrev[n] = p;
    if (this.mIp[m] === b) this.mIp[m] = n;
  }

  /** A cursor over the routes announced now: see Learner.cursor. */
  announcedCursor(): (max: number, out: LearnAction[]) => boolean {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the closure outlives the call
    const t = this;
    let n = 0;
    for (let m = t.mq.head; m !== NIL; m = t.mq.next[m]!) if (t.mAnn[m] === 1) n++;
    const slots = new Int32Array(n);
    n = 0;
    for (let m = t.mq.head; m !== NIL; m = t.mq.next[m]!) if (t.mAnn[m] === 1) slots[n++] = m;
    let pos = 0;
    return (max, out) => {
      const end = Math.min(slots.length, pos + max);
      for (; pos < end; pos++) {
        const m = slots[pos]!;
        if (t.mAnn[m] === 1 && t.mMac[m] !== "") t.announceAll(m, out);
      }
      return pos < slots.length;
    };
  }
}
