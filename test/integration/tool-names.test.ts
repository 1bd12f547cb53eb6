import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

// The name budget (issue 16): tool names that LLM APIs accept after a client's own prefix, unique, callable.

const LONG_NAMES = fileURLToPath(new URL('../fixtures/servers/long-names.mjs', import.meta.url));
const FIXTURE_NAMES = [
  'echo',
  'create_pull_request_review_comment_reply_with_suggested_change',
  'create_pull_request_review_comment_reply_with_suggested_change_v2',
  'repos.contents.get',
  'repos_contents_get',
  'x'.repeat(128),
];
/** What Anthropic's and OpenAI's tool APIs accept. */
const LLM_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const CLIENTS = 4;

const server = (extra: object = {}) => ({
  command: process.execPath,
  args: [LONG_NAMES],
  env: { FIXTURE_TOOL_NAMES: JSON.stringify(FIXTURE_NAMES) },
  ...extra,
});

async function connect(gateway: GatewayProcess): Promise<Client> {
  const client = new Client({ name: 'names-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`)));
  return client;
}

/** Calls every tool and returns the original name each answered with. */
async function callAll(client: Client, tools: Tool[]): Promise<string[]> {
  return Promise.all(
    tools.map(async (tool) => {
      const result = (await client.callTool({ name: tool.name, arguments: {} })) as { content: { text: string }[] };
      return result.content[0]!.text;
    }),
  );
}

let dir: TempDir;
beforeAll(async () => {
  dir = await createTempDir();
});
afterAll(async () => {
  await dir?.[Symbol.asyncDispose]();
});

describe('the tool name budget', () => {
  it('fits every name into 48 characters of [A-Za-z0-9_-], unique, each reaching its own tool, under load', async () => {
    const configPath = await dir.write('default.json', {
      servers: {
        github: server(),
        // The same names again with no prefix, twice: collisions, settled in file order.
        bare: server({ prefix: '' }),
        bare_again: server({ prefix: '' }),
        'a-server-with-a-name-as-long-as-the-config-allows-it-to-be-0123': server(),
      },
    });
    await using gateway = await startGatewayProcess({ configPath });
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(gateway)));
    try {
      const { tools } = await clients[0]!.listTools();
      expect(tools).toHaveLength(FIXTURE_NAMES.length * 4);
      const names = tools.map((tool) => tool.name);
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) {
        expect(name.length, name).toBeLessThanOrEqual(48);
        expect(`mcp__mcproxy__${name}`, name).toMatch(LLM_TOOL_NAME);
      }
      expect(names).toContain('github__echo');
      expect(names).toContain('echo');
      expect(names).toContain('echo_2');
      expect(names).toContain('github__repos_contents_get');
      expect(names).toContain('github__repos_contents_get_2');

      // Every renamed tool says what it really is.
      for (const tool of tools) {
        const original = tool._meta?.['mcproxy/original_name'];
        if (original === undefined) continue;
        expect(FIXTURE_NAMES).toContain(original);
        expect(tool.title).toBe(original);
      }
      const shortened = tools.filter((tool) => tool.name.length === 48);
      expect(shortened.length).toBeGreaterThanOrEqual(8);

      // Each public name reaches the tool it stands for, from several clients at once.
      const expected = tools.map((tool) => (tool._meta?.['mcproxy/original_name'] as string | undefined) ?? tool.name);
      const plain = expected.map((name) => name.replace(/^(github|a-server[^_]*)__/, ''));
      const answers = await Promise.all(clients.map((client) => callAll(client, tools)));
      for (const answer of answers) expect(answer).toEqual(plain);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('is the same on every start, and follows the naming setting', async () => {
    const configPath = await dir.write('wide.json', {
      naming: { max_length: 128, allow_dots: true },
      servers: { github: server() },
    });
    await using wide = await startGatewayProcess({ configPath });
    const client = await connect(wide);
    const { tools } = await client.listTools();
    await client.close();
    const names = tools.map((tool) => tool.name);
    expect(names).toContain('github__repos.contents.get');
    expect(names).toContain('github__create_pull_request_review_comment_reply_with_suggested_change_v2');
    expect(names.every((name) => name.length <= 128)).toBe(true);

    const narrowPath = await dir.write('narrow.json', { servers: { github: server() } });
    const once = await listNames(narrowPath);
    expect(await listNames(narrowPath)).toEqual(once);
  });

  it('refuses a naming setting outside the protocol limits, with the line', async () => {
    const configPath = await dir.write('bad.json', { naming: { max_length: 500 }, servers: { github: server() } });
    await expect(startGatewayProcess({ configPath })).rejects.toThrow(/bad\.json:3:5: naming\.max_length: .*128/);
  });
});

async function listNames(configPath: string): Promise<string[]> {
  await using gateway = await startGatewayProcess({ configPath });
  const client = await connect(gateway);
  try {
    return (await client.listTools()).tools.map((tool) => tool.name);
  } finally {
    await client.close();
  }
}
