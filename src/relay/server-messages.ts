import type {
  ClientCapabilities,
  JSONRPCNotification,
  JSONRPCRequest,
  LoggingLevel,
  ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';

import type { ServerScope } from '../config/model.js';
import type { Logger } from '../observability/log.js';
import { MISSING_REQUIRED_CLIENT_CAPABILITY } from '../protocol/modern.js';
import type { UpstreamInstance } from '../upstream/instance.js';
import type { UpstreamServer } from '../upstream/upstream-server.js';
import { type CallOrigin, holderOf } from './owner.js';
import { logRecipients, missingCapability, routeServerRequest, soleSessionCall } from './routing.js';
import type { SubscriptionRegistry } from './subscriptions.js';
import type { TaskRelay } from './tasks.js';

/** What the router needs of a client session. */
export interface RoutableSession {
  readonly id: string;
  readonly clientCapabilities: ClientCapabilities;
  readonly logLevel?: LoggingLevel;
  /** The session's standalone channel, for requests outside any call. */
  readonly origin: CallOrigin;
  canSee(server: string): boolean;
  wantsLog(level: LoggingLevel): boolean;
  notify(notification: ServerNotification): void;
}

export interface ServerMessagesOptions {
  session(id: string): RoutableSession | undefined;
  sessions(): Iterable<RoutableSession>;
  subscriptions: SubscriptionRegistry;
  tasks: TaskRelay;
  /** Masks the config's secrets in relayed log data. */
  mask(text: string): string;
  log: Logger;
}

/** URL-mode elicitations remembered for their completion notice; older ones are forgotten. */
const MAX_PENDING_ELICITATIONS = 10_000;
const ELICITATION_TTL_MS = 60 * 60_000;

const METHOD_NOT_FOUND = -32601;
const REFUSED = -32000;

/** The scope an instance routes by: its key says whose it is (the probe and the shared one have no owner). */
export function routingScope(instance: UpstreamInstance): ServerScope {
  if (instance.key === 'shared' || instance.key === 'probe') return 'shared';
  return instance.key.startsWith('session:') ? 'session' : 'credential';
}

function instanceSessionOf(instance: UpstreamInstance): string | undefined {
  return instance.key.startsWith('session:') ? instance.key.slice('session:'.length) : undefined;
}

/**
 * Delivers what servers send towards clients — requests (sampling, elicitation, roots) and notifications
 * (logs, resource updates, elicitation completions) — to the session that owns each one, or refuses it.
 * The decisions are `routing.ts`'s; this class carries them out and checks the target client's capabilities.
 */
export class ServerMessages {
  private readonly elicitations = new Map<string, { sessionId: string; expires: number }>();

  constructor(private readonly options: ServerMessagesOptions) {}

  async request(
    server: UpstreamServer,
    instance: UpstreamInstance,
    request: JSONRPCRequest,
    signal: AbortSignal,
    related: CallOrigin | undefined,
  ): Promise<Record<string, unknown>> {
    const params = request.params as Record<string, unknown> | undefined;
    const route = routeServerRequest({
      method: request.method,
      server: server.name,
      scope: routingScope(instance),
      ...(instanceSessionOf(instance) === undefined ? {} : { instanceSession: instanceSessionOf(instance)! }),
      attachedSessions: server.sessionsOf(instance),
      ...(related ? { related } : {}),
      inFlight: instance.callsInFlight(),
      abandoned: instance.callsAbandoned(),
    });
    if (route.kind === 'gateway') return { roots: server.config.roots };
    if (route.kind === 'refuse') return this.refuse(server, route.message);

    let target: CallOrigin;
    if (route.kind === 'call') {
      target = route.origin;
    } else {
      const session = this.options.session(route.sessionId);
      if (!session) return this.refuse(server, `${request.method} refused: the client session it belongs to has ended`);
      target = session.origin;
    }
    const owner = this.options.session(holderOf(target.owner));
    if (!owner?.canSee(server.name)) {
      return this.refuse(server, `${request.method} refused: its client may not use server "${server.name}"`);
    }
    const missing = missingCapability(request.method, params, target.capabilities);
    if (missing !== undefined) {
      // Roots are the gateway's to give when the client has none of its own: the server's configured ones.
      if (request.method === 'roots/list') return { roots: server.config.roots };
      const message = `the client does not support ${missing}, so ${request.method} was not relayed`;
      target.failCall?.(
        Object.assign(new Error(`${message} (server "${server.name}" requires it)`), {
          code: MISSING_REQUIRED_CLIENT_CAPABILITY,
          data: { requiredCapabilities: { [request.method.split('/')[0]!]: {} } },
        }),
      );
      throw Object.assign(new Error(message), { code: METHOD_NOT_FOUND });
    }
    if (request.method === 'elicitation/create' && params?.mode === 'url' && typeof params.elicitationId === 'string') {
      this.rememberElicitation(instance, params.elicitationId, target.owner.sessionId);
    }
    return target.sendRequest(request, signal);
  }

  notification(
    server: UpstreamServer,
    instance: UpstreamInstance,
    notification: JSONRPCNotification,
    related: CallOrigin | undefined,
  ): void {
    const params = (notification.params ?? {}) as Record<string, unknown>;
    switch (notification.method) {
      case 'notifications/message':
        this.relayLog(server, instance, params, related);
        return;
      case 'notifications/resources/updated':
        if (typeof params.uri === 'string') this.relayResourceUpdate(instance, params);
        return;
      case 'notifications/elicitation/complete':
        this.relayElicitationComplete(server, instance, params);
        return;
      case 'notifications/tasks/status': {
        const status = this.options.tasks.status(instance, params);
        if (status) this.options.session(holderOf(status.owner))?.notify(status.notification);
        return;
      }
      default:
        instance.log.debug(`notification ${notification.method} not relayed`);
    }
  }

  /** The sessions whose level counts for an instance's upstream `logging/setLevel`. */
  logAudience(server: UpstreamServer, instance: UpstreamInstance): RoutableSession[] {
    const ids = logRecipients({
      scope: routingScope(instance),
      ...(instanceSessionOf(instance) === undefined ? {} : { instanceSession: instanceSessionOf(instance)! }),
      attachedSessions: server.sessionsOf(instance),
      viewers: () => this.viewers(server.name),
    });
    const sessions: RoutableSession[] = [];
    for (const id of ids) {
      const session = this.options.session(id);
      if (session) sessions.push(session);
    }
    return sessions;
  }

  private refuse(server: UpstreamServer, message: string): never {
    server.log.warn(message);
    throw Object.assign(new Error(message), { code: REFUSED });
  }

  private *viewers(server: string): IterableIterator<string> {
    for (const session of this.options.sessions()) if (session.canSee(server)) yield session.id;
  }

  private relayLog(
    server: UpstreamServer,
    instance: UpstreamInstance,
    params: Record<string, unknown>,
    related: CallOrigin | undefined,
  ): void {
    const level = params.level as LoggingLevel;
    const logger = typeof params.logger === 'string' ? `${server.name}/${params.logger}` : server.name;
    const notification = {
      method: 'notifications/message',
      params: { ...params, level, logger, data: this.maskData(params.data) },
    } as ServerNotification;
    const ids = logRecipients({
      scope: routingScope(instance),
      ...(instanceSessionOf(instance) === undefined ? {} : { instanceSession: instanceSessionOf(instance)! }),
      attachedSessions: server.sessionsOf(instance),
      viewers: () => this.viewers(server.name),
    });
    if (related) {
      // A message tied to a call goes on that call's stream, where its client listens for it, at its level.
      if (related.wantsLog(level)) related.sendNotification(notification);
      return;
    }
    // Tied to no call, while one session's calls are in flight: it most likely belongs to that session's latest
    // call, so that session gets it on the call's stream, where it arrives before the call's result (from the
    // standalone stream its client may read it after), as long as that stream still reaches the client. The
    // same sessions get it as ever, each once.
    const during = soleSessionCall(instance.callsInFlight());
    const onCallStream = during?.carriesNotifications?.() === true;
    for (const id of ids) {
      const session = this.options.session(id);
      if (!session?.canSee(server.name) || !session.wantsLog(level)) continue;
      if (onCallStream && during!.owner.sessionId === id) during!.sendNotification(notification);
      else session.notify(notification);
    }
  }

  private maskData(data: unknown): unknown {
    if (typeof data === 'string') return this.options.mask(data);
    if (data === undefined) return data;
    const text = JSON.stringify(data);
    const masked = this.options.mask(text);
    return masked === text ? data : (JSON.parse(masked) as unknown);
  }

  private relayResourceUpdate(instance: UpstreamInstance, params: Record<string, unknown>): void {
    const subscribers = this.options.subscriptions.subscribers(instance, params.uri as string);
    for (const [sessionId, publicUri] of subscribers) {
      this.options
        .session(sessionId)
        ?.notify({ method: 'notifications/resources/updated', params: { ...params, uri: publicUri } });
    }
  }

  private rememberElicitation(instance: UpstreamInstance, elicitationId: string, sessionId: string): void {
    const now = Date.now();
    if (this.elicitations.size >= MAX_PENDING_ELICITATIONS) {
      for (const [key, entry] of this.elicitations) if (entry.expires < now) this.elicitations.delete(key);
      if (this.elicitations.size >= MAX_PENDING_ELICITATIONS) {
        const oldest = this.elicitations.keys().next().value;
        if (oldest !== undefined) this.elicitations.delete(oldest);
      }
    }
    this.elicitations.set(`${instance.id}\0${elicitationId}`, { sessionId, expires: now + ELICITATION_TTL_MS });
  }

  private relayElicitationComplete(
    server: UpstreamServer,
    instance: UpstreamInstance,
    params: Record<string, unknown>,
  ): void {
    const key = `${instance.id}\0${String(params.elicitationId)}`;
    const remembered = this.elicitations.get(key);
    this.elicitations.delete(key);
    const sessionId =
      remembered && remembered.expires >= Date.now() ? remembered.sessionId : instanceSessionOf(instance);
    const session = sessionId === undefined ? undefined : this.options.session(sessionId);
    if (!session?.canSee(server.name)) {
      server.log.debug(`elicitation ${String(params.elicitationId)} completed, but no session is waiting for it`);
      return;
    }
    session.notify({ method: 'notifications/elicitation/complete', params } as unknown as ServerNotification);
  }
}
