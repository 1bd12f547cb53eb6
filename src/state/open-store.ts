import type { StateConfig } from '../config/model.js';
import { MemoryStateStore } from './memory-store.js';
import type { StateStore } from './store.js';

/** The store the config names: Redis when `state.store` is `redis`, this process's memory otherwise. */
export async function openStateStore(
  config: StateConfig | undefined,
  onError: (error: Error) => void,
): Promise<StateStore> {
  if (config?.store !== 'redis') return new MemoryStateStore();
  // Loaded only here, so one machine never loads the Redis client.
  const { RedisStateStore } = await import('./redis-store.js');
  return RedisStateStore.connect({ url: config.url, keyPrefix: config.keyPrefix, onError });
}
