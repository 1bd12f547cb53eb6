import { describeReload, isEmptyReport, type ReloadReport } from '../reload/report.js';

/** One reload as the console lists it. */
export interface ReloadEntry {
  at: number;
  outcome: 'applied' | 'rejected';
  /** What it changed (`added github; restarted memory`), or why it was rejected (the validation errors). */
  detail: string;
  reason?: string;
}

const DEFAULT_ENTRIES = 50;

/**
 * The last config reloads, newest first, with the error of each rejected one (the running config stayed in
 * force). Fed by the reloader's `onReload` and `onReloadFailed`.
 *
 * @example
 * startConfigReloader(gateway, { ..., onReload: (r) => history.applied(r), onReloadFailed: (why, m) => history.rejected(why, m) });
 */
export class ReloadHistory {
  private readonly list: ReloadEntry[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly capacity = DEFAULT_ENTRIES) {}

  /** A reload that changed nothing (the start-up check, a SIGHUP) is not listed. */
  applied(report: ReloadReport): void {
    if (!isEmptyReport(report)) this.add({ at: Date.now(), outcome: 'applied', detail: describeReload(report) });
  }

  rejected(reason: string, message: string): void {
    this.add({ at: Date.now(), outcome: 'rejected', detail: message, reason });
  }

  entries(): ReloadEntry[] {
    return [...this.list];
  }

  /** Calls `listener` after each reload; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private add(entry: ReloadEntry): void {
    this.list.unshift(entry);
    if (this.list.length > this.capacity) this.list.length = this.capacity;
    for (const listener of this.listeners) listener();
  }
}
