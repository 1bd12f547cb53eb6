import type { Registry } from 'prom-client';

import type { ToolCallOutcome } from './metrics.js';

const OUTCOMES: readonly ToolCallOutcome[] = ['ok', 'error', 'timeout', 'cancelled'];

/** The counts of one tool, kept as plain numbers: a call adds to them and nothing else. */
interface ToolSeries {
  readonly server: string;
  readonly tool: string;
  /** Calls by outcome, in OUTCOMES order; `undefined` until the tool first ended that way (no series yet). */
  readonly outcomes: (number | undefined)[];
  /** Durations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly buckets: number[];
  sum: number;
  count: number;
  /** Set once its server was removed: a call still running then starts a fresh series, as prom-client would. */
  removed?: true;
}

/** One series line as prom-client's Registry renders it (what a Counter's or Histogram's `get()` gives). */
interface SeriesValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  sharedLabels?: Record<string, string>;
  exemplar?: null;
}

/**
 * `mcproxy_tool_calls_total` and `mcproxy_tool_call_duration_seconds`, the two series a relayed call adds to. A
 * prom-client Counter and Histogram hash their label object and validate it on every `inc`/`observe` (even
 * through a `labels()` child), which costs more than the rest of the call's bookkeeping; here a call adds to
 * the numbers of its tool, found once, and the Prometheus values are made when scraped, in the layout and
 * order prom-client itself gives them (so the text is the same).
 */
export class ToolCallMetrics {
  /** By server, then tool: found with the caller's own strings, no key made per call. */
  private readonly series = new Map<string, Map<string, ToolSeries>>();
  /** The counter's series in the order prom-client would hold them: by first (server, tool, outcome). */
  private readonly counted: [ToolSeries, number][] = [];
  /** The histogram's series in prom-client's order: by first observation. */
  private readonly observed: ToolSeries[] = [];

  constructor(
    registry: Registry,
    private readonly names: { calls: string; durations: string },
    help: { calls: string; durations: string },
    private readonly bounds: readonly number[],
  ) {
    const calls = this.metric(
      names.calls,
      help.calls,
      'counter',
      () => this.callValues(),
      () => this.resetCalls(),
    );
    const durations = this.metric(
      names.durations,
      help.durations,
      'histogram',
      () => this.durationValues(),
      () => this.resetDurations(),
    );
    registry.registerMetric(calls as never);
    registry.registerMetric(durations as never);
  }

  /** The numbers of one tool, made on its first call; a caller may keep it for the tool's later calls. */
  seriesOf(server: string, tool: string): ToolSeries {
    let ofServer = this.series.get(server);
    if (!ofServer) this.series.set(server, (ofServer = new Map()));
    let series = ofServer.get(tool);
    if (!series) {
      series = {
        server,
        tool,
        outcomes: OUTCOMES.map(() => undefined),
        buckets: this.bounds.map(() => 0),
        sum: 0,
        count: 0,
      };
      series.buckets.push(0);
      ofServer.set(tool, series);
    }
    return series;
  }

  record(kept: ToolSeries, outcome: ToolCallOutcome, durationSeconds: number): void {
    const series = kept.removed ? this.seriesOf(kept.server, kept.tool) : kept;
    const at = OUTCOMES.indexOf(outcome);
    const before = series.outcomes[at];
    if (before === undefined) this.counted.push([series, at]);
    series.outcomes[at] = (before ?? 0) + 1;
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && durationSeconds > bounds[bucket]!) bucket++;
    series.buckets[bucket]!++;
    series.sum += durationSeconds;
    if (series.count++ === 0) this.observed.push(series);
  }

  /** Drops every series of a server (removed from the config). */
  removeServer(server: string): void {
    for (const series of this.series.get(server)?.values() ?? []) series.removed = true;
    this.series.delete(server);
    const kept = (series: ToolSeries) => series.server !== server;
    this.counted.splice(0, this.counted.length, ...this.counted.filter(([series]) => kept(series)));
    this.observed.splice(0, this.observed.length, ...this.observed.filter(kept));
  }

  /** What `registry.resetMetrics()` does to a prom-client Counter: every series gone. */
  private resetCalls(): void {
    for (const [series, at] of this.counted) series.outcomes[at] = undefined;
    this.counted.length = 0;
  }

  /** What `registry.resetMetrics()` does to a prom-client Histogram: every series gone. */
  private resetDurations(): void {
    for (const series of this.observed) {
      series.buckets.fill(0);
      series.sum = 0;
      series.count = 0;
    }
    this.observed.length = 0;
  }

  private callValues(): SeriesValue[] {
    return this.counted.map(([series, at]) => ({
      value: series.outcomes[at]!,
      labels: { server: series.server, tool: series.tool, outcome: OUTCOMES[at]! },
    }));
  }

  private durationValues(): SeriesValue[] {
    const values: SeriesValue[] = [];
    const name = this.names.durations;
    for (const series of this.observed) {
      const shared = { server: series.server, tool: series.tool };
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.buckets[i]!;
        values.push({
          labels: { le: bound },
          sharedLabels: shared,
          value: cumulative,
          metricName: `${name}_bucket`,
          exemplar: null,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: shared,
          value: series.count,
          metricName: `${name}_bucket`,
          exemplar: null,
        },
        { labels: {}, sharedLabels: shared, value: series.sum, metricName: `${name}_sum` },
        { labels: {}, sharedLabels: shared, value: series.count, metricName: `${name}_count` },
      );
    }
    return values;
  }

  /**
   * A metric as the Registry reads one: `getForPromString` for the text, `get` (labels merged) for JSON, each
   * with its fields in the order prom-client's Counter and Histogram give them.
   */
  private metric(
    name: string,
    help: string,
    type: 'counter' | 'histogram',
    values: () => SeriesValue[],
    reset: () => void,
  ) {
    const shaped = (list: SeriesValue[]) =>
      type === 'counter'
        ? { help, name, type, values: list, aggregator: 'sum' as const }
        : { name, help, type, values: list, aggregator: 'sum' as const };
    return {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      async getForPromString() {
        return shaped(values());
      },
      async get() {
        return shaped(
          values().map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })),
        );
      },
      reset,
    };
  }
}
