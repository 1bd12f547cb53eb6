import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type GatewayError, isGatewayError } from '../errors.js';
import type { ConfigIssue } from './issues.js';
import { loadConfig, parseConfigText } from './load.js';

function errorOf(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (isGatewayError(error)) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

async function rejectionOf(promise: Promise<unknown>): Promise<GatewayError> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (reason: unknown) => reason,
  );
  if (isGatewayError(error)) return error;
  throw error;
}

const issuesOf = (error: GatewayError): ConfigIssue[] => (error.data as { issues: ConfigIssue[] }).issues;
const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseConfigText(text, { path: 'cfg.json', env });

describe('parseConfigText: shapes', () => {
  it('reads the v1 list', () => {
    const config = parse('{"servers":[{"name":"wiki","command":"npx","args":["-y","wikipedia-mcp"],"timeout":60}]}');
    expect(config.source).toEqual({ path: 'cfg.json', shape: 'v1' });
    expect(config.servers).toHaveLength(1);
    expect(config.servers[0]).toMatchObject({
      name: 'wiki',
      transport: 'stdio',
      command: 'npx',
      args: ['-y', 'wikipedia-mcp'],
      startTimeoutMs: 60_000,
      prefix: 'wiki',
      enabled: true,
    });
    expect(config.servers[0]).not.toHaveProperty('name', undefined);
  });

  it('reads the v2 object with its sections', () => {
    const config = parse(
      JSON.stringify({
        mode: 'code',
        servers: { github: { command: 'docker', namespace: 'public' }, docs: { url: 'https://x.test/mcp' } },
        namespaces: { public: ['github', 'docs'] },
        sandbox: { memory_mb: 256 },
      }),
    );
    expect(config.source.shape).toBe('v2');
    expect(config.mode).toBe('code');
    expect(config.servers.map((server) => [server.name, server.transport])).toEqual([
      ['github', 'stdio'],
      ['docs', 'http'],
    ]);
    expect(config.namespaces).toEqual({ public: ['github', 'docs'] });
    expect(config.sandbox).toEqual({ memory_mb: 256 });
  });

  it('reads the mcpServers format as a client writes it', () => {
    const config = parse(
      JSON.stringify({
        mcpServers: {
          fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] },
          remote: { type: 'streamable-http', url: 'https://x.test/mcp', headers: { Authorization: 'Bearer t' } },
          legacy: { url: 'https://x.test/sse' },
        },
      }),
    );
    expect(config.source.shape).toBe('mcpServers');
    expect(config.servers.map((server) => server.transport)).toEqual(['stdio', 'http', 'sse']);
    expect(config.servers[1]?.headers).toEqual({ Authorization: 'Bearer t' });
  });

  it('accepts the disabled and autoApprove fields of Cline and Roo configs', () => {
    const config = parse(
      '{"mcpServers":{"a":{"command":"a","disabled":true,"autoApprove":["x"]},"b":{"command":"b"}}}',
    );
    expect(config.servers.map((server) => [server.name, server.enabled])).toEqual([
      ['a', false],
      ['b', true],
    ]);
  });

  it('merges servers and mcpServers, servers first', () => {
    const config = parse('{"mcpServers":{"b":{"command":"b"}},"servers":{"a":{"command":"a"}}}');
    expect(config.servers.map((server) => server.name)).toEqual(['a', 'b']);
  });

  it('accepts an empty file as an empty config', () => {
    expect(parse('  \n').servers).toEqual([]);
    expect(parse('{}').source.shape).toBe('empty');
  });

  it('reads YAML', () => {
    const yaml = 'mode: meta\nservers:\n  memory:\n    command: node\n    args: [server.js]\n    tool_timeout: 5\n';
    const config = parseConfigText(yaml, { path: 'cfg.yaml', env: {} });
    expect(config.mode).toBe('meta');
    expect(config.servers[0]).toMatchObject({ name: 'memory', args: ['server.js'], toolTimeoutMs: 5000 });
  });
});

