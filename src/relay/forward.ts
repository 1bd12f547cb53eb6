import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  ClientCapabilities,
  JSONRPCRequest,
  LoggingLevel,
  Progress,
  ServerNotification,
  ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { GatewayError } from '../errors.js';
import { withheldError } from '../pinning/tool-pinning.js';
import { requestTracer } from '../tracing/tracing.js';
import type { InstanceRequestOptions, UpstreamInstance } from '../upstream/instance.js';
import type { ResultListener } from '../upstream/json-rpc-peer.js';
import type { CatalogView } from './catalog-view.js';
import type { ClientSession } from './client-session.js';
import type { RelayContext } from './context.js';
import { cancelOf, type EarlyAnswerer, earlyAnswererOf, requestStreamCarriesNotifications } from './lean-dispatch.js';
import type { CallOrigin, InputRelay, Owner } from './owner.js';
import { recordedToolCall } from './recorded-call.js';
import { relayWithInput, requestWithInput } from './upstream-call.js';

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

/** What a call needs to know of the session that makes it. */
export interface Caller {
  readonly owner: Owner;
  readonly clientCapabilities: ClientCapabilities;
  wantsLog(level: LoggingLevel): boolean;
  /** See `CallOrigin.failCall` (2026-07-28 calls only). */
  failCall?(error: Error): void;
  /** See `CallOrigin.inputRelay` (2026-07-28 calls only). */
  readonly inputRelay?: InputRelay;
  /** See `CallOrigin.logLevel` (2026-07-28 calls only). */
  readonly logLevel?: LoggingLevel;
}

/**
 * A call of `caller`: server messages during it reach the calling client on the call's own stream. One object
 * with its methods on the prototype, made once per call: the relay calls them on the origin, never detached.
 */
class CallOriginOf implements CallOrigin {
  readonly owner: Owner;
  readonly failCall?: (error: Error) => void;
  readonly inputRelay?: InputRelay;
  readonly logLevel?: LoggingLevel;
  readonly closeStream?: () => void;

  constructor(
    private readonly caller: Caller,
    private readonly extra: Extra,
  ) {
    this.owner = caller.owner;
    if (caller.failCall) this.failCall = caller.failCall;
    if (caller.inputRelay) this.inputRelay = caller.inputRelay;
    if (caller.logLevel !== undefined) this.logLevel = caller.logLevel;
    // The SDK offers it only on a resumable stream (an event store, protocol 2025-11-25 or later).
    if (extra.closeSSEStream) this.closeStream = () => extra.closeSSEStream?.();
  }

  get capabilities(): ClientCapabilities {
    return this.caller.clientCapabilities;
  }

