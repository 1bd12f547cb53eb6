// Table 5: hot reload. A client is connected; the config file gains a server; time from the write until the
// client gets notifications/tools/list_changed, and until tools/list shows the new server's tools.
import { setTimeout as sleep } from 'node:timers/promises';

import { connect } from '../lib/clients.mjs';
import * as G from '../lib/gateways.mjs';
import { serverSet } from '../lib/servers.mjs';
import { num, spread } from '../lib/stats.mjs';
import { firstLine } from '../lib/targets.mjs';
import { coldStart } from './startup.mjs';

export const name = 'reload';

export function params(quick) {
  return quick ? { reps: 1, timeoutMs: 5000, quietMs: 200 } : { reps: 3, timeoutMs: 15000, quietMs: 1000 };
}

const SUBJECTS = [
  {
    id: 'mcproxy',
    label: 'mcproxy (`/mcp` client)',
    available: () => (G.mcproxyBuilt() ? null : 'not available: dist/main.js does not exist yet'),
    start: (servers, file) => G.startMcproxy(servers, { configFile: G.writeMcproxyConfig(servers, file) }),
    write: (servers, file) => G.writeMcproxyConfig(servers, file),
    front: 'mcp',
  },
  {
    id: 'mcp-hub',
    label: 'mcp-hub 4.2 `--watch` (SSE client)',
    available: () => (G.peerAvailable('mcp-hub') ? null : 'not available: mcp-hub not installed'),
    start: (servers, file) => G.startMcpHub(servers, { watch: true, configFile: G.writeHubConfig(servers, file) }),
    write: (servers, file) => G.writeHubConfig(servers, file),
    front: 'sse',
  },
];

/** Wait until no list_changed has arrived for `quietMs` (server-everything itself announces tools after start). */
async function quiet(state, quietMs, capMs = 8000) {
  const t0 = performance.now();
  while (performance.now() - t0 < capMs && performance.now() - state.last < quietMs) await sleep(50);
}

async function measureSubject(subject, p, ctx, tmp) {
  const servers = serverSet(1);
  const file = `${tmp}/reload-${subject.id}-${Date.now()}.json`;
  const g = await subject.start(servers, file);
  const state = { last: performance.now(), waiters: [] };
  let conn;
  const out = [];
  let lastRepMs = 0;
  try {
    conn = await connect(g.fronts[subject.front]);
    conn.onToolsChanged(() => {
      state.last = performance.now();
      for (const w of state.waiters.splice(0)) w(state.last);
    });
    await conn.client.listTools();
    for (let rep = 0; rep < p.reps; rep++) {
      if (rep > 0 && !ctx.fits(lastRepMs)) break;
      const repStart = performance.now();
      await quiet(state, p.quietMs);
      const added = `added${rep}`;
      const ref = await coldStart(serverSet(1).everything); // the new server's own cold start, same run
      servers[added] = serverSet(1).everything;
      const notified = new Promise((resolve) => state.waiters.push(resolve));
      const t0 = performance.now();
      subject.write(servers, file);
      const tNotify = await Promise.race([notified, sleep(p.timeoutMs).then(() => null)]);
      // Then poll tools/list until the new server's tools are there (bounded).
      let tListed = null;
      while (performance.now() - t0 < p.timeoutMs) {
        const { tools } = await conn.client.listTools();
        if (tools.some((t) => t.name.startsWith(`${added}__`) || t.name.startsWith(`${added}.`))) {
          tListed = performance.now();
          break;
        }
        await sleep(20);
      }
      lastRepMs = performance.now() - repStart;
      out.push({
        notify: tNotify === null ? null : tNotify - t0,
        listed: tListed === null ? null : tListed - t0,
        coldStart: ref,
      });
      if (tNotify === null && tListed === null) {
        ctx.log(`  ${subject.id}: nothing within ${p.timeoutMs / 1000} s of the write; no further repetitions`);
        break;
      }
      ctx.log(
        `  ${subject.id} rep ${rep + 1}: list_changed after ${num(tNotify === null ? NaN : tNotify - t0)} ms, tools listed after ${num(tListed === null ? NaN : tListed - t0)} ms, cold start ${num(ref)} ms`,
      );
    }
  } finally {
    await conn?.close();
    await g.stop();
  }
  return out;
}

export async function run(ctx) {
  const p = params(ctx.quick);
  const { TMP } = await import('../lib/paths.mjs');
  const rows = [];
  for (const s of SUBJECTS) {
    const row = { id: s.id, label: s.label, reps: [], error: s.available() };
    rows.push(row);
    if (row.error) continue;
    try {
      row.reps = await measureSubject(s, p, ctx, TMP);
    } catch (err) {
      row.error = `${s.id === 'mcproxy' ? 'not available' : 'failed'}: ${firstLine(err.message)}`;
      ctx.log(`  ${s.id}: ${err.message}`);
    }
  }
  return { params: p, rows };
}

const f = (vals) => {
  const v = vals.filter((x) => x !== null && Number.isFinite(x));
  const s = spread(v);
  const missing = vals.length - v.length;
  if (!s.n) return vals.length ? 'never (timed out)' : '—';
  const t = s.n === 1 ? num(s.median, 0) : `${num(s.median, 0)} (${num(s.min, 0)}–${num(s.max, 0)})`;
  return missing ? `${t}; ${missing} of ${vals.length} timed out` : t;
};

export function render(res) {
  const { params: p, rows } = res;
  const out = [
    `Each repetition adds one server-everything to the config file of a running gateway (rewritten in place) while one client is connected. ` +
      `Times in ms from the write, median (min–max) over the repetitions (${p.reps} planned), timeout ${p.timeoutMs / 1000} s. ` +
      'The reference is the added server’s own cold start (SDK client: spawn, initialize, tools/list), measured just before each write: a gateway cannot list a server’s tools before the server has started.',
    '',
    '| gateway | → list_changed | → new tools in tools/list | the new server’s own cold start (reference) |',
    '|---|---|---|---|',
  ];
  for (const r of rows) {
    if (!r.reps.length) out.push(`| ${r.label} | ${r.error ?? 'no data'} | | |`);
    else
      out.push(
        `| ${r.label} | ${f(r.reps.map((x) => x.notify))} | ${f(r.reps.map((x) => x.listed))} | ${f(r.reps.map((x) => x.coldStart))} |`,
      );
  }
  return out.join('\n');
}
