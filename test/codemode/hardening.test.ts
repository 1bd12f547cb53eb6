import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixturePath } from '../helpers/paths.js';
import { type InProcessGateway, startInProcessGateway } from './gateway.js';

// Hostile code against a real gateway over loopback: each case is something that got past a limit before.

/** Long enough that an execution ended by its deadline, not by the limit under test, is told apart. */
const TIMEOUT_S = 20;
const MAX_OUTPUT_BYTES = 1024 * 1024;

let gateway: InProcessGateway;
let client: Client;

beforeAll(async () => {
  gateway = await startInProcessGateway({
    mode: 'code',
    servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
    sandbox: { timeout_secs: TIMEOUT_S },
  });
  client = await gateway.connect('hardening');
});

afterAll(async () => {
  await gateway?.close();
});

interface Answer {
  ok: boolean;
  result?: unknown;
  error?: { type: string; message: string; name?: string };
  logs: Array<{ level: string; message: string }>;
}

/** The answer, and its size as JSON (the text content carries the same JSON once more). */
async function execute(code: string): Promise<{ answer: Answer; bytes: number }> {
  const result = await client.callTool({ name: 'execute', arguments: { code } }, undefined, { timeout: 120_000 });
  const answer = result.structuredContent as unknown as Answer;
  return { answer, bytes: Buffer.byteLength(JSON.stringify(answer)) };
}

describe('limits that hold against code that catches them', () => {
  // After catching the limit's error the code sorts forever: one bytecode per sort of 100,000 strings, so the
  // interrupt handler, which QuickJS calls every so many bytecodes, is not reached before the deadline.
  const SORT_FOREVER = 'for (;;) strings.sort()';
  const STRINGS = 'const strings = Array.from({ length: 100000 }, (_, i) => String((i * 7919) % 100000));';

  it('ends code that catches the output limit with that limit, not at the deadline', async () => {
    const code = `${STRINGS}\ntry { console.log("x".repeat(2000000)) } catch (e) {}\n${SORT_FOREVER}`;
    const { answer } = await execute(code);
    expect(answer.error).toMatchObject({ type: 'LimitExceeded', message: expect.stringMatching(/console output/) });
  });

  it('ends code that catches the tool-call limit with that limit, not at the deadline', async () => {
    const code = `${STRINGS}
      for (let i = 0; i < 51; i++) { try { await api.call_tool("ok", "echo", { message: "x" }) } catch (e) {} }
      ${SORT_FOREVER}`;
    const { answer } = await execute(code);
    expect(answer.error).toMatchObject({ type: 'LimitExceeded', message: 'more than 50 tool calls in one execution' });
  });
});

describe('output that must stay under the output limit', () => {
  it('counts empty console lines: 200,000 of them end with the output limit, the answer stays small', async () => {
    const { answer, bytes } = await execute('for (let i = 0; i < 200000; i++) console.log(); return 1');
    expect(answer.error).toMatchObject({ type: 'LimitExceeded', message: expect.stringMatching(/console output/) });
    expect(bytes).toBeLessThan(MAX_OUTPUT_BYTES + 4096);
  });

  it.each([
    ['an Error with a 20 MB message', 'throw new Error("x".repeat(20e6))'],
    ['an object with a 20 MB string', 'throw { message: { toString() { return "y".repeat(20e6) } } }'],
    ['a plain object holding 20 MB', 'throw { data: "z".repeat(20e6) }'],
    ['an Error with a 20 MB name', 'const e = new Error("m"); e.name = "n".repeat(20e6); throw e'],
  ])('cuts %s thrown to the top to a short message', async (_label, code) => {
    const { answer, bytes } = await execute(code);
    expect(answer.ok).toBe(false);
    expect(answer.error?.message.length ?? 0).toBeLessThan(10_000);
    expect(bytes).toBeLessThan(32 * 1024);
    expect(`${answer.error?.name ?? ''} ${answer.error?.message ?? ''}`).toMatch(/characters cut\]/);
  });

  it('refuses a result nested 3,000 levels deep by the depth limit, and the session goes on', async () => {
    const { answer } = await execute('let v = 1; for (let i = 0; i < 3000; i++) v = [v]; return v');
    expect(answer.error).toEqual({ type: 'LimitExceeded', message: 'the result is nested deeper than 256 levels' });
    expect((await execute('return 1')).answer.result).toBe(1);
  });

  it('still reports a short error whole, with its line', async () => {
    const { answer } = await execute('const a = 1;\nthrow new RangeError("bad " + a)');
    expect(answer.error).toMatchObject({ type: 'Error', name: 'RangeError', message: 'bad 1' });
  });
});
