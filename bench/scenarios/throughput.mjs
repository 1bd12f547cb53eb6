// Table 2: closed-loop throughput with 1, 16 and 64 concurrent sessions, each session its own SDK client.
import { closeMany, connectMany, echo, throughputWindow } from '../lib/clients.mjs';
import { median, num, spread } from '../lib/stats.mjs';
import { firstLine, GatewayPool, rowClientSpec, ROWS } from '../lib/targets.mjs';

export const name = 'throughput';
export const LEVELS = [1, 16, 64];

export function params(quick) {
  return quick
    ? { reps: 1, windowMs: 150, warmMs: 50, levels: [1, 4], maxSetupMs: 5000 }
    : { reps: 3, windowMs: 1000, warmMs: 400, levels: LEVELS, maxSetupMs: 15000 };
}

export async function run(ctx) {
  const p = params(ctx.quick);
  const pool = ctx.pool ?? new GatewayPool(ctx.log);
  const rows = ROWS.filter((r) => r.concurrency !== false).map((r) => ({
    id: r.id,
    label: r.label,
    group: r.group,
    cells: {},
  }));
  try {
    await pool.startAll(ROWS.filter((r) => r.gateway && r.concurrency !== false).map((r) => r.gateway));
    const todo = [];
    for (const level of p.levels) {
      for (const row of rows) {
        const def = ROWS.find((x) => x.id === row.id);
        if (def.concurrency === 'one' && level > 1) row.cells[level] = { skip: 'one client per process' };
        else todo.push([level, row, def]);
      }
    }
    for (const [k, [level, row, def]] of todo.entries()) {
      {
        // Fewer windows per cell when the run falls behind, so every cell still gets measured.
        const perCell = (ctx.deadline - performance.now()) / (todo.length - k);
        const reps = Math.max(1, Math.min(p.reps, Math.floor((perCell - 1500 - p.warmMs) / p.windowMs)));
        if (ctx.deadline - performance.now() < p.windowMs + 1000) {
          row.cells[level] = { skip: 'not run: time budget spent' };
          continue;
        }
        let conns = [];
        const cell = { windows: [] };
        row.cells[level] = cell;
        try {
          const { spec, tool } = await rowClientSpec(def, pool);
          const t = performance.now();
          conns = await connectMany(spec, level, { batch: 8, timeoutMs: 30000, maxTotalMs: p.maxSetupMs });
          cell.connectMs = performance.now() - t;
          await Promise.all(conns.map((c, i) => warm(c, tool, `w${i}`)));
          await throughputWindow(conns, tool, { windowMs: p.warmMs, tag: 'warm' });
          for (let rep = 0; rep < reps; rep++)
            cell.windows.push(
              await throughputWindow(conns, tool, { windowMs: p.windowMs, tag: `${row.id}-${level}-${rep}` }),
            );
          ctx.log(`  ${row.id} ×${level}: ${num(median(cell.windows.map((w) => w.rate)))} calls/s`);
        } catch (err) {
          cell.error =
            err.message.startsWith('not available') || err.slowSetup
              ? firstLine(err.message)
              : `failed: ${firstLine(err.message)}`;
          ctx.log(`  ${row.id} ×${level}: ${cell.error}`);
        } finally {
          await closeMany(conns);
        }
      }
      // Stateful gateways (a server per session) keep no idle sessions between levels: the pool stays up.
    }
  } finally {
    await pool.stopAll();
  }
  for (const row of rows)
    for (const c of Object.values(row.cells))
      if (c.windows)
        c.windows = c.windows.map(({ calls, errors, mismatches, firstError, rate }) => ({
          calls,
          errors,
          mismatches,
          firstError,
          rate,
        }));
  return { params: p, rows };
}

