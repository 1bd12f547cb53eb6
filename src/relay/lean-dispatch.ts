import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  type JSONRPCMessage,
  type JSONRPCRequest,
  McpError,
  type MessageExtraInfo,
  RELATED_TASK_META_KEY,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';

import { WRITTEN } from '../transport/written.js';
import type { Extra } from './forward.js';
import { type CancelSignal, LazyAbort } from './lazy-abort.js';
import { answerWithResultText } from './message-text.js';

type Handler = (request: JSONRPCRequest, extra: Extra) => Promise<Record<string, unknown>>;

interface ProtocolInternals {
  _onrequest?: (request: JSONRPCRequest, extra?: MessageExtraInfo) => void;
  _requestHandlers?: Map<string, unknown>;
  _requestHandlerAbortControllers?: Map<unknown, { abort(reason?: unknown): void }>;
  _taskStore?: unknown;
  _onerror?: (error: Error) => void;
  fallbackRequestHandler?: Handler;
}

/**
 * Hands a client's requests to the SDK server without its message classifier. The SDK tells a message's kind by
 * schema-parsing it as a result, then as an error, then as a request: two failing zod parses and one passing one
 * for every call, a large part of what relaying a call costs. Every transport of a client session has screened
 * the message to the SDK's own schema already (relay/bounds.ts, or the SDK transport's parse), so a request is
 * known by its shape; responses and notifications still go through the SDK's classifier, as do all messages
 * under an SDK version without the method this relies on.
 *
 * A request the gateway itself answers (every one but those the SDK handles: initialize, ping) skips the SDK's
 * request bookkeeping as well (see `answerDirectly`).
 */
export function dispatchRequestsDirectly(server: Server, transport: Transport): void {
  const internals = server as unknown as ProtocolInternals;
  const onrequest = internals._onrequest;
  const classify = transport.onmessage;
  if (typeof onrequest !== 'function' || !classify) return;
  const direct =
    internals._requestHandlers instanceof Map && internals._requestHandlerAbortControllers instanceof Map
      ? internals
      : undefined;
  transport.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) => {
    if (!isRequestShape(message)) classify(message, extra);
    else if (direct && answersDirectly(direct, message)) {
      void answerDirectly(server, direct, transport, message, extra, arrivedAlone(transport));
    } else onrequest.call(server, message, extra);
  };
}

/** Whether the transport says the message it delivers came alone (stdio-server.ts `messageArrivedAlone`). */
function arrivedAlone(transport: Transport): boolean {
  return (transport as { messageArrivedAlone?: boolean }).messageArrivedAlone === true;
}

function isRequestShape(message: JSONRPCMessage): message is JSONRPCRequest {
  const { id, method } = message as Partial<JSONRPCRequest>;
  return typeof method === 'string' && (typeof id === 'string' || Number.isSafeInteger(id));
}

/** Requests of the fallback handler (the relay's), outside the SDK's task machinery. */
function answersDirectly(internals: ProtocolInternals, request: JSONRPCRequest): boolean {
  if (internals._taskStore !== undefined || !internals.fallbackRequestHandler) return false;
  if (internals._requestHandlers!.has(request.method)) return false;
  const params = request.params as { task?: unknown; _meta?: Record<string, unknown> } | undefined;
  return params === undefined || (params.task === undefined && params._meta?.[RELATED_TASK_META_KEY] === undefined);
}

/**
 * What the SDK's `_onrequest` does for such a request, without its per-request AbortController (made only when
 * the request is cancelled or someone asks for its signal), closures and chain of promises: the request is
 * registered for cancellation under its id at once, its handler runs two microtasks later, and its answer (or
 * error, in the SDK's words) goes to the transport unless it was cancelled meanwhile.
 */
async function answerDirectly(
  server: Server,
  internals: ProtocolInternals,
  transport: Transport,
  request: JSONRPCRequest,
  info: MessageExtraInfo | undefined,
  alone: boolean,
): Promise<void> {
  const running = internals._requestHandlerAbortControllers!;
  const cancel = new LazyAbort();
  running.set(request.id, cancel);
  const extra = new DirectExtra(server, transport, request, info, cancel);
  try {
    // The handler starts two microtasks after its message, as the SDK's do (`Promise.resolve().then(…).then(handler)`):
    // messages of one chunk keep the SDK's order. An initialize before it is handled first (its client capabilities
    // are known to the call), and a cancellation after it (handled one microtask after its own arrival) ends it
    // before anything is sent upstream. A message that came alone has no such neighbours (those of earlier chunks
    // were handled before this chunk was read): its handler starts at once, without waiting for the reading of
    // the chunk to unwind.
    if (!alone) {
      await undefined;
      await undefined;
    }
    if (cancel.aborted) return;
    let answer: JSONRPCMessage;
    try {
      const result = await internals.fallbackRequestHandler!(request, extra as unknown as Extra);
      if (cancel.aborted || extra.answered) return;
      answer = { result, jsonrpc: '2.0', id: request.id } as JSONRPCMessage;
    } catch (error) {
      if (cancel.aborted || extra.answered) return;
      answer = errorAnswer(request.id, error as { code?: unknown; message?: string; data?: unknown });
    }
    await transport.send(answer);
  } catch (error) {
    internals._onerror?.(new Error(`Failed to send response: ${String(error)}`));
  } finally {
    // After close() and connect(), a new connection may have reused the id for another request.
    if (running.get(request.id) === cancel) running.delete(request.id);
  }
}

