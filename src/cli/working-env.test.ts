import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadWorkingDirEnv } from './working-env.js';

const NAMES = ['MCPROXY_WD_TEST_A', 'MCPROXY_WD_TEST_B'];

describe('loadWorkingDirEnv', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcproxy-wd-'));
    await writeFile(join(dir, '.env'), 'MCPROXY_WD_TEST_A=from-file\nMCPROXY_WD_TEST_B=from-file\n');
  });
  afterEach(async () => {
    for (const name of NAMES) delete process.env[name];
    await rm(dir, { recursive: true, force: true });
  });

  it('sets what the environment does not have, and never overrides it', () => {
    process.env['MCPROXY_WD_TEST_B'] = 'real';
    expect(loadWorkingDirEnv('/elsewhere/mcp-servers.json', dir)).toEqual(['MCPROXY_WD_TEST_A']);
    expect(process.env['MCPROXY_WD_TEST_A']).toBe('from-file');
    expect(process.env['MCPROXY_WD_TEST_B']).toBe('real');
  });

  it('leaves the .env beside the config to the loader, which reads it on every reload', () => {
    expect(loadWorkingDirEnv(join(dir, 'mcp-servers.json'), dir)).toEqual([]);
    expect(process.env['MCPROXY_WD_TEST_A']).toBeUndefined();
  });

  it('does nothing without a .env', async () => {
    await rm(join(dir, '.env'));
    expect(loadWorkingDirEnv(undefined, dir)).toEqual([]);
  });
});
