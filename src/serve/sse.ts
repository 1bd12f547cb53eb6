import type { IncomingMessage, ServerResponse } from 'node:http';

import type * as SdkSse from '@modelcontextprotocol/sdk/server/sse.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

import type { Gateway } from '../gateway.js';
import {
  ALREADY_INITIALIZED,
  INVALID_REQUEST,
  isInitializeRequest,
  refusalResponse,
  type Screened,
  type ScreenedBody,
} from '../relay/bounds.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { ClientSession } from '../relay/client-session.js';
import { messageText } from '../relay/message-text.js';
import { WRITTEN } from '../transport/written.js';
import { sendSessionLimit } from './http-access.js';
import { isJsonContent, sendRpcError } from './http-body.js';
import { hasEnvelopeRefusal, sendRefusals } from './refusals.js';
import { SessionSlot, type SessionSlots } from './session-slots.js';

export const SSE_HEARTBEAT_MS = 30_000;

let sdkSse: Promise<typeof SdkSse> | undefined;

interface Entry {
  transport: SdkSse.SSEServerTransport;
  session: ClientSession;
  slot: SessionSlot;
  /** The message path announced to the client; posts elsewhere do not find the session. */
  messagePath: string;
  owner: string;
  /** Whether the client's initialize was handed to the session: a session is initialized once. */
  initialized: boolean;
}

/** Where an SSE session's messages go, what it may see, and whose it is. */
export interface SseRoute {
  messagePath: string;
  scope?: SessionScope;
  owner?: string;
  /** Whose share of the session limit the session takes: a credential, or the client's address. */
  client?: string;
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
    private readonly slots: SessionSlots,
    private readonly options: { heartbeatMs?: number } = {},
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async open(_req: IncomingMessage, res: ServerResponse, route: SseRoute = { messagePath: '/message' }): Promise<void> {
    // Loaded with the first legacy SSE session (issue 15): a deployment whose clients speak /mcp never needs it.
    const { SSEServerTransport } = await (sdkSse ??= import('@modelcontextprotocol/sdk/server/sse.js'));
    const slot = this.slots.claim(route.client ?? 'anonymous');
    if (!(slot instanceof SessionSlot)) return sendSessionLimit(res, slot);
    const transport = new SSEServerTransport(route.messagePath, res);
    sendWithResultText(transport);
    const session = this.gateway.createSession('sse', route.scope, route.owner);
    slot.onIdle = () => void session.close();
    route.setup?.(session);
    const owner = route.owner ?? 'anonymous';
    const entry: Entry = { transport, session, slot, messagePath: route.messagePath, owner, initialized: false };
    this.entries.set(transport.sessionId, entry);
    slot.during(res);
    // Proxies and clients drop streams that stay silent; an SSE comment keeps it open and is ignored by parsers.
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(': heartbeat\n\n');
    }, this.options.heartbeatMs ?? SSE_HEARTBEAT_MS);
    heartbeat.unref();
    const end = () => {
      clearInterval(heartbeat);
      this.entries.delete(transport.sessionId);
      slot.release();
      void session.close();
    };
    res.on('close', end);
    void session.whenClosed.then(end);
    await session.connect(transport);
  }

  /**
   * A POST of the session's client. Answered here rather than by the SDK transport, whose refusals are plain
   * text: a message that is not JSON-RPC is refused with 400 and a JSON-RPC error; a request with bad params
   * gets its JSON-RPC error on the stream, where its answer is awaited; the rest go to the session (202).
   */
  async post(
    req: IncomingMessage,
    res: ServerResponse,
    sessionId: string,
    screened: ScreenedBody,
    route: { messagePath: string; owner?: string } = { messagePath: '/message' },
  ): Promise<void> {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.messagePath !== route.messagePath || entry.owner !== (route.owner ?? 'anonymous')) {
      return sendRpcError(res, 404, -32001, 'Session not found');
    }
    if (!isJsonContent(req.headers['content-type'])) {
      return sendRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (hasEnvelopeRefusal(screened)) return sendRefusals(res, screened);
    const reinitialized = refuseReinitialization(screened, entry.initialized);
    if (reinitialized) return sendRefusals(res, reinitialized);
    entry.initialized ||= screened.messages.some((item) => item.ok && isInitializeRequest(item.message));
    entry.slot.during(res);
    const requestInfo = { headers: req.headers };
    for (const item of screened.messages) {
      // A request was screened to the SDK's schema already: it goes to the session without a second parse.
      if (item.ok && 'method' in item.message && 'id' in item.message)
        entry.transport.onmessage?.(item.message, { requestInfo });
      else if (item.ok) await entry.transport.handleMessage(item.message, { requestInfo });
      else await entry.transport.send(refusalResponse(item.refusal) as JSONRPCMessage).catch(() => {});
    }
    res.writeHead(202).end();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((entry) => entry.session.close()));
  }
}

/**
 * The body with every initialize after the session's first refused, as Streamable HTTP refuses it (400, and no
 * message of the body runs); undefined when there is none. A second initialize would change what the client
 * declared mid-session (its capabilities, its protocol version) under requests already answered by the first.
 */
function refuseReinitialization(screened: ScreenedBody, initialized: boolean): ScreenedBody | undefined {
  let allowed = initialized ? 0 : 1;
  let refused = false;
  const messages = screened.messages.map((item): Screened => {
    if (!item.ok || !isInitializeRequest(item.message)) return item;
    if (allowed-- > 0) return item;
    refused = true;
    const { id } = item.message;
    return { ok: false, refusal: { id, kind: 'envelope', code: INVALID_REQUEST, message: ALREADY_INITIALIZED } };
  });
  return refused ? { ...screened, messages } : undefined;
}

/**
 * The SDK transport's send, but an answer relayed from a server is written with the result text the server wrote
 * (see relay/message-text.ts) rather than serialised again; the event is the SDK's. Without the stream it writes to
 * (closed, or another SDK version), the SDK's own send answers.
 */
function sendWithResultText(transport: SdkSse.SSEServerTransport): void {
  const sdkSend = transport.send.bind(transport);
  const internals = transport as unknown as { _sseResponse?: ServerResponse };
  transport.send = function sendMessage(message: JSONRPCMessage): Promise<void> {
    const stream = internals._sseResponse;
    if (!stream) return sdkSend(message);
    stream.write(`event: message\ndata: ${messageText(message)}\n\n`);
    return WRITTEN;
  };
}
