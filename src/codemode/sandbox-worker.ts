import { parentPort, workerData } from 'node:worker_threads';

import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
  RELEASE_SYNC,
} from 'quickjs-emscripten';

import {
  classifyGuestError,
  classifyWorkerError,
  type GuestErrorDescription,
  outputLimitError,
  timeoutError,
} from './guest-errors.js';
import { GUEST_PRELUDE } from './guest-prelude.js';
import {
  type CallMessage,
  type DoneMessage,
  type FromWorkerMessage,
  type HostOp,
  type LogLevel,
  type ReplyMessage,
  type RunMessage,
  type SandboxErrorInfo,
  type ToWorkerMessage,
  USER_CODE_FILENAME,
} from './protocol.js';
import { Wasm, type WasmMemory, type WasmModule } from './wasm.js';
import { userPosition, type WrappedCode, wrapUserCode } from './wrap.js';

/*
 * One execution at a time, in a worker thread, so that a guest spinning in WebAssembly blocks only this
 * thread; the pool's wall clock terminates the thread if the in-guest interrupt handler ever fails.
 *
 * Each execution gets a FRESH WebAssembly instance whose linear memory has a hard `maximum`: QuickJS's own
 * memory limit does not see every allocation (measured: 200 strings of 1 MiB passed a 32 MiB limit), while a
 * failed memory.grow makes malloc return NULL, which QuickJS reports as "out of memory". The instance is
 * dropped afterwards without disposing the runtime: nothing is reused, and disposing a runtime that still
 * holds guest objects would only abort inside WebAssembly.
 */

const port = parentPort;
if (!port) throw new Error('sandbox-worker must run in a worker thread');
const wasmModule = (workerData as { wasmModule: WasmModule }).wasmModule;

const WASM_PAGE_BYTES = 65_536;
// The module's own 16 MiB (static data and the C stack) come on top of the guest's allowance.
const WASM_BASE_PAGES = 256;
// Measured in a worker thread: 1 MiB is still caught by QuickJS, 2 MiB overflows the thread's stack.
const GUEST_STACK_BYTES = 512 * 1024;
const MAX_TIMERS = 1_000;
const MAX_PENDING_CALLS = 256;
const MAX_CALL_PAYLOAD_BYTES = 4 * 1024 * 1024;
const HOST_OPS: ReadonlySet<string> = new Set<HostOp>(['call_tool', 'parallel', 'manifest', 'search', 'fetch']);
const LOG_LEVELS: ReadonlySet<string> = new Set<LogLevel>(['log', 'info', 'warn', 'error', 'debug']);

let current: Execution | undefined;

port.on('message', (message: ToWorkerMessage) => {
  if (message.type === 'run') {
    const execution = new Execution(message);
    current = execution;
    void execution.run().then((done) => {
      current = undefined;
      post(done);
    });
  } else if (message.type === 'reply' && current?.runId === message.runId) {
    current.reply(message);
  }
});

