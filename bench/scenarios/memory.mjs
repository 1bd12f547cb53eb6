// Table 3: RSS of the gateway process alone (VmRSS of its pid; its server children are not counted), idle and
// after 10,000 calls, with 1, 10 and 20 copies of server-everything behind it.
import { setTimeout as sleep } from 'node:timers/promises';

import { closeMany, connectMany, echo } from '../lib/clients.mjs';
import * as G from '../lib/gateways.mjs';
import { rssKb } from '../lib/proc.mjs';
import { serverSet } from '../lib/servers.mjs';
import { median, num, spread } from '../lib/stats.mjs';
import { firstLine } from '../lib/targets.mjs';

export const name = 'memory';
export const COUNTS = [1, 10, 20];

export function params(quick) {
  return quick
    ? {
        reps: 1,
        calls: 200,
        sessions: 4,
        settleMs: 100,
        capMs: 3000,
        counts: [1, 2],
        peerCounts: [1],
        multiOnly: true,
        rssSamples: 2,
        minCapMs: 1000,
      }
    : {
        reps: 2,
        calls: 10000,
        sessions: 32,
        settleMs: 1000,
        capMs: 25000,
        counts: COUNTS,
        rssSamples: 5,
        minCapMs: 10000,
      };
}

const PRIORITY = [
  'mcproxy:1',
  'mcp-hub:1',
  'mcproxy:20',
  'mcp-hub:20',
  'mcproxy:10',
  'mcp-proxy:1',
  'supergateway-sse:1',
  'mcp-hub:10',
];

/** The subjects: how to start each with `n` servers, which front to call and with how many sessions. */
const SUBJECTS = [
  { id: 'mcproxy', label: 'mcproxy (`/mcp`)', multi: true, start: (servers) => G.startMcproxy(servers), front: 'mcp' },
  {
    id: 'mcp-hub',
    label: 'mcp-hub 4.2 (`/mcp`, legacy SSE)',
    multi: true,
    peer: 'mcp-hub',
    start: (servers) => G.startMcpHub(servers),
    front: 'sse',
  },
  {
    id: 'mcp-proxy',
    label: 'mcp-proxy 6.7 (`/mcp`)',
    multi: false,
    peer: 'mcp-proxy',
    start: () => G.startMcpProxy(),
    front: 'mcp',
  },
  // supergateway's SSE mode broadcasts every answer to every session: one session, or answers cross.
  {
    id: 'supergateway-sse',
    label: 'supergateway 4.0.0 (SSE, one session)',
    multi: false,
    peer: 'supergateway',
    start: () => G.startSupergateway('sse'),
    front: 'sse',
    sessions: 1,
    capMs: 15000,
  },
];

async function sampleRss(pid, n = 5, gapMs = 100) {
  const v = [];
  for (let i = 0; i < n; i++) {
    v.push(rssKb(pid) / 1024);
    if (i < n - 1) await sleep(gapMs);
  }
  return median(v);
}

async function measureOnce(subject, n, p) {
  const servers = serverSet(n);
  const names = Object.keys(servers);
  const g = await subject.start(servers);
  let conns = [];
  try {
    await sleep(p.settleMs);
    const idle = await sampleRss(g.pid, p.rssSamples);
    const sessions = subject.sessions ?? p.sessions;
    conns = await connectMany(g.fronts[subject.front], sessions);
    // The tool of server i: `<name>__echo` behind a multi-server gateway, `echo` behind a single-server one.
    const tools = subject.multi ? names.map((s) => `${s}__echo`) : ['echo'];
    let next = 0;
    let done = 0;
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      conns.map(async (c, ci) => {
        for (;;) {
          const i = next++;
          if (i >= p.calls || performance.now() - t0 > (subject.capMs ?? p.capMs)) return;
          try {
            await echo(c, tools[i % tools.length], `m${ci}-${i}`);
            done++;
          } catch {
            failed++;
            if (failed > 100) return;
          }
        }
      }),
    );
    const callSeconds = (performance.now() - t0) / 1000;
    const afterCalls = await sampleRss(g.pid, p.rssSamples);
    await closeMany(conns);
    conns = [];
    await sleep(p.settleMs);
    const afterClose = await sampleRss(g.pid, p.rssSamples);
    return { idle, afterCalls, afterClose, calls: done, failed, callSeconds };
  } finally {
    await closeMany(conns);
    await g.stop();
  }
}

