// Issue 18: three gateway replicas from dist/main.js behind Debian's HAProxy, sharing Debian's redis-server.
// Ten clients (legacy /mcp sessions with the SDK v1 client, 2026-07-28 clients with the SDK v2 client) call an
// echo tool in a bounded loop while one replica is SIGKILLed and restarted. Every call carries a unique id and
// the upstream writes each one it executes to a ledger, so the test can tell lost, duplicated and crossed answers
// apart. A credential's rate limit and a token of the built-in OAuth server are checked across the replicas.
import { readFile } from 'node:fs/promises';

import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport as LegacyTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { GatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { postFrom } from '../helpers/post-from.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { type HaProxy, startHaProxy } from './haproxy.js';
import { signInAsOwner } from './oauth-sign-in.js';
import { type RedisServer, startRedisServer } from './redis-server.js';
import { startReplica, textOf } from './replica.js';

const MODERN = '2026-07-28';
const REPLICAS = ['r1', 'r2', 'r3'] as const;
const LEGACY_CLIENTS = 5;
const MODERN_CLIENTS = 5;
/** Calls each client makes before the kill, after it (replica down), and after the restart. */
const CALLS_BEFORE_KILL = 10;
const CALLS_WHILE_DOWN = 6;
const CALLS_AFTER_RESTART = 6;
/** The bound of every client's loop, whatever happens to the cluster. */
const MAX_CALLS_PER_CLIENT = 200;
/** A client that made this many calls in a phase waits for the next one (a slow restart must not end the loop). */
const PHASE_CAP = 30;
const CALL_TIMEOUT_MS = 30_000;
const RATE_LIMIT_PER_MINUTE = 3;
const LIMITED_TOKEN = 'limited-credential-token-5e8a1c93';
const OWNER_PASSWORD = 'owner-password-3f8b2d6e9a1c';
const ECHO = 'ledger__echo';
const LEDGER_FIXTURE = new URL('./ledger-echo.mjs', import.meta.url).pathname;

let dir: TempDir;
let redis: RedisServer;
let haproxy: HaProxy;
let publicUrl: string;
const replicas = new Map<string, GatewayProcess>();

const replicaEnv = () => ({ REDIS_URL: redis.url, LIMITED_TOKEN, OWNER_PASSWORD });

const echoCall = (n: number) => ({
  jsonrpc: '2.0',
  id: n,
  method: 'tools/call',
  params: { name: 'plain__echo', arguments: { message: `anonymous-${n}` } },
});

function portOf(replica: GatewayProcess): number {
  return Number(new URL(replica.url).port);
}

/** One 2026-07-28 tools/call as raw HTTP, to see the status a load balancer or a client would see. */
async function modernCall(baseUrl: string, message: string, headers: Record<string, string> = {}, tool = ECHO) {
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': tool,
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: tool,
        arguments: { message },
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    }),
  });
  const text = await response.text();
  let body: { result?: { content?: unknown }; error?: { code: number } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${baseUrl}: ${response.status} ${text.slice(0, 300)}`);
  }
  return { status: response.status, body };
}

beforeAll(async () => {
  dir = await createTempDir();
  redis = await startRedisServer();
  // HAProxy first: its URL is the gateway's public URL, which tokens are issued for.
  haproxy = await startHaProxy(dir, [...REPLICAS]);
  publicUrl = haproxy.url;
  const configPath = await dir.write('mcp.json', {
    servers: {
      ledger: {
        command: process.execPath,
        args: [LEDGER_FIXTURE],
        env: { LEDGER_FILE: dir.resolve('ledger.txt'), LEDGER_REPLICA: '${MCPROXY_REPLICA_ID}' },
      },
    },
    state: { store: 'redis', url: '${REDIS_URL}' },
    // HAProxy connects from 127.0.0.1 and appends the client's address to X-Forwarded-For (`option forwardfor`).
    trusted_proxies: ['127.0.0.1'],
    auth: {
      require_auth: false,
      tokens: [
        { id: 'limited', token: '${LIMITED_TOKEN}', rate_limit: { requests_per_minute: RATE_LIMIT_PER_MINUTE } },
      ],
      oauth: {
        public_url: publicUrl,
        server: { owner_password: '${OWNER_PASSWORD}', scopes: ['mcp:tools'] },
        credentials: [{ id: 'owner-apps', scopes: ['mcp:tools'] }],
      },
    },
  });
  await dir.write('ledger.txt', '');
  for (const name of REPLICAS) replicas.set(name, await startReplica(name, configPath, replicaEnv()));
  for (const name of REPLICAS) await haproxy.moveServer(name, portOf(replicas.get(name)!));
});

afterAll(async () => {
  await haproxy?.stop();
  await Promise.all([...replicas.values()].map((replica) => replica.stop()));
  await redis?.stop();
  await dir?.[Symbol.asyncDispose]();
});

describe('shared state across replicas', () => {
  it("a credential's rate limit holds across replicas: its calls spread over three replicas total the limit", async () => {
    const started = Date.now();
    const statuses: number[] = [];
    for (let n = 0; n < RATE_LIMIT_PER_MINUTE * 3; n++) {
      const replica = replicas.get(REPLICAS[n % REPLICAS.length]!)!;
      const { status } = await modernCall(replica.url, `limited-${n}`, { authorization: `Bearer ${LIMITED_TOKEN}` });
      statuses.push(status);
    }
    const elapsedMs = Date.now() - started;
    const allowed = statuses.filter((status) => status === 200).length;
    expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
    // Each replica alone would allow the limit (9 in all); shared, the three allow it once. The bucket refills
    // one request per 60/limit seconds, which a slow machine may see once or twice.
    expect(allowed).toBeGreaterThanOrEqual(RATE_LIMIT_PER_MINUTE);
    expect(allowed).toBeLessThanOrEqual(
      RATE_LIMIT_PER_MINUTE + Math.floor(elapsedMs / (60_000 / RATE_LIMIT_PER_MINUTE)),
    );
    expect(statuses.slice(0, RATE_LIMIT_PER_MINUTE)).toEqual([200, 200, 200]);
  });

  it('a token the built-in OAuth server issued through one replica works on the others, and its revocation too', async () => {
    const [first, second, third] = REPLICAS.map((name) => replicas.get(name)!.url) as [string, string, string];
    const tokens = await signInAsOwner({
      steps: () => first,
      resource: publicUrl,
      password: OWNER_PASSWORD,
      scope: 'mcp:tools',
    });
    const asOwner = { authorization: `Bearer ${tokens.accessToken}` };
    for (const url of [second, third]) {
      const { status, body } = await modernCall(url, `oauth-${url}`, asOwner);
      expect(status).toBe(200);
      expect(textOf(body.result ?? {})).toMatch(/^r[23] oauth-/);
    }
    const unknown = await modernCall(second, 'oauth-forged', { authorization: 'Bearer mcpx_at_not-a-real-token' });
    expect(unknown.status).toBe(401);
    // Revoked at the second replica, refused by the third.
    const revoked = await fetch(`${second}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.accessToken, client_id: tokens.clientId }),
    });
    expect(revoked.status).toBe(200);
    expect((await modernCall(third, 'oauth-after-revoke', asOwner)).status).toBe(401);
  });

  it('the sign-in itself may hop replicas: registration, consent and code exchange on three different ones', async () => {
    const tokens = await signInAsOwner({
      steps: (step) => replicas.get(REPLICAS[step % REPLICAS.length]!)!.url,
      resource: publicUrl,
      password: OWNER_PASSWORD,
      scope: 'mcp:tools',
    });
    const { status } = await modernCall(haproxy.url, 'oauth-via-haproxy', {
      authorization: `Bearer ${tokens.accessToken}`,
    });
    expect(status).toBe(200);
  });
});

