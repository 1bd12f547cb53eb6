import type { RateDecision } from '../access/rate-limit.js';

/** A value now, or once the shared store has answered. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Rate-limit budgets by key (a credential, a client address): the in-process `RateLimiter`, or the same token
 * bucket kept in the shared store so that replicas draw on one budget.
 */
export interface RateBudget {
  /** Takes `count` requests from the key's budget, or says how long until it could; nothing is taken on refusal. */
  take(key: string, perMinute: number, count?: number): Awaitable<RateDecision>;
  /** Whether `count` requests would be taken now, taking nothing. */
  check(key: string, perMinute: number, count?: number): Awaitable<RateDecision>;
}

/**
 * The state replicas share (config `state`): string values by key with an optional time to live, and the rate
 * budgets. The in-process store is the default for one machine; Redis is the store of several replicas.
 */
export interface StateStore {
  readonly kind: 'memory' | 'redis';
  readonly rates: RateBudget;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets a key only if it is still there (false when it is gone): a write that must not bring back a deletion. */
  replace(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Gets and deletes in one step: of two replicas taking the same key, one gets the value. */
  take(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
  /** Adds 1 (or `by`) to a counter and returns the new value. */
  increment(key: string, by?: number): Promise<number>;
  /** Adds a member to an ordered set (or moves it) at `score`; returns the set's size after. */
  orderedAdd(key: string, member: string, score: number): Promise<number>;
  /** The number of members of an ordered set. */
  orderedSize(key: string): Promise<number>;
  /** Up to `count` members of lowest score, lowest first (ties by member). */
  orderedFirst(key: string, count: number): Promise<string[]>;
  /** Removes a member: true for the one caller that removed it, of several replicas trying at once. */
  orderedRemove(key: string, member: string): Promise<boolean>;
  /** Whether the store answers now (the readiness of a replica that depends on it). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
