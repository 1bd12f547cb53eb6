/**
 * What a transport's `send` returns for a message it wrote at once (nothing waits for room): one settled promise
 * for all of them, so that a sender who only guards against a failed send can tell there is nothing to guard,
 * and skips the reaction (and the microtask) a `.catch` on it would cost.
 */
export const WRITTEN: Promise<void> = Promise.resolve();
