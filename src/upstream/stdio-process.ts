import { type ChildProcess, spawn } from 'node:child_process';

import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';

import { GatewayError } from '../errors.js';
import { MAX_MESSAGE_BYTES, NdjsonDecoder } from '../transport/ndjson.js';
import { LineTail, telltaleLine } from './stderr-tail.js';

/** Variables a server inherits from the gateway; everything else must be configured (sudo's list, plus locale). */
const INHERITED_ENV_VARS = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
export const STDIN_CLOSE_GRACE_MS = 1_000;
export const SIGTERM_GRACE_MS = 1_000;
/**
 * How long the pipes of a process that exited may stay open: what it wrote before its exit is read within
 * this. Past it, what holds them is something the server left behind (a grandchild that inherited its stdout).
 */
export const EXITED_PIPES_GRACE_MS = 1_000;

export interface StdioProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Each line the server writes to stderr. */
  onStderrLine?: (line: string) => void;
  /** A stdout line that is not a JSON-RPC message (servers that print banners). */
  onGarbage?: (line: string) => void;
  stdinCloseGraceMs?: number;
  sigtermGraceMs?: number;
}

export function defaultEnvironment(configured: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV_VARS) {
    const value = process.env[key];
    if (value !== undefined && !value.startsWith('()')) env[key] = value;
  }
  return { ...env, ...configured };
}

/**
 * A stdio MCP server as an SDK Transport. The child runs in its own process group so that closing it
 * also ends whatever it spawned (`npx` wrappers, shells); teardown escalates stdin close → SIGTERM → SIGKILL.
 * Framing is newline-delimited JSON; lines that are not JSON-RPC are reported and skipped, never fatal.
 */
