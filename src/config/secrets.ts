import type { GatewayConfig } from './model.js';

const MIN_SECRET_LENGTH = 4;
const cache = new WeakMap<GatewayConfig, readonly string[]>();

/**
 * The values that must never appear in logs, health or errors: every server's env and header values.
 * The same array is returned for the same config, so maskers can cache their work.
 */
export function secretValues(config: GatewayConfig): readonly string[] {
  const cached = cache.get(config);
  if (cached) return cached;
  const values = new Set<string>();
  for (const server of config.servers) {
    for (const value of [...Object.values(server.env), ...Object.values(server.headers)]) {
      if (value.length >= MIN_SECRET_LENGTH) values.add(value);
    }
  }
  const list = [...values];
  cache.set(config, list);
  return list;
}