describe('parseConfigText: interpolation', () => {
  it('expands variables and defaults in every string', () => {
    const text = JSON.stringify({
      servers: { gh: { command: '${BIN:-docker}', args: ['${ARG}'], env: { TOKEN: '${TOKEN}' } } },
    });
    const config = parse(text, { ARG: 'run', TOKEN: 'secret' });
    expect(config.servers[0]).toMatchObject({ command: 'docker', args: ['run'], env: { TOKEN: 'secret' } });
  });

  it('names the unset variable and the field that uses it', () => {
    const text = '{"servers":{"github":{"command":"gh","env":{"API_KEY":"${GITHUB_TOKEN}"}}}}';
    const error = errorOf(() => parse(text));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('cfg.json:1:45: servers.github.env.API_KEY: uses ${GITHUB_TOKEN}, which is not set');
  });

  it('reports an unset variable in a URL once, not also as a bad URL', () => {
    const error = errorOf(() => parse('{"mcpServers":{"r":{"url":"${BASE}/mcp"}}}'));
    expect(issuesOf(error)).toEqual([
      { path: 'mcpServers.r.url', message: 'uses ${BASE}, which is not set', line: 1, column: 21 },
    ]);
  });

  it('reads trusted_proxies, and names an entry that is no address or range', () => {
    expect(parse('{"trusted_proxies":["10.0.0.0/8","::1"]}').trustedProxies).toEqual(['10.0.0.0/8', '::1']);
    const error = errorOf(() => parse('{"trusted_proxies":["10.0.0.0/8","haproxy.internal"]}'));
    expect(issuesOf(error)).toEqual([
      {
        path: 'trusted_proxies[1]',
        message: 'must be an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8',
        line: 1,
        column: 34,
      },
    ]);
  });

  it('lets a disabled server use an unset variable', () => {
    const config = parse('{"servers":[{"name":"p","command":"x","env":{"K":"${NOPE}"},"enabled":false}]}');
    expect(config.servers[0]).toMatchObject({ enabled: false, env: { K: '${NOPE}' } });
  });

  it('names v1 entries by index and name', () => {
    const error = errorOf(() => parse('{"servers":[{"name":"a","command":"x"},{"name":"wiki","command":"${NOPE}"}]}'));
    expect(error.message).toBe('cfg.json:1:55: servers[1] (wiki).command: uses ${NOPE}, which is not set');
  });
});

