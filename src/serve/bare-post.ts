import type { ServerResponse } from 'node:http';

import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

import type { Gateway } from '../gateway.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { ClientSession } from '../relay/client-session.js';
import { sendJson, sendRpcError } from './http-body.js';

/**
 * A transport for exactly one exchange: the message in, its response out. Notifications the session
 * would send (progress, list changes) have nowhere to go and are dropped; server-to-client requests fail,
 * since this client declared no capabilities.
 */
class OneShotTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly waiting = new Map<RequestId, (message: JSONRPCMessage) => void>();

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    const id = (message as { id?: RequestId }).id;
    if (id === undefined || 'method' in message) return;
    this.waiting.get(id)?.(message);
    this.waiting.delete(id);
  }

  async close(): Promise<void> {
    this.onclose?.();
  }

  exchange(message: JSONRPCMessage & { id: RequestId }): Promise<JSONRPCMessage> {
    return new Promise((resolve) => {
      this.waiting.set(message.id, resolve);
      this.onmessage?.(message);
    });
  }
}

/** The JSON-RPC requests of a body (one message or a batch); notifications and junk do not count. */
export function countRequests(body: unknown): number {
  return (Array.isArray(body) ? body : [body]).filter(isRequest).length;
}

/** What a JSON-RPC 2.0 message with a method is: a request (it has an id), a notification (none), or neither. */
function kindOf(value: unknown): 'request' | 'notification' | undefined {
  const candidate = value as { jsonrpc?: unknown; id?: unknown; method?: unknown } | null;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  if (candidate.jsonrpc !== '2.0' || typeof candidate.method !== 'string') return undefined;
  if (candidate.id === undefined) return 'notification';
  return typeof candidate.id === 'string' || typeof candidate.id === 'number' ? 'request' : undefined;
}

function isRequest(value: unknown): value is JSONRPCMessage & { id: RequestId; method: string } {
  return kindOf(value) === 'request';
}

/**
 * The seeds' shortcut: a JSON-RPC request POSTed to `/sse` or `/message` without a session is answered in
 * the HTTP response body, so `curl -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'` just works.
 */
export async function answerBarePost(
  gateway: Gateway,
  body: unknown,
  res: ServerResponse,
  route: { scope?: SessionScope; owner?: string; setup?: (session: ClientSession) => void } = {},
): Promise<void> {
  const messages = Array.isArray(body) ? body : [body];
  if (messages.length === 0) return sendRpcError(res, 400, -32600, 'Invalid Request: empty batch');
  const requests = messages.filter(isRequest);
  const invalid = messages.find((message) => kindOf(message) === undefined);
  if (invalid !== undefined) {
    return sendRpcError(res, 400, -32600, 'Invalid Request: expected a JSON-RPC 2.0 request with "id" and "method"');
  }
  if (requests.length === 0) {
    res.writeHead(202).end();
    return;
  }
  const session = gateway.createSession('bare-post', route.scope, route.owner);
  route.setup?.(session);
  const transport = new OneShotTransport();
  try {
    await session.connect(transport);
    const responses = await Promise.all(requests.map((request) => transport.exchange(request)));
    sendJson(res, 200, Array.isArray(body) ? responses : responses[0]);
  } finally {
    await session.close();
  }
}
