import type {
  ClientCapabilities,
  JSONRPCNotification,
  JSONRPCRequest,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';

import type { ServerConfig, ServerScope, UpstreamIdentity } from '../config/model.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import {
  type CallOrigin,
  describeInstanceKey,
  holderOf,
  instanceKey,
  type Owner,
  SHARED_GROUP,
} from '../relay/owner.js';
import { ownCapabilities, ROUTABLE_CAPABILITIES } from './client-capabilities.js';
import { type InstanceState, type ListKind, UpstreamInstance, type UpstreamLists } from './instance.js';
import { EMPTY_LISTS } from './instance-lists.js';

/** What a client asking for an instance brings: who it is and what its client can take. */
export interface InstanceRequest {
  owner: Owner;
  capabilities: ClientCapabilities;
}

export interface UpstreamServerEvents {
  /** The server's or one of its instances' state changed (health, metrics). */
  onStateChange?(server: UpstreamServer): void;
  /** The lists the catalog shows for this server changed. */
  onListsChanged?(server: UpstreamServer): void;
  /** A session- or credential-scoped instance's own lists changed (its owners' catalogs follow). */
  onInstanceListsChanged?(server: UpstreamServer, instance: UpstreamInstance, kinds: ReadonlySet<ListKind>): void;
  onInstanceReady?(server: UpstreamServer, instance: UpstreamInstance): void;
  onInstanceStarted?(server: UpstreamServer, instance: UpstreamInstance): void;
  /** `sessions`: those that used the instance until now. */
  onInstanceStopped?(server: UpstreamServer, instance: UpstreamInstance, sessions: string[]): void;
  onNotification?(
    server: UpstreamServer,
    instance: UpstreamInstance,
    notification: JSONRPCNotification,
    related?: CallOrigin,
  ): void;
  onServerRequest?(
    server: UpstreamServer,
    instance: UpstreamInstance,
    request: JSONRPCRequest,
    signal: AbortSignal,
    related?: CallOrigin,
  ): Promise<Record<string, unknown>>;
}

export { ROUTABLE_CAPABILITIES } from './client-capabilities.js';

export interface UpstreamServerOptions {
  events: UpstreamServerEvents;
  log: Logger;
  /**
   * A credential group's own env and headers for this server, read from the config in force, and the sign-in
   * it sends; `shared` for the shared instance and the probe.
   */
  identityOf(group: string): UpstreamIdentity | undefined;
}

/** Without sessions, a credential's instance stays this long (unless `idle_timeout` says otherwise). */
export const CREDENTIAL_LINGER_MS = 60_000;

interface Reference {
  state: InstanceState;
  lists: UpstreamLists;
  capabilities: ServerCapabilities;
  instructions?: string;
  listsKnown: boolean;
  lastError?: string;
  readyAt?: number;
}

/**
 * One configured server and its instances, by scope:
 * - `shared`: one instance for every client (created at once; the others below are created on first use);
 * - `session`: one per client session, stopped when the session ends or after `idle_timeout`;
 * - `credential`: one per credential group (anonymous clients form one), shared by that group's sessions and
 *   stopped once none has used it for `idle_timeout` (60 s by default) after the last of them ended.
 * A session or credential instance declares its client's own capabilities and carries the credential's own
 * env and headers. The lists shown for a scoped server before a session has its own instance come from a
 * probe at start-up: an instance with no client behind it, started, listed and stopped again.
 */
export class UpstreamServer {
  config: ServerConfig;
  readonly scope: ServerScope;
  private shared?: UpstreamInstance;
  private readonly instances = new Map<string, UpstreamInstance>();
  private readonly attached = new Map<string, Set<string>>();
  private readonly lingerTimers = new Map<string, NodeJS.Timeout>();
  /** The owner each scoped instance was started for (a credential instance: its first session's). */
  private readonly owners = new Map<string, Owner>();
  /** Instances being stopped (their owner left): close() and kill() reach them too. */
  private readonly stopping = new Set<UpstreamInstance>();
  /** The probe under way, if any: a close of the server stops it too (else its process outlives the server). */
  private probing?: UpstreamInstance;
  private reference: Reference = { state: 'stopped', lists: EMPTY_LISTS, capabilities: {}, listsKnown: false };
  private closing?: Promise<void>;
  private starts = 0;

