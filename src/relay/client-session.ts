import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CancelledNotificationSchema,
  type ClientCapabilities,
  ErrorCode,
  type JSONRPCRequest,
  type LoggingLevel,
  type Progress,
  type RequestId,
  RootsListChangedNotificationSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';

import type { Catalog } from '../catalog/catalog.js';
import type { GatewayConfig } from '../config/model.js';
import { GatewayError } from '../errors.js';
import { newSessionId } from '../state/replica.js';
import { requestTracer } from '../tracing/tracing.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';
import { CatalogView, type SessionScope } from './catalog-view.js';
import type { RelayContext, ToolSurface } from './context.js';
import { toWireError } from './errors.js';
import {
  ANY_RESULT,
  type Caller,
  callTool,
  complete,
  type Extra,
  getPrompt,
  readResource,
  SERVER_REQUEST_TIMEOUT_MS,
  subscribe,
  taskRequest,
  unsubscribe,
} from './forward.js';
import { dispatchRequestsDirectly } from './lean-dispatch.js';
import { DEFAULT_SESSION_LOG_LEVEL, LOG_LEVELS, passesLevel } from './log-levels.js';
import type { CallOrigin, Owner } from './owner.js';
import { paginate } from './pagination.js';
import { sharedSchemaValidator } from './schema-validator.js';

export type SessionTransportKind = 'streamable-http' | 'sse' | 'stdio' | 'bare-post' | 'stateless-http';

export { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';

type Params = Record<string, unknown>;

/** JSON-RPC code of the answer to a cancelled request (as the Python SDK and our bare POST answer it). */
const REQUEST_CANCELLED = -32800;

/**
 * One connected client: an SDK protocol server on the client's transport whose every request is answered
 * from the catalog or forwarded to the server that owns the name or URI. The SDK handles initialisation,
 * ping, cancellation and the routing of notifications to the right HTTP stream.
 */
export class ClientSession {
  /** `<replica>.<uuid>` behind a load balancer (src/state/replica.ts), a UUID on one machine. */
  readonly id = newSessionId();
  readonly openedAt = Date.now();
  readonly server: Server;
  /** Whose session this is: every call it makes carries this owner. */
  readonly owner: Owner;
  /** The level this client asked for with `logging/setLevel`; until then it receives info and above. */
  logLevel?: LoggingLevel;
  /**
   * Judges the session's access again under a reloaded config (set by the transport that made the session):
   * the new scope, or why it has none left.
   */
  reauthorize?: (config: GatewayConfig) => { ok: true; scope: SessionScope } | { ok: false; message: string };
  /** Settles once the session has ended, whoever ended it. */
  readonly whenClosed: Promise<void>;
  private closed = false;
  private resolveClosed!: () => void;

  constructor(
    private readonly context: RelayContext,
    readonly transportKind: SessionTransportKind,
    /** What the session may see; replaced when a reload narrows or widens its grant (`reauthorize`). */
    public scope: SessionScope = {},
    /** The credential group: `credential:<id>`, `anonymous` or `local`. */
    group = 'anonymous',
  ) {
    this.owner = { sessionId: this.id, group };
    this.whenClosed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.server = new Server(
      { name: GATEWAY_NAME, version: GATEWAY_VERSION },
      {
        capabilities: {
          tools: { listChanged: true },
          prompts: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          logging: {},
          completions: {},
          tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
        },
        instructions: context.instructions(this),
        jsonSchemaValidator: sharedSchemaValidator,
      },
    );
    // SDK v1 peers ignore a cancellation of request id 0: the gateway's requests to its client start at 1.
    (this.server as unknown as { _requestMessageId: number })._requestMessageId = 1;
    this.server.fallbackRequestHandler = (request, extra) => {
      const tracer = requestTracer();
      const answer = tracer
        ? tracer.serve(request, this, extra.requestInfo?.headers, () => this.dispatchForWire(request, extra))
        : this.dispatchForWire(request, extra);
      // Checked first so the hot path pays nothing when debug logging is off.
      if (this.context.log.isLevelEnabled('debug')) this.logExchange(request as JSONRPCRequest, answer);
      return answer;
    };
    // The SDK's own handler would answer before the access checks: the level is ours (per session, and it
    // decides what upstreams are asked for), so `logging/setLevel` goes through dispatch like any request.
    this.server.removeRequestHandler('logging/setLevel');
    this.server.setNotificationHandler(RootsListChangedNotificationSchema, () => this.context.onRootsChanged(this));
    this.server.onclose = () => this.onClosed();
    if (transportKind === 'streamable-http') {
      this.server.setNotificationHandler(CancelledNotificationSchema, ({ params }) =>
        this.answerCancelled(params.requestId, params.reason),
      );
    }
  }

  /**
   * A cancelled request over Streamable HTTP: its POST (a JSON answer or an SSE stream) stays open until the
   * request is answered, and the SDK answers nothing once a request is cancelled, so the exchange, the socket
   * and the session's busy state would last until the client hung up. The request is aborted as the SDK would,
   * then answered as cancelled (a client ignores an answer that arrives after its cancellation).
   */
  private answerCancelled(requestId: RequestId | undefined, reason: string | undefined): void {
    if (requestId === undefined) return;
    const running = (this.server as unknown as { _requestHandlerAbortControllers: Map<RequestId, AbortController> })
      ._requestHandlerAbortControllers;
    const controller = running.get(requestId);
    if (!controller) return;
    controller.abort(reason);
    const answer = {
      jsonrpc: '2.0' as const,
      id: requestId,
      error: { code: REQUEST_CANCELLED, message: 'Request cancelled' },
    };
    this.server.transport?.send(answer, { relatedRequestId: requestId }).catch(() => {});
  }

  /** The catalog as this session may see it; built per use, since the catalog is swapped on every change. */
  get view(): CatalogView {
    return new CatalogView(this.catalog, this.scope);
  }

  /** The catalog behind the view: the gateway's, or this session's own once it has instances of its own. */
  get catalog(): Catalog {
    return this.context.catalogFor(this.id);
  }

  /** What the client declared it can do at `initialize` (nothing before). */
  get clientCapabilities(): ClientCapabilities {
    return this.server.getClientCapabilities() ?? {};
  }

  /** Whether this session may see a server (its namespaces, endpoint and rules allow it). */
  canSee(server: string): boolean {
    return this.view.hasServer(server);
  }

  get clientName(): string | undefined {
    return this.server.getClientVersion()?.name;
  }

  async connect(transport: Transport): Promise<void> {
    await this.server.connect(transport);
    dispatchRequestsDirectly(this.server, transport);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.server.close().catch(() => {});
    this.onClosed();
  }

  /**
   * Where a server's request (sampling, elicitation, roots) goes when it arises from work this session
   * started without a request of its own to answer on, such as a tool called from Code Mode's `execute`.
   */
  get origin(): CallOrigin {
    const capabilities = () => this.clientCapabilities;
    return {
      owner: this.owner,
      get capabilities() {
        return capabilities();
      },
      sendRequest: (request: JSONRPCRequest, signal: AbortSignal) =>
        this.server.request({ method: request.method, params: request.params } as ServerRequest, ANY_RESULT, {
          signal,
          timeout: SERVER_REQUEST_TIMEOUT_MS,
        }) as Promise<Record<string, unknown>>,
      sendNotification: (notification: ServerNotification) => this.notify(notification),
      wantsLog: (level: LoggingLevel) => this.wantsLog(level),
    };
  }

  /** Sends a notification unless the session is gone; never throws. */
  notify(notification: ServerNotification): void {
    if (this.closed) return;
    this.server.notification(notification).catch(() => {});
  }

  /** Whether a log message of `level` passes the level this client set (info and above when it set none). */
  wantsLog(level: LoggingLevel): boolean {
    return passesLevel(level, this.logLevel ?? DEFAULT_SESSION_LOG_LEVEL);
  }

  private logExchange(request: JSONRPCRequest, answer: Promise<Record<string, unknown>>): void {
    const started = performance.now();
    const log = this.context.log;
    log.debug(
      { session: this.id, id: request.id },
      `→ ${request.method} ${clip(JSON.stringify(request.params ?? {}))}`,
    );
    answer.then(
      (result) =>
        log.debug(
          { session: this.id, id: request.id },
          `← ${request.method} ${elapsed(started)} ${clip(JSON.stringify(result))}`,
        ),
      (error: unknown) =>
        log.debug(
          { session: this.id, id: request.id },
          `← ${request.method} ${elapsed(started)} error: ${clip(String((error as Error).message))}`,
        ),
    );
  }

  /** False when a call names a tool or prompt not (yet) in the catalog: during start-up it may still come. */
  private knowsTarget(method: string, params: Params, surface: ToolSurface | undefined): boolean {
    const name = typeof params.name === 'string' ? params.name : '';
    if (method === 'tools/call') return surface !== undefined || !!this.catalog.findTool(name);
    if (method === 'prompts/get') return !!this.catalog.findPrompt(name);
    return true;
  }

  /** One page of a list the gateway answers, under the list's own key (`tools`, `prompts`, …). */
  private page(key: string, items: readonly unknown[], cursor: unknown): Record<string, unknown> {
    const { items: page, nextCursor } = paginate(key, items, cursor, this.context.pageSize());
    return { [key]: page, ...(nextCursor === undefined ? {} : { nextCursor }) };
  }

  private setLogLevel(params: Params): Record<string, unknown> {
    const level = params.level;
    if (typeof level !== 'string' || !LOG_LEVELS.includes(level as LoggingLevel)) {
      throw new GatewayError('INVALID_PARAMS', `"level" must be one of ${LOG_LEVELS.join(', ')}`);
    }
    this.logLevel = level as LoggingLevel;
    this.context.onLogLevelChanged(this);
    return {};
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.context.onSessionClosed(this);
    this.resolveClosed();
  }

  /**
   * Answers one request as this session would, on behalf of `caller` (a 2026-07-28 client's request carries
   * its own owner and capabilities; a session's own requests are the session's).
   */
  dispatchAs(request: JSONRPCRequest, extra: Extra, caller: Caller): Promise<Record<string, unknown>> {
    const run = () => this.dispatch(request, extra, caller);
    const tracer = requestTracer();
    return tracer ? tracer.serve(request, this, extra.requestInfo?.headers, run) : run();
  }

  /** `dispatch`, its errors as the client is answered them. */
  private dispatchForWire(
    request: { method: string; params?: unknown },
    extra: Extra,
  ): Promise<Record<string, unknown>> {
    return this.dispatch(request as JSONRPCRequest, extra).catch(rethrowAsWireError);
  }

  private dispatch(request: JSONRPCRequest, extra: Extra, caller: Caller = this): Promise<Record<string, unknown>> {
    try {
      const params = (request.params ?? {}) as Params;
      // Looked up once per request: it decides both the start-up wait and where tools requests go.
      const surface = request.method.startsWith('tools/') ? this.context.toolSurface(this) : undefined;
      // The usual request, a call of a tool the catalog has, waits for nothing: its promise is the call's own,
      // with no async step of the dispatch added after it.
      if (request.method === 'tools/call' && !surface && this.knowsTarget(request.method, params, surface)) {
        return callTool(this.context, caller, this.view, params, extra);
      }
      return this.dispatchAny(request, extra, caller, params, surface);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private async dispatchAny(
    request: JSONRPCRequest,
    extra: Extra,
    caller: Caller,
    params: Params,
    surface: ToolSurface | undefined,
  ): Promise<Record<string, unknown>> {
    const lists = request.method.endsWith('/list');
    if (lists || !this.knowsTarget(request.method, params, surface)) await this.context.whenStarted();
    if (lists) await this.context.prepareLists(this);
    const view = this.view;
    switch (request.method) {
      case 'tools/list':
        return this.page('tools', surface ? surface.listTools() : view.tools(), params.cursor);
      case 'tools/call': {
        if (!surface) return callTool(this.context, caller, view, params, extra);
        const name = typeof params.name === 'string' ? params.name : '';
        const args = (params.arguments ?? {}) as Record<string, unknown>;
        // Progress goes out in order and before the result, as forward() does for direct calls.
        const token = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
        let sent = Promise.resolve();
        const progress = (update: Progress): void => {
          const notification = { method: 'notifications/progress', params: { ...update, progressToken: token } };
          sent = sent.then(() => extra.sendNotification(notification as ServerNotification)).catch(() => {});
        };
        const context = { signal: extra.signal, session: this, ...(token === undefined ? {} : { progress }) };
        const result = await surface.callTool(name, args, context);
        await sent;
        return result;
      }
      case 'prompts/list':
        return this.page('prompts', view.prompts(), params.cursor);
      case 'prompts/get':
        return getPrompt(this.context, caller, view, params, extra);
      case 'resources/list':
        return this.page('resources', view.resources(), params.cursor);
      case 'resources/templates/list':
        return this.page('resourceTemplates', view.templates(), params.cursor);
      case 'resources/read':
        return readResource(this.context, caller, view, params, extra);
      case 'resources/subscribe':
        return subscribe(this.context, this, params, extra);
      case 'resources/unsubscribe':
        return unsubscribe(this.context, this, params, extra);
      case 'completion/complete':
        return complete(this.context, caller, view, params, extra);
      case 'logging/setLevel':
        return this.setLogLevel(params);
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/cancel':
      case 'tasks/list':
        return taskRequest(this.context, caller, request.method, params, extra);
      default:
        throw Object.assign(new Error(`Method not found: ${request.method}`), { code: ErrorCode.MethodNotFound });
    }
  }
}

function rethrowAsWireError(error: unknown): never {
  throw toWireError(error);
}

const LOGGED_BODY_CHARS = 500;

function clip(text: string): string {
  return text.length <= LOGGED_BODY_CHARS ? text : `${text.slice(0, LOGGED_BODY_CHARS)}… (${text.length} chars)`;
}

function elapsed(started: number): string {
  return `${(performance.now() - started).toFixed(1)} ms`;
}
