import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { JSONRPCRequest, RequestId, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

import { clientAddress, trustedProxies } from '../access/client-address.js';
import type { AccessGrant } from '../access/policy.js';
import type { Gateway } from '../gateway.js';
import {
  HEADER_MISMATCH,
  headerMismatch,
  INPUT_REQUIRED_METHODS,
  META,
  MISSING_REQUIRED_CLIENT_CAPABILITY,
  MODERN_METHODS,
  MODERN_VERSION,
  paramHeaderMismatch,
  readRequestMeta,
  type RequestMeta,
  withoutEnvelope,
} from '../protocol/modern.js';
import { toWireError } from '../relay/errors.js';
import type { Extra } from '../relay/forward.js';
import { type HeldCall, HeldCalls, type HeldOutcome } from '../relay/held-calls.js';
import { passesLevel } from '../relay/log-levels.js';
import { type CallOrigin, type InputRelay, type Owner } from '../relay/owner.js';
import { requestDigest, RequestStateSealer } from '../relay/request-state.js';
import type { StatelessSession } from '../relay/stateless-session.js';
import { sendRpcError } from './http-body.js';
import { ListenStreams } from './listen-streams.js';
import { completeResult, StatelessResponse } from './stateless-response.js';

/** Where a stateless request came in, and what it was granted. */
export interface StatelessRoute {
  path: string;
  grant: AccessGrant;
}

/** How long a client may take to retry with the requestState it was given. */
const REQUEST_STATE_TTL_MS = 10 * 60_000;

/** A stateless session is let go after this long without a request or an open listen stream. */
export const STATELESS_SESSION_IDLE_MS = 10 * 60_000;

/**
 * The 2026-07-28 era on `/mcp` (and `/ns/<ns>/mcp`, `/mcp/<server>`) beside the legacy one: each POST is one
 * self-contained request whose `_meta` carries the protocol version and the client's capabilities. A legacy
 * server's request to the client during a call becomes an `input_required` result; the client's retry, with
 * the sealed `requestState` only that caller can redeem, answers the held request and the same call goes on.
 */
export class StatelessEndpoint {
  readonly held = new HeldCalls();
  private readonly sealer = new RequestStateSealer();
  private readonly sessions = new Map<string, StatelessSession>();
  private readonly listen: ListenStreams;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly gateway: Gateway) {
    this.listen = new ListenStreams(gateway);
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, route: StatelessRoute): Promise<void> {
    if (Array.isArray(body)) {
      return sendRpcError(res, 400, -32600, 'Invalid Request: a 2026-07-28 request is one JSON-RPC message');
    }
    const message = body as Partial<JSONRPCRequest>;
    if (message.id === undefined || message.id === null) {
      // The 2026-07-28 revision defines no client notification over HTTP: acknowledged and dropped.
      res.writeHead(202).end();
      return;
    }
    const id = message.id as RequestId;
    const method = String(message.method);
    const params = (message.params ?? {}) as Record<string, unknown>;
    // Removed methods (initialize, ping, ...) first: their requests need not carry a valid `_meta`.
    if (!MODERN_METHODS.has(method)) {
      return sendError(res, 404, id, -32601, `Method not found: ${method} (not part of protocol ${MODERN_VERSION})`);
    }
    // A header that disagrees with `_meta` is a mismatch even when `_meta` names a version nobody supports.
    const claimed = (params._meta as Record<string, unknown> | undefined)?.[META.protocolVersion];
    const header = req.headers['mcp-protocol-version'];
    if (typeof claimed === 'string' && typeof header === 'string' && header !== claimed) {
      const message = `Header mismatch: MCP-Protocol-Version "${header}" does not match _meta's "${claimed}"`;
      return sendError(res, 400, id, HEADER_MISMATCH, message);
    }
    const reading = readRequestMeta(params);
    if (!reading.ok) return sendError(res, 400, id, reading.code, reading.message, reading.data);
    const mismatch = headerMismatch(req.headers, { method, params }, reading.meta.protocolVersion);
    if (mismatch) return sendError(res, 400, id, HEADER_MISMATCH, `Header mismatch: ${mismatch}`);
    const session = this.sessionFor(route);
    if (method === 'tools/call') {
      const schema = session.view.tools().find((tool) => tool.name === params.name)?.inputSchema;
      const wrong = paramHeaderMismatch(req.headers, schema, params.arguments);
      if (wrong) return sendError(res, 400, id, HEADER_MISMATCH, `Header mismatch: ${wrong}`);
    }
    // Clients without a credential are one owner: their states are bound to their address as well.
    const address = route.grant.credential
      ? ''
      : `@${clientAddress(req, trustedProxies(this.gateway.config.trustedProxies)) ?? 'unknown'}`;
    const principal = `${route.grant.owner}${address}|${route.path}`;
    const wantsNotifications = params._meta !== undefined && isNotifiable(params, reading.meta);
    const response = new StatelessResponse(res, id, wantsNotifications);
    const request = { jsonrpc: '2.0', id, method, params } as JSONRPCRequest;

    if (method === 'subscriptions/listen') return this.listen.open(req, res, session, request, reading.meta);
    if (method === 'server/discover') return response.result(completeResult(method, this.discover(session)));

    // A retry is what carries a request state; input responses without one answer nothing of the gateway's.
    const digest = requestDigest(method, params);
    let retry: InputRelay['retry'];
    if (params.requestState !== undefined) {
      const opened = this.sealer.open(params.requestState, { principal, request: digest });
      if (!opened.ok) return response.error(-32602, `Invalid params: ${opened.reason}`);
      const { relay, state } = opened.state.body;
      // A state of a server of the 2026-07-28 era: the request goes to it again, with the server's own state.
      if (typeof relay !== 'string') return this.resume(response, request, opened.state.body.held);
      retry = { server: relay, ...(state === undefined ? {} : { requestState: state }) };
    }
    // The envelope is the gateway's to read: a legacy server must not get 2026-07-28 fields (a modern one gets
    // the gateway's own envelope for it, with this caller's capabilities). Nor does any server get our seal.
    const { requestState: _sealed, ...unsealed } = params;
    void _sealed;
    const forwarded = { ...request, params: withoutEnvelope(unsealed) } as JSONRPCRequest;
    const owner: Owner = { sessionId: `req:${randomUUID()}`, group: route.grant.owner, instanceSession: session.id };
    const relay: InputRelay = {
      ...(retry ? { retry } : {}),
      seal: (server, state) =>
        this.sealer.seal({
          body: { relay: server, ...(state === undefined ? {} : { state }) },
          principal,
          request: digest,
          expiresAt: Date.now() + REQUEST_STATE_TTL_MS,
        }),
    };
    if (!INPUT_REQUIRED_METHODS.has(method)) {
      const abort = new AbortController();
      res.once('close', () => abort.abort(new Error('the client closed the request')));
      const origin = this.origin(owner, reading.meta, response, undefined, relay);
      try {
        const result = await session.dispatchAs(
          forwarded,
          extraOf(forwarded, abort.signal, origin, req),
          callerOf(origin),
        );
        response.result(completeResult(method, result));
      } catch (error) {
        sendWireError(response, error);
      }
      return;
    }
    const call = this.held.create(principal, digest);
    const origin = this.origin(owner, reading.meta, response, call, relay);
    call.start((signal) => session.dispatchAs(forwarded, extraOf(forwarded, signal, origin, req), callerOf(origin)));
    response.onClose(() => call.giveUp('the client cancelled the request'));
    this.answer(response, method, call.id, principal, params, await call.next((n) => response.notify(n)));
  }

  /** Ends every listen stream and held call (shutdown). */
  closeAll(): void {
    clearInterval(this.sweeper);
    this.listen.closeAll();
    this.held.closeAll();
    for (const session of this.sessions.values()) void session.close();
    this.sessions.clear();
  }

  /** A retry of a held call (its state opened): answers it, then waits for its next answer. */
  private async resume(response: StatelessResponse, request: JSONRPCRequest, held: unknown): Promise<void> {
    const params = (request.params ?? {}) as Record<string, unknown>;
    const call = this.held.get(held);
    if (!call) return response.error(-32602, 'Invalid params: requestState refers to a request that is over');
    const principal = call.principal;
    response.onClose(() => call.giveUp('the client cancelled the request'));
    const responses = params.inputResponses;
    if (responses !== undefined && (typeof responses !== 'object' || responses === null || Array.isArray(responses))) {
      return response.error(-32602, 'Invalid params: inputResponses must be an object keyed as inputRequests was');
    }
    const outcome = await call.next((n) => response.notify(n), responses as Record<string, unknown> | undefined);
    this.answer(response, request.method, call.id, principal, params, outcome);
  }

  private answer(
    response: StatelessResponse,
    method: string,
    callId: string,
    principal: string,
    params: Record<string, unknown>,
    outcome: HeldOutcome,
  ): void {
    if (outcome.kind === 'result') return response.result(completeResult(method, outcome.result));
    if (outcome.kind === 'error') return sendWireError(response, outcome.error);
    const requestState = this.sealer.seal({
      body: { held: callId },
      principal,
      request: requestDigest(method, params),
      expiresAt: Date.now() + REQUEST_STATE_TTL_MS,
    });
    response.result({ resultType: 'input_required', inputRequests: outcome.inputRequests, requestState });
  }

  /** The origin of one request: its own owner, its declared capabilities, and its response stream. */
  private origin(
    owner: Owner,
    meta: RequestMeta,
    response: StatelessResponse,
    call: Pick<HeldCall, 'ask' | 'notify' | 'fail'> | undefined,
    inputRelay: InputRelay,
  ): CallOrigin {
    return {
      owner,
      inputRelay,
      capabilities: meta.clientCapabilities,
      sendRequest: (request, signal) =>
        call
          ? call.ask(request, signal)
          : Promise.reject(
              Object.assign(new Error(`${request.method} is not possible during this kind of request`), {
                code: -32601,
              }),
            ),
      sendNotification: (notification) => (call ? call.notify(notification) : response.notify(notification)),
      wantsLog: (level) => meta.logLevel !== undefined && passesLevel(level, meta.logLevel),
      ...(meta.logLevel === undefined ? {} : { logLevel: meta.logLevel }),
      ...(call ? { failCall: (error: Error) => call.fail(error) } : {}),
    };
  }

  private discover(session: StatelessSession): Record<string, unknown> {
    return {
      supportedVersions: [MODERN_VERSION],
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        logging: {},
        completions: {},
      },
      ...(this.gateway.instructions(session) ? { instructions: this.gateway.instructions(session) } : {}),
    };
  }

  /** The stateless session of a credential on an endpoint, made on first use; its scope follows the grant. */
  private sessionFor(route: StatelessRoute): StatelessSession {
    const key = `${route.grant.owner}\0${route.path}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.gateway.createStatelessSession(route.grant.scope, route.grant.owner);
      this.sessions.set(key, session);
      void session.whenClosed.then(() => this.sessions.delete(key));
    }
    session.scope = route.grant.scope;
    session.lastUsed = Date.now();
    return session;
  }

  private sweep(): void {
    const cutoff = Date.now() - STATELESS_SESSION_IDLE_MS;
    for (const session of this.sessions.values()) {
      if (session.lastUsed < cutoff && !session.listening) void session.close();
    }
  }
}

/** A request can take notifications on its response when it asked for progress or set a log level. */
function isNotifiable(params: Record<string, unknown>, meta: RequestMeta): boolean {
  const token = (params._meta as { progressToken?: unknown }).progressToken;
  return token !== undefined || meta.logLevel !== undefined;
}

/** The SDK handler `extra` that forward() reads, built for one stateless request. */
function extraOf(request: JSONRPCRequest, signal: AbortSignal, origin: CallOrigin, req: IncomingMessage): Extra {
  return {
    signal,
    requestId: request.id,
    // The trace context may come as HTTP headers (`traceparent`, `tracestate`), as on the legacy front.
    requestInfo: { headers: req.headers },
    sendNotification: async (notification: ServerNotification) => origin.sendNotification(notification),
    sendRequest: (
      serverRequest: { method: string; params?: unknown },
      _schema: unknown,
      options?: { signal?: AbortSignal },
    ) => origin.sendRequest({ jsonrpc: '2.0', id: 0, ...serverRequest } as JSONRPCRequest, options?.signal ?? signal),
  } as unknown as Extra;
}

function callerOf(origin: CallOrigin) {
  return {
    owner: origin.owner,
    ...(origin.inputRelay ? { inputRelay: origin.inputRelay } : {}),
    clientCapabilities: origin.capabilities,
    wantsLog: origin.wantsLog,
    ...(origin.logLevel === undefined ? {} : { logLevel: origin.logLevel }),
    ...(origin.failCall ? { failCall: origin.failCall } : {}),
  };
}

function sendError(
  res: ServerResponse,
  status: number,
  id: RequestId,
  code: number,
  message: string,
  data?: unknown,
): void {
  if (res.headersSent) return void res.end();
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id,
    error: { code, message, ...(data === undefined ? {} : { data }) },
  });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** A local or upstream error as a JSON-RPC error; resource-not-found is -32602 in this revision. */
function sendWireError(response: StatelessResponse, error: unknown): void {
  const wire = toWireError(error);
  const code = wire.code === -32002 ? -32602 : wire.code;
  // The revision answers a missing client capability with 400 (when no stream has begun).
  response.error(code, wire.message, wire.data, code === MISSING_REQUIRED_CLIENT_CAPABILITY ? 400 : 200);
}
