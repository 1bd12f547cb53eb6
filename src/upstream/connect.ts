import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

import type { ServerConfig } from '../config/model.js';
import type { Logger } from '../observability/log.js';
import { StdioProcessTransport } from './stdio-process.js';

const GARBAGE_LOG_LIMIT = 20;

/** The transport of one upstream, by its configured kind. */
export function createUpstreamTransport(
  config: ServerConfig,
  log: Logger,
  onStderrLine?: (line: string) => void,
): Transport {
  if (config.transport === 'stdio') {
    let garbageLines = 0;
    return new StdioProcessTransport({
      command: config.command ?? '',
      args: config.args,
      env: config.env,
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
  const requestInit: RequestInit = { headers: config.headers };
  if (config.transport === 'sse') {
    return new SSEClientTransport(url, {
      requestInit,
      // The SSE GET is made by an EventSource, which does not read requestInit: give it the headers too.
      eventSourceInit: {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...config.headers } }),
      },
    });
  }
  return new StreamableHTTPClientTransport(url, { requestInit });
}
