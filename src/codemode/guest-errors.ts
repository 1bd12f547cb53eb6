import type { SandboxErrorInfo } from './protocol.js';
import { userPosition, type WrappedCode } from './wrap.js';

/** What the prelude's `describe` makes of a thrown value (or `context.dump` when even that failed). */
export interface GuestErrorDescription {
  name?: unknown;
  message?: unknown;
  stack?: string;
  server?: string;
  tool?: string;
}

export interface ErrorContext {
  wrapped: Pick<WrappedCode, 'prefixLength'>;
  lineCount: number;
  memoryMb: number;
  /** Whether the WebAssembly memory had grown to (near) its cap when the error happened. */
  nearMemoryCap: boolean;
}

/** Sorts an error the guest threw (or could not catch) into the answer's error types. */
export function classifyGuestError(description: GuestErrorDescription, context: ErrorContext): SandboxErrorInfo {
  const name = typeof description.name === 'string' ? description.name : 'Error';
  const message = typeof description.message === 'string' ? description.message : 'error';
  const position = userPosition(description.stack, context.wrapped, context.lineCount);
  // QuickJS throws `null` when it cannot even allocate its "out of memory" error.
  const outOfMemory = name === 'InternalError' && message === 'out of memory';
  if (outOfMemory || (message === 'Uncaught null' && context.nearMemoryCap)) {
    return { ...memoryLimitError(context.memoryMb), ...position };
  }
  if (name === 'InternalError' && message === 'stack overflow') {
    return { type: 'LimitExceeded', message: 'stack overflow (call depth limit)', ...position };
  }
  return {
    type: 'Error',
    name,
    message,
    ...position,
    ...(typeof description.server === 'string' ? { server: description.server } : {}),
    ...(typeof description.tool === 'string' ? { tool: description.tool } : {}),
  };
}

/** Sorts an exception raised on the worker's side of QuickJS: the host stack or WebAssembly giving up. */
export function classifyWorkerError(error: unknown, context: Pick<ErrorContext, 'memoryMb' | 'nearMemoryCap'>) {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { type: 'LimitExceeded', message: 'stack overflow (call depth limit)' } satisfies SandboxErrorInfo;
  }
  if (context.nearMemoryCap || /out of memory|Cannot enlarge memory/i.test(text)) {
    return memoryLimitError(context.memoryMb);
  }
  return { type: 'Internal', message: `sandbox failure: ${text}` } satisfies SandboxErrorInfo;
}

export function memoryLimitError(memoryMb: number): SandboxErrorInfo {
  return { type: 'MemoryLimit', message: `out of memory (limit ${memoryMb} MB)` };
}

export function timeoutError(timeoutMs: number): SandboxErrorInfo {
  return { type: 'Timeout', message: `execution exceeded ${timeoutMs} ms` };
}

export function outputLimitError(what: string, maxOutputBytes: number): SandboxErrorInfo {
  return {
    type: 'LimitExceeded',
    message: `${what} exceeds the output limit of ${maxOutputBytes} bytes (result plus logs)`,
  };
}
