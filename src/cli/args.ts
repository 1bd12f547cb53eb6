import { parseArgs } from 'node:util';

import type { Mode } from '../config/schema.js';
import type { LogLevel } from '../observability/log.js';

export const DEFAULT_CONFIG_PATH = 'config/mcp-servers.json';
export const DEFAULT_PORT = 12010;
export const DEFAULT_HOST = '127.0.0.1';

export type Command = 'serve' | 'check' | 'schema' | 'stubs' | 'init' | 'login' | 'help' | 'version';

export interface CliArgs {
  command: Command;
  config: string;
  port: number;
  host: string;
  log: boolean;
  logFormat: 'human' | 'json';
  logLevel: LogLevel;
  /** Where syslog goes (a socket path, unix:///path, udp://host:port, tcp://host:port); /dev/log by default. */
  syslog?: string;
  stdio: boolean;
  reload: boolean;
  reloadIntervalMs: number;
  mode?: Mode;
  /** With --stdio: narrow the local client to one namespace. */
  namespace?: string;
  jsonResponse: boolean;
  start: boolean;
  out?: string;
  /** `mcproxy login SERVER`: the server, the loopback callback's port, whether to open a browser, or sign out. */
  login?: { server: string; callbackPort: number; browser: boolean; signOut: boolean };
}

export const HELP = `mcproxy — many MCP servers behind one endpoint

Usage:
  mcproxy [options]              run the gateway (HTTP on --host:--port, or --stdio)
  mcproxy check [CONFIG] [--start]  validate a config; with --start, start each server and count its tools
  mcproxy schema                 print the JSON Schema of the config file
  mcproxy stubs --out DIR        write TypeScript declarations of every tool
  mcproxy init [DIR]             write a starter config and .env.example
  mcproxy login SERVER           sign the gateway in to an OAuth-protected server (a browser opens;
                                 --callback-port PORT, --no-browser to print the link only, --sign-out)

Options:
  --config PATH            config file, JSON or YAML (default: ${DEFAULT_CONFIG_PATH})
  --port PORT              port to listen on (default: ${DEFAULT_PORT}; 0 picks a free one)
  --host HOST              address to bind (default: ${DEFAULT_HOST}; 0.0.0.0 for every interface)
  --stdio                  speak MCP on stdin/stdout instead of HTTP (logs go to stderr)
  --log                    log human-readable lines to stdout instead of syslog
  --log-format FORMAT      human (default) or json
  --log-level LEVEL        trace, debug, info (default), warn, error
  --syslog ADDRESS         syslog target without --log: /dev/log (default), unix:///path, udp://h:p, tcp://h:p
  --mode MODE              direct (default), code or meta: overrides the config's mode
  --namespace NAME         with --stdio: serve only this namespace (default: everything)
  --json-response          answer /mcp POSTs with JSON instead of an SSE stream
  --no-reload              do not watch the config for changes
  --reload-interval SECS   polling interval of the config watcher (default: 1.0)
  --version                print the version
  --help                   print this help

Endpoints: /mcp (Streamable HTTP), /sse + /message (HTTP+SSE), /ns/NAME/mcp, /ns/NAME/sse (one namespace),
  /mcp/SERVER (one server), /health, /ready, /metrics, / (status page)
`;

const COMMANDS = new Set<Command>(['serve', 'check', 'schema', 'stubs', 'init', 'login']);

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses argv (without node and script); throws UsageError with a readable message on bad input. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        log: { type: 'boolean' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        syslog: { type: 'string' },
        stdio: { type: 'boolean' },
        'no-reload': { type: 'boolean' },
        'reload-interval': { type: 'string' },
        mode: { type: 'string' },
        namespace: { type: 'string' },
        'json-response': { type: 'boolean' },
        start: { type: 'boolean' },
        out: { type: 'string' },
        'callback-port': { type: 'string' },
        'no-browser': { type: 'boolean' },
        'sign-out': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let command: Command = 'serve';
  const first = positionals[0];
  if (first !== undefined) {
    if (!COMMANDS.has(first as Command)) throw new UsageError(`unknown command "${first}"; see mcproxy --help`);
    command = first as Command;
  }
  if (values.help) command = 'help';
  else if (values.version) command = 'version';

  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0–65535, got "${values.port}"`);
  const interval = values['reload-interval'] === undefined ? 1 : Number(values['reload-interval']);
  if (!(interval > 0)) throw new UsageError(`--reload-interval must be a positive number of seconds`);
  const logFormat = (values['log-format'] ?? 'human') as string;
  if (logFormat !== 'human' && logFormat !== 'json') throw new UsageError(`--log-format must be human or json`);
  const logLevel = (values['log-level'] ?? 'info') as string;
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new UsageError(`--log-level must be one of trace, debug, info, warn, error`);
  }
  const mode = values.mode as string | undefined;
  if (mode !== undefined && !['direct', 'code', 'meta'].includes(mode)) {
    throw new UsageError(`--mode must be direct, code or meta`);
  }
  if (values.namespace !== undefined && values.stdio !== true) {
    throw new UsageError('--namespace needs --stdio; HTTP clients choose a namespace by path (/ns/NAME/mcp)');
  }
  const configFromPosition = command === 'check' || command === 'init' ? positionals[1] : undefined;
  const callbackPort = Number(values['callback-port'] ?? 0);
  if (!Number.isInteger(callbackPort) || callbackPort < 0 || callbackPort > 65535)
    throw new UsageError(`--callback-port must be 0–65535, got "${values['callback-port']}"`);
  if (command === 'login' && positionals[1] === undefined) throw new UsageError('login needs a server name');
  return {
    command,
    config: (values.config as string | undefined) ?? configFromPosition ?? DEFAULT_CONFIG_PATH,
    port,
    host: (values.host as string | undefined) ?? DEFAULT_HOST,
    log: values.log === true,
    logFormat,
    logLevel: logLevel as LogLevel,
    syslog: values.syslog as string | undefined,
    stdio: values.stdio === true,
    reload: values['no-reload'] !== true,
    reloadIntervalMs: Math.round(interval * 1000),
    mode: mode as Mode | undefined,
    ...(typeof values.namespace === 'string' ? { namespace: values.namespace } : {}),
    jsonResponse: values['json-response'] === true,
    start: values.start === true,
    out: (values.out as string | undefined) ?? (command === 'init' ? positionals[1] : undefined),
    ...(command === 'login'
      ? {
          login: {
            server: positionals[1]!,
            callbackPort,
            browser: values['no-browser'] !== true,
            signOut: values['sign-out'] === true,
          },
        }
      : {}),
  };
}
