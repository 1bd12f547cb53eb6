import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath, REPO_ROOT } from '../helpers/paths.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const SECRET = 'gateway-only-secret-value-4711';

let dir: TempDir;
let gateway: GatewayProcess;
let jsonGateway: GatewayProcess;

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: {
      everything: { command: process.execPath, args: [EVERYTHING_MAIN, 'stdio'], env: { CONFIGURED_VAR: 'visible' } },
      ok: { command: process.execPath, args: [fixturePath('ok')] },
    },
  });
  // The secret is in the gateway's environment only: no server may see it.
  [gateway, jsonGateway] = await Promise.all([
    startGatewayProcess({ configPath, env: { MCPROXY_TEST_SECRET: SECRET } }),
    startGatewayProcess({ configPath, args: ['--json-response'] }),
  ]);
  await waitFor(async () => (await fetch(`${gateway.url}/health`)).status === 200, { timeoutMs: 20_000 });
});

afterAll(async () => {
  await Promise.all([gateway?.stop(), jsonGateway?.stop()]);
  await dir?.[Symbol.asyncDispose]();
});

async function curl(...args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
  const newline = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(newline + 1)), body: stdout.slice(0, newline) };
}

const jsonHeader = ['-H', 'Content-Type: application/json'];

describe("the seeds' curl examples, as written", () => {
  it('lists tools with a bare POST to /sse', async () => {
    const { status, body } = await curl(
      '-X',
      'POST',
      `${gateway.url}/sse`,
      ...jsonHeader,
      '-d',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    );
    expect(status).toBe(200);
    const names = (JSON.parse(body) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    expect(names).toContain('everything__echo');
  });

  it('calls a tool with a bare POST to /sse and to /message', async () => {
    const call =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"Bitcoin"}}}';
    for (const path of ['/sse', '/message']) {
      const { status, body } = await curl('-X', 'POST', `${gateway.url}${path}`, ...jsonHeader, '-d', call);
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({
        jsonrpc: '2.0',
        id: 1,
        result: { content: [{ type: 'text', text: 'Echo: Bitcoin' }] },
      });
    }
  });

  it('opens the SSE stream with curl -N and announces the message endpoint', async () => {
    const { body } = await curl('-N', '--max-time', '1', `${gateway.url}/sse`).catch((error: { stdout: string }) => ({
      body: error.stdout,
      status: 0,
    }));
    expect(body).toMatch(/event: endpoint\ndata: \/message\?sessionId=[\w-]+/);
  });
});

describe('bad input gets a clear error and loses nothing', () => {
  it('answers malformed JSON with a parse error', async () => {
    const { status, body } = await curl('-X', 'POST', `${gateway.url}/message`, ...jsonHeader, '-d', '{"jsonrpc":');
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: { code: -32700 } });
  });

  it('answers an unknown method with method-not-found', async () => {
    const { body } = await curl(
      '-X',
      'POST',
      `${gateway.url}/sse`,
      ...jsonHeader,
      '-d',
      '{"jsonrpc":"2.0","id":7,"method":"tools/frobnicate"}',
    );
    expect(JSON.parse(body)).toMatchObject({ id: 7, error: { code: -32601 } });
  });

  it('answers something that is not JSON-RPC with invalid request', async () => {
    const { status, body } = await curl('-X', 'POST', `${gateway.url}/sse`, ...jsonHeader, '-d', '{"hello":"world"}');
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: { code: -32600 } });
  });

  it('refuses an oversized body with 413 before reading it all', async () => {
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { pad: 'x'.repeat(5 * 1024 * 1024) },
    });
    const response = await fetch(`${gateway.url}/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: huge,
    });
    expect(response.status).toBe(413);
    expect(await response.text()).toMatch(/exceeds/);
  });

  it('refuses an oversized chunked body (no Content-Length) with 413 too, on /mcp and /message', async () => {
    const piece = new TextEncoder().encode('x'.repeat(64 * 1024));
    for (const path of ['/mcp', '/message']) {
      let sent = 0;
      // 5 MiB in 64 KiB pieces, as a stream: fetch sends it chunked.
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 80) controller.enqueue(piece);
          else controller.close();
        },
      });
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(await response.text()).toMatch(/exceeds/);
    }
  });

  it('answers an unknown session with 404, on /mcp and /message', async () => {
    const mcp = await curl(
      '-X',
      'POST',
      `${gateway.url}/mcp`,
      ...jsonHeader,
      '-H',
      'Accept: application/json, text/event-stream',
      '-H',
      'Mcp-Session-Id: no-such-session',
      '-d',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    );
    expect(mcp.status).toBe(404);
    const sse = await curl(
      '-X',
      'POST',
      `${gateway.url}/message?sessionId=no-such-session`,
      ...jsonHeader,
      '-d',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    );
    expect(sse.status).toBe(404);
  });

  it('refuses a foreign Origin and a foreign Host with 403 (DNS rebinding)', async () => {
    const origin = await curl(
      '-X',
      'POST',
      `${gateway.url}/sse`,
      ...jsonHeader,
      '-H',
      'Origin: http://evil.example',
      '-d',
      '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    );
    expect(origin.status).toBe(403);
    const host = await curl('-H', 'Host: evil.example', `${gateway.url}/health`);
    expect(host.status).toBe(403);
  });

  it("answers a browser's preflight with the headers an MCP request needs, a tool's Mcp-Param-* included", async () => {
    const response = await fetch(`${gateway.url}/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: new URL(gateway.url).origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, mcp-method, mcp-name, Mcp-Param-Region, x-not-mcp',
      },
    });
    expect(response.status).toBe(204);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    for (const name of ['content-type', 'mcp-protocol-version', 'mcp-session-id', 'mcp-method', 'mcp-name']) {
      expect(allowed).toContain(name);
    }
    expect(allowed).toContain('mcp-param-region');
    expect(allowed).not.toContain('x-not-mcp');
  });

  it('is still healthy after all of that', async () => {
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });
});

