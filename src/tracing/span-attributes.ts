import { createHash } from 'node:crypto';

/** Span attribute values, as OpenTelemetry takes them. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** The outcome of a traced request: no error, or the `error.type` and status message of one. */
export interface SpanOutcome {
  errorType?: string;
  message?: string;
  /** The JSON-RPC error code, as `rpc.response.status_code`. */
  statusCode?: string;
}

const RESOURCE_METHODS = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

/**
 * The attributes of the OpenTelemetry MCP semantic conventions that a request's method and params give:
 * `mcp.method.name`, `gen_ai.tool.name` and `gen_ai.operation.name` for tool calls, `gen_ai.prompt.name`,
 * `mcp.resource.uri`, `jsonrpc.request.id`.
 *
 * @example requestAttributes('tools/call', { name: 'everything__echo' }, 3)
 * // { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'everything__echo', 'gen_ai.operation.name': 'execute_tool', 'jsonrpc.request.id': '3' }
 */
export function requestAttributes(
  method: string,
  params: Record<string, unknown> | undefined,
  id?: string | number,
): SpanAttributes {
  const attributes: SpanAttributes = { 'mcp.method.name': method };
  const name = typeof params?.name === 'string' ? params.name : undefined;
  if (method === 'tools/call' && name !== undefined) {
    attributes['gen_ai.tool.name'] = name;
    attributes['gen_ai.operation.name'] = 'execute_tool';
  }
  if (method === 'prompts/get' && name !== undefined) attributes['gen_ai.prompt.name'] = name;
  if (RESOURCE_METHODS.has(method) && typeof params?.uri === 'string') attributes['mcp.resource.uri'] = params.uri;
  if (id !== undefined && id !== null) attributes['jsonrpc.request.id'] = String(id);
  return attributes;
}

/** `{mcp.method.name} {target}`, the target being the tool or prompt name; the method alone otherwise. */
export function spanName(attributes: SpanAttributes): string {
  const target = attributes['gen_ai.tool.name'] ?? attributes['gen_ai.prompt.name'];
  const method = String(attributes['mcp.method.name']);
  return target === undefined ? method : `${method} ${String(target)}`;
}

/**
 * The transport attributes of a client session: HTTP over TCP, or a pipe for stdio. A session id is a bearer
 * secret of the client's HTTP session, so `mcp.session.id` is a digest of it, never the id itself.
 */
export function sessionAttributes(sessionId: string, transportKind: string): SpanAttributes {
  const stdio = transportKind === 'stdio';
  return {
    'mcp.session.id': createHash('sha256').update(sessionId).digest('hex').slice(0, 32),
    'network.transport': stdio ? 'pipe' : 'tcp',
    ...(stdio ? {} : { 'network.protocol.name': 'http' }),
  };
}

/** The attributes of the upstream side: which server, how it is reached, what protocol version it speaks. */
export function upstreamAttributes(upstream: {
  name: string;
  config: { transport: string; url?: string };
  protocolVersion?: string;
}): SpanAttributes {
  const attributes: SpanAttributes = {
    'mcproxy.server': upstream.name,
    'network.transport': upstream.config.transport === 'stdio' ? 'pipe' : 'tcp',
  };
  if (upstream.protocolVersion !== undefined) attributes['mcp.protocol.version'] = upstream.protocolVersion;
  if (upstream.config.url !== undefined) {
    try {
      const url = new URL(upstream.config.url);
      attributes['network.protocol.name'] = 'http';
      attributes['server.address'] = url.hostname;
      attributes['server.port'] = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    } catch {
      // Validated by the config; nothing to add otherwise.
    }
  }
  return attributes;
}

/** A result with `isError` is a tool error; a thrown error has its JSON-RPC code as `error.type`. */
export function outcomeOf(result: unknown, error?: unknown): SpanOutcome {
  if (error !== undefined) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const statusCode = typeof code === 'number' ? String(code) : undefined;
    return {
      errorType: statusCode ?? (typeof code === 'string' ? code : '_OTHER'),
      ...(typeof message === 'string' ? { message } : {}),
      ...(statusCode === undefined ? {} : { statusCode }),
    };
  }
  if ((result as { isError?: unknown } | undefined)?.isError === true) return { errorType: 'tool_error' };
  return {};
}
