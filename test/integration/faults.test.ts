import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bareRpc } from '../helpers/bare-rpc.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

// Servers that misbehave on purpose, next to a healthy one: the gateway and the healthy server must not notice.

const node = process.execPath;
const fastRestart = { max_attempts: 2, backoff_base: 0.05, backoff_max: 0.2 };

let dir: TempDir;
let gateway: GatewayProcess;
let client: Client;

interface Health {
  status: string;
  servers: Record<string, { state: string; restarts: number; lastError?: string; pid?: number }>;
}

async function health(): Promise<Health> {
  return (await (await fetch(`${gateway.url}/health`)).json()) as Health;
}

async function echo(tool = 'healthy__echo'): Promise<string> {
  const result = await client.callTool({ name: tool, arguments: { message: 'still here' } });
  return JSON.stringify(result.content);
}

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp.json', {
    servers: {
      healthy: { command: node, args: [fixturePath('ok')] },
      broken: { command: node, args: [fixturePath('fails-to-start')], restart: { ...fastRestart, max_attempts: 0 } },
      hangs_on_init: {
        command: node,
        args: [fixturePath('never-answers')],
        env: { HANG_ON_INIT: '1' },
        timeout: 1,
        restart: { ...fastRestart, max_attempts: 0 },
      },
      crashy: { command: node, args: [fixturePath('crash-mid-call')], restart: fastRestart },
      silent: { command: node, args: [fixturePath('never-answers')], tool_timeout: 1 },
      noisy: { command: node, args: [fixturePath('garbage-stdout')] },
      missing: { command: '/nonexistent/mcp-server', restart: { ...fastRestart, max_attempts: 0 } },
    },
  });
  gateway = await startGatewayProcess({ configPath });
  client = new Client({ name: 'faults', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
  // Start-up is over when every server has either started or given up.
  await waitFor(
    async () => Object.values((await health()).servers).every((server) => ['ready', 'failed'].includes(server.state)),
    { timeoutMs: 30_000, message: 'start-up over' },
  );
});

afterAll(async () => {
  await client?.close();
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('servers that misbehave', () => {
  it('reports a server that fails to start, with its reason, while the rest serve', async () => {
    const report = await health();
    expect(report.status).toBe('degraded');
    expect(report.servers.broken).toMatchObject({ state: 'failed' });
    expect(report.servers.broken?.lastError).toMatch(/exited with code 1 during start-up/);
    expect(report.servers.broken?.lastError).toMatch(/missing required configuration FIXTURE_API_KEY/);
    expect(report.servers.missing?.lastError).toMatch(/cannot start "\/nonexistent\/mcp-server"/);
    expect(report.servers.hangs_on_init?.lastError).toMatch(/did not start within 1 s/);
    expect(report.servers.healthy?.state).toBe('ready');
    expect(await echo()).toContain('still here');
  });

  it('fails a call to a server that crashes mid-call at once, then restarts it', async () => {
    // The exit fails the call (a timeout would say "did not answer within").
    await expect(client.callTool({ name: 'crashy__crash', arguments: {} })).rejects.toThrow(/exited \(exit code 3\)/);
    expect(await echo()).toContain('still here');
    await waitFor(async () => (await health()).servers.crashy?.state === 'ready', { message: 'crashy restarted' });
    expect((await health()).servers.crashy?.restarts).toBe(1);
    expect(await echo('crashy__echo')).toContain('still here');
  });

  it('ends a call that is never answered at its tool_timeout, and serves others meanwhile', async () => {
    const hanging = client.callTool({ name: 'silent__hang', arguments: {} });
    expect(await echo()).toContain('still here');
    await expect(hanging).rejects.toThrow(/did not answer within 1 s/);
  });

  it('skips garbage a server prints on stdout and still relays its answers', async () => {
    expect(await echo('noisy__echo')).toContain('still here');
  });

  it('stays up: health answers and unaffected servers never failed', async () => {
    const report = await health();
    expect(report.servers.healthy).toMatchObject({ state: 'ready', restarts: 0 });
    expect(report.servers.noisy).toMatchObject({ state: 'ready', restarts: 0 });
  });
});

describe('a slow server', () => {
  it('does not hold up the others: their tools can be called while it is still starting', async () => {
    await using slowDir = await createTempDir();
    const configPath = await slowDir.write('mcp.json', {
      servers: {
        slow: { command: node, args: [fixturePath('slow-start')], env: { START_DELAY_MS: '8000' } },
        quick: { command: node, args: [fixturePath('ok')] },
      },
    });
    await using slowGateway = await startGatewayProcess({ configPath });
    const report = async () => (await (await fetch(`${slowGateway.url}/health`)).json()) as Health;
    await waitFor(async () => (await report()).servers.quick?.state === 'ready', { message: 'quick is ready' });
    expect((await report()).servers.slow?.state).toBe('starting');
    const answer = await bareRpc(slowGateway.url, 'tools/call', {
      name: 'quick__echo',
      arguments: { message: 'not waiting' },
    });
    expect(JSON.stringify(answer)).toContain('not waiting');
    expect((await report()).servers.slow?.state).toBe('starting');
  });
});
