import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { parse as parseDotenv } from 'dotenv';

import { DEFAULT_PORT } from '../args.js';
import type { CommandIo } from './check.js';

/** Seconds a starter server may take to start: the first `npx -y` run downloads the package. */
const NPX_START_TIMEOUT_S = 120;

/** The starter servers: real MCP servers from npm that need no account or key, started through npx. */
const STARTER_SERVERS: Record<string, object> = {
  everything: {
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-everything', 'stdio'],
    timeout: NPX_START_TIMEOUT_S,
    description: 'The MCP reference test server: tools, prompts, resources, sampling, progress.',
  },
  memory: {
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-memory'],
    env: { MEMORY_FILE_PATH: '${MCPROXY_DATA_DIR:-.}/memory.jsonl' },
    timeout: NPX_START_TIMEOUT_S,
    description: 'A knowledge graph kept in a JSON Lines file.',
  },
  filesystem: {
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-filesystem', '${MCPROXY_FS_ROOT:-.}'],
    timeout: NPX_START_TIMEOUT_S,
    description: 'Read and write files under one directory (MCPROXY_FS_ROOT).',
  },
  'sequential-thinking': {
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-sequential-thinking'],
    timeout: NPX_START_TIMEOUT_S,
    description: 'Step-by-step problem solving with revisions and branches.',
  },
};

/**
 * `mcproxy init [DIR]`: writes DIR/mcp-servers.json (found by `mcproxy` run in DIR), the variables it uses into
 * DIR/.env beside it (appended to an existing .env, never overriding a variable there), and DIR/mcp-client.json,
 * the `mcpServers` entry a client needs for the gateway on `port`. Refuses to overwrite an existing config.
 */
export async function runInitCommand(dir: string | undefined, port: number, io: CommandIo): Promise<number> {
  const root = resolve(dir ?? '.');
  const configPath = join(root, 'mcp-servers.json');
  const envPath = join(root, '.env');
  const clientPath = join(root, 'mcp-client.json');
  if (existsSync(configPath)) {
    io.err(`mcproxy init: ${configPath} already exists; not overwriting it\n`);
    return 1;
  }
  await mkdir(root, { recursive: true });
  await writeFile(configPath, `${JSON.stringify({ servers: STARTER_SERVERS }, null, 2)}\n`);

  // Absolute paths, so the config works whatever folder the gateway is started from.
  const variables = { MCPROXY_FS_ROOT: root, MCPROXY_DATA_DIR: root };
  const existing = await readFile(envPath, 'utf8').catch(() => undefined);
  const present = existing === undefined ? {} : parseDotenv(existing);
  const missing = Object.entries(variables).filter(([name]) => !(name in present));
  const lines = missing.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join('\n');
  if (existing === undefined) {
    await writeFile(
      envPath,
      `# Used by mcp-servers.json as \${NAME}; the real environment wins over this file.\n${lines}\n`,
    );
  } else if (missing.length > 0) {
    await appendFile(envPath, `${existing.endsWith('\n') ? '' : '\n'}# Added by mcproxy init\n${lines}\n`);
  }

  const wroteClient = !existsSync(clientPath);
  if (wroteClient) {
    // The common `mcpServers` form (Claude Code's .mcp.json, Cursor); client-config has every client's own.
    const client = { mcpServers: { mcproxy: { type: 'http', url: `http://127.0.0.1:${port}/mcp` } } };
    await writeFile(clientPath, `${JSON.stringify(client, null, 2)}\n`);
  }
  const serve = port === DEFAULT_PORT ? 'mcproxy' : `mcproxy --port ${port}`;
  const envDone = existing === undefined ? 'wrote' : missing.length > 0 ? 'added to' : 'kept';
  io.out(
    `Wrote ${configPath}, ${envDone} ${envPath}${wroteClient ? ` and wrote ${clientPath}` : ''}.\n\n` +
      `Next, in ${root}:\n` +
      `  mcproxy check --start          start each server once (the first npx run downloads it)\n` +
      `  ${serve.padEnd(31)}serve http://127.0.0.1:${port}/mcp (mcp-client.json points there)\n` +
      `  mcproxy client-config CLIENT   the snippet of your client (claude-code, cursor, vscode, …)\n`,
  );
  return 0;
}
