import type { AuditLog, AuthAuditRecord } from '../../access/audit.js';
import type { GatewayConfig } from '../../config/model.js';
import type { Logger } from '../../observability/log.js';
import { credentialOf, describeAccount } from './accounts.js';
import type { ClientSlot } from './client-provider.js';
import { clientKey, type TokenStore } from './token-store.js';

/** Records one upstream sign-in event (`upstream:sign-in`, `upstream:refresh`, ...) in the audit log and the log. */
export type SignInRecorder = (
  event: string,
  server: string,
  account: string,
  slot: ClientSlot,
  extra?: { detail?: string; address?: string | undefined },
) => void;

export interface SignInRecorderOptions {
  config: () => GatewayConfig;
  store: () => TokenStore;
  now: () => number;
  log: Logger;
  audit: () => AuditLog | undefined;
}

/**
 * The recorder of upstream sign-in events: the credential id (null for the gateway's own sign-in), the server,
 * our client id at its authorization server and the server's URL; never a token or a code.
 *
 * @example const record = createSignInRecorder(options); record('upstream:refresh', 'github', 'credential:alice', 'gateway');
 */
export function createSignInRecorder(options: SignInRecorderOptions): SignInRecorder {
  return function recordSignIn(event, server, account, slot, extra = {}) {
    const config = options.config().servers.find((entry) => entry.name === server);
    const registered = options.store().get<{ information: { client_id: string } }>(clientKey(server, slot));
    const entry: AuthAuditRecord = {
      time: new Date(options.now()).toISOString(),
      event,
      server,
      credential: credentialOf(account),
      client_id: config?.oauth?.clientId ?? registered?.information.client_id ?? '',
      ...(config?.url ? { resource: config.url } : {}),
      ...(extra.detail === undefined ? {} : { detail: extra.detail }),
      ...(extra.address === undefined ? {} : { address: extra.address }),
    };
    options.audit()?.record(entry);
    const detail = extra.detail ? ` (${extra.detail})` : '';
    options.log.info(`Server '${server}': ${event} for ${describeAccount(account)}${detail}`);
  };
}
