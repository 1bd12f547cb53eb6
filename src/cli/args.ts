import { parseArgs } from 'node:util';

import type { Mode } from '../config/schema.js';
import type { LogLevel } from '../observability/log.js';
import { CLIENT_IDS } from './clients.js';
import { CONFIG_SEARCH_HELP } from './config-path.js';

export const DEFAULT_PORT = 12010;
export const DEFAULT_HOST = '127.0.0.1';

export type Command =
  'serve' | 'check' | 'schema' | 'stubs' | 'init' | 'client-config' | 'approve' | 'login' | 'help' | 'version';
type NamedCommand = Exclude<Command, 'help' | 'version'>;

export interface CliArgs {
  command: Command;
  /** The config file given (`--config`, or check's position); found by `findConfigPath` when absent. */
  config?: string;
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
  /** `help`: the command whose help to print (the overview when absent). */
  topic?: NamedCommand;
  /** `client-config`: which client, and how it reaches the gateway. */
  client?: string;
  url?: string;
  tokenEnv?: string;
  name?: string;
  write: boolean;
  /** `approve`: the tool (SERVER/TOOL) and the pins file named with --pins. */
  target?: string;
  pins?: string;
  /** `mcproxy login SERVER`: the server, the loopback callback's port, whether to open a browser, or sign out. */
  login?: { server: string; callbackPort: number; browser: boolean; signOut: boolean };
}