async function warm(conn, tool, tag) {
  const t0 = performance.now();
  for (;;) {
    try {
      return await echo(conn, tool, tag);
    } catch (err) {
      if (performance.now() - t0 > 20000) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function cellText(c, ref) {
  if (!c) return '—';
  if (c.skip) return c.skip === 'one client per process' ? '—' : c.skip;
  if (c.error) return c.error;
  if (!c.windows.length) return 'no data';
  const s = spread(c.windows.map((w) => w.rate));
  let t = `${num(s.median)} (${num(s.min)}–${num(s.max)})`;
  if (ref?.windows?.length && ref !== c) t += ` · ${num(s.median / median(ref.windows.map((w) => w.rate)), 2)}×`;
  const bad = c.windows.reduce((a, w) => a + w.errors + w.mismatches, 0);
  const mism = c.windows.reduce((a, w) => a + w.mismatches, 0);
  if (bad) t += ` ⚠ ${bad} failed${mism ? ` (${mism} wrong answers)` : ''}`;
  return t;
}

export function render(res) {
  const { params: p, rows } = res;
  const LEVELS = p.levels;
  const ref = rows.find((r) => r.id === 'everything-http');
  const out = [
    `Closed loop: each session (its own SDK client and connection) keeps one \`echo\` call in flight; calls completed in a ${p.windowMs / 1000} s window, ` +
      `${p.reps} windows (fewer if the run fell behind its time budget) after a ${p.warmMs / 1000} s warm-up. Figures: calls/s, median (min–max) over the windows, then · the ratio to server-everything’s own Streamable HTTP at the same concurrency (the reference). ` +
      'Every answer is checked: a ⚠ counts calls that failed or came back with another call’s answer.',
    '',
    `| path | ${LEVELS.map((l) => `${l} session${l > 1 ? 's' : ''}`).join(' | ')} |`,
    `|---|${LEVELS.map(() => '---').join('|')}|`,
  ];
  for (const r of rows)
    out.push(`| ${r.label} | ${LEVELS.map((l) => cellText(r.cells[l], ref?.cells[l])).join(' | ')} |`);
  const top = LEVELS.at(-1);
  const setup = rows.filter((r) => r.cells[top]?.connectMs !== undefined);
  if (setup.length)
    out.push(
      '',
      `Time to open the ${top} sessions (initialize each, 8 at a time), one measurement: ` +
        setup.map((r) => `${r.label} ${num(r.cells[top].connectMs / 1000, 1)} s`).join('; ') +
        '.',
    );
  out.push(
    '',
    'Stdio rows have one client per process and the trivial HTTP relay serves one client at a time (it matches answers to POSTs in order), so only the 1-session column applies to them. The stateless supergateway row is left out: it spawns a server per request (see its latency).',
  );
  return out.join('\n');
}

/** Issue 15: 64-session /mcp throughput ≥ 2× server-everything's own Streamable HTTP in the same run. */
export function targets(res) {
  const top = res.params.levels.at(-1);
  const rate = (id) => {
    const cell = res.rows.find((r) => r.id === id)?.cells[top];
    return cell?.windows?.length ? median(cell.windows.map((w) => w.rate)) : Number.NaN;
  };
  const ref = rate('everything-http');
  const target = `${top}-session /mcp throughput ≥ 2× server-everything’s own Streamable HTTP`;
  const out = [];
  for (const id of ['mcproxy-mcp-sse', 'mcproxy-mcp-json']) {
    const r = rate(id);
    const label = res.rows.find((x) => x.id === id)?.label ?? id;
    if (!Number.isFinite(r) || !Number.isFinite(ref)) {
      out.push({ target: `${label}: ${target}`, measured: 'no data', status: 'not measurable yet' });
      continue;
    }
    const ratio = r / ref;
    out.push({
      target: `${label}: ${target}`,
      measured: `${num(r)} calls/s vs ${num(ref)} calls/s: ${num(ratio, 2)}×`,
      status: ratio >= 2 ? 'met' : `missed: ${num(ratio, 2)}×`,
    });
  }
  return out;
}
