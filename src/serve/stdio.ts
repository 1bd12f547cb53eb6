import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

import type { Gateway } from '../gateway.js';

/**
 * `--stdio`: the gateway itself is an MCP server on stdin/stdout for clients that spawn their servers.
 * Resolves when the client goes away (stdin ends or the session closes).
 */
export async function serveStdio(
  gateway: Gateway,
  stdin: NodeJS.ReadableStream = process.stdin,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<void> {
  const session = gateway.createSession('stdio');
  const transport = new StdioServerTransport(stdin as never, stdout as never);
  await session.connect(transport);
  await Promise.race([session.whenClosed, new Promise<void>((resolve) => stdin.once('end', () => resolve()))]);
  await session.close();
}
