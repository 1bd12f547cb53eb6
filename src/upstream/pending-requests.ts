/**
 * A peer's requests in flight by id, oldest first. The usual case is one request at a time, which this keeps
 * in a field of its own: a Map that goes from one entry to none shrinks on that delete (V8 calls into the
 * runtime and reallocates its table, ~800 instructions), on every call. Requests made while another is in flight
 * go to the Map; the lone one is always the oldest (it was added while the Map was empty).
 */
export class PendingRequests<E extends { readonly id: number }> {
  private lone?: E;
  private readonly others = new Map<number, E>();

  get size(): number {
    return (this.lone ? 1 : 0) + this.others.size;
  }

  get(id: number): E | undefined {
    const lone = this.lone;
    if (lone !== undefined && lone.id === id) return lone;
    return this.others.size === 0 ? undefined : this.others.get(id);
  }

  add(entry: E): void {
    if (this.lone === undefined && this.others.size === 0) this.lone = entry;
    else this.others.set(entry.id, entry);
  }

  /** Forgets `entry` if it is the one pending under its id; says whether it was. */
  remove(entry: E): boolean {
    if (this.lone === entry) {
      this.lone = undefined;
      return true;
    }
    if (this.others.get(entry.id) !== entry) return false;
    this.others.delete(entry.id);
    return true;
  }

  /** A copy, oldest first: safe to iterate while entries are removed. */
  list(): E[] {
    const all = this.lone ? [this.lone] : [];
    for (const entry of this.others.values()) all.push(entry);
    return all;
  }
}
