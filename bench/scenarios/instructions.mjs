// Table 8: instructions the gateway process executes per relayed `echo` call, counted by callgrind. Unlike the
// timings, this figure does not move with the load on the machine, so a change to the hot path can be judged
// on it. "Before" is the figure of the commit named in bench/instructions-before.json, measured the same way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { connect, echo } from '../lib/clients.mjs';
import * as G from '../lib/gateways.mjs';
import { callgrindAvailable, callgrindPrefix, countingOn, instructionsSoFar } from '../lib/instructions.mjs';
import { BENCH, PIPE_RELAY, TMP } from '../lib/paths.mjs';
import { everythingStdio, serverSet } from '../lib/servers.mjs';
import { median, num } from '../lib/stats.mjs';
import { firstLine } from '../lib/targets.mjs';

export const name = 'instructions';
export const BEFORE_FILE = join(BENCH, 'instructions-before.json');

export function params(quick) {
  // Warm-up runs uncounted (valgrind without instrumentation is fast) until V8 has compiled the hot path. Even
  // then tier-up may go on for a while (valgrind runs one thread at a time, so the compiler's thread finishes when
  // it gets its turn): windows are counted until the last `stable` of them agree within `tolerance`, at most
  // `maxWindows`, and the figure is the median of those last windows.
  return quick
    ? { warm: 50, rewarm: 10, calls: 30, stable: 1, tolerance: 1, maxWindows: 1 }
    : { warm: 4000, rewarm: 20, calls: 300, stable: 3, tolerance: 0.1, maxWindows: 6 };
}

/** Whether the last `n` windows agree within `tolerance` of their median. */
export function settled(perCall, n, tolerance) {
  if (perCall.length < n) return false;
  const last = perCall.slice(-n);
  return (Math.max(...last) - Math.min(...last)) / median(last) <= tolerance;
}

/** The processes counted: mcproxy's three fronts, and the trivial relays as the floors of a stdio and an HTTP hop. */
export const SUBJECTS = [
  { id: 'pipe-relay', label: 'trivial relay (pipes bytes, parses nothing): the floor', kind: 'pipe' },
  {
    id: 'http-pipe-relay',
    label: 'trivial HTTP relay (POST body to stdin, next answer as one SSE event): the HTTP floor',
    kind: 'http-pipe',
  },
  { id: 'stdio', label: 'mcproxy, stdio front', kind: 'stdio' },
  {
    id: 'mcp',
    label: 'mcproxy, /mcp (default: a quick answer as JSON to a client that prefers it, else SSE)',
    kind: 'http',
    front: 'mcp',
  },
  { id: 'sse', label: 'mcproxy, /sse (legacy SSE)', kind: 'http', front: 'sse' },
];

