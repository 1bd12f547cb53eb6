import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { resolveSandboxLimits, type SandboxLimits } from '../../src/codemode/settings.js';
import { mathServer, TestHost, weatherServer } from './host.js';

// Each abuse case of the issue, contained: the answer names what happened, and the host is unharmed.
let host: TestHost;
let pool: SandboxPool;
let search: CatalogSearch;
const limits: SandboxLimits = resolveSandboxLimits({ timeout_secs: 1.5, memory_mb: 32 });

async function run(code: string, overrides: Partial<SandboxLimits> = {}): Promise<ExecuteAnswer> {
  return runExecution({ host, pool, search, limits: { ...limits, ...overrides } }, { code });
}

function failure(answer: ExecuteAnswer) {
  if (answer.ok) throw new Error(`expected a failure, got ${JSON.stringify(answer.result)}`);
  return answer.error;
}

function success(answer: ExecuteAnswer): unknown {
  if (!answer.ok) throw new Error(`expected success, got ${JSON.stringify(answer.error)}`);
  return answer.result;
}

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('math', mathServer());
  await host.addInMemory('weather', weatherServer());
  pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 4 });
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await pool.close();
  await host.close();
});

describe('code that is wrong', () => {
  it('reports a syntax error with its line and column in the user code', async () => {
    const error = failure(await run('const a = 1;\nconst b = ;\nreturn a'));
    expect(error).toMatchObject({ type: 'SyntaxError', line: 2, column: 11 });
  });

  it('reports a syntax error on line 1 with the column of the user code, not the wrapper', async () => {
    const error = failure(await run('return )'));
    expect(error).toMatchObject({ type: 'SyntaxError', line: 1, column: 8 });
  });

  it('reports a thrown error with its message and line', async () => {
    const error = failure(await run('const x = 1;\n\nthrow new RangeError("bad " + x);'));
    expect(error).toMatchObject({ type: 'Error', name: 'RangeError', message: 'bad 1', line: 3 });
  });

  it('reports an error thrown in an async arrow function with its line', async () => {
    const error = failure(await run('async (api) => {\n  await 0;\n  null.boom;\n}'));
    expect(error).toMatchObject({ type: 'Error', name: 'TypeError', line: 3 });
  });
});

describe('runaway code', () => {
  it('stops while(true){} at the deadline', async () => {
    const error = failure(await run('while (true) {}', { timeoutMs: 300 }));
    // Its own deadline, not the configured 1.5 s.
    expect(error).toMatchObject({ type: 'Timeout', message: 'execution exceeded 300 ms' });
  });

  it('stops a loop that catches the interrupt and keeps going', async () => {
    const error = failure(await run('for (;;) { try { while (true) {} } catch (e) {} }', { timeoutMs: 300 }));
    expect(error.type).toBe('Timeout');
  });

  it('ends at once on a promise that nothing can settle', async () => {
    const answer = await run('await new Promise(() => {}); return 1');
    // Unsettled, not Timeout: it ended before its deadline, once nothing was left that could settle it.
    expect(failure(answer).type).toBe('Unsettled');
  });

  it('ends a timer that would outlive the deadline at the deadline', async () => {
    const error = failure(await run('await new Promise((r) => setTimeout(r, 1e9)); return 1', { timeoutMs: 300 }));
    expect(error.type).toBe('Timeout');
  });

  it('never runs a timer after the execution has answered', async () => {
    const answer = await run('setTimeout(() => { console.log("late"); while (true) {} }, 5); return "done"');
    expect(success(answer)).toBe('done');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answer.logs).toEqual([]);
    // The worker is free and fast: the timer died with the execution.
    expect(success(await run('return 2'))).toBe(2);
  });

  it('runs timers that fire before the deadline', async () => {
    const code =
      'const order = []; setTimeout(() => order.push("b"), 20); setTimeout(() => order.push("a"), 5);\n' +
      'await new Promise((r) => setTimeout(r, 40)); return order';
    expect(success(await run(code))).toEqual(['a', 'b']);
  });

  it('stops deep recursion', async () => {
    const error = failure(await run('function f(n) { return f(n + 1) + 1 } return f(0)'));
    expect(error.type).toBe('LimitExceeded');
    expect(error.message).toMatch(/stack overflow/);
  });
});

