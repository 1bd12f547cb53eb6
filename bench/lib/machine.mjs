// Machine and version details for the head of BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

import { peerVersion } from './gateways.mjs';
import { ROOT } from './paths.mjs';

const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
};

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function machineInfo() {
  const cpus = os.cpus();
  let cpuModel = cpus[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    /* not Linux */
  }
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  return {
    date: new Date().toISOString(),
    cpu: cpuModel,
    cores: cpus.length,
    memGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg(),
    commit: commit ? commit + dirty : 'unknown',
    versions: {
      '@modelcontextprotocol/sdk': pkgVersion('@modelcontextprotocol/sdk'),
      '@modelcontextprotocol/server-everything': pkgVersion('@modelcontextprotocol/server-everything'),
      supergateway: peerVersion('supergateway') ?? 'not installed',
      'mcp-proxy': peerVersion('mcp-proxy') ?? 'not installed',
      'mcp-hub': peerVersion('mcp-hub') ?? 'not installed',
    },
  };
}
