import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

import { errorMessage } from '../errors.js';
import type { UpstreamInstance } from '../upstream/instance.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';
import { upstreamLevel } from './log-levels.js';

/**
 * The `logging/setLevel` each upstream instance is asked for: the most verbose level among the sessions it
 * serves (`audience`), sent only when it changes. Each session still receives only what passes its own level.
 */
export class UpstreamLogLevels {
  private readonly sent = new WeakMap<UpstreamInstance, LoggingLevel>();

  constructor(
    private readonly audience: (server: UpstreamServer, instance: UpstreamInstance) => { logLevel?: LoggingLevel }[],
  ) {}

  /** Applies the levels of every instance of the servers `filter` selects. */
  apply(servers: Iterable<UpstreamServer>, filter: (server: UpstreamServer) => boolean = () => true): void {
    for (const server of servers) {
      if (!filter(server)) continue;
      for (const instance of server.listInstances()) this.applyTo(server, instance);
    }
  }

  applyTo(server: UpstreamServer, instance: UpstreamInstance): void {
    // A 2026-07-28 server has no logging/setLevel: its log level is set per request.
    if (instance.state !== 'ready' || !instance.capabilities.logging || instance.era === 'modern') return;
    const level = upstreamLevel(this.audience(server, instance));
    if (level === undefined || this.sent.get(instance) === level) return;
    this.sent.set(instance, level);
    instance
      .request('logging/setLevel', { level }, { timeoutMs: instance.config.toolTimeoutMs })
      .catch((error: unknown) => instance.log.debug(`logging/setLevel failed: ${errorMessage(error)}`));
  }

  /** A (re)started instance forgot the level it was given. */
  forget(instance: UpstreamInstance): void {
    this.sent.delete(instance);
  }
}
