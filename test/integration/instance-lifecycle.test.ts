// One upstream instance against real fixture processes: what a close does to a start or restart under way.
import { readFile } from 'node:fs/promises';

import { afterEach, describe, expect, it } from 'vitest';

import { parseConfigText } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/model.js';
import { createSilentLogger } from '../../src/observability/log.js';
import { UpstreamInstance } from '../../src/upstream/instance.js';
import { UpstreamServer } from '../../src/upstream/upstream-server.js';
import { fixturePath } from '../helpers/paths.js';
import { forceKill, isAlive, listChildPids } from '../helpers/processes.js';
import { createTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function serverConfig(entry: Record<string, unknown>): ServerConfig {
  const config = parseConfigText(JSON.stringify({ mcpServers: { s: entry } }), { env: {} });
  return config.servers[0]!;
}

function instanceOf(config: ServerConfig): UpstreamInstance {
  const instance = new UpstreamInstance(config, {
    key: 'shared',
    clientCapabilities: {},
    events: {},
    log: createSilentLogger(),
  });
  // kill() too: a process started after the close (the bug this file tests) would outlive the test.
  cleanups.push(() => {
    instance.kill();
    return instance.close();
  });
  return instance;
}

describe('an instance closed while it restarts', () => {
  it('starts no new process when it is closed while an operator restart stops the old one', async () => {
    // Before, the restart went on after the close: a new server ran, 'ready', for an instance that was stopped.
    const dir = await createTempDir();
    cleanups.push(() => dir[Symbol.asyncDispose]());
    const events = dir.resolve('events.txt');
    // It ignores stdin's end and SIGTERM, so that stopping the old process takes a while (until SIGKILL).
    const instance = instanceOf(
      serverConfig({
        command: process.execPath,
        args: [fixturePath('ignores-sigterm')],
        env: { FIXTURE_EVENTS_FILE: events },
      }),
    );
    await instance.start();
    expect(instance.state).toBe('ready');
    const first = instance.pid!;

    const restarting = instance.restart();
    await instance.close();
    await restarting;

    expect(instance.state).toBe('stopped');
    expect(instance.pid).toBeUndefined();
    expect(isAlive(first)).toBe(false);
    const started = (await readFile(events, 'utf8')).split('\n').filter((line) => line.startsWith('STARTED'));
    expect(started).toHaveLength(1);
  });
});

describe('a scoped server closed while its probe starts', () => {
  it('stops the probe with the server, so that no server process outlives it', async () => {
    // Before, the probe was no instance of the server's: its close (a reload's removal, a shutdown) and kill()
    // left it starting until its start_timeout, and a gateway that exited meanwhile left its process behind.
    const server = new UpstreamServer(
      serverConfig({
        command: process.execPath,
        args: [fixturePath('never-answers')],
        env: { HANG_ON_INIT: '1' },
        scope: 'session',
        timeout: 600,
      }),
      { events: {}, log: createSilentLogger(), identityOf: () => undefined },
    );
    const before = new Set(listChildPids(process.pid));
    const started = server.start();
    const probe = listChildPids(process.pid).filter((pid) => !before.has(pid));
    cleanups.push(() => forceKill(probe.filter(isAlive)));
    expect(probe).toHaveLength(1);
    expect(server.state).toBe('starting');

    await server.close();
    expect(isAlive(probe[0]!)).toBe(false);
    await started;
    expect(server.state).toBe('stopped');
  });
});
