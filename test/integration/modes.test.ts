import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath, GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { realServersConfig } from '../helpers/real-servers.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);

let dir: TempDir;
let codeGateway: GatewayProcess;
let manyToolsGateway: GatewayProcess;
let metaGateway: GatewayProcess;

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'modes', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { type: string; text?: string }[]).map((block) => block.text ?? '').join('');
}

function jsonOf<T>(result: Awaited<ReturnType<Client['callTool']>>): T {
  return JSON.parse(textOf(result)) as T;
}

async function listBytes(url: string): Promise<number> {
  const client = await connect(url);
  try {
    return Buffer.byteLength(JSON.stringify(await client.listTools()));
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  dir = await createTempDir();
  const servers = realServersConfig(dir.path, dir.resolve('events.log'));
  const codeConfig = await dir.write('code.json', { mode: 'code', servers, sandbox: { timeout_secs: 5 } });
  const manyConfig = await dir.write('many.json', {
    mode: 'code',
    servers: { many: { command: process.execPath, args: [fixturePath('many-tools')], env: { TOOL_COUNT: '200' } } },
  });
  const metaConfig = await dir.write('meta.json', { servers });
  [codeGateway, manyToolsGateway, metaGateway] = await Promise.all([
    startGatewayProcess({ configPath: codeConfig }),
    startGatewayProcess({ configPath: manyConfig }),
    startGatewayProcess({ configPath: metaConfig, args: ['--mode', 'meta'] }),
  ]);
});

afterAll(async () => {
  await Promise.all([codeGateway?.stop(), manyToolsGateway?.stop(), metaGateway?.stop()]);
  await dir?.[Symbol.asyncDispose]();
});

