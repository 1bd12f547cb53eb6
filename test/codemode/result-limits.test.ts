import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_TOOL_RESULT_BYTES_PER_EXECUTION, PARALLEL_CONCURRENCY } from '../../src/codemode/bindings.js';
import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { MAX_JSON_DEPTH } from '../../src/codemode/safe-json.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { resolveSandboxLimits, type SandboxLimits } from '../../src/codemode/settings.js';
import { fixturePath } from '../helpers/paths.js';
import { TestHost } from './host.js';

// Tool results that are too large in all, too large for the guest, or nested too deep: each ends with an error
// that names the limit, and the pool runs the next execution as usual.
let host: TestHost;
let pool: SandboxPool;
let search: CatalogSearch;
const limits: SandboxLimits = resolveSandboxLimits({ timeout_secs: 20 });
/** Under the per-result limit (8 MiB), so only the per-execution total can refuse it. */
const RESULT_BYTES = 7_000_000;

async function run(code: string, overrides: Partial<SandboxLimits> = {}): Promise<ExecuteAnswer> {
  return runExecution({ host, pool, search, limits: { ...limits, ...overrides } }, { code });
}

function success(answer: ExecuteAnswer): unknown {
  if (!answer.ok) throw new Error(`expected success, got ${JSON.stringify(answer.error)}`);
  return answer.result;
}

function failure(answer: ExecuteAnswer) {
  if (answer.ok) throw new Error(`expected a failure, got ${JSON.stringify(answer.result).slice(0, 200)}`);
  return answer.error;
}

/** How many `huge` results the fixture has sent since the last look. */
let hugeSeen = 0;
async function hugeCallsSinceLastLook(): Promise<number> {
  const { huge } = success(await run('return await api.call_tool("edge", "counts", {})')) as { huge: number };
  const since = huge - hugeSeen;
  hugeSeen = huge;
  return since;
}

beforeAll(async () => {
  host = new TestHost();
  await host.addStdio('edge', process.execPath, [fixturePath('edge-answers')]);
  pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 4 });
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await pool.close();
  await host.close();
});

describe('the bytes of tool results handed into one execution', () => {
  const fits = Math.floor(MAX_TOOL_RESULT_BYTES_PER_EXECUTION / (RESULT_BYTES + 2));
  const limitMessage = new RegExp(`passed ${MAX_TOOL_RESULT_BYTES_PER_EXECUTION} bytes, the limit per execution`);

  it('refuses the awaited calls past the limit inside the guest, and makes none after the first refusal', async () => {
    const code = `const out = [];
      for (let i = 0; i < 20; i++) {
        try { out.push((await api.call_tool("edge", "huge", { bytes: ${RESULT_BYTES} })).length) }
        catch (e) { out.push(e.name + ": " + e.message) }
      }
      return out`;
    const result = success(await run(code)) as Array<number | string>;
    expect(result.slice(0, fits)).toEqual(new Array(fits).fill(RESULT_BYTES));
    for (const refused of result.slice(fits)) expect(refused).toMatch(limitMessage);
    expect(result[fits]).toMatch(/^ToolError: /);
    // The call that passed the limit, and none after it.
    expect(await hugeCallsSinceLastLook()).toBe(fits + 1);
  });

  it('refuses the calls of one api.parallel past the limit, and makes few beyond it', async () => {
    const code = `const calls = Array.from({ length: 20 }, () => ({ server: "edge", tool: "huge", args: { bytes: ${RESULT_BYTES} } }));
      return (await api.parallel(calls)).map((r) => (r.ok ? r.value.length : r.error.message))`;
    const result = success(await run(code)) as Array<number | string>;
    expect(result.filter((r) => r === RESULT_BYTES)).toHaveLength(fits);
    expect(result.filter((r) => typeof r === 'string' && limitMessage.test(r))).toHaveLength(20 - fits);
    // Only the calls already running when the limit was passed reached the server.
    expect(await hugeCallsSinceLastLook()).toBeLessThanOrEqual(fits + PARALLEL_CONCURRENCY);
  });

  it('gives the next execution a budget of its own', async () => {
    const code = `return (await api.call_tool("edge", "huge", { bytes: ${RESULT_BYTES} })).length`;
    expect(success(await run(code))).toBe(RESULT_BYTES);
    await hugeCallsSinceLastLook();
  });
});

