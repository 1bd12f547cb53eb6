import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath, GATEWAY_MAIN } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

// `mcproxy client-config` (issue 16): each client's snippet, taken as the client would read it, reaches a
// gateway that requires a token; the token travels the way the snippet says.

const run = promisify(execFile);
const TOKEN = 'client-config-test-token-0123456789';
const TOKEN_ENV = 'MCPROXY_TEST_TOKEN';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: TempDir;
let gateway: GatewayProcess;

async function clientConfig(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GATEWAY_MAIN, 'client-config', ...args], {
      cwd: dir.path,
      env: { PATH: process.env.PATH, HOME: dir.path, XDG_CONFIG_HOME: dir.resolve('.config'), ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as Outcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Fills in a client's variable syntax the way that client does. */
function expand(value: string): string {
  return value
    .replace(/\$\{env:(\w+)\}/g, (_, name: string) => (name === TOKEN_ENV ? TOKEN : ''))
    .replace(/\$\{input:mcproxy-token\}/g, TOKEN)
    .replace(/\$\{(\w+)\}/g, (_, name: string) => (name === TOKEN_ENV ? TOKEN : ''));
}

async function echoThrough(url: string, headers: Record<string, string>): Promise<string> {
  const client = new Client({ name: 'snippet-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  try {
    const result = (await client.callTool({ name: 'ok__echo', arguments: { message: 'from a snippet' } })) as {
      content: { text: string }[];
    };
    return result.content[0]!.text;
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  dir = await createTempDir();
  const configPath = await dir.write('mcp-servers.json', {
    servers: { ok: { command: process.execPath, args: [fixturePath('ok')] } },
    auth: { tokens: [{ id: 'me', token: `\${${TOKEN_ENV}}` }] },
  });
  gateway = await startGatewayProcess({ configPath, env: { [TOKEN_ENV]: TOKEN } });
});
afterAll(async () => {
  await gateway?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('client-config snippets reach a gateway that requires a token', () => {
  const url = () => `${gateway.url}/mcp`;
  const httpOf: Record<string, (entry: Record<string, unknown>) => string> = {
    cursor: (entry) => entry['url'] as string,
    vscode: (entry) => entry['url'] as string,
    windsurf: (entry) => entry['serverUrl'] as string,
    cline: (entry) => entry['url'] as string,
    gemini: (entry) => entry['httpUrl'] as string,
  };

  for (const client of Object.keys(httpOf)) {
    it(`${client}: the URL and the Authorization header it sends`, async () => {
      const { code, stdout, stderr } = await clientConfig([client, '--url', url(), '--token-env', TOKEN_ENV], {
        [TOKEN_ENV]: TOKEN,
      });
      expect(code, stderr).toBe(0);
      const document = JSON.parse(stdout) as Record<string, Record<string, Record<string, unknown>>>;
      const entry = (document['mcpServers'] ?? document['servers'])!['mcproxy']!;
      const headers = Object.fromEntries(
        Object.entries((entry['headers'] ?? {}) as Record<string, string>).map(([key, value]) => [key, expand(value)]),
      );
      expect(headers).toEqual({ Authorization: `Bearer ${TOKEN}` });
      expect(await echoThrough(httpOf[client]!(entry), headers)).toBe('from a snippet');
      await expect(echoThrough(httpOf[client]!(entry), {})).rejects.toThrow(/401|Unauthorized|auth/i);
      if (client === 'cline') expect(stderr).toContain('the token is written into its file');
    });
  }

  it('codex: the table names the variable the token is read from, never the token', async () => {
    const { stdout } = await clientConfig(['codex', '--url', url(), '--token-env', TOKEN_ENV], { [TOKEN_ENV]: TOKEN });
    expect(stdout).toBe(`[mcp_servers.mcproxy]\nurl = "${url()}"\nbearer_token_env_var = "${TOKEN_ENV}"\n`);
  });

  it('claude-code: the command puts the variable into the header through the shell', async () => {
    const { stdout } = await clientConfig(['claude-code', '--url', url(), '--token-env', TOKEN_ENV]);
    expect(stdout).toBe(
      `claude mcp add --transport http mcproxy ${url()} --header "Authorization: Bearer $${TOKEN_ENV}"\n`,
    );
  });

  it('claude-desktop: mcp-remote, started as the snippet says, relays a tool call', { timeout: 120_000 }, async () => {
    const { stdout } = await clientConfig(['claude-desktop', '--url', url(), '--token-env', TOKEN_ENV], {
      [TOKEN_ENV]: TOKEN,
    });
    const entry = (
      JSON.parse(stdout) as { mcpServers: Record<string, { command: string; args: string[]; env: object }> }
    ).mcpServers['mcproxy']!;
    expect(entry.env).toEqual({ MCPROXY_AUTH: `Bearer ${TOKEN}` });
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...(entry.env as Record<string, string>) },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
    await client.connect(transport, { timeout: 90_000 });
    try {
      const result = (await client.callTool({ name: 'ok__echo', arguments: { message: 'via mcp-remote' } })) as {
        content: { text: string }[];
      };
      expect(result.content[0]!.text).toBe('via mcp-remote');
    } finally {
      await client.close();
    }
  });
});

describe('client-config', () => {
  it('--stdio gives absolute paths that start the gateway from any folder', async () => {
    const { code, stdout } = await clientConfig(['cursor', '--stdio', '--config', 'mcp-servers.json']);
    expect(code).toBe(0);
    const entry = (JSON.parse(stdout) as { mcpServers: { mcproxy: { command: string; args: string[] } } }).mcpServers
      .mcproxy;
    expect(entry.command).toBe(process.execPath);
    expect(entry.args).toEqual([realpathSync(GATEWAY_MAIN), '--stdio', '--config', dir.resolve('mcp-servers.json')]);
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      cwd: '/',
      env: { PATH: process.env.PATH!, [TOKEN_ENV]: TOKEN },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'stdio-snippet', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('ok__echo');
    } finally {
      await client.close();
    }
  });

  it('--write merges into the client file, keeping other entries, and replaces its own on a second run', async () => {
    const file = dir.resolve('.cursor/mcp.json');
    await dir.write('.cursor/mcp.json', { mcpServers: { other: { url: 'https://other.example/mcp' } }, extra: 1 });
    const first = await clientConfig(['cursor', '--write']);
    expect(first.stdout).toBe(`Added "mcproxy" to ${file}\n`);
    const second = await clientConfig(['cursor', '--write', '--url', 'http://127.0.0.1:9/mcp']);
    expect(second.stdout).toBe(`Replaced "mcproxy" in ${file}\n`);
    expect(JSON.parse(await dir.read('.cursor/mcp.json'))).toEqual({
      mcpServers: { other: { url: 'https://other.example/mcp' }, mcproxy: { url: 'http://127.0.0.1:9/mcp' } },
      extra: 1,
    });
  });

  it('adds the VS Code token input once, appends to Codex TOML once, and leaves a file with comments alone', async () => {
    await clientConfig(['vscode', '--write', '--token-env', TOKEN_ENV]);
    await clientConfig(['vscode', '--write', '--token-env', TOKEN_ENV]);
    const vscode = JSON.parse(await dir.read('.vscode/mcp.json')) as { inputs: unknown[]; servers: object };
    expect(vscode.inputs).toHaveLength(1);
    expect(Object.keys(vscode.servers)).toEqual(['mcproxy']);

    await dir.write('.codex/config.toml', 'model = "o4"\n');
    expect((await clientConfig(['codex', '--write'])).code).toBe(0);
    expect(await dir.read('.codex/config.toml')).toBe(
      'model = "o4"\n\n[mcp_servers.mcproxy]\nurl = "http://127.0.0.1:12010/mcp"\n',
    );
    const again = await clientConfig(['codex', '--write']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has [mcp_servers.mcproxy]');

    await dir.write('commented.json', '{ // mine\n  "mcpServers": {}\n}\n');
    const commented = await clientConfig(['cursor', '--out', 'commented.json']);
    expect(commented.code).toBe(1);
    expect(commented.stderr).toContain('is not plain JSON');
    expect(await dir.read('commented.json')).toBe('{ // mine\n  "mcpServers": {}\n}\n');
  });

  it('refuses an unknown client and --write for Claude Code, which keeps its own list', async () => {
    const unknown = await clientConfig(['emacs']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('one of claude-desktop, claude-code, cursor');
    const code = await clientConfig(['claude-code', '--write']);
    expect(code.code).toBe(1);
    expect(code.stderr).toContain('claude mcp add --transport http mcproxy http://127.0.0.1:12010/mcp');
  });
});
