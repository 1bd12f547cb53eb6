import type { IncomingMessage, ServerResponse } from 'node:http';

import type * as SdkStreamableHttp from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import {
  isInitializeRequest,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

import type { Gateway } from '../gateway.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { ClientSession } from '../relay/client-session.js';
import { MAX_STORED_BYTES, MAX_STORED_EVENTS, SessionEventStore } from './event-store.js';
import { sendSessionLimit } from './http-access.js';
import { sendRpcError } from './http-body.js';
import { LeanStreamableTransport } from './lean-post.js';
import { SessionSlot, type SessionSlots } from './session-slots.js';

/** How long a client whose SSE stream dropped waits before reconnecting with Last-Event-ID. */
export const STREAM_RETRY_MS = 1_000;

let sdkTransport: Promise<typeof SdkStreamableHttp> | undefined;

/** What `handle` returns for a request it answered at once. */
const ANSWERED: Promise<void> = Promise.resolve();

interface Entry {
  transport: LeanStreamableTransport;
  session: ClientSession;
  slot: SessionSlot;
  /** The endpoint path the session was created on; it is valid there only. */
  path: string;
  /** Whose session it is (`anonymous`, `credential:<id>`); requests from anyone else do not find it. */
  owner: string;
  /** The protocol version initialize settled on; `MCP-Protocol-Version` must name it on every later request. */
  version: string;
  /** What a client reconnecting with Last-Event-ID is replayed from. */
  events: SessionEventStore;
}

/** An endpoint path and the scope its sessions get (`/mcp` sees everything, `/mcp/<server>` one server). */
export interface EndpointRoute {
  path: string;
  scope?: SessionScope;
  /** Who is asking; a session answers its owner only. `anonymous` when absent. */
  owner?: string;
  /** Whose share of the session limit a new session takes: a credential, or the client's address. */
  client?: string;
  /** Called with each new session before it answers anything (access checks on its requests). */
  setup?: (session: ClientSession) => void;
}

/** Streamable HTTP at `/mcp`: one SDK transport and one client session per `Mcp-Session-Id`. */
export class StreamableHttpEndpoint {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly gateway: Gateway,
    private readonly slots: SessionSlots,
    private readonly options: { jsonResponse?: boolean } = {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * A request to a session is answered without a promise of this function's own (the transport's is returned):
   * that is nearly every request. Only a request that opens a session is async.
   */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, route: EndpointRoute): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const entry = this.entries.get(sessionId);
      // An unknown or ended session is 404, which tells the client to start a new one. So is a session
      // used on another endpoint than its own: it must not widen or change what the session sees.
      // So is a session of another owner: a session id alone grants nothing.
      if (!entry || entry.path !== route.path || entry.owner !== (route.owner ?? 'anonymous')) {
        sendRpcError(res, 404, -32001, 'Session not found', requestIdOf(body));
        return ANSWERED;
      }
      // Checked against the session's own version, not merely against the versions the gateway knows.
      const header = req.headers['mcp-protocol-version'];
      if (typeof header === 'string' && header !== entry.version) {
        const message = `Bad Request: MCP-Protocol-Version ${header} is not this session's protocol version ${entry.version}`;
        sendRpcError(res, 400, -32000, message, requestIdOf(body));
        return ANSWERED;
      }
      // The SDK would answer a resume from an event the store no longer has with "Invalid event ID format".
      const lastEventId = req.headers['last-event-id'];
      if (req.method === 'GET' && typeof lastEventId === 'string' && !entry.events.has(lastEventId)) {
        const message = `Bad Request: event ${lastEventId.slice(0, 100)} is no longer stored (a session keeps its newest ${MAX_STORED_EVENTS} events, ${MAX_STORED_BYTES / 1024 / 1024} MiB); start the request again`;
        sendRpcError(res, 400, -32000, message);
        return ANSWERED;
      }
      entry.slot.during(res);
      return entry.transport.handleRequest(req, res, body);
    }
    return this.open(req, res, body, route);
  }

  /** A request without a session: an initialize opens one, anything else is refused. */
  private async open(req: IncomingMessage, res: ServerResponse, body: unknown, route: EndpointRoute): Promise<void> {
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      const message = 'Bad Request: no valid Mcp-Session-Id header; start with initialize';
      return sendRpcError(res, 400, -32000, message, requestIdOf(body));
    }
    // The SDK refuses these only once a session exists; refused here first, they leave nothing behind.
    const unacceptable = refusedHeaders(req);
    if (unacceptable) return sendRpcError(res, unacceptable.status, -32000, unacceptable.message, requestIdOf(body));
    // Loaded with the first session (issue 15): with it come Hono's Node adapter and Node's fetch (undici), ~9 MB.
    const { StreamableHTTPServerTransport } = await (sdkTransport ??=
      import('@modelcontextprotocol/sdk/server/streamableHttp.js'));
    const requested = String((body as { params?: { protocolVersion?: unknown } }).params?.protocolVersion);
    const version = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
    const slot = this.slots.claim(route.client ?? 'anonymous');
    if (!(slot instanceof SessionSlot)) return sendSessionLimit(res, slot);
    const session = this.gateway.createSession('streamable-http', route.scope, route.owner);
    slot.onIdle = () => void session.close();
    route.setup?.(session);
    const jsonResponse = this.options.jsonResponse ?? false;
    // Resumable streams: event ids, a priming event with `retry:`, Last-Event-ID replay.
    const eventStore = new SessionEventStore();
    const sdk = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => session.id,
      enableJsonResponse: jsonResponse,
      eventStore,
      retryInterval: STREAM_RETRY_MS,
      onsessioninitialized: (id) => {
        this.entries.set(id, {
          transport,
          session,
          slot,
          path: route.path,
          owner: route.owner ?? 'anonymous',
          version,
          events: eventStore,
        });
      },
    });
    // The session's calls take the lean path; the SDK transport answers the rest (see LeanStreamableTransport).
    const transport = new LeanStreamableTransport(sdk, { jsonResponse, eventStore, retryMs: STREAM_RETRY_MS });
    void session.whenClosed.then(() => {
      this.entries.delete(session.id);
      slot.release();
    });
    slot.during(res);
    await session.connect(transport);
    await transport.handleRequest(req, res, body);
    // Whatever else the SDK refused (a second initialize in a batch, say) must not leave a session either.
    if (transport.sessionId === undefined) await session.close();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.session.close()));
  }
}

/** The SDK's own checks of an initialize POST (406, 415), made before a session is created for it. */
function refusedHeaders(req: IncomingMessage): { status: 406 | 415; message: string } | undefined {
  const accept = req.headers.accept ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return { status: 406, message: 'Not Acceptable: Client must accept both application/json and text/event-stream' };
  }
  if (!isJsonContentType(req.headers['content-type'])) {
    return { status: 415, message: 'Unsupported Media Type: Content-Type must be application/json' };
  }
  return undefined;
}

/** The id of a single JSON-RPC request, for an error about it; null for a batch, a notification or no body. */
function requestIdOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | undefined)?.id;
  return !Array.isArray(body) && (typeof id === 'string' || typeof id === 'number') ? id : null;
}
