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

  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    this.entries.clear();
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
