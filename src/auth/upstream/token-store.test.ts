import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { GatewayError } from '../../errors.js';
import { tokensKey, TokenStore } from './token-store.js';

let dir: string;
let path: string;
const key = randomBytes(32);

function open(options: { key?: Buffer | (() => Buffer); errors?: string[]; changes?: string[][] } = {}): TokenStore {
  const chosen = options.key ?? key;
  return new TokenStore({
    path,
    key: typeof chosen === 'function' ? chosen : () => chosen,
    onError: (error) => options.errors?.push(error.message),
    onExternalChange: (keys) => options.changes?.push(keys),
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcproxy-token-store-'));
  path = join(dir, 'state', 'upstream-tokens.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TokenStore', () => {
  it('keeps values sealed on disk (mode 0600) and reads them back in a new process', async () => {
    const store = open();
    store.set(tokensKey('notes', 'credential:alice'), { access_token: 'alice-access-token-1234' });
    await store.close();
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('alice-access-token-1234');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(open().get(tokensKey('notes', 'credential:alice'))).toEqual({ access_token: 'alice-access-token-1234' });
  });

  it('merges what two processes write at the same time, entry by entry, under a lock', async () => {
    const gateway = open();
    const changes: string[][] = [];
    const login = open({ changes });
    for (let index = 0; index < 20; index++)
      (index % 2 === 0 ? gateway : login).set(tokensKey('s', `a${index}`), { index });
    await Promise.all([gateway.flush(), login.flush()]);
    const fresh = open();
    for (let index = 0; index < 20; index++) expect(fresh.get(tokensKey('s', `a${index}`))).toEqual({ index });
    // The gateway sees the other process's entries once it reads the file again.
    gateway.reload();
    expect(gateway.get(tokensKey('s', 'a1'))).toEqual({ index: 1 });
    expect(changes.flat().length).toBeGreaterThan(0);
  });

  it('moves a state file that is not JSON aside, says so once with both paths, and saves again', async () => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '{"version":1,"entries":{"tokens/notes/gatew');
    const errors: string[] = [];
    const store = open({ errors });
    store.set(tokensKey('notes', 'gateway'), { access_token: 'first' });
    await store.flush();
    store.set(tokensKey('notes', 'other'), { access_token: 'second' });
    await store.close();
    expect(errors).toHaveLength(1);
    const aside = /moved it to (\S+);/.exec(errors[0]!)?.[1];
    expect(errors[0]).toContain(`${path} is not valid JSON`);
    expect(aside?.startsWith(`${path}.corrupt-`)).toBe(true);
    expect(await readFile(aside!, 'utf8')).toBe('{"version":1,"entries":{"tokens/notes/gatew');
    const reopened = open();
    expect(reopened.get(tokensKey('notes', 'gateway'))).toEqual({ access_token: 'first' });
    expect(reopened.get(tokensKey('notes', 'other'))).toEqual({ access_token: 'second' });
  });

  it('a state file that turns corrupt while in use is moved aside by the next save', async () => {
    const errors: string[] = [];
    const store = open({ errors });
    store.set(tokensKey('notes', 'gateway'), { access_token: 'first' });
    await store.flush();
    await writeFile(path, 'not json at all');
    store.set(tokensKey('notes', 'other'), { access_token: 'second' });
    await store.flush();
    store.set(tokensKey('notes', 'third'), { access_token: 'third' });
    await store.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/is not valid JSON .*: moved it to \S+\.corrupt-/);
    const reopened = open();
    for (const account of ['gateway', 'other', 'third']) expect(reopened.has(tokensKey('notes', account))).toBe(true);
  });

  it('lets the later change win, a deletion included', async () => {
    const first = open();
    const second = open();
    first.set('tokens/s/a', { v: 1 });
    await first.flush();
    second.reload();
    second.set('tokens/s/a', undefined);
    await second.flush();
    first.reload();
    expect(first.has('tokens/s/a')).toBe(false);
    first.set('tokens/s/a', { v: 2 });
    await first.flush();
    expect(open().get('tokens/s/a')).toEqual({ v: 2 });
  });

  it('reports entries sealed with another key once, and keeps them when it saves its own', async () => {
    const store = open();
    store.set('tokens/s/old', { v: 'old' });
    await store.flush();
    const errors: string[] = [];
    const other = open({ key: randomBytes(32), errors });
    expect(other.get('tokens/s/old')).toBeUndefined();
    expect(other.get('tokens/s/old')).toBeUndefined();
    expect(errors).toEqual([expect.stringContaining('another MCPROXY_TOKEN_KEY')]);
    other.set('tokens/s/new', { v: 'new' });
    await other.flush();
    expect(open().get('tokens/s/old')).toEqual({ v: 'old' });
  });

  it('does not open a value moved to another entry (one user cannot take over another one’s tokens)', async () => {
    const store = open();
    store.set(tokensKey('notes', 'credential:alice'), { who: 'alice' });
    await store.flush();
    const file = JSON.parse(await readFile(path, 'utf8')) as { entries: Record<string, { sealed: string }> };
    const alice = file.entries[tokensKey('notes', 'credential:alice')]!;
    file.entries[tokensKey('notes', 'credential:mallory')] = { ...alice, updated: Date.now() + 1000 } as never;
    await writeFile(path, JSON.stringify(file));
    const errors: string[] = [];
    expect(open({ errors }).get(tokensKey('notes', 'credential:mallory'))).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('needs the key only to open or seal a value, and then says how to set it', () => {
    const missing = () => {
      throw new GatewayError('UPSTREAM_AUTH_REQUIRED', 'set MCPROXY_TOKEN_KEY');
    };
    const store = open({ key: missing });
    expect(store.has('tokens/s/a')).toBe(false);
    expect(() => store.set('tokens/s/a', { v: 1 })).toThrow('MCPROXY_TOKEN_KEY');
  });

  it('survives a file that is not a state file: reports it and starts empty', async () => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '{"not": "ours"}');
    const errors: string[] = [];
    const store = open({ errors });
    expect(store.has('tokens/s/a')).toBe(false);
    expect(errors).toEqual([expect.stringContaining('not an mcproxy upstream sign-in file')]);
  });
});
