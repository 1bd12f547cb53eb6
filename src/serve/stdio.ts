import type { AuditLog } from '../access/audit.js';
import { grantAccess, type GrantRequest, reauthorization, regrantAccess } from '../access/policy.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { StdioServerTransport } from '../transport/stdio-server.js';

export interface StdioOptions {
  /** Narrow the session to one namespace (`--namespace`); everything when absent. */
  namespace?: string;
  audit?: AuditLog;
}

/**
 * `--stdio`: the gateway itself is an MCP server on stdin/stdout for clients that spawn their servers.
 * The client is local (it started the gateway, and can read its config), so it needs no credential and may
 * use every namespace, isolated ones included, unless `namespace` narrows it to one.
 * Resolves when the client goes away (stdin ends or the session closes).
 */
export async function serveStdio(
  gateway: Gateway,
  stdin: NodeJS.ReadableStream = process.stdin,
  stdout: NodeJS.WritableStream = process.stdout,
  options: StdioOptions = {},
): Promise<void> {
  const request: GrantRequest = {
    principal: { kind: 'local' },
    endpoint: options.namespace === undefined ? { kind: 'gateway' } : { kind: 'namespace', name: options.namespace },
    via: 'stdio',
    ...(options.audit ? { audit: options.audit } : {}),
  };
  const result = grantAccess(gateway.config, request);
  if (!result.ok) throw new GatewayError('INVALID_PARAMS', `--namespace: no namespace "${options.namespace}"`);
  const session = gateway.createSession('stdio', result.grant.scope, result.grant.owner);
  session.reauthorize = (next) => reauthorization(regrantAccess(next, request));
  const transport = new StdioServerTransport(stdin, stdout);
  await session.connect(transport);
  await Promise.race([session.whenClosed, new Promise<void>((resolve) => stdin.once('end', () => resolve()))]);
  await session.close();
}
