import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { parseCliArgs } from '../../src/cli/args.js';
import { freePort } from '../helpers/ports.js';

// What this machine allows: systemd-analyze verifies the unit; the Quadlet file, Containerfile and compose file
// are parsed and checked. No container engine runs here, so no image is built and no container started.

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/** Quadlet's [Container] keys (podman-systemd.unit(5)) this project may use; a typo would be ignored silently. */
const QUADLET_CONTAINER_KEYS = new Set([
  'Image',
  'ContainerName',
  'PublishPort',
  'Volume',
  'EnvironmentFile',
  'Environment',
  'Exec',
  'NoNewPrivileges',
  'HealthCmd',
  'HealthInterval',
  'Network',
  'User',
  'PodmanArgs',
  'AutoUpdate',
]);

type Ini = Map<string, Map<string, string[]>>;

/** systemd's INI dialect: [Section], Key=Value (repeatable), # and ; comments, trailing-backslash continuation. */
function parseUnit(text: string): Ini {
  const sections: Ini = new Map();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const pair = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!pair || !current) throw new Error(`line ${index + 1} is not a section or Key=Value: ${raw}`);
    current.set(pair[1]!, [...(current.get(pair[1]!) ?? []), pair[2]!]);
  }
  return sections;
}

function one(ini: Ini, section: string, key: string): string {
  const values = ini.get(section)?.get(key);
  expect(values, `[${section}] ${key}`).toBeDefined();
  return values!.at(-1)!;
}

