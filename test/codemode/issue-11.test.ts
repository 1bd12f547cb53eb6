import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { suggestNames } from '../../src/codemode/suggest.js';
import { fixturePath } from '../helpers/paths.js';
import { type InProcessGateway, startInProcessGateway } from './gateway.js';

// Code Mode's part of issue 11: one client cannot shut others out of the sandbox, a flood ends with the
// tool-call limit, and no input, however large, holds the event loop: each is refused by its length before
// anything else looks at it. How long the loop is held is measured, not asserted, by the adversarial suite
// (test/adversarial/probe.mjs); these tests check what makes it short, which load on the machine cannot change.

/** Longer than any test here: a spinner ends when its test aborts it, never by its own deadline. */
const SPINNER_TIMEOUT_S = 600;
const HUGE = 3.5 * 1024 * 1024;
/**
 * A refusal's bound: one that echoed the input, or suggestions built from it, would be megabytes long (and
 * the gateway would have spent its time building them).
 */
const MAX_REFUSAL_BYTES = 2 * 1024;

let code: InProcessGateway;
let meta: InProcessGateway;

beforeAll(async () => {
  const servers = { ok: { command: process.execPath, args: [fixturePath('ok')] } };
  [code, meta] = await Promise.all([
    startInProcessGateway({ mode: 'code', servers, sandbox: { timeout_secs: SPINNER_TIMEOUT_S } }),
    startInProcessGateway({ mode: 'meta', servers }),
  ]);
});

afterAll(async () => {
  await Promise.all([code?.close(), meta?.close()]);
});

type Answer = { ok: boolean; result?: unknown; error?: { type: string; message: string } };

async function execute(client: Client, source: string, signal?: AbortSignal): Promise<Answer> {
  const result = await client.callTool({ name: 'execute', arguments: { code: source } }, undefined, {
    timeout: 120_000,
    ...(signal ? { signal } : {}),
  });
  return result.structuredContent as Answer;
}

/**
 * A tools/call whose body is serialised once, up front, sent with fetch on the session of an SDK client: the
 * 3.5 MB go to the gateway as they are, not through the SDK client's own checks.
 */
function prebuiltCall(
  gateway: InProcessGateway,
  client: Client,
  name: string,
  args: Record<string, unknown>,
): () => Promise<{ isError?: boolean; content: Array<{ text?: string }> }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name, arguments: args } });
  const transport = client.transport as { sessionId?: string; protocolVersion?: string } | undefined;
  const sessionId = transport?.sessionId ?? '';
  // The version the session negotiated: the gateway refuses a request that names another.
  const version = transport?.protocolVersion ?? '';
  return async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': version,
      },
      body,
    });
    const text = await response.text();
    // On a stream, the answer is the event with data (a 2025-11-25 stream opens with an empty priming event).
    const data = text.startsWith('{') ? text : ([...text.matchAll(/^data: (.+)$/gm)].at(-1)?.[1] ?? '{}');
    return (JSON.parse(data) as { result: { isError?: boolean; content: Array<{ text?: string }> } }).result;
  };
}

function textOf(result: Record<string, unknown>): string {
  return (result.content as Array<{ text?: string }>).map((block) => block.text ?? '').join('');
}

/** The answer's size in bytes, as it travels. */
function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

describe('fair shares of the sandbox', () => {
  it("answers another client's `return 1` while one anonymous client runs 18 spinning executions", async () => {
    const spinnerClient = await code.connect('spinner');
    const otherClient = await code.connect('other');
    const controller = new AbortController();
    const spinners = Array.from({ length: 18 }, () =>
      execute(spinnerClient, 'for (;;) {}', controller.signal).catch(() => undefined),
    );
    const answers: Array<Answer | undefined> = [];
    for (const spinner of spinners) void spinner.then((answer) => answers.push(answer));
    try {
      // The share is one running and four waiting: the other thirteen are refused at once, to that client only.
      await expect.poll(() => answers.length, { timeout: 10_000 }).toBe(13);
      expect(answers.every((answer) => answer?.error?.type === 'Busy')).toBe(true);
      const other = await execute(otherClient, 'return 1');
      expect(other).toMatchObject({ ok: true, result: 1 });
      // The accepted spinners end only when aborted below, and they are all still spinning or waiting: the
      // answer did not wait for any of them.
      expect(answers).toHaveLength(13);
    } finally {
      controller.abort();
      await Promise.all(spinners);
    }
  });

  it('ends a 1,000-call flood inside execute with the tool-call limit error', async () => {
    const client = await code.connect();
    const answer = await execute(
      client,
      'await Promise.all(Array.from({ length: 1000 }, () => api.call_tool("ok", "echo", { message: "x" })))',
    );
    expect(answer).toMatchObject({
      ok: false,
      error: { type: 'LimitExceeded', message: 'more than 50 tool calls in one execution' },
    });
  });
});

