import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import type { AuditLog } from '../access/audit.js';
import {
  type AccessGrant,
  describeGrant,
  grantAccess,
  type GrantRequest,
  reauthorization,
  regrantAccess,
} from '../access/policy.js';
import { guardSession } from '../access/session-guard.js';
import { OAuthService } from '../auth/oauth-service.js';
import { upstreamSignInRoute } from '../auth/upstream/sign-in-routes.js';
import { DEFAULT_API_KEY_HEADER, type GatewayConfig } from '../config/model.js';
import { secretValues } from '../config/secrets.js';
import { errorMessage } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { createSecretMasker } from '../observability/redact.js';
import { isModernMessage } from '../protocol/modern.js';
import { screenBody } from '../relay/bounds.js';
import type { ClientSession } from '../relay/client-session.js';
import { MemoryStateStore } from '../state/memory-store.js';
import type { RateBudget, StateStore } from '../state/store.js';
import { answerBarePost, countRequests } from './bare-post.js';
import { ClientErrorReplies } from './client-error-replies.js';
import { type EndpointPath, parseEndpointPath } from './endpoint-path.js';
import { type CachedAccess, GrantCache, grantKey } from './grant-cache.js';
import {
  authenticateRequest,
  credentialInQuery,
  namespaceOrigins,
  requestAddress,
  sendAccessRefusal,
  sendCredentialInQuery,
  sendRateLimited,
} from './http-access.js';
import { DEFAULT_MAX_BODY_BYTES, HttpError, readJsonBody, sendJson, sendRpcError } from './http-body.js';
import { hasRefusal, sendRefusals } from './refusals.js';
import {
  type GuardOptions,
  isLoopback,
  isOriginAllowedByDefault,
  isOriginListed,
  RequestGuard,
} from './request-guard.js';
import { type SessionLimits, sessionLimits, SessionSlots } from './session-slots.js';
import { SseEndpoint } from './sse.js';
import { StatelessEndpoint } from './stateless-http.js';
import { StreamableHttpEndpoint } from './streamable-http.js';
import type { TlsFiles } from './tls.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  jsonResponse?: boolean;
  maxBodyBytes?: number;
  /** Host names accepted besides loopback, on top of the config's `allowed_hosts`. */
  allowedHosts?: string[];
  /** Origins accepted, on top of the config's `allowed_origins`. */
  allowedOrigins?: string[];
  sseHeartbeatMs?: number;
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsFiles;
  /** Where every tool call of an HTTP client is recorded. */
  audit?: AuditLog;
  /** The clock of OAuth token expiry, in ms since the epoch (tests move it). */
  clock?: () => number;
  /** A connection that has not sent its request headers within this long is closed (slow-header clients). */
  headersTimeoutMs?: number;
  /** Where rate budgets and the built-in OAuth server's grants are kept; this process's memory when absent. */
  state?: StateStore;
}

/** Extra routes other features mount (status page, metrics), answered before the MCP endpoints. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** Headers beyond this many bytes are refused with 431 before any handler runs. */
const MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** How often Node looks for connections past their timeouts; a look at thousands of connections costs microseconds. */
const CONNECTIONS_CHECK_MS = 100;
/** A request body must have arrived this long after its headers. */
const REQUEST_TIMEOUT_MS = 60_000;

const CORS_HEADERS = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate, retry-after',
};
const CORS_ALLOW_HEADERS =
  'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name, traceparent, tracestate';
/** Header names a browser may ask to send besides the fixed list: a tool's `Mcp-Param-*` (2026-07-28). */
const PARAM_HEADER = /^mcp-param-[a-z0-9-]{1,128}$/;
const NO_QUERY: URLSearchParams = new URLSearchParams();
/** Endpoint paths classified once and kept (a gateway has few); past this many, the others are classified each time. */
const MAX_KNOWN_PATHS = 256;

/** What the request path reads of a config, made once per config object rather than once per request. */
interface ConfigView {
  config: GatewayConfig;
  guard: GuardOptions;
  /** The guard of Host and Origin, with every origin some namespace lists (the namespace check narrows later). */
  requestGuard: RequestGuard;
  apiKeyHeader: string;
  sessionLimits: SessionLimits;
}

