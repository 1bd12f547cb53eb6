import type { ServerResponse } from 'node:http';

import type { RequestId, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { CACHEABLE_METHODS, META } from '../protocol/modern.js';
import { GATEWAY_NAME, GATEWAY_VERSION } from '../version.js';

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** How long a stateless client may keep a list or a read before asking again; list changes are pushed. */
export const LIST_TTL_MS = 60_000;

/**
 * The answer to one 2026-07-28 request: a JSON body, or an SSE stream when the request can receive
 * notifications (it sent a progress token or a log level) — then every notification of the request goes on
 * the stream before its response, which ends it.
 */
export class StatelessResponse {
  private streaming = false;
  private done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly id: RequestId,
    /** Whether the client can take notifications on this request's response. */
    readonly wantsNotifications: boolean,
  ) {}

  /** Whether the answer was sent. */
  get answered(): boolean {
    return this.done;
  }

  /** Whether the client went away before the answer (closing the stream cancels the request). */
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /** Runs `cancel` if the client closes the request before its answer (that is how it cancels it). */
  onClose(cancel: () => void): void {
    this.res.once('close', () => {
      if (!this.done) cancel();
    });
  }

  notify(notification: ServerNotification): void {
    if (!this.wantsNotifications || this.done || this.closed) return;
    if (!this.streaming) {
      this.streaming = true;
      this.res.writeHead(200, SSE_HEADERS);
    }
    this.res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', ...notification })}\n\n`);
  }

  result(result: Record<string, unknown>): void {
    this.send({ jsonrpc: '2.0', id: this.id, result });
  }

  error(code: number, message: string, data?: unknown, status = 200): void {
    this.send(
      { jsonrpc: '2.0', id: this.id, error: { code, message, ...(data === undefined ? {} : { data }) } },
      status,
    );
  }

  private send(message: object, status = 200): void {
    if (this.done || this.closed) return;
    this.done = true;
    const body = JSON.stringify(message);
    if (this.streaming) {
      this.res.end(`event: message\ndata: ${body}\n\n`);
      return;
    }
    this.res
      .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      .end(body);
  }
}

/**
 * A complete result as the 2026-07-28 revision shapes it: `resultType`, the gateway's identity in `_meta`,
 * and caching hints on cacheable methods. Lists are `private`: what a caller sees depends on its access.
 */
export function completeResult(method: string, result: Record<string, unknown>): Record<string, unknown> {
  const meta = (result._meta as Record<string, unknown> | undefined) ?? {};
  const shaped: Record<string, unknown> = {
    ...result,
    resultType: result.resultType ?? 'complete',
    _meta: { ...meta, [META.serverInfo]: { name: GATEWAY_NAME, version: GATEWAY_VERSION } },
  };
  if (CACHEABLE_METHODS.has(method) && shaped.resultType === 'complete') {
    shaped.ttlMs = method === 'resources/read' ? 0 : LIST_TTL_MS;
    shaped.cacheScope = 'private';
  }
  return shaped;
}
