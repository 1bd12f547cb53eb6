import { setMaxListeners } from 'node:events';

import { errorMessage, isGatewayError } from '../errors.js';
import { HostBindings } from './bindings.js';
import { isTypeScriptTag, looksLikeTypeScript, stripFence } from './code-shape.js';
import type { CodeModeHost } from './host.js';
import { LOG_LINE_OVERHEAD_BYTES, type LogLevel, type SandboxErrorInfo, type TruncationCounts } from './protocol.js';
import { isJsonDepthError, safeJsonParse } from './safe-json.js';
import type { SandboxOutcome, SandboxPool } from './sandbox-pool.js';
import type { CatalogSearch } from './search.js';
import type { SessionState, StateSnapshot } from './session-state.js';
import type { SandboxLimits } from './settings.js';
import { stripTypes } from './typescript.js';

const MAX_PROGRESS_CHARS = 1_000;
const STATE_CONFLICT =
  'the changes to api.state were not saved: another execution of this session saved api.state while this one ran; run the change again to apply it to the state as it is now';

export interface ExecuteRequest {
  code: string;
  namespace?: string;
  /** Lowers the configured wall-time limit for this execution; it can never raise it. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Whose execution this is, for the pool's fair share (a session id, a credential). */
  owner?: string;
  /** Called with each console line and inner-call progress while the code runs (the client asked for progress). */
  progress?: (update: ProgressUpdate) => void;
  /** The session's `api.state`; without one, `api.state` starts empty every time and is not kept. */
  state?: SessionState;
}

export interface ProgressUpdate {
  /** Increases with every update of the execution. */
  progress: number;
  message: string;
}

export interface ExecuteLog {
  level: LogLevel;
  message: string;
}

export interface ExecuteStats {
  durationMs: number;
  /** Tool calls and fetches made by the code. */
  toolCalls: number;
}

/** The answer of one execution, as `execute` returns it. */
export type ExecuteAnswer =
  | {
      ok: true;
      result: unknown;
      logs: ExecuteLog[];
      stats: ExecuteStats;
      truncated?: string;
      /** Set when the code changed `api.state` but another execution of the session saved it first. */
      stateNotSaved?: string;
    }
  | { ok: false; error: SandboxErrorInfo; logs: ExecuteLog[]; stats: ExecuteStats };

export interface ExecutionEnvironment {
  host: CodeModeHost;
  pool: SandboxPool;
  search: CatalogSearch;
  limits: SandboxLimits;
}

/**
 * Runs one piece of model-written code: checks its size, runs it in the pool with the host bindings, and
 * shapes the answer. The result crosses from the guest as JSON text and is parsed with `safeJsonParse`,
 * so a returned `__proto__` key can never reach a host prototype.
 *
 * @example
 * const answer = await runExecution(env, { code: 'return await api.call_tool("everything", "echo", { message: "hi" })' });
 */
