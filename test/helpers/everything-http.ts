import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

import { EVERYTHING_MAIN } from './real-servers.js';
import { waitFor } from './wait-for.js';

/** A port that was free a moment ago (server-everything takes its port from PORT and cannot be given 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface EverythingHttp {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Runs server-everything's Streamable HTTP transport on `port` and waits until it listens.
 * @example
 *   const remote = await startEverythingHttp(await freePort());
 *   // config: { url: remote.url }
 */
export async function startEverythingHttp(port: number): Promise<EverythingHttp> {
  const child = spawn(process.execPath, [EVERYTHING_MAIN, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(() => stderr.includes('listening on port'), { message: 'server-everything to listen' });
  return {
    child,
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
