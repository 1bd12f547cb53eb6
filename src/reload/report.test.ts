import { describe, expect, it } from 'vitest';

import { describeReload, isEmptyReport, type ReloadReport } from './report.js';

const report = (changes: Partial<ReloadReport>): ReloadReport => ({
  added: [],
  removed: [],
  restarted: [],
  reconfigured: [],
  globalChanged: [],
  settled: Promise.resolve(),
  ...changes,
});

describe('describeReload', () => {
  it('lists what changed, in a fixed order', () => {
    const changes = report({ restarted: ['c'], added: ['a', 'd'], removed: ['b'], globalChanged: ['mode'] });
    expect(describeReload(changes)).toBe('added a, d; removed b; restarted c; changed mode');
    expect(isEmptyReport(changes)).toBe(false);
  });

  it('says when nothing changed', () => {
    expect(describeReload(report({}))).toBe('no changes');
    expect(isEmptyReport(report({}))).toBe(true);
  });
});
