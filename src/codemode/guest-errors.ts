import type { SandboxErrorInfo } from './protocol.js';
import { MAX_NAME_CHARS } from './search-limits.js';
import { userPosition, type WrappedCode } from './wrap.js';

/**
 * Longest error message (and guest stack) an answer carries. Errors are not under the output limit, so a
 * thrown 20 MB string would otherwise reach the client whole; the guest cuts them, and the host again.
 */
export const MAX_ERROR_MESSAGE_CHARS = 8_000;

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
  const name = typeof description.name === 'string' ? clip(description.name, MAX_NAME_CHARS) : 'Error';
  const message =
    typeof description.message === 'string' ? clip(description.message, MAX_ERROR_MESSAGE_CHARS) : 'error';
  const stack = typeof description.stack === 'string' ? description.stack.slice(0, MAX_ERROR_MESSAGE_CHARS) : undefined;
  const position = userPosition(stack, context.wrapped, context.lineCount);
  // QuickJS throws `null` when it cannot even allocate its "out of memory" error. The worker's own, for a reply
  // that did not fit, says more after a colon.
  const outOfMemory = name === 'InternalError' && /^out of memory(:|$)/.test(message);
  if (outOfMemory || (message === 'Uncaught null' && context.nearMemoryCap)) {
    const detailed = message.startsWith('out of memory:') ? { message } : {};
    return { ...memoryLimitError(context.memoryMb), ...detailed, ...position };
  }
  if (name === 'InternalError' && message === 'stack overflow') {
    return { type: 'LimitExceeded', message: 'stack overflow (call depth limit)', ...position };
  }
  return {
    type: 'Error',
    name,
    message,
    ...position,
    ...(typeof description.server === 'string' ? { server: clip(description.server, MAX_NAME_CHARS) } : {}),
    ...(typeof description.tool === 'string' ? { tool: clip(description.tool, MAX_NAME_CHARS) } : {}),
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

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} characters cut]` : text;
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
