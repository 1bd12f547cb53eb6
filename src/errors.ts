/**
 * Local errors of the gateway. They never travel as-is: the serve/ edge converts them exactly once into
 * JSON-RPC errors or HTTP statuses. Errors that come from an upstream keep their own JSON-RPC code and data.
 */
export const GatewayErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  UPSTREAM_SPAWN_FAILED: 'UPSTREAM_SPAWN_FAILED',
  UPSTREAM_START_TIMEOUT: 'UPSTREAM_START_TIMEOUT',
  UPSTREAM_EXITED: 'UPSTREAM_EXITED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_AUTH_REQUIRED: 'UPSTREAM_AUTH_REQUIRED',
  REQUEST_CANCELLED: 'REQUEST_CANCELLED',
  TOOL_NOT_FOUND: 'TOOL_NOT_FOUND',
  TOOL_WITHHELD: 'TOOL_WITHHELD',
  PROMPT_NOT_FOUND: 'PROMPT_NOT_FOUND',
  RESOURCE_NOT_FOUND: 'RESOURCE_NOT_FOUND',
  INVALID_PARAMS: 'INVALID_PARAMS',
  CAPABILITY_MISSING: 'CAPABILITY_MISSING',
  ACCESS_DENIED: 'ACCESS_DENIED',
  RATE_LIMITED: 'RATE_LIMITED',
  INSTANCE_LIMIT: 'INSTANCE_LIMIT',
  SANDBOX_LIMIT: 'SANDBOX_LIMIT',
  SANDBOX_ERROR: 'SANDBOX_ERROR',
  SANDBOX_BUSY: 'SANDBOX_BUSY',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;

export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

export interface GatewayErrorOptions {
  data?: unknown;
  cause?: unknown;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  readonly data: unknown;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options.data;
  }
}

/** Matches on the code, not on instanceof, so that errors from another copy of the module still classify. */
export function isGatewayError(error: unknown, code?: GatewayErrorCode): error is GatewayError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  if (candidate.name !== 'GatewayError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}

/** An error answered by an upstream server: passed through to the client with its code and data unchanged. */
export class UpstreamRpcError extends Error {
  override readonly name = 'UpstreamRpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
