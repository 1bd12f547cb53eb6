import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

import type { ServerConfig, UpstreamIdentity } from '../config/model.js';
import type { Logger } from '../observability/log.js';
import { fetchWithTraceHeaders } from '../tracing/trace-context.js';
import { HttpUpstreamTransport } from './http-transport.js';
import { StdioProcessTransport } from './stdio-process.js';

const GARBAGE_LOG_LIMIT = 20;

export interface UpstreamTransportOptions {
  /** A credential's own env and headers, laid over the server's, and the sign-in whose tokens it sends. */
  identity?: UpstreamIdentity;
  onStderrLine?: (line: string) => void;
}

/**
 * The transport of one upstream instance, by its configured kind. A legacy SSE server's comes as a promise:
 * the SDK's SSE client (with its EventSource and OAuth client) is loaded only when a config has one.
 */
export function createUpstreamTransport(
  config: ServerConfig,
  log: Logger,
  options: UpstreamTransportOptions = {},
): Transport | Promise<Transport> {
  const { identity, onStderrLine } = options;
  if (config.transport === 'stdio') {
    let garbageLines = 0;
    return new StdioProcessTransport({
      command: config.command ?? '',
      args: config.args,
      env: { ...config.env, ...identity?.env },
      cwd: config.cwd,
      onStderrLine: (line) => {
        onStderrLine?.(line);
        log.info({ stream: 'stderr' }, line);
      },
      onGarbage: (line) => {
        // A chatty server must not flood the log: report the first lines, then one line per thousand.
        garbageLines++;
        if (garbageLines <= GARBAGE_LOG_LIMIT || garbageLines % 1000 === 0) {
          log.warn(`ignored a stdout line that is not JSON-RPC (${garbageLines} so far): ${line.slice(0, 200)}`);
        }
      },
    });
  }
  const url = new URL(config.url ?? '');
  const headers = { ...config.headers, ...identity?.headers };
  if (config.transport === 'sse') return sseTransport(url, headers);
  // Our own Streamable HTTP client: it tells which call's response stream each message arrived on.
  const authorization = identity?.authorization;
  return new HttpUpstreamTransport(url, {
    headers,
    acknowledgeTimeoutMs: config.startTimeoutMs,
    ...(authorization ? { authorization } : {}),
  }) as unknown as Transport;
}

async function sseTransport(url: URL, headers: Record<string, string>): Promise<Transport> {
  const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
  return new SSEClientTransport(url, {
    requestInit: { headers },
    // A message's trace context goes as HTTP headers too (http-transport.ts does the same).
    fetch: fetchWithTraceHeaders(),
    // The SSE GET is made by an EventSource, which does not read requestInit: give it the headers too.
    eventSourceInit: {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
    },
  });
}

/** Ends the upstream MCP session of a Streamable HTTP transport (DELETE), so that the server can free it. */
export async function terminateUpstreamSession(transport: Transport): Promise<void> {
  if (transport instanceof HttpUpstreamTransport) await transport.terminateSession();
}
