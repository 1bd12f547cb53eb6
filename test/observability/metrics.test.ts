import { execFileSync, spawnSync } from 'node:child_process';

import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';

import { createMetrics, TOOL_CALL_BUCKETS_SECONDS } from '../../src/observability/metrics.js';

async function parse(metrics: ReturnType<typeof createMetrics>): Promise<Map<string, PrometheusFamily>> {
  const families = parsePrometheusTextFormat(await metrics.render());
  return new Map(families.map((family) => [family.name, family]));
}

/**
 * Histogram series straight from the text: parse-prometheus-text-format folds labelled histograms into one
 * unlabelled sample, so their `_bucket`/`_sum`/`_count` lines are read here.
 */
function histogramSeries(
  text: string,
  name: string,
  labels: string,
): { buckets: Map<string, number>; sum: number; count: number } {
  const buckets = new Map<string, number>();
  let sum = Number.NaN;
  let count = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.includes(labels)) continue;
    const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)",${labels}\\} (\\S+)$`).exec(line);
    if (bucket) buckets.set(bucket[1]!, Number(bucket[2]));
    if (line.startsWith(`${name}_sum{${labels}} `)) sum = Number(line.split(' ')[1]);
    if (line.startsWith(`${name}_count{${labels}} `)) count = Number(line.split(' ')[1]);
  }
  return { buckets, sum, count };
}

function promtool(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('promtool is not installed: run scripts/install-ci-deps.sh (apt-get install -y prometheus)');
  }
}