  constructor(
    config: ServerConfig,
    private readonly options: UpstreamServerOptions,
  ) {
    this.config = config;
    this.scope = config.scope;
    if (this.scope === 'shared') {
      this.shared = this.createInstance('shared', ROUTABLE_CAPABILITIES, options.identityOf(SHARED_GROUP));
    }
  }

  get name(): string {
    return this.config.name;
  }

  get log(): Logger {
    return this.options.log;
  }

  // What the catalog, health and instructions show: the shared instance, or the probe's findings.

  /**
   * A scoped server's state: its probe's while it has no instances; else `ready` when one of them is, else
   * the state of the one closest to ready (an instance restarting after its server was lost shows here).
   */
  get state(): InstanceState {
    if (this.shared) return this.shared.state;
    const states = new Set([...this.instances.values()].map((instance) => instance.state));
    if (states.size === 0) return this.reference.state;
    for (const state of ['ready', 'starting', 'restarting', 'idle', 'failed'] as const)
      if (states.has(state)) return state;
    return this.reference.state;
  }

  get lists(): UpstreamLists {
    return this.shared?.lists ?? this.reference.lists;
  }

  get capabilities(): ServerCapabilities {
    return this.shared?.capabilities ?? this.reference.capabilities;
  }

  get instructions(): string | undefined {
    return this.shared ? this.shared.instructions : this.reference.instructions;
  }

  /** Whether the server's lists are known (false for a lazy server that never ran, or a failed probe). */
  get listsKnown(): boolean {
    return this.shared?.listsKnown ?? this.reference.listsKnown;
  }

  get lastError(): string | undefined {
    return this.shared ? this.shared.lastError : this.reference.lastError;
  }

  get readyAt(): number | undefined {
    return this.shared ? this.shared.readyAt : this.reference.readyAt;
  }

  /** The shared instance's pid; scoped servers have one per instance. */
  get pid(): number | undefined {
    return this.shared?.pid;
  }

  get restarts(): number {
    let total = this.shared?.restarts ?? 0;
    for (const instance of this.instances.values()) total += instance.restarts;
    return total;
  }

  get inFlight(): number {
    let total = this.shared?.inFlight ?? 0;
    for (const instance of this.instances.values()) total += instance.inFlight;
    return total;
  }

  /** Live instances: the shared one, or the session and credential instances. */
  listInstances(): UpstreamInstance[] {
    return this.shared ? [this.shared] : [...this.instances.values()];
  }

  /** Session- and credential-scoped instances started so far, for metrics. */
  get instancesStarted(): number {
    return this.starts;
  }

  /** Sessions that use a credential instance (a session instance has its own one). */
  sessionsOf(instance: UpstreamInstance): string[] {
    if (instance.key.startsWith('session:')) return [instance.key.slice('session:'.length)];
    return [...(this.attached.get(instance.key) ?? [])];
  }

  /** Starts the shared instance, or probes a scoped server's lists. Resolves after the first attempt. */
  async start(): Promise<void> {
    if (this.shared) return this.shared.start();
    if (this.config.lazy) {
      this.setReference({ ...this.reference, state: 'idle' });
      return;
    }
    await this.probe();
  }

  /**
   * Waits until the server's lists are known: a lazy shared server is started; a lazy or unprobed scoped
   * server is probed. Used when a client lists before anything ran.
   */
  async ensureListed(signal?: AbortSignal): Promise<void> {
    if (this.listsKnown) return;
    if (this.shared) return this.shared.ensureReady(signal);
    if (this.reference.state === 'idle') await this.probe();
  }

