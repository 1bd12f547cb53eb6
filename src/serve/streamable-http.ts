import type { IncomingMessage, ServerResponse } from 'node:http';

import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

import type { Gateway } from '../gateway.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { ClientSession } from '../relay/client-session.js';
import { sendRpcError } from './http-body.js';

interface Entry {
  transport: StreamableHTTPServerTransport;
  session: ClientSession;
  /** The endpoint path the session was created on; it is valid there only. */
  path: string;
  /** Whose session it is (`anonymous`, `credential:<id>`); requests from anyone else do not find it. */
  owner: string;
}

/** An endpoint path and the scope its sessions get (`/mcp` sees everything, `/mcp/<server>` one server). */
export interface EndpointRoute {
  path: string;
  scope?: SessionScope;
  /** Who is asking; a session answers its owner only. `anonymous` when absent. */
  owner?: string;
  /** Called with each new session before it answers anything (access checks on its requests). */
  setup?: (session: ClientSession) => void;
}

/** Streamable HTTP at `/mcp`: one SDK transport and one client session per `Mcp-Session-Id`. */
export class StreamableHttpEndpoint {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly gateway: Gateway,
    private readonly options: { jsonResponse?: boolean } = {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, route: EndpointRoute): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const entry = this.entries.get(sessionId);
      // An unknown or ended session is 404, which tells the client to start a new one. So is a session
      // used on another endpoint than its own: it must not widen or change what the session sees.
      // So is a session of another owner: a session id alone grants nothing.
      if (!entry || entry.path !== route.path || entry.owner !== (route.owner ?? 'anonymous')) {
        return sendRpcError(res, 404, -32001, 'Session not found');
      }
      return entry.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return sendRpcError(res, 400, -32000, 'Bad Request: no valid Mcp-Session-Id header; start with initialize');
    }
    const session = this.gateway.createSession('streamable-http', route.scope, route.owner);
    route.setup?.(session);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => session.id,
      enableJsonResponse: this.options.jsonResponse ?? false,
      onsessioninitialized: (id) => {
        this.entries.set(id, { transport, session, path: route.path, owner: route.owner ?? 'anonymous' });
      },
    });
    void session.whenClosed.then(() => this.entries.delete(session.id));
    await session.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.session.close()));
  }
}
