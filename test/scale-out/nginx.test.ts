// The nginx configuration of docs/deployment.md, run with Debian's nginx in front of two gateway replicas from
// dist/main.js that share Debian's redis-server: legacy sessions stay with the replica their id names, SSE
// streams pass unbuffered, X-Forwarded-For keeps anonymous clients apart, and a session whose replica is gone
// gets the 404 that makes its client start again.
import { readFile } from 'node:fs/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { GatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { postFrom } from '../helpers/post-from.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { type Nginx, startNginx } from './nginx.js';
import { type RedisServer, startRedisServer } from './redis-server.js';
import { startReplica, textOf } from './replica.js';

const REPLICAS = ['r1', 'r2'] as const;
const SESSIONS = 6;
const CALLS_PER_SESSION = 5;
const RATE_LIMIT_PER_MINUTE = 3;
const LEDGER_FIXTURE = new URL('./ledger-echo.mjs', import.meta.url).pathname;

let dir: TempDir;
let configPath: string;
let redis: RedisServer;
let nginx: Nginx;
const replicas = new Map<string, GatewayProcess>();
const clients: Client[] = [];

async function connect(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'nginx-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${nginx.url}/mcp`));
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

beforeAll(async () => {
  dir = await createTempDir();
  redis = await startRedisServer();
  configPath = await dir.write('mcp.json', {
    servers: {
      ledger: { command: process.execPath, args: [LEDGER_FIXTURE], env: { LEDGER_REPLICA: '${MCPROXY_REPLICA_ID}' } },
      plain: { command: process.execPath, args: [fixturePath('ok')] },
    },
    state: { store: 'redis', url: '${REDIS_URL}' },
    // nginx connects from 127.0.0.1 and appends the client's address to X-Forwarded-For.
    trusted_proxies: ['127.0.0.1'],
  });
  for (const id of REPLICAS) replicas.set(id, await startReplica(id, configPath, { REDIS_URL: redis.url }));
  nginx = await startNginx(
    dir,
    REPLICAS.map((id) => ({ id, address: new URL(replicas.get(id)!.url).host })),
  );
});

afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await nginx?.stop();
  await Promise.all([...replicas.values()].map((replica) => replica.stop()));
  await redis?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('nginx in front of two replicas (docs/deployment.md)', () => {
  it("keeps each legacy session's requests on the replica its id names, with sessions on both", async () => {
    const sessions = [];
    for (let n = 0; n < SESSIONS; n++) sessions.push(await connect());
    const owners = sessions.map(({ transport }) => transport.sessionId?.split('.')[0]);
    // nginx balances the initialize requests round-robin, so both replicas hold sessions.
    expect(new Set(owners)).toEqual(new Set(REPLICAS));
    // Every call of a session is executed by its own replica: a call balanced elsewhere would get 404.
    await Promise.all(
      sessions.map(async ({ client }, s) => {
        for (let n = 0; n < CALLS_PER_SESSION; n++) {
          const result = await client.callTool({ name: 'ledger__echo', arguments: { message: `s${s}-${n}` } });
          expect(textOf(result)).toBe(`${owners[s]} s${s}-${n}`);
        }
      }),
    );
  });

  it('passes SSE unbuffered: progress reaches the client while the call still runs', async () => {
    const { client } = await connect();
    let progressed = 0;
    let finished = false;
    const stop = new AbortController();
    // The second notification would come a minute after the first: a proxy holding the stream back until the
    // response ends would time this out. (The config turns buffering off; the gateway also says X-Accel-Buffering: no.)
    const call = client
      .callTool({ name: 'plain__progress', arguments: { count: 2, delayMs: 60_000, burst: 0 } }, undefined, {
        onprogress: () => progressed++,
        signal: stop.signal,
        timeout: 120_000,
      })
      .finally(() => (finished = true));
    await waitFor(() => progressed > 0, { timeoutMs: 20_000, message: 'the first progress notification' });
    expect(finished).toBe(false);
    stop.abort();
    await expect(call).rejects.toThrow();
  });

  it('a session whose replica is gone gets 404 from the other one; a new session and stateless calls work', async () => {
    const sessions = [];
    for (let n = 0; n < 4; n++) sessions.push(await connect());
    const onR2 = sessions.find(({ transport }) => transport.sessionId?.startsWith('r2.'));
    expect(onR2).toBeDefined();
    await replicas.get('r2')!.stop('SIGKILL');

    const failure = await onR2!.client
      .callTool({ name: 'ledger__echo', arguments: { message: 'after the kill' } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(404);

    // Reconnecting, as the specification tells the client to, lands on the live replica.
    const { client, transport } = await connect();
    expect(transport.sessionId?.startsWith('r1.')).toBe(true);
    expect(textOf(await client.callTool({ name: 'ledger__echo', arguments: { message: 'again' } }))).toBe('r1 again');
    // Requests without a session are retried on the live replica when the dead one refuses the connection.
    for (let n = 0; n < 4; n++) {
      const { status } = await postFrom(
        `${nginx.url}/mcp`,
        '127.0.0.4',
        {
          jsonrpc: '2.0',
          id: n,
          method: 'tools/call',
          params: {
            name: 'ledger__echo',
            arguments: { message: `stateless-${n}` },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        },
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'ledger__echo' },
      );
      expect(status).toBe(200);
    }
  });

  it('anonymous clients keep budgets of their own: nginx appends the address it saw to X-Forwarded-For', async () => {
    // A limited namespace arrives by reload, after the tests whose anonymous calls on /mcp it would limit too.
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    config['namespaces'] = {
      limited: { servers: ['plain'], rate_limit: { requests_per_minute: RATE_LIMIT_PER_MINUTE } },
    };
    await dir.write('mcp.json', config, { atomic: true });
    await waitFor(
      async () => (await postFrom(`${replicas.get('r1')!.url}/ns/limited/message`, '127.0.0.1', [])).status !== 404,
      {
        timeoutMs: 30_000,
        message: 'the live replica to serve the limited namespace',
      },
    );
    const echo = (n: number) => ({
      jsonrpc: '2.0',
      id: n,
      method: 'tools/call',
      params: { name: 'plain__echo', arguments: { message: `anonymous-${n}` } },
    });
    // Each client comes from its own loopback address, as clients on other hosts would.
    const call = async (from: string, n: number, headers: Record<string, string> = {}) =>
      (await postFrom(`${nginx.url}/ns/limited/message`, from, [echo(n)], headers)).status;
    const first = [];
    for (let n = 0; n < RATE_LIMIT_PER_MINUTE + 1; n++) first.push(await call('127.0.0.2', n));
    expect(first).toEqual([200, 200, 200, 429]);
    expect(await call('127.0.0.3', 10)).toBe(200);
    // Naming another address does not escape the budget: the replicas read the address nginx appended.
    expect(await call('127.0.0.2', 11, { 'x-forwarded-for': '127.0.0.77' })).toBe(429);
  });
});
