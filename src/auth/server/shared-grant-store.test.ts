import { describe, expect, it } from 'vitest';

import { MemoryStateStore } from '../../state/memory-store.js';
import { SharedGrantStore } from './shared-grant-store.js';

const HOUR_MS = 3_600_000;

/** Two replicas' grant stores over one shared store, on one mocked clock. */
function replicas(maxClients = 10) {
  let now = 1_000_000;
  const clock = () => now;
  const shared = new MemoryStateStore({ now: clock });
  const make = () => new SharedGrantStore({ store: shared, now: clock, maxClients });
  return { a: make(), b: make(), advance: (ms: number) => (now += ms) };
}

async function signIn(grants: SharedGrantStore) {
  const code = await grants.addCode({
    clientId: 'app',
    grantSubject: 'owner',
    codeChallenge: 'challenge',
    redirectUri: 'http://localhost:1/cb',
    scopes: ['mcp:public'],
    resource: 'http://127.0.0.1:1',
  });
  const found = await grants.findCode(code);
  if (!('entry' in found)) throw new Error('no code');
  return { code, entry: found.entry };
}

describe('SharedGrantStore', () => {
  it('a token issued on one replica is known on another, until it expires', async () => {
    const { a, b, advance } = replicas();
    const { code, entry } = await signIn(a);
    const grant = (await b.consumeCode(code, entry, HOUR_MS))!;
    const tokens = await a.issue(grant, 60_000);
    expect((await b.access(tokens.accessToken))?.scopes).toEqual(['mcp:public']);
    advance(60_000);
    expect(await b.access(tokens.accessToken)).toBeUndefined();
  });

  it('a code is exchanged once: the second replica to try gets nothing, and a replay revokes the grant', async () => {
    const { a, b } = replicas();
    const { code, entry } = await signIn(a);
    const grant = await a.consumeCode(code, entry, HOUR_MS);
    expect(grant).toBeDefined();
    expect(await b.consumeCode(code, entry, HOUR_MS)).toBeUndefined();
    const tokens = await a.issue(grant!, HOUR_MS);
    expect(await b.findCode(code)).toEqual({ replayed: true });
    expect(await a.access(tokens.accessToken)).toBeUndefined();
  });

  it('rotates refresh tokens across replicas; a rotated-out one coming back revokes the grant', async () => {
    const { a, b } = replicas();
    const { code, entry } = await signIn(a);
    const grant = (await a.consumeCode(code, entry, HOUR_MS))!;
    const first = await a.issue(grant, HOUR_MS);
    const found = await b.findRefresh(first.refreshToken);
    if (!('grant' in found)) throw new Error('refresh token unknown on the second replica');
    const second = await b.issue(found.grant, HOUR_MS);
    expect(await a.findRefresh(first.refreshToken)).toMatchObject({ reused: { id: grant.id } });
    expect(await a.findRefresh(second.refreshToken)).toEqual({});
    expect(await b.access(second.accessToken)).toBeUndefined();
  });

  it('of two replicas handed one refresh token at once, one rotates it; a revocation meanwhile stays', async () => {
    const { a, b } = replicas();
    const { code, entry } = await signIn(a);
    const grant = (await a.consumeCode(code, entry, HOUR_MS))!;
    const first = await a.issue(grant, HOUR_MS);
    const [onA, onB] = await Promise.all([a.findRefresh(first.refreshToken), b.findRefresh(first.refreshToken)]);
    expect([onA, onB].filter((found) => 'grant' in found)).toHaveLength(1);
    const winner = ('grant' in onA ? onA : onB) as { grant: typeof grant };
    // The grant is revoked on the other replica before the winner writes its rotation.
    await b.revokeGrant(grant.id);
    const second = await a.issue(winner.grant, HOUR_MS);
    expect(await a.access(second.accessToken)).toBeUndefined();
    expect(await b.findRefresh(second.refreshToken)).toEqual({});
  });

  it('a revoked access token is refused everywhere; only its own client may revoke it', async () => {
    const { a, b } = replicas();
    const { code, entry } = await signIn(a);
    const tokens = await a.issue((await a.consumeCode(code, entry, HOUR_MS))!, HOUR_MS);
    expect(await b.revoke(tokens.accessToken, 'other-app')).toBeUndefined();
    expect((await b.revoke(tokens.accessToken, 'app'))?.kind).toBe('access');
    expect(await a.access(tokens.accessToken)).toBeUndefined();
    expect(await a.findRefresh(tokens.refreshToken)).toHaveProperty('grant');
  });

  it('a pending consent is taken once, by whichever replica asks first, and expires', async () => {
    const { a, b, advance } = replicas();
    const pending = { clientId: 'app', redirectUri: 'x', codeChallenge: 'c', scopes: [], resource: 'r' };
    const id = await a.addPending(pending);
    expect((await b.peekPending(id))?.clientId).toBe('app');
    expect((await b.takePending(id))?.clientId).toBe('app');
    expect(await a.takePending(id)).toBeUndefined();
    const late = await a.addPending(pending);
    advance(11 * 60_000);
    expect(await b.peekPending(late)).toBeUndefined();
  });

  it('registers at most maxClients over all replicas', async () => {
    const { a, b } = replicas(2);
    const client = (id: string) => ({ client_id: id, redirect_uris: ['http://localhost:1/cb'] });
    expect(await a.register(client('x'))).toBeDefined();
    expect(await b.register(client('y'))).toBeDefined();
    expect(await a.register(client('z'))).toBeUndefined();
    expect((await a.client('y'))?.client_id).toBe('y');
  });
});