/** The V8 flags the `mcproxy` bin runs with (its shebang): every deployment starts Node with the same. */
const NODE_FLAGS = (/^#!\/usr\/bin\/env -S node(.*)$/m.exec(read('src/main.ts'))?.[1] ?? '').trim().split(/\s+/);

/** Splits `node [flags] script args` at the script. */
function splitNodeCommand(words: string[]): { node: string; flags: string[]; script: string; args: string[] } {
  const at = words.findIndex((word, index) => index > 0 && !word.startsWith('-'));
  return { node: words[0]!, flags: words.slice(1, at), script: words[at]!, args: words.slice(at + 1) };
}

/** Checks a gateway command line with the CLI's own parser: serve, an absolute config, 0.0.0.0:12010. */
function expectGatewayArgs(args: string[]): void {
  const parsed = parseCliArgs(args);
  expect(parsed.command).toBe('serve');
  expect(parsed.config).toMatch(/^\/.+\.json$/);
  expect(parsed.host).toBe('0.0.0.0');
  expect(parsed.port).toBe(12010);
  expect(parsed.stdio).toBe(false);
}

/**
 * Runs a deployment file's command line against the built gateway (dist/, built by `npm test`'s pretest), with
 * only the config path and port swapped for a temporary config and a free port; checks /health, then SIGTERM.
 */
async function runGatewayCommand(
  args: string[],
  flags: string[] = NODE_FLAGS,
): Promise<{ health: unknown; exitCode: number | null; output: string }> {
  const main = path.join(root, 'dist/main.js');
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run npm run build (npm test does it first)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcproxy-deploy-'));
  const config = path.join(dir, 'mcp-servers.json');
  writeFileSync(config, JSON.stringify({ servers: [] }));
  const port = await freePort();
  const swapped = args.map((arg, index) =>
    args[index - 1] === '--config' ? config : args[index - 1] === '--port' ? String(port) : arg,
  );
  const child = spawn(process.execPath, [...flags, main, ...swapped], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let health: unknown;
    const deadline = Date.now() + 20_000;
    while (health === undefined) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the gateway did not come up:\n${output}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        if (response.ok) health = await response.json();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    child.kill('SIGTERM');
    return { health, exitCode: await exited, output };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('deploy/mcproxy.service (systemd)', () => {
  const unit = parseUnit(read('deploy/mcproxy.service'));

  it('passes systemd-analyze verify without a warning', () => {
    let analyze: string;
    try {
      analyze = execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim();
    } catch {
      throw new Error('systemd-analyze is missing: run scripts/install-ci-deps.sh (apt-get install -y systemd)');
    }
    const result = spawnSync(analyze, ['verify', path.join(root, 'deploy/mcproxy.service')], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs node dist/main.js with the gateway flags, as the seeds deploy it', () => {
    const { node, flags, script, args } = splitNodeCommand(one(unit, 'Service', 'ExecStart').split(/\s+/));
    expect(node).toBe('/usr/bin/node');
    expect(NODE_FLAGS).toContain('--max-semi-space-size=2');
    expect(flags).toEqual(NODE_FLAGS);
    expect(script).toMatch(/\/dist\/main\.js$/);
    expectGatewayArgs(args);
    expect(args).not.toContain('--log'); // Production logs to syslog, the default.
    expect(one(unit, 'Service', 'MemoryMax')).toBe('512M');
    expect(one(unit, 'Service', 'SyslogIdentifier')).toBe('mcproxy');
    expect(one(unit, 'Service', 'Restart')).toBe('always');
    expect(one(unit, 'Service', 'User')).not.toBe('root');
    expect(one(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
  });

  it("its command starts the gateway, which answers /health and stops on systemd's SIGTERM", async () => {
    const { flags, args } = splitNodeCommand(one(unit, 'Service', 'ExecStart').split(/\s+/));
    const { health, exitCode, output } = await runGatewayCommand(args, flags);
    expect(health).toMatchObject({ status: 'ok', servers: {} });
    expect(exitCode, output).toBe(0);
  });
});

describe('deploy/mcproxy.container (Quadlet)', () => {
  const quadlet = parseUnit(read('deploy/mcproxy.container'));

  it('uses only known Quadlet keys and the sections Quadlet reads', () => {
    expect([...quadlet.keys()].sort()).toEqual(['Container', 'Install', 'Service', 'Unit']);
    for (const key of quadlet.get('Container')!.keys()) expect(QUADLET_CONTAINER_KEYS, key).toContain(key);
  });

  it('runs the image built from the Containerfile with the gateway flags, limited to 512M', () => {
    expect(one(quadlet, 'Container', 'Image')).toBe('localhost/mcproxy:latest');
    expectGatewayArgs(one(quadlet, 'Container', 'Exec').split(/\s+/));
    expect(one(quadlet, 'Container', 'PublishPort')).toBe('12010:12010');
    expect(one(quadlet, 'Container', 'Volume')).toMatch(/^\/etc\/mcproxy:\/config(:|$)/);
    expect(one(quadlet, 'Service', 'MemoryMax')).toBe('512M');
  });
});

describe('Containerfile', () => {
  const text = read('Containerfile').replace(/\\\n/g, ' ');
  const instructions = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const stages = instructions.filter((i) => i.keyword === 'FROM');
  const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));
  const json = (keyword: string) => JSON.parse(finalStage.find((i) => i.keyword === keyword)!.args) as string[];

  it('is multi-stage: builds with npm ci and tsc, ships only dist and production dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]!.args).toMatch(/node:22[\w.-]*slim AS build$/);
    expect(instructions.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args))).toBe(true);
    expect(instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    expect(read('package.json')).toContain('"build": "tsc');
    const copies = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContain('--from=build /app/dist ./dist');
    expect(copies.some((args) => /--from=\w+ \/app\/node_modules/.test(args))).toBe(true);
    expect(instructions.some((i) => /--omit=dev/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user, node dist/main.js --config … --host 0.0.0.0, port 12010', () => {
    const user = finalStage.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // tini reaps what servers leave behind (node as PID 1 would leave them zombies).
    expect(json('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--', 'node', ...NODE_FLAGS, 'dist/main.js']);
    expect(finalStage.some((i) => i.keyword === 'RUN' && /apt-get install .*\btini\b/.test(i.args))).toBe(true);
    expectGatewayArgs(json('CMD'));
    expect(finalStage.find((i) => i.keyword === 'EXPOSE')?.args).toBe('12010');
  });

  it("its CMD starts the gateway, logging to stdout in the seeds' format", async () => {
    const { health, exitCode, output } = await runGatewayCommand(json('CMD'));
    expect(health).toMatchObject({ status: 'ok' });
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[INFO\] /m);
  });

  it('copies only files that exist', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(path.join(root, source)), source).toBe(true);
    }
  });
});

describe('compose.yaml', () => {
  const compose = parseYaml(read('compose.yaml')) as {
    services: Record<string, Record<string, unknown> & { build: { context: string; dockerfile: string } }>;
  };
  const service = compose.services.mcproxy!;

  it('builds from the Containerfile and passes the gateway flags', () => {
    expect(service.build.dockerfile).toBe('Containerfile');
    expect(existsSync(path.join(root, service.build.context, service.build.dockerfile))).toBe(true);
    expectGatewayArgs(service.command as string[]);
    expect(service.ports).toEqual(['12010:12010']);
    expect(service.env_file).toEqual(['.env']);
    expect(service.volumes).toEqual(['./config:/config:ro,Z']);
    expect(service.mem_limit).toBe('512m');
  });
});

describe('.env.example', () => {
  it('holds only comments and KEY=placeholder lines', () => {
    const lines = read('.env.example').split('\n');
    for (const line of lines) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      expect(line).toMatch(/^[A-Z_][A-Z0-9_]*=[\w.-]*$/);
      expect(line, 'looks like a real secret').not.toMatch(/=.*[0-9a-f]{20,}/i);
    }
    expect(read('.gitignore').split('\n')).toContain('.env');
  });
});
