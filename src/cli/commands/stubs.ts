import { writeStubs } from '../../codemode/stubs.js';
import { loadConfig } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import { Gateway } from '../../gateway.js';
import type { CommandIo } from './check.js';

/**
 * `mcproxy stubs --out DIR`: starts every enabled server once, writes TypeScript declarations of the whole
 * catalog to DIR/index.d.ts, and stops them. Returns the exit code (1 when the config is invalid or a
 * server failed to start; the declarations of the others are written all the same).
 */
export async function runStubsCommand(configPath: string, outDir: string | undefined, io: CommandIo): Promise<number> {
  if (!outDir) {
    io.err('mcproxy stubs: --out DIR is required\n');
    return 2;
  }
  let config;
  try {
    config = await loadConfig(configPath);
  } catch (error) {
    io.err(`${errorMessage(error)}\n`);
    return 1;
  }
  // One attempt each, no restarts: this is a snapshot, not a service.
  const servers = config.servers.map((server) => ({
    ...server,
    lazy: false,
    restart: { ...server.restart, maxAttempts: 0 },
  }));
  const gateway = new Gateway({ config: { ...config, servers } });
  try {
    await gateway.start();
    const failed = gateway.listServers().filter((upstream) => upstream.config.enabled && upstream.state !== 'ready');
    for (const upstream of failed) io.err(`${upstream.name}: FAILED ${upstream.lastError ?? upstream.state}\n`);
    const files = await writeStubs(gateway.catalog.tools, outDir);
    io.out(`Wrote declarations of ${gateway.catalog.tools.length} tools to ${files.join(', ')}\n`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await gateway.close();
  }
}
