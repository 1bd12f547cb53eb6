import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { resolveSandboxLimits } from '../../src/codemode/settings.js';
import { createCodeModeTools } from '../../src/codemode/tools.js';
import { mathServer, TestHost, weatherServer } from './host.js';

let host: TestHost;
let pool: SandboxPool;
let search: CatalogSearch;
const limits = resolveSandboxLimits({ timeout_secs: 5 });

const run = (code: string, namespace?: string): Promise<ExecuteAnswer> =>
  runExecution({ host, pool, search, limits }, { code, namespace });

function result(answer: ExecuteAnswer): unknown {
  if (!answer.ok) throw new Error(`expected success, got ${JSON.stringify(answer.error)}`);
  return answer.result;
}

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('weather', weatherServer(), { description: 'Forecasts and alerts' });
  await host.addInMemory('math', mathServer(), { description: 'Arithmetic' });
  pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 4 });
  pool.warm();
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await pool.close();
  await host.close();
});

beforeEach(() => {
  host.deny.clear();
  host.maxInFlight = 0;
});

describe('execute', () => {
  it('calls tools on two servers and returns the combined JSON', async () => {
    const code = `
      const forecast = await api.call_tool('weather', 'get_forecast', { city: 'Lisbon' });
      const doubled = await api.server('math').add({ a: forecast.tempC, b: forecast.tempC });
      console.log('forecast', forecast);
      return { city: forecast.city, tempC: forecast.tempC, doubled };`;
    const answer = await run(code);
    expect(result(answer)).toEqual({ city: 'Lisbon', tempC: 12, doubled: 24 });
    expect(answer.logs).toEqual([{ level: 'log', message: 'forecast {"city":"Lisbon","tempC":12}' }]);
    expect(answer.stats.toolCalls).toBe(2);
    expect(host.calls.slice(-2)).toEqual(['weather/get_forecast', 'math/add']);
  });

  it('accepts an async arrow function as well as a body', async () => {
    expect(result(await run('async (api) => (await api.call_tool("math", "add", { a: 1, b: 2 })) * 10;'))).toBe(30);
    expect(result(await run('async () => { return 5 }'))).toBe(5);
    expect(result(await run('async () => 1; return 2'))).toBe(2);
    expect(result(await run('const f = async () => 3;\nreturn await f()'))).toBe(3);
    expect(result(await run('console.log("no return")'))).toBeNull();
  });

  it('hands results over as structured content, parsed JSON text, text, or the raw content', async () => {
    const code = `return {
      structured: await api.call_tool('weather', 'get_forecast', { city: 'Oslo' }),
      jsonText: await api.call_tool('weather', 'get_alerts', { region: 'north' }),
      number: await api.call_tool('math', 'add', { a: 1, b: 1 }),
      text: await api.call_tool('math', 'greet', { name: 'Ada' }),
      joined: await api.call_tool('math', 'lines', {}),
      raw: await api.call_tool('math', 'pixel'),
    }`;
    expect(result(await run(code))).toEqual({
      structured: { city: 'Oslo', tempC: 8 },
      jsonText: { region: 'north', alerts: ['storm in north'] },
      number: 2,
      text: 'hello Ada',
      joined: 'first\nsecond',
      raw: [{ type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }],
    });
  });

  it('turns a tool error into a catchable ToolError with server and tool', async () => {
    const code = `
      try {
        await api.call_tool('math', 'divide', { a: 1, b: 0 });
      } catch (e) {
        return { isToolError: e instanceof ToolError, name: e.name, message: e.message, server: e.server, tool: e.tool };
      }`;
    expect(result(await run(code))).toEqual({
      isToolError: true,
      name: 'ToolError',
      message: 'division by zero',
      server: 'math',
      tool: 'divide',
    });
  });

  it('reports an uncaught ToolError with its server, tool and line', async () => {
    const answer = await run('const x = 1;\nawait api.server("math").divide({ a: 1, b: 0 });');
    expect(answer).toMatchObject({
      ok: false,
      error: { type: 'Error', name: 'ToolError', message: 'division by zero', server: 'math', tool: 'divide', line: 2 },
    });
  });

  it('leaves access to the host: a denied call is a ToolError with the host code', async () => {
    host.deny.add('math/add');
    const code = 'try { await api.call_tool("math", "add", { a: 1, b: 1 }) } catch (e) { return [e.code, e.message] }';
    expect(result(await run(code))).toEqual(['ACCESS_DENIED', 'math/add is not allowed']);
  });

  it('suggests close names for an unknown tool or server', async () => {
    const tool = await run('return await api.call_tool("math", "ad", { a: 1 })');
    expect(tool).toMatchObject({ ok: false, error: { name: 'ToolError', tool: 'ad' } });
    if (!tool.ok) expect(tool.error.message).toBe('unknown tool "ad" on server "math". Did you mean "add"?');
    const server = await run('return await api.server("wether").get_forecast({ city: "x" })');
    if (server.ok) throw new Error('expected failure');
    expect(server.error.message).toBe('unknown server "wether". Did you mean "weather"?');
    const elsewhere = await run('return await api.call_tool("math", "get_alerts", {})');
    if (elsewhere.ok) throw new Error('expected failure');
    expect(elsewhere.error.message).toMatch(/A tool of that name is on "weather"/);
  });

  it('maps stub method names back to tool names (echo_args is echo-args)', async () => {
    const answer = await run('return await api.server("math").echo_args({ x: 1 })');
    expect(result(answer)).toEqual({ keys: ['x'], protoIsObject: true });
    expect(host.calls.at(-1)).toBe('math/echo-args');
  });

  it('runs api.parallel on the host, in order, with per-call errors and a concurrency cap', async () => {
    const code = `
      const calls = Array.from({ length: 12 }, (_, i) => ({ server: 'math', tool: 'slow', args: { ms: 40 + i } }));
      calls.push({ server: 'math', tool: 'divide', args: { a: 1, b: 0 } });
      const results = await api.parallel(calls);
      return results.map((r) => (r.ok ? r.value : 'error: ' + r.error.message));`;
    const answer = await run(code);
    const expected = [...Array.from({ length: 12 }, (_, i) => `slept ${40 + i}`), 'error: division by zero'];
    expect(result(answer)).toEqual(expected);
    expect(host.maxInFlight).toBe(8);
    expect(answer.stats.toolCalls).toBe(13);

    host.maxInFlight = 0;
    await run(
      'return api.parallel([1, 2, 3, 4].map(() => ({ server: "math", tool: "slow", args: { ms: 20 } })), { concurrency: 2 })',
    );
    expect(host.maxInFlight).toBe(2);
  });

  it('offers api.manifest and api.search inside the sandbox', async () => {
    const code = `
      const manifest = await api.manifest();
      const found = await api.search('forecast');
      return { servers: manifest.servers.map((s) => s.name + ':' + s.tools.length), first: found.tools[0].name };`;
    expect(result(await run(code))).toEqual({ servers: ['weather:2', 'math:7'], first: 'get_forecast' });
  });

  it('captures console levels in order', async () => {
    const code =
      'console.log("a", 1); console.info({ b: 2 }); console.warn(["c"]); console.error(new Error("d")); console.debug(null)';
    expect((await run(code)).logs).toEqual([
      { level: 'log', message: 'a 1' },
      { level: 'info', message: '{"b":2}' },
      { level: 'warn', message: '["c"]' },
      { level: 'error', message: 'Error: d' },
      { level: 'debug', message: 'null' },
    ]);
  });

  it('keeps logs written before a failure', async () => {
    const answer = await run('console.log("before"); throw new Error("after")');
    expect(answer).toMatchObject({ ok: false, logs: [{ level: 'log', message: 'before' }] });
  });
});

