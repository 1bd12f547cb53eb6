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

async function signIn(grants: SharedGrantStore, clientId = 'app') {
  const code = await grants.addCode({
    clientId,
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

  it('keeps at most maxClients over all replicas: the oldest without a grant makes room, else registration fails', async () => {
    const { a, b, advance } = replicas(2);
    const client = (id: string) => ({ client_id: id, redirect_uris: ['http://localhost:1/cb'] });
    const grantTo = async (id: string) => {
      const { code, entry } = await signIn(a, id);
      await b.consumeCode(code, entry, HOUR_MS);
    };
    expect(await a.register(client('x'))).toBeDefined();
    advance(1);
    expect(await b.register(client('y'))).toBeDefined();
    await grantTo('y');
    advance(1);
    // x is the oldest without a grant: it goes, on both replicas.
    expect((await a.register(client('z')))?.client_id).toBe('z');
    expect(await b.client('x')).toBeUndefined();
    expect((await b.client('y'))?.client_id).toBe('y');
    await grantTo('z');
    advance(1);
    // Every client holds a grant: nothing is evicted, and the refused client is not kept.
    expect(await b.register(client('w'))).toBeUndefined();
    expect(await a.client('w')).toBeUndefined();
    expect((await a.client('z'))?.client_id).toBe('z');
    // Once a grant can no longer be refreshed its client may make room again.
    advance(HOUR_MS);
    expect((await a.register(client('v')))?.client_id).toBe('v');
    expect(await b.client('y')).toBeUndefined();
  });

  it('replicas registering at once never keep more than maxClients', async () => {
    const { a, b } = replicas(3);
    const client = (id: string) => ({ client_id: id, redirect_uris: ['http://localhost:1/cb'] });
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    await Promise.all(ids.map((id, i) => (i % 2 === 0 ? a : b).register(client(id))));
    const kept = async () =>
      (await Promise.all(ids.map((id) => a.client(id)))).flatMap((found) => (found ? [found.client_id] : []));
    // Races may evict one too many, never keep one too many; the newest (ties go by id: c9) always stays.
    expect((await kept()).length).toBeLessThanOrEqual(3);
    expect(await kept()).toContain('c9');
    // Registered one at a time afterwards, the set fills up to the limit exactly.
    for (const id of ['d0', 'd1', 'd2']) await a.register(client(id));
    expect(await Promise.all(['d0', 'd1', 'd2'].map(async (id) => (await b.client(id))?.client_id))).toEqual([
      'd0',
      'd1',
      'd2',
    ]);
  });
});
