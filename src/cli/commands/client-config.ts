import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { errorMessage } from '../../errors.js';
import { CLIENT_IDS, type ClientEnvironment, type ClientSnippet, clientSnippet, isClientId } from '../clients.js';
import { findConfigPath } from '../config-path.js';
import type { CommandIo } from './check.js';

export interface ClientConfigOptions {
  client: string;
  name?: string;
  /** HTTP endpoint; built from host and port when absent. */
  url?: string;
  host: string;
  port: number;
  /** Let the client start `mcproxy --stdio --config <config>`. */
  stdio: boolean;
  config?: string;
  tokenEnv?: string;
  /** Merge into the client's own file, or into `out`. */
  write: boolean;
  out?: string;
}

const MAIN_SCRIPT = fileURLToPath(new URL('../../main.js', import.meta.url));

/**
 * `mcproxy client-config CLIENT`: prints the snippet on stdout (so it can be piped) and the notes on stderr;
 * with `--write` or `--out FILE`, merges it into the client's JSON file (other entries kept) or appends the
 * TOML table. Returns the exit code.
 *
 * @example process.exitCode = await runClientConfigCommand({ client: 'cursor', host, port, stdio: false, write: false }, io);
 */
export async function runClientConfigCommand(
  options: ClientConfigOptions,
  io: CommandIo,
  where: ClientEnvironment = {},
): Promise<number> {
  if (!isClientId(options.client)) {
    io.err(`mcproxy client-config: unknown client "${options.client}"; one of ${CLIENT_IDS.join(', ')}\n`);
    return 2;
  }
  let snippet: ClientSnippet;
  try {
    const env = where.env ?? process.env;
    const stdio = options.stdio ? stdioCommand(findConfigPath(options.config, { env, cwd: where.cwd })) : undefined;
    const host = ['0.0.0.0', '::', '[::]'].includes(options.host) ? '127.0.0.1' : options.host;
    const url = options.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${options.port}/mcp`;
    const tokenValue = options.tokenEnv ? env[options.tokenEnv] : undefined;
    snippet = clientSnippet(
      options.client,
      {
        name: options.name ?? 'mcproxy',
        ...(stdio ? { stdio } : { url }),
        ...(options.tokenEnv && !stdio ? { tokenEnv: options.tokenEnv } : {}),
        ...(tokenValue ? { tokenValue } : {}),
      },
      where,
    );
  } catch (error) {
    io.err(`mcproxy client-config: ${errorMessage(error)}\n`);
    return 1;
  }
  const target = options.out ? resolve(where.cwd ?? '.', options.out) : options.write ? snippet.file : undefined;
  if (!options.write && !options.out) {
    io.out(snippet.text);
    for (const note of snippet.notes) io.err(`${note}\n`);
    return 0;
  }
  if (target === undefined) {
    io.err(`mcproxy client-config: ${snippet.title} keeps its own list; run this instead:\n${snippet.text}`);
    return 1;
  }
  try {
    const how = await mergeInto(target, snippet, options.name ?? 'mcproxy');
    io.out(`${how} ${target}\n`);
    for (const note of snippet.notes.slice(1)) io.err(`${note}\n`);
    return 0;
  } catch (error) {
    io.err(`mcproxy client-config: ${errorMessage(error)}\n`);
    return 1;
  }
}

/** `node /abs/dist/main.js --stdio --config /abs/config`: clients start servers in a folder of their choosing. */
function stdioCommand(configPath: string): { command: string; args: string[] } {
  const absolute = resolve(configPath);
  if (!existsSync(absolute)) throw new Error(`config file not found: ${absolute}`);
  return { command: process.execPath, args: [realpathSync(MAIN_SCRIPT), '--stdio', '--config', absolute] };
}

async function mergeInto(file: string, snippet: ClientSnippet, name: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  await mkdir(dirname(file), { recursive: true });
  if (snippet.format === 'toml') {
    const header = snippet.text.split('\n', 1)[0]!;
    if (existing?.split('\n').some((line) => line.trim() === header)) {
      throw new Error(`${file} already has ${header}; edit it there`);
    }
    const separator = existing === undefined || existing === '' ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
    await writeFile(file, `${existing ?? ''}${separator}${snippet.text}`);
    return existing === undefined ? 'Wrote' : 'Added to';
  }
  const entry = snippet.entry!;
  let document: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== '') {
    try {
      document = JSON.parse(existing) as Record<string, unknown>;
    } catch {
      // JSONC (comments, trailing commas) is read by some clients; rewriting it would lose the comments.
      throw new Error(`${file} is not plain JSON (comments?); add this by hand:\n${snippet.text}`);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new Error(`${file} does not hold a JSON object`);
    }
  }
  const servers = { ...(document[entry.key] as Record<string, unknown> | undefined) };
  const replaced = name in servers;
  servers[name] = entry.value;
  document[entry.key] = servers;
  for (const [key, items] of Object.entries(entry.extra ?? {})) {
    const present = Array.isArray(document[key]) ? (document[key] as Record<string, unknown>[]) : [];
    const fresh = items.filter((item) => !present.some((old) => old['id'] === item['id']));
    document[key] = [...present, ...fresh];
  }
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return existing === undefined ? 'Wrote' : replaced ? `Replaced "${name}" in` : `Added "${name}" to`;
}
