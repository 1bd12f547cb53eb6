/**
 * A bounded map whose entries end at a time of their own: a hit makes an entry the most recent, and when full
 * the least recently used one makes room. Expired entries are dropped when met.
 *
 * @example const cache = new ExpiringCache<string>(1_000, Date.now); cache.set(key, value, Date.now() + 5_000);
 */
export class ExpiringCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.until <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T, until: number): void {
    if (until <= this.now()) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until });
  }
}
