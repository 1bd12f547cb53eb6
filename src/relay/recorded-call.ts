import { isGatewayError } from '../errors.js';
import type { Metrics, ToolCallOutcome } from '../observability/metrics.js';
import type { SessionScope } from './catalog-view.js';

/**
 * Runs one tool call with its metrics and its audit record, and classifies how it ended. Every route to a
 * tool (a direct call, Code Mode, the meta tools) goes through here, so all of them count and audit alike.
 */
export async function recordedToolCall<T extends Record<string, unknown>>(
  record: { metrics?: Metrics; scope: SessionScope; server: string; tool: string },
  call: () => Promise<T>,
): Promise<T> {
  const metered = record.metrics?.startToolCall(record.server, record.tool);
  const audited = record.scope.onToolCall?.(record.server, record.tool);
  const done = (outcome: ToolCallOutcome): void => {
    metered?.(outcome);
    audited?.(outcome);
  };
  try {
    const result = await call();
    done(result.isError === true ? 'error' : 'ok');
    return result;
  } catch (error) {
    done(outcomeOf(error));
    throw error;
  }
}

function outcomeOf(error: unknown): ToolCallOutcome {
  if (isGatewayError(error, 'UPSTREAM_TIMEOUT')) return 'timeout';
  if (isGatewayError(error, 'REQUEST_CANCELLED')) return 'cancelled';
  return 'error';
}
