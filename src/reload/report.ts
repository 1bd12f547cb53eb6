import type { GlobalSection } from '../config/diff.js';

/** What a reload changed, by server name, and when the servers it touched have settled. */
export interface ReloadReport {
  added: string[];
  removed: string[];
  /** Changed in a field that needs a new process or connection: the old one drains and stops, a new one starts. */
  restarted: string[];
  /** Changed only in fields applied in place (filters, prefix, timeouts, restart policy). */
  reconfigured: string[];
  globalChanged: GlobalSection[];
  /** Settles once removed and restarted servers have stopped and the new ones have started or failed. */
  settled: Promise<void>;
}

/** True when the reload changed nothing. */
export function isEmptyReport(report: ReloadReport): boolean {
  return (
    report.added.length + report.removed.length + report.restarted.length + report.reconfigured.length === 0 &&
    report.globalChanged.length === 0
  );
}

/**
 * One line for the log.
 *
 * @example describeReload(report) // 'added github; removed fs; restarted memory'
 */
export function describeReload(report: ReloadReport): string {
  const parts: string[] = [];
  const list = (verb: string, names: string[]) => {
    if (names.length > 0) parts.push(`${verb} ${names.join(', ')}`);
  };
  list('added', report.added);
  list('removed', report.removed);
  list('restarted', report.restarted);
  list('reconfigured', report.reconfigured);
  list('changed', report.globalChanged);
  return parts.length > 0 ? parts.join('; ') : 'no changes';
}
