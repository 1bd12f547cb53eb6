// Behind a reverse proxy every client arrives from the proxy's address. With trusted_proxies the gateway tells
// clients without a credential apart by X-Forwarded-For (rate budgets, audit); without, it ignores the header,
// so that no client can pick its own budget by sending one.
import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { rawRequest } from './access-helpers.js';

const LIMIT = 3;
const ALICE = '203.0.113.1';
const BOB = '203.0.113.2';
let dir: TempDir;
let behindProxy: GatewayProcess;
let noProxy: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const config = (extra: Record<string, unknown>) => ({
    mcpServers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
    rate_limit: { requests_per_minute: LIMIT },
    ...extra,
  });
  const [trusted, untrusted] = await Promise.all([
    dir.write('trusted.json', config({ trusted_proxies: ['127.0.0.1', '::1'], audit: { path: 'audit.jsonl' } })),
    dir.write('untrusted.json', config({})),
  ]);
  [behindProxy, noProxy] = await Promise.all([
    startGatewayProcess({ configPath: trusted }),
    startGatewayProcess({ configPath: untrusted }),
  ]);
});

afterAll(async () => {
  await Promise.all([behindProxy?.stop(), noProxy?.stop()]);
  await dir?.[Symbol.asyncDispose]();
});

const calls = (count: number, from: number) =>
  Array.from({ length: count }, (_, i) => ({
    jsonrpc: '2.0',
    id: from + i,
    method: 'tools/call',
    params: { name: 'ok__echo', arguments: { message: `m${from + i}` } },
  }));

/** A bare POST of `count` calls, as the proxy would forward it for `forwardedFor`. */
const post = (gateway: GatewayProcess, forwardedFor: string, count = 1, from = 1) =>
  rawRequest(`${gateway.url}/message`, { body: calls(count, from), headers: { 'x-forwarded-for': forwardedFor } });

describe('trusted_proxies', () => {
  it('gives each client behind a trusted proxy its own rate budget, and audits its own address', async () => {
    expect((await post(behindProxy, ALICE, LIMIT)).status).toBe(200);
    expect((await post(behindProxy, ALICE)).status).toBe(429);
    // Another client behind the same proxy still has its whole budget.
    expect((await post(behindProxy, BOB, 1, 100)).status).toBe(200);
    // Alice cannot get a new budget by naming another address before her own: the proxy appends the real one.
    expect((await post(behindProxy, `198.51.100.50, ${ALICE}`)).status).toBe(429);
    const addresses = async () =>
      (await readFile(dir.resolve('audit.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { address?: string }).address);
    await waitFor(async () => (await addresses()).length === LIMIT + 1, { message: 'the audit log to show the calls' });
    expect((await addresses()).sort()).toEqual([ALICE, ALICE, ALICE, BOB]);
  });

  it('ignores X-Forwarded-For when no proxy is trusted: one peer address, one budget', async () => {
    expect((await post(noProxy, ALICE, LIMIT)).status).toBe(200);
    const refused = await post(noProxy, BOB);
    expect(refused.status).toBe(429);
    expect(refused.json().error?.message).toMatch(/rate limit/i);
  });
});
