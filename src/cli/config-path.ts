import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { GatewayError } from '../errors.js';

const CONFIG_FILE_NAMES = ['mcp-servers.json', 'mcp-servers.yaml', 'mcp-servers.yml'] as const;

export const CONFIG_SEARCH_HELP = `--config PATH, else the first that exists of ./mcp-servers.json,
  ./config/mcp-servers.json, $XDG_CONFIG_HOME/mcproxy/mcp-servers.json (~/.config/mcproxy/ by default) and
  /etc/mcproxy/mcp-servers.json (.yaml and .yml too). A .env beside it and one in the working directory are read.`;

export interface FindConfigOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
}

/** The folders searched for a config when none is given, in order. */
function configSearchDirs(options: FindConfigOptions = {}): string[] {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const xdg = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return [cwd, join(cwd, 'config'), join(xdg, 'mcproxy'), '/etc/mcproxy'];
}

/**
 * The config file to use: the one given, else the first found in `configSearchDirs`. Throws CONFIG_NOT_FOUND
 * naming every place looked at when there is none, so a first run says what to do.
 *
 * @example findConfigPath(undefined, { cwd: '/srv/app' }) // '/srv/app/mcp-servers.json' when it exists
 */
export function findConfigPath(given: string | undefined, options: FindConfigOptions = {}): string {
  if (given !== undefined) return given;
  const exists = options.exists ?? existsSync;
  const candidates = configSearchDirs(options).flatMap((dir) => CONFIG_FILE_NAMES.map((name) => join(dir, name)));
  const found = candidates.find((path) => exists(path));
  if (found !== undefined) return found;
  const looked = configSearchDirs(options)
    .map((dir) => join(dir, CONFIG_FILE_NAMES[0]))
    .join(', ');
  throw new GatewayError(
    'CONFIG_NOT_FOUND',
    `no config file found (looked for ${looked}, and .yaml/.yml); ` +
      `write one with "mcproxy init", or pass --config PATH`,
    { data: { searched: candidates.map((path) => resolve(path)) } },
  );
}