describe('a reply larger than the guest memory', () => {
  // The guest holds 6 MiB, then asks for two results of 7 MB in one reply of 14 MB, in a guest of 8 MiB: the copy
  // of the reply into the guest's memory cannot be allocated (it used to be written over the instance's memory).
  const HOLD_6_MIB = 'const keep = []; for (let i = 0; i < 96; i++) keep.push("k".repeat(1 << 16) + i);';
  const TWO_RESULTS = `[1, 2].map(() => ({ server: "edge", tool: "huge", args: { bytes: ${RESULT_BYTES} } }))`;

  it('is an out-of-memory error the guest can catch, and the next execution runs normally', async () => {
    const code = `${HOLD_6_MIB}
      try { await api.parallel(${TWO_RESULTS}); return "delivered" } catch (e) { return [e.name, e.message, keep.length] }`;
    expect(success(await run(code, { memoryMb: 8 }))).toEqual([
      'InternalError',
      expect.stringMatching(
        /^out of memory: a reply of \d+ bytes does not fit in the sandbox's memory \(limit 8 MB\)$/,
      ),
      96,
    ]);
    expect(success(await run('return [1, 2, 3].map((x) => x * 2)', { memoryMb: 8 }))).toEqual([2, 4, 6]);
    expect(success(await run('return [1, 2, 3].map((x) => x * 3)'))).toEqual([3, 6, 9]);
  });

  it('ends the execution with the memory limit when the code does not catch it', async () => {
    const error = failure(
      await run(`${HOLD_6_MIB} await api.parallel(${TWO_RESULTS}); return keep.length`, { memoryMb: 8 }),
    );
    expect(error).toMatchObject({ type: 'MemoryLimit', message: expect.stringMatching(/^out of memory: a reply of/) });
    expect(success(await run('return "next"', { memoryMb: 8 }))).toBe('next');
  });
});

describe('results nested too deep', () => {
  // 3,000 levels overflowed the host's stack when it parsed the guest's result; 5,000 when it serialised a tool's.
  const tooDeep = (depth: number) => `let v = 1; for (let i = 0; i < ${depth}; i++) v = [v];`;

  it('refuses a result the code returns nested deeper than the limit, with the limit', async () => {
    const error = failure(await run(`${tooDeep(3_000)} return v`));
    expect(error).toEqual({
      type: 'LimitExceeded',
      message: `the result is nested deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });

  it('returns a result nested as deep as the limit', async () => {
    const result = success(await run(`let v = 1; for (let i = 1; i < ${MAX_JSON_DEPTH}; i++) v = [v]; return v`));
    expect(JSON.stringify(result)).toBe(`${'['.repeat(MAX_JSON_DEPTH - 1)}1${']'.repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it.each([3_000, 100_000])(
    'refuses a tool result nested %i levels deep as a ToolError in the guest',
    async (depth) => {
      const code = `try { await api.call_tool("edge", "deep", { depth: ${depth} }); return "delivered" }
      catch (e) { return [e.name, e.message] }`;
      expect(success(await run(code))).toEqual([
        'ToolError',
        `the result is nested deeper than ${MAX_JSON_DEPTH} levels`,
      ]);
    },
  );

  it('refuses arguments nested deeper than the limit before they reach a tool', async () => {
    const code = `${tooDeep(3_000)} try { await api.call_tool("edge", "counts", { v }); return "called" }
      catch (e) { return [e.name, e.message] }`;
    expect(success(await run(code))).toEqual([
      'RangeError',
      `the arguments are nested deeper than ${MAX_JSON_DEPTH} levels`,
    ]);
  });

  it('still delivers a tool result nested less deep than the limit', async () => {
    const code = `const r = await api.call_tool("edge", "deep", { depth: 100 }); let n = 0;
      for (let v = r.deep; Array.isArray(v); v = v[0]) n++; return n`;
    expect(success(await run(code))).toBe(100);
  });
});
