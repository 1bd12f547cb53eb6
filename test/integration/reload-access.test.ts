// Issue 11: a reload narrows open sessions at once, on every transport. Before, a credential that lost its
// namespace (or gained `deny: ["*"]`) kept calling the tools from the sessions it had open.
import { afterEach, describe, expect, it } from 'vitest';

import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { ACCESS_ENV, bearer, connectHttp, connectSse, householdConfig, TOKENS, toolNames } from './access-helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(config: object): Promise<{ gateway: GatewayProcess; dir: TempDir; configPath: string }> {
  const dir = await createTempDir();
  cleanups.push(() => dir[Symbol.asyncDispose]());
  const configPath = await dir.write('mcp.json', config);
  const gateway = await startGatewayProcess({ configPath, env: ACCESS_ENV, args: ['--reload-interval', '0.3'] });
  cleanups.push(() => gateway.stop());
  await waitFor(() => gateway.stdout.some((line) => /Watching .* for changes/.test(line)), { message: 'reloader' });
  return { gateway, dir, configPath };
}

async function reload(gateway: GatewayProcess, dir: TempDir, config: object): Promise<void> {
  const before = gateway.stdout.filter((line) => line.includes('Config reloaded')).length;
  await dir.write('mcp.json', config);
  await waitFor(() => gateway.stdout.filter((line) => line.includes('Config reloaded')).length > before, {
    message: 'the reload to apply',
  });
}

describe('a reload re-evaluates open sessions', () => {
  it('after bob loses the crypto namespace, his open /mcp, /sse and /ns/crypto sessions can no longer reach it', async () => {
    const { gateway, dir } = await start(householdConfig());
    const auth = bearer(TOKENS.BOB_TOKEN);
    const sessions = {
      mcp: await connectHttp(`${gateway.url}/mcp`, auth),
      sse: await connectSse(`${gateway.url}/sse`, auth),
      nsMcp: await connectHttp(`${gateway.url}/ns/crypto/mcp`, auth),
      nsSse: await connectSse(`${gateway.url}/ns/crypto/sse`, auth),
    };
    for (const client of Object.values(sessions)) {
      cleanups.push(() => client.close().catch(() => {}));
      expect(await toolNames(client)).toContain('covalent__echo');
      await client.callTool({ name: 'covalent__echo', arguments: { message: 'before' } });
    }

    const narrowed = householdConfig();
    const tokens = (narrowed.auth as { tokens: { id: string; namespaces: string[] }[] }).tokens;
    tokens.find((token) => token.id === 'bob')!.namespaces = ['public'];
    await reload(gateway, dir, narrowed);

    // The gateway-wide sessions keep what is left (public's wiki) and lose crypto's covalent.
    for (const client of [sessions.mcp, sessions.sse]) {
      const names = await toolNames(client);
      expect(names).not.toContain('covalent__echo');
      expect(names).toContain('wiki__echo');
      await expect(client.callTool({ name: 'covalent__echo', arguments: { message: 'after' } })).rejects.toThrow(
        /unknown tool "covalent__echo"/,
      );
    }
    // The namespace's own sessions have nothing left: they were ended.
    for (const client of [sessions.nsMcp, sessions.nsSse]) {
      await expect(client.callTool({ name: 'covalent__echo', arguments: { message: 'after' } })).rejects.toThrow();
      await expect(client.listTools()).rejects.toThrow();
    }
    expect(gateway.stdout.filter((line) => line.includes('ended by the reload')).length).toBe(2);
  });

  it('after a deny-all rule is added to a credential, its open sessions list and call nothing', async () => {
    const { gateway, dir } = await start(householdConfig());
    const mcp = await connectHttp(`${gateway.url}/mcp`, bearer(TOKENS.ALICE_TOKEN));
    const sse = await connectSse(`${gateway.url}/sse`, bearer(TOKENS.ALICE_TOKEN));
    cleanups.push(
      () => mcp.close(),
      () => sse.close(),
    );
    expect(await toolNames(mcp)).toContain('wiki__echo');

    const denied = householdConfig();
    const tokens = (denied.auth as { tokens: { id: string; tools?: object }[] }).tokens;
    tokens.find((token) => token.id === 'alice')!.tools = { deny: ['*'] };
    await reload(gateway, dir, denied);

    for (const client of [mcp, sse]) {
      expect(await toolNames(client)).toEqual([]);
      await expect(client.callTool({ name: 'wiki__echo', arguments: { message: 'x' } })).rejects.toThrow(
        /unknown tool/,
      );
    }
  });
});
