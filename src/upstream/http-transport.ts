import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

import type { UpstreamAuthorization } from '../config/model.js';
import { deadlineSignal } from '../deadline.js';
import { errorMessage, GatewayError, isGatewayError } from '../errors.js';
import { traceHeadersOf } from '../tracing/trace-context.js';
import { MAX_MESSAGE_BYTES } from '../transport/ndjson.js';
import type { AttributingTransport } from './json-rpc-peer.js';

export interface HttpUpstreamOptions {
  /** Sent with every request (the server's configured headers plus a credential's own). */
  headers: Record<string, string>;
  /** Gives each request its Authorization header, and a new token after a 401 (an upstream OAuth sign-in). */
  authorization?: UpstreamAuthorization;
  /** Upper bound of the DELETE that ends the session on close. */
  terminateTimeoutMs?: number;
  /**
   * Upper bound of a POSTed notification or response, which the server only has to acknowledge (202); the
   * gateway passes the server's start timeout, which bounds `notifications/initialized` as it did before.
   */
  acknowledgeTimeoutMs?: number;
}

const ACCEPT_BOTH = 'application/json, text/event-stream';
const MAX_REDIRECTS = 5;
const RECONNECT_BASE_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
const MAX_RECONNECT_ATTEMPTS = 5;
const DEFAULT_TERMINATE_TIMEOUT_MS = 2_000;
const DEFAULT_ACKNOWLEDGE_TIMEOUT_MS = 10_000;

/**
 * The client side of MCP's Streamable HTTP transport towards one upstream server, written for a relay: every
 * message that arrives on the response stream of one of our POSTed requests is delivered with that request's
 * id (`relatedRequestId`), so a server's sampling or elicitation request during a call reaches the client who
 * made the call — the SDK's client transport does not say which stream a message came on. Messages are only
 * checked for shape; the gateway passes results through untouched.
 *
 * The standalone GET stream is opened after `notifications/initialized` (a 405 means the server has none) and
 * reopened with `Last-Event-ID` when it drops, with backoff and a bounded number of attempts; a POST stream
 * that ends before its response after sending event ids is resumed the same way.
 */
export class HttpUpstreamTransport implements AttributingTransport {
  onmessage?: (message: JSONRPCMessage, extra?: { relatedRequestId?: RequestId }) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** The server ended the response stream of one of our requests before its answer, for us to resume it. */
  onstreamclosed?: (requestId: RequestId) => void;
  sessionId?: string;

