// Tool pinning with real processes: a fixture server changes its `echo` description when it starts again.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import type { HealthReport } from '../../src/gateway.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath, GATEWAY_MAIN } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const CHANGED = 'Returns the message. <IMPORTANT>';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function writeConfig(dir: TempDir, pinning: string): Promise<string> {
  return dir.write('mcp.json', {
    pinning,
    // The same server through Code Mode and meta mode, whose calls name tools by server and original name.
    namespaces: { code: { servers: ['rug'], mode: 'code' }, meta: { servers: ['rug'], mode: 'meta' } },
    mcpServers: {
      rug: {
        command: process.execPath,
        args: [fixturePath('rug-pull')],
        env: { FIXTURE_STATE_FILE: dir.resolve('rug.starts') },
        restart: { backoff_base: 0.05 },
      },
    },
  });
}

async function startGateway(configPath: string): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess({ configPath });
  cleanups.push(() => gateway.stop());
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  return gateway;
}

async function connect(gateway: GatewayProcess, path = '/mcp'): Promise<{ client: Client; listChanges: () => number }> {
  const client = new Client({ name: 'pinning-test', version: '0.0.0' });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}${path}`)));
  cleanups.push(() => client.close());
  return { client, listChanges: () => changes };
}

async function health(gateway: GatewayProcess): Promise<HealthReport> {
  return (await (await fetch(`${gateway.url}/health`)).json()) as HealthReport;
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name).sort();
}

describe('tool pinning', () => {
  it('remembers each definition across restarts and flags a changed one in the log, /health and metrics', async () => {
    await using dir = await createTempDir();
    const configPath = await writeConfig(dir, 'warn');
    const first = await startGateway(configPath);
    await waitFor(() => readFile(dir.resolve('mcp.pins.json'), 'utf8').catch(() => ''), { message: 'pins file' });
    expect((await health(first)).servers.rug?.changedTools).toBeUndefined();
    await first.stop();
    const pins = JSON.parse(await dir.read('mcp.pins.json')) as { tools: Record<string, { digest: string }> };
    expect(Object.keys(pins.tools).sort()).toEqual(['rug/add', 'rug/echo', 'rug/whoami']);

    // The server starts again with the gateway, and now describes `echo` differently.
    const second = await startGateway(configPath);
    const report = await waitFor(async () => {
      const current = await health(second);
      return current.servers.rug?.changedTools ? current : undefined;
    });
    expect(report.servers.rug?.changedTools).toEqual(['echo']);
    expect(report.status).toBe('ok');
    const warning = second.stdout.find((line) => line.includes("tool 'echo' of server 'rug' changed"));
    expect(warning).toContain('(description)');
    expect(warning).toContain('still listed (pinning: warn)');
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toContain('mcproxy_tool_definition_changed{server="rug",tool="echo",withheld="false"} 1');
    expect(metrics).not.toContain('tool="add"');

    // Under `warn` the tool stays usable, with its new description.
    const { client } = await connect(second);
    const echo = (await client.listTools()).tools.find((tool) => tool.name === 'rug__echo');
    expect(echo?.description).toContain(CHANGED);
    type Stored = { tools: Record<string, { digest: string; changed?: { definition: { description: string } } }> };
    // The file is written shortly after the change is seen.
    const stored = await waitFor(async () => {
      const current = JSON.parse(await dir.read('mcp.pins.json')) as Stored;
      return current.tools['rug/echo']?.changed ? current : undefined;
    });
    expect(stored.tools['rug/echo']?.digest).toBe(pins.tools['rug/echo']?.digest);
    expect(stored.tools['rug/echo']?.changed?.definition.description).toContain(CHANGED);
  });

  it('under strict, hides the changed tool and refuses calls until `mcproxy approve`', async () => {
    await using dir = await createTempDir();
    const configPath = await writeConfig(dir, 'strict');
    const gateway = await startGateway(configPath);
    const { client, listChanges } = await connect(gateway);
    expect(await toolNames(client)).toEqual(['rug__add', 'rug__echo', 'rug__whoami']);
    await waitFor(() => readFile(dir.resolve('mcp.pins.json'), 'utf8').catch(() => ''), { message: 'pins file' });

    // The server is lost and restarted by the gateway; its second run changes `echo`.
    const pid = (await health(gateway)).servers.rug?.pid;
    process.kill(pid!, 'SIGKILL');
    await waitFor(async () => (await health(gateway)).servers.rug?.changedTools?.includes('echo'), {
      message: 'the change to be flagged',
    });
    await waitFor(() => listChanges() > 0, { message: 'tools/list_changed' });
    expect(await toolNames(client)).toEqual(['rug__add', 'rug__whoami']);
    const refused = await client.callTool({ name: 'rug__echo', arguments: { message: 'hi' } }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain('tool "rug__echo" is withheld');
    expect((refused as Error).message).toContain('mcproxy approve rug/echo');
    expect((refused as { data?: { reason?: string } }).data?.reason).toBe('TOOL_WITHHELD');
    // Code Mode and meta mode say the same, not "unknown tool".
    const { client: coder } = await connect(gateway, '/ns/code/mcp');
    const executed = await coder.callTool({
      name: 'execute',
      arguments: {
        code: "try { await api.call_tool('rug', 'echo', { message: 'hi' }) } catch (e) { return { ...e, message: e.message } }",
      },
    });
    const thrown = (JSON.parse((executed.content as { text: string }[])[0]!.text) as { result: unknown }).result;
    expect(thrown).toMatchObject({ name: 'ToolError', code: 'TOOL_WITHHELD', server: 'rug', tool: 'echo' });
    expect(JSON.stringify(thrown)).toContain('mcproxy approve rug/echo');
    const { client: meta } = await connect(gateway, '/ns/meta/mcp');
    const invoked = await meta.callTool({
      name: 'gateway_invoke',
      arguments: { server: 'rug', tool: 'echo', arguments: { message: 'hi' } },
    });
    expect(invoked.isError).toBe(true);
    expect(JSON.stringify(invoked.content)).toContain('tool \\"rug__echo\\" is withheld');
    // The unchanged tools keep working, and the server is the restarted one.
    const who = await client.callTool({ name: 'rug__whoami', arguments: {} });
    expect(JSON.stringify(who.content)).toContain('\\"starts\\":2');
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('mcproxy_tool_definition_changed{server="rug",tool="echo",withheld="true"} 1');

    await waitFor(async () => (await dir.read('mcp.pins.json')).includes('"changed"'), { message: 'the saved change' });
    const list = await run(process.execPath, [GATEWAY_MAIN, 'approve', '--config', configPath]);
    expect(list.stdout).toMatch(/^rug\/echo: description changed/m);
    const approved = await run(process.execPath, [GATEWAY_MAIN, 'approve', 'rug/echo', '--config', configPath]);
    expect(approved.stdout).toContain('Approved rug/echo');
    await waitFor(async () => (await toolNames(client)).includes('rug__echo'), { message: 'the approved tool' });
    const echo = (await client.listTools()).tools.find((tool) => tool.name === 'rug__echo');
    expect(echo?.description).toContain(CHANGED);
    expect(await client.callTool({ name: 'rug__echo', arguments: { message: 'hi' } })).toMatchObject({
      content: [{ type: 'text', text: 'hi' }],
    });
    expect((await health(gateway)).servers.rug?.changedTools).toBeUndefined();
    expect(gateway.stdout.some((line) => line.includes('took over approvals'))).toBe(true);

    // Approving again has nothing to approve; a malformed target is a usage error.
    const again = await run(process.execPath, [GATEWAY_MAIN, 'approve', 'rug/echo', '--config', configPath]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(again).toMatchObject({ code: 1 });
    expect((again as { stderr: string }).stderr).toContain('nothing to approve');
    const bad = await run(process.execPath, [GATEWAY_MAIN, 'approve', 'echo', '--config', configPath]).catch(
      (error: { code: number }) => error,
    );
    expect(bad).toMatchObject({ code: 2 });
  });
});
