import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ServerConfig } from '../../config/model.js';
import { runCheckCommand } from './check.js';

describe('runCheckCommand', () => {
  let dir: string;
  let out: string;
  let err: string;
  const io = {
    out: (text: string) => void (out += text),
    err: (text: string) => void (err += text),
  };
  const write = async (text: string): Promise<string> => {
    const file = join(dir, 'mcp-servers.json');
    await writeFile(file, text);
    return file;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcproxy-check-'));
    out = '';
    err = '';
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints OK with the server names', async () => {
    const file = await write('{"servers":{"a":{"command":"x"},"b":{"command":"y","enabled":false}}}');
    expect(await runCheckCommand(file, {}, io)).toBe(0);
    expect(out).toBe('OK: 2 servers (a, b [disabled])\n');
    expect(err).toBe('');
  });

  it('prints every problem and returns 1', async () => {
    const file = await write('{"servers":{"a":{"comand":"x","timeout":"5"}}}');
    expect(await runCheckCommand(file, {}, io)).toBe(1);
    expect(err.trimEnd().split('\n')).toEqual([
      `${file}:1:18: servers.a.comand: unknown field; did you mean "command"?`,
      `${file}:1:31: servers.a.timeout: expected number, received string`,
    ]);
    expect(out).toBe('');
  });

  it('fails a config with no servers, saying what to do', async () => {
    for (const text of ['', '{}', '{"servers":{}}', '{"mcpServers":{}}']) {
      err = '';
      const file = await write(text);
      expect(await runCheckCommand(file, {}, io), JSON.stringify(text)).toBe(1);
      expect(err).toContain(`${file}: no servers configured`);
    }
  });

  it('says which servers are still starting while it waits', async () => {
    const file = await write('{"servers":{"quick":{"command":"a"},"slow":{"command":"b"}}}');
    const startServer = async (server: ServerConfig) => {
      await new Promise((resolve) => setTimeout(resolve, server.name === 'slow' ? 120 : 1));
      return { toolCount: 1 };
    };
    const deps = { startServer, progressAfterMs: 30, progressEveryMs: 1_000 };
    expect(await runCheckCommand(file, { start: true }, io, deps)).toBe(0);
    expect(err).toMatch(/^still starting after \d+ s: slow\n$/);
  });

  it('says when the file is missing', async () => {
    expect(await runCheckCommand(join(dir, 'none.json'), {}, io)).toBe(1);
    expect(err).toContain('config file not found');
  });

  it('starts the enabled servers in parallel and reports each in config order', async () => {
    const file = await write(
      '{"servers":{"slow":{"command":"a"},"bad":{"command":"b"},"off":{"command":"c","enabled":false},"one":{"command":"d"}}}',
    );
    const started: string[] = [];
    let running = 0;
    let peak = 0;
    const startServer = async (server: ServerConfig) => {
      started.push(server.name);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, server.name === 'slow' ? 20 : 1));
      running--;
      if (server.name === 'bad') throw new Error('spawn b ENOENT');
      return { toolCount: server.name === 'one' ? 1 : 12 };
    };
    expect(await runCheckCommand(file, { start: true }, io, { startServer })).toBe(1);
    expect(started).toEqual(['slow', 'bad', 'one']);
    expect(peak).toBe(3);
    expect(out).toBe(
      'OK: 4 servers (slow, bad, off [disabled], one)\nslow: 12 tools\nbad: FAILED spawn b ENOENT\none: 1 tool\n',
    );
  });

  it('returns 0 when every server starts', async () => {
    const file = await write('{"mcpServers":{"a":{"command":"x"}}}');
    expect(await runCheckCommand(file, { start: true }, io, { startServer: async () => ({ toolCount: 3 }) })).toBe(0);
    expect(out).toBe('OK: 1 server (a)\na: 3 tools\n');
  });
});