describe('bounded inputs', () => {
  let client: Client;
  let metaClient: Client;

  beforeAll(async () => {
    client = await code.connect();
    metaClient = await meta.connect();
  });

  it('refuses a 3.5 MB search query by its length, before the search reads it', async () => {
    const value = await prebuiltCall(code, client, 'search', { query: 'read '.repeat(HUGE / 5) })();
    expect(value.isError).toBe(true);
    expect(textOf(value)).toMatch(/query: Too big: expected string to have <=1000 characters/);
    expect(bytesOf(value)).toBeLessThan(MAX_REFUSAL_BYTES);
  });

  it('refuses a search limit over 200 and unknown arguments, naming the accepted ones; takes depth for max_depth', async () => {
    const limit = await client.callTool({ name: 'search', arguments: { query: 'echo', limit: 100_000 } });
    expect(textOf(limit)).toMatch(/limit: Too big: expected number to be <=200/);
    const misspelt = await client.callTool({ name: 'search', arguments: { query: 'echo', dept: 0 } });
    expect(misspelt.isError).toBe(true);
    expect(textOf(misspelt)).toBe(
      'invalid arguments for search: unknown argument "dept"; search takes query, namespace, max_depth, limit',
    );
    const alias = await client.callTool({ name: 'search', arguments: { query: 'echo', depth: 0 } });
    expect(JSON.parse(textOf(alias))).toMatchObject({ depth: 0, servers: [{ name: 'ok' }] });
  });

  it.each([
    ['api.call_tool', 'await api.call_tool("x".repeat(N), "echo", {})', /server must be 1 to 128 characters/],
    ['api.call_tool (tool)', 'await api.call_tool("ok", "x".repeat(N), {})', /tool must be 1 to 128 characters/],
    ['api.server', 'await api.server("x".repeat(N)).echo({})', /name must be 1 to 128 characters/],
    ['api.search', 'await api.search("x".repeat(N))', /at most 1000 characters/],
  ])('refuses a 3.5 MB name given to %s by its length, with no suggestions', async (_label, source, message) => {
    const value = await execute(client, `const N = ${HUGE};\n${source}`);
    expect(value).toMatchObject({ ok: false, error: { type: 'Error' } });
    expect(value.error?.message).toMatch(message);
    expect(value.error?.message).not.toMatch(/did you mean/i);
    expect(bytesOf(value)).toBeLessThan(MAX_REFUSAL_BYTES);
  });

  it('refuses a 3.5 MB name that reaches the host through api.parallel, without suggestions', async () => {
    const source = `const N = ${HUGE};\nreturn await api.parallel([{ server: "x".repeat(N), tool: "echo" }])`;
    const value = await execute(client, source);
    expect(value).toMatchObject({ ok: true });
    const [outcome] = value.result as Array<{ ok: boolean; error: { message: string } }>;
    expect(outcome?.error.message).toBe(`the server name is ${HUGE} characters; at most 128`);
    expect(bytesOf(value)).toBeLessThan(MAX_REFUSAL_BYTES);
  });

  it.each([
    ['gateway_invoke', { server: 'x'.repeat(HUGE), tool: 'echo' }, /server: Too big/],
    ['gateway_invoke', { server: 'ok', tool: 'x'.repeat(HUGE) }, /tool: Too big/],
    ['gateway_search_tools', { query: 'x'.repeat(HUGE) }, /query: Too big/],
  ])('meta mode: refuses a 3.5 MB argument to %s by its length', async (name, args, message) => {
    const value = await prebuiltCall(meta, metaClient, name, args)();
    expect(value.isError).toBe(true);
    expect(textOf(value)).toMatch(message);
    expect(textOf(value)).not.toMatch(/did you mean/i);
    expect(bytesOf(value)).toBeLessThan(MAX_REFUSAL_BYTES);
  });

  it('keeps did-you-mean suggestions bounded: a huge name looks at no candidate, a long one at the first 1,000', () => {
    // A candidate list that counts what is read of it: a huge name must be refused before the list is.
    let read = 0;
    const counted = {
      *[Symbol.iterator]() {
        for (const name of ['echo', 'add']) {
          read++;
          yield name;
        }
      },
    };
    expect(suggestNames('x'.repeat(HUGE), counted)).toEqual([]);
    expect(read).toBe(0);
    // Of the longest names allowed, a close one is found among the first 1,000 candidates, not past them.
    const wanted = 't0007_'.padEnd(127, 'y');
    const near = 't0007_'.padEnd(128, 'y');
    const far = Array.from({ length: 1_000 }, (_, i) => `f${String(i).padStart(4, '0')}_`.padEnd(128, 'z'));
    expect(suggestNames(wanted, [...far.slice(1), near])).toEqual([near]);
    expect(suggestNames(wanted, [...far, near])).toEqual([]);
  });
});
