import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

import { messageText } from '../relay/message-text.js';
import type { SessionEventStore } from './event-store.js';
import { isJsonContent } from './http-body.js';
import { prefersJson } from './response-preference.js';

/** As the SDK's transport: a comment on an SSE response this often, so that proxies keep a long call's stream. */
const KEEP_ALIVE_MS = 15_000;
/** The first protocol version whose POST streams open with a priming event and may be closed for resumption. */
const RESUMABLE_FROM = '2025-11-25';
const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** The SDK transport's own maps, which a lean stream hands its request over to when its client goes away. */
interface SdkInternals {
  _requestToStreamMapping: Map<RequestId, string>;
  _resumableStreams: Set<string>;
  /** The SSE streams open now, by stream id (a resumed request stream among them). */
  _streamMapping: Map<string, unknown>;
}

export interface LeanOptions {
  jsonResponse: boolean;
  eventStore?: SessionEventStore;
  retryMs?: number;
}

/** Settled at once: what `handleRequest` returns for a request the lean path took (no promise made per call). */
const HANDLED: Promise<void> = Promise.resolve();

/**
 * How long a request may wait for its answer and still get it as one JSON body. A request still waiting when one
 * grace tick has passed after the one it came in (so between this and twice this long) gets its SSE stream, with
 * the priming event that lets its client resume it: a long call stays resumable, a quick one costs no stream.
 */
export const JSON_GRACE_MS = 150;

/** What a lean stream asks of its session's transport. */
interface StreamHost {
  /** The SSE response headers of the session. */
  sseHeaders(): OutgoingHttpHeaders;
  /** The stream's SSE response went out: its keep-alive comments start. */
  streaming(): void;
  /** The client went away before the answer. */
  gone(stream: LeanStream): void;
}

/**
 * One POSTed request answered on the Node response itself. For a client that prefers JSON, its answer comes as one
 * JSON body when it is the first message of the exchange and comes within the grace; otherwise (a notification or a server request first, a long
 * call, the server closing the stream for polling) the response is an SSE stream, each event stored for a
 * resuming client exactly as the SDK transport stores it. Under `--json-response` it is JSON only, as the SDK's.
 */
class LeanStream {
  /** False once the client's connection is gone or the server closed the stream for the client to resume. */
  open = true;
  /** Whether an event with an id went out (the priming one included): a client can then resume the stream. */
  resumable = false;
  /** Whether the SSE headers went out: from then on every message of the exchange is an event. */
  streaming = false;

  constructor(
    readonly requestId: RequestId,
    readonly streamId: string,
    readonly res: ServerResponse,
    /** The grace tick of the transport the request came in. */
    readonly tick: number,
    private readonly host: StreamHost,
    private readonly jsonOnly: boolean,
    private readonly store: SessionEventStore | undefined,
    /** From protocol version 2025-11-25 the SSE stream opens with a priming event (and the server may close it). */
    private readonly priming: boolean,
    private readonly retryMs: number | undefined,
  ) {
    res.on('close', this.onClose);
  }

  /** Opens the SSE response: its headers and, where the version has them, the priming event, in one write. */
  startStreaming(): void {
    if (this.streaming || !this.open || this.jsonOnly) return;
    this.streaming = true;
    const res = this.res;
    res.writeHead(200, this.host.sseHeaders());
    if (this.store && this.priming) {
      const id = this.store.storePriming(this.streamId);
      const retryMs = this.retryMs;
      res.write(retryMs === undefined ? `id: ${id}\ndata: \n\n` : `id: ${id}\nretry: ${retryMs}\ndata: \n\n`);
      this.resumable = true;
    }
    this.host.streaming();
  }

  /** Whether a notification sent on this exchange reaches its client now (not JSON-only, client still there). */
  get carriesNotifications(): boolean {
    return this.open && !this.jsonOnly;
  }

