/** What the relay's hot path needs of a cancellation signal; an AbortSignal is one, and so is a LazyAbort. */
export type CancelSignal = Pick<AbortSignal, 'aborted' | 'reason' | 'addEventListener' | 'removeEventListener'>;

type Listener = Parameters<AbortSignal['addEventListener']>[1];
type ListenerOptions = Parameters<AbortSignal['addEventListener']>[2];

/**
 * An AbortController whose AbortSignal is made only when someone asks for it (`signal`) or aborts it. A relayed
 * call is almost never cancelled, and a Node AbortSignal costs more to make and to listen on than the rest of
 * the call's bookkeeping: until then `abort` listeners wait here, and the state reads answer without one.
 * It stands in for the SDK's per-request AbortController too (it has `abort(reason)` and `signal`).
 */
export class LazyAbort implements CancelSignal {
  private controller?: AbortController;
  /** Listeners waiting for the signal, each followed by its options: one array, however many there are. */
  private listeners?: (Listener | ListenerOptions)[];

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = (this.controller = new AbortController());
    const waiting = this.listeners;
    this.listeners = undefined;
    if (waiting) {
      for (let i = 0; i < waiting.length; i += 2) {
        controller.signal.addEventListener('abort', waiting[i] as Listener, waiting[i + 1] as ListenerOptions);
      }
    }
    return controller.signal;
  }

  get aborted(): boolean {
    return this.controller?.signal.aborted ?? false;
  }

  get reason(): unknown {
    return this.controller?.signal.reason;
  }

  abort(reason?: unknown): void {
    // Made now, so that its reason and listeners are exactly an AbortController's.
    const signal = this.signal;
    if (!signal.aborted) this.controller!.abort(reason);
  }

  addEventListener(type: string, listener: Listener, options?: ListenerOptions): void {
    if (this.controller) return this.controller.signal.addEventListener(type, listener, options);
    if (type !== 'abort' || !listener) return;
    (this.listeners ??= []).push(listener, options);
  }

  removeEventListener(type: string, listener: Listener, options?: EventListenerOptions | boolean): void {
    if (this.controller) return this.controller.signal.removeEventListener(type, listener, options);
    const waiting = this.listeners;
    if (type !== 'abort' || !waiting) return;
    // The usual case, the one listener there is: no splice.
    if (waiting.length === 2 && waiting[0] === listener) {
      this.listeners = undefined;
      return;
    }
    for (let i = 0; i < waiting.length; i += 2) {
      if (waiting[i] !== listener) continue;
      waiting.splice(i, 2);
      break;
    }
    if (waiting.length === 0) this.listeners = undefined;
  }
}

/** The AbortSignal behind a CancelSignal, for what needs a real one (AbortSignal.any, fetch, a timer). */
export function toAbortSignal(signal: CancelSignal): AbortSignal;
export function toAbortSignal(signal: CancelSignal | undefined): AbortSignal | undefined;
export function toAbortSignal(signal: CancelSignal | undefined): AbortSignal | undefined {
  return signal instanceof LazyAbort ? signal.signal : (signal as AbortSignal | undefined);
}
