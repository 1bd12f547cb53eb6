import { describe, expect, it } from 'vitest';

import { checkConfigSemantics } from './normalize.js';

const servers = { a: { command: 'x' }, b: { command: 'x' } };

describe('access checks', () => {
  it('refuses extending an isolated namespace and sharing its servers', () => {
    const issues = checkConfigSemantics({
      servers,
      namespaces: { system: { servers: ['a'], isolated: true }, team: { extends: 'system', servers: ['a', 'b'] } },
    });
    expect(issues).toEqual([
      {
        path: 'namespaces.team.extends',
        message: 'cannot extend "system": it is isolated, so no namespace includes it',
      },
      {
        path: 'namespaces.system',
        message:
          'server "a" of isolated namespace "system" is also in "team"; an isolated namespace\'s servers belong to it alone',
      },
    ]);
  });

  it('checks a server’s namespace tag when namespaces are declared', () => {
    const issues = checkConfigSemantics({
      servers: { a: { command: 'x', namespace: 'pubic' } },
      namespaces: { public: [] },
    });
    expect(issues).toEqual([
      { path: 'servers.a.namespace', message: 'unknown namespace "pubic"; did you mean "public"?' },
    ]);
    expect(checkConfigSemantics({ servers: { a: { command: 'x', namespace: 'anything' } } })).toEqual([]);
  });

  it('checks credentials: known namespaces, unique ids and tokens, without printing a token', () => {
    const token = 'the-secret-token-123456';
    const issues = checkConfigSemantics({
      servers,
      namespaces: { public: ['a'] },
      auth: {
        tokens: [
          { id: 'alice', token, namespaces: ['publc'] },
          { id: 'alice', token },
        ],
      },
    });
    expect(issues).toEqual([
      { path: 'auth.tokens[0].namespaces[0]', message: 'unknown namespace "publc"; did you mean "public"?' },
      { path: 'auth.tokens[1].id', message: 'duplicate credential id "alice" (also at auth.tokens[0])' },
      { path: 'auth.tokens[1].token', message: 'the same token as auth.tokens[0]; each credential needs its own' },
    ]);
    expect(JSON.stringify(issues)).not.toContain(token);
  });
});
