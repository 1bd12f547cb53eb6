import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import type { ToolCallOutcome } from './metrics.js';
import { ToolCallMetrics } from './tool-call-metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const NAMES = { calls: 'calls_total', durations: 'call_seconds' };
const HELP = { calls: 'Calls.', durations: 'Durations.' };
const CALLS: [string, string, ToolCallOutcome, number][] = [
  ['s1', 'echo', 'ok', 0.0003],
  ['s2', 'add', 'error', 0.7],
  ['s1', 'echo', 'timeout', 61],
  ['s1', 'other', 'ok', 0.001],
  ['s1', 'echo', 'ok', 0.01],
  ['s2', 'add', 'cancelled', 0.05],
];

/** The same series kept by a prom-client Counter and Histogram, as the gateway once kept them. */
function reference() {
  const registry = new Registry();
  const calls = new Counter({
    name: NAMES.calls,
    help: HELP.calls,
    labelNames: ['server', 'tool', 'outcome'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: NAMES.durations,
    help: HELP.durations,
    labelNames: ['server', 'tool'],
    buckets: BOUNDS,
    registers: [registry],
  });
  return {
    registry,
    record: (server: string, tool: string, outcome: ToolCallOutcome, seconds: number) => {
      calls.labels(server, tool, outcome).inc();
      durations.labels(server, tool).observe(seconds);
    },
    removeServer: (server: string, tools: string[]) => {
      for (const tool of tools) {
        durations.remove({ server, tool });
        for (const outcome of ['ok', 'error', 'timeout', 'cancelled']) calls.remove({ server, tool, outcome });
      }
    },
  };
}

describe('ToolCallMetrics', () => {
  it('renders and lists exactly what a prom-client Counter and Histogram would, also after a removal', async () => {
    const expected = reference();
    const registry = new Registry();
    const metrics = new ToolCallMetrics(registry, NAMES, HELP, BOUNDS);
    for (const [server, tool, outcome, seconds] of CALLS) {
      expected.record(server, tool, outcome, seconds);
      metrics.record(metrics.seriesOf(server, tool), outcome, seconds);
    }
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
    expect(await registry.getMetricsAsJSON()).toEqual(await expected.registry.getMetricsAsJSON());

    const kept = metrics.seriesOf('s2', 'add');
    expected.removeServer('s2', ['add']);
    metrics.removeServer('s2');
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
    // A call that was running when its server went starts the series again.
    expected.record('s2', 'add', 'ok', 0.2);
    metrics.record(kept, 'ok', 0.2);
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
  });

  it('is emptied by resetMetrics() as prom-client metrics are', async () => {
    const expected = reference();
    const registry = new Registry();
    const metrics = new ToolCallMetrics(registry, NAMES, HELP, BOUNDS);
    expected.record('s1', 'echo', 'ok', 0.5);
    metrics.record(metrics.seriesOf('s1', 'echo'), 'ok', 0.5);
    expected.registry.resetMetrics();
    registry.resetMetrics();
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
    expected.record('s1', 'echo', 'error', 2);
    metrics.record(metrics.seriesOf('s1', 'echo'), 'error', 2);
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
  });
});
