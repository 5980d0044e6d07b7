// Slots of a columnar table and their ageing queue: an intrusive doubly linked list over
// typed arrays, so that re-queueing a slot is O(1) and allocates nothing.

export const NIL = -1;
export const INITIAL_SLOTS = 256;

export function growI32(a: Int32Array, n: number) {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

export function growU8(a: Uint8Array, n: number) {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}

export function growF64(a: Float64Array, n: number) {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

/**
 * Slots 0..used-1 of a columnar table, each either free (chained through `next`) or queued in
 * an intrusive doubly linked list in queueing order (`prev`/`next`, head = oldest): the ageing
 * queue. Moving a slot to the tail is O(1) and allocates nothing.
 */
export class SlotQueue {
  prev = new Int32Array(INITIAL_SLOTS);
  next = new Int32Array(INITIAL_SLOTS);
  head = NIL;
  tail = NIL;
  private free = NIL;
  private used = 0;

  /** `grow(n)`: the capacity became `n`; the table's columns follow. */
  constructor(private readonly grow: (n: number) => void) {}

  /** A slot, not queued; the capacity (`prev.length`) doubles when full. */
  alloc(): number {
    const i = this.free;
    if (i !== NIL) {
      this.free = this.next[i]!;
      return i;
    }
    if (this.used === this.prev.length) {
      const n = this.used * 2;
      this.prev = growI32(this.prev, n);
      this.next = growI32(this.next, n);
      this.grow(n);
    }
    return this.used++;
  }

  /** Returns an unqueued slot. */
  release(i: number): void {
    this.next[i] = this.free;
    this.free = i;
  }

  push(i: number): void {
    const t = this.tail;
    this.prev[i] = t;
    this.next[i] = NIL;
    if (t === NIL) this.head = i;
    else this.next[t] = i;
    this.tail = i;
  }

  unlink(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p === NIL) this.head = n;
    else this.next[p] = n;
    if (n === NIL) this.tail = p;
    else this.prev[n] = p;
  }

  toTail(i: number): void {
    if (i === this.tail) return;
    this.unlink(i);
    this.push(i);
  }
}

/** Re-links the queued slots of `q` in ascending `time[slot]` order; ties keep their order. */
export function sortQueue(q: SlotQueue, time: Float64Array): void {
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let ints = true;
  for (let i = q.head; i !== NIL; i = q.next[i]!) {
    const x = time[i]!;
    n++;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
    ints &&= Number.isInteger(x);
  }
  if (n < 2) return;
  const slots = new Int32Array(n);
  n = 0;
  for (let i = q.head; i !== NIL; i = q.next[i]!) slots[n++] = i;
  let order: ArrayLike<number>;
  if (ints && (hi - lo + 1) * n < Number.MAX_SAFE_INTEGER) {
    // One number per slot, (time - lo) · n + rank: a numeric sort of a Float64Array, no comparator.
    const keys = new Float64Array(n);
    for (let r = 0; r < n; r++) keys[r] = (time[slots[r]!]! - lo) * n + r;
    keys.sort();
    const sorted = new Int32Array(n);
    for (let k = 0; k < n; k++) sorted[k] = slots[keys[k]! % n]!;
    order = sorted;
  } else order = Array.from(slots).sort((a, b) => time[a]! - time[b]!);
  q.head = q.tail = NIL;
  for (let k = 0; k < n; k++) q.push(order[k]!);
}
