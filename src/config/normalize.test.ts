import { describe, expect, it } from 'vitest';

import {
  DEFAULT_MAX_INSTANCES,
  DEFAULT_RESTART_POLICY,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_TOOL_TIMEOUT_MS,
} from './model.js';
import { checkConfigSemantics, inferTransport, normalizeConfig } from './normalize.js';

describe('scope', () => {
  const scopes = (file: Parameters<typeof normalizeConfig>[0]) =>
    Object.fromEntries(normalizeConfig(file).servers.map((server) => [server.name, server.scope]));

  it('is shared for stdio servers and session for remote ones unless set', () => {
    expect(
      scopes({ servers: { local: { command: 'x' }, remote: { url: 'https://h/mcp' }, old: { url: 'https://h/sse' } } }),
    ).toEqual({ local: 'shared', remote: 'session', old: 'session' });
  });

  it('inherits server > namespace (along extends) > top level > transport default', () => {
    expect(
      scopes({
        scope: 'credential',
        servers: {
          own: { command: 'x', scope: 'shared', namespace: 'team' },
          member: { command: 'x', namespace: 'team' },
          child: { command: 'x', namespace: 'sub' },
          plain: { command: 'x' },
        },
        namespaces: { team: { scope: 'session' }, sub: { extends: 'team' } },
      }),
    ).toEqual({ own: 'shared', member: 'session', child: 'session', plain: 'credential' });
  });

  it('takes the most separate scope when namespaces disagree', () => {
    expect(
      scopes({
        servers: { both: { command: 'x' } },
        namespaces: { a: { servers: ['both'], scope: 'shared' }, b: { servers: ['both'], scope: 'session' } },
      }),
    ).toEqual({ both: 'session' });
  });
});

describe('inferTransport', () => {
  it.each([
    [{ command: 'x' }, 'stdio'],
    [{ url: 'https://h/mcp' }, 'http'],
    [{ url: 'https://h/sse' }, 'sse'],
    [{ url: 'https://h/v1/sse/' }, 'sse'],
    [{ url: 'https://h/sse', type: 'http' as const }, 'http'],
    [{ url: 'https://h/mcp', type: 'sse' as const }, 'sse'],
    [{ url: 'https://h/mcp', type: 'streamable-http' as const }, 'http'],
    [{ url: 'https://h/mcp', type: 'streamableHttp' as const }, 'http'],
    [{ url: 'https://h/ssex' }, 'http'],
  ])('%j → %s', (entry, transport) => {
    expect(inferTransport(entry)).toBe(transport);
  });
});

describe('normalizeConfig', () => {
  it('applies every default', () => {
    const config = normalizeConfig({ mcpServers: { fs: { command: 'npx' } } });
    expect(config).toEqual({
      servers: [
        {
          name: 'fs',
          transport: 'stdio',
          command: 'npx',
          args: [],
          env: {},
          headers: {},
          startTimeoutMs: DEFAULT_START_TIMEOUT_MS,
          toolTimeoutMs: DEFAULT_TOOL_TIMEOUT_MS,
          enabled: true,
          prefix: 'fs',
          lazy: false,
          tools: {},
          restart: DEFAULT_RESTART_POLICY,
          scope: 'shared',
          maxInstances: DEFAULT_MAX_INSTANCES,
          roots: [],
        },
      ],
      mode: 'direct',
      namespaces: {},
      sandbox: {},
      manifests: {},
      pinning: { mode: 'warn' },
      source: { shape: 'mcpServers' },
    });
  });

  it('keeps the pins beside the config file, or where pinning.state_file says', () => {
    expect(normalizeConfig({}, '/etc/mcproxy/servers.yaml').pinning).toEqual({
      mode: 'warn',
      stateFile: '/etc/mcproxy/servers.pins.json',
    });
    expect(
      normalizeConfig({ pinning: { mode: 'strict', state_file: 'state/pins.json' } }, '/srv/a.json').pinning,
    ).toEqual({ mode: 'strict', stateFile: '/srv/state/pins.json' });
    expect(normalizeConfig({ pinning: 'off' }, '/srv/a.json').pinning).toEqual({ mode: 'off' });
  });

  it('converts seconds to ms and keeps explicit values', () => {
    const config = normalizeConfig(
      {
        servers: [
          {
            name: 'a',
            command: 'x',
            timeout: 1.5,
            tool_timeout: 2,
            idle_timeout: 60,
            prefix: '',
            lazy: true,
            enabled: false,
            cwd: '/srv',
            namespace: 'ns',
            description: 'd',
            tools: { allow: ['read_*'] },
          },
        ],
      },
      'f.json',
    );
    expect(config.source).toEqual({ path: 'f.json', shape: 'v1' });
    expect(config.servers[0]).toMatchObject({
      startTimeoutMs: 1500,
      toolTimeoutMs: 2000,
      idleTimeoutMs: 60_000,
      prefix: '',
      lazy: true,
      enabled: false,
      cwd: '/srv',
      namespace: 'ns',
      description: 'd',
      tools: { allow: ['read_*'] },
    });
    expect(config.servers[0]).not.toHaveProperty('url');
  });

  it('takes the restart policy field by field: server, then top level, then default', () => {
    const config = normalizeConfig({
      restart: { max_attempts: 5, backoff_base: 2 },
      servers: { a: { command: 'x', restart: { max_attempts: 0 } }, b: { command: 'y' } },
    });
    expect(config.servers.map((server) => server.restart)).toEqual([
      { ...DEFAULT_RESTART_POLICY, maxAttempts: 0, backoffBaseMs: 2000 },
      { ...DEFAULT_RESTART_POLICY, maxAttempts: 5, backoffBaseMs: 2000 },
    ]);
  });
});