function value(family: PrometheusFamily | undefined, labels: Record<string, string>): number | undefined {
  const sample = family?.metrics.find((metric) => Object.entries(labels).every(([k, v]) => metric.labels?.[k] === v));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

describe('createMetrics', () => {
  it('exposes every family with Prometheus names, types and labels', async () => {
    const metrics = createMetrics({ version: '1.2.3' });
    metrics.setServerState('playwright', 'ready');
    metrics.setServerTools('playwright', 21);
    metrics.toolCall('playwright', 'browser_navigate', 'ok', 0.42);
    metrics.sessionOpened('streamable-http');
    metrics.configReloaded('ok');
    metrics.sandboxExecuted('timeout');

    const families = await parse(metrics);
    const expected: Record<string, { type: string; labels: string[] }> = {
      mcproxy_build_info: { type: 'GAUGE', labels: ['version'] },
      mcproxy_server_up: { type: 'GAUGE', labels: ['server'] },
      mcproxy_server_state: { type: 'GAUGE', labels: ['server', 'state'] },
      mcproxy_server_restarts_total: { type: 'COUNTER', labels: ['server'] },
      mcproxy_server_tools: { type: 'GAUGE', labels: ['server'] },
      mcproxy_tool_calls_total: { type: 'COUNTER', labels: ['outcome', 'server', 'tool'] },
      mcproxy_tool_call_duration_seconds: { type: 'HISTOGRAM', labels: ['server', 'tool'] },
      mcproxy_sessions: { type: 'GAUGE', labels: ['transport'] },
      mcproxy_config_reloads_total: { type: 'COUNTER', labels: ['outcome'] },
      mcproxy_sandbox_executions_total: { type: 'COUNTER', labels: ['outcome'] },
    };
    for (const [name, { type, labels }] of Object.entries(expected)) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(family!.type, name).toBe(type);
      expect(family!.help.length, name).toBeGreaterThan(10);
      if (type === 'HISTOGRAM') continue; // Its labels are checked from the text below.
      for (const sample of family!.metrics) expect(Object.keys(sample.labels ?? {}).sort(), name).toEqual(labels);
    }
    for (const name of families.keys()) expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    expect(families.has('process_cpu_seconds_total')).toBe(true);
    expect(families.has('nodejs_heap_size_used_bytes')).toBe(true);
    expect(value(families.get('mcproxy_build_info'), { version: '1.2.3' })).toBe(1);
    const text = await metrics.render();
    const histogram = histogramSeries(
      text,
      'mcproxy_tool_call_duration_seconds',
      'server="playwright",tool="browser_navigate"',
    );
    expect(histogram.count).toBe(1);
  });

  it('counts a tool call under its server and tool, with its latency in the histogram', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.toolCall('wikipedia', 'search', 'ok', 0.0003);
    metrics.toolCall('wikipedia', 'search', 'ok', 1.7);
    metrics.toolCall('wikipedia', 'search', 'timeout', 60);
    const done = metrics.startToolCall('memory', 'read_graph');
    done('cancelled');

    const families = await parse(metrics);
    const calls = families.get('mcproxy_tool_calls_total');
    expect(value(calls, { server: 'wikipedia', tool: 'search', outcome: 'ok' })).toBe(2);
    expect(value(calls, { server: 'wikipedia', tool: 'search', outcome: 'timeout' })).toBe(1);
    expect(value(calls, { server: 'memory', tool: 'read_graph', outcome: 'cancelled' })).toBe(1);

    const text = await metrics.render();
    const search = histogramSeries(text, 'mcproxy_tool_call_duration_seconds', 'server="wikipedia",tool="search"');
    expect(search.count).toBe(3);
    expect(search.sum).toBeCloseTo(61.7003, 4);
    expect([...search.buckets.keys()]).toEqual([...TOOL_CALL_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(search.buckets.get('0.0005')).toBe(1);
    expect(search.buckets.get('2.5')).toBe(2);
    expect(search.buckets.get('60')).toBe(3);
    expect(histogramSeries(text, 'mcproxy_tool_call_duration_seconds', 'server="memory",tool="read_graph"').count).toBe(
      1,
    );
  });

  it("passes Prometheus's own parser and linter (promtool check metrics)", async () => {
    const metrics = createMetrics({ version: '0.1.0' });
    metrics.setServerState('playwright', 'ready');
    metrics.serverRestarted('playwright');
    metrics.setServerTools('playwright', 21);
    metrics.toolCall('playwright', 'browser_navigate', 'error', 0.2);
    metrics.sessionOpened('sse');
    metrics.configReloaded('ok');
    metrics.sandboxExecuted('ok');
    const result = spawnSync(promtool(), ['check', 'metrics'], { input: await metrics.render(), encoding: 'utf8' });
    const problems = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    expect(problems.filter((line) => !/^nodejs_active_\w+_total non-counter/.test(line))).toEqual([]);
  });

  it('keeps server state one-hot, counts restarts and forgets removed servers', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.setServerState('memory', 'starting');
    metrics.setServerState('memory', 'ready');
    metrics.setServerState('memory', 'restarting');
    metrics.serverRestarted('memory');
    metrics.setServerState('memory', 'ready');
    metrics.setServerState('broken', 'failed');
    metrics.toolCall('broken', 'x', 'error', 0.01);

    let families = await parse(metrics);
    const state = families.get('mcproxy_server_state');
    expect(state?.metrics.filter((m) => m.labels?.server === 'memory' && m.value === '1')).toEqual([
      { labels: { server: 'memory', state: 'ready' }, value: '1' },
    ]);
    expect(state?.metrics.filter((m) => m.labels?.server === 'memory')).toHaveLength(7);
    expect(value(families.get('mcproxy_server_up'), { server: 'memory' })).toBe(1);
    expect(value(families.get('mcproxy_server_up'), { server: 'broken' })).toBe(0);
    expect(value(families.get('mcproxy_server_restarts_total'), { server: 'memory' })).toBe(1);
    expect(value(families.get('mcproxy_server_restarts_total'), { server: 'broken' })).toBe(0);

    metrics.removeServer('broken');
    families = await parse(metrics);
    const text = await metrics.render();
    expect(text).not.toContain('server="broken"');
    expect(value(families.get('mcproxy_server_up'), { server: 'memory' })).toBe(1);
  });

  it('tracks sessions by transport and reloads by outcome; registries are independent', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.sessionOpened('sse');
    a.sessionOpened('sse');
    a.sessionClosed('sse');
    a.setSessions('stdio', 1);
    a.configReloaded('error');
    const families = await parse(a);
    expect(value(families.get('mcproxy_sessions'), { transport: 'sse' })).toBe(1);
    expect(value(families.get('mcproxy_sessions'), { transport: 'stdio' })).toBe(1);
    expect(value(families.get('mcproxy_config_reloads_total'), { outcome: 'error' })).toBe(1);
    expect(value(families.get('mcproxy_config_reloads_total'), { outcome: 'ok' })).toBe(0);
    expect(await b.render()).not.toContain('transport="sse"');
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
