import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { UpstreamOAuth, type UpstreamOAuthOptions } from './auth/upstream/upstream-oauth.js';
import { Catalog } from './catalog/catalog.js';
import type { GlobalSection } from './config/diff.js';
import { diffConfigs } from './config/diff.js';
import type { GatewayConfig, ServerConfig, UpstreamIdentity } from './config/model.js';
import { secretValues } from './config/secrets.js';
import { GatewayError } from './errors.js';
import { buildHealthReport, type HealthReport } from './observability/health.js';
import { createSilentLogger, type Logger } from './observability/log.js';
import type { Metrics } from './observability/metrics.js';
import { createSecretMasker } from './observability/redact.js';
import { ServerMetricsRecorder } from './observability/server-metrics.js';
import { ToolPinning } from './pinning/tool-pinning.js';
import type { SessionScope } from './relay/catalog-view.js';
import { ClientSession, type SessionTransportKind } from './relay/client-session.js';
import type { RelayContext, ToolSurface } from './relay/context.js';
import type { CancelSignal } from './relay/lazy-abort.js';
import type { CallOrigin } from './relay/owner.js';
import { DEFAULT_PAGE_SIZE } from './relay/pagination.js';
import { ServerMessages } from './relay/server-messages.js';
import { SessionCatalogs } from './relay/session-catalogs.js';
import { StatelessSession } from './relay/stateless-session.js';
import { SubscriptionRegistry } from './relay/subscriptions.js';
import { TaskRelay } from './relay/tasks.js';
import { UpstreamLogLevels } from './relay/upstream-log-levels.js';
import type { ReloadReport } from './reload/report.js';
import { unsubscribeUpstream, type UpstreamInstance } from './upstream/instance.js';
import { UpstreamServer } from './upstream/upstream-server.js';

export type { HealthReport, InstanceHealth, ServerHealth } from './observability/health.js';

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
  /** Where upstream sign-ins read their key and are audited, and their clock (tests move it). */
  upstreamOAuth?: Pick<UpstreamOAuthOptions, 'env' | 'now' | 'audit'>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 4_000;

/**
 * The gateway: owns the configured servers, the merged catalog and the client sessions, and ties them
 * together. Transports (HTTP, SSE, stdio) only create sessions and hand them a transport. Each call carries
 * its owner to the server instance that serves it (`instanceFor`); what servers send back is delivered to
 * its owner by `ServerMessages`.
 */
export class Gateway implements RelayContext {
  /** Tool pinning: every tool the catalog would list passes its admission check. */
  readonly pinning: ToolPinning;
  readonly catalog = new Catalog((server, tool) => this.pinning.admit(server, tool));
  readonly subscriptions = new SubscriptionRegistry<UpstreamInstance>();
  readonly tasks = new TaskRelay();
  /** Open client sessions by id. */
  readonly sessions = new Map<string, ClientSession>();
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly startedAt = Date.now();
  state: GatewayState = 'idle';
  config: GatewayConfig;
  /** Sign-ins to OAuth-protected servers, the gateway's own and each credential's (src/auth/upstream). */
  readonly upstreamOAuth: UpstreamOAuth;

  private readonly servers = new Map<string, UpstreamServer>();
  private readonly messages: ServerMessages;
  private readonly sessionCatalogs = new SessionCatalogs(
    () => this.listServers(),
    (server, tool) => this.pinning.admit(server, tool),
  );
  private readonly logLevels: UpstreamLogLevels;
  private readonly serverMetrics: ServerMetricsRecorder;
  private readonly mask = createSecretMasker(() => secretValues(this.config));
  private rebuildScheduled = false;
  private closing?: Promise<void>;
  private reportedRenames = new Set<string>();
  private readonly catalogListeners = new Set<() => void>();
  private readonly stateListeners = new Set<(server: UpstreamServer) => void>();
  private startup?: Promise<void>;
  /** Servers removed or replaced by a reload, draining their calls in flight before they stop. */
  private readonly retiring = new Set<UpstreamServer>();