describe('checkConfigSemantics', () => {
  it('finds duplicates across servers and mcpServers', () => {
    expect(checkConfigSemantics({ servers: { a: { command: 'x' } }, mcpServers: { a: { command: 'y' } } })).toEqual([
      { path: 'mcpServers.a', message: 'duplicate server name "a" (also at servers.a)' },
    ]);
  });

  it('checks the type against command and url', () => {
    const issues = checkConfigSemantics({
      servers: { a: { command: 'x', type: 'http' }, b: { url: 'https://h', type: 'stdio' }, c: { type: 'sse' } },
    });
    expect(issues.map((issue) => issue.path)).toEqual(['servers.a.type', 'servers.b.type', 'servers.c']);
  });

  it('checks namespace references and inheritance', () => {
    const issues = checkConfigSemantics({
      servers: { github: { command: 'x' } },
      namespaces: { a: ['githb'], b: { extends: ['c', 'nope'] }, c: { extends: 'b', servers: ['github'] } },
    });
    expect(issues).toEqual([
      { path: 'namespaces.a[0]', message: 'unknown server "githb"; did you mean "github"?' },
      { path: 'namespaces.b.extends', message: 'unknown namespace "nope"' },
      { path: 'namespaces.b.extends', message: 'inheritance cycle: b → c → b' },
    ]);
  });

  it('tolerates data of any shape', () => {
    for (const data of [null, 5, [], { servers: 5 }, { servers: [1, { name: 2 }] }, { namespaces: [] }]) {
      expect(checkConfigSemantics(data)).toEqual([]);
    }
  });
});

describe('oauth of a server', () => {
  it('is absent unless written, and normalised when it is', () => {
    const config = normalizeConfig(
      {
        upstream_oauth: { state_file: 'state/tokens.json', public_url: 'https://mcp.example.com/' },
        servers: {
          auto: { url: 'https://h/mcp' },
          on: { url: 'https://h/mcp', oauth: true },
          off: { url: 'https://h/mcp', oauth: false },
          own: {
            url: 'https://h/mcp',
            oauth: { client_id: 'mcproxy', client_secret: 's3cret-value', scopes: ['read'] },
          },
        },
      },
      '/etc/mcproxy/config.json',
    );
    expect(Object.fromEntries(config.servers.map((server) => [server.name, server.oauth]))).toEqual({
      auto: undefined,
      on: { enabled: true },
      off: { enabled: false },
      own: { enabled: true, clientId: 'mcproxy', clientSecret: 's3cret-value', scopes: ['read'] },
    });
    expect(config.upstreamOAuth).toEqual({
      stateFile: '/etc/mcproxy/state/tokens.json',
      publicUrl: 'https://mcp.example.com',
    });
  });

  it('is refused on a stdio server and on an SSE server', () => {
    const issues = checkConfigSemantics({
      servers: {
        local: { command: 'x', oauth: true },
        old: { url: 'https://h/sse', oauth: {} },
        fine: { url: 'https://h/sse', oauth: false },
      },
    });
    expect(issues.map((issue) => issue.path)).toEqual(['servers.local.oauth', 'servers.old.oauth']);
  });
});
