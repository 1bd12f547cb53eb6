import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import {
  ACCESS_ENV,
  bearer,
  connectHttp,
  expectNoSecrets,
  householdConfig,
  INITIALIZE,
  rawRequest,
  SECRETS,
  TOKENS,
} from './access-helpers.js';

const CAROL_TOKEN = 'carol-crypto-4d2a8f6c1e9b3a75';
const DAVE_TOKEN = 'dave-crypto-8e1f3b7a2c9d4f60';
let dir: TempDir;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const household = householdConfig();
  const configPath = await dir.write('limited.json', {
    ...household,
    auth: {
      tokens: [
        { id: 'bob', token: '${BOB_TOKEN}', namespaces: ['crypto'] },
        { id: 'carol', token: '${CAROL_TOKEN}', namespaces: ['crypto'] },
        { id: 'dave', token: '${DAVE_TOKEN}', namespaces: ['crypto'] },
      ],
    },
    namespaces: {
      public: { servers: ['wiki'], require_auth: false, rate_limit: { requests_per_minute: 2 } },
      crypto: { extends: 'public', servers: ['covalent'], rate_limit: { requests_per_minute: 3 } },
    },
  });
  gateway = await startGatewayProcess({ configPath, env: { ...ACCESS_ENV, CAROL_TOKEN, DAVE_TOKEN } });
});

afterAll(async () => {
  await gateway?.stop();
  expectNoSecrets([...gateway.stdout, ...gateway.stderr], [...SECRETS, CAROL_TOKEN, DAVE_TOKEN]);
  await dir?.[Symbol.asyncDispose]();
});

describe('rate limits', () => {
  it('inside a session: a JSON-RPC error with the retry time; before one: 429 with Retry-After; others unaffected', async () => {
    const bob = await connectHttp(`${gateway.url}/ns/crypto/mcp`, bearer(TOKENS.BOB_TOKEN)); // 1: initialize
    await bob.listTools(); // 2
    await bob.listTools(); // 3
    const limited = await bob.listTools().catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(McpError);
    const { code, data, message } = limited as McpError;
    expect(code).toBe(-32029);
    expect(message).toMatch(/Rate limit of 3 requests per minute exceeded; retry in \d+ s/);
    expect((data as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await bob.close();

    const refused = await rawRequest(`${gateway.url}/ns/crypto/mcp`, {
      body: INITIALIZE,
      headers: bearer(TOKENS.BOB_TOKEN),
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(refused.json().error?.data).toEqual({ reason: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
    const bare = await rawRequest(`${gateway.url}/ns/crypto/sse`, {
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      headers: bearer(TOKENS.BOB_TOKEN),
    });
    expect(bare.status).toBe(429);

    // Another credential on the same namespace has its own bucket.
    const carol = await connectHttp(`${gateway.url}/ns/crypto/mcp`, bearer(CAROL_TOKEN));
    expect((await carol.listTools()).tools.length).toBeGreaterThan(0);
    await carol.close();
    // And bob's budget is one across endpoints (issue 11): his other namespace gives him no more.
    expect(
      (await rawRequest(`${gateway.url}/ns/public/mcp`, { body: INITIALIZE, headers: bearer(TOKENS.BOB_TOKEN) }))
        .status,
    ).toBe(429);
  });

  it('without a credential, per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await rawRequest(`${gateway.url}/ns/public/mcp`, { body: INITIALIZE })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(
      (await rawRequest(`${gateway.url}/ns/public/mcp`, { body: INITIALIZE, headers: bearer(DAVE_TOKEN) })).status,
    ).toBe(200);
  });
});
