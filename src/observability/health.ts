import type { ServerConfig, ServerScope } from '../config/model.js';
import { GATEWAY_VERSION } from '../relay/client-session.js';
import { describeInstanceKey } from '../relay/owner.js';
import type { InstanceState, UpstreamInstance } from '../upstream/instance.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';

/** One instance of a session- or credential-scoped server: whose it is (never a session id) and how it runs. */
export interface InstanceHealth {
  owner: string;
  state: InstanceState;
  pid?: number;
  restarts: number;
  uptimeSeconds?: number;
  lastError?: string;
}

export interface ServerHealth {
  state: InstanceState | 'disabled';
  transport: ServerConfig['transport'];
  scope: ServerScope;
  pid?: number;
  restarts: number;
  toolCount: number;
  uptimeSeconds?: number;
  lastError?: string;
  /** Live instances: 1 for a shared server, one per client session or credential otherwise. */
  instanceCount: number;
  /** Tools whose definition changed since they were pinned (withheld under `pinning: "strict"`). */
  changedTools?: string[];
  /** A scoped server's instances and its `max_instances`. */
  instances?: InstanceHealth[];
  maxInstances?: number;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  sessions: number;
  servers: Record<string, ServerHealth>;
}

/** What the report is read from. */
export interface HealthSource {
  readonly startedAt: number;
  readonly sessions: { readonly size: number };
  readonly catalog: { toolCount(server: string): number };
  listServers(): UpstreamServer[];
  readonly pinning?: { changedOf(server: string): string[] };
}

const secondsSince = (at: number | undefined) => (at === undefined ? undefined : Math.round((Date.now() - at) / 1000));

/**
 * `/health`: overall status (degraded when an enabled server is neither ready nor idle) and, per server, its
 * state, scope, restarts, tool count, uptime and last error, and for scoped servers each instance's owner.
 */
export function buildHealthReport(source: HealthSource): HealthReport {
  const servers: Record<string, ServerHealth> = {};
  let degraded = false;
  for (const server of source.listServers()) {
    const { config } = server;
    const state = config.enabled ? server.state : 'disabled';
    if (config.enabled && state !== 'ready' && state !== 'idle') degraded = true;
    const uptimeSeconds = secondsSince(server.readyAt);
    const live = server.listInstances().filter((instance) => instance.state !== 'stopped');
    const changedTools = source.pinning?.changedOf(config.name) ?? [];
    servers[config.name] = {
      state,
      transport: config.transport,
      scope: server.scope,
      ...(server.pid === undefined ? {} : { pid: server.pid }),
      restarts: server.restarts,
      toolCount: source.catalog.toolCount(config.name),
      ...(uptimeSeconds === undefined ? {} : { uptimeSeconds }),
      ...(server.lastError === undefined ? {} : { lastError: server.lastError }),
      instanceCount: live.length,
      ...(changedTools.length === 0 ? {} : { changedTools }),
      ...(server.scope === 'shared' ? {} : { instances: live.map(instanceHealth), maxInstances: config.maxInstances }),
    };
  }
  return {
    status: degraded ? 'degraded' : 'ok',
    version: GATEWAY_VERSION,
    uptimeSeconds: Math.round((Date.now() - source.startedAt) / 1000),
    sessions: source.sessions.size,
    servers,
  };
}

function instanceHealth(instance: UpstreamInstance): InstanceHealth {
  const uptimeSeconds = secondsSince(instance.readyAt);
  return {
    owner: describeInstanceKey(instance.key),
    state: instance.state,
    ...(instance.pid === undefined ? {} : { pid: instance.pid }),
    restarts: instance.restarts,
    ...(uptimeSeconds === undefined ? {} : { uptimeSeconds }),
    ...(instance.lastError === undefined ? {} : { lastError: instance.lastError }),
  };
}
