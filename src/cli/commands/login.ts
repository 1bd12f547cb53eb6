import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type AuditLog, openAuditLog } from '../../access/audit.js';
import { GATEWAY_ACCOUNT } from '../../auth/upstream/accounts.js';
import { readChallenge } from '../../auth/upstream/bearer.js';
import type { TokenEntry } from '../../auth/upstream/client-provider.js';
import { SIGN_IN_TTL_MS } from '../../auth/upstream/pending-sign-ins.js';
import { revokeTokens, signOutDetail } from '../../auth/upstream/revocation.js';
import { createSignInRecorder } from '../../auth/upstream/sign-in-audit.js';
import {
  beginSignIn,
  type Challenge,
  finishSignIn,
  type FlowTarget,
  oauthFetch,
  readCallback,
  registeredRedirectUrl,
} from '../../auth/upstream/sign-in-flow.js';
import { sendSignInMessage } from '../../auth/upstream/sign-in-routes.js';
import { tokenKeyFrom } from '../../auth/upstream/token-key.js';
import { stateFileOf, tokensKey, TokenStore } from '../../auth/upstream/token-store.js';
import { loadConfig } from '../../config/load.js';
import type { GatewayConfig, ServerConfig } from '../../config/model.js';
import { errorMessage, isGatewayError } from '../../errors.js';
import { createSilentLogger } from '../../observability/log.js';
import type { CommandIo } from './check.js';

export interface LoginOptions {
  server: string;
  /** Port of the loopback callback; 0 picks a free one. */
  callbackPort: number;
  /** Open the sign-in page in a browser (else only print it). */
  browser: boolean;
  /** Forget the gateway's sign-in instead. */
  signOut: boolean;
}

export interface LoginDeps {
  env?: NodeJS.ProcessEnv;
  openUrl?: (url: string) => void;
}

const CALLBACK_PATH = '/callback';

/**
 * `mcproxy login SERVER`: signs the gateway in to an OAuth-protected server (its own sign-in, used by shared
 * instances and by clients without a credential of their own). Discovery, registration and the PKCE flow are
 * the SDK's; the browser comes back to a loopback callback of this command, and the tokens go, encrypted, to
 * the state file a running gateway reads. Returns the exit code.
 *
 * @example process.exitCode = await runLoginCommand('config/mcp-servers.json', { server: 'github', callbackPort: 0, browser: true, signOut: false }, io);
 */
export async function runLoginCommand(
  configPath: string,
  options: LoginOptions,
  io: CommandIo,
  deps: LoginDeps = {},
): Promise<number> {
  let config: GatewayConfig;
  try {
    config = await loadConfig(configPath);
  } catch (error) {
    io.err(`${errorMessage(error)}\n`);
    return 1;
  }
  const server = config.servers.find((entry) => entry.name === options.server);
  if (!server?.url || server.transport !== 'http' || server.oauth?.enabled === false) {
    const known = config.servers.filter((entry) => entry.transport === 'http').map((entry) => entry.name);
    io.err(
      `mcproxy login: "${options.server}" is not a remote Streamable HTTP server of ${configPath}` +
        ` (those are: ${known.join(', ') || 'none'})\n`,
    );
    return 1;
  }
  let key: Buffer;
  try {
    key = tokenKeyFrom(deps.env ?? process.env, configPath);
  } catch (error) {
    io.err(`mcproxy login: ${errorMessage(error)}\n`);
    return 1;
  }
  const store = new TokenStore({
    path: stateFileOf(config),
    key: () => key,
    onError: (error) => io.err(`mcproxy login: ${error.message}\n`),
  });
  const audit: AuditLog | undefined = config.audit ? openAuditLog(config.audit.path) : undefined;
  const record = createSignInRecorder({
    config: () => config,
    store: () => store,
    now: Date.now,
    log: createSilentLogger(),
    audit: () => audit,
  });
  try {
    if (options.signOut) {
      const key = tokensKey(server.name, GATEWAY_ACCOUNT);
      const entry = store.get<TokenEntry>(key);
      if (!entry) {
        io.out(`The gateway was not signed in to "${server.name}".\n`);
        return 0;
      }
      store.set(key, undefined);
      await store.flush();
      const slot = entry.slot ?? 'login';
      const redirectUrl = registeredRedirectUrl(store, server.name, slot) ?? '';
      const outcome = await revokeTokens(
        { store, now: Date.now, server, account: GATEWAY_ACCOUNT, slot, redirectUrl },
        entry.tokens,
      );
      record('upstream:revoke', server.name, GATEWAY_ACCOUNT, slot, { detail: signOutDetail(outcome) });
      io.out(
        `Signed out of "${server.name}"` +
          (outcome.revoked
            ? '; the authorization server revoked the tokens.\n'
            : `; the tokens were not revoked at the authorization server (${outcome.detail}).\n`),
      );
      return 0;
    }
    await signIn(server, store, options, io, deps);
    record('upstream:sign-in', server.name, GATEWAY_ACCOUNT, 'login');
    await store.flush();
    io.out(`Signed in to "${server.name}". A running gateway uses the new sign-in at once.\n`);
    return 0;
  } catch (error) {
    io.err(`mcproxy login: ${isGatewayError(error) ? error.message : `the sign-in failed: ${errorMessage(error)}`}\n`);
    return 1;
  } finally {
    await audit?.close();
  }
}

