// Table 6: Code Mode. tools/list bytes per mode (four real servers, and 200 fixture tools); `search` time over
// 1,000 tools; `execute` overhead for `return 1` against a plain tool call through the same gateway; a tool
// call inside `execute` against the same call made directly; `api.parallel` of slow calls (its width) against one.
import { join } from 'node:path';

import { connect } from '../lib/clients.mjs';
import * as G from '../lib/gateways.mjs';
import { ROOT } from '../lib/paths.mjs';
import { everythingStdio, serverSet } from '../lib/servers.mjs';
import { fmtSpread, median, msSince, num } from '../lib/stats.mjs';
import { firstLine } from '../lib/targets.mjs';

export const name = 'codemode';
const ALL_MODES = ['direct', 'code', 'meta'];
const FIXTURES = join(ROOT, 'test', 'fixtures', 'servers');
const SLOW_MS = 200;

const manyTools = (name, count) => ({
  command: process.execPath,
  args: [join(FIXTURES, 'many-tools.mjs')],
  env: { TOOL_COUNT: String(count), FIXTURE_NAME: name },
});
const okFixture = () => ({ command: process.execPath, args: [join(FIXTURES, 'ok.mjs')] });

/** Start mcproxy in a mode; { reason } when it cannot start. */
async function startInMode(servers, mode) {
  try {
    return { g: await G.startMcproxy(servers, { extraArgs: ['--mode', mode], timeoutMs: 60000 }) };
  } catch (err) {
    return { reason: `not available: \`--mode ${mode}\` did not start (${firstLine(err.message).slice(0, 100)})` };
  }
}

/** Returns null when `--mode code` is accepted, else the reason. */
export async function codeModeAvailable() {
  if (!G.mcproxyBuilt()) return 'not available yet: dist/main.js does not exist';
  const { g, reason } = await startInMode(serverSet(1), 'code');
  await g?.stop();
  return reason ?? null;
}

async function listBytes(servers, modes) {
  const out = {};
  for (const mode of modes) {
    const { g, reason } = await startInMode(servers, mode);
    if (!g) {
      out[mode] = { error: reason };
      continue;
    }
    let c;
    try {
      c = await connect(g.fronts.mcp);
      const res = await c.client.listTools();
      out[mode] = {
        bytes: Buffer.byteLength(JSON.stringify(res)),
        tools: res.tools.length,
        names: res.tools.slice(0, 6).map((t) => t.name),
      };
    } catch (err) {
      out[mode] = { error: `failed: ${firstLine(err.message)}` };
    } finally {
      await c?.close();
      await g.stop();
    }
  }
  return out;
}

/** Times `count` runs of `fn` after `warm` warm-up runs; returns the samples in ms. */
async function timed(fn, { count, warm = 3 }) {
  for (let i = 0; i < warm; i++) await fn();
  const samples = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(msSince(t0));
  }
  return samples;
}

function parseAnswer(res) {
  const answer = res.structuredContent ?? JSON.parse(res.content?.[0]?.text ?? '{}');
  if (!answer.ok) throw new Error(`execute failed: ${JSON.stringify(answer.error).slice(0, 200)}`);
  return answer.result;
}

/**
 * The three single-call figures are measured in rounds, one of each per round in a rotating order, so that the
 * machine's drift (JIT warm-up, other load) falls on all three alike; the overheads are the medians of each
 * round's differences (paired), not differences of medians taken at different times.
 */
async function pairedRounds(kinds, { rounds, warm }) {
  const samples = Object.fromEntries(Object.keys(kinds).map((kind) => [kind, []]));
  const names = Object.keys(kinds);
  for (let round = 0; round < warm + rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const kind = names[(round + k) % names.length];
      const t0 = process.hrtime.bigint();
      await kinds[kind]();
      if (round >= warm) samples[kind].push(msSince(t0));
    }
  }
  return samples;
}

