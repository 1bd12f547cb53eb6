import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  Progress,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';

import { errorMessage, GatewayError, isGatewayError, UpstreamRpcError } from '../errors.js';
import { INVALID_REQUEST } from '../relay/bounds.js';
import type { CancelSignal } from '../relay/lazy-abort.js';
import { PendingRequests } from './pending-requests.js';
import { resultTextOf } from './result-text.js';

export interface PeerRequestOptions<T = unknown> {
  signal?: CancelSignal;
  timeoutMs?: number;
  /** Called synchronously for each progress notification of this request, before its result is handled. */
  onProgress?: (progress: Progress) => void;
  /** Wording of the timeout error, e.g. `tool "echo" on server "everything"`. */
  describe?: string;
  /** Whose request this is: given back with every server message that the transport ties to it. */
  tag?: T;
  /** Fields laid over the request's `_meta` (a 2026-07-28 server's per-request envelope). */
  meta?: Record<string, unknown>;
  /** A long-lived request (a listen stream) that does not count as a call in flight. */
  background?: boolean;
  /** Told of the result synchronously, as soon as it is read and before the request's promise resolves. */
  onResult?: ResultListener;
}

/** See `PeerRequestOptions.onResult`: an object rather than a function, so that a call makes no closure for it. */
export interface ResultListener {
  /** `text`: the result's JSON text as the server wrote it, when its transport kept it (see result-text.ts). */
  resultArrived(result: Record<string, unknown>, text: string | undefined): void;
}

/**
 * A transport that may say which of our requests a message belongs to (the upstream HTTP transport knows the
 * POST response stream each message arrived on); the SDK's transports leave `relatedRequestId` unset.
 */
export type AttributingTransport = Omit<Transport, 'onmessage'> & {
  onmessage?: (message: JSONRPCMessage, extra?: { relatedRequestId?: RequestId; line?: string }) => void;
  /** The server closed the response stream of our request `requestId` mid-call; the transport resumes it. */
  onstreamclosed?: (requestId: RequestId) => void;
};

export interface PeerHandlers<T> {
  /**
   * A request from the server (sampling, elicitation, roots). Resolve with the result or throw. `related` is the
   * tag of our request whose response stream carried it, when the transport knows.
   */
  onRequest(request: JSONRPCRequest, signal: AbortSignal, related: T | undefined): Promise<Record<string, unknown>>;
  onNotification(notification: JSONRPCNotification, related: T | undefined): void;
  /** The server closed the response stream of the request tagged `related` before answering it (SEP-1699). */
  onStreamClosed?(related: T): void;
}

/** One request of ours in flight; it is its own `abort` listener, so that a request makes no closure for it. */
class Pending<T> {
  resolve!: (result: Record<string, unknown>) => void;
  reject!: (error: Error) => void;
  /** When it times out, on performance.now()'s clock; undefined without a timeout. */
  deadline?: number;

  constructor(
    private readonly peer: JsonRpcPeer<T>,
    readonly id: number,
    readonly method: string,
    readonly options: PeerRequestOptions<T>,
  ) {}

  get tag(): T | undefined {
    return this.options.tag;
  }

  get onProgress(): ((progress: Progress) => void) | undefined {
    return this.options.onProgress;
  }

  handleEvent(): void {
    this.peer.abandon(
      this,
      cancelledError(this.options.signal),
      reasonText(this.options.signal?.reason) ?? 'cancelled by the client',
    );
  }
}

/**
 * A raw JSON-RPC peer over an SDK transport: the gateway's client side towards one upstream server.
 * Results pass through untouched (no schema parsing), and progress is taken straight from the transport,
 * so a progress notification that arrives in the same chunk as its result is never lost (SDK issue #2580).
 */
export class JsonRpcPeer<T = unknown> {
  // From 1: SDK v1 peers ignore a cancellation of request id 0.
  private nextId = 1;
  private readonly pending = new PendingRequests<Pending<T>>();
  private background = 0;
  private readonly incoming = new Map<RequestId, AbortController>();
  private closedError?: Error;
  /**
   * One timer for every request's timeout, armed for the earliest deadline (`timerAt`): a request in the usual
   * order (each with the same timeout, answered before the next times out) arms nothing and clears nothing.
   */
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  /** The `_meta` fields every request carries (the 2026-07-28 era's per-request envelope). */
  private requestMeta?: Record<string, unknown>;
  /**
   * Calls we abandoned (cancelled, timed out) whose cancellation the server may not have read yet: until then it
   * may still send requests for them. Each is kept by id until the server answers a ping sent after the
   * cancellation (it reads its input in order, so by then it has read it), answers the call after all, or the
   * connection closes; made on the first abandoned call.
   */
  private abandoned?: Map<number, T>;

  constructor(
    private readonly transport: AttributingTransport | Transport,
    private readonly handlers: PeerHandlers<T>,
  ) {
    (transport as AttributingTransport).onmessage = (message, extra) => this.onMessage(message, extra);
    (transport as AttributingTransport).onstreamclosed = (requestId) => {
      const tag = typeof requestId === 'number' ? this.pending.get(requestId)?.tag : undefined;
      if (tag !== undefined) this.handlers.onStreamClosed?.(tag);
    };
  }