  constructor(private readonly options: GatewayOptions) {
    this.config = options.config;
    this.log = options.logger ?? createSilentLogger();
    this.metrics = options.metrics;
    this.messages = new ServerMessages({
      session: (id) => this.sessions.get(id),
      sessions: () => this.sessions.values(),
      subscriptions: this.subscriptions,
      tasks: this.tasks,
      mask: this.mask,
      log: this.log,
    });
    this.logLevels = new UpstreamLogLevels((server, instance) => this.messages.logAudience(server, instance));
    this.upstreamOAuth = new UpstreamOAuth({
      config: () => this.config,
      log: this.log,
      ...options.upstreamOAuth,
      // A new sign-in: instances that failed for want of it start again, and those made before it are replaced.
      onSignedIn: (name) => {
        this.servers.get(name)?.refreshIdentities();
        this.servers.get(name)?.retry();
      },
    });
    this.serverMetrics = new ServerMetricsRecorder(this.metrics);
    this.pinning = new ToolPinning({
      settings: () => this.config.pinning,
      log: this.log,
      onApproved: () => this.scheduleRebuild(),
      onChangesSeen: () => this.metrics?.setChangedTools(this.pinning.changed()),
    });
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
    await this.pinning.load();
    const enabled = this.config.servers.filter((server) => server.enabled);
    this.log.info(`Starting ${enabled.length} servers: ${enabled.map((server) => server.name).join(', ') || 'none'}`);
    for (const server of this.config.servers) this.servers.set(server.name, this.createServer(server));
    await Promise.all(
      [...this.servers.values()].filter((server) => server.config.enabled).map((server) => server.start()),
    );
    this.rebuildCatalog();
    this.state = 'ready';
  }

  server(name: string): UpstreamServer | undefined {
    return this.servers.get(name);
  }

  /** The configured servers, in config order. */
  listServers(): UpstreamServer[] {
    return [...this.servers.values()];
  }

  /**
   * A new client session; the caller connects it to a transport. `group` is whose it is (`credential:<id>`,
   * `anonymous`, `local`): credential-scoped servers give each group its own instance.
   */
  createSession(kind: SessionTransportKind, scope?: SessionScope, group?: string): ClientSession {
    const session = new ClientSession(this, kind, scope, group ?? (kind === 'stdio' ? 'local' : 'anonymous'));
    this.sessions.set(session.id, session);
    this.metrics?.sessionOpened(kind);
    return session;
  }

  /** The stateless session of a 2026-07-28 client's credential on one endpoint (see StatelessSession). */
  createStatelessSession(scope: SessionScope, group: string): StatelessSession {
    const session = new StatelessSession(this, scope, group);
    this.sessions.set(session.id, session);
    this.metrics?.sessionOpened(session.transportKind);
    return session;
  }

