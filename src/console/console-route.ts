import type { IncomingMessage, ServerResponse } from 'node:http';

import type { AuditLog } from '../access/audit.js';
import { grantAccess } from '../access/policy.js';
import { guardSession } from '../access/session-guard.js';
import type { OAuthService } from '../auth/oauth-service.js';
import { secretValues } from '../config/secrets.js';
import { errorMessage, isGatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { LogTail } from '../observability/log-tail.js';
import { createSecretMasker } from '../observability/redact.js';
import { screenBody } from '../relay/bounds.js';
import { answerBarePost } from '../serve/bare-post.js';
import { HttpError, readJsonBody } from '../serve/http-body.js';
import type { RateBudget } from '../state/store.js';
import { identifyViewer, type Viewer } from './console-access.js';
import { BUILT_IN_ACTIONS, ConsoleActions } from './console-actions.js';
import { CONSOLE_ASSETS, CONSOLE_CSP, CONSOLE_HTML } from './console-page.js';
import { consoleCatalog, consoleState } from './console-state.js';
import { ConsoleStreams, MAX_CONSOLE_STREAMS } from './console-stream.js';
import type { ReloadHistory } from './reload-history.js';
import { signInAction } from './sign-in-action.js';

export interface ConsoleOptions {
  gateway: Gateway;
  /** The HTTP server's OAuth service, so OAuth access tokens open the console as they open /mcp. */
  oauth?: OAuthService;
  history?: ReloadHistory;
  tail?: LogTail;
  /** Actions beyond restart, start and stop are registered here. */
  actions?: ConsoleActions;
  /** Tool calls from the console's try-it form are audited and rate limited like any client's. */
  audit?: AuditLog;
  limiter?: RateBudget;
}

export type ConsoleRouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface OperatorConsole {
  /** The route to mount (`http.addRoute(console.route)`). */
  route: ConsoleRouteHandler;
  actions: ConsoleActions;
  /** Ends the open console streams. */
  close(): void;
}

/** Largest accepted request body of the console's API (try-it arguments). */
const MAX_CONSOLE_BODY_BYTES = 1024 * 1024;
const API_METHODS: Record<string, 'GET' | 'POST' | undefined> = {
  state: 'GET',
  events: 'GET',
  call: 'POST',
  action: 'POST',
  approve: 'POST',
};
const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The operator console at `/`: the page and its assets, and its API under `/console/api/`:
 * `GET state` (one snapshot), `GET events` (pushed updates, Server-Sent Events), `POST call` (try a tool, as the
 * caller's own MCP session would), `POST action` (restart, start, stop, and registered actions) and
 * `POST approve` (a changed tool). Reading needs a credential where the config requires one; actions need
 * the admin role. Credentials come in `Authorization: Bearer` (the page keeps the token in sessionStorage).
 *
 * @example
 * const operator = createConsole({ gateway, oauth: http.oauth, history, tail });
 * http.addRoute(operator.route);
 */
export function createConsole(options: ConsoleOptions): OperatorConsole {
  const { gateway } = options;
  const actions = options.actions ?? new ConsoleActions([...BUILT_IN_ACTIONS, signInAction(gateway.upstreamOAuth)]);
  const mask = createSecretMasker(() => secretValues(gateway.config));
  const sources = { gateway, actions, ...(options.history ? { history: options.history } : {}) };
  const streams = new ConsoleStreams({ ...sources, ...(options.tail ? { tail: options.tail } : {}), mask });
  const json = (res: ServerResponse, status: number, value: unknown) => {
    const body = mask(JSON.stringify(value));
    res
      .writeHead(status, {
        ...SECURITY_HEADERS,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      })
      .end(body);
  };
  const refuse = (res: ServerResponse, status: number, message: string) => json(res, status, { error: message });

  async function api(req: IncomingMessage, res: ServerResponse, endpoint: string): Promise<void> {
    const who = await identifyViewer(req, gateway.config, options.oauth);
    if (!who.ok) {
      if (who.status === 401) res.setHeader('www-authenticate', 'Bearer realm="mcproxy"');
      return refuse(res, who.status, who.message);
    }
    const { viewer } = who;
    const expected = Object.hasOwn(API_METHODS, endpoint) ? API_METHODS[endpoint] : undefined;
    if (!expected) return refuse(res, 404, `no console API "${endpoint}"`);
    if (req.method !== expected) {
      res.setHeader('allow', expected);
      return refuse(res, 405, `use ${expected} for /console/api/${endpoint}`);
    }
    switch (endpoint) {
      case 'state':
        return json(res, 200, {
          state: consoleState(sources, viewer),
          catalog: consoleCatalog(gateway, viewer),
          log: options.tail?.entries() ?? [],
        });
      case 'events':
        if (streams.size >= MAX_CONSOLE_STREAMS) return refuse(res, 503, 'too many open consoles; close one');
        return streams.open(res, viewer);
      case 'call':
        return tryTool(req, res, viewer);
      case 'action':
        return runAction(req, res, viewer);
      default:
        return approve(req, res, viewer);
    }
  }

  /** The body of a POST: a JSON object, sent as application/json (a form on another site cannot send that). */
  async function body(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      refuse(res, 415, 'send application/json');
      return undefined;
    }
    try {
      const value = await readJsonBody(req, MAX_CONSOLE_BODY_BYTES);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
      refuse(res, 400, 'expected a JSON object');
    } catch (error) {
      refuse(res, error instanceof HttpError ? error.status : 400, errorMessage(error));
    }
    return undefined;
  }

  /** Calls a tool as the viewer's own MCP session would: the same grant, rate limit and audit log. */
  async function tryTool(req: IncomingMessage, res: ServerResponse, viewer: Viewer): Promise<void> {
    const input = await body(req, res);
    if (!input) return;
    const { tool, arguments: args } = input;
    if (typeof tool !== 'string' || tool === '') return refuse(res, 400, '"tool" must be a tool name');
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      return refuse(res, 400, '"arguments" must be a JSON object');
    }
    const granted = grantAccess(gateway.config, {
      principal: viewer.principal,
      endpoint: { kind: 'gateway' },
      via: 'console',
      ...(options.audit ? { audit: options.audit } : {}),
    });
    if (!granted.ok) return refuse(res, granted.status, granted.message);
    const { grant } = granted;
    const request = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args ?? {} } };
    await answerBarePost(gateway, screenBody(request), res, {
      scope: grant.scope,
      owner: grant.owner,
      setup: (session) =>
        guardSession(session, {
          grant,
          ...(options.limiter ? { limiter: options.limiter } : {}),
          config: () => gateway.config,
        }),
    });
  }

  async function runAction(req: IncomingMessage, res: ServerResponse, viewer: Viewer): Promise<void> {
    const input = await body(req, res);
    if (!input) return;
    const server = typeof input.server === 'string' ? gateway.server(input.server) : undefined;
    if (!server) return refuse(res, 404, `no server "${String(input.server)}"`);
    try {
      json(res, 200, await actions.run(String(input.action), server, { gateway, viewer }));
    } catch (error) {
      actionFailed(res, error);
    }
  }

  async function approve(req: IncomingMessage, res: ServerResponse, viewer: Viewer): Promise<void> {
    const input = await body(req, res);
    if (!input) return;
    if (!viewer.admin) return refuse(res, 403, 'approving a changed tool needs a credential with the admin role');
    const { server, tool } = input;
    if (typeof server !== 'string' || typeof tool !== 'string') return refuse(res, 400, 'expected "server" and "tool"');
    try {
      gateway.pinning.approve(server, tool, viewer.label);
      json(res, 200, { message: `Approved ${server}/${tool}` });
    } catch (error) {
      actionFailed(res, error);
    }
  }

  function actionFailed(res: ServerResponse, error: unknown): void {
    const status = isGatewayError(error, 'ACCESS_DENIED')
      ? 403
      : isGatewayError(error, 'INVALID_PARAMS') || isGatewayError(error, 'TOOL_NOT_FOUND')
        ? 409
        : 500;
    refuse(res, status, errorMessage(error));
  }

  return {
    actions,
    close: () => streams.closeAll(),
    async route(req, res, url) {
      const method = req.method ?? 'GET';
      if (url.pathname.startsWith('/console/api/')) {
        await api(req, res, url.pathname.slice('/console/api/'.length));
        return true;
      }
      if (method !== 'GET' && method !== 'HEAD') return false;
      const page =
        url.pathname === '/' ? { type: 'text/html; charset=utf-8', body: CONSOLE_HTML } : CONSOLE_ASSETS[url.pathname];
      if (!page) return false;
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': page.type,
        'content-length': Buffer.byteLength(page.body),
      });
      res.end(method === 'HEAD' ? undefined : page.body);
      return true;
    },
  };
}
