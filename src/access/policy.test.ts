import { describe, expect, it } from 'vitest';

import type { CatalogTool } from '../catalog/types.js';
import { parseConfigText } from '../config/load.js';
import { credentialsOf } from './credentials.js';
import { type Endpoint, grantAccess, type GrantRequest, type Principal } from './policy.js';

const TOKENS = {
  ALICE: 'alice-token-0123456789',
  BOB: 'bob-token-0123456789ab',
  ROOT: 'root-token-0123456789a',
  ALL: 'all-token-0123456789ab',
};
const server = { command: 'x' };

const config = parseConfigText(
  JSON.stringify({
    servers: { wiki: server, covalent: server, db: server, stray: server },
    auth: {
      tokens: [
        { id: 'alice', token: '${ALICE}', namespaces: ['public'] },
        { id: 'bob', token: '${BOB}', namespaces: ['crypto'], tools: { deny: ['covalent/transfer'] } },
        { id: 'root', token: '${ROOT}', namespaces: ['system'], rate_limit: { requests_per_minute: 5 } },
        { id: 'all', token: '${ALL}' },
      ],
    },
    namespaces: {
      public: { servers: ['wiki'], require_auth: false, tools: { deny: ['delete_*'] } },
      crypto: { extends: 'public', servers: ['covalent'], mode: 'code', rate_limit: { requests_per_minute: 60 } },
      system: { servers: ['db'], isolated: true, allowed_origins: ['https://admin.example.com'] },
    },
  }),
  { path: 'test.json', env: TOKENS },
);

function principal(token?: string): Principal {
  if (token === undefined) return { kind: 'anonymous', address: '10.0.0.1' };
  return { kind: 'credential', credential: credentialsOf(config).match(token)!, address: '10.0.0.1' };
}

function grant(who: Principal, endpoint: Endpoint = { kind: 'gateway' }, extra: Partial<GrantRequest> = {}) {
  return grantAccess(config, { principal: who, endpoint, via: '/mcp', ...extra });
}

function tool(server: string, originalName: string): CatalogTool {
  const definition = { name: `${server}__${originalName}`, inputSchema: { type: 'object' as const } };
  return { server, originalName, publicName: definition.name, definition };
}

function servers(result: ReturnType<typeof grant>): string[] {
  if (!result.ok) throw new Error(result.message);
  return [...(result.grant.scope.servers ?? ['(all)'])].sort();
}