/** An endpoint path as `parseEndpointPath` classifies it. */
type EndpointTarget = Extract<EndpointPath, { kind: 'endpoint' }>;

/**
 * The gateway's HTTP face: `/mcp`, `/sse` + `/message`, the same per namespace under `/ns/<namespace>/`,
 * `/mcp/<server>`, the bare POST shortcut, `/health` and `/ready`. Every MCP request is authenticated and
 * scoped by `grantAccess`; every new session is guarded. The only module that opens a socket.
 */
export class GatewayHttpServer {
  readonly streamable: StreamableHttpEndpoint;
  readonly stateless: StatelessEndpoint;
  readonly sse: SseEndpoint;
  readonly limiter: RateBudget;
  /** Set once the server starts closing: `/ready` says no, so a load balancer stops sending new clients. */
  private draining = false;
  /** OAuth: resource metadata, token checks and the built-in authorization server (idle without `auth.oauth`). */
  readonly oauth: OAuthService;
  /** Every HTTP session (Streamable HTTP and SSE alike) holds one of these; the config's `sessions` bounds them. */
  readonly sessionSlots: SessionSlots;
  private readonly server: Server | HttpsServer;
  private readonly routes: RouteHandler[] = [];
  private readonly mask = createSecretMasker(() => secretValues(this.gateway.config));
  /** Access decisions of the config in force, so that a session's repeated requests are not judged anew. */
  private readonly grants = new GrantCache();
  private view?: ConfigView;
  private readonly knownPaths = new Map<string, EndpointPath>();

