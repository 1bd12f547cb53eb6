import { errorMessage, GatewayError, isGatewayError } from '../errors.js';
import { formatMs } from './json-rpc-peer.js';

export function startTimeoutError(server: string, startTimeoutMs: number): GatewayError {
  return new GatewayError(
    'UPSTREAM_START_TIMEOUT',
    `server "${server}" did not start within ${formatMs(startTimeoutMs)}`,
  );
}

/**
 * Why a server failed to start, in words an operator can act on: a timeout names the configured limit, an
 * exit names the exit code or signal and quotes what the server last said on stderr.
 */
export function describeStartFailure(
  server: string,
  error: unknown,
  details: {
    startTimeoutMs: number;
    exit?: { code: number | null; signal: NodeJS.Signals | null };
    lastStderr?: string;
  },
): GatewayError {
  if (isGatewayError(error, 'UPSTREAM_TIMEOUT')) return startTimeoutError(server, details.startTimeoutMs);
  const { exit, lastStderr } = details;
  if (exit) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const said = lastStderr ? ` (its last words: ${lastStderr.slice(0, 300)})` : '';
    return new GatewayError('UPSTREAM_SPAWN_FAILED', `server "${server}" ${how} during start-up${said}`);
  }
  if (isGatewayError(error)) return error;
  return new GatewayError('UPSTREAM_SPAWN_FAILED', `server "${server}" failed to start: ${errorMessage(error)}`, {
    cause: error,
  });
}
