import { randomUUID } from 'node:crypto';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  type JSONRPCRequest,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

import type { CallOrigin } from '../upstream/upstream.js';
import { CatalogView, type SessionScope } from './catalog-view.js';
import type { RelayContext, ToolSurface } from './context.js';
import { toWireError } from './errors.js';
import {
  ANY_RESULT,
  callTool,
  complete,
  type Extra,
  getPrompt,
  readResource,
  SERVER_REQUEST_TIMEOUT_MS,
  subscribe,
  unsubscribe,
} from './forward.js';
import { sharedSchemaValidator } from './schema-validator.js';

export type SessionTransportKind = 'streamable-http' | 'sse' | 'stdio' | 'bare-post';

export const GATEWAY_NAME = 'mcproxy';
export const GATEWAY_VERSION = '0.1.0';

const LOG_SEVERITY: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

type Params = Record<string, unknown>;

/**
 * One connected client: an SDK protocol server on the client's transport whose every request is answered
 * from the catalog or forwarded to the server that owns the name or URI. The SDK handles initialisation,
 * ping, cancellation and the routing of notifications to the right HTTP stream.
 */
export class ClientSession {
  readonly id = randomUUID();
  readonly server: Server;
  logLevel?: LoggingLevel;
  /** Settles once the session has ended, whoever ended it. */
  readonly whenClosed: Promise<void>;
  private closed = false;
  private resolveClosed!: () => void;

  constructor(
    private readonly context: RelayContext,
    readonly transportKind: SessionTransportKind,
    readonly scope: SessionScope = {},
  ) {
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
        },
        instructions: context.instructions(),
        jsonSchemaValidator: sharedSchemaValidator,
      },
    );
    // SDK v1 peers ignore a cancellation of request id 0: the gateway's requests to its client start at 1.
    (this.server as unknown as { _requestMessageId: number })._requestMessageId = 1;
    this.server.fallbackRequestHandler = (request, extra) => {
      const answer = this.dispatch(request as JSONRPCRequest, extra).catch((error: unknown) => {
        throw toWireError(error);
      });
      // Checked first so the hot path pays nothing when debug logging is off.
      if (this.context.log.isLevelEnabled('debug')) this.logExchange(request as JSONRPCRequest, answer);
      return answer;
    };
    // Our own handler replaces the SDK's: the level also goes upstream, and filtering is ours.
    this.server.setRequestHandler(SetLevelRequestSchema, (request) => {
      this.logLevel = request.params.level;
      this.context.onLogLevelChanged();
      return {};
    });
    this.server.onclose = () => this.onClosed();
  }

  /** The catalog as this session may see it; built per use, since the catalog is swapped on every change. */
  get view(): CatalogView {
    return new CatalogView(this.context.catalog, this.scope);
  }

  get clientName(): string | undefined {
    return this.server.getClientVersion()?.name;
  }

  connect(transport: Transport): Promise<void> {
    return this.server.connect(transport);
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
    return {
      sendRequest: (request: JSONRPCRequest, signal: AbortSignal) =>
        this.server.request({ method: request.method, params: request.params } as ServerRequest, ANY_RESULT, {
          signal,
          timeout: SERVER_REQUEST_TIMEOUT_MS,
        }) as Promise<Record<string, unknown>>,
    };
  }

  /** Sends a notification unless the session is gone; never throws. */
  notify(notification: ServerNotification): void {
    if (this.closed) return;
    this.server.notification(notification).catch(() => {});
  }

  /** Whether a log message of `level` passes the level this client set (all pass when it set none). */
  wantsLog(level: LoggingLevel): boolean {
    return this.logLevel === undefined || LOG_SEVERITY[level] >= LOG_SEVERITY[this.logLevel];
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
    if (method === 'tools/call') return surface !== undefined || !!this.context.catalog.findTool(name);
    if (method === 'prompts/get') return !!this.context.catalog.findPrompt(name);
    return true;
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.context.onSessionClosed(this);
    this.resolveClosed();
  }

  private async dispatch(request: JSONRPCRequest, extra: Extra): Promise<Record<string, unknown>> {
    const params = (request.params ?? {}) as Params;
    // Looked up once per request: it decides both the start-up wait and where tools requests go.
    const surface = request.method.startsWith('tools/') ? this.context.toolSurface(this) : undefined;
    if (request.method.endsWith('/list') || !this.knowsTarget(request.method, params, surface)) {
      await this.context.whenStarted();
    }
    if (request.method.endsWith('/list')) await this.context.startLazyServers();
    const view = this.view;
    switch (request.method) {
      case 'tools/list':
        return { tools: surface ? surface.listTools() : view.tools() };
      case 'tools/call': {
        if (!surface) return callTool(this.context, view, params, extra);
        const name = typeof params.name === 'string' ? params.name : '';
        const args = (params.arguments ?? {}) as Record<string, unknown>;
        return surface.callTool(name, args, { signal: extra.signal, session: this });
      }
      case 'prompts/list':
        return { prompts: view.prompts() };
      case 'prompts/get':
        return getPrompt(this.context, view, params, extra);
      case 'resources/list':
        return { resources: view.resources() };
      case 'resources/templates/list':
        return { resourceTemplates: view.templates() };
      case 'resources/read':
        return readResource(this.context, view, params, extra);
      case 'resources/subscribe':
        return subscribe(this.context, this, params, extra);
      case 'resources/unsubscribe':
        return unsubscribe(this.context, this, params, extra);
      case 'completion/complete':
        return complete(this.context, view, params, extra);
      default:
        throw Object.assign(new Error(`Method not found: ${request.method}`), { code: ErrorCode.MethodNotFound });
    }
  }
}

const LOGGED_BODY_CHARS = 500;

function clip(text: string): string {
  return text.length <= LOGGED_BODY_CHARS ? text : `${text.slice(0, LOGGED_BODY_CHARS)}… (${text.length} chars)`;
}

function elapsed(started: number): string {
  return `${(performance.now() - started).toFixed(1)} ms`;
}
