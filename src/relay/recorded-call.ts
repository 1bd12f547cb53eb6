import { isGatewayError } from '../errors.js';
import type { Metrics, ToolCallOutcome } from '../observability/metrics.js';
import type { SessionScope } from './catalog-view.js';

/**
 * Runs one tool call with its metrics and its audit record, and classifies how it ended. Every route to a
 * tool (a direct call, Code Mode, the meta tools) goes through here, so all of them count and audit alike.
 * The call starts first: its request is on its way to the server before the bookkeeping begins (whose clocks
 * then start a few microseconds after the call's).
 */
export function recordedToolCall<T extends Record<string, unknown>>(
  record: { metrics?: Metrics; scope: SessionScope; server: string; tool: string },
  call: () => Promise<T>,
): Promise<T> {
  let running: Promise<T>;
  try {
    running = call();
  } catch (error) {
    running = Promise.reject(error as Error);
  }
  const metered = record.metrics?.startToolCall(record.server, record.tool);
  const audited = record.scope.onToolCall?.(record.server, record.tool);
  // Nothing to record (no metrics, no audit): the call's own promise, with no async step added after it.
  if (!metered && !audited) return running;
  return recorded(running, metered, audited);
}

async function recorded<T extends Record<string, unknown>>(
  running: Promise<T>,
  metered: ((outcome: ToolCallOutcome) => void) | undefined,
  audited: ((outcome: ToolCallOutcome) => void) | undefined,
): Promise<T> {
  let outcome: ToolCallOutcome = 'error';
  try {
    const result = await running;
    if (result.isError !== true) outcome = 'ok';
    return result;
  } catch (error) {
    outcome = outcomeOf(error);
    throw error;
  } finally {
    metered?.(outcome);
    audited?.(outcome);
  }
}

function outcomeOf(error: unknown): ToolCallOutcome {
  if (isGatewayError(error, 'UPSTREAM_TIMEOUT')) return 'timeout';
  if (isGatewayError(error, 'REQUEST_CANCELLED')) return 'cancelled';
  return 'error';
}
