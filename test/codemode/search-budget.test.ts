import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch, type SearchOptions, type SearchResult } from '../../src/codemode/search.js';
import { MAX_SEARCH_CALLS_PER_EXECUTION } from '../../src/codemode/search-limits.js';
import { resolveSandboxLimits, type SandboxLimits } from '../../src/codemode/settings.js';
import { mathServer, TestHost, weatherServer } from './host.js';

// api.search and api.manifest run on the gateway's main thread: a guest calling them in a loop must end with their
// own limit, long before its time limit (20 s here, so that the two cannot be confused).

/** The real search, counting the searches that reached the host. */
class CountingSearch extends CatalogSearch {
  calls = 0;

  override searchWithMeaning(options?: SearchOptions, signal?: AbortSignal): Promise<SearchResult> {
    this.calls++;
    return super.searchWithMeaning(options, signal);
  }
}

let host: TestHost;
let pool: SandboxPool;
let search: CountingSearch;
const limits: SandboxLimits = resolveSandboxLimits({ timeout_secs: 20 });
const LIMIT_MESSAGE = `more than ${MAX_SEARCH_CALLS_PER_EXECUTION} api.search and api.manifest calls in one execution`;

async function run(code: string): Promise<ExecuteAnswer> {
  search.calls = 0;
  return runExecution({ host, pool, search, limits }, { code });
}

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('math', mathServer());
  await host.addInMemory('weather', weatherServer());
  pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 4 });
  search = new CountingSearch(host);
});

afterAll(async () => {
  search.close();
  await pool.close();
  await host.close();
});

describe('the searches of one execution', () => {
  it('ends a loop of searches that catches the limit with that limit, after the last allowed search', async () => {
    const code = 'for (let i = 0; ; i++) { try { await api.search("weather forecast for a city " + i) } catch (e) {} }';
    const answer = await run(code);
    expect(answer).toMatchObject({ ok: false, error: { type: 'LimitExceeded', message: LIMIT_MESSAGE } });
    expect(search.calls).toBe(MAX_SEARCH_CALLS_PER_EXECUTION);
  });

  it('ends a flood of searches at once with the limit, before the rest reach the host', async () => {
    const answer = await run('await Promise.all(Array.from({ length: 200 }, (_, i) => api.search("add " + i)))');
    expect(answer).toMatchObject({ ok: false, error: { type: 'LimitExceeded', message: LIMIT_MESSAGE } });
    expect(search.calls).toBeLessThanOrEqual(MAX_SEARCH_CALLS_PER_EXECUTION);
  });

  it('counts api.manifest against the same limit', async () => {
    const answer = await run('for (;;) { await api.manifest(); await api.search("divide") }');
    expect(answer).toMatchObject({ ok: false, error: { type: 'LimitExceeded', message: LIMIT_MESSAGE } });
    expect(search.calls).toBe(MAX_SEARCH_CALLS_PER_EXECUTION / 2);
  });

  it('allows as many as the limit, and gives the next execution a count of its own', async () => {
    const code = `let found = 0;
      for (let i = 0; i < ${MAX_SEARCH_CALLS_PER_EXECUTION}; i++) found += (await api.search("add numbers")).tools.length;
      return found > 0`;
    expect(await run(code)).toMatchObject({ ok: true, result: true });
    expect(await run(code)).toMatchObject({ ok: true, result: true });
  });
});
