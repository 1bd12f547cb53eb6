import { type ChildProcess, spawn } from 'node:child_process';

export { freePort } from './ports.js';
import { EVERYTHING_MAIN } from './real-servers.js';
import { waitFor } from './wait-for.js';

export interface EverythingHttp {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Runs server-everything's Streamable HTTP transport (or its legacy SSE one) on `port` and waits until it
 * listens.
 * @example
 *   const remote = await startEverythingHttp(await freePort());
 *   // config: { url: remote.url }
 */
export async function startEverythingHttp(
  port: number,
  transport: 'streamableHttp' | 'sse' = 'streamableHttp',
): Promise<EverythingHttp> {
  const child = spawn(process.execPath, [EVERYTHING_MAIN, transport], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = transport === 'sse' ? 'running on port' : 'listening on port';
  await waitFor(() => stderr.includes(listening), { message: () => `server-everything to listen: ${stderr}` });
  return {
    child,
    url: `http://127.0.0.1:${port}/${transport === 'sse' ? 'sse' : 'mcp'}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
