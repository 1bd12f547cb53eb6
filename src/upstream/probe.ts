import type { ServerConfig } from '../config/model.js';
import { createSilentLogger } from '../observability/log.js';
import { Upstream } from './upstream.js';

/** Starts one server once (no restarts), counts its tools and stops it: `mcproxy check --start`. */
export async function startServerOnce(config: ServerConfig): Promise<{ toolCount: number }> {
  const upstream = new Upstream(
    { ...config, lazy: false, restart: { ...config.restart, maxAttempts: 0 } },
    {},
    createSilentLogger(),
  );
  try {
    await upstream.start();
    if (upstream.state !== 'ready') throw new Error(upstream.lastError ?? `ended ${upstream.state}`);
    return { toolCount: upstream.lists.tools.length };
  } finally {
    await upstream.close();
  }
}
