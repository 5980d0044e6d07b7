// Listings the API pages through that have no stable position of their own to resume from (the
// RIB's destinations): the iterator is kept here under a number, at most `max` of them and each
// for `ttlMs` after its last page, so that memory stays bounded whatever clients do.

export class Listings<T> {
  private readonly open = new Map<number, { it: Iterator<T>; used: number }>();
  private next = 1;

  constructor(
    private readonly now: () => number,
    private readonly max = 16,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** Keeps `it` and returns its number; the oldest listing goes when `max` are open. */
  add(it: Iterator<T>): number {
    const now = this.now();
    for (const [id, l] of this.open) if (now - l.used > this.ttlMs) this.open.delete(id);
    if (this.open.size >= this.max) this.open.delete(this.open.keys().next().value!);
    const id = this.next++;
    this.open.set(id, { it, used: now });
    return id;
  }

  /** The iterator of a listing, or undefined (unknown, expired or evicted); it stays open. */
  get(id: number): Iterator<T> | undefined {
    const l = this.open.get(id);
    if (l === undefined) return undefined;
    const now = this.now();
    if (now - l.used > this.ttlMs) {
      this.open.delete(id);
      return undefined;
    }
    l.used = now;
    this.open.delete(id); // most recently used last: evicted last
    this.open.set(id, l);
    return l.it;
  }

  /** The listing is done. */
  close(id: number): void {
    this.open.delete(id);
  }

  get size(): number {
    return this.open.size;
  }
}
