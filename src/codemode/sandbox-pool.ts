import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { GatewayError } from '../errors.js';
import type {
  DoneMessage,
  FromWorkerMessage,
  HostOp,
  LogLevel,
  ReplyMessage,
  RunLimits,
  RunMessage,
  SandboxErrorInfo,
  TruncationCounts,
} from './protocol.js';
import { Wasm, type WasmModule } from './wasm.js';

/** What one execution needs from its caller: the code, its limits, and the host side of the bridge. */
export interface SandboxJob {
  code: string;
  limits: RunLimits;
  /**
   * The session's `api.state`, when the execution has a store: read (as JSON, see RunMessage) when the execution
   * starts running, not when it is queued, so that it starts from the latest saved state.
   */
  state?: { read(): string; maxBytes: number };
  /** Answers a guest request. Resolves to the reply JSON (`{"ok":…}`) and, for limits, a fatal error. */
  onCall(op: HostOp, json: string): Promise<{ json: string; fatal?: SandboxErrorInfo }>;
  onLog(level: LogLevel, text: string): void;
  signal?: AbortSignal;
  /**
   * Who the execution is for (a session, a credential): each owner gets a share of the workers and the queue,
   * so that one client's runaway code delays only that client.
   */
  owner?: string;
}

export type SandboxOutcome =
  | { ok: true; resultJson: string; truncated?: TruncationCounts; stateJson?: string }
  | { ok: false; error: SandboxErrorInfo };

export interface SandboxPoolOptions {
  /** Executions running at once (one worker thread each). */
  maxConcurrent: number;
  /** Executions waiting for a worker before new ones are refused. */
  maxQueue: number;
  /** Executions one owner may run at once; by default all workers but one, so another owner always finds one. */
  maxConcurrentPerOwner?: number;
  /** Executions one owner may have waiting; by default a quarter of the queue. */
  maxQueuePerOwner?: number;
  /**
   * How long after an execution's own deadline its worker is terminated if it has not answered (500 ms).
   * Tests set it negative to exercise the terminate-and-replace path before the guest's own deadline.
   */
  killGraceMs?: number;
  /** Path of the compiled worker; found next to this module, or under dist/ when running from source. */
  workerPath?: string;
}

const DEFAULT_KILL_GRACE_MS = 500;
const WORKER_HEAP_MB = 128;

interface Slot {
  worker: Worker;
  busy: boolean;
  /** Set when the worker died while idle; the next execution replaces it first. */
  dead: boolean;
  /** The worker has its next instance made (it said so since its last execution). */
  ready: boolean;
}

interface Queued {
  job: SandboxJob;
  owner: string;
  resolve(outcome: SandboxOutcome): void;
}

/**
 * A fixed set of worker threads running QuickJS, one execution per worker at a time. The wall clock lives
 * here on the main thread: if a worker has not answered shortly after its deadline it is terminated (that
 * works even when the guest spins inside WebAssembly) and replaced by a fresh one.
 *
 * @example
 * const pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 16 });
 * const outcome = await pool.run({ code: 'return 1', limits, onCall, onLog: () => {} });
 * await pool.close();
 */