  /** One message of the request's exchange; `final` is its response, which ends the response. */
  send(message: JSONRPCMessage, final: boolean, sessionId: string | undefined): void {
    if (!this.streaming) {
      if (final) return this.answerJson(message, sessionId);
      // As the SDK's JSON mode: only the response goes out. Else the exchange needs its stream now.
      if (this.jsonOnly) return;
      this.startStreaming();
    }
    // As the SDK transport: with an event store, every event is stored and carries its id, whatever the version.
    // The store keeps the text written here, so the message is serialised once.
    const data = messageText(message);
    const eventId = this.store?.storeText(this.streamId, data);
    if (eventId !== undefined && this.open) this.resumable = true;
    const event =
      eventId === undefined ? `event: message\ndata: ${data}\n\n` : `event: message\nid: ${eventId}\ndata: ${data}\n\n`;
    if (!final) {
      if (this.open) this.res.write(event);
      return;
    }
    this.finish();
    if (this.open) this.res.end(event);
  }

  /** A comment that keeps proxies from dropping a long call's stream. */
  keepAlive(): void {
    if (this.open && this.streaming) this.res.write(': keepalive\n\n');
  }

  /** The server ends the stream while the request goes on (the client resumes it with Last-Event-ID). */
  closeForResume(): void {
    if (!this.open) return;
    // A request still within its grace gets its stream first: the priming event is what its client resumes from.
    this.startStreaming();
    this.res.end();
    this.onClose();
  }

  /** The session is closing: the response ends with it. */
  end(): void {
    this.finish();
    if (this.open) {
      this.startStreaming();
      this.res.end();
    }
    this.open = false;
  }

  /** The whole answer as one JSON body, as the SDK's JSON mode sends it. */
  private answerJson(message: JSONRPCMessage, sessionId: string | undefined): void {
    this.finish();
    if (!this.open) return;
    const data = messageText(message);
    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(data),
    };
    if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
    this.res.writeHead(200, headers).end(data);
    // Answered: nothing else may write to this response (its headers are gone).
    this.open = false;
  }

  private finish(): void {
    this.res.off('close', this.onClose);
  }

  private readonly onClose = (): void => {
    if (!this.open) return;
    this.open = false;
    this.finish();
    this.host.gone(this);
  };
}

/**
 * A Streamable HTTP session's transport with a lean path for its hot traffic. The SDK transport converts every
 * Node request into a Web `Request`, its answer back from a Web `Response` stream, and schema-parses each message
 * again; for a POST of one request to a session already initialised, which is nearly every call, this transport
 * writes the answer straight onto the Node response instead, with the same headers, events and event ids. A client
 * that prefers JSON (the SDK client does) gets a quick answer as one JSON body, which spares both sides the stream;
 * a call that needs a stream, or runs past the grace, gets one, resumable as before. The SDK transport keeps
 * everything else: initialisation, GET streams and their replay, DELETE, notifications and
 * responses from the client, batches, and every refusal. A lean request whose client goes away mid-stream is
 * handed over to the SDK transport, which then delivers its events to the client that resumes it.
 */
