import type { IncomingMessage, ServerResponse } from 'node:http';

import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';

import type { Gateway } from '../gateway.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { ClientSession } from '../relay/client-session.js';
import { sendRpcError } from './http-body.js';

export const SSE_HEARTBEAT_MS = 30_000;

interface Entry {
  transport: SSEServerTransport;
  session: ClientSession;
  /** The message path announced to the client; posts elsewhere do not find the session. */
  messagePath: string;
  owner: string;
}

/** Where an SSE session's messages go, what it may see, and whose it is. */
export interface SseRoute {
  messagePath: string;
  scope?: SessionScope;
  owner?: string;
  setup?: (session: ClientSession) => void;
}

/**
 * The legacy HTTP+SSE transport: `GET /sse` opens the stream, `POST /message?sessionId=` carries requests
 * (`/ns/<namespace>/sse` and `/ns/<namespace>/message` alike).
 */
export class SseEndpoint {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly gateway: Gateway,
    private readonly options: { heartbeatMs?: number } = {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async open(_req: IncomingMessage, res: ServerResponse, route: SseRoute = { messagePath: '/message' }): Promise<void> {
    const transport = new SSEServerTransport(route.messagePath, res);
    const session = this.gateway.createSession('sse', route.scope, route.owner);
    route.setup?.(session);
    const owner = route.owner ?? 'anonymous';
    this.entries.set(transport.sessionId, { transport, session, messagePath: route.messagePath, owner });
    // Proxies and clients drop streams that stay silent; an SSE comment keeps it open and is ignored by parsers.
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': heartbeat\n\n');
    }, this.options.heartbeatMs ?? SSE_HEARTBEAT_MS);
    heartbeat.unref();
    const end = () => {
      clearInterval(heartbeat);
      this.entries.delete(transport.sessionId);
      void session.close();
    };
    res.on('close', end);
    void session.whenClosed.then(end);
    await session.connect(transport);
  }

  async post(
    req: IncomingMessage,
    res: ServerResponse,
    sessionId: string,
    body: unknown,
    route: { messagePath: string; owner?: string } = { messagePath: '/message' },
  ): Promise<void> {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.messagePath !== route.messagePath || entry.owner !== (route.owner ?? 'anonymous')) {
      return sendRpcError(res, 404, -32001, 'Session not found');
    }
    await entry.transport.handlePostMessage(req, res, body);
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.session.close()));
  }
}
