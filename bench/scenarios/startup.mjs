// Table 4: time from spawning the gateway until all 10 servers are ready, against the servers' own cold starts.
import { connect } from '../lib/clients.mjs';
import * as G from '../lib/gateways.mjs';
import { serverSet } from '../lib/servers.mjs';
import { median, num, spread } from '../lib/stats.mjs';
import { firstLine } from '../lib/targets.mjs';

export const name = 'startup';
const COUNT = 10;

export function params(quick) {
  return quick ? { reps: 1, count: 2 } : { reps: 3, count: COUNT };
}

/** One server's own cold start: spawn + initialize + tools/list with an SDK client. */
export async function coldStart(server) {
  const t0 = performance.now();
  const c = await connect(
    { kind: 'stdio', command: server.command, args: server.args, env: server.env },
    { timeoutMs: 30000 },
  );
  try {
    await c.client.listTools();
    return performance.now() - t0;
  } finally {
    await c.close();
  }
}

export async function run(ctx) {
  const p = params(ctx.quick);
  const servers = serverSet(p.count, 'mix');
  const reps = [];
  let lastRepMs = 0;
  const errors = {};
  for (let rep = 0; rep < p.reps; rep++) {
    if (rep > 0 && !ctx.fits(lastRepMs)) break;
    const repStart = performance.now();
    const r = { alone: {}, parallel: null, mcproxy: null, hub: null };
    for (const [n, s] of Object.entries(servers)) r.alone[n] = await coldStart(s);
    r.slowest = Math.max(...Object.values(r.alone));
    const t0 = performance.now();
    await Promise.all(Object.values(servers).map((s) => coldStart(s)));
    r.parallel = performance.now() - t0;
    if (!errors.mcproxy) {
      try {
        if (!G.mcproxyBuilt()) throw new Error('not available: dist/main.js does not exist yet');
        const g = await G.startMcproxy(servers, { timeoutMs: 30000 });
        r.mcproxy = g.readyMs;
        await g.stop();
      } catch (err) {
        errors.mcproxy = err.message.startsWith('not available')
          ? firstLine(err.message)
          : `not available: ${firstLine(err.message)}`;
      }
    }
    if (!errors.hub) {
      try {
        if (!G.peerAvailable('mcp-hub')) throw new Error('mcp-hub not installed');
        const g = await G.startMcpHub(servers, { timeoutMs: 30000 });
        r.hub = g.readyMs;
        await g.stop();
      } catch (err) {
        errors.hub = `failed: ${firstLine(err.message)}`;
      }
    }
    reps.push(r);
    lastRepMs = performance.now() - repStart;
    ctx.log(
      `  rep ${rep + 1}: slowest alone ${num(r.slowest)} ms, 10 in parallel ${num(r.parallel)} ms, mcproxy ${num(r.mcproxy)} ms, mcp-hub ${num(r.hub)} ms`,
    );
  }
  return {
    params: p,
    servers: Object.fromEntries(Object.entries(servers).map(([n, s]) => [n, s.args[0].split('/').slice(-3, -2)[0]])),
    reps,
    errors,
  };
}

const f = (vals) => {
  const s = spread(vals.filter((x) => x !== null && Number.isFinite(x)));
  if (!s.n) return null;
  return s.n === 1 ? num(s.median, 0) : `${num(s.median, 0)} (${num(s.min, 0)}–${num(s.max, 0)})`;
};

export function render(res) {
  const { params: p, reps, errors } = res;
  const kinds = Object.values(res.servers).reduce((a, k) => ((a[k] = (a[k] ?? 0) + 1), a), {});
  const out = [
    `${p.count} servers: ${Object.entries(kinds)
      .map(([k, v]) => `${v}× ${k}`)
      .join(', ')}. ` +
      `Times in ms, median (min–max) over ${reps.length} repetition${reps.length === 1 ? '' : 's'}. A server’s own cold start: an SDK client spawns it, initializes and lists its tools. ` +
      'A gateway: from spawning its process until its health endpoint reports every server ready (mcproxy `GET /health`, mcp-hub `GET /api/health`, polled every 10 ms).',
    '',
    '| what | ms | over the slowest server alone |',
    '|---|---|---|',
    `| slowest server’s own cold start, each started alone (**reference**) | ${f(reps.map((r) => r.slowest))} | — |`,
    `| all ${p.count} started at once directly by ${p.count} SDK clients (what the CPU allows) | ${f(reps.map((r) => r.parallel))} | ${f(reps.map((r) => r.parallel - r.slowest))} |`,
    `| mcproxy: spawn → all ${p.count} ready | ${f(reps.map((r) => r.mcproxy)) ?? errors.mcproxy ?? '—'} | ${f(reps.map((r) => (r.mcproxy === null ? null : r.mcproxy - r.slowest))) ?? ''} |`,
    `| mcp-hub 4.2: spawn → all ${p.count} connected | ${f(reps.map((r) => r.hub)) ?? errors.hub ?? '—'} | ${f(reps.map((r) => (r.hub === null ? null : r.hub - r.slowest))) ?? ''} |`,
  ];
  const alone = {};
  for (const r of reps) for (const [n, v] of Object.entries(r.alone)) (alone[res.servers[n]] ??= []).push(v);
  out.push(
    '',
    'Own cold start of each kind, each started alone: ' +
      Object.entries(alone)
        .map(([k, v]) => `${k} ${num(median(v), 0)} ms`)
        .join(', ') +
      '.',
  );
  return out.join('\n');
}

const signed = (x) => (x >= 0 ? `+${num(x, 0)}` : `−${num(-x, 0)}`);

export function targets(res) {
  const v = res.reps.filter((r) => r.mcproxy !== null).map((r) => r.mcproxy - r.slowest);
  const target = `all ${res.params.count} servers ready within 300 ms of the slowest one’s own cold start`;
  if (!v.length) return [{ target, measured: res.errors.mcproxy ?? 'no data', status: 'not measurable yet' }];
  const m = median(v);
  return [
    {
      target,
      measured:
        `${num(median(res.reps.map((r) => r.mcproxy)), 0)} ms, ${num(m, 0)} ms after the slowest alone (${num(median(res.reps.map((r) => r.slowest)), 0)} ms); ` +
        `${signed(median(res.reps.filter((r) => r.mcproxy !== null).map((r) => r.mcproxy - r.parallel)))} ms against all ${res.params.count} started at once directly`,
      status: m <= 300 ? 'met' : `missed by ${num(m - 300, 0)} ms`,
    },
  ];
}
