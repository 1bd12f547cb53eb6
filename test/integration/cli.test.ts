import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixturePath, GATEWAY_MAIN, REPO_ROOT } from '../helpers/paths.js';
import { isAlive } from '../helpers/processes.js';
import { createTempDir, type TempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function mcproxy(...args: string[]): Promise<Outcome> {
  try {
    // HOME for npx's cache; the working directory is the repository, where npx finds the servers installed.
    const { stdout, stderr } = await run(process.execPath, [GATEWAY_MAIN, ...args], {
      timeout: 90_000,
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Processes of a group that still run (zombies have exited; an init that does not reap leaves them). */
function liveMembersOf(group: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === group && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
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

describe('mcproxy check --start with npx-wrapped servers', () => {
  it('waits for every server, names the broken one and quotes its real error, exits 1', async () => {
    const npx = (...args: string[]) => ({ command: 'npx', args: ['-y', ...args] });
    const path = await dir.write('npx.json', {
      servers: {
        everything: npx('@modelcontextprotocol/server-everything', 'stdio'),
        thinking: npx('@modelcontextprotocol/server-sequential-thinking'),
        files: npx('@modelcontextprotocol/server-filesystem', dir.resolve('no-such-folder')),
        keyless: npx(
          '-p',
          '@modelcontextprotocol/server-memory',
          'node',
          '-e',
          'throw new Error("API_KEY is not set")',
        ),
      },
    });
    const { code, stdout } = await mcproxy('check', path, '--start');
    expect(stdout).toContain('OK: 4 servers (everything, thinking, files, keyless)');
    expect(stdout).toMatch(/^everything: \d+ tools$/m);
    expect(stdout).toMatch(/^thinking: 1 tool$/m);
    expect(stdout).toMatch(
      /^files: FAILED server "files" exited with code 1 during start-up \(its last words: Error: None of the specified directories are accessible\)$/m,
    );
    expect(stdout).toMatch(/^keyless: FAILED .*its last words: Error: API_KEY is not set\)$/m);
    expect(stdout).not.toContain('Node.js v');
    expect(code).toBe(1);
  });

  it('reads the .env of the working directory and the one beside the config', async () => {
    const project = await createTempDir();
    try {
      await project.write('.env', `MCPROXY_NODE=${process.execPath}\n`);
      await project.write('conf/.env', `MCPROXY_FIXTURE=${fixturePath('ok')}\n`);
      const path = await project.write('conf/mcp-servers.json', {
        servers: { ok: { command: '${MCPROXY_NODE}', args: ['${MCPROXY_FIXTURE}'] } },
      });
      const { stdout } = await run(process.execPath, [GATEWAY_MAIN, 'check', path, '--start'], {
        cwd: project.path,
        env: { PATH: process.env.PATH },
        timeout: 60_000,
      });
      expect(stdout).toMatch(/^ok: \d+ tools$/m);
    } finally {
      await project[Symbol.asyncDispose]();
    }
  });

  it('fails a config with no servers', async () => {
    const path = await dir.write('empty.json', '{}\n');
    const { code, stderr } = await mcproxy('check', path);
    expect(code).toBe(1);
    expect(stderr).toContain(`${path}: no servers configured`);
  });
});

describe('the library with npx-wrapped servers', () => {
  it('gateway.close() returns, and leaves no process of any server behind', async () => {
    // Run from inside the package, where 'mcproxy' resolves to itself and npx finds the installed servers.
    const script = join(REPO_ROOT, 'test-output', 'close-with-npx.mjs');
    await mkdir(dirname(script), { recursive: true });
    await writeFile(
      script,
      `import { Gateway, loadConfig } from 'mcproxy';
const gateway = new Gateway({ config: await loadConfig(${JSON.stringify(join(REPO_ROOT, 'config/mcp-servers.example.json'))}) });
await gateway.start();
console.log(JSON.stringify(gateway.listServers().map((upstream) => upstream.pid)));
await gateway.close();
console.log('closed');
`,
    );
    const { stdout } = await run(process.execPath, [script], {
      cwd: REPO_ROOT,
      timeout: 90_000,
      env: { ...process.env, MCPROXY_FS_ROOT: dir.path, MCPROXY_DATA_DIR: dir.path },
    });
    const [pids, closed] = stdout.trim().split('\n');
    const groups = JSON.parse(pids!) as number[];
    expect(groups).toHaveLength(4);
    expect(closed).toBe('closed');
    for (const group of groups) {
      expect(isAlive(group), `npx leader ${group}`).toBe(false);
      expect(liveMembersOf(group), `process group ${group}`).toEqual([]);
    }
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

  it('has a help text per command, and refuses options a command does not take', async () => {
    const check = await mcproxy('check', '--help');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^mcproxy check \[CONFIG\] \[--start\]\n/);
    expect(check.stdout).not.toContain('--reload-interval');
    expect((await mcproxy('help', 'client-config')).stdout).toContain('--token-env VAR');
    const wrong = await mcproxy('check', '--port', '1');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('mcproxy check takes no --port');
  });

  it('refuses an empty --port instead of binding a random port', async () => {
    const { code, stderr } = await mcproxy('--port', '', '--config', dir.resolve('none.json'));
    expect(code).toBe(2);
    expect(stderr).toContain('--port must be a number 0–65535, got ""');
  });

  it('names only real npm packages in the README and the example config (installed here for the tests)', async () => {
    const { devDependencies } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const texts = await Promise.all(
      ['README.md', 'config/mcp-servers.example.json'].map((file) => readFile(join(REPO_ROOT, file), 'utf8')),
    );
    const named = texts.flatMap((text) => [...text.matchAll(/"-y",\s*"(@?[\w./-]+)"/g)].map((match) => match[1]!));
    expect(named.length).toBeGreaterThanOrEqual(6);
    for (const name of named) expect(Object.keys(devDependencies), name).toContain(name);
  });

  it('prints the JSON Schema that is checked in for editors', async () => {
    const { stdout } = await mcproxy('schema');
    const checkedIn = await readFile(join(REPO_ROOT, 'config/mcp-servers.schema.json'), 'utf8');
    expect(JSON.parse(stdout)).toEqual(JSON.parse(checkedIn));
  });

  it('exits 1 with the problem when the config is missing or invalid at start-up', async () => {
    const missing = await mcproxy('--config', dir.resolve('nope.json'), '--port', '0');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.json');
  });
});
