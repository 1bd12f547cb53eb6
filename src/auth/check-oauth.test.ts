import { describe, expect, it } from 'vitest';

import { checkConfigSemantics } from '../config/normalize.js';

function issues(oauth: unknown): string[] {
  const data = { servers: { wiki: { command: 'x' } }, namespaces: { public: ['wiki'] }, auth: { oauth } };
  return checkConfigSemantics(data).map((issue) => `${issue.path}: ${issue.message}`);
}

describe('auth.oauth semantic checks', () => {
  it('needs an authorization server', () => {
    expect(issues({})).toEqual([
      'auth.oauth: needs "authorization_servers" (external) or "server" (the built-in one) to accept any token',
    ]);
  });

  it('reports clashing issuer names, duplicate rules, unknown namespaces and issuers', () => {
    expect(
      issues({
        authorization_servers: [
          { issuer: 'https://a.example/x' },
          { issuer: 'https://a.example/y' },
          { issuer: 'https://m', name: 'mcproxy' },
        ],
        credentials: [
          { id: 'r', namespaces: ['pubilc'] },
          { id: 'r', issuers: ['nope'] },
        ],
      }),
    ).toEqual([
      'auth.oauth.authorization_servers[1].name: two authorization servers are named "a.example" (also [0]); give each its own "name"',
      'auth.oauth.authorization_servers[2] (mcproxy).name: "mcproxy" is the built-in server\'s name; choose another',
      'auth.oauth.credentials[0].namespaces[0]: unknown namespace "pubilc"; did you mean "public"?',
      'auth.oauth.credentials[1].id: duplicate rule id "r" (also credentials[0])',
      'auth.oauth.credentials[1].issuers[0]: unknown authorization server "nope"',
    ]);
  });
});