type Phase = 'running' | 'killing' | 'down' | 'restarted';

interface Attempt {
  client: string;
  era: 'legacy' | 'modern';
  id: string;
  phase: Phase;
  /** The replica the legacy session belonged to (from its id). */
  sessionReplica?: string;
  outcome: 'ok' | 'not-found' | 'failed';
  /** Whether the attempt ended after the kill signal was sent. */
  endedAfterKill: boolean;
  answer?: string;
  error?: string;
}

describe('a replica SIGKILLed and restarted under load', () => {
  it('2026-07-28 calls see no failure after the kill; its legacy sessions get 404 and re-initialise; nothing is lost or answered twice', async () => {
    let phase: Phase = 'running';
    let killSent = false;
    const attempts: Attempt[] = [];
    const counts = new Map<string, Record<Phase, number>>();
    const count = (client: string, at: Phase) => {
      const entry = counts.get(client) ?? { running: 0, killing: 0, down: 0, restarted: 0 };
      entry[at]++;
      counts.set(client, entry);
    };
    const done = (client: string) => (counts.get(client)?.restarted ?? 0) >= CALLS_AFTER_RESTART;
    const reinitialised = new Map<string, number>();
    const gate = () => {
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { opened, open };
    };
    const gates = { down: gate(), restarted: gate() };
    /** Before each call: a client past its share of the phase waits until the test moves on. */
    const pace = async (client: string) => {
      if (phase === 'running' && (counts.get(client)?.running ?? 0) >= PHASE_CAP) await gates.down.opened;
      if (phase === 'down' && (counts.get(client)?.down ?? 0) >= PHASE_CAP) await gates.restarted.opened;
    };

    const legacySession = async (name: string) => {
      const client = new LegacyClient({ name, version: '1.0.0' });
      const transport = new LegacyTransport(new URL(`${haproxy.url}/mcp`));
      // The standalone SSE stream of a session whose replica died fails to reconnect (404): expected here.
      client.onerror = () => {};
      await client.connect(transport);
      return { client, transport };
    };

    const runLegacy = async (name: string) => {
      let session = await legacySession(name);
      for (let n = 0; n < MAX_CALLS_PER_CLIENT && !done(name); n++) {
        await pace(name);
        const id = `${name}-${n}`;
        // A call refused with 404 never ran: the client starts a new session and sends the same call again.
        for (let tries = 0; tries < 3; tries++) {
          const at = phase;
          const sessionReplica = session.transport.sessionId?.split('.')[0];
          const attempt = { client: name, era: 'legacy', id, phase: at, ...(sessionReplica ? { sessionReplica } : {}) };
          try {
            const result = await session.client.callTool({ name: ECHO, arguments: { message: id } }, undefined, {
              timeout: CALL_TIMEOUT_MS,
            });
            attempts.push({
              ...attempt,
              era: 'legacy',
              outcome: 'ok',
              endedAfterKill: killSent,
              answer: textOf(result),
            });
            count(name, at);
            break;
          } catch (error) {
            const notFound = error instanceof StreamableHTTPError && error.code === 404;
            attempts.push({
              ...attempt,
              era: 'legacy',
              outcome: notFound ? 'not-found' : 'failed',
              endedAfterKill: killSent,
              error: String(error),
            });
            // A broken connection says nothing about the session: the client carries on with it. A 404 says
            // the session is gone: a new one is started, as the specification asks.
            if (!notFound) break;
            await session.client.close().catch(() => {});
            session = await legacySession(name);
            reinitialised.set(name, (reinitialised.get(name) ?? 0) + 1);
          }
        }
      }
      await session.client.close();
    };

    const runModern = async (name: string) => {
      const client = new ModernClient({ name, version: '1.0.0' }, {
        versionNegotiation: { mode: { pin: MODERN } },
      } as never);
      await client.connect(new ModernTransport(new URL(`${haproxy.url}/mcp`)));
      expect(client.getProtocolEra()).toBe('modern');
      for (let n = 0; n < MAX_CALLS_PER_CLIENT && !done(name); n++) {
        await pace(name);
        const id = `${name}-${n}`;
        const at = phase;
        try {
          const result = await client.callTool(
            { name: ECHO, arguments: { message: id } },
            { timeout: CALL_TIMEOUT_MS },
          );
          attempts.push({
            client: name,
            era: 'modern',
            id,
            phase: at,
            outcome: 'ok',
            endedAfterKill: killSent,
            answer: textOf(result),
          });
          count(name, at);
        } catch (error) {
          attempts.push({
            client: name,
            era: 'modern',
            id,
            phase: at,
            outcome: 'failed',
            endedAfterKill: killSent,
            error: String(error),
          });
        }
      }
      await client.close();
    };

    const legacyNames = Array.from({ length: LEGACY_CLIENTS }, (_, n) => `legacy${n}`);
    const modernNames = Array.from({ length: MODERN_CLIENTS }, (_, n) => `modern${n}`);
    const clientErrors: string[] = [];
    const clients = [...legacyNames.map(runLegacy), ...modernNames.map(runModern)].map((run) =>
      run.catch((error: unknown) => {
        clientErrors.push(String(error));
        throw error;
      }),
    );
    const finished = Promise.allSettled(clients);
    const everyone = [...legacyNames, ...modernNames];
    const callsIn = (at: Phase) => (name: string) => counts.get(name)?.[at] ?? 0;

    let victim = '';
    let victimSessions = new Set<string>();
    const killAndRestart = async () => {
      // The victim: the replica that holds the first legacy client's session, so some sessions are surely on it.
      await waitFor(() => everyone.every((name) => callsIn('running')(name) >= CALLS_BEFORE_KILL), {
        timeoutMs: 60_000,
        message: () =>
          `every client past ${CALLS_BEFORE_KILL} calls: ${JSON.stringify([...counts])}; errors: ${clientErrors.join('; ')}; ` +
          `last attempts: ${JSON.stringify(attempts.slice(-5))}`,
      });
      victim = attempts.find((attempt) => attempt.client === 'legacy0')!.sessionReplica!;
      expect(REPLICAS).toContain(victim);
      victimSessions = new Set(
        attempts.filter((a) => a.era === 'legacy' && a.sessionReplica === victim).map((a) => a.client),
      );
      phase = 'killing';
      killSent = true;
      const killed = await replicas.get(victim)!.stop('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      phase = 'down';
      gates.down.open();

      await waitFor(() => everyone.every((name) => callsIn('down')(name) >= CALLS_WHILE_DOWN), {
        timeoutMs: 60_000,
        message: () =>
          `every client past ${CALLS_WHILE_DOWN} calls with ${victim} down: ${JSON.stringify([...counts])}`,
      });
      const restarted = await startReplica(victim, dir.resolve('mcp.json'), replicaEnv());
      replicas.set(victim, restarted);
      await haproxy.moveServer(victim, portOf(restarted));
      phase = 'restarted';
      gates.restarted.open();
    };
    try {
      await killAndRestart();
    } finally {
      // Whatever failed, the clients' loops end.
      phase = 'restarted';
      gates.down.open();
      gates.restarted.open();
    }

    const settled = await finished;
    expect(settled.filter((result) => result.status === 'rejected')).toEqual([]);

    // The ledger: what the upstreams executed, one line per call, by replica.
    const executed = new Map<string, string[]>();
    for (const line of (await readFile(dir.resolve('ledger.txt'), 'utf8')).split('\n')) {
      const [replica, id] = line.split(' ');
      if (!id?.startsWith('legacy') && !id?.startsWith('modern')) continue;
      executed.set(id, [...(executed.get(id) ?? []), replica!]);
    }
    const ids = new Set(attempts.map((attempt) => attempt.id));
    const answered = attempts.filter((attempt) => attempt.outcome === 'ok');
    const failed = attempts.filter((attempt) => attempt.outcome === 'failed');
    const notFound = attempts.filter((attempt) => attempt.outcome === 'not-found');

    // Nothing answered twice, nothing crossed: each answer is its own call's, executed once, where it says.
    expect(new Set(answered.map((attempt) => attempt.id)).size).toBe(answered.length);
    for (const attempt of answered) {
      const [servedBy, echoed] = attempt.answer!.split(' ');
      expect(echoed).toBe(attempt.id);
      expect(executed.get(attempt.id)).toEqual([servedBy]);
    }
    expect([...executed.values()].filter((runs) => runs.length > 1)).toEqual([]);
    // Nothing lost: every call was answered, or failed visibly while the kill was in flight.
    for (const id of ids) {
      const mine = attempts.filter((attempt) => attempt.id === id);
      expect(
        mine.some((attempt) => attempt.outcome === 'ok') || mine.some((attempt) => attempt.outcome === 'failed'),
      ).toBe(true);
    }
    // A failure is a call the kill caught in flight: started before the victim was gone, ended after the signal.
    for (const attempt of failed) {
      expect(attempt.phase === 'running' || attempt.phase === 'killing').toBe(true);
      expect(attempt.endedAfterKill).toBe(true);
      if (attempt.era === 'legacy') expect(attempt.sessionReplica).toBe(victim);
    }
    // 2026-07-28: no failure after the kill.
    expect(
      failed.filter(
        (attempt) => attempt.era === 'modern' && attempt.phase !== 'running' && attempt.phase !== 'killing',
      ),
    ).toEqual([]);
    // Legacy: 404 only for sessions on the victim, and each such client recovered on a new session.
    for (const attempt of notFound) expect(attempt.sessionReplica).toBe(victim);
    for (const name of victimSessions) {
      expect(notFound.some((a) => a.client === name && a.phase !== 'running')).toBe(true);
      expect(answered.some((a) => a.client === name && a.phase !== 'running' && a.sessionReplica !== victim)).toBe(
        true,
      );
    }
    for (const name of legacyNames.filter((n) => !victimSessions.has(n))) {
      expect(attempts.filter((a) => a.client === name && a.outcome !== 'ok')).toEqual([]);
    }
    // The restarted replica takes new work again.
    expect(answered.some((a) => a.phase === 'restarted' && a.answer!.startsWith(`${victim} `))).toBe(true);

    const row = (era: 'legacy' | 'modern') => {
      const mine = attempts.filter((attempt) => attempt.era === era);
      const served = (replica: string) =>
        mine.filter((a) => a.outcome === 'ok' && a.answer!.startsWith(`${replica} `)).length;
      const eraIds = new Set(mine.map((attempt) => attempt.id));
      return [
        era === 'legacy' ? 'legacy `/mcp` sessions (SDK v1)' : '2026-07-28 (SDK v2)',
        era === 'legacy' ? LEGACY_CLIENTS : MODERN_CLIENTS,
        eraIds.size,
        mine.filter((a) => a.outcome === 'ok').length,
        mine.filter((a) => a.outcome === 'ok' && (a.phase === 'down' || a.phase === 'restarted')).length,
        mine.filter((a) => a.outcome === 'failed').length,
        mine.filter((a) => a.outcome === 'failed' && executed.has(a.id)).length,
        mine.filter((a) => a.outcome === 'not-found').length,
        era === 'legacy' ? [...reinitialised.values()].reduce((sum, n) => sum + n, 0) : '–',
        [...eraIds].filter((id) => (executed.get(id)?.length ?? 0) > 1).length,
        [...eraIds].filter((id) => !mine.some((a) => a.id === id && (a.outcome === 'ok' || a.outcome === 'failed')))
          .length,
        REPLICAS.map(served).join(' / '),
      ].join(' | ');
    };
    console.log(
      [
        `victim: ${victim}; legacy sessions on it: ${[...victimSessions].join(', ')}`,
        '| era | clients | calls | answered | answered after the kill | failed in flight at the kill | of those, executed | 404 | re-initialised | executed twice | lost | answered by r1 / r2 / r3 |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|',
        `| ${row('legacy')} |`,
        `| ${row('modern')} |`,
      ].join('\n'),
    );
  }, 240_000);

  it('one config file for all replicas: a change to it is applied by each of them', async () => {
    const configPath = dir.resolve('mcp.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { servers: Record<string, unknown> };
    config.servers['second'] = config.servers['ledger'];
    await dir.write('mcp.json', config, { atomic: true });
    for (const name of REPLICAS) {
      const replica = replicas.get(name)!;
      await waitFor(
        async () => {
          const { status, body } = await modernCall(replica.url, `reloaded-${name}`, {}, 'second__echo');
          return status === 200 && textOf(body.result ?? {}) === `${name} reloaded-${name}`;
        },
        { timeoutMs: 30_000, message: `${name} to serve the server the config gained` },
      );
    }
  });

  it('anonymous clients behind the balancer keep budgets of their own: X-Forwarded-For from a trusted proxy', async () => {
    // A limited namespace arrives by reload, after the tests whose anonymous calls on /mcp it would limit too.
    const config = JSON.parse(await readFile(dir.resolve('mcp.json'), 'utf8')) as Record<string, unknown>;
    (config['servers'] as Record<string, unknown>)['plain'] = { command: process.execPath, args: [fixturePath('ok')] };
    config['namespaces'] = {
      anonymous: { servers: ['plain'], rate_limit: { requests_per_minute: RATE_LIMIT_PER_MINUTE } },
    };
    await dir.write('mcp.json', config, { atomic: true });
    for (const replica of replicas.values()) {
      await waitFor(
        async () => {
          const health = (await (await fetch(`${replica.url}/health`)).json()) as {
            servers: Record<string, { state: string }>;
          };
          return health.servers['plain']?.state === 'ready';
        },
        { timeoutMs: 30_000, message: 'every replica to serve the limited namespace' },
      );
    }
    // Each client comes from its own loopback address, as clients on other hosts would; HAProxy forwards for it.
    const call = async (from: string, n: number, headers: Record<string, string> = {}) =>
      (await postFrom(`${publicUrl}/ns/anonymous/message`, from, [echoCall(n)], headers)).status;
    const first = [];
    for (let n = 0; n < RATE_LIMIT_PER_MINUTE + 1; n++) first.push(await call('127.0.0.2', n));
    expect(first).toEqual([200, 200, 200, 429]);
    // Another client behind the same balancer has its whole budget, whichever replica it reaches.
    expect(await call('127.0.0.3', 10)).toBe(200);
    // The first cannot escape its budget by naming another address: HAProxy appends the address it saw.
    expect(await call('127.0.0.2', 11, { 'x-forwarded-for': '127.0.0.77' })).toBe(429);
  });

  it('/ready says 503 when the shared store is gone, so a balancer takes the replica out', async () => {
    const replica = replicas.get('r1')!;
    expect((await fetch(`${replica.url}/ready`)).status).toBe(200);
    await redis.stop();
    const ready = await waitFor(async () => {
      const response = await fetch(`${replica.url}/ready`);
      return response.status === 503 ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    expect(ready).toMatchObject({ ready: false, store: { kind: 'redis', healthy: false } });
  });
});