function post(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

// Thrown from the bridge to stop the guest for good; the fatal flag makes sure the guest cannot catch it for long.
class Stop extends Error {
  constructor(readonly info: SandboxErrorInfo) {
    super(info.message);
  }
}

class Execution {
  readonly runId: number;
  private readonly deadline: number;
  private fatal: SandboxErrorInfo | undefined;
  private timedOut = false;
  private logBytes = 0;
  private nextCallId = 1;
  private nextTimerId = 1;
  private readonly pending = new Map<number, QuickJSDeferredPromise>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly events: Array<{ kind: 'reply'; message: ReplyMessage } | { kind: 'timer'; id: number }> = [];
  private wake: (() => void) | undefined;
  private wrapped: WrappedCode | undefined;
  private memory: WasmMemory | undefined;
  private memoryCapBytes = 0;

  constructor(private readonly message: RunMessage) {
    this.runId = message.runId;
    this.deadline = Date.now() + message.limits.timeoutMs;
  }

  reply(message: ReplyMessage): void {
    if (message.fatal) this.fatal ??= message.fatal;
    else this.events.push({ kind: 'reply', message });
    this.wake?.();
  }

  async run(): Promise<DoneMessage> {
    const deadlineTimer = setTimeout(() => {
      this.timedOut = true;
      this.wake?.();
    }, this.message.limits.timeoutMs);
    try {
      return { type: 'done', runId: this.runId, ...(await this.execute()) };
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
    }
  }

  private async execute(): Promise<Pick<DoneMessage, 'resultJson' | 'error'>> {
    const { memoryMb } = this.message.limits;
    const guestPages = Math.ceil((memoryMb * 1024 * 1024) / WASM_PAGE_BYTES);
    const memory: WasmMemory = new Wasm.Memory({ initial: WASM_BASE_PAGES, maximum: WASM_BASE_PAGES + guestPages });
    this.memory = memory;
    this.memoryCapBytes = (WASM_BASE_PAGES + guestPages) * WASM_PAGE_BYTES;
    const module = await newQuickJSWASMModuleFromVariant(
      newVariant(RELEASE_SYNC, { wasmModule: wasmModule as never, wasmMemory: memory as never }),
    );
    const runtime = module.newRuntime({
      memoryLimitBytes: memoryMb * 1024 * 1024,
      maxStackSizeBytes: GUEST_STACK_BYTES,
      interruptHandler: () => this.shouldInterrupt(),
    });
    runtime.setModuleLoader(() => ({ error: new Error('import is not available in the sandbox') }));
    const context = runtime.newContext();
    const helpers = this.installPrelude(context);
    const fn = this.compile(context);
    if ('error' in fn) return { error: fn.error };
    const called = context.callFunction(fn.handle, context.undefined, context.getProp(context.global, 'api'));
    if (called.error) return { error: this.guestError(context, helpers.describe, called.error) };
    return this.drive(runtime, context, helpers, called.value);
  }

  private shouldInterrupt(): boolean {
    if (this.fatal) return true;
    if (Date.now() >= this.deadline) this.timedOut = true;
    return this.timedOut;
  }

  private installPrelude(context: QuickJSContext): Record<'fire' | 'describe' | 'serialize', QuickJSHandle> {
    const factory = context.unwrapResult(context.evalCode(GUEST_PRELUDE, 'prelude.js'));
    const hostCall = context.newFunction('hostCall', (op, json) => this.hostCall(context, op, json));
    const hostLog = context.newFunction('hostLog', (level, text) => this.hostLog(context, level, text));
    const timerSet = context.newFunction('timerSet', (ms) => this.timerSet(context, ms));
    const timerClear = context.newFunction('timerClear', (id) => {
      const timerId = context.getNumber(id);
      clearTimeout(this.timers.get(timerId));
      this.timers.delete(timerId);
    });
    const helpers = context.unwrapResult(
      context.callFunction(factory, context.undefined, hostCall, hostLog, timerSet, timerClear),
    );
    return {
      fire: context.getProp(helpers, 'fire'),
      describe: context.getProp(helpers, 'describe'),
      serialize: context.getProp(helpers, 'serialize'),
    };
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
    helpers: Record<'fire' | 'describe' | 'serialize', QuickJSHandle>,
    promise: QuickJSHandle,
  ): Promise<Pick<DoneMessage, 'resultJson' | 'error'>> {
    // Every pass either settles, fails, or waits for an event; the deadline bounds the number of events.
    for (;;) {
      const jobs = runtime.executePendingJobs();
      if (this.fatal) return { error: this.fatal };
      if (this.timedOut) return { error: timeoutError(this.message.limits.timeoutMs) };
      if (jobs.error) return { error: this.guestError(context, helpers.describe, jobs.error) };
      const state = context.getPromiseState(promise);
      if (state.type === 'fulfilled') return this.serialize(context, helpers, state.value);
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

  private drainEvents(
    context: QuickJSContext,
    helpers: Record<'fire' | 'describe' | 'serialize', QuickJSHandle>,
  ): SandboxErrorInfo | undefined {
    for (let event = this.events.shift(); event; event = this.events.shift()) {
      if (this.fatal || this.timedOut) return undefined;
      if (event.kind === 'reply') {
        const deferred = this.pending.get(event.message.callId);
        if (!deferred) continue;
        this.pending.delete(event.message.callId);
        const value = context.newString(event.message.json);
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

  private serialize(
    context: QuickJSContext,
    helpers: Record<'fire' | 'describe' | 'serialize', QuickJSHandle>,
    value: QuickJSHandle,
  ): Pick<DoneMessage, 'resultJson' | 'error'> {
    const budget = this.message.limits.maxOutputBytes - this.logBytes;
    const serialized = context.callFunction(helpers.serialize, context.undefined, value, context.newNumber(budget));
    if (serialized.error) {
      const info = this.guestError(context, helpers.describe, serialized.error);
      return { error: info.type === 'Error' ? { ...info, message: `the result is not JSON: ${info.message}` } : info };
    }
    const json = context.typeof(serialized.value) === 'string' ? context.getString(serialized.value) : undefined;
    if (json === undefined || Buffer.byteLength(json) > budget) {
      return { error: this.outputLimitError('the result') };
    }
    return { resultJson: json };
  }

  private hostCall(context: QuickJSContext, opHandle: QuickJSHandle, jsonHandle: QuickJSHandle): QuickJSHandle {
    const op = context.getString(opHandle);
    if (!HOST_OPS.has(op)) throw new TypeError(`unknown host operation ${op}`);
    if (stringLength(context, jsonHandle) > MAX_CALL_PAYLOAD_BYTES) {
      throw new RangeError(`arguments larger than ${MAX_CALL_PAYLOAD_BYTES} bytes`);
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

  private hostLog(context: QuickJSContext, levelHandle: QuickJSHandle, textHandle: QuickJSHandle): void {
    const level = context.getString(levelHandle);
    const budget = this.message.limits.maxOutputBytes - this.logBytes;
    // Check the length in the guest first, so that a huge string is never copied out.
    if (stringLength(context, textHandle) > budget) this.stop(this.outputLimitError('console output'));
    const text = context.getString(textHandle);
    this.logBytes += Buffer.byteLength(text);
    if (this.logBytes > this.message.limits.maxOutputBytes) this.stop(this.outputLimitError('console output'));
    post({ type: 'log', runId: this.runId, level: LOG_LEVELS.has(level) ? (level as LogLevel) : 'log', text });
  }

  private timerSet(context: QuickJSContext, msHandle: QuickJSHandle): QuickJSHandle {
    if (this.timers.size >= MAX_TIMERS) throw new RangeError(`more than ${MAX_TIMERS} timers pending`);
    const id = this.nextTimerId++;
    // Clamped to the deadline: a timer can never keep an execution (or this worker) alive past it.
    const ms = Math.min(Math.max(0, context.getNumber(msHandle) || 0), Math.max(0, this.deadline - Date.now()));
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.events.push({ kind: 'timer', id });
        this.wake?.();
      }, ms),
    );
    return context.newNumber(id);
  }

  /** Marks the execution failed; the interrupt handler then stops the guest at its next check. */
  private stop(info: SandboxErrorInfo): never {
    this.fatal ??= info;
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
    return this.memory !== undefined && this.memory.buffer.byteLength >= this.memoryCapBytes * 0.75;
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