  /**
   * The instance that serves `request`'s owner: the shared one, or the owner's own, started on first use.
   * Refuses with INSTANCE_LIMIT when a new instance would exceed `max_instances`.
   */
  instanceFor(request: InstanceRequest): UpstreamInstance {
    if (this.shared) return this.shared;
    if (this.closing) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${this.name}" was stopped`);
    const key = instanceKey(this.scope, request.owner);
    if (this.scope === 'credential') this.attach(key, holderOf(request.owner));
    const existing = this.instances.get(key);
    if (existing) return existing;
    if (this.instances.size >= this.config.maxInstances) {
      throw new GatewayError(
        'INSTANCE_LIMIT',
        `server "${this.name}" already runs ${this.config.maxInstances} instances (its max_instances, scope "${this.scope}"); ` +
          'try again once a client session ends, or raise max_instances',
        { data: { server: this.name, maxInstances: this.config.maxInstances } },
      );
    }
    // A legacy session's instance declares that client's own capabilities; the instance of a 2026-07-28
    // client's stateless session serves requests that each declare their own, so it declares all it can route.
    const perRequest = request.owner.instanceSession !== undefined;
    const capabilities =
      this.scope === 'session' && !perRequest ? ownCapabilities(request.capabilities) : ROUTABLE_CAPABILITIES;
    const instance = this.createInstance(key, capabilities, this.options.identityOf(request.owner.group));
    this.instances.set(key, instance);
    this.owners.set(key, request.owner);
    this.starts++;
    this.options.events.onInstanceStarted?.(this, instance);
    void instance.start({ lazy: false });
    return instance;
  }

  /** The owner's instance if it has one already (nothing is started). */
  existingInstance(owner: Owner): UpstreamInstance | undefined {
    return this.shared ?? this.instances.get(instanceKey(this.scope, owner));
  }

  /** A client session ended: its session instance stops; a credential instance waits for its other sessions. */
  release(owner: Owner): void {
    if (this.scope === 'session') {
      const instance = this.instances.get(instanceKey('session', owner));
      if (instance) this.stopInstance(instance, 'its client session ended');
      return;
    }
    if (this.scope !== 'credential') return;
    const key = instanceKey('credential', owner);
    const sessions = this.attached.get(key);
    if (!sessions?.delete(holderOf(owner)) || sessions.size > 0) return;
    this.attached.delete(key);
    const instance = this.instances.get(key);
    if (!instance) return;
    const lingerMs = this.config.idleTimeoutMs ?? CREDENTIAL_LINGER_MS;
    const timer = setTimeout(() => {
      this.lingerTimers.delete(key);
      if (!this.attached.has(key)) this.stopInstance(instance, 'no session of its credential is left');
    }, lingerMs);
    timer.unref();
    this.lingerTimers.set(key, timer);
  }

  /**
   * Stops the instances whose credential's values changed or went away in a reloaded config; the owner's next
   * call starts a fresh one with the new values.
   */
  refreshIdentities(): void {
    for (const [key, instance] of [...this.instances]) {
      const owner = this.owners.get(key);
      if (owner && !sameIdentity(instance.identity, this.options.identityOf(owner.group))) {
        this.stopInstance(instance, "its credential's values changed");
      }
    }
  }

  reconfigure(config: ServerConfig): void {
    this.config = config;
    for (const instance of this.listInstances()) instance.reconfigure(config);
  }

  /**
   * Takes over from the server this one replaces (a restart on reload): its lists stay listed while this one
   * starts, and the sessions attached to its credential instances stay attached.
   */
  adopt(previous: UpstreamServer): void {
    if (this.shared && previous.shared) this.shared.adoptLists(previous.shared);
    else if (!this.shared && !previous.shared) this.reference = { ...previous.reference };
    if (this.scope === previous.scope) {
      for (const [key, sessions] of previous.attached) this.attached.set(key, new Set(sessions));
    }
  }

