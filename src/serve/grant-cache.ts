import type { IncomingMessage } from 'node:http';

import type { AccessGrant, GrantRequest, Principal } from '../access/policy.js';
import type { GatewayConfig } from '../config/model.js';
import type { SseRoute } from './sse.js';
import type { EndpointRoute } from './streamable-http.js';

/** Decisions kept at most; past this the oldest go first (a crowd of addresses cannot grow the cache). */
export const MAX_CACHED_GRANTS = 1_024;

/** What the access decision of an HTTP request came to: who asked, what they get, and how their sessions start. */
export interface CachedAccess {
  principal: Principal;
  grant: AccessGrant;
  grantRequest: GrantRequest;
  /**
   * Where the request's sessions live and what they get: its path, whose they are, whose share of the session
   * limits they take, and what is done to each new one (its guard, its reauthorization on reload).
   */
  route: EndpointRoute & SseRoute & { owner: string; client: string };
}

/**
 * The access decisions of one config generation, so that a session's repeated POSTs do not judge the same
 * credential, address and endpoint again each time. A decision holds for exactly the inputs it was made from: the
 * config object (a reload brings a new one, and every decision made under the old one is dropped at once, so a
 * revoked credential stops working on its next request), the credential headers as sent, the client's address and
 * the endpoint path. What is not cached: refusals, OAuth access tokens (their expiry and revocation are checked per
 * request) and requests carrying an Origin (a browser's; judged afresh every time).
 *
 * @example
 * const key = grantKey(req, address, '/mcp', 'x-api-key');
 * const access = (key && grants.get(config, key)) ?? judge(...);
 */
export class GrantCache {
  private config?: GatewayConfig;
  private readonly entries = new Map<string, CachedAccess>();

  constructor(private readonly max = MAX_CACHED_GRANTS) {}

  get size(): number {
    return this.entries.size;
  }

  /** The decision made for `key` under this config, if any. */
  get(config: GatewayConfig, key: string): CachedAccess | undefined {
    if (config !== this.config) return undefined;
    return this.entries.get(key);
  }

  /** Keeps a decision made under `config`; a new config drops every decision of the old one first. */
  set(config: GatewayConfig, key: string, access: CachedAccess): void {
    if (config !== this.config) {
      this.entries.clear();
      this.config = config;
    }
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, access);
  }

  clear(): void {
    this.entries.clear();
    this.config = undefined;
  }
}

/**
 * The key of a request's access decision, or undefined when the request must be judged afresh: it carries an
 * Origin, or a credential header more than once (refused as malformed, and `a, b` must not pass for `a,b`). The key
 * holds the headers as sent (a Map compares them by hash, which tells nothing of a token's characters).
 */
export function grantKey(
  req: IncomingMessage,
  address: string | undefined,
  path: string,
  apiKeyHeader: string,
): string | undefined {
  const headers = req.headers;
  if (headers.origin !== undefined) return undefined;
  const authorization = headers.authorization ?? '';
  const apiKey = headers[apiKeyHeader] ?? '';
  if (typeof apiKey !== 'string') return undefined;
  // Header values hold no line breaks (Node refuses them), nor do addresses or endpoint paths: "\n" separates.
  return `${path}\n${address ?? ''}\n${authorization}\n${apiKey}`;
}
