import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { parse as parseDotenv } from 'dotenv';

import { envFilePath } from '../config/load.js';

/**
 * Loads the `.env` of the working directory into `process.env`, as dotenv does: a variable already set is never
 * overridden. It is read once, at start; the `.env` beside the config is read on every load and reload instead,
 * so when both are the same file this does nothing. Returns the names it set.
 *
 * @example loadWorkingDirEnv('/etc/mcproxy/mcp-servers.json') // ['GITHUB_TOKEN']
 */
export function loadWorkingDirEnv(configPath: string | undefined, cwd = process.cwd()): string[] {
  const path = resolve(cwd, '.env');
  if (configPath !== undefined && resolve(envFilePath(configPath)) === path) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseDotenv(text))) {
    if (process.env[name] !== undefined) continue;
    process.env[name] = value;
    set.push(name);
  }
  return set;
}
