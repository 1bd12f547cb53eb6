import type { IncomingMessage } from 'node:http';

import { credentialsOf } from '../access/credentials.js';
import { type AccessGrant, grantAccess, type Principal } from '../access/policy.js';
import type { OAuthService } from '../auth/oauth-service.js';
import type { GatewayConfig } from '../config/model.js';
import { authenticateRequest } from '../serve/http-access.js';

/** Who is looking at the console, and what they may do there. */
export interface Viewer {
  principal: Principal;
  /** The credential id, `anonymous` or `local`. */
  label: string;
  /** Holds the `admin` role: may use the actions. */
  admin: boolean;
  /** What the viewer's own MCP session would be granted: the tools it lists and may try. */
  grant?: AccessGrant;
}

export type ViewerResult = { ok: true; viewer: Viewer } | { ok: false; status: 401 | 403 | 503; message: string };

/** Whether the config requires a credential of HTTP clients (then of console readers too, as of /metrics). */
export function consoleNeedsCredential(config: GatewayConfig): boolean {
  return config.auth?.requireAuth === true && (config.auth.tokens.length > 0 || config.auth.oauth !== undefined);
}

/**
 * Identifies a console request by its credential (`Authorization: Bearer`, or the API-key header), as an MCP
 * request is identified. Reading needs a credential where the config requires one (401 otherwise); acting
 * needs the `admin` role (`auth.tokens[].roles`, or an OAuth rule's `roles`).
 *
 * @example const who = await identifyViewer(req, gateway.config, http.oauth);
 */
export async function identifyViewer(
  req: IncomingMessage,
  config: GatewayConfig,
  oauth: OAuthService | undefined,
): Promise<ViewerResult> {
  const who = await authenticateRequest(req, config, oauth, { kind: 'gateway' });
  if (!who.ok) return { ok: false, status: who.status, message: who.message };
  const { principal } = who;
  if (principal.kind === 'anonymous' && consoleNeedsCredential(config)) {
    return { ok: false, status: 401, message: 'Unauthorized: the console needs a credential (Authorization: Bearer)' };
  }
  return { ok: true, viewer: describeViewer(principal, config) };
}

/**
 * A viewer identified earlier, judged again under the config in force (a reload may have removed its
 * credential or changed its roles); undefined when it may not read any more.
 */
export function refreshViewer(viewer: Viewer, config: GatewayConfig): Viewer | undefined {
  let { principal } = viewer;
  if (principal.kind === 'credential') {
    const credential = credentialsOf(config).find(principal.credential);
    if (!credential) return undefined;
    principal = { ...principal, credential };
  } else if (principal.kind === 'anonymous' && consoleNeedsCredential(config)) {
    return undefined;
  }
  return describeViewer(principal, config);
}

function describeViewer(principal: Principal, config: GatewayConfig): Viewer {
  const granted = grantAccess(config, { principal, endpoint: { kind: 'gateway' }, via: 'console' });
  return {
    principal,
    label: principal.kind === 'credential' ? principal.credential.id : principal.kind,
    admin: principal.kind === 'credential' && (principal.credential.config.roles ?? []).includes('admin'),
    ...(granted.ok ? { grant: granted.grant } : {}),
  };
}
