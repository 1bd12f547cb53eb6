import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Characters a replica id keeps: it becomes part of `Mcp-Session-Id` and of DNS names in a StatefulSet. */
const UNSAFE = /[^A-Za-z0-9-]/g;

let replica: string | undefined;

/**
 * This process's replica id, from `MCPROXY_REPLICA_ID`, else the host name (a Kubernetes pod's name). Only a
 * gateway with a shared state store names its replica in its session ids.
 */
export function replicaIdFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const id = (env['MCPROXY_REPLICA_ID'] ?? hostname()).replaceAll(UNSAFE, '-').slice(0, 63);
  return id === '' ? 'replica' : id;
}

/** From now on, session ids made by this process name `id` (undefined: plain UUIDs, one machine). */
export function useReplicaId(id: string | undefined): void {
  replica = id;
}

export function currentReplicaId(): string | undefined {
  return replica;
}

/**
 * A new legacy session id: `<replica>.<uuid>` with a replica id, so a load balancer (nginx `map`, HAProxy)
 * can send the session's requests to the replica that holds it, and anyone reading a log can tell where it
 * lives; a plain UUID otherwise.
 */
export function newSessionId(): string {
  return replica === undefined ? randomUUID() : `${replica}.${randomUUID()}`;
}

/** The replica a session id names, if it names one. */
export function replicaOfSessionId(sessionId: string): string | undefined {
  const dot = sessionId.indexOf('.');
  return dot > 0 ? sessionId.slice(0, dot) : undefined;
}