  /**
   * Stops every instance, letting calls in flight finish for up to `drainMs`. Calls still waiting for an
   * instance go to the same owner's instance of `successor`, which starts for them.
   */
  close(options: { drainMs?: number; successor?: UpstreamServer } = {}): Promise<void> {
    this.closing ??= (async () => {
      for (const timer of this.lingerTimers.values()) clearTimeout(timer);
      this.lingerTimers.clear();
      const { successor } = options;
      await Promise.allSettled(
        this.allInstances().map((instance) =>
          instance.close({
            ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }),
            ...(successor ? { successor: () => successor.successorFor(instance, this) } : {}),
          }),
        ),
      );
    })();
    return this.closing;
  }

  kill(): void {
    for (const instance of this.allInstances()) instance.kill();
  }

  /** Tries failed instances again (the manifest's `restart_failed` hook). */
  retry(): void {
    for (const instance of this.listInstances()) instance.retry();
    if (!this.shared && this.reference.state === 'failed') void this.probe();
  }

  /** The instance of this (replacing) server for the owner of `previous`, for calls that waited on it. */
  private successorFor(previous: UpstreamInstance, from: UpstreamServer): UpstreamInstance | undefined {
    if (this.shared) return this.shared;
    const owner = from.owners.get(previous.key);
    if (!owner) return undefined;
    try {
      return this.instanceFor({ owner, capabilities: previous.clientCapabilities });
    } catch {
      return undefined;
    }
  }

  private attach(key: string, sessionId: string): void {
    let sessions = this.attached.get(key);
    if (!sessions) this.attached.set(key, (sessions = new Set()));
    sessions.add(sessionId);
    const timer = this.lingerTimers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.lingerTimers.delete(key);
    }
  }

  /** Every instance that may still have a process or connection, those being stopped included. */
  private allInstances(): UpstreamInstance[] {
    if (this.shared) return [this.shared];
    return [...this.instances.values(), ...this.stopping, ...(this.probing ? [this.probing] : [])];
  }

  private stopInstance(instance: UpstreamInstance, why: string): void {
    if (this.instances.get(instance.key) !== instance) return;
    const sessions = this.sessionsOf(instance);
    this.instances.delete(instance.key);
    this.owners.delete(instance.key);
    this.attached.delete(instance.key);
    this.log.info(`Server '${this.name}': stopping the instance for ${describeInstanceKey(instance.key)} (${why})`);
    this.stopping.add(instance);
    void instance.close().finally(() => {
      this.stopping.delete(instance);
      this.options.events.onInstanceStopped?.(this, instance, sessions);
      this.options.events.onStateChange?.(this);
    });
  }

  /** Starts an instance with no client behind it, takes what it lists, and stops it. */
  private async probe(): Promise<void> {
    if (this.closing) return;
    const probe = this.createInstance('probe', ROUTABLE_CAPABILITIES, this.options.identityOf(SHARED_GROUP), {
      ...this.config,
      restart: { ...this.config.restart, maxAttempts: 0 },
      idleTimeoutMs: undefined,
    });
    this.setReference({ ...this.reference, state: 'starting' });
    this.probing = probe;
    try {
      await probe.start({ lazy: false });
      if (probe.state === 'ready') {
        this.setReference({
          state: 'ready',
          lists: probe.lists,
          capabilities: probe.capabilities,
          ...(probe.instructions === undefined ? {} : { instructions: probe.instructions }),
          listsKnown: true,
          readyAt: Date.now(),
        });
      } else {
        this.setReference({
          ...this.reference,
          // Stopped: the server was closed while its probe started.
          state: probe.state === 'stopped' ? 'stopped' : 'failed',
          ...(probe.lastError === undefined ? {} : { lastError: probe.lastError }),
        });
      }
    } finally {
      if (this.probing === probe) this.probing = undefined;
      await probe.close();
    }
    this.options.events.onListsChanged?.(this);
  }

  private setReference(reference: Reference): void {
    this.reference = reference;
    this.options.events.onStateChange?.(this);
  }

  private createInstance(
    key: string,
    capabilities: ClientCapabilities,
    identity?: UpstreamIdentity,
    config: ServerConfig = this.config,
  ): UpstreamInstance {
    const events = this.options.events;
    const scoped = key !== 'shared';
    const label = scoped ? describeInstanceKey(key) : undefined;
    return new UpstreamInstance(config, {
      key,
      ...(label === undefined ? {} : { label }),
      clientCapabilities: capabilities,
      ...(identity === undefined ? {} : { identity }),
      closeWhenIdle: scoped,
      log: this.log,
      events: {
        onStateChange: (instance) => {
          if (instance.state === 'ready' && key !== 'probe') events.onInstanceReady?.(this, instance);
          if (key !== 'probe') events.onStateChange?.(this);
        },
        onListsChanged: (instance, kinds) => {
          if (key === 'probe') return;
          if (scoped) events.onInstanceListsChanged?.(this, instance, kinds);
          else events.onListsChanged?.(this);
        },
        onNotification: (instance, notification, related) =>
          events.onNotification?.(this, instance, notification, related),
        onServerRequest: (instance, request, signal, related) => {
          if (!events.onServerRequest) return Promise.reject(new Error('no router'));
          return events.onServerRequest(this, instance, request, signal, related);
        },
        onIdle: (instance) => this.stopInstance(instance, `idle for its idle_timeout`),
      },
    });
  }
}

function sameIdentity(a: UpstreamIdentity | undefined, b: UpstreamIdentity | undefined): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}
