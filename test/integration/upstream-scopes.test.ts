// Issue 10: per-user upstream identity, logs that reach only the sessions that own them, and the life cycle
// of per-session instances (process count back to its baseline, max_instances).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';

import type { HealthReport } from '../../src/gateway.js';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { listChildPids, zombieChildren } from '../helpers/processes.js';
import { EVERYTHING_MAIN } from '../helpers/real-servers.js';
import { createTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { bearer, textOf } from './access-helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startGateway(config: object, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const dir = await createTempDir();
  cleanups.push(() => dir[Symbol.asyncDispose]());
  const gateway = await startGatewayProcess({ configPath: await dir.write('mcp.json', config), env });
  cleanups.push(() => gateway.stop());
  await waitFor(() => gateway.stdout.some((line) => line.includes('Gateway ready')), { message: 'start-up' });
  return gateway;
}

interface Connected {
  client: Client;
  logs: { logger?: string; level: string; data: unknown }[];
  /** Ends the session the way a well-behaved client does (DELETE for Streamable HTTP). */
  end(): Promise<void>;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Connected> {
  const client = new Client({ name: 'scopes-test', version: '0.0.0' }, { capabilities: {} });
  const logs: Connected['logs'] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params);
  });
  const target = new URL(url);
  const sse = target.pathname.endsWith('/sse');
  const transport = sse
    ? new SSEClientTransport(target, { requestInit: { headers } })
    : new StreamableHTTPClientTransport(target, { requestInit: { headers } });
  await client.connect(transport);
  const connected = {
    client,
    logs,
    async end() {
      if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
  cleanups.push(() => client.close());
  return connected;
}

async function health(gateway: GatewayProcess): Promise<HealthReport> {
  return (await (await fetch(`${gateway.url}/health`)).json()) as HealthReport;
}

function okServer(name: string, extra: object = {}): object {
  return { command: process.execPath, args: [fixturePath('ok')], env: { FIXTURE_NAME: name }, ...extra };
}

describe('per-user upstream identity', () => {
  const ALICE_VALUE = 'alice-own-github-token-5e1d';
  const BOB_VALUE = 'bob-own-github-token-93fa';

  it("gives each credential its own instance with its own env: get-env shows each user their value, never the other's", async () => {
    const gateway = await startGateway(
      {
        servers: {
          everything: {
            command: process.execPath,
            args: [EVERYTHING_MAIN, 'stdio'],
            env: { USER_TOKEN: 'the-servers-default-value' },
            scope: 'credential',
          },
        },
        auth: {
          require_auth: false,
          tokens: [
            {
              id: 'alice',
              token: '${ALICE_TOKEN}',
              upstreams: { everything: { env: { USER_TOKEN: '${ALICE_GH}' } } },
            },
            { id: 'bob', token: '${BOB_TOKEN}', upstreams: { everything: { env: { USER_TOKEN: '${BOB_GH}' } } } },
          ],
        },
      },
      {
        ALICE_TOKEN: 'alice-gateway-token-0c6b1f',
        BOB_TOKEN: 'bob-gateway-token-7d2e9a4c',
        ALICE_GH: ALICE_VALUE,
        BOB_GH: BOB_VALUE,
      },
    );
    const url = `${gateway.url}/mcp`;
    const users = {
      alice: await connect(url, bearer('alice-gateway-token-0c6b1f')),
      alice2: await connect(`${gateway.url}/sse`, bearer('alice-gateway-token-0c6b1f')),
      bob: await connect(url, bearer('bob-gateway-token-7d2e9a4c')),
      anonymous: await connect(url),
    };
    const expected = {
      alice: ALICE_VALUE,
      alice2: ALICE_VALUE,
      bob: BOB_VALUE,
      anonymous: 'the-servers-default-value',
    };
    const rounds = await Promise.all(
      Object.entries(users).flatMap(([who, { client }]) =>
        Array.from({ length: 5 }, async () => {
          const env = JSON.parse(textOf(await client.callTool({ name: 'everything__get-env', arguments: {} }))) as {
            USER_TOKEN?: string;
          };
          return { who, value: env.USER_TOKEN };
        }),
      ),
    );
    for (const { who, value } of rounds) expect(value).toBe(expected[who as keyof typeof expected]);

    // Three instances: alice's two sessions share one, bob has his own, anonymous clients theirs.
    const report = await health(gateway);
    const instances = report.servers.everything?.instances?.map((instance) => instance.owner).sort();
    expect(instances).toEqual(['anonymous', 'credential:alice', 'credential:bob']);
    expect(report.servers.everything?.scope).toBe('credential');
    // The users' own values are secrets like the server's: masked in every log line.
    for (const line of gateway.stdout) {
      expect(line).not.toContain(ALICE_VALUE);
      expect(line).not.toContain(BOB_VALUE);
    }
  });

  it('refuses per-user values for a shared server, naming the field and the fix', async () => {
    const dir = await createTempDir();
    cleanups.push(() => dir[Symbol.asyncDispose]());
    const configPath = await dir.write('mcp.json', {
      servers: { gh: okServer('gh') },
      auth: { tokens: [{ id: 'alice', token: 'alice-gateway-token-0c6b1f', upstreams: { gh: { env: { T: 'x' } } } }] },
    });
    const gateway = await startGatewayProcess({ configPath, startTimeoutMs: 30_000 }).catch((error: Error) => error);
    expect(gateway).toBeInstanceOf(Error);
    expect((gateway as Error).message).toMatch(/auth\.tokens\[0\]\.upstreams\.gh.*shared by every client.*scope/s);
  });
});

describe('logs reach only the sessions that own them', () => {
  it("an isolated namespace's server logs: never seen anonymously or from another namespace, on any transport", async () => {
    const ROOT = 'root-gateway-token-4b8c2e';
    const BOB = 'bob-gateway-token-7d2e9a4c';
    const gateway = await startGateway(
      {
        servers: { vaultsrv: okServer('vaultsrv'), pub: okServer('pub'), teamsrv: okServer('teamsrv') },
        namespaces: {
          vault: { servers: ['vaultsrv'], isolated: true },
          team: { servers: ['teamsrv'], require_auth: true },
        },
        auth: {
          require_auth: false,
          tokens: [
            { id: 'root', token: '${ROOT}', namespaces: ['vault'] },
            { id: 'bob', token: '${BOB}', namespaces: ['team'] },
          ],
        },
      },
      { ROOT, BOB },
    );
    const owner = await connect(`${gateway.url}/ns/vault/mcp`, bearer(ROOT));
    const ownerSse = await connect(`${gateway.url}/ns/vault/sse`, bearer(ROOT));
    const outsiders = {
      anonymousMcp: await connect(`${gateway.url}/mcp`),
      anonymousSse: await connect(`${gateway.url}/sse`),
      bobTeam: await connect(`${gateway.url}/ns/team/mcp`, bearer(BOB)),
      bobTeamSse: await connect(`${gateway.url}/ns/team/sse`, bearer(BOB)),
      bobAll: await connect(`${gateway.url}/mcp`, bearer(BOB)),
    };
    for (const session of [owner, ownerSse, ...Object.values(outsiders)]) {
      await session.client.setLoggingLevel('debug');
    }
    // During a call and after it (tied to no call), from the owner's session.
    await owner.client.callTool({
      name: 'vaultsrv__log',
      arguments: { message: 'vault secret during call', level: 'info' },
    });
    await owner.client.callTool({
      name: 'vaultsrv__log_later',
      arguments: { message: 'vault secret later', levels: ['info', 'error'] },
    });
    // Controls: each outsider does receive the logs of a server it may see, so silence about the vault means
    // something. Anonymous sessions see `pub`; bob's team sessions see `teamsrv`; bob on /mcp sees both.
    await outsiders.anonymousMcp.client.callTool({
      name: 'pub__log_later',
      arguments: { message: 'public news', levels: ['info'] },
    });
    await outsiders.bobTeam.client.callTool({
      name: 'teamsrv__log_later',
      arguments: { message: 'team news', levels: ['info'] },
    });
    await waitFor(() => owner.logs.filter((log) => String(log.data).includes('vault secret later')).length === 2, {
      message: 'the owner to receive the later vault logs',
    });
    const control: Record<keyof typeof outsiders, string> = {
      anonymousMcp: 'public news',
      anonymousSse: 'public news',
      bobTeam: 'team news',
      bobTeamSse: 'team news',
      bobAll: 'team news',
    };
    await waitFor(
      () =>
        Object.entries(outsiders).every(([name, session]) =>
          session.logs.some((log) => String(log.data).includes(control[name as keyof typeof outsiders])),
        ),
      { message: 'every outsider to receive its control log' },
    );
    expect(outsiders.anonymousMcp.logs.some((log) => String(log.data).includes('team news'))).toBe(false);
    expect(owner.logs.map((log) => String(log.data))).toContain('vault secret during call');
    // A session of the same credential on another transport may see the vault: it gets the log of no call.
    expect(ownerSse.logs.some((log) => String(log.data).includes('vault secret later'))).toBe(true);
    for (const [name, session] of Object.entries(outsiders)) {
      const leaked = session.logs.filter(
        (log) => String(log.data).includes('vault') || log.logger?.startsWith('vaultsrv'),
      );
      expect(leaked, `${name} received vault logs`).toEqual([]);
    }
  });

  it("setLevel is per session: one session's level never changes what another receives", async () => {
    const gateway = await startGateway({ servers: { pub: okServer('pub') } });
    const quiet = await connect(`${gateway.url}/mcp`);
    const chatty = await connect(`${gateway.url}/sse`);
    const untouched = await connect(`${gateway.url}/mcp`);
    await quiet.client.setLoggingLevel('error');
    await chatty.client.setLoggingLevel('debug');
    const emit = async (tag: string) => {
      await quiet.client.callTool({
        name: 'pub__log_later',
        arguments: { message: tag, levels: ['debug', 'info', 'error'], delayMs: 10 },
      });
      await waitFor(
        () => chatty.logs.filter((log) => String(log.data).startsWith(tag)).length === 3 || chatty.logs.length > 100,
        {
          message: `the ${tag} messages`,
        },
      );
    };
    const levelsOf = (session: Connected, tag: string) =>
      session.logs.filter((log) => String(log.data).startsWith(tag)).map((log) => log.level);

    await emit('round1');
    expect(levelsOf(chatty, 'round1')).toEqual(['debug', 'info', 'error']);
    await waitFor(() => levelsOf(quiet, 'round1').length === 1 && levelsOf(untouched, 'round1').length === 2);
    expect(levelsOf(quiet, 'round1')).toEqual(['error']);
    // A session that never set a level receives info and above, whatever the others asked for.
    expect(levelsOf(untouched, 'round1')).toEqual(['info', 'error']);

    // The chatty client goes quiet; the others keep what they had.
    await chatty.client.setLoggingLevel('emergency');
    await quiet.client.callTool({
      name: 'pub__log_later',
      arguments: { message: 'round2', levels: ['debug', 'info', 'error'], delayMs: 10 },
    });
    await waitFor(() => levelsOf(quiet, 'round2').length === 1 && levelsOf(untouched, 'round2').length === 2, {
      message: 'round 2 to arrive',
    });
    expect(levelsOf(quiet, 'round2')).toEqual(['error']);
    expect(levelsOf(untouched, 'round2')).toEqual(['info', 'error']);
    expect(levelsOf(chatty, 'round2')).toEqual([]);
  });
});

describe('per-session instances', () => {
  it('50 sessions open and close: one process each while open, back to the baseline after, no zombies', async () => {
    const gateway = await startGateway({ servers: { mine: okServer('mine', { scope: 'session' }) } });
    // The start-up probe has come and gone.
    await waitFor(() => listChildPids(gateway.pid).length === 0, { message: 'the probe to stop' });
    const baseline = listChildPids(gateway.pid, { recursive: true }).length;
    const sessions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => connect(`${gateway.url}/${i % 2 === 0 ? 'mcp' : 'sse'}`)),
    );
    // Ten instances start at a time: fifty node processes starting at once on two cores prove nothing more.
    const pids: number[] = [];
    for (let batch = 0; batch < sessions.length; batch += 10) {
      const started = await Promise.all(
        sessions.slice(batch, batch + 10).map(async ({ client }) => {
          const result = await client.callTool({ name: 'mine__whoami', arguments: {} });
          return (JSON.parse(textOf(result)) as { pid: number }).pid;
        }),
      );
      pids.push(...started);
    }
    expect(new Set(pids).size).toBe(50);
    expect((await health(gateway)).servers.mine?.instanceCount).toBe(50);
    await Promise.all(sessions.map((session) => session.end()));
    await waitFor(() => listChildPids(gateway.pid, { recursive: true }).length === baseline, {
      timeoutMs: 20_000,
      message: () =>
        `the process count to return to ${baseline} (now ${listChildPids(gateway.pid, { recursive: true }).length})`,
    });
    // An exited child is a zombie until the gateway's event loop reaps it, a moment later: none may stay.
    await waitFor(() => zombieChildren(gateway.pid).length === 0, {
      message: () => `the gateway to reap its children (zombies: ${zombieChildren(gateway.pid).join(', ')})`,
    });
    await waitFor(async () => (await health(gateway)).servers.mine?.instanceCount === 0, { message: 'no instances' });
  }, 180_000);

  it('max_instances: the next session gets a clear error, and an instance once a session has ended', async () => {
    const gateway = await startGateway({ servers: { few: okServer('few', { scope: 'session', max_instances: 2 }) } });
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => connect(`${gateway.url}/mcp`)));
    await first!.client.callTool({ name: 'few__echo', arguments: { message: 'one' } });
    await second!.client.callTool({ name: 'few__echo', arguments: { message: 'two' } });
    await expect(third!.client.callTool({ name: 'few__echo', arguments: { message: 'three' } })).rejects.toThrow(
      /server "few" already runs 2 instances \(its max_instances/,
    );
    await first!.end();
    const answer = await waitFor(
      () => third!.client.callTool({ name: 'few__echo', arguments: { message: 'three' } }).catch(() => undefined),
      { message: 'an instance for the third session' },
    );
    expect(textOf(answer)).toBe('three');
  });
});