  /** Calls in flight (long-lived background requests not counted). */
  get inFlight(): number {
    return this.pending.size - this.background;
  }

  /** From now on every request carries these `_meta` fields (a stateless-era server needs them on each). */
  setRequestMeta(meta: Record<string, unknown>): void {
    this.requestMeta = meta;
  }

  /** Tags of the requests in flight, oldest first. */
  *inFlightTags(): IterableIterator<T> {
    for (const entry of this.pending.list()) if (entry.tag !== undefined) yield entry.tag;
  }

  request(method: string, params: Record<string, unknown> | undefined, options: PeerRequestOptions<T> = {}) {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const { signal, timeoutMs, onProgress } = options;
    if (signal?.aborted) return Promise.reject(cancelledError(signal));

    let outgoing = params;
    if (onProgress || this.requestMeta || options.meta) {
      const meta = (params?._meta as Record<string, unknown> | undefined) ?? {};
      // Our own progress token, so that two clients' tokens can never collide on a shared connection.
      const progress = onProgress ? { progressToken: id } : {};
      outgoing = { ...params, _meta: { ...meta, ...this.requestMeta, ...options.meta, ...progress } };
    }

    const entry = new Pending<T>(this, id, method, options);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
      this.pending.add(entry);
      if (options.background) this.background++;
      signal?.addEventListener('abort', entry, ONCE);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        entry.deadline = performance.now() + timeoutMs;
        if (entry.deadline < this.timerAt) this.armTimer(entry.deadline);
      }
      const message: JSONRPCRequest = outgoing
        ? { jsonrpc: '2.0', id, method, params: outgoing }
        : { jsonrpc: '2.0', id, method };
      this.transport.send(message).catch((error: unknown) => {
        if (this.pending.get(id) !== entry) return;
        this.settle(entry);
        // A missing sign-in is not a lost connection: it reaches the caller as it is.
        if (isGatewayError(error, 'UPSTREAM_AUTH_REQUIRED')) return reject(error);
        reject(new GatewayError('UPSTREAM_UNAVAILABLE', `cannot send to the server: ${errorMessage(error)}`));
      });
    });
  }

  /** Tags of the calls abandoned whose cancellation the server may not have read yet (see `abandoned`). */
  abandonedTags(): IterableIterator<T> {
    return (this.abandoned ?? NO_ABANDONED).values() as IterableIterator<T>;
  }

  /** Ends a request of ours before its answer (cancelled, timed out): the server is told, the caller gets `error`. */
  abandon(entry: Pending<T>, error: Error, reason: string): void {
    const fenced = this.pending.get(entry.id) === entry && entry.tag !== undefined && !entry.options.background;
    this.cancel(entry.id, reason);
    if (fenced) this.fence(entry.id, entry.tag!, entry.options.timeoutMs);
    entry.reject(error);
  }

  /**
   * Remembers an abandoned call until the server has read its cancellation: the answer of a ping sent after it,
   * or its failure (a server that does not answer pings is given as long as the call was).
   */
  private fence(id: number, tag: T, timeoutMs: number | undefined): void {
    const abandoned = (this.abandoned ??= new Map());
    if (abandoned.size >= MAX_ABANDONED) abandoned.delete(abandoned.keys().next().value!);
    abandoned.set(id, tag);
    const forget = () => {
      if (this.abandoned?.get(id) === tag) this.abandoned.delete(id);
    };
    const limitMs = timeoutMs !== undefined && Number.isFinite(timeoutMs) ? timeoutMs : DEFAULT_FENCE_TIMEOUT_MS;
    this.request('ping', undefined, {
      background: true,
      timeoutMs: limitMs,
      describe: 'ping after a cancellation',
    }).then(forget, forget);
  }

  /** Forgets a request that is over, however it ended. */
  private settle(entry: Pending<T>): void {
    if (!this.pending.remove(entry)) return;
    if (entry.options.background) this.background--;
    entry.options.signal?.removeEventListener('abort', entry);
  }

  private armTimer(deadline: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(deadline - performance.now())));
    this.timer.unref();
  }

  /** Times out every request past its deadline, then waits for the next deadline, if any. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const entry of this.pending.list()) {
      const { deadline } = entry;
      if (deadline === undefined) continue;
      if (deadline > now) {
        if (deadline < next) next = deadline;
        continue;
      }
      const timeoutMs = entry.options.timeoutMs!;
      const what = entry.options.describe ?? entry.method;
      this.abandon(
        entry,
        new GatewayError(
          'UPSTREAM_TIMEOUT',
          `${what} did not answer within ${formatMs(timeoutMs)}; the request was cancelled`,
        ),
        `timed out after ${timeoutMs} ms`,
      );
    }
    if (next !== Infinity && next < this.timerAt) this.armTimer(next);
  };

  notify(method: string, params?: Record<string, unknown>): Promise<void> {
    if (this.closedError) return Promise.resolve();
    return this.transport.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  }

  /** Fails every request in flight with `error` and refuses new ones. */
  close(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const entry of this.pending.list()) {
      this.settle(entry);
      entry.reject(error);
    }
    for (const controller of this.incoming.values()) controller.abort(error);
    this.incoming.clear();
    this.abandoned = undefined;
  }

  private cancel(id: number, reason: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.settle(entry);
    this.notify('notifications/cancelled', { requestId: id, reason }).catch(() => {});
  }

  private onMessage(message: JSONRPCMessage, extra?: { relatedRequestId?: RequestId; line?: string }): void {
    const candidate = message as Partial<JSONRPCRequest> & { result?: unknown; error?: unknown };
    if (candidate.method === undefined) {
      this.onResponse(candidate, extra?.line);
      return;
    }
    const relatedId = extra?.relatedRequestId;
    const related = typeof relatedId === 'number' ? this.pending.get(relatedId)?.tag : undefined;
    if (candidate.id === undefined) this.onNotification(message as JSONRPCNotification, related);
    else this.onRequest(message as JSONRPCRequest, related);
  }

  private onResponse(message: { id?: unknown; result?: unknown; error?: unknown }, line: string | undefined): void {
    const entry = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!entry) {
      // A late answer to a cancelled or timed-out request: the server is done with it.
      if (this.abandoned !== undefined && typeof message.id === 'number') this.abandoned.delete(message.id);
      return;
    }
    if (message.error !== undefined) {
      this.settle(entry);
      const error = message.error as { code?: unknown; message?: unknown; data?: unknown };
      const code = typeof error.code === 'number' ? error.code : -32603;
      entry.reject(new UpstreamRpcError(code, String(error.message ?? 'error'), error.data));
      return;
    }
    const result = (message.result ?? {}) as Record<string, unknown>;
    const listener = entry.options.onResult;
    if (listener) {
      const text =
        line === undefined || message.result === undefined ? undefined : resultTextOf(line, message, entry.id);
      try {
        listener.resultArrived(result, text);
      } catch {
        // Whatever the listener did, the result still reaches the request's caller.
      }
    }
    // Forgotten after the listener has run, so that one who answers a client with the result does so first; nothing
    // between the two can reach this request (the listener is synchronous, and a close meanwhile settles it alike).
    this.settle(entry);
    entry.resolve(result);
  }

  private onNotification(notification: JSONRPCNotification, related: T | undefined): void {
    const params = notification.params as Record<string, unknown> | undefined;
    if (notification.method === 'notifications/progress') {
      const entry = this.pending.get(params?.progressToken as number);
      entry?.onProgress?.(params as unknown as Progress);
      return;
    }
    if (notification.method === 'notifications/cancelled') {
      const requestId = params?.requestId as RequestId | undefined;
      if (requestId !== undefined)
        this.incoming.get(requestId)?.abort(new Error(String(params?.reason ?? 'cancelled')));
      return;
    }
    this.handlers.onNotification(notification, related);
  }

  private onRequest(request: JSONRPCRequest, related: T | undefined): void {
    if (this.incoming.has(request.id)) {
      // Two requests under one id: the second would take the first's place, so that the server's cancellation
      // and our close could no longer reach the first (its client left asked), and its answer would end the second.
      const message = `request id ${JSON.stringify(request.id)} is already in flight`;
      this.transport
        .send({ jsonrpc: '2.0', id: request.id, error: { code: INVALID_REQUEST, message } })
        .catch(() => {});
      return;
    }
    const controller = new AbortController();
    this.incoming.set(request.id, controller);
    const respond = (message: JSONRPCMessage) => {
      if (this.incoming.get(request.id) === controller) this.incoming.delete(request.id);
      if (controller.signal.aborted) return;
      this.transport.send(message).catch(() => {});
    };
    const answer =
      request.method === 'ping' ? Promise.resolve({}) : this.handlers.onRequest(request, controller.signal, related);
    answer.then(
      (result) => respond({ jsonrpc: '2.0', id: request.id, result }),
      (error: unknown) => {
        const { code, data } = error as { code?: unknown; data?: unknown };
        respond({
          jsonrpc: '2.0',
          id: request.id,
          error: {
            code: typeof code === 'number' ? code : -32603,
            message: errorMessage(error),
            ...(data === undefined ? {} : { data }),
          },
        });
      },
    );
  }
}

function reasonText(reason: unknown): string | undefined {
  if (reason instanceof Error) return reason.message;
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}

function cancelledError(signal: CancelSignal | undefined): GatewayError {
  const reason = reasonText(signal?.reason);
  return new GatewayError('REQUEST_CANCELLED', `the request was cancelled${reason ? `: ${reason}` : ''}`);
}

/** The most abandoned calls remembered per peer (see `JsonRpcPeer.abandoned`); older ones are forgotten. */
const MAX_ABANDONED = 1_000;
/** How long the ping after the cancellation of a call without a timeout of its own may take. */
const DEFAULT_FENCE_TIMEOUT_MS = 60_000;
const NO_ABANDONED: ReadonlyMap<number, never> = new Map<number, never>();

/** One options object for every request's `abort` listener (read when the listener is added, never changed). */
const ONCE = Object.freeze({ once: true });

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
