import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

import type { CommandIo } from './check.js';

/** The starter servers: real MCP servers from npm that need no account or key. */
const STARTER_SERVERS = [
  {
    name: 'everything',
    pkg: '@modelcontextprotocol/server-everything',
    args: ['stdio'],
    description: 'The MCP reference test server.',
  },
  {
    name: 'memory',
    pkg: '@modelcontextprotocol/server-memory',
    args: [],
    description: 'A knowledge graph kept in a file.',
  },
  {
    name: 'filesystem',
    pkg: '@modelcontextprotocol/server-filesystem',
    args: ['${MCPROXY_FS_ROOT:-.}'],
    description: 'Files under one directory.',
  },
  {
    name: 'sequential-thinking',
    pkg: '@modelcontextprotocol/server-sequential-thinking',
    args: [],
    description: 'Step-by-step reasoning.',
  },
];

const ENV_EXAMPLE = `# Copy to .env beside config/mcp-servers.json; the real environment wins over this file.
# Values are used in the config as \${NAME} or \${NAME:-default}.
MCPROXY_FS_ROOT=.
MCPROXY_DATA_DIR=.
# GITHUB_TOKEN=ghp_...
`;

/**
 * `mcproxy init [DIR]`: writes a starter `config/mcp-servers.json` and `.env.example` into DIR (the current
 * directory by default), refusing to overwrite. Servers installed next to mcproxy are started with node
 * directly; others through `npx -y`, which fetches them on first start.
 */
export async function runInitCommand(dir: string | undefined, io: CommandIo): Promise<number> {
  const root = resolve(dir ?? '.');
  const configPath = join(root, 'config', 'mcp-servers.json');
  const envPath = join(root, '.env.example');
  for (const path of [configPath, envPath]) {
    if (existsSync(path)) {
      io.err(`mcproxy init: ${path} already exists; not overwriting it\n`);
      return 1;
    }
  }
  const servers: Record<string, object> = {};
  for (const server of STARTER_SERVERS) {
    const entry = locate(server.pkg);
    servers[server.name] = {
      ...(entry
        ? { command: 'node', args: [entry, ...server.args] }
        : { command: 'npx', args: ['-y', server.pkg, ...server.args] }),
      ...(server.name === 'memory' ? { env: { MEMORY_FILE_PATH: '${MCPROXY_DATA_DIR:-.}/memory.jsonl' } } : {}),
      description: server.description,
    };
  }
  await mkdir(dirname(configPath), { recursive: true });
  await writeFile(configPath, `${JSON.stringify({ servers }, null, 2)}\n`);
  await writeFile(envPath, ENV_EXAMPLE);
  io.out(`Wrote ${configPath} and ${envPath}\nStart the gateway in ${root} with: mcproxy --log\n`);
  return 0;
}

/** The package's main script when it is installed where mcproxy can see it. */
function locate(pkg: string): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    const entry = join(dirname(manifest), 'dist', 'index.js');
    return existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}
