import type { ServerResponse } from 'node:http';

import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

import type { Gateway } from '../gateway.js';
import { refusalResponse, type ScreenedBody } from '../relay/bounds.js';
import type { SessionScope } from '../relay/catalog-view.js';
import type { ClientSession } from '../relay/client-session.js';
import { sendJson } from './http-body.js';
import { isRequestMessage } from './refusals.js';

const METHOD_NOT_FOUND = -32601;
const REQUEST_CANCELLED = -32800;
const CONNECTION_CLOSED = -32000;

/**
 * A transport for exactly one exchange: the messages in, one answer per request out. Notifications the session
 * would send (progress, list changes) have nowhere to go and are dropped; a server-to-client request is refused
 * at once, since this client cannot answer it. Every request gets an answer, whatever happens: a request the
 * client cancels in the same batch is answered as cancelled, and closing answers whatever is still open.
 */
class OneShotTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly waiting = new Map<RequestId, (message: JSONRPCMessage) => void>();

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if ('method' in message) {
      if ('id' in message) {
        const refusal = errorAnswer(message.id, METHOD_NOT_FOUND, 'a bare POST cannot answer server requests');
        queueMicrotask(() => this.onmessage?.(refusal));
      }
      return;
    }
    if ('id' in message && message.id !== undefined) this.answer(message.id, message);
  }

  async close(): Promise<void> {
    for (const id of [...this.waiting.keys()]) {
      this.answer(id, errorAnswer(id, CONNECTION_CLOSED, 'Connection closed before the request was answered'));
    }
    this.onclose?.();
  }

  /** Hands one message to the session; a request's promise settles with its answer. */
  deliver(message: JSONRPCMessage): Promise<JSONRPCMessage> | undefined {
    if (isRequestMessage(message)) {
      const answered = new Promise<JSONRPCMessage>((resolve) => this.waiting.set(message.id, resolve));
      this.onmessage?.(message);
      return answered;
    }
    this.onmessage?.(message);
    // The SDK answers nothing for a request cancelled before it finished; the exchange still needs an answer.
    if ('method' in message && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (requestId !== undefined)
        this.answer(requestId, errorAnswer(requestId, REQUEST_CANCELLED, 'Request cancelled'));
    }
    return undefined;
  }

  private answer(id: RequestId, message: JSONRPCMessage): void {
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    resolve?.(message);
  }
}

function errorAnswer(id: RequestId, code: number, message: string): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** Requests a rate limit does not count, as inside a session (where the SDK answers them itself). */
const UNCOUNTED_METHODS = new Set(['ping', 'logging/setLevel']);

/** The JSON-RPC requests of a body (one message or a batch) that a rate limit counts. */
export function countRequests(body: unknown): number {
  let count = 0;
  for (const value of Array.isArray(body) ? body : [body]) {
    const candidate = value as { id?: unknown; method?: unknown } | null;
    if (typeof candidate !== 'object' || candidate === null || typeof candidate.method !== 'string') continue;
    if (candidate.id !== undefined && !UNCOUNTED_METHODS.has(candidate.method)) count++;
  }
  return count;
}

/**
 * The seeds' shortcut: a JSON-RPC request POSTed to `/sse` or `/message` without a session is answered in
 * the HTTP response body, so `curl -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'` just works. A batch is
 * answered as JSON-RPC says: one answer per request, in order, the refused ones with why.
 */
export async function answerBarePost(
  gateway: Gateway,
  screened: ScreenedBody,
  res: ServerResponse,
  route: { scope?: SessionScope; owner?: string; setup?: (session: ClientSession) => void } = {},
): Promise<void> {
  const { batch, messages, refusal } = screened;
  if (refusal !== undefined) return sendJson(res, 400, refusalResponse(refusal));
  const single = messages[0];
  if (!batch && single !== undefined && !single.ok) {
    return sendJson(res, single.refusal.kind === 'envelope' ? 400 : 200, refusalResponse(single.refusal));
  }
  if (!messages.some((entry) => entry.ok && isRequestMessage(entry.message))) {
    // Nothing to run: notifications alone would reach a session that ends at once.
    const refusals = messages.flatMap((entry) => (entry.ok ? [] : [refusalResponse(entry.refusal)]));
    if (refusals.length === 0) res.writeHead(202).end();
    else sendJson(res, 200, refusals);
    return;
  }
  const session = gateway.createSession('bare-post', route.scope, route.owner);
  route.setup?.(session);
  const transport = new OneShotTransport();
  // A client that gives up ends the exchange: its calls are cancelled and the session freed.
  res.once('close', () => {
    if (!res.writableFinished) void session.close();
  });
  try {
    await session.connect(transport);
    const pending = messages.map((entry) =>
      entry.ok ? transport.deliver(entry.message) : Promise.resolve(refusalResponse(entry.refusal)),
    );
    const answers = (await Promise.all(pending)).filter((answer) => answer !== undefined);
    sendJson(res, 200, batch ? answers : answers[0]);
  } finally {
    await session.close();
  }
}
