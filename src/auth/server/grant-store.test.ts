import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { describe, expect, it } from 'vitest';

import { GrantStore } from './grant-store.js';

const HOUR_MS = 3_600_000;

function store(maxClients = 10) {
  let now = 1_000_000;
  const errors: Error[] = [];
  const grants = new GrantStore({ now: () => now, maxClients, onError: (error) => errors.push(error) });
  return { grants, errors, advance: (ms: number) => (now += ms) };
}

function client(id: string): OAuthClientInformationFull {
  return { client_id: id, redirect_uris: ['http://localhost:1/cb'] };
}

function signIn(grants: GrantStore, clientId = 'app') {
  const code = grants.addCode({
    clientId,
    grantSubject: 'owner',
    codeChallenge: 'challenge',
    redirectUri: 'http://localhost:1/cb',
    scopes: ['mcp:public'],
    resource: 'http://127.0.0.1:1',
  });
  const found = grants.findCode(code);
  if (!('entry' in found)) throw new Error('no code');
  const grant = grants.consumeCode(code, found.entry, HOUR_MS);
  if (!grant) throw new Error('the code was used up');
  return { code, grant };
}

describe('GrantStore', () => {
  it('rotates refresh tokens, and a rotated-out one coming back revokes the whole grant', () => {
    const { grants } = store();
    const { grant } = signIn(grants);
    const first = grants.issue(grant, HOUR_MS);
    const second = grants.issue(grant, HOUR_MS);
    expect(grants.findRefresh(second.refreshToken)).toEqual({ grant });
    expect(grants.findRefresh(first.refreshToken)).toEqual({ reused: grant });
    expect(grants.findRefresh(second.refreshToken)).toEqual({});
    expect(grants.access(second.accessToken)).toBeUndefined();
  });

  it('a code works once; replaying it revokes what it gave', () => {
    const { grants } = store();
    const { code, grant } = signIn(grants);
    const tokens = grants.issue(grant, HOUR_MS);
    expect(grants.findCode(code)).toEqual({ replayed: true });
    expect(grants.access(tokens.accessToken)).toBeUndefined();
    expect(grants.findCode('never-issued')).toEqual({ replayed: false });
  });

  it('of two exchanges of one code that both found it live, only the first gets a grant', () => {
    const { grants } = store();
    const code = grants.addCode({
      clientId: 'app',
      grantSubject: 'owner',
      codeChallenge: 'challenge',
      redirectUri: 'http://localhost:1/cb',
      scopes: [],
      resource: 'http://127.0.0.1:1',
    });
    const [first, second] = [grants.findCode(code), grants.findCode(code)];
    if (!('entry' in first) || !('entry' in second)) throw new Error('no code');
    expect(grants.consumeCode(code, first.entry, HOUR_MS)).toBeDefined();
    expect(grants.consumeCode(code, second.entry, HOUR_MS)).toBeUndefined();
  });

  it('access tokens expire; only the client they were issued to can revoke them', () => {
    const { grants, advance } = store();
    const { grant } = signIn(grants);
    const tokens = grants.issue(grant, 60_000);
    expect(grants.revoke(tokens.refreshToken, 'other-app')).toBeUndefined();
    expect(grants.access(tokens.accessToken)?.scopes).toEqual(['mcp:public']);
    advance(60_000);
    expect(grants.access(tokens.accessToken)).toBeUndefined();
    expect(grants.revoke(tokens.refreshToken, 'app')?.kind).toBe('refresh');
    expect(grants.findRefresh(tokens.refreshToken)).toEqual({});
  });

  it('keeps at most maxClients: the oldest without a grant makes room, else registration fails', () => {
    const { grants } = store(2);
    grants.register(client('a'));
    grants.register(client('b'));
    grants.issue(signIn(grants, 'b').grant, HOUR_MS);
    expect(grants.register(client('c'))?.client_id).toBe('c');
    expect(grants.client('a')).toBeUndefined();
    grants.issue(signIn(grants, 'c').grant, HOUR_MS);
    expect(grants.register(client('d'))).toBeUndefined();
  });

  it('a pending consent is taken once and expires', () => {
    const { grants, advance } = store();
    const pending = { clientId: 'app', redirectUri: 'x', codeChallenge: 'c', scopes: [], resource: 'r' };
    const id = grants.addPending(pending);
    expect(grants.takePending(id)?.clientId).toBe('app');
    expect(grants.takePending(id)).toBeUndefined();
    const late = grants.addPending(pending);
    advance(11 * 60_000);
    expect(grants.peekPending(late)).toBeUndefined();
  });
});
