import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type JSONRPCNotification,
  type JSONRPCRequest,
  LATEST_PROTOCOL_VERSION,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

import type { ServerConfig } from '../config/model.js';
import { errorMessage, GatewayError, isGatewayError, UpstreamRpcError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import { backoffDelayMs, isStableRun } from './backoff.js';
import { createUpstreamTransport } from './connect.js';
import { formatMs, JsonRpcPeer, type PeerRequestOptions } from './json-rpc-peer.js';
import { fetchAllPages } from './pagination.js';
import { endProcessGroup, StdioProcessTransport } from './stdio-process.js';
import { anySignal, withTimeout } from './timing.js';

export type UpstreamState = 'idle' | 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped';
export type ListKind = 'tools' | 'prompts' | 'resources';

export interface UpstreamLists {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  templates: ResourceTemplate[];
}

/** Where a call came from: how a request the server makes during that call reaches the right client. */
export interface CallOrigin {
  sendRequest(request: JSONRPCRequest, signal: AbortSignal): Promise<Record<string, unknown>>;
}

export interface UpstreamEvents {
  onStateChange?(upstream: Upstream): void;
  onListsChanged?(upstream: Upstream, kinds: ReadonlySet<ListKind>): void;
  onNotification?(upstream: Upstream, notification: JSONRPCNotification): void;
  /** A server request made while no call of any client is in flight on this server (e.g. roots/list at start). */
  onUnroutedRequest?(
    upstream: Upstream,
    request: JSONRPCRequest,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
}

export interface UpstreamRequestOptions extends PeerRequestOptions {
  origin?: CallOrigin;
}

export interface UpstreamCloseOptions {
  /** Let calls in flight finish for up to this long before the server is stopped (removal, restart on reload). */
  drainMs?: number;
  /** The instance replacing this one (a restart on reload): calls not yet sent to the server go there instead. */
  successor?: Upstream;
}

const EMPTY_LISTS: UpstreamLists = { tools: [], prompts: [], resources: [], templates: [] };
const GATEWAY_INFO = { name: 'mcproxy', version: '0.1.0' };
/** Upper bound of the ping that checks whether a remote server is still there after a transport error. */
const REMOTE_PROBE_TIMEOUT_MS = 5_000;
const DRAIN_POLL_MS = 25;

/**
 * One configured server: its connection, its state machine, its restart policy and its last known lists.
 * States: idle (lazy, or stopped while idle) → starting → ready; a crash → restarting (backoff) → ready,
 * or failed once the attempts are spent; close() → stopping → stopped.
 *
 * Restart policy: a server that dies (or fails to start) is restarted after `backoffDelayMs(attempt)`, at most
 * `restart.maxAttempts` times in a row, so a server that always crashes is spawned 1 + maxAttempts times and
 * then stays `failed`. The count starts over once a run lasted `restart.stableAfterMs`. A remote server whose
 * connection is lost (a transport error, then an unanswered ping) goes through the same path: it reconnects.
 *
 * Calls: a call made while the server is starting, restarting or idle waits for it, within the call's own
 * timeout; a call to a failed or stopped server fails at once (UPSTREAM_UNAVAILABLE); calls in flight when the
 * server dies fail at once (UPSTREAM_EXITED).
 *
 * Lists: the last known lists are kept while the server is idle, starting or restarting, so its tools stay
 * listed and a call to one of them starts (or waits for) the server.
 */
export class Upstream {
  state: UpstreamState = 'stopped';
  lists: UpstreamLists = EMPTY_LISTS;
  capabilities: ServerCapabilities = {};
  serverInfo?: { name: string; version: string };
  instructions?: string;
  protocolVersion?: string;
  restarts = 0;
  lastError?: string;
  readyAt?: number;

  private transport?: Transport;
  private probing = false;
  private everReady = false;
  private closing?: Promise<void>;
  private successor?: Upstream;
  private lastStderr?: string;
  private peer?: JsonRpcPeer;
  private attempts = 0;
  private restartTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private connecting?: Promise<void>;
  private readonly origins = new Map<number, CallOrigin>();
  private nextOriginId = 1;
  private readonly waiters = new Set<() => void>();
  private refreshing = new Map<ListKind, Promise<void>>();
  private refreshQueued = new Set<ListKind>();

  constructor(
    /** Replaced by `reconfigure()` when a reload changes only fields that need no restart. */
    public config: ServerConfig,
    private readonly events: UpstreamEvents,
    readonly log: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get pid(): number | undefined {
    return this.transport instanceof StdioProcessTransport ? this.transport.pid : undefined;
  }

  get inFlight(): number {
    return this.peer?.inFlight ?? 0;
  }

  /** Whether the lists are known: false for a lazy server that has never run, whose tools nobody knows yet. */
  get listsKnown(): boolean {
    return this.everReady;
  }

  /**
   * Takes a new config that differs only in fields applied without a restart (filters, prefix, timeouts,
   * restart policy, idle timeout); see `RESTART_FIELDS` in config/diff.ts for the others.
   */
  reconfigure(config: ServerConfig): void {
    this.config = config;
    this.clearIdleTimer();
    this.armIdleTimer();
  }

  /**
   * Takes over the last known lists of the instance this one replaces (a restart on reload), so that the
   * server's tools stay listed while it restarts instead of vanishing and coming back.
   */
  adoptLists(previous: Upstream): void {
    this.lists = previous.lists;
    this.everReady = previous.everReady;
  }

  /** Starts the server (or leaves a lazy one idle). Resolves when ready or when the first attempt failed. */
  async start(): Promise<void> {
    if (this.config.lazy) {
      this.setState('idle');
      return;
    }
    await this.connectOnce().catch(() => {});
  }

  /** Waits until the server is ready, starting an idle one. Rejects at once when it has failed or stopped. */
  async ensureReady(signal?: AbortSignal): Promise<void> {
    if (this.state === 'ready') return;
    if (this.state === 'idle') void this.connectOnce().catch(() => {});
    while ((this.state as UpstreamState) !== 'ready') {
      if (this.state === 'failed' || this.state === 'stopped' || this.state === 'stopping') {
        const reason = this.lastError ? `: ${this.lastError}` : '';
        throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" is ${this.state}${reason}`);
      }
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /**
   * Sends one request. A call made while the server starts or restarts waits for it, within the call's own
   * timeout; a call to a failed server fails at once. Calls in flight when the server dies fail at once.
   * Once a reload has replaced this instance, calls not yet sent go to its successor.
   */
  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: UpstreamRequestOptions = {},
  ): Promise<Record<string, unknown>> {
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const handOver = (successor: Upstream) => {
      const timeoutMs = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      return successor.request(method, params, { ...options, timeoutMs });
    };
    const waited = this.state !== 'ready';
    if (waited) {
      if (this.successor) return handOver(this.successor);
      const waitSignal = deadline === undefined ? options.signal : anySignal(options.signal, deadline - Date.now());
      try {
        await this.ensureReady(waitSignal);
      } catch (error) {
        if (options.signal?.aborted) throw new GatewayError('REQUEST_CANCELLED', 'the request was cancelled');
        if (this.successor) return handOver(this.successor);
        if (waitSignal?.aborted) {
          throw new GatewayError(
            'UPSTREAM_TIMEOUT',
            `server "${this.name}" was not ready within ${formatMs(options.timeoutMs ?? 0)}`,
          );
        }
        throw error;
      }
    }
    const peer = this.peer;
    if (!peer) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" is not connected`);
    this.clearIdleTimer();
    const originId = this.nextOriginId++;
    if (options.origin) this.origins.set(originId, options.origin);
    try {
      // The whole timeout when the server was ready at once, so the timeout error names the configured value.
      const remaining = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      const timeoutMs = waited ? remaining : options.timeoutMs;
      return await peer.request(method, params, { ...options, timeoutMs });
    } catch (error) {
      // A remote server that cannot be reached any more: find out now rather than on every later call.
      if (isGatewayError(error, 'UPSTREAM_UNAVAILABLE') && this.transport && this.config.transport !== 'stdio') {
        this.probeConnection(this.transport, peer);
      }
      throw error;
    } finally {
      this.origins.delete(originId);
      this.armIdleTimer();
    }
  }

  notify(method: string, params?: Record<string, unknown>): void {
    if (this.state === 'ready') this.peer?.notify(method, params).catch(() => {});
  }

  /**
   * Stops the server for good (removal, restart on reload, shutdown). With `drainMs`, calls already in flight
   * may finish for up to that long first; new calls fail at once. Idempotent: later calls share the first.
   */
  close(options: UpstreamCloseOptions = {}): Promise<void> {
    if (!this.closing) this.successor = options.successor;
    this.closing ??= this.stop(options.drainMs ?? 0);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Ends the server's processes at once (the last step of a shutdown that ran out of time). */
  /** Tries a failed server again with a fresh count of attempts (the manifest's `restart_failed` hook). */
  retry(): void {
    if (this.state !== 'failed') return;
    this.attempts = 0;
    this.restarts++;
    this.log.info(`Server '${this.name}': trying again after it failed`);
    this.connectOnce().catch(() => {});
  }

  kill(): void {
    if (this.transport instanceof StdioProcessTransport) this.transport.kill();
  }

  private async stop(drainMs: number): Promise<void> {
    this.clearIdleTimer();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.state === 'stopped') return;
    this.setState('stopping');
    const deadline = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadline - Date.now())).unref());
    }
    if (this.inFlight > 0)
      this.log.warn(`Server '${this.name}': ${this.inFlight} calls still in flight; stopping anyway`);
    await this.disconnect(new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" was stopped`));
    this.setState('stopped');
  }

  private connectOnce(): Promise<void> {
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.state !== 'restarting') this.setState('starting');
    const log = this.log;
    const transport = createUpstreamTransport(this.config, log, (line) => {
      this.lastStderr = line;
    });
    const peer = new JsonRpcPeer(transport, {
      onRequest: (request, signal) => this.onServerRequest(request, signal),
      onNotification: (notification) => this.onNotification(notification),
    });
    this.transport = transport;
    this.peer = peer;
    let group: number | undefined;
    transport.onclose = () => {
      // The leader is gone (crash, SIGKILL): whatever it spawned into its process group must not outlive it.
      if (group !== undefined) endProcessGroup(group);
      this.onTransportClosed(transport);
    };
    transport.onerror = (error) => {
      log.debug(`transport error: ${error.message}`);
      if (!(transport instanceof StdioProcessTransport)) this.probeConnection(transport, peer);
    };
    const startedAt = Date.now();
    const timeoutMs = this.config.startTimeoutMs;
    const remaining = () => Math.max(1, timeoutMs - (Date.now() - startedAt));
    try {
      await withTimeout(transport.start(), timeoutMs, () => this.startTimeoutError());
      if (transport instanceof StdioProcessTransport) group = transport.pid;
      const init = await peer.request(
        'initialize',
        {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } },
          clientInfo: GATEWAY_INFO,
        },
        { timeoutMs: remaining(), describe: `initialisation of server "${this.name}"` },
      );
      const version = String(init.protocolVersion);
      if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        throw new GatewayError('UPSTREAM_SPAWN_FAILED', `server "${this.name}" speaks unsupported protocol ${version}`);
      }
      (transport as { setProtocolVersion?: (v: string) => void }).setProtocolVersion?.(version);
      await peer.notify('notifications/initialized');
      this.protocolVersion = version;
      this.capabilities = (init.capabilities ?? {}) as ServerCapabilities;
      this.serverInfo = init.serverInfo as { name: string; version: string } | undefined;
      this.instructions = typeof init.instructions === 'string' ? init.instructions : undefined;
      this.lists = await this.fetchLists(peer, remaining());
    } catch (error) {
      const failure = this.describeStartFailure(transport, error);
      if (this.transport === transport) {
        await this.disconnect(failure);
        if (this.state === 'starting' || this.state === 'restarting') this.onFailure(failure);
      }
      throw failure;
    }
    if (this.transport !== transport) return; // Closed while starting.
    this.everReady = true;
    this.readyAt = Date.now();
    this.lastError = undefined;
    this.setState('ready');
    log.info(
      `Server '${this.name}' started (${this.lists.tools.length} tools, ${this.lists.prompts.length} prompts, ` +
        `${this.lists.resources.length} resources)${this.pid ? `, pid ${this.pid}` : ''}`,
    );
    this.events.onListsChanged?.(this, new Set<ListKind>(['tools', 'prompts', 'resources']));
    this.armIdleTimer();
  }

  private async fetchLists(peer: JsonRpcPeer, timeoutMs: number): Promise<UpstreamLists> {
    const has = this.capabilities;
    const list = <T>(method: string, key: string, enabled: unknown) =>
      enabled ? fetchAllPages<T>(peer, method, key, timeoutMs) : Promise.resolve([] as T[]);
    const [tools, prompts, resources, templates] = await Promise.all([
      list<Tool>('tools/list', 'tools', has.tools),
      list<Prompt>('prompts/list', 'prompts', has.prompts),
      list<Resource>('resources/list', 'resources', has.resources),
      list<ResourceTemplate>('resources/templates/list', 'resourceTemplates', has.resources),
    ]);
    return { tools, prompts, resources, templates };
  }

  private onNotification(notification: JSONRPCNotification): void {
    const kind = LIST_CHANGED[notification.method];
    if (kind) {
      this.refresh(kind);
      return;
    }
    this.events.onNotification?.(this, notification);
  }

  /** Re-lists one kind; changes that arrive while a re-list runs are coalesced into one more. */
  private refresh(kind: ListKind): void {
    if (this.refreshing.has(kind)) {
      this.refreshQueued.add(kind);
      return;
    }
    const peer = this.peer;
    if (!peer || this.state !== 'ready') return;
    const run = (async () => {
      const timeoutMs = this.config.startTimeoutMs;
      if (kind === 'tools') {
        this.lists = { ...this.lists, tools: await fetchAllPages<Tool>(peer, 'tools/list', 'tools', timeoutMs) };
      } else if (kind === 'prompts') {
        this.lists = { ...this.lists, prompts: await fetchAllPages(peer, 'prompts/list', 'prompts', timeoutMs) };
      } else {
        const [resources, templates] = await Promise.all([
          fetchAllPages<Resource>(peer, 'resources/list', 'resources', timeoutMs),
          fetchAllPages<ResourceTemplate>(peer, 'resources/templates/list', 'resourceTemplates', timeoutMs),
        ]);
        this.lists = { ...this.lists, resources, templates };
      }
      this.log.info(`Server '${this.name}' changed its ${kind}; re-listed`);
      this.events.onListsChanged?.(this, new Set([kind]));
    })()
      .catch((error: unknown) => this.log.warn(`re-listing ${kind} failed: ${errorMessage(error)}`))
      .finally(() => {
        this.refreshing.delete(kind);
        if (this.refreshQueued.delete(kind)) this.refresh(kind);
      });
    this.refreshing.set(kind, run);
  }

  private async onServerRequest(request: JSONRPCRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
    // The protocol does not link a server's request to the call that caused it: route it to the client
    // whose call on this server began most recently.
    const origins = [...this.origins.values()];
    const origin = origins[origins.length - 1];
    if (origin) return origin.sendRequest(request, signal);
    if (this.events.onUnroutedRequest) return this.events.onUnroutedRequest(this, request, signal);
    throw Object.assign(new Error(`no client call is in flight to route ${request.method} to`), { code: -32601 });
  }

  private onTransportClosed(transport: Transport): void {
    if (transport !== this.transport) return;
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'idle') return;
    const exit = transport instanceof StdioProcessTransport ? transport.exit : undefined;
    const how = exit ? (exit.signal ? ` (killed by ${exit.signal})` : ` (exit code ${exit.code})`) : '';
    const error = new GatewayError('UPSTREAM_EXITED', `server "${this.name}" exited${how}`);
    if (this.state !== 'ready') {
      // Still starting: fail the handshake now; connect() reports it and schedules the retry.
      this.peer?.close(error);
      return;
    }
    this.connectionLost(error, `Server '${this.name}' exited${how}`);
  }

  /**
   * A remote transport reported an error (a dropped stream, a failed POST): ping the server, and treat it as
   * gone when the ping fails, so it reconnects with backoff instead of failing every call until a restart.
   */
  private probeConnection(transport: Transport, peer: JsonRpcPeer): void {
    if (this.probing || this.transport !== transport || this.state !== 'ready') return;
    this.probing = true;
    const timeoutMs = Math.min(REMOTE_PROBE_TIMEOUT_MS, this.config.startTimeoutMs);
    peer
      .request('ping', undefined, { timeoutMs, describe: `ping of server "${this.name}"` })
      .then(
        () => undefined,
        (error: unknown) => {
          // An error answer (say, ping not implemented) still proves that the server is there.
          if (error instanceof UpstreamRpcError) return;
          if (this.transport !== transport || this.state !== 'ready') return;
          const lost = new GatewayError(
            'UPSTREAM_EXITED',
            `lost the connection to server "${this.name}": ${errorMessage(error)}`,
          );
          this.connectionLost(lost, `Server '${this.name}': ${lost.message}`);
          transport.close().catch(() => {});
        },
      )
      .finally(() => {
        this.probing = false;
      });
  }

  /** The server of a ready connection is gone: fail its calls in flight at once, then restart with backoff. */
  private connectionLost(error: GatewayError, message: string): void {
    this.transport = undefined;
    this.peer?.close(error);
    this.peer = undefined;
    this.clearIdleTimer();
    this.log.warn(message);
    this.onFailure(error);
  }

  /** Schedules a restart with backoff, or marks the server failed when the attempts are spent. */
  private onFailure(error: Error): void {
    this.lastError = error.message;
    if (this.readyAt !== undefined && isStableRun(Date.now() - this.readyAt, this.config.restart)) this.attempts = 0;
    this.readyAt = undefined;
    this.attempts++;
    if (this.attempts > this.config.restart.maxAttempts) {
      this.log.error(`Server '${this.name}' failed: ${error.message}; giving up after ${this.restarts} restarts`);
      this.setState('failed');
      return;
    }
    const delay = backoffDelayMs(this.attempts, this.config.restart);
    this.log.warn(`Server '${this.name}': ${error.message}; restart ${this.attempts} in ${formatMs(delay)}`);
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'restarting') return;
      this.restarts++;
      this.connectOnce().catch(() => {});
    }, delay);
    this.restartTimer.unref();
  }

  private async disconnect(error: Error): Promise<void> {
    const transport = this.transport;
    this.transport = undefined;
    this.peer?.close(error);
    this.peer = undefined;
    if (transport) await transport.close().catch(() => {});
  }

  private armIdleTimer(): void {
    const idleMs = this.config.idleTimeoutMs;
    if (idleMs === undefined || this.inFlight > 0 || this.state !== 'ready') return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inFlight > 0 || this.state !== 'ready') return;
      this.log.info(`Server '${this.name}' stopped after ${formatMs(idleMs)} idle`);
      this.setState('idle');
      void this.disconnect(new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" went idle`));
    }, idleMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private setState(state: UpstreamState): void {
    if (this.state === state) return;
    this.state = state;
    for (const wake of [...this.waiters]) wake();
    this.events.onStateChange?.(this);
  }

  private startTimeoutError(): GatewayError {
    return new GatewayError(
      'UPSTREAM_START_TIMEOUT',
      `server "${this.name}" did not start within ${formatMs(this.config.startTimeoutMs)}`,
    );
  }

  private describeStartFailure(transport: Transport, error: unknown): GatewayError {
    if (isGatewayError(error, 'UPSTREAM_TIMEOUT')) return this.startTimeoutError();
    const exit = transport instanceof StdioProcessTransport ? transport.exit : undefined;
    if (exit) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const words = transport instanceof StdioProcessTransport ? transport.lastWords() : this.lastStderr;
      const said = words ? ` (its last words: ${words})` : '';
      return new GatewayError('UPSTREAM_SPAWN_FAILED', `server "${this.name}" ${how} during start-up${said}`);
    }
    if (isGatewayError(error)) return error;
    return new GatewayError('UPSTREAM_SPAWN_FAILED', `server "${this.name}" failed to start: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

const LIST_CHANGED: Record<string, ListKind | undefined> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/prompts/list_changed': 'prompts',
  'notifications/resources/list_changed': 'resources',
};
