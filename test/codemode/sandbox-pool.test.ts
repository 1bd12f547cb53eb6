import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { resolveSandboxLimits, type SandboxLimits } from '../../src/codemode/settings.js';
import { mathServer, TestHost } from './host.js';

let host: TestHost;
let search: CatalogSearch;

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('math', mathServer());
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await host.close();
});

function runner(pool: SandboxPool, limits: SandboxLimits, owner = 'one client') {
  return (code: string, signal?: AbortSignal): Promise<ExecuteAnswer> =>
    runExecution({ host, pool, search, limits }, { code, signal, owner });
}

describe('a spinning guest does not stall the gateway', () => {
  it('keeps the event loop, tool calls and other executions going while a guest spins', async () => {
    await using pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 4 });
    pool.warm();
    const run = runner(pool, resolveSandboxLimits({ timeout_secs: 2 }), 'other client');
    // Longer than the test may take: the spinner ends when it is cancelled below, never by its deadline.
    const spin = runner(pool, resolveSandboxLimits({ timeout_secs: 600 }), 'spinning client');
    await run('return 0'); // both workers started

    const controller = new AbortController();
    const spinner = spin('while (true) {}', controller.signal);
    let spinnerEnded = false;
    const ended = () => (spinnerEnded = true);
    void spinner.then(ended, ended);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the guest is spinning now

    // A guest spinning on the event loop's thread would hold these timers until it ended, and nothing ends it
    // before the cancel below.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(spinnerEnded).toBe(false);

    const direct = await host.callTool('math', 'add', { a: 2, b: 3 }, {});
    expect(direct.content).toEqual([{ type: 'text', text: '5' }]);

    const other = await run('return await api.call_tool("math", "add", { a: 20, b: 22 })');
    expect(other).toMatchObject({ ok: true, result: 42 });
    expect(spinnerEnded).toBe(false);

    controller.abort();
    expect(await spinner).toMatchObject({ ok: false, error: { type: 'Cancelled' } });
  });
});

describe('admission', () => {
  it('queues up to max_queue, then refuses with a clear error', async () => {
    await using pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 1 });
    const run = runner(pool, resolveSandboxLimits({ timeout_secs: 0.5 }));
    // The queued execution gets a clock of its own: it starts on a fresh worker once the spinner is killed.
    const patient = runner(pool, resolveSandboxLimits({ timeout_secs: 30 }));
    const first = run('while (true) {}');
    const second = patient('return "queued"');
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool.stats).toMatchObject({ running: 1, queued: 1 });
    const third = await run('return "refused"');
    expect(third).toMatchObject({ ok: false, error: { type: 'Busy' } });
    if (!third.ok)
      expect(third.error.message).toMatch(/busy with this client's code: 1 executions running and 1 waiting/);
    expect(await first).toMatchObject({ ok: false, error: { type: 'Timeout' } });
    expect(await second).toMatchObject({ ok: true, result: 'queued' });
  });

  it('cancels a running execution when its signal aborts, and the worker is replaced', async () => {
    await using pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 1 });
    const run = runner(pool, resolveSandboxLimits({ timeout_secs: 10 }));
    const controller = new AbortController();
    const spinning = run('while (true) {}', controller.signal);
    setTimeout(() => controller.abort(), 100);
    // Cancelled, not Timeout: the abort, not the 10 s deadline, ended it.
    expect(await spinning).toMatchObject({ ok: false, error: { type: 'Cancelled' } });
    expect(await run('return 7')).toMatchObject({ ok: true, result: 7 });
  });

  it('cancels a queued execution when its signal aborts', async () => {
    await using pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 2 });
    const run = runner(pool, resolveSandboxLimits({ timeout_secs: 0.5 }));
    const first = run('while (true) {}');
    const controller = new AbortController();
    const queued = run('return 1', controller.signal);
    controller.abort();
    expect(await queued).toMatchObject({ ok: false, error: { type: 'Cancelled' } });
    await first;
  });
});