describe('parseConfigText: errors', () => {
  it('suggests the nearest field for a typo', () => {
    const error = errorOf(() => parse('{"servers":{"github":{"comand":"gh"}}}'));
    expect(error.message).toContain('cfg.json:1:23: servers.github.comand: unknown field; did you mean "command"?');
  });

  it('suggests across naming styles and at the top level', () => {
    const error = errorOf(() => parse('{"mcp_servers":{},"servers":[{"name":"a","command":"x","toolTimeout":3}]}'));
    expect(issuesOf(error)).toEqual([
      { path: 'mcp_servers', message: 'unknown field; did you mean "mcpServers"?', line: 1, column: 2 },
      {
        path: 'servers[0] (a).toolTimeout',
        message: 'unknown field; did you mean "tool_timeout"?',
        line: 1,
        column: 56,
      },
    ]);
  });

  it('names file, path, expected and received type', () => {
    const error = errorOf(() => parse('{"servers":{"github":{"command":"gh","timeout":"x"}}}'));
    expect(error.message).toBe('cfg.json:1:38: servers.github.timeout: expected number, received string');
    expect(error.data).toEqual({
      file: 'cfg.json',
      issues: [{ path: 'servers.github.timeout', message: 'expected number, received string', line: 1, column: 38 }],
    });
  });

  it('lists every problem at once', () => {
    const text = JSON.stringify({
      mode: 'fast',
      servers: [{ name: 'a', command: 5 }, { name: 'b' }, { name: 'c', command: 'x', url: 'https://x.test' }],
      sandbox: { memory_mb: 1 },
    });
    const lines = errorOf(() => parse(text)).message.split('\n');
    expect(lines).toEqual([
      'cfg.json:1:2: mode: expected one of "direct", "code", "meta", received "fast"',
      'cfg.json:1:39: servers[0] (a).command: expected string, received number',
      'cfg.json:1:52: servers[1] (b): needs "command" (a local stdio server) or "url" (a remote server)',
      'cfg.json:1:65: servers[2] (c): has both "command" and "url"; a server is either local (command) or remote (url)',
      'cfg.json:1:127: sandbox.memory_mb: expected number to be >=8',
    ]);
  });

  it('explains a wrong shape of servers', () => {
    expect(errorOf(() => parse('{"servers":5}')).message).toBe(
      'cfg.json:1:2: servers: expected array or object, received number',
    );
  });

  it('rejects a bad server name', () => {
    expect(errorOf(() => parse('{"mcpServers":{"my server":{"command":"x"}}}')).message).toBe(
      'cfg.json:1:16: mcpServers["my server"]: invalid name: a server name may contain only letters, digits, "_" and "-"',
    );
  });

  it('gives line and column of invalid JSON', () => {
    const error = errorOf(() => parse('{\n  "servers": {\n    "a": {"command": x}\n  }\n}'));
    expect(error.message).toMatch(/^cfg\.json:3:22: invalid JSON: Unexpected token 'x'$/);
    expect(issuesOf(error)[0]).toMatchObject({ line: 3, column: 22 });
    expect(errorOf(() => parse('{"servers": {},\n}')).message).toMatch(/^cfg\.json:2:1: invalid JSON/);
    expect(errorOf(() => parse('{"servers": {')).message).toMatch(/^cfg\.json:1:14: invalid JSON/);
  });

  it('gives line and column of invalid YAML', () => {
    const error = errorOf(() => parseConfigText('servers:\n  a:\n    command: [x\n', { path: 'c.yml', env: {} }));
    expect(error.message).toMatch(/^c\.yml:\d+:\d+: invalid YAML: [^\n]+$/);
  });

  it('says <config> when there is no file', () => {
    expect(errorOf(() => parseConfigText('{"x":1}', { env: {} })).message).toBe('<config>:1:2: x: unknown field');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcproxy-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the .env beside the config; the real environment wins', async () => {
    const file = join(dir, 'mcp-servers.json');
    await writeFile(file, '{"servers":{"a":{"command":"x","env":{"A":"${FROM_FILE}","B":"${BOTH}"}}}}');
    await writeFile(join(dir, '.env'), 'FROM_FILE=file\nBOTH=file\n');
    const config = await loadConfig(file, { env: { BOTH: 'real' } });
    expect(config.servers[0]?.env).toEqual({ A: 'file', B: 'real' });
    expect(process.env['FROM_FILE']).toBeUndefined();
  });

  it('reads YAML by extension', async () => {
    const file = join(dir, 'servers.yaml');
    await writeFile(file, 'mcpServers:\n  r:\n    url: https://x.test/sse/\n');
    const config = await loadConfig(file, { env: {} });
    expect(config.servers[0]).toMatchObject({ name: 'r', transport: 'sse' });
  });

  it('says CONFIG_NOT_FOUND with the path', async () => {
    const error = await rejectionOf(loadConfig(join(dir, 'nope.json')));
    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.message).toContain(join(dir, 'nope.json'));
  });

  it('says CONFIG_INVALID for a directory', async () => {
    await mkdir(join(dir, 'd.json'));
    expect((await rejectionOf(loadConfig(join(dir, 'd.json')))).code).toBe('CONFIG_INVALID');
  });
});

describe('shipped examples', () => {
  const env = { GITHUB_TOKEN: 'x', DOCS_TOKEN: 'x', TAVILY_API_KEY: 'x' };
  it.each([
    ['config/mcp-servers.example.json', 'v2', 4],
    ['config/examples/v1.json', 'v1', 2],
    ['config/examples/v2.json', 'v2', 3],
    ['config/examples/mcp-servers-client-format.json', 'mcpServers', 4],
    ['config/examples/mcp-servers.yaml', 'v2', 3],
  ])('%s loads', async (file, shape, count) => {
    const config = await loadConfig(file, { env });
    expect(config.source.shape).toBe(shape);
    expect(config.servers).toHaveLength(count);
  });

  it('the example config starts servers through npx -y, which finds them installed in the repository', async () => {
    const config = await loadConfig('config/mcp-servers.example.json', { env: {} });
    expect(config.servers.find((server) => server.name === 'memory')?.env).toEqual({
      MEMORY_FILE_PATH: '/tmp/mcproxy-memory.jsonl',
    });
    const { devDependencies } = JSON.parse(await readFile('package.json', 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    for (const server of config.servers) {
      expect(server.command).toBe('npx');
      expect(server.args[0]).toBe('-y');
      expect(Object.keys(devDependencies)).toContain(server.args[1]);
      await expect(access(`node_modules/${server.args[1]}/package.json`)).resolves.toBeUndefined();
    }
  });
});

describe('parseConfigText: oauth of a server', () => {
  it('refuses a client secret without a client id, naming the field', () => {
    expect(() =>
      parse(JSON.stringify({ servers: { wiki: { url: 'https://h/mcp', oauth: { client_secret: 'x' } } } })),
    ).toThrow(/servers\.wiki\.oauth\.client_secret: client_secret needs client_id/);
  });
});
