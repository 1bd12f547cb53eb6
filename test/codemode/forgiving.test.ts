import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { SessionState } from '../../src/codemode/session-state.js';
import { resolveSandboxLimits } from '../../src/codemode/settings.js';
import { createCodeModeTools } from '../../src/codemode/tools.js';
import { stopWorker } from '../../src/codemode/typescript.js';
import { mathServer, TestHost, weatherServer } from './host.js';

let host: TestHost;
let pool: SandboxPool;
let search: CatalogSearch;
const limits = resolveSandboxLimits({ timeout_secs: 5 });

const run = (code: string, extra: { timeoutMs?: number; state?: SessionState } = {}): Promise<ExecuteAnswer> =>
  runExecution({ host, pool, search, limits }, { code, ...extra });

function result(answer: ExecuteAnswer): unknown {
  if (!answer.ok) throw new Error(`expected success, got ${JSON.stringify(answer.error)}`);
  return answer.result;
}

function failure(answer: ExecuteAnswer) {
  if (answer.ok) throw new Error(`expected a failure, got ${JSON.stringify(answer.result)}`);
  return answer.error;
}

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('weather', weatherServer());
  await host.addInMemory('math', mathServer());
  pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 8 });
  search = new CatalogSearch(host);
});

afterAll(async () => {
  stopWorker();
  search.close();
  await pool.close();
  await host.close();
});

describe('code as models write it', () => {
  it('runs code inside a Markdown fence, with or without a language tag or prose around it', async () => {
    expect(result(await run('```js\nreturn 1 + 1\n```'))).toBe(2);
    expect(result(await run('```\nreturn "bare"\n```\n'))).toBe('bare');
    expect(result(await run('Here is the code:\n\n```javascript\nreturn [1, 2].length\n```\nDone.'))).toBe(2);
  });

  it('reports error lines against the code as sent, fence included', async () => {
    const error = failure(await run('```js\nconst a = 1;\nthrow new Error("boom " + a);\n```'));
    expect(error).toMatchObject({ message: 'boom 1', line: 3 });
  });

  it('strips TypeScript types when the code is not JavaScript, and keeps line numbers', async () => {
    const code = [
      'interface Sum { total: number }',
      'const a: number = 2;',
      'const r = (await api.call_tool("math", "add", { a, b: 3 })) as number;',
      'const out: Sum = { total: r };',
      'return out;',
    ].join('\n');
    expect(result(await run(code))).toEqual({ total: 5 });
    const failing = failure(await run('const x: string = "a";\n\nthrow new Error(x);'));
    expect(failing).toMatchObject({ message: 'a', line: 3 });
  });

  it('treats a ```ts fence as TypeScript from the start', async () => {
    expect(
      result(await run('```ts\nfunction twice<T>(v: T): T[] { return [v, v]; }\nreturn twice<number>(4);\n```')),
    ).toEqual([4, 4]);
  });

  it('leaves valid JavaScript alone and says so when TypeScript cannot be compiled either', async () => {
    // `a < b > c` parses differently as TypeScript; valid JavaScript is never transpiled.
    expect(result(await run('const a = 1, b = 2, c = 0; return a < b > c'))).toBe(true);
    const error = failure(await run('const x: number = ;'));
    expect(error.type).toBe('SyntaxError');
    expect(error.message).toMatch(/TypeScript could not be compiled/);
  });

  it('accepts the public name server__tool and any spelling of a tool name', async () => {
    expect(result(await run('return await api.call_tool("math__add", { a: 1, b: 2 })'))).toBe(3);
    expect(result(await run('return await api.call_tool("math", "math__add", { a: 2, b: 2 })'))).toBe(4);
    expect(result(await run('return (await api.server("math").echoArgs({ q: 1 })).keys'))).toEqual(['q']);
    expect(result(await run('return await api.server("weather").getForecast({ city: "Oslo" })'))).toEqual({
      city: 'Oslo',
      tempC: 8,
    });
  });

  it('takes functions and promises in api.parallel, beside plain calls, each with its own outcome', async () => {
    const code = `return await api.parallel([
      () => api.call_tool("math", "add", { a: 1, b: 1 }),
      api.server("math").add({ a: 2, b: 2 }),
      { server: "math", tool: "add", args: { a: 3, b: 3 } },
      async () => { throw new Error("mine") },
    ])`;
    expect(result(await run(code))).toEqual([
      { ok: true, value: 2 },
      { ok: true, value: 4 },
      { ok: true, value: 6 },
      { ok: false, error: { name: 'Error', message: 'mine' } },
    ]);
  });

  it('suggests the server meant, for slips and abbreviations', async () => {
    const slip = failure(await run('return await api.server("wether").get_alerts({ region: "x" })'));
    expect(slip.message).toMatch(/unknown server "wether". Did you mean "weather"\?/);
    const short = failure(await run('return await api.server("mth").add({ a: 1, b: 1 })'));
    expect(short.message).toMatch(/Did you mean "math"\?/);
  });

  it('names the calls still pending when the time runs out', async () => {
    const answer = await run('await api.call_tool("math", "slow", { ms: 20000 })', { timeoutMs: 800 });
    expect(failure(answer).type).toBe('Timeout');
    expect(failure(answer).message).toMatch(/still waiting for math\/slow \(for \d+\.\d s\)/);
  });
});

describe('api.state', () => {
  it('keeps what a session stores between its executions, and only what a successful one stored', async () => {
    const state = new SessionState();
    expect(result(await run('api.state.count = (api.state.count ?? 0) + 1; return api.state.count', { state }))).toBe(
      1,
    );
    expect(result(await run('api.state.count += 1; return api.state.count', { state }))).toBe(2);
    failure(await run('api.state.count = 100; throw new Error("no")', { state }));
    expect(result(await run('return api.state', { state }))).toEqual({ count: 2 });
    expect(result(await run('api.state = { replaced: true }; return 0', { state }))).toBe(0);
    expect(result(await run('return api.state', { state }))).toEqual({ replaced: true });
  });

  it('refuses to keep a state over its bound, keeping the previous one', async () => {
    const state = new SessionState(1024);
    result(await run('api.state.small = 1; return 0', { state }));
    const error = failure(await run('api.state.big = "x".repeat(5000); return 0', { state }));
    expect(error).toMatchObject({ type: 'LimitExceeded' });
    expect(error.message).toMatch(/api.state is larger than 1024 bytes/);
    expect(result(await run('return api.state', { state }))).toEqual({ small: 1 });
  });

  it("is never visible to another session's tools", async () => {
    const first = createCodeModeTools(host, { pool });
    const second = createCodeModeTools(host, { pool });
    try {
      await first.call('execute', { code: 'api.state.secret = "only mine"; return 1' });
      const mine = await first.call('execute', { code: 'return api.state.secret ?? null' });
      const theirs = await second.call('execute', { code: 'return api.state.secret ?? null' });
      expect(mine.structuredContent).toMatchObject({ ok: true, result: 'only mine' });
      expect(theirs.structuredContent).toMatchObject({ ok: true, result: null });
    } finally {
      await first.close();
      await second.close();
    }
  });
});