describe('the execute tool', () => {
  it('answers with the JSON text, structured content and isError on failure', async () => {
    const tools = createCodeModeTools(host, { pool, sandbox: { timeout_secs: 5 } });
    const ok = await tools.call('execute', { code: 'return { sum: await api.server("math").add({ a: 2, b: 2 }) }' });
    expect(ok.isError).toBeUndefined();
    expect(ok.structuredContent).toMatchObject({ ok: true, result: { sum: 4 } });
    expect(JSON.parse((ok.content[0] as { text: string }).text)).toEqual(ok.structuredContent);

    const failed = await tools.call('execute', { code: 'throw new Error("nope")' });
    expect(failed.isError).toBe(true);
    expect(failed.structuredContent).toMatchObject({ ok: false, error: { type: 'Error', message: 'nope', line: 1 } });

    const invalid = await tools.call('execute', { code: 42 });
    expect(invalid.isError).toBe(true);
    expect((invalid.content[0] as { text: string }).text).toMatch(/invalid arguments for execute: code/);
    await tools.close();
  });

  it('lets timeout_secs lower the configured limit but never raise it', async () => {
    const tools = createCodeModeTools(host, { pool, sandbox: { timeout_secs: 1 } });
    const lowered = await tools.call('execute', { code: 'while (true) {}', timeout_secs: 0.2 });
    expect(lowered.structuredContent).toMatchObject({
      ok: false,
      error: { type: 'Timeout', message: 'execution exceeded 200 ms' },
    });
    const raised = await tools.call('execute', { code: 'while (true) {}', timeout_secs: 60 });
    expect(raised.structuredContent).toMatchObject({
      ok: false,
      error: { type: 'Timeout', message: 'execution exceeded 1000 ms' },
    });
    await tools.close();
  });
});
