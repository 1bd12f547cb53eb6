import { spawn } from 'node:child_process';

import { collectLines } from '../helpers/lines.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** Debian's redis-server on a loopback port, in memory only (no dump, no append-only file). */
export async function startRedisServer(): Promise<RedisServer> {
  // The port is chosen for it (redis-server cannot report a port it picked); a port taken meanwhile is retried.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    collectLines(child.stdout, lines);
    collectLines(child.stderr, lines);
    let exited = false;
    const gone = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    process.once('exit', () => child.kill('SIGKILL'));
    await waitFor(() => exited || lines.some((line) => line.includes('Ready to accept connections')), {
      message: () => `redis-server to start:\n${lines.join('\n')}`,
    });
    if (!exited) {
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (!exited) child.kill('SIGTERM');
          await gone;
        },
      };
    }
    if (attempt === 3) throw new Error(`redis-server did not start:\n${lines.join('\n')}`);
  }
}
