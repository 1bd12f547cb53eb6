import { createClient } from 'redis';

import type { RateDecision } from '../access/rate-limit.js';
import type { RateBudget, StateStore } from './store.js';

/** Connecting waits no longer than this (commands are bounded by the client's own timeout). */
const CONNECT_TIMEOUT_MS = 2_000;
const PING_TIMEOUT_MS = 1_000;

/**
 * The token bucket of `RateLimiter`, run inside Redis so that a check and its take are one step for every
 * replica. Redis's own clock measures the refill, so replicas whose clocks differ still share one budget.
 * KEYS[1]: the bucket; ARGV: requests per minute, count, 'take' or 'check'. Floats go back as strings (Redis
 * would truncate a Lua number to an integer).
 */
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMinute = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'used', 'at')
local used = tonumber(bucket[1]) or 0
local at = tonumber(bucket[2]) or now
used = math.max(0, used - math.max(0, now - at) / 60000)
local cost = count / perMinute
local ok = used + cost <= 1 + 1e-9
if ok and ARGV[3] == 'take' then used = used + cost end
redis.call('HSET', KEYS[1], 'used', string.format('%.17g', used), 'at', now)
redis.call('PEXPIRE', KEYS[1], 60000)
if ok then return {1, '0', 0} end
local exceeds = cost > 1 + 1e-9
local missing = used + cost - 1
if exceeds then missing = used end
return {0, string.format('%.17g', missing), exceeds and 1 or 0}
`;

export interface RedisStateStoreOptions {
  url: string;
  /** Prefix of every key, so that several gateways (or other programs) can share one Redis. */
  keyPrefix: string;
  onError: (error: Error) => void;
}

/** Tries to reach the store before the gateway gives up starting (a wrong URL or password must not hang it). */
const FIRST_CONNECT_TRIES = 3;

function newClient(url: string, everConnected: () => boolean) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Once connected, a lost store is retried for ever (the replica reports itself not ready meanwhile);
      // before that, a few tries, then connect() fails and the gateway exits saying why.
      reconnectStrategy: (retries, cause) =>
        everConnected() || retries < FIRST_CONNECT_TRIES ? Math.min(50 * 2 ** retries, 2_000) : cause,
    },
  });
}

type Client = ReturnType<typeof newClient>;

/**
 * The state of several replicas in one Redis (or Valkey). Commands made while the connection is down fail at
 * once instead of queueing, and the client reconnects on its own; `healthy()` is what `/ready` reports.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis';
  readonly rates: RateBudget;
  private readonly client: Client;
  private readonly prefix: string;

  private constructor(client: Client, prefix: string) {
    this.client = client;
    this.prefix = prefix;
    this.rates = {
      take: (key, perMinute, count = 1) => this.rate(key, perMinute, count, 'take'),
      check: (key, perMinute, count = 1) => this.rate(key, perMinute, count, 'check'),
    };
  }

  /** Connects (the gateway does not start without its store). */
  static async connect(options: RedisStateStoreOptions): Promise<RedisStateStore> {
    let connected = false;
    const client = newClient(options.url, () => connected);
    // An unhandled 'error' event would end the process; a lost connection is reported and retried instead.
    client.on('error', (error: Error) => options.onError(error));
    await client.connect();
    connected = true;
    return new RedisStateStore(client, options.keyPrefix);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs === undefined) await this.client.set(this.prefix + key, value);
    else await this.client.set(this.prefix + key, value, { expiration: { type: 'PX', value: Math.max(1, ttlMs) } });
  }

  async replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    const answer = await this.client.set(this.prefix + key, value, {
      condition: 'XX',
      expiration: { type: 'PX', value: Math.max(1, ttlMs) },
    });
    return answer === 'OK';
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.client.getDel(this.prefix + key)) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await this.client.del(this.prefix + key);
  }

  async increment(key: string, by = 1): Promise<number> {
    return this.client.incrBy(this.prefix + key, by);
  }

  async orderedAdd(key: string, member: string, score: number): Promise<number> {
    const [, size] = (await this.client
      .multi()
      .zAdd(this.prefix + key, { score, value: member })
      .zCard(this.prefix + key)
      .exec()) as unknown as [number, number];
    return size;
  }

  async orderedSize(key: string): Promise<number> {
    return this.client.zCard(this.prefix + key);
  }

  async orderedFirst(key: string, count: number): Promise<string[]> {
    if (count <= 0) return [];
    return this.client.zRange(this.prefix + key, 0, count - 1);
  }

  async orderedRemove(key: string, member: string): Promise<boolean> {
    return (await this.client.zRem(this.prefix + key, member)) === 1;
  }

  async healthy(): Promise<boolean> {
    if (!this.client.isReady) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.client.ping().then((answer) => answer === 'PONG'), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  private async rate(key: string, perMinute: number, count: number, how: 'take' | 'check'): Promise<RateDecision> {
    const answer = (await this.client.eval(TAKE_SCRIPT, {
      keys: [`${this.prefix}rate:${key}`],
      arguments: [String(perMinute), String(count), how],
    })) as [number, string, number];
    if (answer[0] === 1) return { ok: true };
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((Number(answer[1]) * 60_000) / 1000)),
      exceedsLimit: answer[2] === 1,
    };
  }
}
