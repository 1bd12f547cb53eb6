import type { JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

import { GatewayError } from '../errors.js';
import { MISSING_REQUIRED_CLIENT_CAPABILITY } from '../protocol/modern.js';
import type { InstanceRequestOptions, UpstreamInstance } from '../upstream/instance.js';
import { missingCapability } from './routing.js';

/** Rounds of input a 2026-07-28 server may ask for in one call before the gateway gives up. */
export const MAX_INPUT_ROUNDS = 10;

/**
 * One request to an instance, with its `input_required` rounds fulfilled: a 2026-07-28 server asks for input
 * in its result instead of sending requests, so each of its input requests goes to the call's own client
 * (whichever era that client speaks: a legacy client is asked directly, a 2026-07-28 client through its own
 * input_required round), and the request is retried with the answers and the server's request state.
 */
export async function requestWithInput(
  instance: UpstreamInstance,
  method: string,
  params: Record<string, unknown>,
  options: InstanceRequestOptions,
): Promise<Record<string, unknown>> {
  let result = await instance.request(method, params, options);
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
    const signal = options.signal ?? new AbortController().signal;
    const answers = await Promise.all(
      Object.entries(requests).map(async ([key, request]) => {
        const missing = missingCapability(request.method, request.params, origin.capabilities);
        if (missing !== undefined) {
          throw Object.assign(
            new Error(`the client does not support ${missing}, which server "${instance.name}" asked for`),
            {
              code: MISSING_REQUIRED_CLIENT_CAPABILITY,
              data: { requiredCapabilities: { [request.method.split('/')[0]!]: {} } },
            },
          );
        }
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