export class SandboxPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private readonly workerPath: string;
  private readonly killGraceMs: number;
  private readonly perOwnerRunning: number;
  private readonly perOwnerQueued: number;
  /** Executions running now, per owner. */
  private readonly running = new Map<string, number>();
  private wasmModule: WasmModule | undefined;
  private nextRunId = 1;
  private closed = false;

  constructor(private readonly options: SandboxPoolOptions) {
    this.workerPath = options.workerPath ?? resolveWorkerPath();
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.perOwnerRunning = Math.max(1, options.maxConcurrentPerOwner ?? options.maxConcurrent - 1);
    this.perOwnerQueued = Math.max(1, options.maxQueuePerOwner ?? Math.floor(options.maxQueue / 4));
  }

  /** Executions running now and waiting now. */
  get stats(): { running: number; queued: number; workers: number } {
    return { running: this.slots.filter((s) => s.busy).length, queued: this.queue.length, workers: this.slots.length };
  }

  /** Starts the worker threads ahead of the first execution (optional; they start on demand otherwise). */
  warm(): void {
    while (!this.closed && this.slots.length < this.options.maxConcurrent) this.slots.push(this.spawn());
  }

  /**
   * Runs one execution. Resolves with its outcome (never rejects for anything the guest does); rejects with
   * SANDBOX_BUSY when every worker is busy and the queue is full, SHUTTING_DOWN after close().
   */
  run(job: SandboxJob): Promise<SandboxOutcome> {
    if (this.closed) return Promise.reject(new GatewayError('SHUTTING_DOWN', 'the sandbox pool is closed'));
    const owner = job.owner ?? '';
    const slot = this.mayStart(owner) ? this.acquire() : undefined;
    if (slot) return this.execute(slot, job, owner);
    const waiting = this.queue.filter((entry) => entry.owner === owner).length;
    if (waiting >= this.perOwnerQueued || this.queue.length >= this.options.maxQueue) {
      const mine = this.running.get(owner) ?? 0;
      return Promise.reject(
        new GatewayError(
          'SANDBOX_BUSY',
          waiting >= this.perOwnerQueued
            ? `the sandbox is busy with this client's code: ${mine} executions running and ${waiting} waiting (at most ${this.perOwnerRunning} and ${this.perOwnerQueued}); try again when one ends`
            : `the sandbox is busy: ${this.options.maxConcurrent} executions running and ${this.queue.length} waiting; try again shortly`,
        ),
      );
    }
    return new Promise<SandboxOutcome>((resolve) => {
      const entry: Queued = { job, owner, resolve };
      this.queue.push(entry);
      job.signal?.addEventListener(
        'abort',
        () => {
          const index = this.queue.indexOf(entry);
          if (index < 0) return;
          this.queue.splice(index, 1);
          resolve({ ok: false, error: { type: 'Cancelled', message: 'cancelled while waiting for a sandbox' } });
        },
        { once: true },
      );
    });
  }

  private mayStart(owner: string): boolean {
    return (this.running.get(owner) ?? 0) < this.perOwnerRunning;
  }

  /** Terminates every worker; queued executions end as Cancelled. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) {
      entry.resolve({ ok: false, error: { type: 'Cancelled', message: 'the sandbox pool is closing' } });
    }
    await Promise.allSettled(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private acquire(): Slot | undefined {
    let slot = this.slots.find((s) => !s.busy && s.ready) ?? this.slots.find((s) => !s.busy);
    if (!slot && this.slots.length < this.options.maxConcurrent) {
      slot = this.spawn();
      this.slots.push(slot);
    }
    if (slot) slot.busy = true;
    return slot;
  }

  private spawn(): Slot {
    const slot: Slot = { worker: this.startWorker(() => slot), busy: false, dead: false, ready: false };
    return slot;
  }

  /** A new worker thread whose failures mark `slotOf()` dead while it is still that slot's worker. */
  private startWorker(slotOf: () => Slot): Worker {
    // Compiled once per process; every worker instantiates it afresh for each execution.
    this.wasmModule ??= new Wasm.Module(readFileSync(wasmPath()));
    const worker = new Worker(this.workerPath, {
      workerData: { wasmModule: this.wasmModule },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stdout: true,
      stderr: true,
    });
    // Piped and discarded: in stdio serving mode the process's stdout is the protocol channel, and an
    // Emscripten abort message must not land there.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    // Permanent listeners: an 'error' event without one would crash the gateway; an execution adds its own.
    const markDead = (): void => {
      const slot = slotOf();
      if (slot.worker === worker) slot.dead = true;
    };
    worker.on('error', markDead);
    worker.on('exit', markDead);
    worker.on('message', (message: FromWorkerMessage) => {
      const slot = slotOf();
      if (message.type === 'ready' && slot.worker === worker) slot.ready = true;
    });
    return worker;
  }

  private execute(slot: Slot, job: SandboxJob, owner: string): Promise<SandboxOutcome> {
    if (slot.dead) this.replace(slot);
    this.running.set(owner, (this.running.get(owner) ?? 0) + 1);
    const runId = this.nextRunId++;
    const { worker } = slot;
    slot.ready = false;
    worker.ref();
    return new Promise<SandboxOutcome>((resolve) => {
      let finished = false;
      const finish = (outcome: SandboxOutcome, replace: boolean): void => {
        if (finished) return;
        finished = true;
        clearTimeout(killTimer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        job.signal?.removeEventListener('abort', onAbort);
        if (replace) this.replace(slot);
        else worker.unref();
        const left = (this.running.get(owner) ?? 1) - 1;
        if (left > 0) this.running.set(owner, left);
        else this.running.delete(owner);
        resolve(outcome);
        // A waiting execution starts once this one's caller has handled the outcome: it then reads the api.state
        // this one saved.
        if (this.queue.length > 0) setImmediate(() => this.release(slot));
        else this.release(slot);
      };
      const kill = (error: SandboxErrorInfo): void => {
        finish({ ok: false, error }, true);
      };
      const killAt = Date.now() + job.limits.timeoutMs + this.killGraceMs;
      let limit: SandboxErrorInfo | undefined;
      // A limit ends the execution: if the worker has not answered shortly after, the guest is still running
      // (it caught the error in a loop) and its worker is terminated, the answer naming the limit.
      const onLimit = (error: SandboxErrorInfo): void => {
        if (finished || limit) return;
        limit = error;
        clearTimeout(killTimer);
        killTimer = setTimeout(() => kill(error), Math.max(0, Math.min(killAt - Date.now(), this.killGraceMs)));
      };
      const onMessage = (message: FromWorkerMessage): void => {
        if (message.type === 'ready' || message.runId !== runId) return;
        if (message.type === 'log') job.onLog(message.level, message.text);
        else if (message.type === 'limit') onLimit(message.error);
        else if (message.type === 'call')
          void this.answer(worker, runId, message.callId, job, message.op, message.json).then(
            (fatal) => fatal && onLimit(fatal),
          );
        else finish(toOutcome(message), false);
      };
      const onError = (error: Error): void => {
        const memory = /ERR_WORKER_OUT_OF_MEMORY|heap/i.test(`${(error as { code?: string }).code} ${error.message}`);
        kill(
          memory
            ? { type: 'MemoryLimit', message: 'the sandbox worker ran out of memory' }
            : { type: 'Internal', message: `the sandbox worker failed: ${error.message}` },
        );
      };
      const onExit = (code: number): void => kill({ type: 'Internal', message: `the sandbox worker exited (${code})` });
      const onAbort = (): void => kill({ type: 'Cancelled', message: 'the execution was cancelled' });
      let killTimer = setTimeout(
        () => kill({ type: 'Timeout', message: `execution exceeded ${job.limits.timeoutMs} ms (worker terminated)` }),
        Math.max(0, job.limits.timeoutMs + this.killGraceMs),
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      if (job.signal?.aborted) return onAbort();
      job.signal?.addEventListener('abort', onAbort, { once: true });
      const run: RunMessage = { type: 'run', runId, code: job.code, limits: job.limits };
      if (job.state) Object.assign(run, { stateJson: job.state.read(), maxStateBytes: job.state.maxBytes });
      worker.postMessage(run);
    });
  }

  /** Sends the host's reply to a guest request; resolves to the limit it reports, if any. */
  private async answer(
    worker: Worker,
    runId: number,
    callId: number,
    job: SandboxJob,
    op: HostOp,
    json: string,
  ): Promise<SandboxErrorInfo | undefined> {
    let reply: ReplyMessage;
    try {
      const answer = await job.onCall(op, json);
      reply = { type: 'reply', runId, callId, json: answer.json, ...(answer.fatal ? { fatal: answer.fatal } : {}) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reply = { type: 'reply', runId, callId, json: JSON.stringify({ ok: false, error: { name: 'Error', message } }) };
    }
    // The worker ignores replies for an execution it no longer runs; a terminated worker drops them.
    worker.postMessage(reply);
    return reply.fatal;
  }

  private replace(slot: Slot): void {
    void slot.worker.terminate();
    if (this.closed) return;
    slot.worker = this.startWorker(() => slot);
    slot.dead = false;
  }

  /** Hands a freed worker to the waiting execution whose owner runs the fewest now (first come among equals). */
  private release(slot: Slot): void {
    slot.busy = false;
    if (this.closed) return;
    let chosen = -1;
    for (const [index, entry] of this.queue.entries()) {
      if (!this.mayStart(entry.owner)) continue;
      const load = this.running.get(entry.owner) ?? 0;
      if (chosen < 0 || load < (this.running.get(this.queue[chosen]?.owner ?? '') ?? 0)) chosen = index;
    }
    if (chosen < 0) return;
    const [next] = this.queue.splice(chosen, 1);
    if (!next) return;
    slot.busy = true;
    void this.execute(slot, next.job, next.owner).then(next.resolve);
  }
}

function toOutcome(message: DoneMessage): SandboxOutcome {
  if (message.error) return { ok: false, error: message.error };
  return {
    ok: true,
    resultJson: message.resultJson ?? 'null',
    ...(message.truncated ? { truncated: message.truncated } : {}),
    ...(message.stateJson !== undefined ? { stateJson: message.stateJson } : {}),
  };
}

/**
 * `./sandbox-worker.js` next to this file once compiled (dist/codemode/); when this module runs from source
 * (vitest loads src/codemode/*.ts), the compiled copy in dist/ — which `npm test` builds first (pretest).
 */
export function resolveWorkerPath(): string {
  const here = fileURLToPath(new URL('./sandbox-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/codemode/sandbox-worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new GatewayError('SANDBOX_ERROR', `sandbox worker not found at ${here} or ${built}; run "npm run build"`);
}

// The release-sync variant's .wasm, resolved from quickjs-emscripten, which depends on it.
function wasmPath(): string {
  const quickjs = createRequire(import.meta.url).resolve('quickjs-emscripten');
  return createRequire(quickjs).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
}
