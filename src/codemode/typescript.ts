import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** An idle transpiler thread ends after this long; the next TypeScript execution starts it again. */
const IDLE_MS = 60_000;
const TRANSPILE_TIMEOUT_MS = 5_000;
const WORKER_HEAP_MB = 96;

type Pending = { resolve(result: { code: string } | { error: string }): void; timer: NodeJS.Timeout };

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

/**
 * TypeScript with its types stripped (sucrase, in a worker thread started on first use and stopped when idle,
 * so a gateway that never sees TypeScript never loads a transpiler).
 *
 * @example
 * await stripTypes('const x: number = 1; return x'); // { code: 'const x = 1; return x' }
 */
export function stripTypes(code: string): Promise<{ code: string } | { error: string }> {
  const thread = ensureWorker();
  if (idleTimer) clearTimeout(idleTimer);
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => settle(id, { error: 'stripping TypeScript types took too long' }),
      TRANSPILE_TIMEOUT_MS,
    );
    timer.unref();
    pending.set(id, { resolve, timer });
    thread.postMessage({ id, code });
  });
}

function settle(id: number, result: { code: string } | { error: string }): void {
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  clearTimeout(entry.timer);
  entry.resolve(result);
  if (pending.size === 0) {
    idleTimer = setTimeout(stopWorker, IDLE_MS);
    idleTimer.unref();
  }
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const thread = new Worker(workerPath(), { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
  thread.unref();
  thread.on('message', (message: { id: number; code?: string; error?: string }) =>
    settle(message.id, message.code !== undefined ? { code: message.code } : { error: message.error ?? 'failed' }),
  );
  const fail = (reason: string): void => {
    if (worker === thread) worker = undefined;
    for (const id of [...pending.keys()]) settle(id, { error: `the TypeScript transpiler stopped: ${reason}` });
  };
  thread.on('error', (error) => fail(error.message));
  thread.on('exit', (code) => fail(`exit ${code}`));
  worker = thread;
  return thread;
}

/** Ends the transpiler thread (also used by tests); the next call starts a new one. */
export function stopWorker(): void {
  const thread = worker;
  worker = undefined;
  void thread?.terminate();
}

// Next to this module once compiled; the compiled copy in dist/ when running from source (as the sandbox does).
function workerPath(): string {
  const here = fileURLToPath(new URL('./typescript-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../dist/codemode/typescript-worker.js', import.meta.url));
}