async function executeRows(ctx) {
  const servers = { everything: everythingStdio(), ok: okFixture() };
  const { g, reason } = await startInMode(servers, 'code');
  if (!g) return { error: reason };
  const code = await connect(g.fronts.mcp);
  // The same gateway serves server-everything alone, unprefixed, in direct mode at /mcp/everything.
  const direct = await connect({ kind: 'http', url: `${g.base}/mcp/everything` });
  const { PARALLEL_CONCURRENCY: width } = await import(join(ROOT, 'dist', 'codemode', 'bindings.js'));
  const warm = ctx.quick ? 3 : 50;
  const exec = (source) => async () =>
    parseAnswer(
      await code.client.callTool({ name: 'execute', arguments: { code: source } }, undefined, { timeout: 60000 }),
    );
  try {
    const { plainCall, returnOne, callInside } = await pairedRounds(
      {
        plainCall: () => direct.client.callTool({ name: 'echo', arguments: { message: 'x' } }),
        returnOne: exec('return 1'),
        callInside: exec("return await api.call_tool('everything', 'echo', { message: 'x' })"),
      },
      { rounds: ctx.quick ? 5 : 200, warm },
    );
    const slowOne = await timed(exec(`return await api.call_tool('ok', 'slow', { ms: ${SLOW_MS} })`), {
      count: ctx.quick ? 2 : 8,
      warm: 1,
    });
    const slowMany = await timed(
      exec(
        `return await api.parallel(Array.from({ length: ${width} }, () => ({ server: 'ok', tool: 'slow', args: { ms: ${SLOW_MS} } })))`,
      ),
      { count: ctx.quick ? 2 : 8, warm: 1 },
    );
    return { plainCall, returnOne, callInside, slowOne, slowMany, width, rounds: plainCall.length, warm };
  } finally {
    await code.close();
    await direct.close();
    await g.stop();
  }
}

async function searchRows(ctx) {
  const servers = {};
  const perServer = 200;
  const count = ctx.quick ? 1 : 5;
  for (let i = 0; i < count; i++) servers[`many${i}`] = manyTools(`many${i}`, perServer);
  const { g, reason } = await startInMode(servers, 'code');
  if (!g) return { error: reason };
  const c = await connect(g.fronts.mcp);
  const queries = ['list issues', 'create_user', 'delete reposit', 'search', 'get file contents', 'update'];
  try {
    let i = 0;
    const samples = await timed(
      () =>
        c.client.callTool({
          name: 'search',
          arguments: { query: queries[i++ % queries.length], max_depth: 2, limit: 10 },
        }),
      { count: ctx.quick ? 6 : 60, warm: 6 },
    );
    return { samples, tools: count * perServer };
  } finally {
    await c.close();
    await g.stop();
  }
}

export async function run(ctx) {
  if (!G.mcproxyBuilt()) return { available: false, reason: 'not available yet: dist/main.js does not exist' };
  const real = ctx.quick ? serverSet(1) : serverSet(4, 'mix');
  const modes = await listBytes(real, ctx.quick ? ['direct', 'code'] : ALL_MODES);
  ctx.log(
    `  tools/list bytes: ${Object.entries(modes)
      .map(([m, x]) => `${m} ${x.bytes ?? x.error}`)
      .join(', ')}`,
  );
  const fixture = await listBytes({ many: manyTools('many', 200) }, ctx.quick ? ['direct', 'code'] : ALL_MODES);
  const search = await searchRows(ctx).catch((err) => ({ error: `failed: ${firstLine(err.message)}` }));
  ctx.log(
    `  search over ${search.tools ?? '?'} tools: median ${search.samples ? num(median(search.samples), 3) : search.error} ms`,
  );
  const exec = await executeRows(ctx).catch((err) => ({ error: `failed: ${firstLine(err.message)}` }));
  ctx.log(`  execute return 1: median ${exec.returnOne ? num(median(exec.returnOne), 3) : exec.error} ms`);
  return { available: true, modes, fixture, search, exec, servers: Object.keys(real).length };
}