describe('code mode', () => {
  it('lists two tools in at most 1,200 bytes, with the real servers and with 200 tools alike', async () => {
    const real = await listBytes(`${codeGateway.url}/mcp`);
    const many = await listBytes(`${manyToolsGateway.url}/mcp`);
    expect(real).toBeLessThanOrEqual(1_200);
    expect(many).toBe(real);
    const client = await connect(`${codeGateway.url}/mcp`);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['search', 'execute']);
    await client.close();
  });

  it("search ranks server-everything's echo first, and each depth returns what it promises", async () => {
    const client = await connect(`${codeGateway.url}/mcp`);
    try {
      const found = jsonOf<{ tools: { server: string; name: string }[] }>(
        await client.callTool({ name: 'search', arguments: { query: 'echo', max_depth: 2 } }),
      );
      expect(found.tools[0]).toMatchObject({ server: 'everything', name: 'echo' });
      const depth0 = textOf(await client.callTool({ name: 'search', arguments: { query: '', max_depth: 0 } }));
      for (const server of ['everything', 'memory', 'filesystem', 'ok']) expect(depth0).toContain(server);
      expect(depth0).not.toContain('inputSchema');
      const depth3 = textOf(
        await client.callTool({ name: 'search', arguments: { query: 'echo', max_depth: 3, limit: 1 } }),
      );
      expect(depth3).toMatch(/message: string/);
    } finally {
      await client.close();
    }
  });

  it('execute calls tools on two servers and returns the combined JSON', async () => {
    const client = await connect(`${codeGateway.url}/mcp`);
    try {
      const code = `
        const echoed = await api.call_tool('everything', 'echo', { message: 'from code' });
        const { sum } = await api.server('ok').add({ a: 20, b: 22 });
        return { echoed, sum };`;
      const answer = jsonOf<{ ok: boolean; result: unknown }>(
        await client.callTool({ name: 'execute', arguments: { code } }),
      );
      expect(answer).toMatchObject({ ok: true, result: { echoed: 'Echo: from code', sum: 42 } });
    } finally {
      await client.close();
    }
  });

  it('routes a sampling request made during execute to the client that runs the code', async () => {
    const client = new Client({ name: 'sampler', version: '0.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: 'sampled inside execute' },
    }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${codeGateway.url}/mcp`)));
    try {
      const code = "return api.call_tool('ok', 'sample', { prompt: 'hello' })";
      const answer = jsonOf<{ ok: boolean; result: unknown }>(
        await client.callTool({ name: 'execute', arguments: { code } }),
      );
      expect(answer).toMatchObject({ ok: true, result: 'sampled inside execute' });
    } finally {
      await client.close();
    }
  });

  it('shows a backend list_changed in the next search', async () => {
    const client = await connect(`${codeGateway.url}/mcp`);
    try {
      await client.callTool({
        name: 'execute',
        arguments: { code: "return api.call_tool('ok', 'add_tool', { name: 'freshly_added' })" },
      });
      await waitFor(
        async () =>
          textOf(await client.callTool({ name: 'search', arguments: { query: 'freshly_added' } })).includes(
            'freshly_added',
          ),
        {
          message: 'the new tool is found',
        },
      );
    } finally {
      await client.close();
    }
  });

  it("keeps serving other clients while a guest spins: another client's echo returns first", async () => {
    const spinner = await connect(`${codeGateway.url}/mcp`);
    const other = await connect(`${codeGateway.url}/mcp/everything`);
    try {
      const order: string[] = [];
      const spinning = spinner.callTool({ name: 'execute', arguments: { code: 'while (true) {}' } });
      const spinnerEnded = () => order.push('spinner');
      void spinning.then(spinnerEnded, spinnerEnded);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const echoed = await other.callTool({ name: 'echo', arguments: { message: 'not blocked' } });
      order.push('echo');
      expect(textOf(echoed)).toBe('Echo: not blocked');
      const answer = jsonOf<{ ok: boolean; error: { type: string } }>(await spinning);
      expect(answer).toMatchObject({ ok: false, error: { type: 'Timeout' } });
      expect(order).toEqual(['echo', 'spinner']);
    } finally {
      await Promise.all([spinner.close(), other.close()]);
    }
  });
});

describe('meta mode', () => {
  it('offers the four meta tools, and they work against the real servers', async () => {
    const client = await connect(`${metaGateway.url}/mcp`);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual([
        'gateway_invoke',
        'gateway_list_servers',
        'gateway_list_tools',
        'gateway_search_tools',
      ]);
      const servers = textOf(await client.callTool({ name: 'gateway_list_servers', arguments: {} }));
      for (const server of ['everything', 'memory', 'filesystem']) expect(servers).toContain(`"${server}"`);
      const tools = textOf(await client.callTool({ name: 'gateway_list_tools', arguments: { server: 'memory' } }));
      expect(tools).toContain('read_graph');
      const found = textOf(await client.callTool({ name: 'gateway_search_tools', arguments: { query: 'directory' } }));
      expect(found).toContain('filesystem');
      const invoked = await client.callTool({
        name: 'gateway_invoke',
        arguments: { server: 'everything', tool: 'echo', arguments: { message: 'meta' } },
      });
      expect(textOf(invoked)).toBe('Echo: meta');
    } finally {
      await client.close();
    }
  });

  it('serves one backend alone, under its own names, at /mcp/<server>', async () => {
    const client = await connect(`${metaGateway.url}/mcp/everything`);
    let notified = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notified++;
    });
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('echo');
      expect(names.some((name) => name.includes('__'))).toBe(false);
      expect(names).not.toContain('read_graph');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'alone' } }))).toBe('Echo: alone');
      await expect(client.callTool({ name: 'read_graph', arguments: {} })).rejects.toThrow(/unknown tool/);
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toContain('simple-prompt');
      expect(notified).toBe(0);
    } finally {
      await client.close();
    }
    expect((await fetch(`${metaGateway.url}/mcp/nosuchserver`, { method: 'POST' })).status).toBe(404);
  });
});

describe('mcproxy stubs', () => {
  it('writes declarations of the whole catalog that pass tsc --noEmit', async () => {
    const configPath = await dir.write('stubs.json', {
      servers: realServersConfig(dir.path, dir.resolve('events.log')),
    });
    const out = dir.resolve('stubs');
    const { stdout } = await run(process.execPath, [GATEWAY_MAIN, 'stubs', '--config', configPath, '--out', out], {
      timeout: 60_000,
    });
    expect(stdout).toMatch(/Wrote declarations of \d+ tools/);
    await run(
      join(REPO_ROOT, 'node_modules/.bin/tsc'),
      ['--noEmit', '--strict', '--typeRoots', out, join(out, 'index.d.ts')],
      {
        timeout: 60_000,
      },
    );
  });
});
