import { describe, expect, it } from 'vitest';

import { parseConfigText } from '../config/load.js';
import { DEFAULT_NAMESPACE, resolveNamespaces, serversOfNamespace } from './namespaces.js';

const server = { command: 'x' };
const servers = { a: server, b: server, c: server, d: server, e: server };

function configOf(file: object) {
  return parseConfigText(JSON.stringify(file), { path: 'test.json', env: { T: 'a-token-of-16-chars!' } });
}

describe('resolveNamespaces', () => {
  it('takes the list shorthand, the object form and servers naming their namespace', () => {
    const config = configOf({
      servers: { ...servers, e: { command: 'x', namespace: 'tagged' } },
      namespaces: { listed: ['a'], object: { servers: ['b'] }, tagged: {} },
    });
    const table = resolveNamespaces(config);
    expect([...table.byName.get('listed')!.servers]).toEqual(['a']);
    expect([...table.byName.get('object')!.servers]).toEqual(['b']);
    expect([...table.byName.get('tagged')!.servers]).toEqual(['e']);
    expect([...table.byName.get(DEFAULT_NAMESPACE)!.servers]).toEqual(['c', 'd']);
    expect(table.names).toEqual(['listed', 'object', 'tagged']);
  });

  it('declares namespaces from server tags when there is no namespaces block (the seeds’ style)', () => {
    const config = configOf({ servers: { a: { command: 'x', namespace: 'public' }, b: server } });
    expect([...serversOfNamespace(config, 'public')]).toEqual(['a']);
    expect(resolveNamespaces(config).names).toEqual(['public']);
  });

  it('includes the servers of parents for each shape of extends: a name, a list, null', () => {
    const config = configOf({
      servers,
      namespaces: {
        public: ['a'],
        extra: ['b'],
        crypto: { extends: 'public', servers: ['c'] },
        both: { extends: ['crypto', 'extra'], servers: ['d'] },
        alone: { extends: null, servers: ['e'] },
      },
    });
    expect([...serversOfNamespace(config, 'crypto')].sort()).toEqual(['a', 'c']);
    expect([...serversOfNamespace(config, 'both')].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([...serversOfNamespace(config, 'alone')]).toEqual(['e']);
    expect(resolveNamespaces(config).byName.get('both')!.lineage).toEqual(['both', 'crypto', 'extra', 'public']);
    expect([...serversOfNamespace(config, 'nope')]).toEqual([]);
  });

  it('inherits settings: namespace, then the nearest parent (list order), then the defaults', () => {
    const config = configOf({
      servers,
      mode: 'direct',
      rate_limit: { requests_per_minute: 600 },
      sandbox: { timeout_secs: 30, memory_mb: 64, network: { enabled: false } },
      namespaces: {
        root: { servers: ['a'], mode: 'meta', tools: { deny: ['drop_*'] }, sandbox: { memory_mb: 128 } },
        second: { servers: ['b'], mode: 'code', rate_limit: { requests_per_minute: 10 } },
        child: {
          extends: ['root', 'second'],
          servers: ['c'],
          sandbox: { timeout_secs: 5, network: { allowed_hosts: ['api.example.com'] } },
        },
        plain: ['d'],
      },
    });
    const child = resolveNamespaces(config).byName.get('child')!;
    expect(child.mode).toBe('meta');
    expect(child.tools).toEqual({ deny: ['drop_*'] });
    expect(child.rateLimitPerMinute).toBe(10);
    expect(child.sandbox).toEqual({
      timeout_secs: 5,
      memory_mb: 128,
      network: { enabled: false, allowed_hosts: ['api.example.com'] },
    });
    const plain = resolveNamespaces(config).byName.get('plain')!;
    expect(plain.mode).toBeUndefined();
    expect(plain.rateLimitPerMinute).toBe(600);
    expect(plain.sandbox).toEqual(config.sandbox);
  });

  it('requires auth by default once credentials exist; isolated always does; a namespace may open itself', () => {
    const withTokens = configOf({
      servers,
      auth: { tokens: [{ id: 'alice', token: '${T}' }] },
      namespaces: {
        public: { servers: ['a'], require_auth: false },
        child: { extends: 'public' },
        team: ['b'],
        closed: { servers: ['c'], require_auth: true },
        under: { extends: 'closed', servers: ['d'] },
      },
    });
    const table = resolveNamespaces(withTokens).byName;
    expect(table.get('public')!.requireAuth).toBe(false);
    // Opening is never inherited: a namespace extending an open one is private unless it opens itself.
    expect(table.get('child')!.requireAuth).toBe(true);
    expect(table.get('under')!.requireAuth).toBe(true);
    expect(table.get('team')!.requireAuth).toBe(true);
    expect(table.get(DEFAULT_NAMESPACE)!.requireAuth).toBe(true);

    const plain = configOf({
      servers,
      namespaces: {
        system: { servers: ['a'], isolated: true },
        team: ['b'],
        closed: { servers: ['c'], require_auth: true },
        sub: { extends: 'closed' },
      },
    });
    expect(resolveNamespaces(plain).byName.get('system')!.requireAuth).toBe(true);
    expect(resolveNamespaces(plain).byName.get('team')!.requireAuth).toBe(false);
    expect(resolveNamespaces(plain).byName.get('sub')!.requireAuth).toBe(true);
  });
});
