import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One tool call, as a line of the audit log. Never holds a secret: the credential is named by its id. */
export interface AuditRecord {
  /** ISO 8601, when the call ended. */
  time: string;
  /** The credential's id; null for an anonymous HTTP client or a local stdio client. */
  credential: string | null;
  /** The namespace the call was made through; null for servers in no namespace. */
  namespace: string | null;
  server: string;
  tool: string;
  duration_ms: number;
  /** ok, error (the tool's own or the gateway's), timeout, cancelled, or denied (refused by access rules). */
  outcome: string;
  /** How the client was connected: the endpoint path, or "stdio". */
  endpoint: string;
  /** The client's address, for HTTP. */
  address?: string;
  /** The OAuth client id, for a credential from an OAuth access token. */
  client_id?: string;
}

/**
 * A sign-in event, as a line of the audit log: of the built-in authorization server (`oauth:*`), or of the
 * gateway at an upstream server's (`upstream:*`). Names the credential and the OAuth client; never holds a
 * token, a code or a password.
 */
export interface AuthAuditRecord {
  time: string;
  /**
   * `oauth:register`, `oauth:sign-in`, `oauth:sign-in-refused`, `oauth:token`, `oauth:refresh`, `oauth:revoke`,
   * `oauth:reuse-detected`; `upstream:sign-in`, `upstream:sign-in-refused`, `upstream:refresh`,
   * `upstream:refresh-refused`, `upstream:revoke`.
   */
  event: string;
  /** The upstream server, for `upstream:*` events. */
  server?: string;
  /** The credential the tokens stand for (`mcproxy:owner`); null when nobody signed in, or for the gateway's own upstream sign-in. */
  credential: string | null;
  client_id: string;
  client_name?: string;
  scopes?: string[];
  resource?: string;
  /** Why a sign-in was refused, or what was revoked. */
  detail?: string;
  address?: string;
}

export interface AuditLog {
  record(entry: AuditRecord | AuthAuditRecord): void;
  close(): Promise<void>;
}

export interface AuditLogOptions {
  /** Reports a write failure (once); the gateway keeps serving. */
  onError?: (error: Error) => void;
}

/**
 * Appends JSON lines to a file (created with mode 0600, its folder as needed).
 *
 * @example
 * const audit = openAuditLog('/var/log/mcproxy/audit.jsonl', { onError: (e) => log.error(e.message) });
 * audit.record({ time: new Date().toISOString(), credential: 'alice', ... });
 */
export function openAuditLog(path: string, options: AuditLogOptions = {}): AuditLog {
  let failed = false;
  const fail = (error: Error): void => {
    if (failed) return;
    failed = true;
    options.onError?.(new Error(`audit log ${path}: ${error.message}`));
  };
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    fail(error as Error);
  }
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  stream.on('error', fail);
  let closing: Promise<void> | undefined;
  return {
    record(entry) {
      if (failed || closing) return;
      stream.write(`${JSON.stringify(entry)}\n`);
    },
    close() {
      closing ??= new Promise((resolve) => {
        if (stream.destroyed) return resolve();
        stream.end(() => resolve());
      });
      return closing;
    },
  };
}
