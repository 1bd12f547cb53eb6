import { RateLimiter } from '../access/rate-limit.js';
import type { StateStore } from './store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/** Entries kept before expired ones are swept. */
const SWEEP_AT = 10_000;

/** The state of one process: what a single gateway has always kept in memory. */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  readonly rates: RateLimiter;
  private readonly entries = new Map<string, Entry>();
  private readonly ordered = new Map<string, Map<string, number>>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    this.rates = new RateLimiter({ now: this.now });
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.live(key)?.value);
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (this.entries.size >= SWEEP_AT) this.sweep();
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : this.now() + ttlMs });
    return Promise.resolve();
  }

  replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!this.live(key)) return Promise.resolve(false);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    return Promise.resolve(true);
  }

  take(key: string): Promise<string | undefined> {
    const entry = this.live(key);
    this.entries.delete(key);
    return Promise.resolve(entry?.value);
  }

  delete(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  increment(key: string, by = 1): Promise<number> {
    const next = Number(this.live(key)?.value ?? 0) + by;
    this.entries.set(key, { value: String(next), expiresAt: this.live(key)?.expiresAt ?? Infinity });
    return Promise.resolve(next);
  }

  orderedAdd(key: string, member: string, score: number): Promise<number> {
    const set = this.ordered.get(key) ?? new Map<string, number>();
    this.ordered.set(key, set);
    set.set(member, score);
    return Promise.resolve(set.size);
  }

  orderedSize(key: string): Promise<number> {
    return Promise.resolve(this.ordered.get(key)?.size ?? 0);
  }

  orderedFirst(key: string, count: number): Promise<string[]> {
    const members = [...(this.ordered.get(key) ?? new Map<string, number>())];
    // Ties by member, as Redis orders them.
    members.sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
    return Promise.resolve(members.slice(0, Math.max(0, count)).map(([member]) => member));
  }

  orderedRemove(key: string, member: string): Promise<boolean> {
    return Promise.resolve(this.ordered.get(key)?.delete(member) ?? false);
  }

  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    this.entries.clear();
    this.ordered.clear();
    return Promise.resolve();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
