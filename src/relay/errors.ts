import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';

import { errorMessage, type GatewayErrorCode, isGatewayError } from '../errors.js';

/** JSON-RPC code of each local error; anything not listed is an internal error. */
const JSON_RPC_CODES: Partial<Record<GatewayErrorCode, number>> = {
  TOOL_NOT_FOUND: ErrorCode.InvalidParams,
  TOOL_WITHHELD: -32001,
  PROMPT_NOT_FOUND: ErrorCode.InvalidParams,
  INVALID_PARAMS: ErrorCode.InvalidParams,
  RESOURCE_NOT_FOUND: -32002,
  ACCESS_DENIED: -32001,
  UPSTREAM_AUTH_REQUIRED: -32001,
  RATE_LIMITED: -32029,
  INSTANCE_LIMIT: -32000,
  CAPABILITY_MISSING: ErrorCode.MethodNotFound,
};

export interface WireError extends Error {
  code: number;
  data?: unknown;
}

/**
 * The single place where a local error becomes a JSON-RPC error: the SDK's protocol layer sends
 * `code`, `message` and `data` of whatever a handler throws. Upstream errors already carry a numeric
 * code and pass through unchanged; local ones get a code and `data.reason` naming the GatewayError code.
 */
export function toWireError(error: unknown): WireError {
  const { code, data } = (error ?? {}) as { code?: unknown; data?: unknown };
  if (typeof code === 'number' && Number.isSafeInteger(code)) {
    return Object.assign(new Error(errorMessage(error)), { code, data });
  }
  if (isGatewayError(error)) {
    const extra = typeof error.data === 'object' && error.data !== null ? error.data : {};
    return Object.assign(new Error(error.message), {
      code: JSON_RPC_CODES[error.code] ?? ErrorCode.InternalError,
      data: { reason: error.code, ...extra },
    });
  }
  return Object.assign(new Error(errorMessage(error)), { code: ErrorCode.InternalError });
}
