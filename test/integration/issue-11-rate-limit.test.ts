// Issue 11: a batch pays for every request in it, and a credential has one budget across every endpoint.
import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { bearer, INITIALIZE, rawRequest } from './access-helpers.js';

const TOKENS = {
  BATCH_TOKEN: 'batch-client-7f3a9c2e51d84b06',
  SESSION_TOKEN: 'session-client-2b8e4f1a9d7c3e50',
  SEVEN_TOKEN: 'seven-client-9c1d7e3f5a2b8046',
};
const LIMIT = 10;
let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const token = (id: string, variable: string) => ({
    id,
    token: `\${${variable}}`,
    rate_limit: { requests_per_minute: LIMIT },
  });
  const configPath = await dir.write('limited.json', {
    mcpServers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
    namespaces: { tools: { servers: ['ok'] } },
    auth: {
      tokens: [token('batch', 'BATCH_TOKEN'), token('session', 'SESSION_TOKEN'), token('seven', 'SEVEN_TOKEN')],
    },
    audit: { path: 'audit.jsonl' },
  });
  gateway = await startGatewayProcess({ configPath, env: TOKENS });
});

afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

const echo = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'ok__echo', arguments: { message: `m${id}` } },
});

/** The tool calls the gateway ran for a credential, from its audit log. */
async function callsOf(credential: string): Promise<number> {
  const text = await readFile(dir.resolve('audit.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .filter((line) => (JSON.parse(line) as { credential: string }).credential === credential).length;
}

describe('batches pay for every request (issue 11: one POST of 500 calls ran all 500 under 10/min)', () => {
  it('refuses a bare POST of 500 calls under a limit of 10 with 429 and runs none of them', async () => {
    const headers = bearer(TOKENS.BATCH_TOKEN);
    const batch = Array.from({ length: 500 }, (_, i) => echo(i + 1));
    const refused = await rawRequest(`${gateway.url}/message`, { body: batch, headers });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json().error?.message).toMatch(/a batch of 500 requests can never fit; send at most 10 at once/);
    // The budget is whole still: a batch of exactly the limit runs, and then nothing more does.
    const allowed = await rawRequest(`${gateway.url}/message`, { body: batch.slice(0, LIMIT), headers });
    expect(allowed.status).toBe(200);
    expect((allowed.json() as unknown as unknown[]).length).toBe(LIMIT);
    expect((await rawRequest(`${gateway.url}/message`, { body: [echo(1)], headers })).status).toBe(429);
    await waitFor(async () => (await callsOf('batch')) === LIMIT, { message: 'the audit log to show the calls' });
  });

  it('refuses a batch inside a /mcp session that does not fit as a whole', async () => {
    const headers = bearer(TOKENS.SESSION_TOKEN);
    const opened = await rawRequest(`${gateway.url}/mcp`, { body: INITIALIZE, headers });
    expect(opened.status).toBe(200);
    const session = {
      ...headers,
      'mcp-session-id': String(opened.headers['mcp-session-id']),
      'mcp-protocol-version': '2025-06-18',
    };
    const refused = await rawRequest(`${gateway.url}/mcp`, {
      body: Array.from({ length: 50 }, (_, i) => echo(i + 2)),
      headers: session,
    });
    expect(refused.status).toBe(429);
    expect(await callsOf('session')).toBe(0);
    await rawRequest(`${gateway.url}/mcp`, { method: 'DELETE', headers: session });
  });
});

describe('one budget across endpoints (issue 11: seven endpoints gave seven times the budget)', () => {
  it('lets a credential make at most its limit of requests, whichever endpoints it spreads them over', async () => {
    const headers = bearer(TOKENS.SEVEN_TOKEN);
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const attempts: { what: string; run: () => Promise<number> }[] = [
      {
        what: 'initialize /mcp',
        run: async () => (await rawRequest(`${gateway.url}/mcp`, { body: INITIALIZE, headers })).status,
      },
      {
        what: 'initialize /mcp/ok',
        run: async () => (await rawRequest(`${gateway.url}/mcp/ok`, { body: INITIALIZE, headers })).status,
      },
      {
        what: 'initialize /ns/tools/mcp',
        run: async () => (await rawRequest(`${gateway.url}/ns/tools/mcp`, { body: INITIALIZE, headers })).status,
      },
      {
        what: 'bare POST /sse',
        run: async () => (await rawRequest(`${gateway.url}/sse`, { body: list, headers })).status,
      },
      {
        what: 'bare POST /message',
        run: async () => (await rawRequest(`${gateway.url}/message`, { body: list, headers })).status,
      },
      {
        what: 'bare POST /ns/tools/sse',
        run: async () => (await rawRequest(`${gateway.url}/ns/tools/sse`, { body: list, headers })).status,
      },
      {
        what: 'bare POST /ns/tools/message',
        run: async () => (await rawRequest(`${gateway.url}/ns/tools/message`, { body: list, headers })).status,
      },
    ];
    const started = Date.now();
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const attempt of attempts) outcomes.push(`${attempt.what}: ${await attempt.run()}`);
    }
    const granted = outcomes.filter((outcome) => outcome.endsWith(': 200'));
    const refused = outcomes.filter((outcome) => outcome.endsWith(': 429'));
    expect(granted.length + refused.length, outcomes.join('\n')).toBe(outcomes.length);
    // The bucket refills at 10 per minute: only as many more as the time taken allows.
    const refilled = Math.floor(((Date.now() - started) / 60_000) * LIMIT);
    expect(granted.length, outcomes.join('\n')).toBeGreaterThanOrEqual(LIMIT);
    expect(granted.length, outcomes.join('\n')).toBeLessThanOrEqual(LIMIT + refilled);
    // Every endpoint took its share of the one budget before it ran out.
    expect(new Set(granted.map((outcome) => outcome.split(':')[0])).size).toBe(attempts.length);
  });
});
