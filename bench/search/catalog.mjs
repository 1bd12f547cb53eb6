// The retrieval benchmark's catalog: eight real MCP servers from npm, each started and asked for its tools.
// The four not in the project's devDependencies are installed (pinned) into bench/.peers/search-servers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { connect } from '../lib/clients.mjs';
import { EVERYTHING, FILESYSTEM, MEMORY, PEERS_DIR, ROOT, SEQUENTIAL, TMP } from '../lib/paths.mjs';

const PREFIX = join(PEERS_DIR, 'search-servers');
const modules = join(PREFIX, 'node_modules');

/** Servers that list their tools without network or credentials (dummy tokens are never used to call out). */
export const EXTRA_SERVERS = {
  '@playwright/mcp': '0.0.83',
  '@modelcontextprotocol/server-github': '2025.4.8',
  '@modelcontextprotocol/server-slack': '2025.4.25',
  '@notionhq/notion-mcp-server': '2.5.2',
};

function servers() {
  const fsRoot = join(TMP, 'search-fs-root');
  mkdirSync(fsRoot, { recursive: true });
  return {
    everything: { args: [EVERYTHING, 'stdio'] },
    memory: { args: [MEMORY], env: { MEMORY_FILE_PATH: join(TMP, 'search-memory.jsonl') } },
    filesystem: { args: [FILESYSTEM, fsRoot] },
    'sequential-thinking': { args: [SEQUENTIAL] },
    playwright: { args: [join(modules, '@playwright/mcp/cli.js'), '--headless'] },
    github: {
      args: [join(modules, '@modelcontextprotocol/server-github/dist/index.js')],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'unused' },
    },
    slack: {
      args: [join(modules, '@modelcontextprotocol/server-slack/dist/index.js')],
      env: { SLACK_BOT_TOKEN: 'unused', SLACK_TEAM_ID: 'unused' },
    },
    notion: { args: [join(modules, '@notionhq/notion-mcp-server/bin/cli.mjs')], env: { NOTION_TOKEN: 'unused' } },
  };
}

function ensureInstalled(log) {
  const missing = Object.keys(EXTRA_SERVERS).filter((name) => !existsSync(join(modules, name, 'package.json')));
  if (missing.length === 0) return;
  const specs = Object.entries(EXTRA_SERVERS).map(([name, version]) => `${name}@${version}`);
  log(`installing the search benchmark's servers into ${PREFIX}: ${specs.join(' ')}`);
  mkdirSync(PREFIX, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['install', '--prefix', PREFIX, '--no-save', '--no-audit', '--no-fund', ...specs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`npm install failed: ${(result.stderr ?? '').slice(-400)}`);
}

/** { server: Tool[] } from the real servers; also written to $TMPDIR/mcproxy-search-catalog.json for tune.mjs. */
export async function realCatalog(log, savePath) {
  ensureInstalled(log);
  const out = {};
  for (const [name, spec] of Object.entries(servers())) {
    const c = await connect({ kind: 'stdio', command: process.execPath, args: spec.args, env: spec.env ?? {} });
    try {
      out[name] = (await c.client.listTools()).tools;
    } finally {
      await c.close();
    }
  }
  writeFileSync(savePath, JSON.stringify(out));
  return out;
}