/** A handler's error as the SDK answers it. */
function errorAnswer(id: JSONRPCRequest['id'], error: { code?: unknown; message?: string; data?: unknown }) {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: Number.isSafeInteger(error.code) ? error.code : ErrorCode.InternalError,
      message: error.message ?? 'Internal error',
      ...(error.data !== undefined && { data: error.data }),
    },
  } as JSONRPCMessage;
}

/** The handler's `extra` of one request answered directly: the SDK's fields, its signal made on first use. */
class DirectExtra {
  readonly sessionId: string | undefined;
  readonly _meta: Record<string, unknown> | undefined;
  readonly requestId: JSONRPCRequest['id'];
  readonly authInfo: MessageExtraInfo['authInfo'];
  readonly requestInfo: MessageExtraInfo['requestInfo'];
  readonly closeSSEStream: MessageExtraInfo['closeSSEStream'];
  readonly closeStandaloneSSEStream: MessageExtraInfo['closeStandaloneSSEStream'];
  readonly taskId = undefined;
  readonly taskStore = undefined;
  readonly taskRequestedTtl = undefined;
  /** Set once `answerEarly` has sent the answer: the handler's own result is then not sent again. */
  answered = false;

  constructor(
    private readonly server: Server,
    private readonly transport: Transport,
    request: JSONRPCRequest,
    info: MessageExtraInfo | undefined,
    /** The request's cancellation, for the relay's own use without making an AbortSignal (see cancelOf). */
    readonly cancel: LazyAbort,
  ) {
    this.sessionId = transport.sessionId;
    this._meta = (request.params as { _meta?: Record<string, unknown> } | undefined)?._meta;
    this.requestId = request.id;
    this.authInfo = info?.authInfo;
    this.requestInfo = info?.requestInfo;
    this.closeSSEStream = info?.closeSSEStream;
    this.closeStandaloneSSEStream = info?.closeStandaloneSSEStream;
  }

  get signal(): AbortSignal {
    return this.cancel.signal;
  }

  /**
   * Sends `result` as the request's answer now, the moment the upstream's answer is read, rather than after the
   * chain of handlers that returns it unchanged has unwound (and after the bookkeeping they do on the way, which
   * nobody waits for). Called only where the relay knows that the handler will resolve with this very result
   * (see `EarlyAnswer` in forward.ts); the rest of the chain then runs as before, and nothing is sent twice.
   */
  answerEarly(result: Record<string, unknown>, resultText?: string): void {
    if (this.answered || this.cancel.aborted) return;
    this.answered = true;
    const answer =
      resultText === undefined
        ? ({ result, jsonrpc: '2.0', id: this.requestId } as JSONRPCMessage)
        : answerWithResultText(result, resultText, this.requestId);
    try {
      const sending = this.transport.send(answer);
      if (sending !== WRITTEN) sending.catch((error: unknown) => this.sendFailed(error));
    } catch (error) {
      // Not sent: the handler's own answer goes out as usual instead.
      this.answered = false;
      this.sendFailed(error);
    }
  }

  private sendFailed(error: unknown): void {
    (this.server as unknown as ProtocolInternals)._onerror?.(new Error(`Failed to send response: ${String(error)}`));
  }

  /** See `requestStreamCarriesNotifications`. */
  carriesNotifications(): boolean {
    if (this.cancel.aborted) return false;
    const transport = this.transport as Transport & {
      carriesNotificationsFor?(requestId: JSONRPCRequest['id']): boolean;
    };
    return transport.carriesNotificationsFor?.(this.requestId) === true;
  }

  // Methods, not the SDK's per-request closures: the relay calls them on `extra` and never detaches them.
  async sendNotification(notification: ServerNotification): Promise<void> {
    if (this.cancel.aborted) return;
    await this.server.notification(notification, { relatedRequestId: this.requestId });
  }

  async sendRequest(request: ServerRequest, resultSchema: unknown, options?: RequestOptions): Promise<unknown> {
    if (this.cancel.aborted) throw new McpError(ErrorCode.ConnectionClosed, 'Request was cancelled');
    const send = this.server.request as (r: ServerRequest, schema: unknown, o: RequestOptions) => Promise<unknown>;
    return await send.call(this.server, request, resultSchema, { ...options, relatedRequestId: this.requestId });
  }
}

/** What answers a request early (`DirectExtra.answerEarly`): only a request answered directly has it. */
export interface EarlyAnswerer {
  /** `resultText`: the result's JSON text, written instead of serializing `result` (see message-text.ts). */
  answerEarly(result: Record<string, unknown>, resultText?: string): void;
}

/** The request's early answerer, when it was answered directly; else undefined (the SDK answers it). */
export function earlyAnswererOf(extra: Extra): EarlyAnswerer | undefined {
  return extra instanceof DirectExtra ? (extra as unknown as EarlyAnswerer) : undefined;
}

/**
 * Whether a notification tied to `extra`'s request reaches its client now on the request's own stream. Only a
 * request answered directly on a transport that can tell (the lean Streamable HTTP one) ever says yes.
 */
export function requestStreamCarriesNotifications(extra: Extra): boolean {
  if (!(extra instanceof DirectExtra)) return false;
  return extra.carriesNotifications();
}

/** The cancellation of a handler's request: its LazyAbort when answered directly, else the SDK's signal. */
export function cancelOf(extra: Extra): CancelSignal {
  return (extra as unknown as { cancel?: CancelSignal }).cancel ?? extra.signal;
}