export async function run(ctx) {
  const p = params(ctx.quick);
  const rows = [];
  for (const subject of SUBJECTS.filter((x) => x.multi || !p.multiOnly)) {
    const counts = !subject.multi ? [1] : subject.id === 'mcproxy' ? p.counts : (p.peerCounts ?? p.counts);
    const row = { id: subject.id, label: subject.label, multi: subject.multi, cells: {}, error: null };
    rows.push(row);
    if (subject.id === 'mcproxy' && !G.mcproxyBuilt()) {
      row.error = 'not available: dist/main.js does not exist yet';
      continue;
    }
    if (subject.peer && !G.peerAvailable(subject.peer)) {
      row.error = `not available: ${subject.peer} is not installed`;
      continue;
    }
    for (const n of counts) row.cells[n] = [];
  }
  // Repetitions outermost, so each repetition is a full pass over every subject and server count.
  let repMs = 0;
  const spent = []; // time outside the calls per configuration: { n, ms }
  for (let rep = 0; rep < p.reps; rep++) {
    // A further repetition only when it fits in what is left of the budget.
    if (rep > 0 && ctx.deadline - performance.now() < repMs * 1.1) {
      ctx.log(`  time budget: ${rep} repetition(s) instead of ${p.reps}`);
      break;
    }
    const repStart = performance.now();
    // In order of priority, so a run short of time loses the least useful figures: mcproxy and its reference
    // mcp-hub at 1 and 20 servers, then mcproxy at 10, then the one-server peers, then mcp-hub at 10.
    const rank = (id, n) => PRIORITY.indexOf(`${id}:${n}`) + 1 || PRIORITY.length + 1;
    const plan = rows
      .filter((r) => !r.error)
      .flatMap((r) => Object.keys(r.cells).map((n) => [r, Number(n)]))
      .sort((a, b) => rank(a[0].id, a[1]) - rank(b[0].id, b[1]));
    for (const [k, [row, n]] of plan.entries()) {
      if (row.error) continue;
      const subject = SUBJECTS.find((s) => s.id === row.id);
      {
        // Share what is left of the budget among the configurations still to measure; the time spent outside
        // the calls (start, settle, stop) is estimated from the configurations so far, in proportion to servers.
        const same = spent.filter((x) => x.n === n).map((x) => x.ms);
        const largest = spent.reduce((a, x) => (x.n > (a?.n ?? 0) ? x : a), null);
        // Unmeasured server count: the largest one measured plus ~0.5 s per extra server (its start).
        const overhead = Math.max(
          3000,
          same.length ? Math.max(...same) : largest ? largest.ms + 500 * (n - largest.n) : 3000 + 500 * n,
        );
        const allowance = (ctx.deadline - performance.now()) / (plan.length - k) - overhead;
        if (allowance < p.minCapMs) {
          row.note = 'time budget spent';
          continue;
        }
        const capMs = Math.min(subject.capMs ?? p.capMs, allowance);
        try {
          const t = performance.now();
          const m = await measureOnce({ ...subject, capMs }, n, p);
          spent.push({ n, ms: performance.now() - t - m.callSeconds * 1000 });
          row.cells[n].push(m);
          ctx.log(
            `  ${row.id} ${n} server(s): idle ${num(m.idle)} MB, after ${m.calls} calls ${num(m.afterCalls)} MB (${num(m.callSeconds)} s)`,
          );
        } catch (err) {
          row.error = `${row.id === 'mcproxy' ? 'not available' : 'failed'}: ${firstLine(err.message)}`;
          ctx.log(`  ${row.id} ${n}: ${err.message}`);
        }
      }
    }
    repMs = performance.now() - repStart;
  }
  return { params: p, rows };
}

const f = (vals, d) => {
  const s = spread(vals.filter(Number.isFinite));
  if (!s.n) return '—';
  return s.n === 1 ? num(s.median, d) : `${num(s.median, d)} (${num(s.min, d)}–${num(s.max, d)})`;
};

/**
 * Per repetition: (RSS with the most servers − RSS with one) / (servers added). After calls, only where both
 * configurations made the same number of calls (a run short of time may have cut one of them).
 */
function growth(row, key) {
  const ns = Object.keys(row.cells)
    .map(Number)
    .sort((a, b) => a - b);
  if (ns.length < 2) return [];
  const lo = row.cells[ns[0]];
  const hi = row.cells[ns.at(-1)];
  return hi
    .map((h, i) =>
      lo[i] && (key === 'idle' || h.calls === lo[i].calls) ? (h[key] - lo[i][key]) / (ns.at(-1) - ns[0]) : Number.NaN,
    )
    .filter(Number.isFinite);
}

