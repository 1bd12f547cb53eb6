import { describe, expect, it } from 'vitest';

import { diffConfigs, isDeepEqual, isEmptyDiff } from './diff.js';
import type { GatewayConfig, ServerConfig } from './model.js';
import { normalizeConfig } from './normalize.js';
import type { ServerEntry } from './schema.js';

function config(servers: Record<string, ServerEntry>, rest: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...normalizeConfig({ servers }), ...rest };
}

const names = (servers: ServerConfig[]) => servers.map((server) => server.name);

describe('diffConfigs', () => {
  it('sees nothing between equal configs built separately', () => {
    const diff = diffConfigs(
      config({ a: { command: 'x', env: { A: '1', B: '2' } } }),
      config({ a: { command: 'x', env: { B: '2', A: '1' } } }),
    );
    expect(names(diff.unchanged)).toEqual(['a']);
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it('sorts servers into added, removed, changed, reconfigured and unchanged', () => {
    const old = config({
      keep: { command: 'k' },
      gone: { command: 'g' },
      args: { command: 'a', args: ['1'] },
      filter: { command: 'f' },
    });
    const next = config({
      filter: { command: 'f', tools: { deny: ['x'] }, tool_timeout: 5 },
      args: { command: 'a', args: ['2'] },
      keep: { command: 'k' },
      fresh: { url: 'https://h/mcp' },
    });
    const diff = diffConfigs(old, next);
    expect(names(diff.added)).toEqual(['fresh']);
    expect(names(diff.removed)).toEqual(['gone']);
    expect(names(diff.changed)).toEqual(['args']);
    expect(names(diff.reconfigured)).toEqual(['filter']);
    expect(names(diff.unchanged)).toEqual(['keep']);
    expect(diff.changed[0]).toBe(next.servers[1]);
    expect(diff.removed[0]).toBe(old.servers[1]);
    expect(diff.globalChanged).toEqual([]);
  });

  it.each<[string, ServerEntry, ServerEntry]>([
    ['command', { command: 'a' }, { command: 'b' }],
    ['env value', { command: 'a', env: { K: '1' } }, { command: 'a', env: { K: '2' } }],
    ['env key removed', { command: 'a', env: { K: '1' } }, { command: 'a' }],
    ['cwd', { command: 'a' }, { command: 'a', cwd: '/x' }],
    ['url', { url: 'https://h/a' }, { url: 'https://h/b' }],
    ['headers', { url: 'https://h/a' }, { url: 'https://h/a', headers: { A: 'b' } }],
    ['transport', { url: 'https://h/a' }, { url: 'https://h/a', type: 'sse' }],
    ['stdio to remote', { command: 'a' }, { url: 'https://h/a' }],
    ['enabled', { command: 'a' }, { command: 'a', enabled: false }],
  ])('a change of %s needs a restart', (_label, before, after) => {
    expect(names(diffConfigs(config({ s: before }), config({ s: after })).changed)).toEqual(['s']);
  });

  it.each<[string, ServerEntry, ServerEntry]>([
    ['description', { command: 'a' }, { command: 'a', description: 'new' }],
    ['prefix', { command: 'a' }, { command: 'a', prefix: '' }],
    ['timeouts', { command: 'a' }, { command: 'a', timeout: 1, tool_timeout: 1, idle_timeout: 1 }],
    ['restart policy', { command: 'a' }, { command: 'a', restart: { max_attempts: 9 } }],
    ['namespace', { command: 'a' }, { command: 'a', namespace: 'x' }],
  ])('a change of %s applies without a restart', (_label, before, after) => {
    const diff = diffConfigs(config({ s: before }), config({ s: after }));
    expect(names(diff.reconfigured)).toEqual(['s']);
    expect(diff.changed).toEqual([]);
  });

  it('lists the top-level sections that changed', () => {
    const old = config({}, { mode: 'direct', namespaces: { a: ['x'] }, sandbox: { memory_mb: 64 } });
    const next = config({}, { mode: 'code', namespaces: { a: ['x'] }, sandbox: { memory_mb: 128 }, manifests: {} });
    expect(diffConfigs(old, next).globalChanged).toEqual(['mode', 'sandbox']);
  });

  it('ignores where the config came from', () => {
    const next = { ...config({ a: { command: 'x' } }), source: { path: 'other.yaml', shape: 'v2' as const } };
    expect(isEmptyDiff(diffConfigs(config({ a: { command: 'x' } }), next))).toBe(true);
  });
});

describe('isDeepEqual', () => {
  it('compares JSON-like values structurally', () => {
    expect(isDeepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(isDeepEqual({ a: undefined }, {})).toBe(true);
    expect(isDeepEqual([1, 2], [2, 1])).toBe(false);
    expect(isDeepEqual([], {})).toBe(false);
    expect(isDeepEqual(null, {})).toBe(false);
  });
});
