import type { IncomingMessage, ServerResponse } from 'node:http';

import type { JSONRPCRequest, RequestId, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { errorMessage } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { META, type RequestMeta } from '../protocol/modern.js';
import type { StatelessSession } from '../relay/stateless-session.js';
import { unsubscribeUpstream, type UpstreamInstance } from '../upstream/instance.js';

/** What a client opts in to on a `subscriptions/listen` stream. */
interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

const KIND_OF: Record<string, keyof ListenFilter> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};
const MAX_RESOURCE_SUBSCRIPTIONS = 100;
const KEEPALIVE_MS = 30_000;

interface Stream {
  id: RequestId;
  res: ServerResponse;
  close(): void;
}

/**
 * `subscriptions/listen` for 2026-07-28 clients: one long-lived SSE response per request, carrying only the
 * change notifications the client opted in to, each tagged with the stream's subscription id. Resource
 * subscriptions map onto the upstream servers' own, counted per stateless session, so a server is asked once
 * however many streams want a URI and released when the last one closes.
 */
export class ListenStreams {
  private readonly streams = new Set<Stream>();
  /** Per stateless session: how many of its streams want each (instance, URI). */
  private readonly wanted = new Map<string, Map<string, { instance: UpstreamInstance; uri: string; count: number }>>();

  constructor(private readonly gateway: Gateway) {}

  async open(
    req: IncomingMessage,
    res: ServerResponse,
    session: StatelessSession,
    request: JSONRPCRequest,
    meta: RequestMeta,
  ): Promise<void> {
    void meta;
    const params = (request.params ?? {}) as { notifications?: ListenFilter };
    const asked = params.notifications ?? {};
    const honored: ListenFilter = {};
    for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
      if (asked[key] === true) honored[key] = true;
    }
    const uris = await this.subscribeAll(session, asked.resourceSubscriptions ?? []);
    if (uris.length > 0) honored.resourceSubscriptions = uris.map((entry) => entry.publicUri);

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const tag = { [META.subscriptionId]: request.id };
    const write = (message: object) => {
      if (!res.writableEnded) res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', ...message })}\n\n`);
    };
    write({ method: 'notifications/subscriptions/acknowledged', params: { _meta: tag, notifications: honored } });
    const publicUris = new Set(honored.resourceSubscriptions ?? []);
    const removeListener = session.addListener((notification: ServerNotification) => {
      const kind = KIND_OF[notification.method];
      const params = (notification.params ?? {}) as Record<string, unknown>;
      const wanted =
        kind !== undefined
          ? honored[kind] === true
          : notification.method === 'notifications/resources/updated' && publicUris.has(String(params.uri));
      if (!wanted) return;
      const meta = (params._meta as Record<string, unknown> | undefined) ?? {};
      write({ method: notification.method, params: { ...params, _meta: { ...meta, ...tag } } });
    });
    const keepalive = setInterval(() => {
      if (!res.writableEnded) res.write(':\n\n');
    }, KEEPALIVE_MS);
    keepalive.unref();
    let closed = false;
    const stream: Stream = {
      id: request.id,
      res,
      close: () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        removeListener();
        this.streams.delete(stream);
        this.release(session, uris);
      },
    };
    this.streams.add(stream);
    req.once('close', stream.close);
    res.once('close', stream.close);
  }

  /** Ends every stream gracefully: the listen request's response, then the end of the stream. */
  closeAll(): void {
    for (const stream of [...this.streams]) {
      const result = { resultType: 'complete', _meta: { [META.subscriptionId]: stream.id } };
      if (!stream.res.writableEnded) {
        stream.res.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: stream.id, result })}\n\n`);
      }
      stream.close();
    }
  }

  private async subscribeAll(
    session: StatelessSession,
    requested: unknown[],
  ): Promise<{ instance: UpstreamInstance; uri: string; publicUri: string }[]> {
    const accepted: { instance: UpstreamInstance; uri: string; publicUri: string }[] = [];
    const view = session.view;
    for (const publicUri of requested.slice(0, MAX_RESOURCE_SUBSCRIPTIONS)) {
      if (typeof publicUri !== 'string') continue;
      const route = view.routeResource(publicUri);
      const server = route && this.gateway.server(route.server);
      if (!route || !server?.capabilities.resources?.subscribe) continue;
      try {
        const instance = this.gateway.instanceFor(route.server, session.origin);
        await this.want(session, instance, route.originalUri, publicUri);
        accepted.push({ instance, uri: route.originalUri, publicUri });
      } catch (error) {
        server.log.debug(`subscribing to ${publicUri} failed: ${errorMessage(error)}`);
      }
    }
    return accepted;
  }

  private async want(session: StatelessSession, instance: UpstreamInstance, uri: string, publicUri: string) {
    let counts = this.wanted.get(session.id);
    if (!counts) this.wanted.set(session.id, (counts = new Map()));
    const key = `${instance.id}\0${uri}`;
    const entry = counts.get(key);
    if (entry) {
      entry.count++;
      return;
    }
    counts.set(key, { instance, uri, count: 1 });
    if (this.gateway.subscriptions.add(instance, uri, session.id, publicUri)) {
      await instance.request('resources/subscribe', { uri }, { timeoutMs: instance.config.toolTimeoutMs });
    }
  }

  private release(session: StatelessSession, entries: { instance: UpstreamInstance; uri: string }[]): void {
    const counts = this.wanted.get(session.id);
    for (const { instance, uri } of entries) {
      const key = `${instance.id}\0${uri}`;
      const entry = counts?.get(key);
      if (!entry || --entry.count > 0) continue;
      counts!.delete(key);
      if (this.gateway.subscriptions.remove(instance, uri, session.id)) unsubscribeUpstream(instance, uri);
    }
  }
}
