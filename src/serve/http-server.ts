import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { errorMessage } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { answerBarePost } from './bare-post.js';
import { DEFAULT_MAX_BODY_BYTES, HttpError, readJsonBody, sendJson, sendRpcError } from './http-body.js';
import { checkRequest } from './request-guard.js';
import { SseEndpoint } from './sse.js';
import { type EndpointRoute, StreamableHttpEndpoint } from './streamable-http.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  jsonResponse?: boolean;
  maxBodyBytes?: number;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  sseHeartbeatMs?: number;
}

/** Extra routes other features mount (status page, metrics), answered before the MCP endpoints. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

const CORS_HEADERS = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id',
  'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version',
};

/**
 * The gateway's HTTP face: `/mcp`, `/sse` + `/message`, the bare POST shortcut, `/health` and `/ready`.
 * The only module that opens a socket.
 */
export class GatewayHttpServer {
  readonly streamable: StreamableHttpEndpoint;
  readonly sse: SseEndpoint;
  private readonly server: Server;
  private readonly routes: RouteHandler[] = [];

  constructor(
    private readonly gateway: Gateway,
    private readonly options: HttpServerOptions,
  ) {
    this.streamable = new StreamableHttpEndpoint(gateway, { jsonResponse: options.jsonResponse });
    this.sse = new SseEndpoint(gateway, { heartbeatMs: options.sseHeartbeatMs });
    this.server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      this.route(req, res).catch((error: unknown) => {
        gateway.log.error(`HTTP ${req.method} ${req.url} failed: ${errorMessage(error)}`);
        sendRpcError(res, 500, -32603, `Internal error: ${errorMessage(error)}`);
      });
    });
    this.server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
  }

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
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  /** Stops accepting, ends every session, then closes the remaining connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([this.streamable.closeAll(), this.sse.closeAll()]);
    this.server.closeAllConnections();
    await closed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const verdict = checkRequest(
      { host: req.headers.host, origin: req.headers.origin },
      {
        bindHost: this.options.host,
        allowedHosts: this.options.allowedHosts,
        allowedOrigins: this.options.allowedOrigins,
      },
    );
    if (!verdict.ok) return sendRpcError(res, verdict.status, -32000, verdict.message);
    if (req.headers.origin) {
      res.setHeader('access-control-allow-origin', req.headers.origin);
      res.setHeader('vary', 'Origin');
      for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    for (const handler of this.routes) if (await handler(req, res, url)) return;

    const single = /^\/mcp\/([^/]+)$/.exec(url.pathname);
    if (single) return this.singleServer(req, res, single[1]!);

    switch (url.pathname) {
      case '/mcp': {
        if (!['GET', 'POST', 'DELETE'].includes(req.method ?? '')) return methodNotAllowed(res, 'GET, POST, DELETE');
        return this.streamableRequest(req, res, { path: '/mcp' });
      }
      case '/sse':
        if (req.method === 'GET') return this.sse.open(req, res);
        if (req.method === 'POST') return this.barePost(req, res);
        return methodNotAllowed(res, 'GET, POST');
      case '/message': {
        if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
        const sessionId = url.searchParams.get('sessionId');
        if (sessionId === null) return this.barePost(req, res);
        const body = await this.body(req, res);
        if (body === undefined) return;
        return this.sse.post(req, res, sessionId, body);
      }
      case '/health': {
        const report = this.gateway.health();
        return sendJson(res, report.status === 'ok' ? 200 : 503, report);
      }
      case '/ready': {
        const ready = this.gateway.state === 'ready';
        return sendJson(res, ready ? 200 : 503, { ready });
      }
      default:
        return sendRpcError(res, 404, -32601, `Not found: ${url.pathname}`);
    }
  }

  /** `/mcp/<server>`: one server alone, under its own names (meta mode's direct access to a backend). */
  private async singleServer(req: IncomingMessage, res: ServerResponse, encodedName: string): Promise<void> {
    let name: string;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      return sendRpcError(res, 404, -32601, 'Not found: malformed server name');
    }
    const upstream = this.gateway.upstream(name);
    if (!upstream || !upstream.config.enabled) return sendRpcError(res, 404, -32601, `Not found: no server "${name}"`);
    if (!['GET', 'POST', 'DELETE'].includes(req.method ?? '')) return methodNotAllowed(res, 'GET, POST, DELETE');
    const scope = { single: name, servers: new Set([name]), mode: 'direct' as const, label: `server:${name}` };
    return this.streamableRequest(req, res, { path: `/mcp/${name}`, scope });
  }

  private async streamableRequest(req: IncomingMessage, res: ServerResponse, route: EndpointRoute): Promise<void> {
    if (req.method !== 'POST') return this.streamable.handle(req, res, undefined, route);
    const body = await this.body(req, res);
    if (body === undefined) return;
    return this.streamable.handle(req, res, body, route);
  }

  private async barePost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.body(req, res);
    if (body !== undefined) await answerBarePost(this.gateway, body, res);
  }

  /** The parsed body, or undefined after answering the error (too large, not JSON). */
  private async body(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    try {
      return await readJsonBody(req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      sendRpcError(res, error.status, error.rpcCode, error.message);
      return undefined;
    }
  }
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendRpcError(res, 405, -32000, `Method not allowed; use ${allow}`);
}