export class StdioProcessTransport implements Transport {
  /** `extra.line`: the message's line as the server wrote it (see upstream/result-text.ts). */
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo & { line?: string }) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private child?: ChildProcess;
  private readonly decoder: NdjsonDecoder;
  private exited?: Promise<void>;
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private closing = false;
  private readonly stderrTail = new LineTail();

  constructor(private readonly options: StdioProcessOptions) {
    this.decoder = new NdjsonDecoder({
      onMessage: (message, line) => this.onmessage?.(message, { line }),
      onGarbage: (line) => this.options.onGarbage?.(line),
      onOversized: ({ bytes, id, kind }) => {
        this.onerror?.(new Error(`a stdout line of ${bytes} bytes exceeded the limit and was dropped`));
        // The request it answered would wait for its timeout: fail it now, with the reason.
        if (kind === 'response' && id !== undefined) this.onmessage?.(oversizedAnswer(id, bytes));
      },
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The line of the server's recent stderr that best explains a failure (not Node's version footer). */
  lastWords(): string | undefined {
    return telltaleLine(this.stderrTail.all);
  }

  /** How the process ended, once it has. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }
  /**
   * The process's exit, waiting up to `ms` for it: a write to a server that died finds its pipe broken a moment
   * before its exit is seen, and the exit is what names the cause.
   */
  async exitWithin(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (this.exit === undefined && this.exited) await settlesWithin(this.exited, ms);
    return this.exit;
  }

  start(): Promise<void> {
    const { command, args, cwd } = this.options;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        env: defaultEnvironment(this.options.env),
        cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        windowsHide: true,
      });
      this.child = child;
      this.exited = new Promise((resolveExit) => child.once('close', () => resolveExit()));
      child.once('error', (error) => {
        reject(
          new GatewayError('UPSTREAM_SPAWN_FAILED', `cannot start "${command}": ${error.message}`, { cause: error }),
        );
        this.onerror?.(error);
      });
      child.once('spawn', () => resolve());
      let pipesHeld: NodeJS.Timeout | undefined;
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        // 'close' waits for the pipes too, and a grandchild holding them would keep a dead server "running"
        // (never restarted, every call failing). The process we supervise is gone: our ends of its pipes close,
        // and with 'close' its owner ends what it left in its process group, as after any exit.
        pipesHeld = setTimeout(() => {
          this.onerror?.(new Error('the server exited but a process it started kept its stdout open; closing'));
          for (const pipe of [child.stdin, child.stdout, child.stderr]) pipe?.destroy();
        }, EXITED_PIPES_GRACE_MS);
        pipesHeld.unref();
      });
      child.once('close', () => {
        clearTimeout(pipesHeld);
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => this.decoder.push(chunk));
      child.stdout?.on('error', (error) => this.onerror?.(error));
      if (child.stderr) {
        forEachLine(child.stderr, (line) => {
          this.stderrTail.push(line);
          this.options.onStderrLine?.(line);
        });
      }
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(notRunning());
    // Resolve at once unless the pipe is full: waiting for every write would add a tick to each call.
    if (stdin.write(JSON.stringify(message) + '\n')) return Promise.resolve();
    // write() says false too when the pipe broke (EPIPE: the server is dead, its exit not seen yet); such a
    // stream is destroyed and never drains.
    if (stdin.destroyed) return Promise.reject(notRunning());
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        stdin.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        stdin.off('drain', onDrain);
        reject(notRunning());
      };
      stdin.once('drain', onDrain);
      stdin.once('close', onClose);
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (this.closing || !child || child.pid === undefined) return;
    this.closing = true;
    const pid = child.pid;
    const exited = this.exited ?? Promise.resolve();
    try {
      child.stdin?.end();
    } catch {
      // The pipe may already be gone.
    }
    if (!(await settlesWithin(exited, this.options.stdinCloseGraceMs ?? STDIN_CLOSE_GRACE_MS))) {
      killGroup(pid, 'SIGTERM');
      if (!(await settlesWithin(exited, this.options.sigtermGraceMs ?? SIGTERM_GRACE_MS))) {
        killGroup(pid, 'SIGKILL');
        await settlesWithin(exited, 1_000);
      }
    }
    // The leader is gone; whatever it spawned into its group must not outlive it.
    if (groupAlive(pid)) {
      killGroup(pid, 'SIGTERM');
      await waitUntil(() => !groupAlive(pid), this.options.sigtermGraceMs ?? SIGTERM_GRACE_MS);
      if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
    }
  }

  /** Ends the process group at once (gateway shutdown after the graceful window). */
  kill(): void {
    if (this.child?.pid !== undefined) killGroup(this.child.pid, 'SIGKILL');
  }
}

function oversizedAnswer(id: RequestId, bytes: number): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: -32603,
      message: `the server's answer of ${bytes} bytes exceeds the gateway's limit of ${MAX_MESSAGE_BYTES} bytes and was dropped`,
      data: { reason: 'RESULT_TOO_LARGE', bytes, limitBytes: MAX_MESSAGE_BYTES },
    },
  };
}

function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      if (line !== '') onLine(line);
      newline = pending.indexOf('\n');
    }
    // A server that never prints a newline must not grow this without bound.
    if (pending.length > 64 * 1024) {
      onLine(pending);
      pending = '';
    }
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Ends what is left of a process group once its leader has exited: SIGTERM, then SIGKILL. The wait in between
 * keeps Node alive (at most SIGTERM_GRACE_MS), so a process about to exit does not leave the group behind.
 */
export function endProcessGroup(group: number): void {
  if (!groupAlive(group)) return;
  killGroup(group, 'SIGTERM');
  void waitUntil(() => !groupAlive(group), SIGTERM_GRACE_MS).then(() => {
    if (groupAlive(group)) killGroup(group, 'SIGKILL');
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The waits of close() keep the event loop alive on purpose: a caller awaiting close() (a CLI command, a
// library user) must see it finish. With `npx`, the leader exits first and the server lives on in its group;
// nothing of ours is left open then, and an unref'd timer would let Node exit with close() still pending.
// Every wait is bounded, so nothing is held for long.
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function waitUntil(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Why a message could not be sent: the server's stdin is gone (it exited, or is exiting). */
function notRunning(): GatewayError {
  return new GatewayError('UPSTREAM_EXITED', 'the server is not running');
}
