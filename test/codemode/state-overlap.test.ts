import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { SessionState } from '../../src/codemode/session-state.js';
import { resolveSandboxLimits } from '../../src/codemode/settings.js';
import { waitFor } from '../helpers/wait-for.js';
import { TestHost } from './host.js';

// Executions of one session that overlap: each starts from the state saved when it starts running, saves only what
// it changed, and only over the state it started from; the one that loses is told.

/** A server whose `wait` tool answers only when the test opens the gate: the order of events is the test's. */
function gateServer(gate: { waiting: number; open: () => void }): McpServer {
  const server = new McpServer({ name: 'gate', version: '1.0.0' });
  let opened: Promise<void> = new Promise((resolve) => (gate.open = resolve));
  server.registerTool('wait', { description: 'Answers when the gate opens.' }, async () => {
    gate.waiting++;
    await opened;
    gate.waiting--;
    opened = new Promise((resolve) => (gate.open = resolve));
    return { content: [{ type: 'text', text: 'opened' }] };
  });
  return server;
}

let host: TestHost;
let search: CatalogSearch;
/** Two executions of one owner at once, so that they overlap. */
let overlapping: SandboxPool;
/** One execution per owner at once (as by default), so that the second waits in the queue. */
let queued: SandboxPool;
const gate = { waiting: 0, open: () => {} };
const limits = resolveSandboxLimits({ timeout_secs: 20 });

function run(pool: SandboxPool, state: SessionState, code: string): Promise<ExecuteAnswer> {
  return runExecution({ host, pool, search, limits }, { code, state, owner: 'one-session' });
}

const WAIT = 'await api.call_tool("gate", "wait", {});';

beforeAll(async () => {
  host = new TestHost();
  await host.addInMemory('gate', gateServer(gate));
  search = new CatalogSearch(host);
  overlapping = new SandboxPool({ maxConcurrent: 2, maxQueue: 4, maxConcurrentPerOwner: 2 });
  queued = new SandboxPool({ maxConcurrent: 2, maxQueue: 4, maxConcurrentPerOwner: 1 });
});

afterAll(async () => {
  search.close();
  await overlapping.close();
  await queued.close();
  await host.close();
});

describe('api.state across overlapping executions of one session', () => {
  it('does not save a change made over a state another execution saved meanwhile, and says so', async () => {
    const state = new SessionState();
    const first = run(overlapping, state, `const n = api.state.n ?? 0; ${WAIT} api.state.n = n + 1; return n`);
    await waitFor(() => gate.waiting === 1, { message: 'the first execution waiting at the gate' });
    expect(await run(overlapping, state, 'api.state.n = 100; return "second"')).toMatchObject({ ok: true });
    gate.open();
    const answer = await first;
    expect(answer).toMatchObject({ ok: true, result: 0, stateNotSaved: expect.stringMatching(/were not saved/) });
    expect(JSON.parse(state.json)).toEqual({ n: 100 });
  });

  it('lets an execution that only read the state leave another execution’s save in place', async () => {
    const state = new SessionState();
    await run(overlapping, state, 'api.state.n = 1; return 0');
    const reader = run(overlapping, state, `${WAIT} return api.state.n`);
    await waitFor(() => gate.waiting === 1, { message: 'the reader waiting at the gate' });
    await run(overlapping, state, 'api.state.n = 5; return 0');
    gate.open();
    const answer = await reader;
    expect(answer).toMatchObject({ ok: true, result: 1 });
    expect(answer).not.toHaveProperty('stateNotSaved');
    expect(JSON.parse(state.json)).toEqual({ n: 5 });
  });

  it('starts a queued execution from the state saved by the one it waited for', async () => {
    const state = new SessionState();
    const first = run(queued, state, `${WAIT} api.state.n = 1; return 1`);
    await waitFor(() => gate.waiting === 1, { message: 'the first execution waiting at the gate' });
    const second = run(queued, state, 'api.state.n = (api.state.n ?? 0) + 1; return api.state.n');
    gate.open();
    expect(await first).toMatchObject({ ok: true, result: 1 });
    const answer = await second;
    expect(answer).toMatchObject({ ok: true, result: 2 });
    expect(answer).not.toHaveProperty('stateNotSaved');
    expect(JSON.parse(state.json)).toEqual({ n: 2 });
  });
});