async function firstCall(conn, tool) {
  // The first call may race a backend still starting behind the gateway (slow under valgrind): retry, bounded.
  const t0 = performance.now();
  for (;;) {
    try {
      return await echo(conn, tool, 'first');
    } catch (err) {
      if (performance.now() - t0 > 60000) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Starts `subject` under callgrind and returns { conn, pid, tool, stop }. */
async function start(subject, outFile) {
  const prefix = callgrindPrefix(outFile);
  if (subject.kind === 'http-pipe') {
    const g = await G.startHttpPipeRelay({ wrap: prefix, timeoutMs: 180000 });
    try {
      const conn = await connect(g.fronts.mcp, { timeoutMs: 120000 });
      return { conn, pid: g.pid, tool: g.tool, stop: async () => (await conn.close(), await g.stop()) };
    } catch (err) {
      await g.stop();
      throw err;
    }
  }
  if (subject.kind === 'http') {
    const g = await G.startMcproxy(serverSet(1), { wrap: prefix, timeoutMs: 180000 });
    try {
      const conn = await connect(g.fronts[subject.front], { timeoutMs: 120000 });
      return { conn, pid: g.pid, tool: g.tool, stop: async () => (await conn.close(), await g.stop()) };
    } catch (err) {
      await g.stop();
      throw err;
    }
  }
  const inner =
    subject.kind === 'stdio'
      ? { ...G.mcproxyStdioSpec(serverSet(1)), tool: 'everything__echo' }
      : {
          command: process.execPath,
          args: [PIPE_RELAY, everythingStdio().command, ...everythingStdio().args],
          tool: 'echo',
        };
  const spec = { kind: 'stdio', command: prefix[0], args: [...prefix.slice(1), inner.command, ...inner.args] };
  const conn = await connect(spec, { timeoutMs: 180000 });
  return { conn, pid: conn.pid, tool: inner.tool, stop: () => conn.close() };
}

async function measure(subject, p, log) {
  const s = await start(subject, join(TMP, `callgrind-${subject.id}.out`));
  try {
    await firstCall(s.conn, s.tool);
    for (let i = 0; i < p.warm; i++) await echo(s.conn, s.tool, `warm-${i}`);
    countingOn(s.pid);
    // Counting on makes valgrind translate the code again (not counted): a few calls to get past that.
    for (let i = 0; i < p.rewarm; i++) await echo(s.conn, s.tool, `rewarm-${i}`);
    const perCall = []; // main thread
    const allThreads = [];
    for (let w = 0; w < p.maxWindows && !settled(perCall, p.stable, p.tolerance); w++) {
      const before = instructionsSoFar(s.pid);
      for (let i = 0; i < p.calls; i++) await echo(s.conn, s.tool, `w${w}-${i}`);
      const after = instructionsSoFar(s.pid);
      perCall.push((after.main - before.main) / p.calls);
      allThreads.push((after.total - before.total) / p.calls);
    }
    log(
      `  ${subject.id}: ${perCall.map((x) => num(x / 1000, 0)).join(', ')} k instructions per call on the main thread` +
        ` (all threads: ${allThreads.map((x) => num(x / 1000, 0)).join(', ')} k)`,
    );
    return {
      windows: perCall,
      settled: settled(perCall, p.stable, p.tolerance),
      perCall: perCall.slice(-p.stable),
      allThreads: allThreads.slice(-p.stable),
    };
  } finally {
    await s.stop();
  }
}

export function readBefore() {
  try {
    return JSON.parse(readFileSync(BEFORE_FILE, 'utf8'));
  } catch {
    return null;
  }
}

export async function run(ctx) {
  const p = params(ctx.quick);
  if (!callgrindAvailable())
    return { params: p, error: 'valgrind is not installed (apt-get install valgrind)', rows: [], before: readBefore() };
  const rows = [];
  // MCPROXY_BENCH_INSTRUCTIONS=stdio,mcp counts some subjects only (while working on one front).
  const only = process.env.MCPROXY_BENCH_INSTRUCTIONS?.split(',');
  for (const subject of SUBJECTS.filter((s) => !only || only.includes(s.id))) {
    const row = { id: subject.id, label: subject.label, perCall: [], error: null };
    rows.push(row);
    if (subject.kind !== 'pipe' && !G.mcproxyBuilt()) {
      row.error = 'not available: dist/main.js does not exist yet';
      continue;
    }
    // A quick run still counts every subject: it is the only way to smoke-test this table.
    if (!ctx.quick && ctx.outOfTime()) {
      row.error = 'not run: time budget spent';
      continue;
    }
    try {
      Object.assign(row, await measure(subject, p, ctx.log));
    } catch (err) {
      row.error = `failed: ${firstLine(err.message)}`;
      ctx.log(`  ${subject.id}: ${err.message}`);
    }
  }
  return { params: p, rows, before: readBefore() };
}

const k = (x) => (Number.isFinite(x) ? `${num(x / 1000, 0)} k` : '—');

export function render(res) {
  const { params: p, rows, before } = res;
  if (res.error) return `_${res.error}: no instruction counts in this run._`;
  const out = [
    `Instructions executed by the relaying process per \`echo\` call on its main thread (the event loop: JavaScript, the scavenges, the syscalls' user side), and beside it in all its threads (V8's compiler and GC helpers too, whose share moves with the machine's scheduling), counted by ` +
      '`valgrind --tool=callgrind --instr-atstart=no` with counting switched on by `callgrind_control` after ' +
      `${p.warm} warm-up calls and ${p.rewarm} more, then windows of ${p.calls} calls until the last ${p.stable} agree within ${num(p.tolerance * 100, 0)} % (at most ${p.maxWindows}; the figure is their median, the windows are listed), one call at a time from an SDK client; the backend ` +
      '(server-everything) and the client are not counted. The figure does not depend on the load on the machine (a few per cent between runs). ' +
      (before
        ? `*Before*: the same measurement on commit ${before.commit} (${before.note ?? 'before the lean hot path'}), from \`bench/instructions-before.json\`.`
        : '*Before*: `bench/instructions-before.json` is missing.'),
    '',
    '| process | main thread, per call (this run) | all threads | before (main thread) | after / before |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const b = before?.perCall?.[r.id];
    if (r.error || !r.perCall.length) {
      out.push(`| ${r.label} | ${r.error ?? 'no data'} | | ${k(b)} | |`);
      continue;
    }
    const m = median(r.perCall);
    const windows = r.windows ?? r.perCall;
    const spreadTxt =
      (windows.length > 1 ? ` (windows: ${windows.map((x) => num(x / 1000, 0)).join(', ')} k)` : '') +
      (r.settled === false ? ' ⚠ not settled' : '');
    const all = r.allThreads?.length ? k(median(r.allThreads)) : '—';
    out.push(
      `| ${r.label} | ${k(m)}${spreadTxt} | ${all} | ${k(b)} | ${Number.isFinite(b) ? `${num(m / b, 2)}×` : '—'} |`,
    );
  }
  return out.join('\n');
}

export function targets(res) {
  const rows = (res.rows ?? []).filter((r) => ['stdio', 'mcp', 'sse'].includes(r.id));
  const have = rows.filter((r) => r.perCall.length);
  return [
    {
      target: 'instructions per relayed call reported for --stdio, /mcp and /sse, before and after',
      measured: have.length
        ? have.map((r) => `${r.id} ${k(median(r.perCall))} (before ${k(res.before?.perCall?.[r.id])})`).join('; ')
        : (res.error ?? 'no data'),
      status: have.length === 3 && res.before ? 'met' : 'not measurable yet',
    },
  ];
}
