import { join } from 'node:path';

import { fixturePath, REPO_ROOT } from './paths.js';

export const EVERYTHING_MAIN = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const MEMORY_MAIN = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
export const FILESYSTEM_MAIN = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

/** The three real npm servers plus our `ok` fixture, as a v2 config's `servers` object. */
export function realServersConfig(dir: string, eventsFile: string): Record<string, object> {
  return {
    everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'] },
    memory: {
      command: process.execPath,
      args: [MEMORY_MAIN],
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
    },
    filesystem: { command: process.execPath, args: [FILESYSTEM_MAIN, dir] },
    ok: { command: process.execPath, args: [fixturePath('ok')], env: { FIXTURE_EVENTS_FILE: eventsFile } },
  };
}