  /** Subscribe to changes of any server's state (health); returns the unsubscribe function. */
  onServerStateChanged(listener: (server: UpstreamServer) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Subscribe to catalog changes; returns the unsubscribe function. */
  onCatalogChanged(listener: () => void): () => void {
    this.catalogListeners.add(listener);
    return () => this.catalogListeners.delete(listener);
  }

  health(): HealthReport {
    return buildHealthReport(this);
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
   * the new instances starting at once and keeping the old ones' tools listed meanwhile. Unchanged servers and
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
    const retired: { server: UpstreamServer; successor?: UpstreamServer }[] = [];
    for (const server of diff.removed) {
      const current = this.servers.get(server.name);
      if (current) retired.push({ server: current });
    }
    const starting: UpstreamServer[] = [];
    const order: UpstreamServer[] = [];
    for (const config of next.servers) {
      const current = this.servers.get(config.name);
      if (current && !restart.has(config.name)) {
        // Unchanged, or changed in fields applied in place: the same instances keep serving.
        if (inPlace.has(config.name)) current.reconfigure(config);
        order.push(current);
        continue;
      }
      const fresh = this.createServer(config);
      if (current) {
        fresh.adopt(current);
        retired.push({ server: current, successor: config.enabled ? fresh : undefined });
      }
      if (config.enabled) starting.push(fresh);
      order.push(fresh);
    }
    // Config order decides name collisions, so the map follows the new file's order.
    this.servers.clear();
    for (const server of order) this.servers.set(server.name, server);
    // A credential's own values may have changed: its instances restart with the new ones on next use.
    if (diff.globalChanged.includes('auth')) for (const server of order) server.refreshIdentities();

    const stopped = Promise.allSettled(retired.map(({ server, successor }) => this.retire(server, successor)));
    const started = Promise.allSettled(starting.map((server) => server.start()));
    this.rebuildCatalog();
    if (diff.globalChanged.includes('pinning')) this.metrics?.setChangedTools(this.pinning.changed());
    for (const section of ['tls', 'audit', 'tracing', 'state'] as const) {
      if (diff.globalChanged.includes(section))
        this.log.warn(`the ${section} settings changed; they apply at the next restart`);
    }
    if (['mode', 'namespaces', 'auth'].some((section) => diff.globalChanged.includes(section as GlobalSection))) {
      // Open sessions follow the new rules at once: narrowed, widened, or ended when nothing is left.
      this.reauthorizeSessions(next);
      // What a session lists depends on these even when the catalog itself did not change.
      for (const listener of this.catalogListeners) listener();
      for (const session of this.sessions.values())
        session.notify({ method: 'notifications/tools/list_changed' } as ServerNotification);
    }
    return report(Promise.all([stopped, started]));
  }

  /** Judges every open session again under `config`; a session that lost all access is ended. */
  private reauthorizeSessions(config: GatewayConfig): void {
    for (const session of [...this.sessions.values()]) {
      const verdict = session.reauthorize?.(config);
      if (!verdict) continue;
      if (verdict.ok) {
        session.scope = verdict.scope;
        continue;
      }
      this.log.info(`Session ${session.id.slice(0, 8)} ended by the reload: ${verdict.message}`);
      void session.close();
    }
  }

  // RelayContext

  instanceFor(serverName: string, origin: CallOrigin): UpstreamInstance {
    const server = this.servers.get(serverName);
    if (!server) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${serverName}" is not configured any more`);
    return server.instanceFor({ owner: origin.owner, capabilities: origin.capabilities });
  }

  signInGate(server: string, origin: CallOrigin, signal: CancelSignal): Promise<void> | undefined {
    return this.upstreamOAuth.gate(server, origin, signal);
  }

  catalogFor(sessionId: string): Catalog {
    return this.sessionCatalogs.catalogFor(sessionId, this.catalog);
  }

  /** A session's tool surface's own instructions (Code Mode's), else the gateway's line and its servers'. */
  instructions(session?: ClientSession): string | undefined {
    const own = session && this.toolSurface(session)?.instructions?.();
    if (own) return own;
    const parts = [
      'mcproxy gateway: the tools, prompts and resources of several MCP servers. Names are "<server>__<name>".',
    ];
    for (const server of this.servers.values()) {
      const visible = session?.canSee(server.name) ?? true;
      if (server.instructions && visible) parts.push(`## ${server.name}\n${server.instructions}`);
    }
    return parts.join('\n\n');
  }

  pageSize(): number {
    return this.config.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  toolSurface(session: ClientSession): ToolSurface | undefined {
    return this.options.toolSurfaceFactory?.(this, session);
  }

  /**
   * Makes known the lists a session is about to read: a lazy shared server starts (its tools cannot be known
   * before it ran once), an unprobed scoped server is probed, and where a scoped server's probe failed but the
   * session's credential brings its own values for it, the session's own instance starts. Each within the
   * server's start timeout.
   */
  async prepareLists(session: ClientSession): Promise<void> {
    await this.whenStarted();
    const waits: Promise<unknown>[] = [];
    for (const server of this.servers.values()) {
      if (!server.config.enabled || server.listsKnown || !session.canSee(server.name)) continue;
      const signal = AbortSignal.timeout(server.config.startTimeoutMs);
      if (server.scope === 'shared') {
        if (server.config.lazy && (server.state === 'idle' || server.state === 'starting')) {
          waits.push(server.ensureListed(signal));
        }
      } else if (server.state === 'idle') {
        waits.push(server.ensureListed(signal));
      } else if (server.state === 'failed' && this.identityOf(server.name, session.owner.group)) {
        const instance = server.instanceFor({ owner: session.owner, capabilities: session.clientCapabilities });
        waits.push(instance.ensureReady(signal));
      }
    }
    if (waits.length === 0) return;
    await Promise.allSettled(waits);
    this.rebuildCatalog();
  }

  onSessionClosed(session: ClientSession): void {
    if (!this.sessions.delete(session.id)) return;
    this.metrics?.sessionClosed(session.transportKind);
    this.sessionCatalogs.remove(session.id);
    for (const { instance, originalUri } of this.subscriptions.removeSession(session.id)) {
      unsubscribeUpstream(instance, originalUri);
    }
    for (const server of this.servers.values()) server.release(session.owner);
    // Only a session that set a level can make an upstream's level less verbose when it leaves; skipping the
    // others keeps closing n sessions linear (each apply walks every session). One left too verbose is harmless:
    // each session is still filtered by its own level.
    if (session.logLevel !== undefined) this.logLevels.apply(this.servers.values());
  }

  onLogLevelChanged(session: ClientSession): void {
    this.logLevels.apply(this.servers.values(), (server) => session.canSee(server.name));
  }

  onRootsChanged(session: ClientSession): void {
    // Only instances of this client's own hear about its roots; a shared server's roots are the config's.
    for (const server of this.servers.values()) {
      if (server.scope === 'shared') continue;
      const instance = server.existingInstance(session.owner);
      if (instance?.clientCapabilities.roots?.listChanged) instance.notify('notifications/roots/list_changed');
    }
  }

  // Internals

  private identityOf(server: string, group: string): UpstreamIdentity | undefined {
    const id = group.startsWith('credential:') ? group.slice('credential:'.length) : undefined;
    const own =
      id === undefined
        ? undefined
        : this.config.auth?.tokens.find((credential) => credential.id === id)?.upstreams[server];
    const config = this.config.servers.find((entry) => entry.name === server);
    return config ? this.upstreamOAuth.identityFor(config, group, own) : own;
  }

  /**
   * Lets a removed or replaced server finish its calls in flight (up to its tool timeout), then stops it.
   * Calls that were still waiting for it (it was restarting) go to its successor.
   */
  private async retire(server: UpstreamServer, successor?: UpstreamServer): Promise<void> {
    this.retiring.add(server);
    try {
      await server.close({ drainMs: server.config.toolTimeoutMs, ...(successor ? { successor } : {}) });
      server.log.info(`Server '${server.name}' stopped (${successor ? 'replaced' : 'removed'})`);
    } finally {
      this.retiring.delete(server);
    }
  }

  private createServer(config: ServerConfig): UpstreamServer {
    return new UpstreamServer(config, {
      log: this.log.child({ server: config.name }),
      identityOf: (group) => this.identityOf(config.name, group),
      events: {
        onStateChange: (server) => this.onServerStateChange(server),
        onListsChanged: () => this.scheduleRebuild(),
        onInstanceListsChanged: (server, instance) => this.afterInstanceLists(server.sessionsOf(instance)),
        onInstanceReady: (server, instance) => this.onInstanceReady(server, instance),
        onInstanceStarted: (server) => this.metrics?.instanceStarted(server.name),
        onInstanceStopped: (server, instance, sessions) => {
          this.metrics?.instanceStopped(server.name);
          this.subscriptions.removeInstance(instance);
          this.tasks.forgetInstance(instance);
          this.afterInstanceLists(sessions);
        },
        onNotification: (server, instance, notification, related) =>
          this.messages.notification(server, instance, notification, related),
        onServerRequest: (server, instance, request, signal, related) =>
          this.messages.request(server, instance, request, signal, related),
      },
    });
  }

  private onServerStateChange(server: UpstreamServer): void {
    if (this.servers.get(server.name) !== server) return;
    this.serverMetrics.server(server);
    for (const listener of this.stateListeners) listener(server);
    this.scheduleRebuild();
  }

  private onInstanceReady(server: UpstreamServer, instance: UpstreamInstance): void {
    this.logLevels.forget(instance);
    this.logLevels.applyTo(server, instance);
    for (const uri of this.subscriptions.urisOf(instance)) instance.notify('resources/subscribe', { uri });
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
    const changed = this.catalog.rebuild(this.listServers());
    for (const rename of this.catalog.renames) {
      if (this.reportedRenames.has(rename)) continue;
      this.reportedRenames.add(rename);
      this.log.warn(rename);
    }
    if (changed.has('tools')) {
      this.serverMetrics.toolCounts([...this.servers.keys()], (server) => this.catalog.toolCount(server));
    }
    if (changed.size > 0) for (const listener of this.catalogListeners) listener();
    this.sessionCatalogs.afterSharedRebuild(this.sessions.values(), changed);
  }

  private afterInstanceLists(sessionIds: Iterable<string>): void {
    this.sessionCatalogs.afterInstanceLists([...sessionIds].map((id) => this.sessions.get(id)));
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping';
    this.log.info('Shutting down');
    await Promise.allSettled([...this.sessions.values()].map((session) => session.close()));
    const servers = [...this.servers.values(), ...this.retiring];
    const closed = Promise.allSettled(servers.map((server) => server.close()));
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
      for (const server of servers) server.kill();
    }
    await this.pinning.close();
    await this.upstreamOAuth.close();
    this.state = 'stopped';
  }
}