describe('clients', () => {
  it("the Inspector's script mode lists and calls tools through /mcp and /sse", async () => {
    const inspector = join(REPO_ROOT, 'node_modules/.bin/mcp-inspector');
    const called = await run(
      inspector,
      [
        '--cli',
        `${gateway.url}/mcp`,
        '--method',
        'tools/call',
        '--tool-name',
        'everything__echo',
        '--tool-arg',
        'message=inspected',
      ],
      { timeout: 60_000 },
    );
    expect(called.stdout).toContain('Echo: inspected');
    const listed = await run(
      inspector,
      ['--cli', `${gateway.url}/sse`, '--transport', 'sse', '--method', 'tools/list'],
      { timeout: 60_000 },
    );
    expect(listed.stdout).toContain('ok__echo');
  });

  it('answers /mcp with plain JSON responses under --json-response', async () => {
    const client = new Client({ name: 'json', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${jsonGateway.url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'json' } });
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: json' }]);
    } finally {
      await client.close();
    }
    const raw = await curl(
      '-X',
      'POST',
      `${jsonGateway.url}/mcp`,
      ...jsonHeader,
      '-H',
      'Accept: application/json, text/event-stream',
      '-d',
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}',
    );
    expect(JSON.parse(raw.body)).toMatchObject({ id: 1, result: { serverInfo: { name: 'mcproxy' } } });
  });
});

describe('/metrics', () => {
  it('parses as Prometheus text and counts a tool call under its server and tool', async () => {
    await curl(
      '-X',
      'POST',
      `${gateway.url}/message`,
      ...jsonHeader,
      '-d',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ok__echo","arguments":{"message":"counted"}}}',
    );
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const families = parsePrometheusTextFormat(await response.text());
    const calls = families.find((family) => family.name === 'mcproxy_tool_calls_total');
    const sample = calls?.metrics.find(
      (metric) => metric.labels?.server === 'ok' && metric.labels?.tool === 'echo' && metric.labels?.outcome === 'ok',
    );
    expect(Number((sample as { value?: string } | undefined)?.value)).toBeGreaterThanOrEqual(1);
    expect(families.some((family) => family.name === 'mcproxy_server_up')).toBe(true);
  });
});

describe('server environment', () => {
  it('gives a server its configured env on a small default environment, never the gateway environment', async () => {
    const client = new Client({ name: 'env', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
    try {
      const result = await client.callTool({ name: 'everything__get-env', arguments: {} });
      const text = JSON.stringify(result.content);
      expect(text).toContain('CONFIGURED_VAR');
      expect(text).toContain('PATH');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('MCPROXY_TEST_SECRET');
    } finally {
      await client.close();
    }
  });
});
