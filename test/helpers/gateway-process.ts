import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { collectLines } from './lines.js';
import { GATEWAY_MAIN, REPO_ROOT } from './paths.js';
import { waitForExit } from './processes.js';
import { CI_TIMEOUT_FACTOR } from './wait-for.js';
import { type RecordedTransport, recordWire } from './wire-transport.js';

export const DEFAULT_GATEWAY_START_TIMEOUT_MS = 15_000;
export const SIGKILL_AFTER_MS = 10_000;
const LISTENING_LINE = /listening on (http:\/\/\S+)/;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface GatewayProcessOptions {
  configPath: string;
  /** Extra CLI arguments, appended after the fixed ones. */
  args?: string[];
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the `listening on` line (CI-scaled). Default 15 s. */
  startTimeoutMs?: number;
}

export interface GatewayProcess {
  /** The URL from the `listening on <url>` line, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly pid: number;
  /** Complete stdout lines so far; the array keeps growing while the process runs. */
  readonly stdout: string[];
  /** Complete stderr lines so far, live as well. */
  readonly stderr: string[];
  /** Settles when the process has exited and been reaped. */
  readonly exited: Promise<ExitInfo>;
  /** Sends `signal`, escalates to SIGKILL after 10 s, resolves once reaped. Safe to call repeatedly. */
  stop(signal?: NodeJS.Signals): Promise<ExitInfo>;
  [Symbol.asyncDispose](): Promise<void>;
}

function assertBuilt(): void {
  if (!existsSync(GATEWAY_MAIN)) throw new Error(`${GATEWAY_MAIN} is missing: run \`npm run build\` first`);
}

function trackExit(child: ChildProcess): Promise<ExitInfo> {
  // Last resort so a crashed test run does not leave a gateway behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      resolve({ code, signal });
    });
  });
}

function stopper(child: ChildProcess, exited: Promise<ExitInfo>) {
  let exitedAlready = false;
  void exited.then(() => (exitedAlready = true));
  return async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    if (!exitedAlready) {
      child.kill(signal);
      const escalate = setTimeout(() => child.kill('SIGKILL'), SIGKILL_AFTER_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(escalate);
      }
    }
    return exited;
  };
}

/**
 * Runs `node dist/main.js --config <path> --port 0 --host 127.0.0.1 --log ...args` and resolves once it
 * prints `listening on <url>`. Rejects (after reaping the process) if it exits or stays silent first.
 * @example
 *   await using gateway = await startGatewayProcess({ configPath });
 *   const response = await fetch(`${gateway.url}/mcp`, { method: 'POST', ... });
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  assertBuilt();
  const args = [GATEWAY_MAIN, '--config', options.configPath, '--port', '0', '--host', '127.0.0.1', '--log'];
  const child = spawn(process.execPath, [...args, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = trackExit(child);
  const stop = stopper(child, exited);
  const startTimeoutMs = (options.startTimeoutMs ?? DEFAULT_GATEWAY_START_TIMEOUT_MS) * CI_TIMEOUT_FACTOR;

  const startError = new Error('startGatewayProcess');
  let onListening: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => (onListening = resolve));
  collectLines(child.stdout, stdout, (line) => {
    const url = LISTENING_LINE.exec(line)?.[1];
    if (url) onListening(url);
  });
  collectLines(child.stderr, stderr);
  child.once('error', (error) => {
    startError.cause = error;
  });

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then((url) => ({ url })),
    exited.then((exit) => ({ exit })),
    new Promise<{ timeout: true }>((resolve) => (timer = setTimeout(() => resolve({ timeout: true }), startTimeoutMs))),
  ]).finally(() => clearTimeout(timer));

  if (!('url' in outcome)) {
    const exit = 'exit' in outcome ? outcome.exit : await stop('SIGKILL');
    const why = 'timeout' in outcome ? `printed no "listening on" line within ${startTimeoutMs} ms` : 'exited first';
    startError.message =
      `gateway ${why} (code ${exit.code}, signal ${exit.signal})\n` +
      `--- stdout ---\n${stdout.slice(-40).join('\n')}\n--- stderr ---\n${stderr.slice(-40).join('\n')}`;
    throw startError;
  }
  return {
    url: outcome.url,
    pid: child.pid ?? -1,
    stdout,
    stderr,
    exited,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

export interface GatewayStdioOptions {
  configPath: string;
  args?: string[];
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** A client to connect (set its request handlers first); default: a bare client with `capabilities`. */
  client?: Client;
  capabilities?: ClientOptions['capabilities'];
  /** Bound on the initialize handshake (CI-scaled). Default 20 s. */
  connectTimeoutMs?: number;
}

export interface GatewayStdio {
  readonly client: Client;
  /** The transport, recording every message on the wire (see recordWire). */
  readonly transport: RecordedTransport<StdioClientTransport>;
  readonly pid: number;
  /** The gateway's stderr lines so far (its log, since stdout is the protocol channel). */
  readonly stderr: string[];
  /** Closes the client (stdin end → SIGTERM → SIGKILL, by the SDK) and waits for the process to be reaped. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `node dist/main.js --stdio --config <path> ...args` and connects an SDK client to it.
 * @example
 *   await using gateway = await startGatewayStdio({ configPath });
 *   const { tools } = await gateway.client.listTools();
 */
export async function startGatewayStdio(options: GatewayStdioOptions): Promise<GatewayStdio> {
  assertBuilt();
  const transport = recordWire(
    new StdioClientTransport({
      command: process.execPath,
      args: [GATEWAY_MAIN, '--stdio', '--config', options.configPath, ...(options.args ?? [])],
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env } as Record<string, string>,
      stderr: 'pipe',
    }),
  );
  const stderr: string[] = [];
  collectLines(transport.stderr as NodeJS.ReadableStream | null, stderr);
  const client =
    options.client ??
    new Client({ name: 'mcproxy-test', version: '0.0.0' }, { capabilities: options.capabilities ?? {} });
  try {
    await client.connect(transport, { timeout: (options.connectTimeoutMs ?? 20_000) * CI_TIMEOUT_FACTOR });
  } catch (error) {
    await transport.close().catch(() => {});
    throw new Error(`gateway over stdio failed to initialize\n--- stderr ---\n${stderr.slice(-40).join('\n')}`, {
      cause: error,
    });
  }
  const pid = transport.pid ?? -1;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await client.close();
      // The SDK's close() sends SIGKILL as its last step without waiting for the exit.
      if (pid > 0) await waitForExit(pid, { timeoutMs: 10_000 });
    })());
  return {
    client,
    transport,
    pid,
    stderr,
    close,
    [Symbol.asyncDispose]: close,
  };
}
