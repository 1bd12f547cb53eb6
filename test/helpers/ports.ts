import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago, for programs that must be told their port in advance
 * (server-everything takes PORT, mcp-remote its callback port); everything else listens on port 0.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