  constructor(
    private readonly gateway: Gateway,
    private readonly options: HttpServerOptions,
  ) {
    const state = options.state ?? new MemoryStateStore();
    this.limiter = state.rates;
    // Read as every exchange of a session closes: from the config's view, not made anew each time.
    this.sessionSlots = new SessionSlots(() => this.viewOf(gateway.config).sessionLimits);
    this.streamable = new StreamableHttpEndpoint(gateway, this.sessionSlots, { jsonResponse: options.jsonResponse });
    this.stateless = new StatelessEndpoint(gateway);
    this.sse = new SseEndpoint(gateway, this.sessionSlots, { heartbeatMs: options.sseHeartbeatMs });
    this.oauth = new OAuthService({
      config: () => gateway.config,
      log: gateway.log,
      state,
      ...(options.audit ? { audit: options.audit } : {}),
      ...(options.clock ? { now: options.clock } : {}),
    });
    this.routes.push(
      this.oauth.route,
      upstreamSignInRoute(gateway.upstreamOAuth, () => gateway.config),
    );
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      this.route(req, res).catch((error: unknown) => {
        // The path only: a query string may hold what must not be logged.
        gateway.log.error(`HTTP ${req.method} ${(req.url ?? '').split('?', 1)[0]} failed: ${errorMessage(error)}`);
        sendRpcError(res, 500, -32603, this.mask(`Internal error: ${errorMessage(error)}`));
      });
    };
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const limits = {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout,
      requestTimeout: Math.max(REQUEST_TIMEOUT_MS, headersTimeout),
      // Node checks both timeouts this often (30 s by default, which would let slow clients stay three times longer).
      // Often, so that each check finds few connections expired: Node reports all it finds in one turn.
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      // route() refuses a request without Host itself: Node's own refusal is a bare 400 that says nothing.
      requireHostHeader: false,
    };
    this.server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...limits }, handle)
      : createServer(limits, handle);
    this.server.on('clientError', new ClientErrorReplies(MAX_HEADER_BYTES).onClientError);
  }

  /** Adds a route for the paths that are not MCP endpoints (those are answered before any route is asked). */
  addRoute(handler: RouteHandler): void {
    this.routes.push(handler);
  }

  /** Listens and resolves with the URL actually bound (port 0 picks a free port). */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        const url = `${this.options.tls ? 'https' : 'http'}://${host}:${address.port}`;
        try {
          this.oauth.bind(url);
          this.gateway.upstreamOAuth.bind(url);
        } catch (error) {
          this.server.close();
          return reject(error as Error);
        }
        if (!this.options.tls && !isLoopback(this.options.host) && (this.gateway.config.auth?.tokens.length ?? 0) > 0) {
          this.gateway.log.warn('credentials are configured but TLS is not: tokens cross the network in clear text');
        }
        resolve(url);
      });
    });
  }

  /** Stops accepting, ends every session, then closes the remaining connections. */
  async close(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.stateless.closeAll();
    await Promise.allSettled([this.streamable.closeAll(), this.sse.closeAll(), this.oauth.close()]);
    this.server.closeAllConnections();
    await closed;
  }

  private viewOf(config: GatewayConfig): ConfigView {
    if (this.view?.config === config) return this.view;
    const guard: GuardOptions = {
      bindHost: this.options.host,
      allowedHosts: [...(this.options.allowedHosts ?? []), ...(config.allowedHosts ?? [])],
      allowedOrigins: [...(this.options.allowedOrigins ?? []), ...(config.allowedOrigins ?? [])],
    };
    const requestGuard = new RequestGuard({
      ...guard,
      allowedOrigins: [...(guard.allowedOrigins ?? []), ...namespaceOrigins(config)],
    });
    const apiKeyHeader = config.auth?.apiKeyHeader ?? DEFAULT_API_KEY_HEADER;
    this.view = { config, guard, requestGuard, apiKeyHeader, sessionLimits: sessionLimits(config) };
    return this.view;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      return sendRpcError(res, 400, -32600, 'Bad Request: an HTTP/1.1 request must carry a Host header');
    }
    const config = this.gateway.config;
    const view = this.viewOf(config);
    // Origins a namespace lists pass here; the namespace check later keeps them to that namespace.
    const verdict = view.requestGuard.check(req.headers.host, req.headers.origin);
    if (!verdict.ok) return sendRpcError(res, verdict.status, -32000, verdict.message);
    const rawUrl = req.url ?? '/';
    const target = this.targetOf(rawUrl);
    if (target.kind === 'invalid') return sendRpcError(res, target.status, -32600, target.message);
    if (target.kind === 'endpoint') {
      // An endpoint reads the query of its URL and nothing else: no URL object for the path it was matched by.
      const query = queryOf(rawUrl);
      if (this.answeredBeforeRouting(req, res, query, config, view)) return;
      // Awaited rather than returned: an async function that returns a promise takes a job and a promise more.
      await this.endpointRequest(req, res, query, target, config, view);
      return;
    }
    const url = new URL(rawUrl, 'http://gateway.invalid');
    if (this.answeredBeforeRouting(req, res, url.searchParams, config, view)) return;
    if (url.pathname === '/metrics' && !(await this.operatorAllowed(req, res, config))) return;
    for (const handler of this.routes) if (await handler(req, res, url)) return;

    switch (url.pathname) {
      case '/health': {
        const report = this.gateway.health();
        const body = this.mask(JSON.stringify(report));
        res
          .writeHead(report.status === 'ok' ? 200 : 503, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          })
          .end(body);
        return;
      }
      case '/ready': {
        // Ready: started, not draining, and its shared store (if any) answers; else a balancer skips it.
        const store = this.options.state;
        const storeHealthy = store === undefined || (await store.healthy());
        const ready = this.gateway.state === 'ready' && !this.draining && storeHealthy;
        return sendJson(res, ready ? 200 : 503, {
          ready,
          ...(this.draining ? { draining: true } : {}),
          ...(store && store.kind !== 'memory' ? { store: { kind: store.kind, healthy: storeHealthy } } : {}),
        });
      }
      default:
        return sendRpcError(res, 404, -32601, `Not found: ${url.pathname}`);
    }
  }

  /**
   * What every path does before its own handler: a credential in the query string is refused, a browser's request
   * (one with an Origin) gets its CORS headers, and a preflight is answered. True when the request was answered.
   */
  private answeredBeforeRouting(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    config: GatewayConfig,
    view: ConfigView,
  ): boolean {
    const inQuery = query === NO_QUERY ? undefined : credentialInQuery(query, config);
    if (inQuery !== undefined) {
      sendCredentialInQuery(res, inQuery);
      return true;
    }
    if (req.headers.origin) this.allowCors(req, res, view);
    if (req.method !== 'OPTIONS') return false;
    res.writeHead(204).end();
    return true;
  }

  /** What a raw request URL's path is, an endpoint's classification kept for its next request. */
  private targetOf(rawUrl: string): EndpointPath {
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const known = this.knownPaths.get(rawPath);
    if (known) return known;
    const target = parseEndpointPath(rawPath);
    if (target.kind === 'endpoint' && this.knownPaths.size < MAX_KNOWN_PATHS) this.knownPaths.set(rawPath, target);
    return target;
  }

  /** The CORS headers of a browser's request (one that carries an Origin). */
  private allowCors(req: IncomingMessage, res: ServerResponse, view: ConfigView): void {
    res.setHeader('access-control-allow-origin', req.headers.origin!);
    res.setHeader('vary', 'Origin');
    for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
    const params = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => PARAM_HEADER.test(name))
      .slice(0, 64);
    res.setHeader('access-control-allow-headers', [CORS_ALLOW_HEADERS, view.apiKeyHeader, ...params].join(', '));
  }

  /** `/metrics` names every server and tool: with credentials required, it needs one too. */
  private async operatorAllowed(req: IncomingMessage, res: ServerResponse, config: GatewayConfig): Promise<boolean> {
    if (!config.auth?.requireAuth || (config.auth.tokens.length === 0 && !config.auth.oauth)) return true;
    const who = await authenticateRequest(req, config, this.oauth);
    if (who.ok && who.principal.kind === 'credential') return true;
    sendAccessRefusal(res, who.ok ? { status: 401, message: 'Unauthorized: /metrics needs a credential' } : who, {
      oauth: this.oauth,
      ...(who.ok ? { principal: who.principal } : {}),
    });
    return false;
  }

  private async endpointRequest(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    target: EndpointTarget,
    config: GatewayConfig,
    view: ConfigView,
  ): Promise<void> {
    const { transport, path } = target;
    const method = req.method ?? '';
    if (transport === 'mcp' && method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      return methodNotAllowed(res, 'GET, POST, DELETE');
    }
    if (transport === 'sse' && method !== 'GET' && method !== 'POST') return methodNotAllowed(res, 'GET, POST');
    if (transport === 'message' && method !== 'POST') return methodNotAllowed(res, 'POST');

    const address = requestAddress(req, config);
    const key = grantKey(req, address, path, view.apiKeyHeader);
    const access =
      (key === undefined ? undefined : this.grants.get(config, key)) ??
      (await this.judge(req, res, target, config, view, address, key));
    if (access === undefined) return;
    const { grant, route } = access;

    if (transport === 'mcp' && method !== 'POST') return this.streamable.handle(req, res, undefined, route);
    if (transport === 'sse' && method === 'GET') {
      if (grant.rateLimit && !(await this.admit(res, grant, 1))) return;
      return this.sse.open(req, res, route);
    }
    let body: unknown;
    try {
      body = await readJsonBody(req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return sendRpcError(res, error.status, error.rpcCode, error.message);
    }
    const sessionId = transport === 'message' ? query.get('sessionId') : null;
    const inSession = transport === 'mcp' ? req.headers['mcp-session-id'] !== undefined : sessionId !== null;
    if (grant.rateLimit && !(await this.charge(res, grant, body, inSession))) return;
    // The one place every POSTed message is bounded, before any work is done on it.
    const screened = screenBody(body);

    if (transport === 'mcp') {
      if (hasRefusal(screened)) return sendRefusals(res, screened);
      // The 2026-07-28 era on the same URL: a session-less request that carries its version in _meta or header.
      if (!inSession && isModernMessage(body, req.headers['mcp-protocol-version']))
        return this.stateless.handle(req, res, body, { path, grant });
      await this.streamable.handle(req, res, body, route);
      return;
    }
    if (sessionId !== null) return this.sse.post(req, res, sessionId, screened, route);
    // A bare POST: its session lives for this one exchange, and its requests were counted here already.
    const bareSetup = this.sessionSetup(grant, access.grantRequest, path, 'bare');
    await answerBarePost(this.gateway, screened, res, { scope: grant.scope, owner: grant.owner, setup: bareSetup });
  }

  /**
   * Authenticates a request and decides its access (answering the refusal, if any); the decision is kept for the
   * same request's next time when `key` says it may be and its credential is no OAuth token.
   */
  private async judge(
    req: IncomingMessage,
    res: ServerResponse,
    target: EndpointTarget,
    config: GatewayConfig,
    view: ConfigView,
    address: string | undefined,
    key: string | undefined,
  ): Promise<CachedAccess | undefined> {
    const { endpoint, path, messagePath } = target;
    const who = await authenticateRequest(req, config, this.oauth, endpoint, address);
    if (!who.ok) return void sendAccessRefusal(res, who, { oauth: this.oauth, path });
    const origin = req.headers.origin;
    const guard = view.guard;
    const grantRequest: GrantRequest = {
      principal: who.principal,
      endpoint,
      via: path,
      ...(this.options.audit ? { audit: this.options.audit } : {}),
      ...(origin
        ? {
            originAllowed: (listed: readonly string[] | undefined) =>
              listed ? isOriginListed(origin, listed) : isOriginAllowedByDefault(origin, req.headers.host, guard),
          }
        : {}),
    };
    const result = grantAccess(config, grantRequest);
    if (!result.ok) {
      return void sendAccessRefusal(res, result, {
        oauth: this.oauth,
        path,
        principal: who.principal,
        config,
        endpoint,
      });
    }
    const { grant } = result;
    const owner = grant.owner;
    // Whose share of the session limits a new session takes: the credential, else the client's address.
    const client = grant.credential ? owner : `address:${address ?? 'unknown'}`;
    const setup = this.sessionSetup(grant, grantRequest, path, 'session');
    const access: CachedAccess = {
      principal: who.principal,
      grant,
      grantRequest,
      route: { path, messagePath, owner, client, scope: grant.scope, setup },
    };
    // An OAuth token's expiry and revocation are checked on every request.
    const oauthToken = who.principal.kind === 'credential' && who.principal.credential.oauth !== undefined;
    if (key !== undefined && !oauthToken) this.grants.set(config, key, access);
    return access;
  }

  /**
   * What is done to each new session: the guard of its requests and a log line; a bare POST's one-exchange
   * session gets the guard without the rate limit, since its requests were counted as they came in. Made apart
   * from the request handler, so that what a session keeps (the guard's closures) cannot keep a request alive.
   */
  private sessionSetup(
    grant: AccessGrant,
    grantRequest: GrantRequest,
    path: string,
    kind: 'session' | 'bare',
  ): (session: ClientSession) => void {
    const { gateway, limiter } = this;
    if (kind === 'bare') return (session) => guardSession(session, { grant, config: () => gateway.config });
    return function setupSession(session) {
      guardSession(session, { grant, limiter, config: () => gateway.config });
      // A reload judges the session again, by the request that opened it.
      session.reauthorize = (next) => reauthorization(regrantAccess(next, grantRequest));
      gateway.log.debug(`Session ${session.id} on ${path}: ${describeGrant(grant)}`);
    };
  }

  /**
   * Charges a POST's requests to the grant's rate limit, or answers 429 with Retry-After. Requests outside a
   * session (a bare POST, an initialize) are taken here, all of a batch or none; inside a session each request is
   * taken as the session answers it, and a batch that could not fit as a whole is refused here.
   */
  private async charge(res: ServerResponse, grant: AccessGrant, body: unknown, inSession: boolean): Promise<boolean> {
    const count = countRequests(body);
    if (count === 0 || (inSession && count === 1)) return true;
    return this.admit(res, grant, count, inSession ? 'check' : 'take');
  }

  /** Takes (or only checks) `count` requests of the grant's rate limit, or answers 429 with Retry-After. */
  private async admit(
    res: ServerResponse,
    grant: AccessGrant,
    count: number,
    how: 'take' | 'check' = 'take',
  ): Promise<boolean> {
    const limit = grant.rateLimit;
    if (!limit) return true;
    const decision = await this.limiter[how](limit.key, limit.perMinute, count);
    if (decision.ok) return true;
    sendRateLimited(res, limit.perMinute, decision, count);
    return false;
  }
}

/** The query of a raw request URL, as `new URL(...).searchParams` reads it (up to a fragment). */
function queryOf(rawUrl: string): URLSearchParams {
  const at = rawUrl.indexOf('?');
  if (at === -1) return NO_QUERY;
  const fragment = rawUrl.indexOf('#', at);
  return new URLSearchParams(rawUrl.slice(at + 1, fragment === -1 ? undefined : fragment));
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendRpcError(res, 405, -32000, `Method not allowed; use ${allow}`);
}