export async function runExecution(env: ExecutionEnvironment, request: ExecuteRequest): Promise<ExecuteAnswer> {
  const started = performance.now();
  const logs: ExecuteLog[] = [];
  const { limits } = env;
  const controller = new AbortController();
  // Every tool call of the execution listens on this signal, so the default warning at 10 listeners is noise.
  setMaxListeners(limits.maxToolCalls + 16, controller.signal);
  let updates = 0;
  const report = request.progress
    ? (message: string): void => request.progress?.({ progress: ++updates, message })
    : undefined;
  const bindings = new HostBindings({
    host: env.host,
    search: env.search,
    limits,
    namespace: request.namespace,
    signal: controller.signal,
    ...(report ? { onProgress: report } : {}),
  });
  const finish = (
    outcome:
      | { ok: true; result: unknown; truncated?: string; stateNotSaved?: string }
      | { ok: false; error: SandboxErrorInfo },
  ): ExecuteAnswer => {
    const stats = { durationMs: Math.round((performance.now() - started) * 10) / 10, toolCalls: bindings.calls };
    return outcome.ok ? { ...outcome, logs, stats } : { ...outcome, logs, stats };
  };

  const codeBytes = Buffer.byteLength(request.code);
  if (codeBytes > limits.maxCodeBytes) {
    return finish({
      ok: false,
      error: { type: 'LimitExceeded', message: `the code is ${codeBytes} bytes; the limit is ${limits.maxCodeBytes}` },
    });
  }
  const shaped = stripFence(request.code);
  const timeoutMs = Math.max(1, Math.min(limits.timeoutMs, request.timeoutMs ?? limits.timeoutMs));
  // Both sources live as long as this one execution (no timeout among them): what the lint rule guards against
  // cannot happen here.
  // eslint-disable-next-line no-restricted-syntax
  const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal;
  let logBytes = 0;
  const { state } = request;
  let startedFrom: StateSnapshot | undefined;
  const run = (code: string) =>
    env.pool.run({
      code,
      limits: {
        timeoutMs,
        memoryMb: limits.memoryMb,
        maxOutputBytes: limits.maxOutputBytes,
        maxToolCalls: limits.maxToolCalls,
      },
      ...(state ? { state: { maxBytes: state.maxBytes, read: () => (startedFrom = state.snapshot()).json } } : {}),
      onCall: (op, json) => bindings.handle(op, json),
      onLog: (level, message) => {
        // The worker enforces the same budget; this only guards the host against a misbehaving worker.
        logBytes += Buffer.byteLength(message) + LOG_LINE_OVERHEAD_BYTES;
        if (logBytes > limits.maxOutputBytes) return;
        logs.push({ level, message });
        // A progress message is a status line: a long log line is shortened there (the answer keeps it whole).
        report?.(
          `${level}: ${message.length > MAX_PROGRESS_CHARS ? `${message.slice(0, MAX_PROGRESS_CHARS)}…` : message}`,
        );
      },
      signal,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
    });
  try {
    let outcome;
    if (isTypeScriptTag(shaped.language)) {
      outcome = await runTypeScript(shaped.code, run);
    } else {
      outcome = await run(shaped.code);
      // Only code that is not JavaScript is looked at again: valid JavaScript never goes through a transpiler.
      if (!outcome.ok && outcome.error.type === 'SyntaxError' && looksLikeTypeScript(shaped.code)) {
        outcome = await runTypeScript(shaped.code, run, outcome.error.message);
      }
    }
    if (!outcome.ok) {
      const error = outcome.error.type === 'Timeout' ? withPendingCalls(outcome.error, bindings) : outcome.error;
      return finish({ ok: false, error: shiftLines(error, shaped.linesBefore) });
    }
    let result: unknown;
    try {
      result = safeJsonParse(outcome.resultJson);
    } catch (error) {
      if (!isJsonDepthError(error)) throw error;
      return finish({ ok: false, error: { type: 'LimitExceeded', message: `the result is ${error.message}` } });
    }
    const saved =
      outcome.stateJson !== undefined && startedFrom ? state?.save(outcome.stateJson, startedFrom) : undefined;
    return finish({
      ok: true,
      result,
      ...(outcome.truncated ? { truncated: describeCut(outcome.truncated, limits) } : {}),
      ...(saved === 'conflict' ? { stateNotSaved: STATE_CONFLICT } : {}),
    });
  } catch (error) {
    const type = isGatewayError(error, 'SANDBOX_BUSY')
      ? 'Busy'
      : isGatewayError(error, 'SHUTTING_DOWN')
        ? 'Cancelled'
        : 'Internal';
    return finish({ ok: false, error: { type, message: errorMessage(error) } });
  } finally {
    // Anything the code started and did not wait for (tool calls, fetches) is cancelled with it.
    controller.abort();
  }
}

async function runTypeScript(
  code: string,
  run: (code: string) => Promise<SandboxOutcome>,
  javascriptError?: string,
): Promise<SandboxOutcome> {
  const stripped = await stripTypes(code);
  if ('error' in stripped) {
    const asJs = javascriptError ? ` (as JavaScript: ${javascriptError})` : '';
    return {
      ok: false,
      error: { type: 'SyntaxError', message: `TypeScript could not be compiled: ${stripped.error}${asJs}` },
    };
  }
  return run(stripped.code);
}

/** A timeout names the tool calls it was still waiting for: usually the reason it ran out of time. */
function withPendingCalls(error: SandboxErrorInfo, bindings: HostBindings): SandboxErrorInfo {
  const pending = bindings.pendingCalls();
  if (pending.length === 0) return error;
  const shown = pending.slice(0, 5).map((call) => `${call.label} (for ${(call.ms / 1000).toFixed(1)} s)`);
  const more = pending.length > 5 ? ` and ${pending.length - 5} more` : '';
  return { ...error, message: `${error.message}; still waiting for ${shown.join(', ')}${more}` };
}

/** Error lines are reported against the code as sent, fence line included. */
function shiftLines(error: SandboxErrorInfo, linesBefore: number): SandboxErrorInfo {
  return error.line === undefined || linesBefore === 0 ? error : { ...error, line: error.line + linesBefore };
}

function describeCut(counts: TruncationCounts, limits: SandboxLimits): string {
  const parts: string[] = [];
  if (counts.items > 0) parts.push(`${counts.items} array items`);
  if (counts.keys > 0) parts.push(`${counts.keys} object keys`);
  if (counts.characters > 0) parts.push(`${counts.characters} characters of strings`);
  return `the result was cut to fit the output limit of ${limits.maxOutputBytes} bytes: ${parts.join(', ') || 'some of it'} left out (marked with "…" where cut); return less, or page through it`;
}
