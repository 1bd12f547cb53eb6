import { afterEach, describe, expect, it } from 'vitest';

import { newSessionId, replicaIdFromEnvironment, replicaOfSessionId, useReplicaId } from './replica.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

afterEach(() => useReplicaId(undefined));

describe('replica ids', () => {
  it('come from MCPROXY_REPLICA_ID, else the host name, in characters a session id and a DNS name can carry', () => {
    expect(replicaIdFromEnvironment({ MCPROXY_REPLICA_ID: 'mcproxy-0' })).toBe('mcproxy-0');
    expect(replicaIdFromEnvironment({ MCPROXY_REPLICA_ID: 'node 1.example/a' })).toBe('node-1-example-a');
    expect(replicaIdFromEnvironment({ MCPROXY_REPLICA_ID: 'x'.repeat(100) })).toHaveLength(63);
    expect(replicaIdFromEnvironment({})).toMatch(/^[A-Za-z0-9-]+$/);
  });

  it('name their replica in session ids only when set', () => {
    expect(newSessionId()).toMatch(UUID);
    expect(replicaOfSessionId(newSessionId())).toBeUndefined();
    useReplicaId('mcproxy-2');
    const id = newSessionId();
    expect(id).toMatch(/^mcproxy-2\./);
    expect(id.slice('mcproxy-2.'.length)).toMatch(UUID);
    expect(replicaOfSessionId(id)).toBe('mcproxy-2');
    expect(newSessionId()).not.toBe(id);
  });
});
