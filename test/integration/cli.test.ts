import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixturePath, GATEWAY_MAIN } from '../helpers/paths.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function mcproxy(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GATEWAY_MAIN, ...args], {
      timeout: 60_000,
      env: { PATH: process.env.PATH },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: TempDir;
beforeAll(async () => {
  dir = await createTempDir();
});
afterAll(async () => {
  await dir?.[Symbol.asyncDispose]();
});

describe('mcproxy check', () => {
  it('rejects a typo’d field, naming the file, the field path and the right name', async () => {
    const path = await dir.write('typo.json', { servers: { github: { comand: 'node' } } });
    const { code, stderr } = await mcproxy('check', path);
    expect(code).toBe(1);
    expect(stderr).toContain(path);
    expect(stderr).toMatch(/servers\.github\.comand: unknown field; did you mean "command"\?/);
  });

  it('rejects a missing environment variable, naming it and where it is used', async () => {
    const path = await dir.write('missing-var.json', {
      servers: { github: { command: 'node', env: { TOKEN: '${MCPROXY_SURELY_UNSET_VAR}' } } },
    });
    const { code, stderr } = await mcproxy('check', path);
    expect(code).toBe(1);
    expect(stderr).toContain(path);
    expect(stderr).toContain('servers.github.env.TOKEN');
    expect(stderr).toContain('MCPROXY_SURELY_UNSET_VAR');
  });

  it('rejects a wrong type, with file, path and what was expected', async () => {
    const path = await dir.write('wrong-type.json', {
      servers: [{ name: 'github', command: 'node', timeout: 'soon' }],
    });
    const { code, stderr } = await mcproxy('check', path);
    expect(code).toBe(1);
    expect(stderr).toContain(path);
    expect(stderr).toMatch(/servers\[0\] \(github\)\.timeout: .*number/);
  });

  it('lists every error at once', async () => {
    const path = await dir.write('many.yaml', 'servers:\n  a:\n    comand: x\n  b:\n    command: y\n    timeout: no\n');
    const { code, stderr } = await mcproxy('check', path);
    expect(code).toBe(1);
    expect(stderr).toContain('servers.a.comand');
    expect(stderr).toContain('servers.b.timeout');
  });

  it('accepts a valid file and, with --start, starts each server and prints its tool count', async () => {
    const path = await dir.write('good.json', {
      mcpServers: {
        ok: { command: process.execPath, args: [fixturePath('ok')] },
        broken: { command: process.execPath, args: [fixturePath('fails-to-start')] },
      },
    });
    const { code, stdout } = await mcproxy('check', path, '--start');
    expect(stdout).toContain('OK: 2 servers (ok, broken)');
    expect(stdout).toMatch(/ok: \d+ tools/);
    expect(stdout).toMatch(/broken: FAILED .*exited with code 1/);
    expect(code).toBe(1);
  });
});

describe('mcproxy', () => {
  it('prints the JSON Schema of the config', async () => {
    const { code, stdout } = await mcproxy('schema');
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['servers', 'mcpServers', 'sandbox']));
  });

  it('prints help and version, and refuses unknown flags with exit 2', async () => {
    expect((await mcproxy('--help')).stdout).toContain('--reload-interval');
    expect((await mcproxy('--version')).stdout).toMatch(/^mcproxy \d+\.\d+\.\d+/);
    const bad = await mcproxy('--prot', '1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--prot'");
  });

  it('exits 1 with the problem when the config is missing or invalid at start-up', async () => {
    const missing = await mcproxy('--config', dir.resolve('nope.json'), '--port', '0');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.json');
  });
});