describe('memory bombs', () => {
  it.each([
    ['an array of objects', 'const a = []; for (;;) a.push({ n: a.length, s: "x" + a.length });'],
    ['doubling strings kept alive', 'const keep = []; let s = "x"; for (;;) { s = s.repeat(2); keep.push(s); }'],
    ['ArrayBuffers', 'const b = []; for (;;) b.push(new ArrayBuffer(1 << 20));'],
    ['one huge typed array', 'return new Uint8Array(1 << 29).length'],
    [
      'repeated 1 MiB strings',
      'const s = []; for (let i = 0; i < 1000; i++) s.push("x".repeat(1 << 20) + i); return s.length',
    ],
  ])('contains %s', async (_name, code) => {
    const error = failure(await run(code, { timeoutMs: 5_000 }));
    expect(error.type).toBe('MemoryLimit');
  });

  it('still runs normal code on the same pool afterwards', async () => {
    expect(success(await run('return [1, 2, 3].map((x) => x * 2)'))).toEqual([2, 4, 6]);
  });
});

describe('limits', () => {
  it('stops the 51st of 100 tool calls before it reaches the host', async () => {
    const answer = await run('for (let i = 0; i < 100; i++) await api.call_tool("math", "add", { a: i, b: 1 });');
    expect(failure(answer).type).toBe('LimitExceeded');
    expect(failure(answer).message).toMatch(/50 tool calls/);
    expect(answer.stats.toolCalls).toBe(50);
  });

  it('ends a flood of 1,000 calls at once with the tool-call limit, not the pending-call cap', async () => {
    const code =
      'await Promise.all(Array.from({ length: 1000 }, (_, i) => api.call_tool("math", "add", { a: i, b: 1 })))';
    const answer = await run(code);
    expect(failure(answer)).toMatchObject({
      type: 'LimitExceeded',
      message: 'more than 50 tool calls in one execution',
    });
    expect(answer.stats.toolCalls).toBeLessThanOrEqual(50);
  });

  it('does not let the code catch the tool-call limit and carry on', async () => {
    const code =
      'let n = 0; for (let i = 0; i < 100; i++) { try { await api.call_tool("math", "add", { a: 1, b: 1 }); n++ } catch (e) {} } return n';
    expect(failure(await run(code)).type).toBe('LimitExceeded');
  });

  it('counts api.parallel calls against the same limit', async () => {
    const code =
      'return api.parallel(Array.from({ length: 60 }, () => ({ server: "math", tool: "add", args: { a: 1, b: 2 } })))';
    expect(failure(await run(code)).type).toBe('LimitExceeded');
  });

  it('cuts a 50 MB return value to the output limit, saying how much was cut', async () => {
    // A generous clock: building 50 MB inside QuickJS is slow on a loaded machine, and the point is the limit.
    const answer = await run('return "x".repeat(50 * 1024 * 1024)', { memoryMb: 128, timeoutMs: 30_000 });
    if (!answer.ok) throw new Error(`expected a cut result, got ${JSON.stringify(answer.error)}`);
    const text = answer.result as string;
    expect(Buffer.byteLength(JSON.stringify(text))).toBeLessThanOrEqual(1024 * 1024);
    expect(text.endsWith('characters cut]')).toBe(true);
    expect(answer.truncated).toMatch(
      /cut to fit the output limit of 1048576 bytes: \d+ characters of strings left out/,
    );
  });

  it('cuts a large array structurally: the items that fit, then a marker with the count left out', async () => {
    const code =
      'const rows = []; for (let i = 0; i < 100000; i++) rows.push({ i, name: "row " + i }); return { rows, total: rows.length }';
    const answer = await run(code, { timeoutMs: 10_000 });
    if (!answer.ok) throw new Error(`expected a cut result, got ${JSON.stringify(answer.error)}`);
    const { rows } = answer.result as { rows: unknown[] };
    const kept = rows.length - 1;
    expect(rows.slice(0, 3)).toEqual([
      { i: 0, name: 'row 0' },
      { i: 1, name: 'row 1' },
      { i: 2, name: 'row 2' },
    ]);
    expect(rows.at(-1)).toBe(`… [${100000 - kept} more items cut]`);
    expect(answer.truncated).toContain(`${100000 - kept} array items`);
    expect(Buffer.byteLength(JSON.stringify(answer.result))).toBeLessThanOrEqual(1024 * 1024);
  });

  it('stops console output past the output limit', async () => {
    const answer = await run('for (let i = 0; i < 1e6; i++) console.log("line " + i + " ".repeat(100));', {
      maxOutputBytes: 64 * 1024,
    });
    expect(failure(answer).type).toBe('LimitExceeded');
    const logged = answer.logs.reduce((sum, entry) => sum + entry.message.length, 0);
    expect(logged).toBeLessThanOrEqual(64 * 1024);
  });

  it('refuses code larger than max_code_bytes before running it', async () => {
    const answer = await run(`return 1; // ${'x'.repeat(70 * 1024)}`);
    // Had it run, it would have returned 1.
    expect(failure(answer)).toMatchObject({
      type: 'LimitExceeded',
      message: `the code is ${70 * 1024 + 13} bytes; the limit is ${limits.maxCodeBytes}`,
    });
  });
});

