import { describe, expect, it } from 'vitest';

import { normalizeConfig } from '../config/normalize.js';
import { ConfigFileSchema } from '../config/schema.js';
import { credentialForToken, scopesFor, type VerifiedToken } from './credential-rules.js';

const config = normalizeConfig(
  ConfigFileSchema.parse({
    servers: { wiki: { command: 'x' }, db: { command: 'x' } },
    namespaces: { public: ['wiki'], system: { servers: ['db'], isolated: true } },
    auth: {
      oauth: {
        authorization_servers: [{ issuer: 'https://idp.example.com', name: 'idp' }],
        credentials: [
          { id: 'admins', scopes: ['mcp'], claims: { groups: 'admins' }, namespaces: ['system'] },
          { id: 'users', scopes: ['mcp'], namespaces: ['public'] },
        ],
      },
    },
  }),
);
const oauth = config.auth!.oauth!;

function token(extra: Partial<VerifiedToken> = {}): VerifiedToken {
  return { issuer: 'idp', subject: 'alice', scopes: ['mcp'], audiences: [], claims: {}, ...extra };
}

describe('credentialForToken', () => {
  it('takes the first rule whose scopes and claims the token has; a list claim must contain the value', () => {
    expect(credentialForToken(oauth, token({ claims: { groups: ['staff', 'admins'] } }))?.config.namespaces).toEqual([
      'system',
    ]);
    const user = credentialForToken(oauth, token({ claims: { groups: 'staff' } }));
    expect(user).toMatchObject({ id: 'idp:alice', config: { namespaces: ['public'] }, oauth: { rule: 'users' } });
    expect(credentialForToken(oauth, token({ scopes: ['other'] }))).toBeUndefined();
  });

  it('keeps subjects apart: an odd subject becomes a digest, never a lossy rewrite', () => {
    const a = credentialForToken(oauth, token({ subject: 'a b' }))!.id;
    const b = credentialForToken(oauth, token({ subject: 'a_b' }))!.id;
    expect(a).toMatch(/^idp:sha256-[0-9a-f]{32}$/);
    expect(b).toBe('idp:a_b');
  });

  it("a subject written like a digest is a digest too, so no user can name themselves after another's", () => {
    const odd = credentialForToken(oauth, token({ subject: 'José Núñez' }))!.id;
    // A user who may pick the claim's value (a user name as subject_claim) picks the odd subject's id.
    const lookalike = credentialForToken(oauth, token({ subject: odd.slice('idp:'.length) }))!.id;
    expect(lookalike).not.toBe(odd);
    expect(lookalike).toMatch(/^idp:sha256-[0-9a-f]{32}$/);
  });

  it('with no rules, any valid token is a credential without namespaces', () => {
    const open = { ...oauth, credentials: [] };
    expect(credentialForToken(open, token({ scopes: [] }))).toMatchObject({
      config: { id: '*' },
      oauth: { rule: '*' },
    });
  });
});

describe('scopesFor', () => {
  it('names the scopes of the rules that open an endpoint', () => {
    expect(scopesFor(config, { kind: 'namespace', name: 'system' })).toEqual(['mcp']);
    expect(scopesFor(config, { kind: 'server', name: 'wiki' })).toEqual(['mcp']);
  });
});
