/**
 * Bounds a sequence of steps as a whole, such as a server's start: each `race(step)` rejects once `ms` have
 * passed since the guard was made, or once `fail()` was called, whichever comes first. A step left behind keeps
 * running; its owner ends it (closing the transport it waits on). The timer never holds the process.
 */
export class StartGuard {
  private readonly failed: Promise<never>;
  private reject!: (error: Error) => void;
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number, onTimeout: () => Error) {
    this.failed = new Promise<never>((_, reject) => {
      this.reject = reject;
    });
    // Nobody may be racing at the moment it fails.
    this.failed.catch(() => {});
    this.timer = setTimeout(() => this.reject(onTimeout()), ms);
    this.timer.unref();
  }

  race<T>(step: Promise<T>): Promise<T> {
    return Promise.race([step, this.failed]);
  }

  fail(error: Error): void {
    this.reject(error);
  }

  /** The steps are over: the timer goes. */
  end(): void {
    clearTimeout(this.timer);
  }
}
