import { freePort } from '../helpers/ports.js';
import { spawnService } from '../helpers/processes.js';
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
    const redis = spawnService('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ]);
    await waitFor(() => redis.exited || redis.lines.some((line) => line.includes('Ready to accept connections')), {
      message: () => `redis-server to start:\n${redis.lines.join('\n')}`,
    });
    if (!redis.exited) return { url: `redis://127.0.0.1:${port}`, stop: () => redis.stop() };
    if (attempt === 3) throw new Error(`redis-server did not start:\n${redis.lines.join('\n')}`);
  }
}
