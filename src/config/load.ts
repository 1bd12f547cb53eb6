import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';

import { parse as parseDotenv } from 'dotenv';

import { GatewayError } from '../errors.js';
import { checkUpstreamIdentities } from './check-identities.js';
import { interpolate } from './interpolate.js';
import { withPositions } from './issue-positions.js';
import {
  configInvalidError,
  type ConfigIssue,
  formatPath,
  isRecord,
  issuesFromZod,
  sortByDocumentOrder,
} from './issues.js';
import type { GatewayConfig } from './model.js';
import { checkConfigSemantics, listServerEntries, normalizeConfig } from './normalize.js';
import { ConfigFileSchema } from './schema.js';
import { yamlParser } from './yaml-parser.js';

export type ConfigFormat = 'json' | 'yaml';

export interface LoadConfigOptions {
  /** The environment `${VAR}` references are expanded from; `process.env` when absent. */
  env?: NodeJS.ProcessEnv;
}

export interface ParseConfigTextOptions {
  /** Where the text came from, for messages; also decides the format when `format` is absent. */
  path?: string;
  format?: ConfigFormat;
  env?: NodeJS.ProcessEnv;
  /** Variables read from a `.env` file; the real environment wins over them. */
  envFile?: Record<string, string>;
}

/**
 * Reads, validates and normalises a config file (JSON, or YAML for `.yaml`/`.yml`). A `.env` beside the
 * file is read, never written into `process.env`. Every problem is collected into one CONFIG_INVALID error;
 * a missing file is CONFIG_NOT_FOUND.
 *
 * @example const config = await loadConfig('config/mcp-servers.json');
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new GatewayError('CONFIG_NOT_FOUND', `config file not found: ${path}`, {
        data: { file: path },
        cause: error,
      });
    }
    throw configInvalidError(path, [
      { path: '', message: `cannot read the file: ${errnoCode(error) ?? String(error)}` },
    ]);
  }
  const envFile = await readEnvFile(envFilePath(path));
  return parseConfigText(text, { path, env: options.env ?? process.env, envFile });
}

/** The `.env` read beside a config file (the watcher watches it too). */
export function envFilePath(configPath: string): string {
  return join(dirname(configPath), '.env');
}

/** Variables of a `.env` file, or none when it does not exist. */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  try {
    return parseDotenv(await readFile(path, 'utf8'));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return {};
    throw configInvalidError(path, [
      { path: '', message: `cannot read the file: ${errnoCode(error) ?? String(error)}` },
    ]);
  }
}

/**
 * Validates and normalises config text without touching the file system: for tests and for reload.
 *
 * @example parseConfigText('{"mcpServers":{"fs":{"command":"npx"}}}', { path: 'mcp.json', env: {} })
 */
export function parseConfigText(text: string, options: ParseConfigTextOptions = {}): GatewayConfig {
  const { path } = options;
  const format = options.format ?? formatOf(path);
  const raw = format === 'yaml' ? parseYaml(text, path) : parseJson(text, path);

  // The real environment wins over .env, as with docker compose and dotenv itself: a variable set by the
  // service manager or the shell is the operator's deliberate override of the file's default.
  const env = { ...options.envFile, ...definedOnly(options.env ?? process.env) };
  const { value: data, missing } = interpolate(raw, env);
  // A disabled server is often disabled because its secret is not at hand yet; its variables may be unset.
  const disabled = listServerEntries(data)
    .filter((ref) => isRecord(ref.entry) && ref.entry['enabled'] === false)
    .map((ref) => ref.segments);
  const issues: ConfigIssue[] = missing
    .filter(({ path: segments }) => !disabled.some((prefix) => prefix.every((part, i) => segments[i] === part)))
    .map(({ variable, path: segments }) => ({
      path: formatPath(segments, data),
      message: `uses \${${variable}}, which is not set`,
    }));

  const result = ConfigFileSchema.safeParse(data);
  if (!result.success) {
    // A value with an unset variable would also fail its own checks (an URL, say); report the cause only.
    const reported = new Set(issues.map((issue) => issue.path));
    issues.push(...issuesFromZod(result.error, data, ConfigFileSchema).filter((issue) => !reported.has(issue.path)));
  }
  issues.push(...checkConfigSemantics(data));

  if (issues.length > 0 || !result.success) {
    throw configInvalidError(path, withPositions(withoutBom(text), sortByDocumentOrder(issues, data)));
  }
  const config = normalizeConfig(result.data, path);
  // Per-user values depend on each server's resolved scope, known only once the config is normalised.
  const late = checkUpstreamIdentities(config, data);
  if (late.length > 0) throw configInvalidError(path, withPositions(withoutBom(text), sortByDocumentOrder(late, data)));
  return config;
}

function formatOf(path: string | undefined): ConfigFormat {
  const extension = path === undefined ? '' : extname(path).toLowerCase();
  return extension === '.yaml' || extension === '.yml' ? 'yaml' : 'json';
}

function parseYaml(text: string, path: string | undefined): unknown {
  const doc = yamlParser().parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw configInvalidError(
      path,
      doc.errors.map((error) => {
        const position = error.linePos?.[0];
        // prettyErrors appends " at line L, column C:" and a code excerpt; the position is reported separately.
        const reason = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message;
        const message = `invalid YAML: ${reason}`;
        return position ? { path: '', message, line: position.line, column: position.col } : { path: '', message };
      }),
    );
  }
  // An empty file is an empty config, not an error: a fresh install may start with nothing configured.
  return doc.toJS() ?? {};
}

/** Editors on Windows may save a BOM, which JSON.parse rejects. */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJson(text: string, path: string | undefined): unknown {
  const source = withoutBom(text);
  if (source.trim() === '') return {};
  try {
    return JSON.parse(source);
  } catch (error) {
    const reason = (error as Error).message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, .*is not valid JSON$/s, '')
      .replace(/ \(line \d+ column \d+\)$/, '');
    const offset = jsonErrorOffset(source) ?? Number(/position (\d+)/.exec((error as Error).message)?.[1] ?? NaN);
    const issue: ConfigIssue = { path: '', message: `invalid JSON: ${reason}` };
    if (Number.isFinite(offset)) Object.assign(issue, lineAndColumn(source, offset));
    throw configInvalidError(path, [issue]);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

const JSON_ATOM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * Where JSON text first goes wrong. V8's messages give no position for some errors (`Unexpected token`)
 * and the wording differs between Node versions, so the position is found by a minimal scan instead.
 */
function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonScanError(i);
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[i] !== char) fail();
    i++;
  };
  const string = (): void => {
    expect('"');
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') fail();
      i++;
      if (c === '"') return;
      if (c === '\\') {
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i] ?? '')) i++;
        else fail();
      }
    }
  };
  const list = (close: string, item: () => void): void => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      skipSpace();
      if (text[i] === ',') i++;
      else return expect(close);
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      return list('}', () => {
        string();
        expect(':');
        value();
      });
    }
    if (c === '[') return list(']', value);
    if (c === '"') return string();
    JSON_ATOM.lastIndex = i;
    if (!JSON_ATOM.test(text)) fail();
    i = JSON_ATOM.lastIndex;
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof JsonScanError) return error.offset;
    throw error;
  }
}

class JsonScanError extends Error {
  constructor(readonly offset: number) {
    super('invalid JSON');
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
