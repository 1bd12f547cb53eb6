import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  RELEASE_SYNC,
} from 'quickjs-emscripten';

import { GUEST_PRELUDE } from './guest-prelude.js';
import { Wasm, type WasmMemory, type WasmModule } from './wasm.js';

const WASM_PAGE_BYTES = 65_536;
// The module's own 16 MiB (static data and the C stack) come on top of the guest's allowance.
const WASM_BASE_PAGES = 256;
// Measured in a worker thread: 1 MiB is still caught by QuickJS, 2 MiB overflows the thread's stack.
const GUEST_STACK_BYTES = 512 * 1024;

export type Helpers = Record<'fire' | 'describe' | 'serialize' | 'truncate' | 'setState' | 'getState', QuickJSHandle>;

/** What the instance's host functions and interrupt handler act for: the execution using it. */
export interface InstanceUser {
  shouldInterrupt(): boolean;
  hostCall(context: QuickJSContext, op: QuickJSHandle, json: QuickJSHandle): QuickJSHandle;
  hostLog(context: QuickJSContext, level: QuickJSHandle, text: QuickJSHandle): void;
  timerSet(context: QuickJSContext, ms: QuickJSHandle): QuickJSHandle;
  timerClear(context: QuickJSContext, id: QuickJSHandle): void;
}

/**
 * A fresh WebAssembly instance with QuickJS, its linear memory capped, the prelude installed; used for one
 * execution and dropped. QuickJS's own memory limit does not see every allocation (measured: 200 strings of
 * 1 MiB passed a 32 MiB limit), while a failed memory.grow makes malloc return NULL, which QuickJS reports
 * as "out of memory".
 */
export interface Instance {
  memoryMb: number;
  memory: WasmMemory;
  capBytes: number;
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  helpers: Helpers;
  /** The execution using it, set when one starts. */
  user?: InstanceUser;
}

export async function createInstance(
  wasmModule: WasmModule,
  memoryMb: number,
  limits: { maxName: number; maxQuery: number; parallelWidth: number; maxErrorChars: number },
): Promise<Instance> {
  const guestPages = Math.ceil((memoryMb * 1024 * 1024) / WASM_PAGE_BYTES);
  const memory: WasmMemory = new Wasm.Memory({ initial: WASM_BASE_PAGES, maximum: WASM_BASE_PAGES + guestPages });
  const module = await newQuickJSWASMModuleFromVariant(
    newVariant(RELEASE_SYNC, { wasmModule: wasmModule as never, wasmMemory: memory as never }),
  );
  // Instances are made ahead of time while the worker is idle: let a run that arrived meanwhile start between
  // the two costly steps (the module's start-up and the prelude), each about a millisecond.
  await new Promise((resolve) => setImmediate(resolve));
  const holder: Partial<Instance> = {};
  const runtime = module.newRuntime({
    memoryLimitBytes: memoryMb * 1024 * 1024,
    maxStackSizeBytes: GUEST_STACK_BYTES,
    interruptHandler: () => holder.user?.shouldInterrupt() ?? false,
  });
  runtime.setModuleLoader(() => ({ error: new Error('import is not available in the sandbox') }));
  const context = runtime.newContext();
  const active = (): InstanceUser => {
    if (!holder.user) throw new Error('no execution is running');
    return holder.user;
  };
  const factory = context.unwrapResult(context.evalCode(GUEST_PRELUDE, 'prelude.js'));
  const hostCall = context.newFunction('hostCall', (op, json) => active().hostCall(context, op, json));
  const hostLog = context.newFunction('hostLog', (level, text) => active().hostLog(context, level, text));
  const timerSet = context.newFunction('timerSet', (ms) => active().timerSet(context, ms));
  const timerClear = context.newFunction('timerClear', (id) => active().timerClear(context, id));
  const made = context.unwrapResult(
    context.callFunction(
      factory,
      context.undefined,
      hostCall,
      hostLog,
      timerSet,
      timerClear,
      context.newNumber(limits.maxName),
      context.newNumber(limits.maxQuery),
      context.newNumber(limits.parallelWidth),
      context.newNumber(limits.maxErrorChars),
    ),
  );
  const helpers = Object.fromEntries(
    (['fire', 'describe', 'serialize', 'truncate', 'setState', 'getState'] as const).map((name) => [
      name,
      context.getProp(made, name),
    ]),
  ) as Helpers;
  return Object.assign(holder, {
    memoryMb,
    memory,
    capBytes: (WASM_BASE_PAGES + guestPages) * WASM_PAGE_BYTES,
    runtime,
    context,
    helpers,
  });
}