describe('no way out', () => {
  it('has no process, require, module or host globals', async () => {
    const code =
      'return [typeof process, typeof require, typeof module, typeof Buffer, typeof globalThis.process, typeof std, typeof os]';
    expect(success(await run(code))).toEqual(Array(7).fill('undefined'));
  });

  it('makes import() fail', async () => {
    const answer = await run('const fs = await import("node:fs"); return typeof fs');
    expect(failure(answer)).toMatchObject({ type: 'Error', message: 'import is not available in the sandbox' });
    expect(failure(await run('import fs from "fs"; return 1')).type).toBe('SyntaxError');
  });

  it('reaches only the guest realm through constructor chains', async () => {
    const code = `
      const viaConstructor = globalThis.constructor.constructor('return typeof process')();
      const viaFunction = Function('return this')() === globalThis;
      const viaEval = (0, eval)('typeof require');
      const viaAsync = (async () => {}).constructor('return typeof process');
      const viaError = new Error().constructor.constructor('return typeof globalThis.process')();
      return [viaConstructor, viaFunction, viaEval, typeof (await viaAsync()), viaError];`;
    expect(success(await run(code))).toEqual(['undefined', true, 'undefined', 'string', 'undefined']);
    expect(success(await run('return (async () => {}).constructor("return typeof process")()'))).toBe('undefined');
  });

  it('has no WebAssembly, SharedArrayBuffer or Atomics', async () => {
    expect(success(await run('return [typeof WebAssembly, typeof SharedArrayBuffer, typeof Atomics]'))).toEqual([
      'undefined',
      'undefined',
      'undefined',
    ]);
  });

  it('gives api.fetch and fetch a clear error when the network is off', async () => {
    const answer = await run('try { await fetch("https://example.com") } catch (e) { return e.message }');
    expect(success(answer)).toMatch(/network access is disabled/);
    expect(failure(await run('return await api.fetch("https://example.com")')).message).toMatch(
      /network access is disabled/,
    );
  });

  it('keeps a returned __proto__ key away from host prototypes', async () => {
    const code =
      'return JSON.parse(\'{"__proto__": {"polluted": "yes"}, "nested": {"__proto__": {"polluted": "yes"}}, "a": 1}\')';
    const result = success(await run(code)) as Record<string, unknown>;
    expect(result).toEqual({ nested: {}, a: 1 });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    const target: Record<string, unknown> = {};
    Object.assign(target, result, result.nested);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(target.polluted).toBeUndefined();
  });

  it('keeps __proto__ keys in tool arguments away from the host too', async () => {
    const code =
      'const args = JSON.parse(\'{"__proto__": {"polluted": "yes"}, "x": 1}\'); return api.call_tool("math", "echo-args", args)';
    expect(success(await run(code))).toEqual({ keys: ['x'], protoIsObject: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('cannot change how the bridge parses replies by replacing JSON', async () => {
    const code = 'JSON.parse = () => ({ hacked: true }); return await api.call_tool("math", "add", { a: 1, b: 2 })';
    expect(success(await run(code))).toBe(3);
  });
});