const OPTIONS = {
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
  url: { type: 'string' },
  'token-env': { type: 'string' },
  name: { type: 'string' },
  write: { type: 'boolean' },
  pins: { type: 'string' },
  'callback-port': { type: 'string' },
  'no-browser': { type: 'boolean' },
  'sign-out': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;
type OptionName = keyof typeof OPTIONS;

/** Options every command takes. */
const COMMON: readonly OptionName[] = ['help', 'version'];

interface CommandSpec {
  /** The command line of the overview; `usage` is the full one. */
  brief: string;
  usage: string;
  summary: string;
  /** Options the command accepts, besides --help and --version. */
  options: readonly OptionName[];
  help: string;
}

const SERVE_OPTIONS = `Options:
  --config PATH            config file, JSON or YAML (see "Config file" below)
  --port PORT              port to listen on (default: ${DEFAULT_PORT}; 0 picks a free one)
  --host HOST              address to bind (default: ${DEFAULT_HOST}; 0.0.0.0 for every interface)
  --stdio                  speak MCP on stdin/stdout instead of HTTP (logs go to stderr)
  --log                    log to stdout instead of syslog
  --log-format FORMAT      human (default) or json; implies --log unless --stdio
  --log-level LEVEL        trace, debug, info (default), warn, error
  --syslog ADDRESS         syslog target without --log: /dev/log (default), unix:///path, udp://h:p, tcp://h:p
  --mode MODE              direct (default), code or meta: overrides the config's mode
  --namespace NAME         with --stdio: serve only this namespace (default: everything)
  --pins FILE              with approve: the pins file (default: the one beside --config)
  --json-response          answer /mcp POSTs with JSON instead of an SSE stream
  --no-reload              do not watch the config for changes
  --reload-interval SECS   polling interval of the config watcher (default: 1.0)

Logging: syslog by default. When stderr is a terminal, every line is shown there too; otherwise stderr still
  gets the listening URL, warnings about exposure and every error (a fatal one, a rejected config).

Config file: ${CONFIG_SEARCH_HELP}

Endpoints: /mcp (Streamable HTTP), /sse + /message (HTTP+SSE), /ns/NAME/mcp, /ns/NAME/sse (one namespace),
  /mcp/SERVER (one server), /health, /ready, /metrics, / (operator console)
`;

const COMMAND_SPECS: Record<NamedCommand, CommandSpec> = {
  serve: {
    brief: 'mcproxy [options]',
    usage: 'mcproxy [options]',
    summary: 'run the gateway (HTTP on --host:--port, or --stdio)',
    options: [
      'config',
      'port',
      'host',
      'log',
      'log-format',
      'log-level',
      'syslog',
      'stdio',
      'no-reload',
      'reload-interval',
      'mode',
      'namespace',
      'json-response',
    ],
    help: SERVE_OPTIONS,
  },
  check: {
    brief: 'mcproxy check [CONFIG] [--start]',
    usage: 'mcproxy check [CONFIG] [--start]',
    summary: 'validate a config; with --start, start each server once and count its tools',
    options: ['config', 'start'],
    help: `Prints "OK: N servers (…)" or every problem with its file, line and field. With --start, also starts
every enabled server in parallel, prints "name: N tools" or "name: FAILED <why>", and stops them again.
Exit code 0 when everything is fine, 1 otherwise.

Config file: ${CONFIG_SEARCH_HELP}
`,
  },
  schema: {
    brief: 'mcproxy schema',
    usage: 'mcproxy schema',
    summary: 'print the JSON Schema of the config file',
    options: [],
    help: 'For editor completion: save it and point "$schema" in your config at it.\n',
  },
  stubs: {
    brief: 'mcproxy stubs --out DIR',
    usage: 'mcproxy stubs --out DIR [--config PATH]',
    summary: 'write TypeScript declarations of every tool',
    options: ['config', 'out'],
    help: 'Starts every enabled server once, writes DIR/index.d.ts for the whole catalog, and stops them.\n',
  },
  init: {
    brief: 'mcproxy init [DIR]',
    usage: 'mcproxy init [DIR] [--port PORT]',
    summary: 'write a starter config, .env and client snippet',
    options: ['port'],
    help: `Writes DIR/mcp-servers.json (four MCP servers from npm, started with npx), DIR/.env (the variables it
uses; added to an existing .env) and DIR/mcp-client.json (the snippet a client needs to reach the gateway on
--port). DIR is the current directory by default; an existing mcp-servers.json is never overwritten.
`,
  },
  'client-config': {
    brief: 'mcproxy client-config CLIENT',
    usage: 'mcproxy client-config CLIENT [--url URL | --stdio] [--token-env VAR] [--write | --out FILE]',
    summary: 'print (or write) the config snippet of an MCP client',
    options: ['url', 'stdio', 'config', 'token-env', 'name', 'write', 'out', 'port', 'host'],
    help: `Clients: ${CLIENT_IDS.join(', ')}.

Options:
  --url URL          the gateway's endpoint (default: http://${DEFAULT_HOST}:${DEFAULT_PORT}/mcp, or --host/--port)
  --stdio            let the client start mcproxy itself over stdio (with --config, made absolute)
  --token-env VAR    send a bearer token read from the environment variable VAR, in the client's own syntax
  --name NAME        the server's name in the client (default: mcproxy)
  --write            merge the snippet into the client's config file (made if missing, others kept)
  --out FILE         merge it into FILE instead
`,
  },
  login: {
    brief: 'mcproxy login SERVER',
    usage: 'mcproxy login SERVER [--callback-port PORT] [--no-browser] [--sign-out] [--config PATH]',
    summary: 'sign the gateway in to an OAuth-protected server',
    options: ['config', 'callback-port', 'no-browser', 'sign-out'],
    help: `Signs the gateway (its shared instances, and its own listing of per-user servers) in to SERVER: a
browser opens on the server's sign-in page and a loopback callback takes the code. The tokens are kept
encrypted with MCPROXY_TOKEN_KEY in the upstream_oauth.state_file; a running gateway picks them up.

Options:
  --callback-port PORT  the loopback callback's port (default: one the system picks)
  --no-browser          print the link instead of opening a browser
  --sign-out            forget the gateway's sign-in to SERVER
`,
  },
  approve: {
    brief: 'mcproxy approve [SERVER/TOOL]',
    usage: 'mcproxy approve [SERVER/TOOL] [--config PATH] [--pins FILE]',
    summary: 'approve a tool whose definition changed (tool pinning); lists them without one',
    options: ['config', 'pins'],
    help: `With no tool, lists the tools whose definitions changed since they were pinned. With SERVER/TOOL,
records the new definition as approved in the pins file (beside the config, or --pins FILE); a running gateway
picks the approval up within a second. Exit code 1 when there is nothing to approve, 2 on a malformed target.
`,
  },
};

const COMMANDS = new Set<string>(Object.keys(COMMAND_SPECS));

export function helpText(topic?: NamedCommand): string {
  if (topic) {
    const spec = COMMAND_SPECS[topic];
    return `${spec.usage}\n  ${spec.summary}\n\n${spec.help}`;
  }
  const lines = [
    ...Object.values(COMMAND_SPECS).map((spec) => `  ${spec.brief.padEnd(35)}${spec.summary}`),
    `  ${'mcproxy COMMAND --help'.padEnd(35)}the options of one command`,
  ];
  return `mcproxy — many MCP servers behind one endpoint\n\nUsage:\n${lines.join('\n')}\n\n${SERVE_OPTIONS}`;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses argv (without node and script); throws UsageError with a readable message on bad input. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let values: Partial<Record<OptionName, string | boolean>>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const first = positionals[0];
  let command: Command = 'serve';
  if (first === 'help') {
    const topic = positionals[1];
    if (topic !== undefined && !COMMANDS.has(topic)) throw new UsageError(`unknown command "${topic}"`);
    return helpArgs(topic as NamedCommand | undefined);
  }
  if (first !== undefined) {
    if (!COMMANDS.has(first)) throw new UsageError(`unknown command "${first}"; see mcproxy --help`);
    command = first as NamedCommand;
  }
  if (values.help) return helpArgs(command === 'serve' && first === undefined ? undefined : (command as NamedCommand));
  if (values.version) return { ...helpArgs(undefined), command: 'version' };

  const spec = COMMAND_SPECS[command as NamedCommand];
  for (const option of Object.keys(values) as OptionName[]) {
    if (!spec.options.includes(option) && !COMMON.includes(option)) {
      throw new UsageError(`${command === 'serve' ? 'mcproxy' : `mcproxy ${command}`} takes no --${option}`);
    }
  }
  const maxPositionals = command === 'serve' || command === 'schema' ? 1 : 2;
  if (positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${positionals.at(-1)}"`);

  const port = parsePort(values.port);
  const interval = values['reload-interval'] === undefined ? 1 : Number(values['reload-interval']);
  if (!(interval > 0)) throw new UsageError(`--reload-interval must be a positive number of seconds`);
  const logFormat = stringValue(values['log-format']) ?? 'human';
  if (logFormat !== 'human' && logFormat !== 'json') throw new UsageError(`--log-format must be human or json`);
  const logLevel = stringValue(values['log-level']) ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new UsageError(`--log-level must be one of trace, debug, info, warn, error`);
  }
  const mode = stringValue(values.mode);
  if (mode !== undefined && !['direct', 'code', 'meta'].includes(mode)) {
    throw new UsageError(`--mode must be direct, code or meta`);
  }
  if (values.namespace !== undefined && values.stdio !== true) {
    throw new UsageError('--namespace needs --stdio; HTTP clients choose a namespace by path (/ns/NAME/mcp)');
  }
  const callbackPort = Number(values['callback-port'] ?? 0);
  if (!Number.isInteger(callbackPort) || callbackPort < 0 || callbackPort > 65535)
    throw new UsageError(`--callback-port must be 0–65535, got "${String(values['callback-port'])}"`);
  if (command === 'login' && positionals[1] === undefined) throw new UsageError('login needs a server name');
  if (command === 'client-config') {
    if (positionals[1] === undefined) throw new UsageError(`client-config needs a client: ${CLIENT_IDS.join(', ')}`);
    if (values.url !== undefined && values.stdio === true) throw new UsageError('--url and --stdio exclude each other');
    if (values.write === true && values.out !== undefined) throw new UsageError('--write and --out exclude each other');
  }
  const config = stringValue(values.config) ?? (command === 'check' ? positionals[1] : undefined);
  return {
    command,
    ...(config === undefined ? {} : { config }),
    port,
    host: stringValue(values.host) ?? DEFAULT_HOST,
    // A log format only means something for a log a person reads: on stdout (or stderr with --stdio).
    log: values.log === true || values['log-format'] !== undefined,
    logFormat,
    logLevel: logLevel as LogLevel,
    ...optional('syslog', stringValue(values.syslog)),
    stdio: values.stdio === true,
    reload: values['no-reload'] !== true,
    reloadIntervalMs: Math.round(interval * 1000),
    ...optional('mode', mode as Mode | undefined),
    ...optional('namespace', stringValue(values.namespace)),
    jsonResponse: values['json-response'] === true,
    start: values.start === true,
    ...optional('out', stringValue(values.out) ?? (command === 'init' ? positionals[1] : undefined)),
    ...optional('client', command === 'client-config' ? positionals[1] : undefined),
    ...optional('url', stringValue(values.url)),
    ...optional('tokenEnv', stringValue(values['token-env'])),
    ...optional('name', stringValue(values.name)),
    write: values.write === true,
    ...optional('target', command === 'approve' ? positionals[1] : undefined),
    ...optional('pins', stringValue(values.pins)),
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

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  // Number('') is 0, which would pick a random port: only digits count.
  const port = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be a number 0–65535, got "${String(value)}"`);
  return port;
}

function helpArgs(topic: NamedCommand | undefined): CliArgs {
  return {
    command: 'help',
    ...optional('topic', topic),
    port: DEFAULT_PORT,
    host: DEFAULT_HOST,
    log: false,
    logFormat: 'human',
    logLevel: 'info',
    stdio: false,
    reload: true,
    reloadIntervalMs: 1000,
    jsonResponse: false,
    start: false,
    write: false,
  };
}

function stringValue(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