describe('grantAccess', () => {
  it('gives anonymous clients the open namespaces only', () => {
    expect(servers(grant(principal()))).toEqual(['wiki']);
    expect(grant(principal(), { kind: 'namespace', name: 'crypto' })).toMatchObject({ ok: false, status: 401 });
    expect(grant(principal(), { kind: 'server', name: 'db' })).toMatchObject({ ok: false, status: 401 });
  });

  it('gives a credential its namespaces with their parents, plus what anonymous clients get', () => {
    expect(servers(grant(principal(TOKENS.BOB)))).toEqual(['covalent', 'wiki']);
    expect(servers(grant(principal(TOKENS.ROOT)))).toEqual(['db', 'wiki']);
    expect(grant(principal(TOKENS.ALICE), { kind: 'namespace', name: 'system' })).toMatchObject({
      ok: false,
      status: 403,
      message: 'Forbidden: credential "alice" may not use namespace "system"',
    });
    expect(grant(principal(TOKENS.ALICE), { kind: 'server', name: 'covalent' })).toMatchObject({ status: 403 });
  });

  it('gives a credential without a namespace list everything but isolated namespaces', () => {
    expect(servers(grant(principal(TOKENS.ALL)))).toEqual(['covalent', 'stray', 'wiki']);
    expect(grant(principal(TOKENS.ALL), { kind: 'namespace', name: 'system' })).toMatchObject({ status: 403 });
  });

  it('gives the local stdio client everything, isolated namespaces included', () => {
    const result = grant({ kind: 'local' });
    expect(result.ok && result.grant.scope.servers).toBeUndefined();
    expect(servers(grant({ kind: 'local' }, { kind: 'namespace', name: 'system' }))).toEqual(['db']);
  });

  it('answers 404 for unknown namespaces and servers, whoever asks', () => {
    expect(grant(principal(TOKENS.ALL), { kind: 'namespace', name: 'nope' })).toMatchObject({ status: 404 });
    expect(grant(principal(), { kind: 'server', name: 'nope' })).toMatchObject({ status: 404 });
  });

  it('applies namespace and credential tool rules, plain or server-qualified', () => {
    const result = grant(principal(TOKENS.BOB));
    if (!result.ok) throw new Error(result.message);
    const allow = result.grant.scope.allowTool!;
    expect(allow(tool('wiki', 'search'))).toBe(true);
    expect(allow(tool('wiki', 'delete_page'))).toBe(false); // public's rule, inherited by crypto
    expect(allow(tool('covalent', 'delete_wallet'))).toBe(false);
    expect(allow(tool('covalent', 'transfer'))).toBe(false); // bob's own rule
    expect(allow(tool('covalent', 'balance'))).toBe(true);
    expect(allow(tool('db', 'query'))).toBe(false);
  });

  it('narrows a server endpoint to that server in direct mode', () => {
    const result = grant(principal(TOKENS.BOB), { kind: 'server', name: 'covalent' });
    expect(result.ok && result.grant.scope).toMatchObject({ single: 'covalent', mode: 'direct' });
  });

  it('takes the mode of the namespace and the strictest rate limit, one budget per credential whatever the endpoint', () => {
    const crypto = grant(principal(TOKENS.BOB), { kind: 'namespace', name: 'crypto' });
    expect(crypto.ok && crypto.grant.scope.mode).toBe('code');
    expect(crypto.ok && crypto.grant.rateLimit).toEqual({ key: 'credential:bob', perMinute: 60 });
    const root = grant(principal(TOKENS.ROOT));
    expect(root.ok && root.grant.rateLimit).toEqual({ key: 'credential:root', perMinute: 5 });
    const bobEverywhere = grant(principal(TOKENS.BOB));
    expect(bobEverywhere.ok && bobEverywhere.grant.rateLimit?.key).toBe('credential:bob');
    const anonymous = grant(principal());
    expect(anonymous.ok && anonymous.grant.rateLimit).toBeUndefined();
    expect(anonymous.ok && anonymous.grant.scope.mode).toBeUndefined();
  });

  it('drops namespaces whose allowed_origins refuse the request', () => {
    const origin = (allowed: readonly string[] | undefined) =>
      allowed ? allowed.includes('https://admin.example.com') : false;
    expect(servers(grant(principal(TOKENS.ROOT), { kind: 'gateway' }, { originAllowed: origin }))).toEqual(['db']);
    const refused = grant(principal(TOKENS.ROOT), { kind: 'namespace', name: 'public' }, { originAllowed: origin });
    expect(refused).toMatchObject({ ok: false, status: 403 });
  });

  it('records tool calls with the credential id and namespace, never the token', () => {
    const records: unknown[] = [];
    const audit = { record: (entry: unknown) => records.push(entry), close: () => Promise.resolve() };
    const result = grant(principal(TOKENS.BOB), { kind: 'gateway' }, { audit, via: '/mcp' });
    if (!result.ok) throw new Error(result.message);
    result.grant.scope.onToolCall!('covalent', 'balance')('ok');
    expect(records).toEqual([
      expect.objectContaining({
        credential: 'bob',
        namespace: 'crypto',
        server: 'covalent',
        tool: 'balance',
        outcome: 'ok',
        endpoint: '/mcp',
        address: '10.0.0.1',
      }),
    ]);
    expect(JSON.stringify(records)).not.toContain(TOKENS.BOB);
  });
});