export function render(res) {
  const { params: p, rows } = res;
  const out = [
    `RSS in MB (VmRSS of the gateway pid from /proc, its server processes excluded; each value the median of ${p.rssSamples} reads 100 ms apart), median (min–max) over the repetitions (${p.reps} planned; the *runs* column says how many ran). ` +
      `*idle*: ${p.settleMs / 1000} s after every server is ready, no client; *after calls*: right after ${p.calls.toLocaleString('en-US')} \`echo\` calls from ${p.sessions} concurrent sessions ` +
      `(spread round-robin over the servers), sessions still open; *closed*: ${p.settleMs / 1000} s after those sessions closed. Servers: copies of server-everything. ` +
      'mcp-proxy and supergateway front a single server, so they have the 1-server column only: they are the reference for a one-server gateway.',
    '',
    '| gateway | servers | idle MB | after calls MB | closed MB | calls done | runs |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (!Object.values(r.cells).some((c) => c.length)) {
      out.push(`| ${r.label} | | ${r.error ?? 'not run: time budget spent'} | | | | |`);
      continue;
    }
    for (const [n, ms] of Object.entries(r.cells)) {
      if (!ms.length) continue;
      out.push(
        `| ${r.label} | ${n} | ${f(ms.map((m) => m.idle))} | ${f(ms.map((m) => m.afterCalls))} | ${f(ms.map((m) => m.afterClose))} | ${Math.round(median(ms.map((m) => m.calls))).toLocaleString('en-US')}${ms.some((m) => m.failed) ? ` ⚠ ${ms.reduce((a, m) => a + m.failed, 0)} failed` : ''} | ${ms.length} |`,
      );
    }
    if (r.multi) {
      const gi = growth(r, 'idle');
      const ga = growth(r, 'afterCalls');
      if (gi.length) out.push(`| ${r.label} | **per added server** | ${f(gi, 2)} | ${f(ga, 2)} | | | ${gi.length} |`);
    }
    if (r.error) out.push(`| ${r.label} | | ${r.error} | | | | |`);
  }
  if (rows.some((r) => Object.values(r.cells).some((c) => c.length === 1)))
    out.push(
      '',
      'Where *runs* is 1, a second repetition did not fit in the time budget: that figure is a single sample with no spread.',
    );
  return out.join('\n');
}

export function targets(res) {
  const r = res.rows.find((x) => x.id === 'mcproxy');
  const c20 = r?.cells?.[COUNTS.at(-1)];
  if (!c20?.length) {
    return [
      { target: 'memory with 20 servers < 80 MB', measured: r?.error ?? 'no data', status: 'not measurable yet' },
      {
        target: 'memory growth < 1 MB per added server',
        measured: r?.error ?? 'no data',
        status: 'not measurable yet',
      },
    ];
  }
  const m20 = median(c20.map((m) => m.afterCalls));
  const i20 = median(c20.map((m) => m.idle));
  const g = median(growth(r, 'idle'));
  const ga = median(growth(r, 'afterCalls'));
  const calls = Math.round(median(c20.map((m) => m.calls)));
  const hub = res.rows.find((x) => x.id === 'mcp-hub')?.cells?.[20];
  const hubTxt = hub?.length ? `; mcp-hub ${num(median(hub.map((m) => m.idle)))} MB idle` : '';
  return [
    {
      target: 'memory with 20 servers < 80 MB',
      measured: `${num(i20)} MB idle, ${num(m20)} MB after ${calls.toLocaleString('en-US')} calls${hubTxt}`,
      // Judged on the idle figure and the one after calls, whichever is higher.
      status: Math.max(i20, m20) < 80 ? 'met' : `missed by ${num(Math.max(i20, m20) - 80)} MB`,
    },
    {
      target: 'memory growth < 1 MB per added server',
      measured: `${num(g, 2)} MB per server idle${Number.isFinite(ga) ? `, ${num(ga, 2)} MB after calls` : ''} (1 → 20 servers)`,
      status: g < 1 ? 'met' : `missed by ${num(g - 1, 2)} MB`,
    },
    afterClose(c20, calls),
  ];
}

/** Issue 15: with 20 servers, idle < 80 MB, and < 100 MB after the calls of 32 sessions and their close. */
function afterClose(cells, calls) {
  const idle = median(cells.map((m) => m.idle));
  const closed = median(cells.map((m) => m.afterClose));
  const ok = idle < 80 && closed < 100;
  return {
    target: '20 servers: idle RSS < 80 MB; after 10,000 calls from 32 sessions and their close < 100 MB',
    measured: `${num(idle)} MB idle; ${num(closed)} MB after ${calls.toLocaleString('en-US')} calls and the sessions' close`,
    status: ok
      ? 'met'
      : `missed: ${[idle >= 80 ? `idle ${num(idle - 80)} MB over` : '', closed >= 100 ? `closed ${num(closed - 100)} MB over` : ''].filter(Boolean).join(', ')}`,
  };
}
