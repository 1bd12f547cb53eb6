import { loadConfig } from '../../config/load.js';
import type { ServerConfig } from '../../config/model.js';
import { errorMessage, isGatewayError } from '../../errors.js';

export interface CheckCommandOptions {
  /** Also start every enabled server and list its tools. */
  start?: boolean;
}

export interface CommandIo {
  /** Receives whole lines ending in a newline, for `process.stdout.write`. */
  out(text: string): void;
  err(text: string): void;
}

export interface CheckCommandDeps {
  /** Starts one server, lists its tools and stops it again. */
  startServer?: (server: ServerConfig) => Promise<{ toolCount: number }>;
  /** When to say which servers are still starting (5 s, then every 10 s). */
  progressAfterMs?: number;
  progressEveryMs?: number;
}

/**
 * `mcproxy check`: validates a config and prints `OK: N servers (a, b)` or every problem. With `start`,
 * also starts the enabled servers in parallel and prints `name: N tools` or `name: FAILED <reason>`.
 * Returns the exit code: 0, or 1 when the config is invalid, configures no server, or a server failed.
 *
 * @example process.exitCode = await runCheckCommand('config/mcp-servers.json', {}, io);
 */
export async function runCheckCommand(
  configPath: string,
  options: CheckCommandOptions,
  io: CommandIo,
  deps: CheckCommandDeps = {},
): Promise<number> {
  let servers: ServerConfig[];
  try {
    servers = (await loadConfig(configPath)).servers;
  } catch (error) {
    // A GatewayError's message is already the user-facing list of problems, one per line.
    io.err(`${isGatewayError(error) ? error.message : `${configPath}: ${errorMessage(error)}`}\n`);
    return 1;
  }
  if (servers.length === 0) {
    io.err(`${configPath}: no servers configured; add one under "servers" (or write a starter with mcproxy init)\n`);
    return 1;
  }
  const names = servers.map((server) => (server.enabled ? server.name : `${server.name} [disabled]`));
  const count = `${servers.length} ${servers.length === 1 ? 'server' : 'servers'}`;
  io.out(`OK: ${count}${names.length > 0 ? ` (${names.join(', ')})` : ''}\n`);
  if (!options.start) return 0;

  const { startServer } = deps;
  if (startServer === undefined) {
    io.err('check --start: starting servers is not available here\n');
    return 1;
  }
  const enabled = servers.filter((server) => server.enabled);
  const pending = new Set(enabled.map((server) => server.name));
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const note = () => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    if (pending.size > 0) io.err(`still starting after ${seconds} s: ${[...pending].join(', ')}\n`);
    timer = setTimeout(note, deps.progressEveryMs ?? 10_000).unref();
  };
  timer = setTimeout(note, deps.progressAfterMs ?? 5_000).unref();
  const results = await Promise.allSettled(
    enabled.map((server) => startServer(server).finally(() => pending.delete(server.name))),
  );
  clearTimeout(timer);
  // Printed in config order once all have settled, so the output is the same from run to run.
  let failed = 0;
  results.forEach((result, index) => {
    const name = enabled[index]?.name ?? '?';
    if (result.status === 'fulfilled') {
      io.out(`${name}: ${result.value.toolCount} ${result.value.toolCount === 1 ? 'tool' : 'tools'}\n`);
    } else {
      failed++;
      io.out(`${name}: FAILED ${errorMessage(result.reason)}\n`);
    }
  });
  return failed > 0 ? 1 : 0;
}
