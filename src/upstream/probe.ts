import type { ServerConfig } from '../config/model.js';
import { createSilentLogger } from '../observability/log.js';
import { UpstreamInstance } from './instance.js';
import { ROUTABLE_CAPABILITIES } from './upstream-server.js';

/** Starts one server once (no restarts), counts its tools and stops it: `mcproxy check --start`. */
export async function startServerOnce(config: ServerConfig): Promise<{ toolCount: number }> {
  const instance = new UpstreamInstance(
    { ...config, lazy: false, restart: { ...config.restart, maxAttempts: 0 } },
    { key: 'probe', clientCapabilities: ROUTABLE_CAPABILITIES, events: {}, log: createSilentLogger() },
  );
  try {
    await instance.start();
    if (instance.state !== 'ready') throw new Error(instance.lastError ?? `ended ${instance.state}`);
    return { toolCount: instance.lists.tools.length };
  } finally {
    await instance.close();
  }
}
