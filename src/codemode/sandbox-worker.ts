import { parentPort, workerData } from 'node:worker_threads';

import {
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten';

import {
  classifyGuestError,
  classifyWorkerError,
  type GuestErrorDescription,
  MAX_ERROR_MESSAGE_CHARS,
  memoryLimitError,
  outputLimitError,
  timeoutError,
} from './guest-errors.js';
import { createInstance, type Helpers, type Instance, type InstanceUser } from './guest-instance.js';
import { newGuestString } from './guest-string.js';
import {
  type CallMessage,
  type DoneMessage,
  type FromWorkerMessage,
  type HostOp,
  LOG_LINE_OVERHEAD_BYTES,
  type LogLevel,
  type ReplyMessage,
  type RunMessage,
  type SandboxErrorInfo,
  type ToWorkerMessage,
  type TruncationCounts,
  USER_CODE_FILENAME,
} from './protocol.js';
import { errorReply } from './safe-json.js';
import { MAX_NAME_CHARS, MAX_QUERY_CHARS, MAX_SEARCH_CALLS_PER_EXECUTION } from './search-limits.js';
import { DEFAULT_SANDBOX_LIMITS } from './settings.js';
import type { WasmModule } from './wasm.js';
import { userPosition, type WrappedCode, wrapUserCode } from './wrap.js';

/*
 * One execution at a time, in a worker thread, so that a guest spinning in WebAssembly blocks only this
 * thread; the pool's wall clock terminates the thread if the in-guest interrupt handler ever fails.
 *
 * Each execution gets a FRESH WebAssembly instance (guest-instance.ts), made ready while the worker is idle,
 * whose linear memory has a hard `maximum`: QuickJS's own
 * memory limit does not see every allocation (measured: 200 strings of 1 MiB passed a 32 MiB limit), while a
 * failed memory.grow makes malloc return NULL, which QuickJS reports as "out of memory". The instance is
 * dropped afterwards without disposing the runtime: nothing is reused, and disposing a runtime that still
 * holds guest objects would only abort inside WebAssembly.
 */

const port = parentPort;
if (!port) throw new Error('sandbox-worker must run in a worker thread');
const wasmModule = (workerData as { wasmModule: WasmModule }).wasmModule;

const MAX_TIMERS = 1_000;
const MAX_PENDING_CALLS = 256;
const MAX_CALL_PAYLOAD_BYTES = 4 * 1024 * 1024;
const PARALLEL_WIDTH = 8;
const HOST_OPS: ReadonlySet<string> = new Set<HostOp>(['call_tool', 'parallel', 'manifest', 'search', 'fetch']);
const LOG_LEVELS: ReadonlySet<string> = new Set<LogLevel>(['log', 'info', 'warn', 'error', 'debug']);

let current: Execution | undefined;
/**
 * The next executions' instances, made while the worker is idle so that a run does not wait for one. Two,
 * because making one takes a few ms of this thread (a fresh WebAssembly instance and the prelude): with one,
 * an execution that follows the last one closely (a model's script loop, a benchmark) would often find the
 * worker still making it. Each idle instance holds about 0.6 MB.
 */
const SPARES = 2;
const spares: Spare[] = [];
let filling = false;

interface Spare {
  instance: Promise<Instance>;
  made: boolean;
}

port.on('message', (message: ToWorkerMessage) => {
  if (message.type === 'run') {
    const execution = new Execution(message);
    current = execution;
    void execution.run(takeInstance(message.limits.memoryMb)).then((done) => {
      current = undefined;
      post(done);
      // The pool prefers a worker with an instance ready: say so at once if one is left over.
      if (spares.some((spare) => spare.made)) post({ type: 'ready' });
      // After the answer is on its way: the guest's old instance is dropped and fresh ones made ready.
      setImmediate(() => fillSpares(message.limits.memoryMb));
    });
  } else if (message.type === 'reply' && current?.runId === message.runId) {
    current.reply(message);
  }
});

fillSpares(DEFAULT_SANDBOX_LIMITS.memoryMb);

/** Makes instances one at a time, only while no execution runs, until SPARES are ready; tells the pool of each. */
function fillSpares(memoryMb: number): void {
  if (filling || current || spares.length >= SPARES) return;
  filling = true;
  const spare: Spare = { instance: prepareInstance(memoryMb), made: false };
  spares.push(spare);
  spare.instance
    .then(
      () => {
        spare.made = true;
        post({ type: 'ready' });
      },
      () => {
        const index = spares.indexOf(spare);
        if (index >= 0) spares.splice(index, 1);
      },
    )
    .finally(() => {
      filling = false;
      // Yield to a run message that arrived meanwhile before making the next one.
      setImmediate(() => fillSpares(memoryMb));
    });
}

async function takeInstance(memoryMb: number): Promise<Instance> {
  const spare = spares.shift();
  const instance = spare ? await spare.instance.catch(() => undefined) : undefined;
  return instance && instance.memoryMb === memoryMb ? instance : prepareInstance(memoryMb);
}

function prepareInstance(memoryMb: number): Promise<Instance> {
  return createInstance(wasmModule, memoryMb, {
    maxName: MAX_NAME_CHARS,
    maxQuery: MAX_QUERY_CHARS,
    parallelWidth: PARALLEL_WIDTH,
    maxErrorChars: MAX_ERROR_MESSAGE_CHARS,
  });
}

function post(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

// Thrown from the bridge to stop the guest for good; the fatal flag makes sure the guest cannot catch it for long.
class Stop extends Error {
  constructor(readonly info: SandboxErrorInfo) {
    super(info.message);
  }
}

class Execution implements InstanceUser {
  readonly runId: number;
  /** Set once the instance is ready: making one is the worker's time, not the guest's. */
  private deadline = Number.POSITIVE_INFINITY;
  private fatal: SandboxErrorInfo | undefined;
  private timedOut = false;
  private logBytes = 0;
  private nextCallId = 1;
  private toolCalls = 0;
  private searchCalls = 0;
  private nextTimerId = 1;
  private readonly pending = new Map<number, QuickJSDeferredPromise>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly events: Array<{ kind: 'reply'; message: ReplyMessage } | { kind: 'timer'; id: number }> = [];
  private wake: (() => void) | undefined;
  private wrapped: WrappedCode | undefined;
  private instance: Instance | undefined;

  constructor(private readonly message: RunMessage) {
    this.runId = message.runId;
  }

  reply(message: ReplyMessage): void {
    if (message.fatal) this.fatal ??= message.fatal;
    else this.events.push({ kind: 'reply', message });
    this.wake?.();
  }

  async run(instance: Promise<Instance>): Promise<DoneMessage> {
    let deadlineTimer: NodeJS.Timeout | undefined;
    try {
      const ready = await instance;
      this.deadline = Date.now() + this.message.limits.timeoutMs;
      deadlineTimer = setTimeout(() => {
        this.timedOut = true;
        this.wake?.();
      }, this.message.limits.timeoutMs);
      return { type: 'done', runId: this.runId, ...(await this.execute(ready)) };
    } catch (error) {
      const info =
        error instanceof Stop
          ? error.info
          : (this.fatal ??
            (this.timedOut
              ? timeoutError(this.message.limits.timeoutMs)
              : classifyWorkerError(error, {
                  memoryMb: this.message.limits.memoryMb,
                  nearMemoryCap: this.nearMemoryCap(),
                })));
      return { type: 'done', runId: this.runId, error: info };
    } finally {
      clearTimeout(deadlineTimer);
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
      // The instance is dropped, never reused: nothing the guest built survives into another execution.
      if (this.instance) this.instance.user = undefined;
    }
  }

  private async execute(instance: Instance): Promise<Omit<DoneMessage, 'type' | 'runId'>> {
    this.instance = instance;
    instance.user = this;
    const { context, helpers } = instance;
    if (this.message.stateJson !== undefined) {
      const stateJson = newGuestString(context, this.message.stateJson);
      if (!stateJson) return { error: memoryLimitError(this.message.limits.memoryMb) };
      const set = context.callFunction(helpers.setState, context.undefined, stateJson);
      if (set.error) return { error: this.guestError(context, helpers.describe, set.error) };
    }
    const fn = this.compile(context);
    if ('error' in fn) return { error: fn.error };
    const called = context.callFunction(fn.handle, context.undefined, context.getProp(context.global, 'api'));
    if (called.error) return { error: this.guestError(context, helpers.describe, called.error) };
    return this.drive(instance.runtime, context, helpers, called.value);
  }

  shouldInterrupt(): boolean {
    if (this.fatal) return true;
    if (Date.now() >= this.deadline) this.timedOut = true;
    return this.timedOut;
  }

  /** Tries each shape of the code; the first that compiles wins, else the first shape's syntax error. */
  private compile(context: QuickJSContext): { handle: QuickJSHandle } | { error: SandboxErrorInfo } {
    const candidates = wrapUserCode(this.message.code);
    let firstError: SandboxErrorInfo | undefined;
    for (const candidate of candidates) {
      const result = context.evalCode(candidate.source, USER_CODE_FILENAME);
      if (!result.error) {
        this.wrapped = candidate;
        return { handle: result.value };
      }
      const dumped = context.dump(result.error) as { name?: string; message?: string; stack?: string };
      firstError ??= {
        type: dumped.name === 'SyntaxError' ? 'SyntaxError' : 'Error',
        name: dumped.name,
        message: String(dumped.message),
        ...userPosition(dumped.stack, candidate, this.lineCount()),
      };
    }
    return { error: firstError ?? { type: 'Internal', message: 'nothing to compile' } };
  }

  private lineCount(): number {
    return this.message.code.split('\n').length;
  }

  /** Runs jobs until the code's promise settles; waits for host replies and timers in between. */
  private async drive(
    runtime: QuickJSRuntime,
    context: QuickJSContext,
    helpers: Helpers,
    promise: QuickJSHandle,
  ): Promise<Omit<DoneMessage, 'type' | 'runId'>> {
    // Every pass either settles, fails, or waits for an event; the deadline bounds the number of events.
    for (;;) {
      const jobs = runtime.executePendingJobs();
      if (this.fatal) return { error: this.fatal };
      if (this.timedOut) return { error: timeoutError(this.message.limits.timeoutMs) };
      if (jobs.error) return { error: this.guestError(context, helpers.describe, jobs.error) };
      const state = context.getPromiseState(promise);
      if (state.type === 'fulfilled') return this.finish(context, helpers, state.value);
      if (state.type === 'rejected') return { error: this.guestError(context, helpers.describe, state.error) };
      if (this.pending.size === 0 && this.timers.size === 0 && this.events.length === 0) {
        return {
          error: {
            type: 'Unsettled',
            message: 'the code is waiting for a promise that nothing can settle (no tool call or timer is pending)',
          },
        };
      }
      if (this.events.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
      const failure = this.drainEvents(context, helpers);
      if (failure) return { error: failure };
    }
  }

  private drainEvents(context: QuickJSContext, helpers: Helpers): SandboxErrorInfo | undefined {
    for (let event = this.events.shift(); event; event = this.events.shift()) {
      if (this.fatal || this.timedOut) return undefined;
      if (event.kind === 'reply') {
        const deferred = this.pending.get(event.message.callId);
        if (!deferred) continue;
        this.pending.delete(event.message.callId);
        const value = this.replyString(context, event.message.json);
        if (!value) return { type: 'MemoryLimit', message: this.replyOutOfMemory(event.message.json) };
        deferred.resolve(value);
        value.dispose();
        deferred.dispose();
      } else {
        const fired = context.callFunction(helpers.fire, context.undefined, context.newNumber(event.id));
        if (fired.error) return this.guestError(context, helpers.describe, fired.error);
        if (context.typeof(fired.value) === 'string') {
          return this.describeToInfo(JSON.parse(context.getString(fired.value)) as GuestErrorDescription);
        }
      }
    }
    return undefined;
  }

  /**
   * The reply as a guest string; when it does not fit in the guest's memory, an error reply the guest throws
   * (catchable) instead. Undefined when not even that fits.
   */
  private replyString(context: QuickJSContext, json: string): QuickJSHandle | undefined {
    const outOfMemory = (): string => errorReply({ name: 'InternalError', message: this.replyOutOfMemory(json) });
    return newGuestString(context, json) ?? newGuestString(context, outOfMemory());
  }

  private replyOutOfMemory(json: string): string {
    return `out of memory: a reply of ${Buffer.byteLength(json)} bytes does not fit in the sandbox's memory (limit ${this.message.limits.memoryMb} MB)`;
  }

  /** The result as JSON (cut to fit the output limit when it is larger), and the store when there is one. */
  private finish(context: QuickJSContext, helpers: Helpers, value: QuickJSHandle): Omit<DoneMessage, 'type' | 'runId'> {
    const budget = this.message.limits.maxOutputBytes - this.logBytes;
    const serialized = context.callFunction(helpers.serialize, context.undefined, value, context.newNumber(budget));
    if (serialized.error) return { error: this.notJson('the result', context, helpers, serialized.error) };
    let json = context.typeof(serialized.value) === 'string' ? context.getString(serialized.value) : undefined;
    let truncated: TruncationCounts | undefined;
    if (json === undefined || Buffer.byteLength(json) > budget) {
      const cut = context.callFunction(helpers.truncate, context.undefined, value, context.newNumber(budget));
      if (cut.error) return { error: this.notJson('the result', context, helpers, cut.error) };
      const text = context.getString(cut.value);
      const newline = text.indexOf('\n');
      truncated = JSON.parse(text.slice(0, newline)) as TruncationCounts;
      json = text.slice(newline + 1);
      // Escapes can make the JSON longer than counted; such a result is refused rather than cut twice.
      if (Buffer.byteLength(json) > budget) return { error: this.outputLimitError('the result') };
    }
    const done: Omit<DoneMessage, 'type' | 'runId'> = { resultJson: json, ...(truncated ? { truncated } : {}) };
    if (this.message.stateJson === undefined) return done;
    const max = this.message.maxStateBytes ?? 0;
    const state = context.callFunction(helpers.getState, context.undefined, context.newNumber(max));
    if (state.error) return { error: this.notJson('api.state', context, helpers, state.error) };
    if (context.typeof(state.value) !== 'string') {
      return {
        error: {
          type: 'LimitExceeded',
          message: `api.state is larger than ${max} bytes as JSON; it was not saved (the previous state is kept)`,
        },
      };
    }
    return { ...done, stateJson: context.getString(state.value) };
  }

  private notJson(what: string, context: QuickJSContext, helpers: Helpers, error: QuickJSHandle): SandboxErrorInfo {
    const info = this.guestError(context, helpers.describe, error);
    return info.type === 'Error' ? { ...info, message: `${what} is not JSON: ${info.message}` } : info;
  }

  hostCall(context: QuickJSContext, opHandle: QuickJSHandle, jsonHandle: QuickJSHandle): QuickJSHandle {
    const op = context.getString(opHandle);
    if (!HOST_OPS.has(op)) throw new TypeError(`unknown host operation ${op}`);
    if (stringLength(context, jsonHandle) > MAX_CALL_PAYLOAD_BYTES) {
      throw new RangeError(`arguments larger than ${MAX_CALL_PAYLOAD_BYTES} bytes`);
    }
    if (op === 'call_tool' || op === 'fetch') {
      const { maxToolCalls } = this.message.limits;
      if (++this.toolCalls > maxToolCalls) {
        this.stop({ type: 'LimitExceeded', message: `more than ${maxToolCalls} tool calls in one execution` });
      }
    } else if ((op === 'search' || op === 'manifest') && ++this.searchCalls > MAX_SEARCH_CALLS_PER_EXECUTION) {
      this.stop({
        type: 'LimitExceeded',
        message: `more than ${MAX_SEARCH_CALLS_PER_EXECUTION} api.search and api.manifest calls in one execution`,
      });
    }
    if (this.pending.size >= MAX_PENDING_CALLS) throw new RangeError(`more than ${MAX_PENDING_CALLS} calls pending`);
    const callId = this.nextCallId++;
    const deferred = context.newPromise();
    this.pending.set(callId, deferred);
    const call: CallMessage = {
      type: 'call',
      runId: this.runId,
      callId,
      op: op as HostOp,
      json: context.getString(jsonHandle),
    };
    post(call);
    return deferred.handle;
  }

  hostLog(context: QuickJSContext, levelHandle: QuickJSHandle, textHandle: QuickJSHandle): void {
    const level = context.getString(levelHandle);
    const budget = this.message.limits.maxOutputBytes - this.logBytes - LOG_LINE_OVERHEAD_BYTES;
    // Check the length in the guest first, so that a huge string is never copied out.
    if (stringLength(context, textHandle) > budget) this.stop(this.outputLimitError('console output'));
    const text = context.getString(textHandle);
    this.logBytes += Buffer.byteLength(text) + LOG_LINE_OVERHEAD_BYTES;
    if (this.logBytes > this.message.limits.maxOutputBytes) this.stop(this.outputLimitError('console output'));
    post({ type: 'log', runId: this.runId, level: LOG_LEVELS.has(level) ? (level as LogLevel) : 'log', text });
  }

  timerSet(context: QuickJSContext, msHandle: QuickJSHandle): QuickJSHandle {
    if (this.timers.size >= MAX_TIMERS) throw new RangeError(`more than ${MAX_TIMERS} timers pending`);
    const id = this.nextTimerId++;
    // Clamped to the deadline: a timer can never keep an execution (or this worker) alive past it.
    const requested = Math.max(0, context.getNumber(msHandle) || 0);
    const remaining = Math.max(0, this.deadline - Date.now());
    const clamped = requested >= remaining;
    const ms = Math.min(requested, remaining);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        // A clamped timer is the deadline itself, even when it fires a millisecond before the deadline's own
        // timer (Node's timers run on a monotonic clock that Date.now() can trail): the execution is over.
        if (clamped || Date.now() >= this.deadline) this.timedOut = true;
        this.events.push({ kind: 'timer', id });
        this.wake?.();
      }, ms),
    );
    return context.newNumber(id);
  }

  timerClear(context: QuickJSContext, idHandle: QuickJSHandle): void {
    const timerId = context.getNumber(idHandle);
    clearTimeout(this.timers.get(timerId));
    this.timers.delete(timerId);
  }

  /** Marks the execution failed; the interrupt handler then stops the guest at its next check. */
  private stop(info: SandboxErrorInfo): never {
    if (!this.fatal) {
      this.fatal = info;
      // The interrupt handler runs every so many bytecodes: a loop that catches this error while doing costly
      // work per bytecode (long strings, host calls that throw) may not reach it before the deadline.
      post({ type: 'limit', runId: this.runId, error: info });
    }
    throw new Stop(info);
  }

  private guestError(context: QuickJSContext, describe: QuickJSHandle, error: QuickJSHandle): SandboxErrorInfo {
    if (this.fatal) return this.fatal;
    if (this.timedOut) return timeoutError(this.message.limits.timeoutMs);
    let description: GuestErrorDescription;
    try {
      const described = context.callFunction(describe, context.undefined, error);
      description = described.error
        ? (context.dump(error) as GuestErrorDescription)
        : (JSON.parse(context.getString(described.value)) as GuestErrorDescription);
    } catch {
      description = { name: 'InternalError', message: 'out of memory' };
    }
    return this.describeToInfo(description);
  }

  private describeToInfo(description: GuestErrorDescription): SandboxErrorInfo {
    if (this.fatal) return this.fatal;
    if (this.timedOut) return timeoutError(this.message.limits.timeoutMs);
    return classifyGuestError(description, {
      wrapped: this.wrapped ?? { prefixLength: 0 },
      lineCount: this.lineCount(),
      memoryMb: this.message.limits.memoryMb,
      nearMemoryCap: this.nearMemoryCap(),
    });
  }

  private nearMemoryCap(): boolean {
    const instance = this.instance;
    return instance !== undefined && instance.memory.buffer.byteLength >= instance.capBytes * 0.75;
  }

  private outputLimitError(what: string): SandboxErrorInfo {
    return outputLimitError(what, this.message.limits.maxOutputBytes);
  }
}

function stringLength(context: QuickJSContext, handle: QuickJSHandle): number {
  const length = context.getProp(handle, 'length');
  const value = context.typeof(length) === 'number' ? context.getNumber(length) : 0;
  length.dispose();
  return value;
}
