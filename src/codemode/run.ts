import { setMaxListeners } from 'node:events';

import { errorMessage, isGatewayError } from '../errors.js';
import { HostBindings } from './bindings.js';
import type { CodeModeHost } from './host.js';
import type { LogLevel, SandboxErrorInfo } from './protocol.js';
import { safeJsonParse } from './safe-json.js';
import type { SandboxPool } from './sandbox-pool.js';
import type { CatalogSearch } from './search.js';
import type { SandboxLimits } from './settings.js';

export interface ExecuteRequest {
  code: string;
  namespace?: string;
  /** Lowers the configured wall-time limit for this execution; it can never raise it. */
  timeoutMs?: number;
  signal?: AbortSignal;
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
  | { ok: true; result: unknown; logs: ExecuteLog[]; stats: ExecuteStats }
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
  const bindings = new HostBindings({
    host: env.host,
    search: env.search,
    limits,
    namespace: request.namespace,
    signal: controller.signal,
  });
  const finish = (outcome: { ok: true; result: unknown } | { ok: false; error: SandboxErrorInfo }): ExecuteAnswer => {
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
  const timeoutMs = Math.max(1, Math.min(limits.timeoutMs, request.timeoutMs ?? limits.timeoutMs));
  const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal;
  let logBytes = 0;
  try {
    const outcome = await env.pool.run({
      code: request.code,
      limits: { timeoutMs, memoryMb: limits.memoryMb, maxOutputBytes: limits.maxOutputBytes },
      onCall: (op, json) => bindings.handle(op, json),
      onLog: (level, message) => {
        // The worker enforces the same budget; this only guards the host against a misbehaving worker.
        logBytes += Buffer.byteLength(message);
        if (logBytes <= limits.maxOutputBytes) logs.push({ level, message });
      },
      signal,
    });
    if (!outcome.ok) return finish(outcome);
    return finish({ ok: true, result: safeJsonParse(outcome.resultJson) });
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
