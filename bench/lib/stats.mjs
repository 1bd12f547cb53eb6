// Small statistics helpers. Every figure in BENCHMARKS.md goes through these.

/** The q-quantile (0..1) of an array of numbers, linear interpolation between closest ranks. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** Median and spread of repeated measurements of one figure. */
export function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  return {
    n: v.length,
    median: median(v),
    p10: quantile(v, 0.1),
    p90: quantile(v, 0.9),
    min: v.length ? Math.min(...v) : Number.NaN,
    max: v.length ? Math.max(...v) : Number.NaN,
  };
}

/** p50/p90/p99 of one sample of latencies. */
export function percentiles(samples) {
  return {
    n: samples.length,
    p50: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
  };
}

/** Format a number with a sensible number of digits for a table. */
export function num(x, digits) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '—';
  if (digits !== undefined)
    return Math.abs(x) >= 1000
      ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
      : x.toFixed(digits);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

/** "median (min–max)" of repeated measurements; min–max when fewer than 10 runs, p10–p90 otherwise. */
export function fmtSpread(values, digits) {
  const s = spread(values);
  if (s.n === 0) return '—';
  if (s.n === 1) return num(s.median, digits);
  const [lo, hi] = s.n >= 10 ? [s.p10, s.p90] : [s.min, s.max];
  return `${num(s.median, digits)} (${num(lo, digits)}–${num(hi, digits)})`;
}

/** Elapsed milliseconds since a process.hrtime.bigint() stamp. */
export const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
