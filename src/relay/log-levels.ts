import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

/** RFC 5424 severities as MCP names them, least severe first. */
export const LOG_LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/** What a session that never called `logging/setLevel` receives: info and above. */
export const DEFAULT_SESSION_LOG_LEVEL: LoggingLevel = 'info';

/** Whether a message of `level` is at or above `threshold`. */
export function passesLevel(level: LoggingLevel, threshold: LoggingLevel): boolean {
  const index = LOG_LEVELS.indexOf(level);
  // An unknown level from a server is shown rather than lost.
  return index === -1 || index >= LOG_LEVELS.indexOf(threshold);
}

/**
 * The level to ask of an upstream instance shared by some sessions: the most verbose any of them wants, so
 * that each gets what it asked for (the gateway filters per session). Undefined while none of them has set a
 * level: the server then keeps its own default, as it would without the gateway.
 */
export function upstreamLevel(sessions: readonly { logLevel?: LoggingLevel }[]): LoggingLevel | undefined {
  if (!sessions.some((session) => session.logLevel !== undefined)) return undefined;
  let best = LOG_LEVELS.length - 1;
  for (const session of sessions) {
    best = Math.min(best, LOG_LEVELS.indexOf(session.logLevel ?? DEFAULT_SESSION_LOG_LEVEL));
  }
  return LOG_LEVELS[best];
}
