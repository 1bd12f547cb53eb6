import type { UpstreamServer } from '../upstream/upstream-server.js';
import type { Metrics } from './metrics.js';

/** Keeps the per-server Prometheus series in step with the servers: state, instances, restarts, tools. */
export class ServerMetricsRecorder {
  private readonly restartsSeen = new WeakMap<UpstreamServer, number>();
  private readonly listed = new Set<string>();

  constructor(private readonly metrics: Metrics | undefined) {}

  /** After a server's state changed: its state, its live instances, and the restarts since the last time. */
  server(server: UpstreamServer): void {
    const metrics = this.metrics;
    if (!metrics) return;
    metrics.setServerState(server.name, server.state);
    metrics.setServerInstances(server.name, server.scope === 'shared' ? 1 : server.listInstances().length);
    const seen = this.restartsSeen.get(server) ?? 0;
    for (let i = seen; i < server.restarts; i++) metrics.serverRestarted(server.name);
    this.restartsSeen.set(server, server.restarts);
  }

  /** After the catalog's tools changed: each server's tool count; a server no longer configured is dropped. */
  toolCounts(servers: readonly string[], toolCount: (server: string) => number): void {
    const metrics = this.metrics;
    if (!metrics) return;
    for (const server of servers) metrics.setServerTools(server, toolCount(server));
    for (const server of this.listed) if (!servers.includes(server)) metrics.removeServer(server);
    this.listed.clear();
    for (const server of servers) this.listed.add(server);
  }
}
