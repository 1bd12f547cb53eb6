import { afterEach, describe, expect, it } from 'vitest';

import { startGatewayProcess, startGatewayStdio } from '../helpers/gateway-process.js';
import { fixturePath } from '../helpers/paths.js';
import { forceKill, isAlive, listChildPids, readFixtureEvents } from '../helpers/processes.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

// No orphans, ever: a server that ignores SIGTERM and one that leaves a grandchild behind are both ended.

const node = process.execPath;
let dir: TempDir | undefined;
const leftovers: number[] = [];

afterEach(async () => {
  forceKill(leftovers.splice(0));
  await dir?.[Symbol.asyncDispose]();
  dir = undefined;
});

async function stubbornConfig(): Promise<{ configPath: string; eventsFile: string }> {
  dir = await createTempDir();
  const eventsFile = dir.resolve('events.log');
  const env = { FIXTURE_EVENTS_FILE: eventsFile };
  const configPath = await dir.write('mcp.json', {
    servers: {
      ok: { command: node, args: [fixturePath('ok')] },
      stubborn: { command: node, args: [fixturePath('ignores-sigterm')], env },
      parent: { command: node, args: [fixturePath('spawns-child')], env: { ...env, GRANDCHILD_STDIO: 'inherit' } },
    },
  });
  return { configPath, eventsFile };
}

async function grandchildPid(eventsFile: string): Promise<number> {
  const event = await waitFor(async () => (await readFixtureEvents(eventsFile)).find((e) => e.event === 'GRANDCHILD'), {
    message: 'the grandchild was spawned',
  });
  return Number(event.value);
}

describe('shutdown', () => {
  it('on SIGTERM exits 0 by itself and leaves none of its servers or their children behind', async () => {
    const { configPath, eventsFile } = await stubbornConfig();
    const gateway = await startGatewayProcess({ configPath });
    await waitFor(async () => {
      const report = (await (await fetch(`${gateway.url}/health`)).json()) as { status: string };
      return report.status === 'ok';
    });
    const descendants = listChildPids(gateway.pid, { recursive: true });
    const grandchild = await grandchildPid(eventsFile);
    leftovers.push(...descendants, grandchild);
    expect(descendants.length).toBeGreaterThanOrEqual(4);
    expect(descendants).toContain(grandchild);

    // Exit code 0 and no signal: the gateway ended its stubborn servers and exited before stop() gave up
    // waiting and sent SIGKILL.
    const exit = await gateway.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(descendants.filter(isAlive)).toEqual([]);
    expect((await readFixtureEvents(eventsFile)).some((e) => e.event === 'SIGTERM')).toBe(true);
  });

  it('with --stdio, exits and ends its servers when the client closes stdin', async () => {
    const { configPath, eventsFile } = await stubbornConfig();
    const gateway = await startGatewayStdio({ configPath });
    await waitFor(async () => (await gateway.client.listTools()).tools.some((tool) => tool.name === 'parent__echo'));
    const descendants = listChildPids(gateway.pid, { recursive: true });
    leftovers.push(...descendants, await grandchildPid(eventsFile));
    expect(descendants.length).toBeGreaterThanOrEqual(4);
    await gateway.close();
    await waitFor(() => descendants.filter(isAlive).length === 0, { message: 'every server process ended' });
    expect(isAlive(gateway.pid)).toBe(false);
  });
});