describe('fair shares', () => {
  it("runs another owner's code while one owner fills its share with spinners, and refuses the spinner's excess", async () => {
    await using pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 16 });
    const spin = runner(pool, resolveSandboxLimits({ timeout_secs: 3 }), 'spinning client');
    const other = runner(pool, resolveSandboxLimits({ timeout_secs: 3 }), 'other client');
    const spinners = Array.from({ length: 18 }, () => spin('for (;;) {}'));
    let spinnersEnded = 0;
    for (const spinner of spinners) void spinner.then(() => spinnersEnded++);
    await new Promise((resolve) => setImmediate(resolve));
    // One running and four waiting (the owner's share of 2 workers and 16 places); the other 13 refused at once.
    expect(pool.stats).toMatchObject({ running: 1, queued: 4 });
    const refused = (await Promise.all(spinners.slice(5))).filter((a) => !a.ok && a.error.type === 'Busy');
    expect(refused).toHaveLength(13);
    const settledBefore = spinnersEnded;
    expect(await other('return 1')).toMatchObject({ ok: true, result: 1 });
    // Answered while every accepted spinner was still running or waiting.
    expect(spinnersEnded).toBe(settledBefore);
    await Promise.all(spinners);
  });

  it('gives a freed worker to the owner that runs the least, not to the first in the queue', async () => {
    await using pool = new SandboxPool({ maxConcurrent: 2, maxQueue: 16, maxConcurrentPerOwner: 2 });
    const aShort = runner(pool, resolveSandboxLimits({ timeout_secs: 1 }), 'a');
    const aLong = runner(pool, resolveSandboxLimits({ timeout_secs: 5 }), 'a');
    const b = runner(pool, resolveSandboxLimits({ timeout_secs: 10 }), 'b');
    // Owner a holds both workers; a's next execution is queued before b's.
    const spinning = [aShort('for (;;) {}'), aLong('for (;;) {}')];
    const queuedA = aShort('return "a"');
    const queuedB = b('return "b"');
    const order: string[] = [];
    void queuedA.then(() => order.push('a'));
    void queuedB.then(() => order.push('b'));
    // When the short spinner ends, a still runs one and b none: the freed worker goes to b.
    await Promise.all([...spinning, queuedA, queuedB]);
    expect(order).toEqual(['b', 'a']);
  });
});

describe('the wall clock', () => {
  it('terminates a worker that does not answer by the deadline and replaces it', async () => {
    // A negative grace makes the host clock fire before the guest's own interrupt: the kill path.
    await using pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 1, killGraceMs: -700 });
    const run = runner(pool, resolveSandboxLimits({ timeout_secs: 1 }));
    await run('return 0');
    const answer = await run('while (true) {}');
    // The host's clock, not the guest's interrupt, ended it: the worker was terminated.
    expect(answer).toMatchObject({
      ok: false,
      error: { type: 'Timeout', message: 'execution exceeded 1000 ms (worker terminated)' },
    });
    const patient = runner(pool, resolveSandboxLimits({ timeout_secs: 10 }));
    expect(await patient('return "fresh worker"')).toMatchObject({ ok: true, result: 'fresh worker' });
  });

  it('refuses new work after close()', async () => {
    const pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 1 });
    await pool.close();
    await pool.close();
    const answer = await runner(pool, resolveSandboxLimits())('return 1');
    expect(answer).toMatchObject({ ok: false, error: { type: 'Cancelled', message: 'the sandbox pool is closed' } });
  });
});

describe('memory', () => {
  it('caps the WebAssembly memory at memory_mb plus the module base, whatever the guest allocates', async () => {
    await using pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 1 });
    const run = runner(pool, resolveSandboxLimits({ memory_mb: 16 }));
    // 40 × 1 MiB fits a 64 MiB cap but not a 16 MiB one.
    const code = 'const keep = []; for (let i = 0; i < 40; i++) keep.push(new Uint8Array(1 << 20)); return keep.length';
    expect(await run(code)).toMatchObject({ ok: false, error: { type: 'MemoryLimit' } });
    const roomy = runner(pool, resolveSandboxLimits({ memory_mb: 64 }));
    expect(await roomy(code)).toMatchObject({ ok: true, result: 40 });
  });
});

describe('a fresh instance for every execution', () => {
  it('never lets one execution see what another left behind, however closely they follow each other', async () => {
    // One worker keeps instances ready ahead of time; each must still be used once only.
    await using pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 8 });
    const run = runner(pool, resolveSandboxLimits());
    const code = 'globalThis.seen = (globalThis.seen ?? 0) + 1; return globalThis.seen';
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await run(code));
    // Queued at once too, and with another memory cap in between (instances made for the old cap are not reused).
    answers.push(...(await Promise.all([run(code), run(code), run(code)])));
    answers.push(await runner(pool, resolveSandboxLimits({ memory_mb: 32 }))(code));
    answers.push(await run(code));
    expect(answers.map((a) => (a.ok ? a.result : a.error))).toEqual(Array(11).fill(1));
  });
});
