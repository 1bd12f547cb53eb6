/**
 * A signal that aborts with `signal` (when given) or after `ms`, whichever comes first.
 *
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`, for two reasons seen on Node 20: `any` holds its
 * sources weakly, so a timeout that nothing else listens to can be garbage-collected before it fires (the
 * combined signal then never times out); and each `any` leaves an entry on its source for as long as the source
 * lives, which for a connection's signal and a signal per message is a leak. Here the timer holds the signal
 * until it fires, and the listener on `signal` is gone by then: nothing outlives `ms`.
 *
 * @example
 * await fetch(url, { signal: deadlineSignal(10_000, connection.signal) });
 */
export function deadlineSignal(ms: number, signal?: AbortSignal): AbortSignal {
  if (signal?.aborted) return AbortSignal.abort(signal.reason);
  const controller = new AbortController();
  const onAbort = () => {
    clearTimeout(timer);
    controller.abort(signal!.reason);
  };
  const timer = setTimeout(
    () => {
      signal?.removeEventListener('abort', onAbort);
      controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
    },
    Math.max(1, ms),
  );
  timer.unref();
  signal?.addEventListener('abort', onAbort, { once: true });
  return controller.signal;
}
