import type {
  JSONRPCNotification,
  JSONRPCRequest,
  LoggingLevel,
  ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';

import { Catalog } from './catalog/catalog.js';
import type { GlobalSection } from './config/diff.js';
import { diffConfigs } from './config/diff.js';
import type { GatewayConfig, ServerConfig } from './config/model.js';
import { errorMessage, GatewayError } from './errors.js';
import { createSilentLogger, type Logger } from './observability/log.js';
import type { Metrics } from './observability/metrics.js';
import type { SessionScope } from './relay/catalog-view.js';
import { ClientSession, GATEWAY_VERSION, type SessionTransportKind } from './relay/client-session.js';
import type { RelayContext, ToolSurface } from './relay/context.js';
import { SubscriptionRegistry } from './relay/subscriptions.js';
import type { ReloadReport } from './reload/report.js';
import { type ListKind, Upstream, type UpstreamState } from './upstream/upstream.js';

export type GatewayState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped';

export interface GatewayOptions {
  config: GatewayConfig;
  logger?: Logger;
  /** Upper bound of a graceful shutdown before remaining server processes are killed. */
  shutdownTimeoutMs?: number;
  /** Prometheus metrics to keep up to date. */
  metrics?: Metrics;
  /** Builds the tool surface of a session in code or meta mode (wired by the Code Mode feature). */
  toolSurfaceFactory?: (gateway: Gateway, session: ClientSession) => ToolSurface | undefined;
}

export interface ServerHealth {
  state: UpstreamState | 'disabled';
  transport: ServerConfig['transport'];
  pid?: number;
  restarts: number;
  toolCount: number;
  uptimeSeconds?: number;
  lastError?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  sessions: number;
  servers: Record<string, ServerHealth>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 4_000;
const LIST_CHANGED_METHOD: Record<ListKind, ServerNotification['method']> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};
const LOG_LEVELS: LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/**
 * The gateway: owns the configured servers, the merged catalog and the client sessions, and ties them
 * together. Transports (HTTP, SSE, stdio) only create sessions and hand them a transport.
 */
export class Gateway implements RelayContext {
  readonly catalog = new Catalog();
  readonly subscriptions = new SubscriptionRegistry();
  readonly sessions = new Set<ClientSession>();
  readonly log: Logger;
  readonly metrics?: Metrics;
  state: GatewayState = 'idle';
  config: GatewayConfig;

  private readonly upstreams = new Map<string, Upstream>();
  private readonly startedAt = Date.now();
  private rebuildScheduled = false;
  private upstreamLogLevel?: LoggingLevel;
  private closing?: Promise<void>;
  private reportedRenames = new Set<string>();
  private readonly catalogListeners = new Set<() => void>();
  private readonly stateListeners = new Set<(upstream: Upstream) => void>();
  private startup?: Promise<void>;
  /** Servers removed or replaced by a reload, draining their calls in flight before they stop. */
  private readonly retiring = new Set<Upstream>();

  constructor(private readonly options: GatewayOptions) {
    this.config = options.config;
    this.log = options.logger ?? createSilentLogger();
    this.metrics = options.metrics;
  }

  /** Starts every enabled server in parallel and resolves when each has either started or failed its first try. */
  start(): Promise<void> {
    this.startup ??= this.startServers();
    return this.startup;
  }

  /**
   * Resolves once start-up is over. Lists asked for during start-up wait for it, so that a client that lists
   * once after connecting (many do) sees every server that could start, not just the fastest.
   */
  whenStarted(): Promise<void> {
    return this.startup ?? Promise.resolve();
  }

  private async startServers(): Promise<void> {
    this.state = 'starting';
    const enabled = this.config.servers.filter((server) => server.enabled);
    this.log.info(`Starting ${enabled.length} servers: ${enabled.map((server) => server.name).join(', ') || 'none'}`);
    for (const server of this.config.servers) this.upstreams.set(server.name, this.createUpstream(server));
    await Promise.all(
      [...this.upstreams.values()].filter((upstream) => upstream.config.enabled).map((upstream) => upstream.start()),
    );
    this.rebuildCatalog();
    this.state = 'ready';
  }

  upstream(name: string): Upstream | undefined {
    return this.upstreams.get(name);
  }

  listUpstreams(): Upstream[] {
    return [...this.upstreams.values()];
  }

  /** A new client session; the caller connects it to a transport. */
  createSession(kind: SessionTransportKind, scope?: SessionScope): ClientSession {
    const session = new ClientSession(this, kind, scope);
    this.sessions.add(session);
    this.metrics?.sessionOpened(kind);
    return session;
  }

  /** Subscribe to changes of any server's state (health); returns the unsubscribe function. */
  onServerStateChanged(listener: (upstream: Upstream) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Subscribe to catalog changes; returns the unsubscribe function. */
  onCatalogChanged(listener: () => void): () => void {
    this.catalogListeners.add(listener);
    return () => this.catalogListeners.delete(listener);
  }

  health(): HealthReport {
    const servers: Record<string, ServerHealth> = {};
    let degraded = false;
    for (const upstream of this.upstreams.values()) {
      const { config } = upstream;
      const state = config.enabled ? upstream.state : 'disabled';
      if (config.enabled && state !== 'ready' && state !== 'idle') degraded = true;
      servers[config.name] = {
        state,
        transport: config.transport,
        ...(upstream.pid === undefined ? {} : { pid: upstream.pid }),
        restarts: upstream.restarts,
        toolCount: this.catalog.toolCount(config.name),
        ...(upstream.readyAt === undefined
          ? {}
          : { uptimeSeconds: Math.round((Date.now() - upstream.readyAt) / 1000) }),
        ...(upstream.lastError === undefined ? {} : { lastError: upstream.lastError }),
      };
    }
    return {
      status: degraded ? 'degraded' : 'ok',
      version: GATEWAY_VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      sessions: this.sessions.size,
      servers,
    };
  }

  /** Ends sessions, then servers (bounded; stragglers are killed). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Applies a reloaded config. Added servers start (in parallel); removed ones leave the catalog at once and
   * stop once their calls in flight finish (up to their tool timeout); changed ones are replaced the same way,
   * the new process starting at once and keeping the old one's tools listed meanwhile. Unchanged servers and
   * every session are left alone. The catalog is rebuilt once, so clients get `list_changed` when what they
   * see changed. Resolves once the catalog is swapped; `report.settled` when the servers have settled.
   *
   * @example const report = await gateway.applyConfig(await loadConfig(configPath));
   */
  async applyConfig(next: GatewayConfig): Promise<ReloadReport> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new GatewayError('SHUTTING_DOWN', 'the gateway is shutting down; the config was not applied');
    }
    const diff = diffConfigs(this.config, next);
    const report = (settled: Promise<unknown>): ReloadReport => ({
      added: diff.added.map((server) => server.name),
      removed: diff.removed.map((server) => server.name),
      restarted: diff.changed.map((server) => server.name),
      reconfigured: diff.reconfigured.map((server) => server.name),
      globalChanged: diff.globalChanged,
      settled: settled.then(() => undefined),
    });
    this.config = next;
    if (this.state === 'idle') return report(Promise.resolve()); // start() will read the new config.

    const restart = new Set(diff.changed.map((server) => server.name));
    const inPlace = new Set(diff.reconfigured.map((server) => server.name));
    const retired: { upstream: Upstream; successor?: Upstream }[] = [];
    for (const server of diff.removed) {
      const upstream = this.upstreams.get(server.name);
      if (upstream) retired.push({ upstream });
    }
    const starting: Upstream[] = [];
    const order: Upstream[] = [];
    for (const server of next.servers) {
      const current = this.upstreams.get(server.name);
      if (current && !restart.has(server.name)) {
        // Unchanged, or changed in fields applied in place: the same process keeps serving.
        if (inPlace.has(server.name)) current.reconfigure(server);
        order.push(current);
        continue;
      }
      const fresh = this.createUpstream(server);
      if (current) {
        fresh.adoptLists(current);
        retired.push({ upstream: current, successor: server.enabled ? fresh : undefined });
      }
      if (server.enabled) starting.push(fresh);
      order.push(fresh);
    }
    // Config order decides name collisions, so the map follows the new file's order.
    this.upstreams.clear();
    for (const upstream of order) this.upstreams.set(upstream.name, upstream);

    const stopped = Promise.allSettled(retired.map(({ upstream, successor }) => this.retire(upstream, successor)));
    const started = Promise.allSettled(starting.map((upstream) => upstream.start()));
    this.rebuildCatalog();
    for (const section of ['tls', 'audit'] as const) {
      if (diff.globalChanged.includes(section))
        this.log.warn(`the ${section} settings changed; they apply at the next restart`);
    }
    if (['mode', 'namespaces', 'auth'].some((section) => diff.globalChanged.includes(section as GlobalSection))) {
      // What a session lists depends on these even when the catalog itself did not change.
      for (const listener of this.catalogListeners) listener();
      for (const session of this.sessions) session.notify({ method: LIST_CHANGED_METHOD.tools } as ServerNotification);
    }
    return report(Promise.all([stopped, started]));
  }

  /**
   * Starts the enabled lazy servers whose tools are not known yet and waits for them, each within its start
   * timeout. A lazy server's tools cannot be known before it has run once, so in direct mode its first use is
   * the first listing by any client; after that its lists are kept while it is idle, and a call starts it.
   *
   * @example await gateway.startLazyServers(); // before answering tools/list
   */
  async startLazyServers(): Promise<void> {
    const unknown = [...this.upstreams.values()].filter(
      (upstream) =>
        upstream.config.enabled &&
        upstream.config.lazy &&
        !upstream.listsKnown &&
        (upstream.state === 'idle' || upstream.state === 'starting'),
    );
    if (unknown.length === 0) return;
    await Promise.allSettled(
      unknown.map((upstream) => upstream.ensureReady(AbortSignal.timeout(upstream.config.startTimeoutMs))),
    );
    this.rebuildCatalog();
  }

  // RelayContext

  instructions(session?: ClientSession): string | undefined {
    const own = session && this.toolSurface(session)?.instructions?.();
    if (own) return own;
    const parts = [
      'mcproxy gateway: the tools, prompts and resources of several MCP servers. Names are "<server>__<name>".',
    ];
    for (const upstream of this.upstreams.values()) {
      if (upstream.instructions) parts.push(`## ${upstream.name}\n${upstream.instructions}`);
    }
    return parts.join('\n\n');
  }

  toolSurface(session: ClientSession): ToolSurface | undefined {
    return this.options.toolSurfaceFactory?.(this, session);
  }

  onSessionClosed(session: ClientSession): void {
    if (this.sessions.delete(session)) this.metrics?.sessionClosed(session.transportKind);
    for (const { server, originalUri } of this.subscriptions.removeSession(session.id)) {
      this.upstreams.get(server)?.notify('resources/unsubscribe', { uri: originalUri });
    }
    this.onLogLevelChanged();
  }

  onLogLevelChanged(): void {
    const levels = [...this.sessions].map((session) => session.logLevel).filter((level) => level !== undefined);
    const mostVerbose = levels.sort((a, b) => LOG_LEVELS.indexOf(a) - LOG_LEVELS.indexOf(b))[0];
    if (mostVerbose === this.upstreamLogLevel || mostVerbose === undefined) return;
    this.upstreamLogLevel = mostVerbose;
    for (const upstream of this.upstreams.values()) this.applyLogLevel(upstream);
  }

  // Internals

  private readonly restartsSeen = new WeakMap<Upstream, number>();

  private readonly serversInMetrics = new Set<string>();

  private recordToolCounts(): void {
    const metrics = this.metrics;
    if (!metrics) return;
    for (const server of this.upstreams.keys()) metrics.setServerTools(server, this.catalog.toolCount(server));
    for (const server of this.serversInMetrics) if (!this.upstreams.has(server)) metrics.removeServer(server);
    this.serversInMetrics.clear();
    for (const server of this.upstreams.keys()) this.serversInMetrics.add(server);
  }

  private recordServerMetrics(upstream: Upstream): void {
    const metrics = this.metrics;
    if (!metrics) return;
    metrics.setServerState(upstream.name, upstream.state);
    const seen = this.restartsSeen.get(upstream) ?? 0;
    for (let i = seen; i < upstream.restarts; i++) metrics.serverRestarted(upstream.name);
    this.restartsSeen.set(upstream, upstream.restarts);
  }

  /**
   * Lets a removed or replaced server finish its calls in flight (up to its tool timeout), then stops it.
   * Calls that were still waiting for it (it was restarting) go to its successor.
   */
  private async retire(upstream: Upstream, successor?: Upstream): Promise<void> {
    this.retiring.add(upstream);
    try {
      await upstream.close({ drainMs: upstream.config.toolTimeoutMs, successor });
      upstream.log.info(`Server '${upstream.name}' stopped (${successor ? 'replaced' : 'removed'})`);
    } finally {
      this.retiring.delete(upstream);
    }
  }

  private createUpstream(config: ServerConfig): Upstream {
    return new Upstream(
      config,
      {
        onStateChange: (upstream) => this.onUpstreamStateChange(upstream),
        onListsChanged: () => this.scheduleRebuild(),
        onNotification: (upstream, notification) => this.onUpstreamNotification(upstream, notification),
        onUnroutedRequest: (upstream, request) => this.onUnroutedRequest(upstream, request),
      },
      this.log.child({ server: config.name }),
    );
  }

  private onUpstreamStateChange(upstream: Upstream): void {
    this.recordServerMetrics(upstream);
    for (const listener of this.stateListeners) listener(upstream);
    if (upstream.state === 'ready') {
      this.applyLogLevel(upstream);
      for (const uri of this.subscriptions.urisOf(upstream.name)) upstream.notify('resources/subscribe', { uri });
    }
    this.scheduleRebuild();
  }

  private applyLogLevel(upstream: Upstream): void {
    if (!this.upstreamLogLevel || upstream.state !== 'ready' || !upstream.capabilities.logging) return;
    upstream
      .request('logging/setLevel', { level: this.upstreamLogLevel }, { timeoutMs: upstream.config.toolTimeoutMs })
      .catch((error: unknown) => upstream.log.debug(`logging/setLevel failed: ${errorMessage(error)}`));
  }

  /** Several servers change at once at start-up and on reload: rebuild once per tick. */
  private scheduleRebuild(): void {
    if (this.rebuildScheduled || this.state === 'idle') return;
    this.rebuildScheduled = true;
    setImmediate(() => {
      this.rebuildScheduled = false;
      this.rebuildCatalog();
    });
  }

  private rebuildCatalog(): void {
    const changed = this.catalog.rebuild([...this.upstreams.values()]);
    for (const rename of this.catalog.renames) {
      if (this.reportedRenames.has(rename)) continue;
      this.reportedRenames.add(rename);
      this.log.warn(rename);
    }
    if (changed.size === 0) return;
    if (changed.has('tools')) this.recordToolCounts();
    for (const listener of this.catalogListeners) listener();
    for (const kind of changed) {
      for (const session of this.sessions) session.notify({ method: LIST_CHANGED_METHOD[kind] } as ServerNotification);
    }
  }

  private onUpstreamNotification(upstream: Upstream, notification: JSONRPCNotification): void {
    const params = (notification.params ?? {}) as Record<string, unknown>;
    if (notification.method === 'notifications/message') {
      const level = params.level as LoggingLevel;
      const logger = typeof params.logger === 'string' ? `${upstream.name}/${params.logger}` : upstream.name;
      for (const session of this.sessions) {
        if (session.wantsLog(level)) {
          session.notify({
            method: 'notifications/message',
            params: { ...params, level, logger },
          } as ServerNotification);
        }
      }
      return;
    }
    if (notification.method === 'notifications/resources/updated' && typeof params.uri === 'string') {
      const subscribers = this.subscriptions.subscribers(upstream.name, params.uri);
      for (const session of this.sessions) {
        const publicUri = subscribers.get(session.id);
        if (publicUri === undefined) continue;
        session.notify({ method: 'notifications/resources/updated', params: { ...params, uri: publicUri } });
      }
      return;
    }
    upstream.log.debug(`notification ${notification.method} not relayed`);
  }

  /**
   * A server request with no call in flight. Servers are shared by every client, so no single client's
   * roots may reconfigure one: roots/list gets an empty list, which servers treat as "keep your settings".
   */
  private async onUnroutedRequest(upstream: Upstream, request: JSONRPCRequest): Promise<Record<string, unknown>> {
    if (request.method === 'roots/list') return { roots: [] };
    upstream.log.warn(`${request.method} arrived while no client call was in flight; refused`);
    throw Object.assign(new Error(`${request.method} is only relayed during a client's call`), { code: -32601 });
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    this.log.info('Shutting down');
    await Promise.allSettled([...this.sessions].map((session) => session.close()));
    const upstreams = [...this.upstreams.values(), ...this.retiring];
    const closed = Promise.allSettled(upstreams.map((upstream) => upstream.close()));
    const timeoutMs = this.options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), timeoutMs);
      timer.unref();
      void closed.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (timedOut) {
      this.log.warn(`servers did not stop within ${timeoutMs} ms; killing them`);
      for (const upstream of upstreams) upstream.kill();
    }
    this.state = 'stopped';
  }
}