async function signIn(
  server: ServerConfig,
  store: TokenStore,
  options: LoginOptions,
  io: CommandIo,
  deps: LoginDeps,
): Promise<void> {
  const callback = createServer();
  await new Promise<void>((resolve, reject) => {
    callback.once('error', reject);
    callback.listen(options.callbackPort, '127.0.0.1', resolve);
  });
  try {
    const { port } = callback.address() as AddressInfo;
    const challenge = await firstChallenge(server);
    const target: FlowTarget = {
      store,
      now: Date.now,
      server,
      account: GATEWAY_ACCOUNT,
      slot: 'login',
      redirectUrl: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
      ...(challenge ? { challenge } : {}),
    };
    const state = randomBytes(32).toString('base64url');
    const answered = waitForCallback(callback, state);
    const started = await beginSignIn(target, state);
    io.out(`Sign in to "${server.name}" in your browser:\n\n  ${started.authorizationUrl}\n\n`);
    if (options.browser) (deps.openUrl ?? openInBrowser(deps.env ?? process.env))(started.authorizationUrl);
    const { query, finish } = await answered;
    const answer = readCallback(query, started);
    if (!answer.ok) {
      finish(400, 'Not signed in', answer.message);
      throw new Error(answer.detail);
    }
    try {
      await finishSignIn(target, answer.code, started.codeVerifier);
    } catch (error) {
      finish(400, 'Not signed in', 'The authorization server issued no tokens. Try again.');
      throw error;
    }
    finish(200, 'Signed in', `mcproxy is signed in to "${server.name}". You can close this window.`);
  } finally {
    callback.closeAllConnections();
    await new Promise<void>((resolve) => callback.close(() => resolve()));
  }
}

/** What the server's 401 says about its sign-in (a request without a token); undefined when it said nothing. */
async function firstChallenge(server: ServerConfig): Promise<Challenge | undefined> {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcproxy-login', version: '0' } },
  };
  const response = await oauthFetch(server.url ?? '', {
    method: 'POST',
    headers: { ...server.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(initialize),
  }).catch(() => undefined);
  await response?.body?.cancel().catch(() => {});
  return response?.status === 401 ? readChallenge(response) : undefined;
}

/** The first request to the callback path with our state; the browser gets a page from `finish`. */
function waitForCallback(
  callback: Server,
  state: string,
): Promise<{ query: URLSearchParams; finish: (status: number, title: string, message: string) => void }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('nobody signed in within 10 minutes')), SIGN_IN_TTL_MS);
    timer.unref();
    callback.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== CALLBACK_PATH || url.searchParams.get('state') !== state) {
        res.writeHead(404).end();
        return;
      }
      clearTimeout(timer);
      resolve({
        query: url.searchParams,
        finish: (status, title, message) => sendSignInMessage(res, status, title, message),
      });
    });
  });
}

/** Opens a URL with $BROWSER, else the desktop's opener; failures are silent (the URL is printed anyway). */
const openInBrowser = (env: NodeJS.ProcessEnv) =>
  function openUrl(url: string): void {
    const browser = env['BROWSER'];
    const [command, args] =
      browser !== undefined && browser !== ''
        ? [browser, [url]]
        : process.platform === 'darwin'
          ? ['open', [url]]
          : process.platform === 'win32'
            ? ['cmd', ['/c', 'start', '""', url]]
            : ['xdg-open', [url]];
    try {
      const child = spawn(command, args, { stdio: 'ignore', detached: true });
      child.on('error', () => {});
      child.unref();
    } catch {
      // No opener here: the URL is on the screen.
    }
  };
