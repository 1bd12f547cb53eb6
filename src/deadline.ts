/**
 * A signal that aborts with `signal` (when given) or after `ms`, whichever comes first.
 *
 * Node 20's AbortSignal.any holds its sources weakly, and a timeout signal that nothing listens to can be
 * garbage-collected before it fires: `AbortSignal.any([signal, AbortSignal.timeout(ms)])` then never times out
 * once a collection has run. A listener keeps the timeout alive until it fires (at most `ms`).
 *
 * @example
 * await fetch(url, { signal: deadlineSignal(10_000, connection.signal) });
 */
export function deadlineSignal(ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(1, ms));
  if (!signal) return timeout;
  timeout.addEventListener('abort', keepAlive, { once: true });
  return AbortSignal.any([signal, timeout]);
}

function keepAlive(): void {}
