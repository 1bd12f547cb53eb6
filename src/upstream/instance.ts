import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  ClientCapabilities,
  JSONRPCNotification,
  JSONRPCRequest,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';

import type { ServerConfig, UpstreamIdentity } from '../config/model.js';
import { deadlineSignal } from '../deadline.js';
import { errorMessage, GatewayError, isGatewayError, UpstreamRpcError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import { META, mirroredHeaders, MODERN_VERSION, withoutEnvelope } from '../protocol/modern.js';
import { toAbortSignal } from '../relay/lazy-abort.js';
import type { CallOrigin } from '../relay/owner.js';
import { requestTracer } from '../tracing/tracing.js';
import { backoffDelayMs, isStableRun } from './backoff.js';
import { ownCapabilities } from './client-capabilities.js';
import { createUpstreamTransport, terminateUpstreamSession } from './connect.js';
import { knownLegacyOnly, recordEraVerdict } from './era-verdicts.js';
import { connectUpstream, discoverModern, type UpstreamEra } from './handshake.js';
import { HttpUpstreamTransport } from './http-transport.js';
import {
  EMPTY_LISTS,
  fetchLists,
  LIST_CHANGED,
  type ListKind,
  refetchKind,
  type UpstreamLists,
} from './instance-lists.js';
import { formatMs, JsonRpcPeer, type PeerRequestOptions } from './json-rpc-peer.js';
import { ModernListen } from './modern-listen.js';
import { describeStartFailure, startTimeoutError } from './start-failure.js';
import { endProcessGroup, StdioProcessTransport } from './stdio-process.js';
import { StartGuard } from './timing.js';

export type { ListKind, UpstreamLists } from './instance-lists.js';
export type InstanceState = 'idle' | 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped';

export interface InstanceEvents {
  onStateChange?(instance: UpstreamInstance): void;
  onListsChanged?(instance: UpstreamInstance, kinds: ReadonlySet<ListKind>): void;
  /** A notification other than progress, cancellation and list changes; `related` is the call it came with. */
  onNotification?(instance: UpstreamInstance, notification: JSONRPCNotification, related?: CallOrigin): void;
  /** A request of the server to the client (sampling, elicitation, roots); `related` as above. */
  onServerRequest?(
    instance: UpstreamInstance,
    request: JSONRPCRequest,
    signal: AbortSignal,
    related?: CallOrigin,
  ): Promise<Record<string, unknown>>;
  /** An instance made with `closeWhenIdle` was idle for the server's `idle_timeout`: its owner closes it. */
  onIdle?(instance: UpstreamInstance): void;
}

export interface InstanceOptions {
  /** Which instance of its server this is: `shared`, `session:<id>`, a credential group, or `probe`. */
  key: string;
  /** How logs name the instance's owner (never a session id); absent for the shared instance. */
  label?: string;
  /** The client capabilities this instance declares in `initialize`: what its client(s) can take. */
  clientCapabilities: ClientCapabilities;
  /** A credential's own env and headers, laid over the server's. */
  identity?: UpstreamIdentity;
  /** Report idleness through `onIdle` instead of going `idle` (instances made per session or credential). */
  closeWhenIdle?: boolean;
  events: InstanceEvents;
  log: Logger;
}

export interface InstanceRequestOptions extends Omit<PeerRequestOptions<CallOrigin>, 'tag'> {
  /** The call this request belongs to: where the server's messages during it go. */
  origin?: CallOrigin;
  /**
   * The era of a 2026-07-28 caller's request: `prefer-modern` goes in 2026-07-28 when the server speaks it and
   * in the legacy era otherwise; `modern` (a retry carrying a server's own state) in 2026-07-28 or not at all.
   * Unset, a request goes in the era the instance was connected in.
   */
  era?: 'modern' | 'prefer-modern';
}

/** How long the gateway waits, at start-up, for a server of the legacy era to say whether it speaks 2026-07-28 too. */
const MODERN_PROBE_TIMEOUT_MS = 2_000;

export interface InstanceCloseOptions {
  /** Let calls in flight finish for up to this long before the server is stopped (removal, restart on reload). */
  drainMs?: number;
  /** The instance replacing this one (a restart on reload): calls not yet sent to the server go there instead. */
  successor?: () => UpstreamInstance | undefined;
}

let nextInstanceId = 1;
/** Upper bound of the ping that checks whether a remote server is still there after a transport error. */
const REMOTE_PROBE_TIMEOUT_MS = 5_000;
const DRAIN_POLL_MS = 25;
/** How long a start that failed on a broken pipe waits for the server's exit, which names the cause. */
const EXIT_REASON_WAIT_MS = 1_000;

/**
 * One running instance of a configured server: its process or connection, its state machine, its restart
 * policy and its last known lists. A shared server has one; a session- or credential-scoped server has one
 * per owner (see upstream-server.ts).
 * States: idle (lazy, or stopped while idle) → starting → ready; a crash → restarting (backoff) → ready,
 * or failed once the attempts are spent; close() → stopping → stopped.
 *
 * Restart policy: an instance that dies (or fails to start) is restarted after `backoffDelayMs(attempt)`, at
 * most `restart.maxAttempts` times in a row, so a server that always crashes is spawned 1 + maxAttempts times
 * and then stays `failed`. The count starts over once a run lasted `restart.stableAfterMs`. A remote server
 * whose connection is lost (a transport error, then an unanswered ping) goes through the same path.
 *
 * Calls: a call made while the instance is starting, restarting or idle waits for it, within the call's own
 * timeout; a call to a failed or stopped instance fails at once (UPSTREAM_UNAVAILABLE); calls in flight when
 * it dies fail at once (UPSTREAM_EXITED). Every call carries its origin, so that whatever the server sends
 * during it can be routed to its owner.
 */
export class UpstreamInstance {
  state: InstanceState = 'stopped';
  lists: UpstreamLists = EMPTY_LISTS;
  capabilities: ServerCapabilities = {};
  serverInfo?: { name: string; version: string };
  instructions?: string;
  protocolVersion?: string;
  /** The era the server speaks, known once connected. */
  era?: UpstreamEra;
  restarts = 0;
  lastError?: string;
  readyAt?: number;
  readonly key: string;
  readonly log: Logger;
  /** Unique in the process, for what is kept per instance (subscriptions, elicitations in progress). */
  readonly id = `i${nextInstanceId++}`;

  private transport?: Transport;
  private probing = false;
  private everReady = false;
  private closing?: Promise<void>;
  private successor?: () => UpstreamInstance | undefined;
  private lastStderr?: string;
  private peer?: JsonRpcPeer<CallOrigin>;
  private attempts = 0;
  private restartTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private connecting?: Promise<void>;
  /** The start under way, which a close of its transport ends at once. */
  private startGuard?: { transport: Transport; guard: StartGuard };
  private readonly waiters = new Set<() => void>();
  private refreshing = new Set<ListKind>();
  /** A 2026-07-28 server's `subscriptions/listen` stream: its list changes and resource updates. */
  private listen?: ModernListen;
  /**
   * A Streamable HTTP server of both eras: the session is of the legacy era, and this session-less connection
   * carries the requests of 2026-07-28 clients in their own era (see `InputRelay`).
   */
  private modern?: { transport: HttpUpstreamTransport; peer: JsonRpcPeer<CallOrigin> };
  private refreshQueued = new Set<ListKind>();

  constructor(
    /** Replaced by `reconfigure()` when a reload changes only fields that need no restart. */
    public config: ServerConfig,
    private readonly options: InstanceOptions,
  ) {
    this.key = options.key;
    this.log = options.log;
  }

  get name(): string {
    return this.config.name;
  }

  get pid(): number | undefined {
    return this.transport instanceof StdioProcessTransport ? this.transport.pid : undefined;
  }

  get inFlight(): number {
    return (this.peer?.inFlight ?? 0) + (this.modern?.peer.inFlight ?? 0);
  }

  /** Whether requests can go to the server in the 2026-07-28 era (it speaks only that, or both). */
  get speaksModern(): boolean {
    return this.era === 'modern' || this.modern !== undefined;
  }

  /** The calls in flight, oldest first. */
  callsInFlight(): CallOrigin[] {
    return this.peer ? [...this.peer.inFlightTags()] : [];
  }

  /** Calls cancelled or timed out lately that the server may still be working on (see `JsonRpcPeer.abandonedTags`). */
  callsAbandoned(): CallOrigin[] {
    return this.peer ? [...this.peer.abandonedTags()] : [];
  }

  get identity(): UpstreamIdentity | undefined {
    return this.options.identity;
  }

  get clientCapabilities(): ClientCapabilities {
    return this.options.clientCapabilities;
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
  adoptLists(previous: UpstreamInstance): void {
    this.lists = previous.lists;
    this.everReady = previous.everReady;
  }

  /** Starts the instance (or leaves a lazy one idle). Resolves when ready or when the first attempt failed. */
  async start(options: { lazy?: boolean } = {}): Promise<void> {
    if (options.lazy ?? this.config.lazy) {
      this.setState('idle');
      return;
    }
    await this.connectOnce().catch(() => {});
  }

  /** Waits until the instance is ready, starting an idle one. Rejects at once when it has failed or stopped. */
  async ensureReady(signal?: AbortSignal): Promise<void> {
    if (this.state === 'ready') return;
    if (this.state === 'idle') void this.connectOnce().catch(() => {});
    while ((this.state as InstanceState) !== 'ready') {
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
   * Sends one request. A call made while the instance starts or restarts waits for it, within the call's own
   * timeout; a call to a failed instance fails at once. Calls in flight when the server dies fail at once.
   * Once a reload has replaced this instance, calls not yet sent go to its successor.
   */
  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: InstanceRequestOptions = {},
  ): Promise<Record<string, unknown>> {
    // The deadline matters only to a call that waits for the instance (or for its successor).
    let deadline: number | undefined;
    const waited = this.state !== 'ready';
    if (waited) {
      deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
      const handed = this.handOver(method, params, options, deadline);
      if (handed) return handed;
      const signal = toAbortSignal(options.signal);
      const waitSignal = deadline === undefined ? signal : deadlineSignal(deadline - Date.now(), signal);
      try {
        await this.ensureReady(waitSignal);
      } catch (error) {
        if (options.signal?.aborted) throw new GatewayError('REQUEST_CANCELLED', 'the request was cancelled');
        const retried = this.handOver(method, params, options, deadline);
        if (retried) return retried;
        if (waitSignal?.aborted) {
          throw new GatewayError(
            'UPSTREAM_TIMEOUT',
            `server "${this.name}" was not ready within ${formatMs(options.timeoutMs ?? 0)}`,
          );
        }
        throw error;
      }
    }
    if (!this.peer) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" is not connected`);
    if (options.era === 'modern' && !this.speaksModern) {
      throw new GatewayError(
        'INVALID_PARAMS',
        `server "${this.name}" no longer speaks ${MODERN_VERSION}: the requestState is void; start the request again`,
      );
    }
    // A 2026-07-28 caller's request to a server of both eras goes on the session-less connection.
    const viaModern = options.era !== undefined && this.modern !== undefined;
    const peer = viaModern ? this.modern!.peer : this.peer;
    if (this.era === 'modern' && (method === 'resources/subscribe' || method === 'resources/unsubscribe')) {
      // The 2026-07-28 era subscribes on the listen stream.
      this.listen?.setSubscribed(String(params?.uri), method === 'resources/subscribe');
      return {};
    }
    // The idle timer keeps running during the call (it does nothing while calls are in flight): refreshed after.
    try {
      // The whole timeout when the instance was ready at once, so the timeout error names the configured value.
      const timeoutMs =
        waited && deadline !== undefined ? Math.max(1, deadline - Date.now()) : waited ? undefined : options.timeoutMs;
      const origin = options.origin;
      // A stateless-era server hears each caller's own capabilities with its request.
      const meta =
        (this.era === 'modern' || viaModern) && origin
          ? {
              [META.clientCapabilities]: ownCapabilities(origin.capabilities),
              ...(origin.logLevel === undefined ? {} : { [META.logLevel]: origin.logLevel }),
            }
          : options.meta;
      const peerOptions: PeerRequestOptions<CallOrigin> = {
        signal: options.signal,
        timeoutMs,
        onProgress: options.onProgress,
        describe: options.describe,
        tag: origin,
        meta,
        background: options.background,
        onResult: options.onResult,
      };
      // A legacy-era server never sees a 2026-07-28 envelope a client put in `_meta` (an SDK v2 server refuses it).
      const legacy = !viaModern && this.era !== 'modern';
      const tracer = requestTracer();
      if (!tracer) return await peer.request(method, legacy && params ? withoutEnvelope(params) : params, peerOptions);
      return await tracer.call(this, method, params, (sent) =>
        peer.request(method, legacy && sent ? withoutEnvelope(sent) : sent, peerOptions),
      );
    } catch (error) {
      // A remote server that cannot be reached any more: find out now rather than on every later call.
      if (
        isGatewayError(error, 'UPSTREAM_UNAVAILABLE') &&
        this.transport &&
        this.peer &&
        this.config.transport !== 'stdio'
      ) {
        this.probeConnection(this.transport, this.peer);
      }
      throw error;
    } finally {
      this.armIdleTimer();
    }
  }

  /** The same request to the instance that replaced this one (a restart on reload), within what is left of its time. */
  private handOver(
    method: string,
    params: Record<string, unknown> | undefined,
    options: InstanceRequestOptions,
    deadline: number | undefined,
  ): Promise<Record<string, unknown>> | undefined {
    const successor = this.successor?.();
    if (!successor) return undefined;
    const timeoutMs = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
    return successor.request(method, params, { ...options, timeoutMs });
  }

  notify(method: string, params?: Record<string, unknown>): void {
    // The 2026-07-28 era has no client notifications but cancellation (which the peer sends itself).
    if (this.state === 'ready' && this.era !== 'modern') this.peer?.notify(method, params).catch(() => {});
  }

  /**
   * Stops the instance for good (removal, restart on reload, its owner gone, shutdown). With `drainMs`, calls
   * already in flight may finish for up to that long first; new calls fail at once. Idempotent.
   */
  close(options: InstanceCloseOptions = {}): Promise<void> {
    if (!this.closing) this.successor = options.successor;
    this.closing ??= this.stop(options.drainMs ?? 0);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Tries a failed instance again with a fresh count of attempts (the manifest's `restart_failed` hook). */
  retry(): void {
    if (this.state !== 'failed') return;
    this.attempts = 0;
    this.restarts++;
    this.log.info(`Server '${this.name}': trying again after it failed`);
    this.connectOnce().catch(() => {});
  }

  /**
   * Restarts the instance now (an operator's restart): calls in flight fail at once, calls made meanwhile wait
   * for it, and the count of attempts starts over.
   */
  async restart(): Promise<void> {
    // A start already under way is left to finish.
    if (this.closing || this.connecting || this.state === 'stopped') return;
    this.clearIdleTimer();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.log.info(`Server '${this.name}': restarting (asked by an operator)`);
    this.attempts = 0;
    this.restarts++;
    this.setState('restarting');
    await this.disconnect(new GatewayError('UPSTREAM_EXITED', `server "${this.name}" was restarted by an operator`));
    // Closed while the old process was being stopped: nothing is started any more.
    if (this.closing) return;
    await this.connectOnce().catch(() => {});
  }

  /** Stops a lazy instance until its next use, as its idle timeout would. */
  async park(): Promise<void> {
    if (this.closing || !this.config.lazy || this.state === 'idle' || this.state === 'stopped') return;
    this.clearIdleTimer();
    this.log.info(`Server '${this.name}' stopped until its next use (asked by an operator)`);
    this.setState('idle');
    await this.disconnect(new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" was stopped by an operator`));
  }

  /** Ends the instance's processes at once (the last step of a shutdown that ran out of time). */
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
    // A closed instance never starts again, whoever asks (a restart timer, an operator, a call).
    if (this.closing) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" was stopped`);
    if (this.state !== 'restarting') this.setState('starting');
    const log = this.log;
    const made = createUpstreamTransport(this.config, log, {
      identity: this.options.identity,
      onStderrLine: (line) => {
        this.lastStderr = line;
      },
    });
    // Only a legacy SSE server's transport is a promise (its client module is loaded on first use).
    const transport = made instanceof Promise ? await made : made;
    // Stopped while the module loaded: start nothing.
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" was stopped`);
    }
    const peer = new JsonRpcPeer<CallOrigin>(transport, {
      onRequest: (request, signal, related) => this.onServerRequest(request, signal, related),
      onNotification: (notification, related) => this.onNotification(notification, related),
      onStreamClosed: (related) => related.closeStream?.(),
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
    // The whole start (spawn, handshake, lists) is bounded by start_timeout, and ends at once when the
    // transport closes: some of its steps are no request with a timeout of its own (notifications/initialized).
    const guard = new StartGuard(timeoutMs, () => startTimeoutError(this.name, timeoutMs));
    this.startGuard = { transport, guard };
    try {
      await guard.race(transport.start());
      if (transport instanceof StdioProcessTransport) group = transport.pid;
      const handshake = await guard.race(
        connectUpstream(peer, transport, {
          server: this.name,
          clientCapabilities: this.options.clientCapabilities,
          timeoutMs: remaining(),
          mirroredHeaders: (message) => mirroredHeaders(message, this.toolSchema(message)),
        }),
      );
      this.era = handshake.era;
      this.protocolVersion = handshake.protocolVersion;
      this.capabilities = handshake.capabilities;
      this.serverInfo = handshake.serverInfo;
      this.instructions = handshake.instructions;
      this.lists = await guard.race(fetchLists(peer, this.capabilities, remaining()));
      const url = this.config.url ?? '';
      if (
        this.era === 'legacy' &&
        transport instanceof HttpUpstreamTransport &&
        this.config.era !== 'legacy' &&
        !knownLegacyOnly(url)
      ) {
        const opening = this.openModernChannel(Math.min(remaining(), MODERN_PROBE_TIMEOUT_MS));
        const modern = await guard.race(opening).catch((error: unknown) => {
          // The start failed first: a channel that opens after it belongs to nobody.
          opening.then(
            (late) => void late?.transport.close(),
            () => {},
          );
          throw error;
        });
        recordEraVerdict(url, modern !== undefined);
        if (this.transport === transport) this.modern = modern;
        else void modern?.transport.close();
      }
    } catch (error) {
      // A send that found the pipe broken fails before the exit is seen: wait a moment for the exit's reason.
      const exit =
        transport instanceof StdioProcessTransport
          ? await transport.exitWithin(lostConnection(error) ? EXIT_REASON_WAIT_MS : 0)
          : undefined;
      // The line that names the cause, not Node's version footer or npm's log-file pointer.
      const said = transport instanceof StdioProcessTransport ? transport.lastWords() : this.lastStderr;
      const failure = describeStartFailure(this.name, error, {
        startTimeoutMs: timeoutMs,
        ...(exit ? { exit } : {}),
        ...(said === undefined ? {} : { lastStderr: said }),
      });
      if (this.transport === transport) {
        await this.disconnect(failure);
        if (this.state === 'starting' || this.state === 'restarting') this.onFailure(failure);
      }
      throw failure;
    } finally {
      guard.end();
      if (this.startGuard?.transport === transport) this.startGuard = undefined;
    }
    if (this.transport !== transport) return; // Closed while starting.
    if (this.era === 'modern') {
      this.listen = new ModernListen(peer, this.capabilities, (error) =>
        log.debug(`subscriptions/listen of server "${this.name}" ended: ${errorMessage(error)}`),
      );
    }
    this.everReady = true;
    this.readyAt = Date.now();
    this.lastError = undefined;
    this.setState('ready');
    const who = this.options.label === undefined ? '' : ` for ${this.options.label}`;
    log.info(
      `Server '${this.name}' started${who} (${this.lists.tools.length} tools, ${this.lists.prompts.length} prompts, ` +
        `${this.lists.resources.length} resources)${this.pid ? `, pid ${this.pid}` : ''}` +
        (this.modern ? `, speaks ${MODERN_VERSION} too` : ''),
    );
    this.options.events.onListsChanged?.(this, new Set<ListKind>(['tools', 'prompts', 'resources']));
    this.armIdleTimer();
  }

  /**
   * Asks a Streamable HTTP server of the legacy era, on a connection without a session, whether it speaks
   * 2026-07-28 too (`server/discover`, as an SDK v2 server of both eras answers). A server that does not, or
   * does not answer in time, is used in the legacy era alone, as before.
   */
  private async openModernChannel(
    timeoutMs: number,
  ): Promise<{ transport: HttpUpstreamTransport; peer: JsonRpcPeer<CallOrigin> } | undefined> {
    const made = createUpstreamTransport(this.config, this.log, { identity: this.options.identity });
    if (!(made instanceof HttpUpstreamTransport)) return undefined;
    const transport = made;
    transport.onerror = (error) => this.log.debug(`2026-07-28 connection: ${error.message}`);
    const peer = new JsonRpcPeer<CallOrigin>(transport, {
      onRequest: (request, signal, related) => this.onServerRequest(request, signal, related),
      onNotification: (notification, related) => this.onNotification(notification, related),
      onStreamClosed: (related) => related.closeStream?.(),
    });
    try {
      await discoverModern(peer, transport as unknown as Transport, {
        server: this.name,
        clientCapabilities: this.options.clientCapabilities,
        timeoutMs,
        mirroredHeaders: (message) => mirroredHeaders(message, this.toolSchema(message)),
      });
    } catch (error) {
      this.log.debug(
        `Server '${this.name}' does not speak ${MODERN_VERSION} beside the legacy era: ${errorMessage(error)}`,
      );
      peer.close(new GatewayError('UPSTREAM_UNAVAILABLE', 'not of the 2026-07-28 era'));
      await transport.close().catch(() => {});
      return undefined;
    }
    return { transport, peer };
  }

  /** The input schema of the tool a `tools/call` names (for the headers a stateless-era request mirrors). */
  private toolSchema(message: { method: string; params?: Record<string, unknown> }): unknown {
    if (message.method !== 'tools/call') return undefined;
    return this.lists.tools.find((tool) => tool.name === message.params?.name)?.inputSchema;
  }

  private onNotification(notification: JSONRPCNotification, related: CallOrigin | undefined): void {
    const kind = LIST_CHANGED[notification.method];
    if (kind) {
      this.refresh(kind);
      return;
    }
    this.options.events.onNotification?.(this, notification, related);
  }

  /** Re-lists one kind; changes that arrive while a re-list runs are coalesced into one more. */
  private refresh(kind: ListKind): void {
    if (this.refreshing.has(kind)) {
      this.refreshQueued.add(kind);
      return;
    }
    const peer = this.peer;
    if (!peer || this.state !== 'ready') return;
    this.refreshing.add(kind);
    refetchKind(peer, this.lists, kind, this.config.startTimeoutMs)
      .then((lists) => {
        if (this.peer !== peer) return;
        this.lists = lists;
        this.log.info(`Server '${this.name}' changed its ${kind}; re-listed`);
        this.options.events.onListsChanged?.(this, new Set([kind]));
      })
      .catch((error: unknown) => this.log.warn(`re-listing ${kind} failed: ${errorMessage(error)}`))
      .finally(() => {
        this.refreshing.delete(kind);
        if (this.refreshQueued.delete(kind)) this.refresh(kind);
      });
  }

  private async onServerRequest(
    request: JSONRPCRequest,
    signal: AbortSignal,
    related: CallOrigin | undefined,
  ): Promise<Record<string, unknown>> {
    const handler = this.options.events.onServerRequest;
    if (handler) return handler(this, request, signal, related);
    throw Object.assign(new Error(`${request.method} is not relayed by this instance`), { code: -32601 });
  }

  private onTransportClosed(transport: Transport): void {
    if (transport !== this.transport) return;
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'idle') return;
    const exit = transport instanceof StdioProcessTransport ? transport.exit : undefined;
    const how = exit ? (exit.signal ? ` (killed by ${exit.signal})` : ` (exit code ${exit.code})`) : '';
    const error = new GatewayError('UPSTREAM_EXITED', `server "${this.name}" exited${how}`);
    if (this.state !== 'ready') {
      // Still starting: fail the start now, whatever step it is at; connect() reports it and schedules the retry.
      this.peer?.close(error);
      if (this.startGuard?.transport === transport) this.startGuard.guard.fail(error);
      return;
    }
    this.connectionLost(error, `Server '${this.name}' exited${how}`);
  }

  /**
   * A remote transport reported an error (a dropped stream, a failed POST): ping the server, and treat it as
   * gone when the ping fails, so it reconnects with backoff instead of failing every call until a restart.
   */
  private probeConnection(transport: Transport, peer: JsonRpcPeer<CallOrigin>): void {
    if (this.probing || this.transport !== transport || this.state !== 'ready') return;
    this.probing = true;
    const timeoutMs = Math.min(REMOTE_PROBE_TIMEOUT_MS, this.config.startTimeoutMs);
    // The 2026-07-28 era has no ping: server/discover answers the same question.
    const probe = this.era === 'modern' ? 'server/discover' : 'ping';
    peer
      .request(probe, probe === 'ping' ? undefined : {}, { timeoutMs, describe: `${probe} of server "${this.name}"` })
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
    this.listen?.close();
    this.listen = undefined;
    this.closeModernChannel(error);
    this.transport = undefined;
    this.peer?.close(error);
    this.peer = undefined;
    this.clearIdleTimer();
    this.log.warn(message);
    this.onFailure(error);
  }

  /** Schedules a restart with backoff, or marks the instance failed when the attempts are spent. */
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

  private closeModernChannel(error: Error): void {
    const modern = this.modern;
    this.modern = undefined;
    if (!modern) return;
    modern.peer.close(error);
    void modern.transport.close().catch(() => {});
  }

  private async disconnect(error: Error): Promise<void> {
    this.listen?.close();
    this.listen = undefined;
    this.closeModernChannel(error);
    const transport = this.transport;
    this.transport = undefined;
    this.peer?.close(error);
    this.peer = undefined;
    if (!transport) return;
    await terminateUpstreamSession(transport);
    await transport.close().catch(() => {});
  }

  private armIdleTimer(): void {
    const idleMs = this.config.idleTimeoutMs;
    if (idleMs === undefined || this.inFlight > 0 || this.state !== 'ready') return;
    // After a call: the same timer, started again (the idle time counts from the end of the last call).
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inFlight > 0 || this.state !== 'ready') return;
      if (this.options.closeWhenIdle) {
        this.log.info(
          `Server '${this.name}' for ${this.options.label ?? this.key} stopping after ${formatMs(idleMs)} idle`,
        );
        this.options.events.onIdle?.(this);
        return;
      }
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

  private setState(state: InstanceState): void {
    if (this.state === state) return;
    this.state = state;
    for (const wake of [...this.waiters]) wake();
    this.options.events.onStateChange?.(this);
  }
}

/** Ends a resource subscription upstream (a request the server answers; a failure only matters to the log). */
export function unsubscribeUpstream(instance: UpstreamInstance, uri: string): void {
  if (instance.state !== 'ready') return;
  instance
    .request('resources/unsubscribe', { uri }, { timeoutMs: instance.config.toolTimeoutMs })
    .catch((error: unknown) => instance.log.debug(`resources/unsubscribe of ${uri} failed: ${errorMessage(error)}`));
}

/** A failure that says the server's pipe is gone (its exit, if it exited, says why). */
function lostConnection(error: unknown): boolean {
  return isGatewayError(error, 'UPSTREAM_EXITED') || isGatewayError(error, 'UPSTREAM_UNAVAILABLE');
}