  sendRequest(request: JSONRPCRequest, signal: AbortSignal): Promise<Record<string, unknown>> {
    // Withdrawn with the call it belongs to: a client that cancelled its call (or went away) would else be left
    // asked, and the server left waiting for an answer, until the 10-minute limit.
    const call = cancelOf(this.extra);
    const either = new AbortController();
    const abort = () => either.abort(signal.aborted ? signal.reason : call.reason);
    if (signal.aborted || call.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    call.addEventListener('abort', abort, { once: true });
    const sent = this.extra.sendRequest(
      { method: request.method, params: request.params } as ServerRequest,
      ANY_RESULT,
      {
        signal: either.signal,
        timeout: SERVER_REQUEST_TIMEOUT_MS,
      },
    ) as Promise<Record<string, unknown>>;
    return sent.finally(() => {
      signal.removeEventListener('abort', abort);
      call.removeEventListener('abort', abort);
    });
  }

  sendNotification(notification: ServerNotification): void {
    this.extra.sendNotification(notification).catch(() => {});
  }

  carriesNotifications(): boolean {
    return requestStreamCarriesNotifications(this.extra);
  }

  wantsLog(level: LoggingLevel): boolean {
    return this.caller.wantsLog(level);
  }
}

function originOf(caller: Caller, extra: Extra): CallOrigin {
  return new CallOriginOf(caller, extra);
}

function timeoutOf(context: RelayContext, server: string): number | undefined {
  return context.server(server)?.config.toolTimeoutMs;
}

/**
 * Forwards one request to the instance of `server` that serves the caller: the client's progress token,
 * cancellation and server-to-client requests all follow it. Progress notifications are sent before the
 * result, always. Never throws: whatever goes wrong rejects.
 */
export function forward(
  context: RelayContext,
  server: string,
  caller: Caller,
  method: string,
  params: Params,
  extra: Extra,
  options: ForwardOptions,
): Promise<Record<string, unknown>> {
  try {
    const origin = originOf(caller, extra);
    // The request's cancellation as it is: an AbortSignal is made only if something needs one.
    const signal = cancelOf(extra);
    const signIn = context.signInGate?.(server, origin, signal);
    if (signIn) return signIn.then(() => forwardSignedIn(context, server, origin, method, params, extra, options));
    return forwardSignedIn(context, server, origin, method, params, extra, options);
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

interface ForwardOptions {
  describe: string;
  /** The result is the answer to `extra`'s request as it is (its handler returns it unchanged). */
  answers?: true;
}

/**
 * `forward` once the caller may reach the server. A call with nothing to do after its result (no progress to
 * flush, no task to register, no input rounds of a 2026-07-28 caller) resolves with the instance's own promise:
 * no async step of its own is added between the upstream's answer and the end of the call.
 */
function forwardSignedIn(
  context: RelayContext,
  server: string,
  origin: CallOrigin,
  method: string,
  params: Params,
  extra: Extra,
  options: ForwardOptions,
): Promise<Record<string, unknown>> {
  const clientToken = (params._meta as { progressToken?: string | number } | undefined)?.progressToken;
  const progress = clientToken === undefined ? undefined : new ProgressRelay(extra, clientToken);
  const instance = context.instanceFor(server, origin);
  // A 2026-07-28 caller's request goes in its own era to a server that speaks it (tasks are of the legacy era).
  const relay = params.task === undefined ? origin.inputRelay : undefined;
  const requestOptions: InstanceRequestOptions = {
    signal: cancelOf(extra),
    timeoutMs: timeoutOf(context, server),
    onProgress: progress?.onProgress,
    origin,
    describe: options.describe,
    onResult: options.answers && !progress && !relay && params.task === undefined ? earlyAnswer(extra) : undefined,
  };
  if (!relay && !progress && params.task === undefined) {
    return requestWithInput(instance, method, params, requestOptions);
  }
  return finishForward(context, server, instance, origin, method, params, relay, progress, requestOptions);
}

async function finishForward(
  context: RelayContext,
  server: string,
  instance: UpstreamInstance,
  origin: CallOrigin,
  method: string,
  params: Params,
  relay: InputRelay | undefined,
  progress: ProgressRelay | undefined,
  requestOptions: InstanceRequestOptions,
): Promise<Record<string, unknown>> {
  const result = relay
    ? await relayWithInput(instance, server, method, params, relay, requestOptions)
    : await requestWithInput(instance, method, params, requestOptions);
  if (progress) await progress.sent;
  // A task-augmented call answers with a task: the client gets the gateway's id for it.
  if (params.task !== undefined && result.task !== undefined)
    return context.tasks.register(server, instance, origin.owner, result);
  return result;
}

/**
 * The client is answered the moment the upstream's result is read, when nothing between that result and the
 * answer would change it or must go out before it: no progress (sent before the result), no task (answered with
 * the gateway's id), no input rounds, no tracer (its span wraps the answer). Only requests answered directly
 * (relay/lean-dispatch.ts) can be.
 */
function earlyAnswer(extra: Extra): ResultListener | undefined {
  const answerer = earlyAnswererOf(extra);
  return answerer && !requestTracer() ? new EarlyAnswer(answerer) : undefined;
}

class EarlyAnswer implements ResultListener {
  constructor(private readonly answerer: EarlyAnswerer) {}

  resultArrived(result: Record<string, unknown>, text: string | undefined): void {
    // A result asking for input is one round of the call, not its answer.
    if (result.resultType !== 'input_required') this.answerer.answerEarly(result, text);
  }
}

/** The client's progress notifications of one call, sent in order (and all before its result). */
class ProgressRelay {
  sent: Promise<void> = Promise.resolve();

  constructor(
    private readonly extra: Extra,
    private readonly token: string | number,
  ) {}

  readonly onProgress = (progress: Progress): void => {
    const notification = { method: 'notifications/progress', params: { ...progress, progressToken: this.token } };
    this.sent = this.sent.then(() => this.extra.sendNotification(notification as ServerNotification)).catch(() => {});
  };
}

/** `tasks/get`, `tasks/result`, `tasks/cancel` and `tasks/list` of the caller's own tasks. */
export function taskRequest(context: RelayContext, caller: Caller, method: string, params: Params, extra: Extra) {
  const origin = originOf(caller, extra);
  if (method === 'tasks/list') return context.tasks.list(origin, extra.signal, (server) => timeoutOf(context, server));
  const entry = context.tasks.find(params.taskId, origin.owner);
  // tasks/result waits for the task: bounded by the server's tool timeout like the call itself (so is each
  // server's part of tasks/list).
  return context.tasks.relay(method, params, origin, {
    signal: extra.signal,
    timeoutMs: timeoutOf(context, entry.server),
  });
}

/**
 * Throws at once for a tool the caller cannot call (its caller, an async dispatch, turns that into a rejection).
 * Its result is the answer to `extra`'s request (the client may be answered with it early, see `earlyAnswer`),
 * and so are getPrompt's and readResource's: only a session's dispatch of that request calls them.
 */
export function callTool(
  context: RelayContext,
  caller: Caller,
  view: CatalogView,
  params: Params,
  extra: Extra,
): Promise<Record<string, unknown>> {
  const name = requireString(params, 'name');
  const tool = view.findTool(name);
  if (!tool) {
    const held = view.catalog.findWithheldTool(name);
    if (held && view.hasServer(held.server)) throw withheldError(name, held.server, held.originalName);
    const suggestions = view.suggestTools(name);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : '';
    throw new GatewayError('TOOL_NOT_FOUND', `unknown tool "${name}"${hint}`);
  }
  const record = { metrics: context.metrics, scope: view.scope, server: tool.server, tool: tool.originalName };
  return recordedToolCall(record, () =>
    forward(context, tool.server, caller, 'tools/call', { ...params, name: tool.originalName }, extra, {
      describe: `tool "${name}" on server "${tool.server}"`,
      answers: true,
    }),
  );
}

export async function getPrompt(
  context: RelayContext,
  caller: Caller,
  view: CatalogView,
  params: Params,
  extra: Extra,
) {
  const name = requireString(params, 'name');
  const prompt = view.findPrompt(name);
  if (!prompt) {
    const suggestions = view.suggestPrompts(name);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : '';
    throw new GatewayError('PROMPT_NOT_FOUND', `unknown prompt "${name}"${hint}`);
  }
  return forward(context, prompt.server, caller, 'prompts/get', { ...params, name: prompt.originalName }, extra, {
    describe: `prompt "${name}" on server "${prompt.server}"`,
    answers: true,
  });
}

function routeResource(view: CatalogView, uri: string) {
  const route = view.routeResource(uri);
  if (!route) throw new GatewayError('RESOURCE_NOT_FOUND', `no server offers the resource "${uri}"`, { data: { uri } });
  return route;
}

export async function readResource(
  context: RelayContext,
  caller: Caller,
  view: CatalogView,
  params: Params,
  extra: Extra,
) {
  const uri = requireString(params, 'uri');
  const route = routeResource(view, uri);
  return forward(context, route.server, caller, 'resources/read', { ...params, uri: route.originalUri }, extra, {
    describe: `resource "${uri}" on server "${route.server}"`,
    answers: true,
  });
}

export async function subscribe(context: RelayContext, session: ClientSession, params: Params, extra: Extra) {
  const uri = requireString(params, 'uri');
  const route = routeResource(session.view, uri);
  const server = context.server(route.server);
  if (!server) throw new GatewayError('UPSTREAM_UNAVAILABLE', `server "${route.server}" is not configured any more`);
  if (!server.capabilities.resources?.subscribe) {
    throw new GatewayError('CAPABILITY_MISSING', `server "${route.server}" does not support resource subscriptions`);
  }
  const instance = context.instanceFor(route.server, session.origin);
  if (context.subscriptions.add(instance, route.originalUri, session.id, uri)) {
    try {
      await forward(
        context,
        route.server,
        session,
        'resources/subscribe',
        { ...params, uri: route.originalUri },
        extra,
        {
          describe: `subscription to "${uri}"`,
        },
      );
    } catch (error) {
      context.subscriptions.remove(instance, route.originalUri, session.id);
      throw error;
    }
  }
  return {};
}

export async function unsubscribe(context: RelayContext, session: ClientSession, params: Params, extra: Extra) {
  const uri = requireString(params, 'uri');
  const route = routeResource(session.view, uri);
  const instance = context.instanceFor(route.server, session.origin);
  if (context.subscriptions.remove(instance, route.originalUri, session.id)) {
    await forward(
      context,
      route.server,
      session,
      'resources/unsubscribe',
      { ...params, uri: route.originalUri },
      extra,
      {
        describe: `unsubscription from "${uri}"`,
      },
    );
  }
  return {};
}

export async function complete(context: RelayContext, caller: Caller, view: CatalogView, params: Params, extra: Extra) {
  const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
  if (ref?.type === 'ref/prompt') {
    const prompt = view.findPrompt(requireString(ref, 'name'));
    if (!prompt) throw new GatewayError('PROMPT_NOT_FOUND', `unknown prompt "${ref.name}"`);
    const renamed = { ...params, ref: { ...ref, name: prompt.originalName } };
    return forward(context, prompt.server, caller, 'completion/complete', renamed, extra, {
      describe: `completion for prompt "${ref.name}"`,
    });
  }
  if (ref?.type === 'ref/resource') {
    const uri = requireString(ref, 'uri');
    const server = view.templateServer(uri) ?? view.routeResource(uri)?.server;
    if (!server) throw new GatewayError('RESOURCE_NOT_FOUND', `no server offers the resource template "${uri}"`);
    return forward(context, server, caller, 'completion/complete', params, extra, {
      describe: `completion for "${uri}"`,
    });
  }
  throw new GatewayError('INVALID_PARAMS', 'completion needs a ref of type "ref/prompt" or "ref/resource"');
}