export class LeanStreamableTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private readonly streams = new Map<RequestId, LeanStream>();
  private readonly internals: SdkInternals | undefined;
  private closed = false;
  /** One timer for the keep-alive comments of every open stream, made once rather than per request. */
  private keepAliveTimer?: NodeJS.Timeout;
  /** The SSE response headers, made once the session id is known. */
  private sseHeaders?: OutgoingHttpHeaders;
  /** Numbers the lean streams: their ids need only be unique within the session, whose event store they key. */
  private streamSeq = 0;
  /** The grace of JSON answers: one timer for the session, armed while a request waits for its answer. */
  private graceTimer?: NodeJS.Timeout;
  private graceArmed = false;
  /** How many grace ticks have passed; a stream keeps the tick it came in. */
  private graceTicks = 0;
  /** The Accept header last read, and whether it prefers JSON. */
  private accept?: string;
  private acceptJson = false;
  private readonly host: StreamHost = {
    sseHeaders: () => this.headersOfSse(),
    streaming: () => this.keepStreamsAlive(),
    gone: (stream) => this.onGone(stream),
  };
  private readonly closeStandalone = (): void => this.sdk.closeStandaloneSSEStream();

  constructor(
    readonly sdk: StreamableHTTPServerTransport,
    private readonly options: LeanOptions,
  ) {
    // The lean path needs the maps it hands requests over to; without them (another SDK version) it stays off.
    const inner = (sdk as unknown as { _webStandardTransport?: Partial<SdkInternals> })._webStandardTransport;
    this.internals =
      inner?._requestToStreamMapping instanceof Map &&
      inner._resumableStreams instanceof Set &&
      inner._streamMapping instanceof Map
        ? (inner as SdkInternals)
        : undefined;
  }

  get sessionId(): string | undefined {
    return this.sdk.sessionId;
  }

  async start(): Promise<void> {
    this.sdk.onmessage = (message, extra) => this.onmessage?.(message, extra);
    this.sdk.onerror = (error) => this.onerror?.(error);
    this.sdk.onclose = () => {
      this.closed = true;
      for (const stream of this.streams.values()) stream.end();
      this.streams.clear();
      // After the streams' end: a stream still in its grace opens as it ends, which must not leave a timer behind
      // (a timer would keep the whole closed session reachable).
      clearInterval(this.keepAliveTimer);
      clearTimeout(this.graceTimer);
      this.onclose?.();
    };
    await this.sdk.start();
  }

  close(): Promise<void> {
    return this.sdk.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const final = !('method' in message);
    const requestId = final ? (message as { id?: RequestId }).id : options?.relatedRequestId;
    const stream = requestId === undefined ? undefined : this.streams.get(requestId);
    if (!stream) return this.sdk.send(message, options);
    if (final) this.streams.delete(requestId!);
    stream.send(message, final, this.sdk.sessionId);
    return HANDLED;
  }

  /**
   * Whether a notification tied to the request `requestId` would reach its client now, on that request's own
   * stream: its lean stream is open (answers are not JSON only, its client has not gone), or, once handed to the
   * SDK transport (its client resumed it, or it was closed for polling), the SDK has an SSE stream of it open.
   */
  carriesNotificationsFor(requestId: RequestId): boolean {
    const stream = this.streams.get(requestId);
    if (stream) return stream.carriesNotifications;
    if (this.options.jsonResponse || !this.internals) return false;
    const streamId = this.internals._requestToStreamMapping.get(requestId);
    return streamId !== undefined && this.internals._streamMapping.has(streamId);
  }

  /** Answers the request on the lean path when it can, else through the SDK transport. */
  handleRequest(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
    const version = header(req, 'mcp-protocol-version');
    const request = this.leanRequest(req, body, version);
    if (!request) return this.sdk.handleRequest(req, res, body);
    const json = this.options.jsonResponse;
    const store = json ? undefined : this.options.eventStore;
    const closable = store !== undefined && (version ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION) >= RESUMABLE_FROM;
    const stream = new LeanStream(
      request.id,
      `lean-${++this.streamSeq}`,
      res,
      this.graceTicks,
      this.host,
      json,
      store,
      closable,
      this.options.retryMs,
    );
    this.streams.set(request.id, stream);
    // A client that prefers JSON gets its answer as one body if it comes first and in time; else a stream at once.
    if (!json) {
      if (this.prefersJson(req.headers.accept!)) this.armGrace();
      else stream.startStreaming();
    }
    const extra: MessageExtraInfo = { requestInfo: new RequestInfo(req) };
    const authInfo = (req as { auth?: MessageExtraInfo['authInfo'] }).auth;
    if (authInfo) extra.authInfo = authInfo;
    if (closable) {
      extra.closeSSEStream = () => stream.closeForResume();
      extra.closeStandaloneSSEStream = this.closeStandalone;
    }
    this.onmessage?.(request, extra);
    return HANDLED;
  }

  private headersOfSse(): OutgoingHttpHeaders {
    const sessionId = this.sdk.sessionId;
    if (sessionId === undefined) return SSE_HEADERS;
    return (this.sseHeaders ??= { ...SSE_HEADERS, 'mcp-session-id': sessionId });
  }

  /** Whether the client prefers JSON answers; its Accept header is the same each time, so read once. */
  private prefersJson(accept: string): boolean {
    if (accept !== this.accept) {
      this.accept = accept;
      this.acceptJson = prefersJson(accept);
    }
    return this.acceptJson;
  }

  /** Starts the grace timer, unless it runs already (it runs on while requests wait, and stops when none do). */
  private armGrace(): void {
    if (this.graceArmed) return;
    this.graceArmed = true;
    if (this.graceTimer) this.graceTimer.refresh();
    else this.graceTimer = setTimeout(this.graceTick, JSON_GRACE_MS).unref();
  }

  /** A grace tick: the requests that came in before the previous tick and still wait get their SSE streams. */
  private readonly graceTick = (): void => {
    const previous = this.graceTicks++;
    let waiting = false;
    for (const stream of this.streams.values()) {
      if (stream.streaming) continue;
      if (stream.tick < previous) stream.startStreaming();
      else waiting = true;
    }
    this.graceArmed = waiting;
    if (waiting) this.graceTimer?.refresh();
  };

  /**
   * As the SDK's transport, a comment on every open SSE stream this often. One timer for the session rather than
   * one per request: it starts with the first stream and runs (unref'd) until the session closes.
   */
  private keepStreamsAlive(): void {
    if (this.keepAliveTimer || this.closed) return;
    this.keepAliveTimer = setInterval(() => {
      for (const stream of this.streams.values()) stream.keepAlive();
    }, KEEP_ALIVE_MS);
    this.keepAliveTimer.unref();
  }

  /**
   * The request, when this POST can take the lean path: one request (not initialize) whose headers the SDK would
   * accept, with an id no other stream of the session is answering. Anything else goes to the SDK transport.
   */
  private leanRequest(req: IncomingMessage, body: unknown, version: string | undefined): JSONRPCRequest | undefined {
    if (this.closed || !this.internals || req.method !== 'POST') return undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const message = body as Partial<JSONRPCRequest>;
    if (typeof message.method !== 'string' || message.method === 'initialize') return undefined;
    const id = message.id;
    if (typeof id !== 'string' && typeof id !== 'number') return undefined;
    if (this.streams.has(id) || this.internals._requestToStreamMapping.has(id)) return undefined;
    const accept = req.headers.accept;
    if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
    if (!isJsonContent(req.headers['content-type'])) return undefined;
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
    return message as JSONRPCRequest;
  }

  /**
   * The client of a lean stream went away before its answer: a resumable request goes on under the SDK
   * transport, which stores its events and sends them to the client that reconnects with Last-Event-ID.
   */
  private onGone(stream: LeanStream): void {
    if (this.streams.get(stream.requestId) !== stream) return;
    this.streams.delete(stream.requestId);
    if (!stream.resumable || !this.internals) return;
    this.internals._requestToStreamMapping.set(stream.requestId, stream.streamId);
    this.internals._resumableStreams.add(stream.streamId);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * What the SDK gives a request handler of the HTTP request: its headers, and its URL when asked for. A class, so
 * that the getter sits on its prototype rather than being defined anew on an object literal for every request.
 */
class RequestInfo implements NonNullable<MessageExtraInfo['requestInfo']> {
  readonly headers: IncomingMessage['headers'];
  private parsed?: URL;

  constructor(private readonly req: IncomingMessage) {
    this.headers = req.headers;
  }

  get url(): URL {
    const req = this.req;
    return (this.parsed ??= new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`));
  }
}
