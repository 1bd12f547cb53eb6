/** Every wait is multiplied by this on CI, where machines are slower and noisier. */
export const CI_TIMEOUT_FACTOR = process.env.CI ? 3 : 1;
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
export const DEFAULT_WAIT_INTERVAL_MS = 20;

export interface WaitForOptions {
  /** Upper bound before failing; multiplied by CI_TIMEOUT_FACTOR. Default 10 s. */
  timeoutMs?: number;
  intervalMs?: number;
  /** What was awaited, for the error; a function is called only on timeout (to show current state). */
  message?: string | (() => string);
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the deadline passes.
 * A throwing predicate counts as "not yet"; the last error becomes the timeout error's `cause`.
 * The error is created before polling starts, so its stack points at the caller, not at a timer.
 * @example
 *   const line = await waitFor(() => gateway.stdout.find((l) => l.includes('ready')), { message: 'ready line' });
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, intervalMs = DEFAULT_WAIT_INTERVAL_MS, message }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutError = new Error('waitFor');
  const budgetMs = timeoutMs * CI_TIMEOUT_FACTOR;
  const deadline = Date.now() + budgetMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remainingMs)));
  }
  const what = typeof message === 'function' ? message() : (message ?? 'condition');
  timeoutError.message = `Timed out after ${budgetMs} ms waiting for ${what}`;
  if (lastError !== undefined) timeoutError.cause = lastError;
  throw timeoutError;
}