  private protocolVersion?: string;
  /** Set once the server is known to speak the 2026-07-28 era: each POST then mirrors its method and name. */
  private modernHeaders?: (message: JSONRPCRequest) => Record<string, string>;
  private readonly abort = new AbortController();
  /**
   * Each request of ours still waiting for its answer, by id: aborting one ends its response stream and any
   * resumption of it (a call the gateway has cancelled or timed out must not hold a socket until the server
   * lets go).
   */
  private readonly awaiting = new Map<RequestId, AbortController>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly options: HttpUpstreamOptions,
  ) {}

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  /** Switches to the stateless era: the headers each request carries come from `headersOf`. */
  useModernHeaders(headersOf: (message: JSONRPCRequest) => Record<string, string>): void {
    this.modernHeaders = headersOf;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new GatewayError('UPSTREAM_UNAVAILABLE', 'the connection is closed');
    const requestId = 'method' in message && 'id' in message ? message.id : undefined;
    const mirrored = this.modernHeaders && requestId !== undefined ? this.modernHeaders(message as JSONRPCRequest) : {};
    // A request's answer may take as long as the call does (the caller's timeout bounds it); a notification or
    // response only waits for the server's 202, and one that never comes must not hold a socket per message.
    const acknowledgeMs = this.options.acknowledgeTimeoutMs ?? DEFAULT_ACKNOWLEDGE_TIMEOUT_MS;
    let signal: AbortSignal;
    if (requestId === undefined) {
      signal = deadlineSignal(acknowledgeMs, this.abort.signal);
      if ('method' in message && message.method === 'notifications/cancelled') {
        this.stopAwaiting((message.params as { requestId?: RequestId } | undefined)?.requestId);
      }
    } else {
      const awaiting = new AbortController();
      this.awaiting.set(requestId, awaiting);
      signal = awaiting.signal;
    }
    let response: Response;
    try {
      // A message's trace context (`_meta.traceparent`) goes as HTTP headers too.
      response = await this.fetch(
        'POST',
        { 'content-type': 'application/json', accept: ACCEPT_BOTH, body: JSON.stringify(message) },
        signal,
        { ...mirrored, ...traceHeadersOf(message) },
      );
    } catch (error) {
      this.stopAwaiting(requestId);
      if (requestId !== undefined || !signal.aborted || this.abort.signal.aborted) throw error;
      const what = 'method' in message ? message.method : `our answer to its request ${String(message.id)}`;
      const timedOut = new GatewayError(
        'UPSTREAM_TIMEOUT',
        `the server did not acknowledge ${what} within ${acknowledgeMs} ms`,
        { cause: error },
      );
      this.onerror?.(timedOut); // an answer's sender does not wait for it: this is where it is seen
      throw timedOut;
    }
    const sessionId = response.headers.get('mcp-session-id');
    if (sessionId) this.sessionId = sessionId;
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      this.stopAwaiting(requestId); // after the body: its reading is bound to the request's signal
      // A JSON-RPC error answering our request (a 2026-07-28 server's 400 for an unsupported version, say) is
      // the server's answer, not a transport failure: deliver it like any other.
      if (requestId !== undefined && this.deliverErrorAnswer(text, requestId)) return;
      const error = new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `the server answered HTTP ${response.status}${text ? `: ${text.slice(0, 300)}` : ''}`,
        { data: { status: response.status } },
      );
      this.onerror?.(error);
      throw error;
    }
    if (response.status === 202 || requestId === undefined) {
      this.stopAwaiting(requestId);
      await response.body?.cancel().catch(() => {});
      if ('method' in message && message.method === 'notifications/initialized') this.openStandaloneStream();
      return;
    }
    const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type === 'text/event-stream') {
      // Read in the background: the request is sent; its answer arrives on this stream.
      void this.readEvents(response, requestId);
    } else if (type === 'application/json') {
      try {
        this.deliverJson(await response.text(), requestId);
      } finally {
        this.stopAwaiting(requestId);
      }
    } else {
      this.stopAwaiting(requestId);
      await response.body?.cancel().catch(() => {});
      const error = new GatewayError('UPSTREAM_UNAVAILABLE', `the server answered with content type "${type}"`);
      this.onerror?.(error);
      throw error;
    }
  }

  /** Ends the upstream session with DELETE (a 405 means the server does not support that), within a bound. */
  async terminateSession(): Promise<void> {
    if (this.sessionId === undefined || this.closed) return;
    const timeoutMs = this.options.terminateTimeoutMs ?? DEFAULT_TERMINATE_TIMEOUT_MS;
    try {
      const response = await this.fetch('DELETE', {}, deadlineSignal(timeoutMs, this.abort.signal));
      await response.body?.cancel().catch(() => {});
    } catch {
      // The server may be gone already; the session then ends with it.
    }
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    for (const awaiting of this.awaiting.values()) awaiting.abort();
    this.awaiting.clear();
    this.onclose?.();
  }

  private async fetch(
    method: 'GET' | 'POST' | 'DELETE',
    extra: {
      'content-type'?: string;
      accept?: string;
      body?: string;
      'last-event-id'?: string;
    },
    signal: AbortSignal = this.abort.signal,
    mirrored: Record<string, string> = {},
  ): Promise<Response> {
    const { body, ...headerFields } = extra;
    const headers: Record<string, string> = { ...this.options.headers, ...mirrored };
    for (const [name, value] of Object.entries(headerFields)) if (value !== undefined) headers[name] = value;
    if (this.sessionId !== undefined) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion !== undefined) headers['mcp-protocol-version'] = this.protocolVersion;
    // Redirects are followed within the server's origin only: its headers may carry credentials.
    let url = this.url;
    for (let hop = 0; ; hop++) {
      const response = await this.authorizedFetch(url, { method, headers, body, signal, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      await response.body?.cancel().catch(() => {});
      const next = new URL(location, url);
      if (next.origin !== this.url.origin || hop >= MAX_REDIRECTS || ![307, 308].includes(response.status)) {
        throw new GatewayError(
          'UPSTREAM_UNAVAILABLE',
          `the server redirected to ${next.origin}${next.pathname}; not followed`,
        );
      }
      url = next;
    }
  }

  private deliverErrorAnswer(text: string, requestId: RequestId): boolean {
    let data: { jsonrpc?: unknown; id?: unknown; error?: unknown };
    try {
      data = JSON.parse(text) as typeof data;
    } catch {
      return false;
    }
    if (data?.jsonrpc !== '2.0' || data.id !== requestId || typeof data.error !== 'object') return false;
    this.onmessage?.(data as JSONRPCMessage, { relatedRequestId: requestId });
    return true;
  }

  /**
   * One fetch with the sign-in's Authorization header, when the server has one. A 401 to it is answered with a
   * new token if one can be had (a refresh), and the request is sent once more.
   */
  private async authorizedFetch(url: URL, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const authorization = this.options.authorization;
    if (!authorization) return fetch(url, init);
    for (let attempt = 0; ; attempt++) {
      const value = authorization.header();
      const sent = typeof value === 'string' || value === undefined ? value : await value;
      const headers = { ...init.headers };
      if (sent !== undefined) headers.authorization = sent;
      const response = await fetch(url, { ...init, headers });
      if (response.status !== 401 || attempt > 0 || !(await authorization.unauthorized(response, sent))) {
        return response;
      }
      await response.body?.cancel().catch(() => {});
    }
  }

  private deliverJson(text: string, relatedRequestId: RequestId): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      this.onerror?.(new Error(`the server answered with invalid JSON: ${errorMessage(error)}`));
      return;
    }
    for (const message of Array.isArray(data) ? data : [data]) this.deliver(message, relatedRequestId);
  }

  private deliver(message: unknown, relatedRequestId: RequestId | undefined): boolean {
    if (!isJsonRpcMessage(message)) {
      this.onerror?.(new Error('the server sent something that is not a JSON-RPC 2.0 message'));
      return false;
    }
    this.onmessage?.(message, relatedRequestId === undefined ? undefined : { relatedRequestId });
    return 'id' in message && !('method' in message) && message.id === relatedRequestId;
  }

  /**
   * Reads one SSE response to its end. Returns whether the response to `relatedRequestId` arrived, and the
   * last event id seen (for resumption).
   */
  private async readEvents(
    response: Response,
    relatedRequestId: RequestId | undefined,
  ): Promise<{ answered: boolean; lastEventId?: string }> {
    let answered = false;
    let lastEventId: string | undefined;
    const awaiting = relatedRequestId === undefined ? undefined : this.awaiting.get(relatedRequestId);
    // Bytes since the last complete event: a server that never ends an event must not fill our memory.
    let sinceEvent = 0;
    const parser = createParser({
      onEvent: (event: EventSourceMessage) => {
        sinceEvent = 0;
        if (event.id) lastEventId = event.id;
        if (!event.data || (event.event !== undefined && event.event !== 'message')) return;
        let message: unknown;
        try {
          message = JSON.parse(event.data);
        } catch {
          this.onerror?.(new Error('the server sent an SSE event that is not JSON'));
          return;
        }
        if (this.deliver(message, relatedRequestId)) answered = true;
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body ?? []) {
        sinceEvent += (chunk as Uint8Array).length;
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        if (sinceEvent > MAX_MESSAGE_BYTES) throw new Error(`an SSE event exceeded ${MAX_MESSAGE_BYTES} bytes`);
      }
    } catch (error) {
      const ended = this.closed || awaiting?.signal.aborted;
      if (!ended) this.onerror?.(new Error(`SSE stream from the server ended: ${errorMessage(error)}`));
    }
    if (relatedRequestId === undefined) return { answered, ...(lastEventId === undefined ? {} : { lastEventId }) };
    if (!answered && lastEventId !== undefined && !this.closed && awaiting && !awaiting.signal.aborted) {
      // SEP-1699 polling: the caller's own stream may be closed the same way (see CallOrigin.closeStream).
      this.onstreamclosed?.(relatedRequestId);
      this.schedule(() => this.resume(lastEventId!, relatedRequestId, 1), RECONNECT_BASE_MS);
    } else {
      this.stopAwaiting(relatedRequestId, awaiting);
    }
    return { answered, ...(lastEventId === undefined ? {} : { lastEventId }) };
  }

  /** Reopens a POST stream that dropped before its answer, as a GET with Last-Event-ID. */
  private async resume(lastEventId: string, relatedRequestId: RequestId, attempt: number): Promise<void> {
    const awaiting = this.awaiting.get(relatedRequestId);
    if (!awaiting || awaiting.signal.aborted) return; // cancelled or timed out since: nothing to resume
    try {
      const response = await this.fetch(
        'GET',
        { accept: 'text/event-stream', 'last-event-id': lastEventId },
        awaiting.signal,
      );
      if (!response.ok) {
        this.stopAwaiting(relatedRequestId, awaiting);
        await response.body?.cancel().catch(() => {});
        return;
      }
      await this.readEvents(response, relatedRequestId);
    } catch (error) {
      if (this.closed || awaiting.signal.aborted || attempt >= MAX_RECONNECT_ATTEMPTS) {
        this.stopAwaiting(relatedRequestId, awaiting);
        return;
      }
      this.onerror?.(new Error(`resuming a stream failed: ${errorMessage(error)}`));
      this.schedule(() => this.resume(lastEventId, relatedRequestId, attempt + 1), delayFor(attempt));
    }
  }

  private openStandaloneStream(lastEventId?: string, attempt = 0): void {
    void (async () => {
      let seen = lastEventId;
      try {
        const response = await this.fetch('GET', {
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        });
        if (response.status === 405 || response.status === 404) {
          // No standalone stream on this server (or our session ended: the next POST finds out).
          await response.body?.cancel().catch(() => {});
          return;
        }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const result = await this.readEvents(response, undefined);
        seen = result.lastEventId ?? seen;
        attempt = 0;
      } catch (error) {
        // Without a sign-in the stream stays closed; the next POST reports it to its caller.
        if (this.closed || isGatewayError(error, 'UPSTREAM_AUTH_REQUIRED')) return;
        this.onerror?.(new Error(`the server's event stream failed: ${errorMessage(error)}`));
      }
      if (this.closed || attempt >= MAX_RECONNECT_ATTEMPTS) return;
      this.schedule(() => this.openStandaloneStream(seen, attempt + 1), delayFor(attempt + 1));
    })();
  }

  /** The request's answer is in, or no longer wanted: its stream (if still open) ends. */
  private stopAwaiting(requestId: RequestId | undefined, which?: AbortController): void {
    if (requestId === undefined) return;
    const awaiting = this.awaiting.get(requestId);
    if (!awaiting || (which && awaiting !== which)) return;
    this.awaiting.delete(requestId);
    awaiting.abort();
  }

  private schedule(run: () => unknown, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) void run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}

function delayFor(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, attempt - 1));
}

function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const candidate = value as { jsonrpc?: unknown; method?: unknown; id?: unknown };
  if (candidate.jsonrpc !== '2.0') return false;
  return typeof candidate.method === 'string' || candidate.id !== undefined;
}
