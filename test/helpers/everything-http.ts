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
