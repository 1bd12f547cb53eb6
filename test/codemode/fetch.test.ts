import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type ExecuteAnswer, runExecution } from '../../src/codemode/run.js';
import { SandboxPool } from '../../src/codemode/sandbox-pool.js';
import { CatalogSearch } from '../../src/codemode/search.js';
import { resolveSandboxLimits } from '../../src/codemode/settings.js';
import { TestHost } from './host.js';

let server: Server;
let port: number;
let host: TestHost;
let pool: SandboxPool;
let search: CatalogSearch;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://example.com/' }).end();
      return;
    }
    if (req.url === '/big') {
      res.end('x'.repeat(2 * 1024 * 1024));
      return;
    }
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  host = new TestHost();
  pool = new SandboxPool({ maxConcurrent: 1, maxQueue: 4 });
  search = new CatalogSearch(host);
});

afterAll(async () => {
  search.close();
  await pool.close();
  await new Promise((resolve) => server.close(resolve));
});

function run(code: string, allowedHosts: string[]): Promise<ExecuteAnswer> {
  const limits = resolveSandboxLimits({ network: { enabled: true, allowed_hosts: allowedHosts } });
  return runExecution({ host, pool, search, limits }, { code });
}

describe('api.fetch with sandbox.network enabled', () => {
  it('fetches from an allowed host on the host side', async () => {
    const code = `
      const res = await api.fetch('http://127.0.0.1:${port}/items?x=1', {
        method: 'post', headers: { authorization: 'Bearer t' }, body: 'payload' });
      return { status: res.status, ok: res.ok, json: await res.json(), type: res.headers['content-type'] };`;
    const answer = await run(code, [`127.0.0.1:${port}`]);
    expect(answer).toMatchObject({
      ok: true,
      result: {
        status: 200,
        ok: true,
        json: { method: 'POST', url: '/items?x=1', body: 'payload', auth: 'Bearer t' },
        type: 'application/json',
      },
      stats: { toolCalls: 1 },
    });
  });

  it('refuses hosts that are not allowed, and other schemes, before any request', async () => {
    const before = requests.length;
    const denied = await run(`return await api.fetch('http://localhost:${port}/')`, ['127.0.0.1']);
    expect(denied).toMatchObject({ ok: false, error: { name: 'NetworkError' } });
    if (!denied.ok) expect(denied.error.message).toMatch(/host localhost:\d+ is not in sandbox.network.allowed_hosts/);
    const scheme = await run(`return await api.fetch('file:///etc/passwd')`, ['*']);
    if (scheme.ok) throw new Error('expected failure');
    expect(scheme.error.message).toMatch(/only http and https/);
    expect(requests.length).toBe(before);
  });

  it('does not follow redirects and caps the body', async () => {
    const redirect = await run(
      `const r = await api.fetch('http://127.0.0.1:${port}/redirect'); return [r.status, r.headers.location]`,
      ['127.0.0.1'],
    );
    expect(redirect).toMatchObject({ ok: true, result: [302, 'http://example.com/'] });
    const big = await run(`return (await api.fetch('http://127.0.0.1:${port}/big')).status`, ['127.0.0.1']);
    if (big.ok) throw new Error('expected failure');
    expect(big.error.message).toMatch(/exceeds 1048576 bytes/);
  });
});
