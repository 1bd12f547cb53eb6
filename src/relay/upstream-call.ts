import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

import { GatewayError } from '../errors.js';
import { MISSING_REQUIRED_CLIENT_CAPABILITY } from '../protocol/modern.js';
import type { InstanceRequestOptions, UpstreamInstance } from '../upstream/instance.js';
import { toAbortSignal } from './lazy-abort.js';
import type { CallOrigin, InputRelay } from './owner.js';
import { missingCapability } from './routing.js';

/** Rounds of input a 2026-07-28 server may ask for in one call before the gateway gives up. */
export const MAX_INPUT_ROUNDS = 10;

/**
 * One request to an instance, with its `input_required` rounds fulfilled: a 2026-07-28 server asks for input
 * in its result instead of sending requests, so each of its input requests goes to the call's own client
 * (whichever era that client speaks: a legacy client is asked directly, a 2026-07-28 client through its own
 * input_required round), and the request is retried with the answers and the server's request state.
 */
export function requestWithInput(
  instance: UpstreamInstance,
  method: string,
  params: Record<string, unknown>,
  options: InstanceRequestOptions,
): Promise<Record<string, unknown>> {
  // One reaction on the request's promise rather than an async function's await: most results ask for nothing.
  return instance
    .request(method, params, options)
    .then((result) =>
      result.resultType === 'input_required' ? fulfilInput(instance, method, params, options, result) : result,
    );
}

async function fulfilInput(
  instance: UpstreamInstance,
  method: string,
  params: Record<string, unknown>,
  options: InstanceRequestOptions,
  first: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  let result = first;
  for (let round = 1; result.resultType === 'input_required'; round++) {
    const origin = options.origin;
    if (!origin)
      throw new GatewayError('CAPABILITY_MISSING', `server "${instance.name}" asked for input nobody can give`);
    if (round > MAX_INPUT_ROUNDS) {
      throw new GatewayError(
        'UPSTREAM_UNAVAILABLE',
        `server "${instance.name}" asked for input more than ${MAX_INPUT_ROUNDS} times`,
      );
    }
    const requests = (result.inputRequests ?? {}) as Record<
      string,
      { method: string; params?: Record<string, unknown> }
    >;
    const signal = toAbortSignal(options.signal) ?? new AbortController().signal;
    checkAskable(instance.name, requests, origin);
    const answers = await Promise.all(
      Object.entries(requests).map(async ([key, request]) => {
        const message = { jsonrpc: '2.0', id: 0, method: request.method, params: request.params } as JSONRPCRequest;
        return [key, await origin.sendRequest(message, signal)] as const;
      }),
    );
    const retry: Record<string, unknown> = { ...params, inputResponses: Object.fromEntries(answers) };
    if (result.requestState !== undefined) retry.requestState = result.requestState;
    result = await instance.request(method, retry, options);
  }
  return result;
}

/**
 * One request of a 2026-07-28 caller (see `InputRelay`): sent in that era when the server speaks it, its
 * `input_required` result handed back as the server gave it, with the server's requestState sealed. A retry
 * carries the server's own state back to it, and must reach a server of that era (the same one: the state is
 * bound to it). A server of the legacy era gets the request as any other, its requests held by the caller's
 * held call (stateless-http.ts).
 */
export async function relayWithInput(
  instance: UpstreamInstance,
  server: string,
  method: string,
  params: Record<string, unknown>,
  relay: InputRelay,
  options: InstanceRequestOptions,
): Promise<Record<string, unknown>> {
  const { retry } = relay;
  if (retry && retry.server !== server) {
    throw new GatewayError('INVALID_PARAMS', 'requestState was issued for another server; start the request again');
  }
  // Whatever state came in is the gateway's seal: the server gets its own back, or none.
  const { requestState: _sealed, ...rest } = params;
  void _sealed;
  const sent = retry?.requestState === undefined ? rest : { ...rest, requestState: retry.requestState };
  const result = await instance.request(method, sent, { ...options, era: retry ? 'modern' : 'prefer-modern' });
  if (result.resultType !== 'input_required') return result;
  const requests = (result.inputRequests ?? {}) as Record<string, { method: string; params?: Record<string, unknown> }>;
  if (options.origin) checkAskable(instance.name, requests, options.origin);
  return { ...result, requestState: relay.seal(server, result.requestState) };
}

/** A server asking for what the client did not declare ends the call with MissingRequiredClientCapability. */
function checkAskable(
  server: string,
  requests: Record<string, { method: string; params?: Record<string, unknown> }>,
  origin: CallOrigin,
): void {
  for (const request of Object.values(requests)) {
    const missing = missingCapability(request.method, request.params, origin.capabilities);
    if (missing === undefined) continue;
    throw Object.assign(new Error(`the client does not support ${missing}, which server "${server}" asked for`), {
      code: MISSING_REQUIRED_CLIENT_CAPABILITY,
      data: { requiredCapabilities: { [request.method.split('/')[0]!]: {} } },
    });
  }
}
