import { describe, expect, it } from 'vitest';

import { SHARED_GROUP } from '../../relay/owner.js';
import { accountFor, credentialOf, describeAccount, GATEWAY_ACCOUNT } from './accounts.js';

describe('accountFor', () => {
  it('gives a credential its own sign-in on its session and credential instances, never on a shared one', () => {
    expect(accountFor('credential', 'credential:alice')).toBe('credential:alice');
    expect(accountFor('session', 'credential:alice')).toBe('credential:alice');
    expect(accountFor('shared', 'credential:alice')).toBe(GATEWAY_ACCOUNT);
  });

  it("uses the gateway's sign-in for anonymous and local clients, and for shared instances and probes", () => {
    for (const scope of ['shared', 'session', 'credential'] as const) {
      expect(accountFor(scope, 'anonymous')).toBe(GATEWAY_ACCOUNT);
      expect(accountFor(scope, 'local')).toBe(GATEWAY_ACCOUNT);
      expect(accountFor(scope, SHARED_GROUP)).toBe(GATEWAY_ACCOUNT);
    }
  });

  it('names accounts by credential id, never anything else', () => {
    expect(credentialOf('credential:idp:alice@example.com')).toBe('idp:alice@example.com');
    expect(credentialOf(GATEWAY_ACCOUNT)).toBeNull();
    expect(describeAccount('credential:bob')).toBe('credential "bob"');
    expect(describeAccount(GATEWAY_ACCOUNT)).toBe('the gateway');
  });
});