function modeTable(title, res, out) {
  out.push('', title, '', '| mode | tools | tools/list bytes | vs direct | first tools |', '|---|---|---|---|---|');
  const direct = res?.direct?.bytes;
  for (const m of ALL_MODES) {
    const x = res?.[m];
    if (!x) out.push(`| ${m} | not measured in this run | | | |`);
    else if (x.error) out.push(`| ${m} | ${x.error} | | | |`);
    else
      out.push(
        `| ${m} | ${x.tools} | ${x.bytes.toLocaleString('en-US')} | ${direct ? num(x.bytes / direct, 3) + '×' : '—'} | ${x.names.map((n) => `\`${n}\``).join(', ')} |`,
      );
  }
}

export function render(res) {
  const out = [];
  if (!res.available) return res.reason ?? 'not available';
  out.push(
    'Bytes: the JSON of the tools/list result, one measurement (deterministic). Times: SDK client over `/mcp`,',
    'one call at a time after warm-up; median (min–max, or p10–p90 with ten or more samples) in ms.',
  );
  modeTable(
    res.servers === 1
      ? 'tools/list with one server-everything (--quick):'
      : 'tools/list with the four real servers (server-everything, -memory, -filesystem, -sequential-thinking):',
    res.modes,
    out,
  );
  modeTable('tools/list with the 200-tool fixture server (`test/fixtures/servers/many-tools.mjs`):', res.fixture, out);
  out.push('', '| figure | ms | reference | ms |', '|---|---|---|---|');
  const s = res.search;
  if (s.error) out.push(`| \`search\` (depth 2, limit 10) | ${s.error} | | |`);
  else
    out.push(
      `| \`search\` over ${s.tools.toLocaleString('en-US')} tools (depth 2, limit 10) | ${fmtSpread(s.samples, 3)} | — | |`,
    );
  const e = res.exec;
  if (e.error) out.push(`| \`execute\` rows | ${e.error} | | |`);
  else {
    const plain = fmtSpread(e.plainCall, 3);
    // Per round: what execute adds to a call, and what a call inside execute costs beyond the same call direct.
    const overhead = e.returnOne.map((ms, i) => ms - e.plainCall[i]);
    const wrapped = e.callInside.map((ms, i) => ms - e.plainCall[i]);
    const inner = e.callInside.map((ms, i) => ms - e.returnOne[i]);
    out.push(
      `| \`execute\` of \`return 1\` | ${fmtSpread(e.returnOne, 3)} | a plain \`echo\` call through the same gateway (\`/mcp/everything\`) | ${plain} |`,
      `| \`execute\` that calls \`echo\` once | ${fmtSpread(e.callInside, 3)} | the same \`echo\` call made directly | ${plain} |`,
      `| \`execute\` with \`api.parallel\` of ${e.width} ${SLOW_MS} ms calls (its width) | ${fmtSpread(e.slowMany, 3)} | \`execute\` with one ${SLOW_MS} ms call | ${fmtSpread(e.slowOne, 3)} |`,
      '',
      `_${e.rounds} rounds, each one plain call, one \`return 1\` and one execute that calls echo, in rotating order after ${e.warm} warm-up rounds; the overheads are medians of each round's differences (p10–p90). ` +
        `execute overhead (\`return 1\` minus the plain call): ${fmtSpread(overhead, 3)} ms (goal: within 2 ms); ` +
        `an execute that calls echo once costs ${fmtSpread(wrapped, 3)} ms more than the same call direct; ` +
        `the call itself inside execute (that execute minus \`return 1\`, per round) costs ${fmtSpread(inner, 3)} ms against ${num(median(e.plainCall), 3)} ms for the same call made directly (goal: within 1 ms of it); ` +
        `${e.width} parallel slow calls take ${num(median(e.slowMany) / median(e.slowOne), 2)}× one (\`api.parallel\` runs at most ${e.width} at a time)._`,
    );
  }
  return out.join('\n');
}
