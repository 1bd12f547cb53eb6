import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { JSONRPCRequest, Progress, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { GatewayError } from '../errors.js';
import type { CallOrigin, Upstream } from '../upstream/upstream.js';
import type { CatalogView } from './catalog-view.js';
import type { ClientSession } from './client-session.js';
import type { RelayContext } from './context.js';
import { recordedToolCall } from './recorded-call.js';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Params = Record<string, unknown>;

/** Results of server-to-client requests are relayed as they are; the SDK insists on a schema. */
export const ANY_RESULT = z.looseObject({});
/** A human may be answering an elicitation: the upstream's own timeout and cancellation bound the wait. */
export const SERVER_REQUEST_TIMEOUT_MS = 10 * 60_000;

export function requireString(params: Params | undefined, key: string): string {
  const value = params?.[key];
  if (typeof value !== 'string' || value === '') {
    throw new GatewayError('INVALID_PARAMS', `"${key}" must be a non-empty string`);
  }
  return value;
}

function upstreamOf(context: RelayContext, server: string): Upstream {
  const upstream = context.upstream(server);
  if (!upstream) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${server}" is not configured any more`);
  return upstream;
}

/** How a server's request during this call reaches the calling client, on the call's own stream. */
function originOf(extra: Extra): CallOrigin {
  return {
    sendRequest: (request: JSONRPCRequest, signal: AbortSignal) =>
      extra.sendRequest({ method: request.method, params: request.params } as ServerRequest, ANY_RESULT, {
        signal,
        timeout: SERVER_REQUEST_TIMEOUT_MS,
      }) as Promise<Record<string, unknown>>,
  };
}

/**
 * Forwards one request to a server on behalf of a client: the client's progress token, cancellation and
 * server-to-client requests all follow it. Progress notifications are sent before the result, always.
 */
export async function forward(
  upstream: Upstream,
  method: string,
  params: Params,
  extra: Extra,
  options: { timeoutMs?: number; describe: string },
): Promise<Record<string, unknown>> {
  const clientToken = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
  let progressSent: Promise<void> = Promise.resolve();
  const onProgress =
    clientToken === undefined
      ? undefined
      : (progress: Progress) => {
          const notification = {
            method: 'notifications/progress',
            params: { ...progress, progressToken: clientToken },
          };
          progressSent = progressSent
            .then(() => extra.sendNotification(notification as ServerNotification))
            .catch(() => {});
        };
  const result = await upstream.request(method, params, {
    signal: extra.signal,
    timeoutMs: options.timeoutMs,
    onProgress,
    origin: originOf(extra),
    describe: options.describe,
  });
  await progressSent;
  return result;
}

export async function callTool(context: RelayContext, view: CatalogView, params: Params, extra: Extra) {
  const name = requireString(params, 'name');
  const tool = view.findTool(name);
  if (!tool) {
    const suggestions = view.suggestTools(name);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : '';
    throw new GatewayError('TOOL_NOT_FOUND', `unknown tool "${name}"${hint}`);
  }
  const upstream = upstreamOf(context, tool.server);
  const record = { metrics: context.metrics, scope: view.scope, server: tool.server, tool: tool.originalName };
  return recordedToolCall(record, () =>
    forward(upstream, 'tools/call', { ...params, name: tool.originalName }, extra, {
      timeoutMs: upstream.config.toolTimeoutMs,
      describe: `tool "${name}" on server "${tool.server}"`,
    }),
  );
}

export async function getPrompt(context: RelayContext, view: CatalogView, params: Params, extra: Extra) {
  const name = requireString(params, 'name');
  const prompt = view.findPrompt(name);
  if (!prompt) {
    const suggestions = view.suggestPrompts(name);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : '';
    throw new GatewayError('PROMPT_NOT_FOUND', `unknown prompt "${name}"${hint}`);
  }
  const upstream = upstreamOf(context, prompt.server);
  return forward(upstream, 'prompts/get', { ...params, name: prompt.originalName }, extra, {
    timeoutMs: upstream.config.toolTimeoutMs,
    describe: `prompt "${name}" on server "${prompt.server}"`,
  });
}

function routeResource(context: RelayContext, view: CatalogView, uri: string) {
  const route = view.routeResource(uri);
  if (!route) throw new GatewayError('RESOURCE_NOT_FOUND', `no server offers the resource "${uri}"`, { data: { uri } });
  return { route, upstream: upstreamOf(context, route.server) };
}

export async function readResource(context: RelayContext, view: CatalogView, params: Params, extra: Extra) {
  const uri = requireString(params, 'uri');
  const { route, upstream } = routeResource(context, view, uri);
  return forward(upstream, 'resources/read', { ...params, uri: route.originalUri }, extra, {
    timeoutMs: upstream.config.toolTimeoutMs,
    describe: `resource "${uri}" on server "${route.server}"`,
  });
}

export async function subscribe(context: RelayContext, session: ClientSession, params: Params, extra: Extra) {
  const uri = requireString(params, 'uri');
  const { route, upstream } = routeResource(context, session.view, uri);
  if (!upstream.capabilities.resources?.subscribe) {
    throw new GatewayError('CAPABILITY_MISSING', `server "${route.server}" does not support resource subscriptions`);
  }
  if (context.subscriptions.add(route.server, route.originalUri, session.id, uri)) {
    try {
      await forward(upstream, 'resources/subscribe', { ...params, uri: route.originalUri }, extra, {
        timeoutMs: upstream.config.toolTimeoutMs,
        describe: `subscription to "${uri}"`,
      });
    } catch (error) {
      context.subscriptions.remove(route.server, route.originalUri, session.id);
      throw error;
    }
  }
  return {};
}

export async function unsubscribe(context: RelayContext, session: ClientSession, params: Params, extra: Extra) {
  const uri = requireString(params, 'uri');
  const { route, upstream } = routeResource(context, session.view, uri);
  if (context.subscriptions.remove(route.server, route.originalUri, session.id)) {
    await forward(upstream, 'resources/unsubscribe', { ...params, uri: route.originalUri }, extra, {
      timeoutMs: upstream.config.toolTimeoutMs,
      describe: `unsubscription from "${uri}"`,
    });
  }
  return {};
}

export async function complete(context: RelayContext, view: CatalogView, params: Params, extra: Extra) {
  const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
  if (ref?.type === 'ref/prompt') {
    const prompt = view.findPrompt(requireString(ref, 'name'));
    if (!prompt) throw new GatewayError('PROMPT_NOT_FOUND', `unknown prompt "${ref.name}"`);
    const upstream = upstreamOf(context, prompt.server);
    return forward(upstream, 'completion/complete', { ...params, ref: { ...ref, name: prompt.originalName } }, extra, {
      timeoutMs: upstream.config.toolTimeoutMs,
      describe: `completion for prompt "${ref.name}"`,
    });
  }
  if (ref?.type === 'ref/resource') {
    const uri = requireString(ref, 'uri');
    const server = view.templateServer(uri) ?? view.routeResource(uri)?.server;
    if (!server) throw new GatewayError('RESOURCE_NOT_FOUND', `no server offers the resource template "${uri}"`);
    const upstream = upstreamOf(context, server);
    return forward(upstream, 'completion/complete', params, extra, {
      timeoutMs: upstream.config.toolTimeoutMs,
      describe: `completion for "${uri}"`,
    });
  }
  throw new GatewayError('INVALID_PARAMS', 'completion needs a ref of type "ref/prompt" or "ref/resource"');
}
