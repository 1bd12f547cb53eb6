import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect } from 'vitest';

import { fixturePath } from '../helpers/paths.js';

/** The secrets of the access tests: tokens in the environment, and an env value of a server. */
export const TOKENS = {
  ALICE_TOKEN: 'alice-public-7f3a9c2e51d84b06',
  BOB_TOKEN: 'bob-crypto-2b8e4f1a9d7c3e50',
  ROOT_TOKEN: 'root-system-9c1d7e3f5a2b8046',
} as const;
export const SERVER_SECRET = 'wiki-env-secret-3e9a1c7b5d';
export const WRONG_TOKEN = 'wrong-token-5a1e9c3d7b2f4860';
/** Every value that must never appear in a log line, health or an error. */
export const SECRETS = [...Object.values(TOKENS), SERVER_SECRET, WRONG_TOKEN];
export const ACCESS_ENV = { ...TOKENS, WIKI_SECRET: SERVER_SECRET };

function okServer(name: string, env: Record<string, string> = {}): object {
  return { command: process.execPath, args: [fixturePath('ok')], env: { FIXTURE_NAME: name, ...env } };
}

/**
 * A household: `public` is open to all, `crypto` extends it for bob (with `add` of covalent denied), `system`
 * is isolated and root's alone. Three ok-fixture servers, one per namespace.
 */
export function householdConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    servers: {
      wiki: okServer('wiki', { WIKI_API_KEY: '${WIKI_SECRET}' }),
      covalent: okServer('covalent'),
      db: okServer('db'),
    },
    auth: {
      tokens: [
        { id: 'alice', token: '${ALICE_TOKEN}', namespaces: ['public'] },
        { id: 'bob', token: '${BOB_TOKEN}', namespaces: ['crypto'] },
        { id: 'root', token: '${ROOT_TOKEN}', namespaces: ['system'] },
      ],
    },
    namespaces: {
      public: { servers: ['wiki'], require_auth: false },
      crypto: { extends: 'public', servers: ['covalent'], tools: { deny: ['covalent/add'] } },
      system: { servers: ['db'], isolated: true },
    },
    sandbox: { timeout_secs: 10 },
    ...extra,
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = { error?: { code: number; message: string; data?: Record<string, unknown> }; result?: unknown }>(): T;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** CA for https URLs. */
  ca?: Buffer;
}

/** One HTTP request with full control over the headers (Host included), read to the end. */
export function rawRequest(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  // The path exactly as written: URL would resolve `/ns/../mcp` before it left the client.
  const rawPath = /^https?:\/\/[^/]+(\/.*)?$/.exec(url)?.[1] ?? '/';
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        hostname: target.hostname,
        port: target.port,
        path: rawPath,
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            json: () => JSON.parse(text) as never,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'access-test', version: '0' } },
};

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** An SDK client over Streamable HTTP with the given headers on every request. */
export async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'access-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** An SDK client over HTTP+SSE with the given headers on the stream and every message. */
export async function connectSse(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'access-test', version: '0.0.0' });
  await client.connect(new SSEClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

export async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name).sort();
}

export function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { type: string; text?: string }[]).map((block) => block.text ?? '').join('');
}

/** Asserts that no line contains any of the secrets, naming the first offender. */
export function expectNoSecrets(lines: readonly string[], secrets: readonly string[] = SECRETS): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    for (const secret of secrets) {
      if (line.includes(secret)) expect.fail(`a secret leaked into: ${line}`);
    }
  }
}
