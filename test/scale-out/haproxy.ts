import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';

import { freePort } from '../helpers/ports.js';
import { spawnService } from '../helpers/processes.js';
import type { TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

export interface Backend {
  /** The replica id, also the HAProxy server name: a session id `<name>.<uuid>` goes to this server. */
  name: string;
  port: number;
}

export interface HaProxy {
  url: string;
  /** Points a server at a replica's port (a replica started, or restarted on another one); waits until it is up. */
  moveServer(name: string, port: number): Promise<void>;
  /** `UP`, `DOWN`... as HAProxy's health checks see the server now. */
  serverStatus(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The HAProxy configuration docs/deployment.md describes: 2026-07-28 requests (no session id) go round-robin;
 * a legacy session's requests go to the replica its id names, and when that replica is down, elsewhere — where
 * the session is unknown, so the client gets 404 and starts a new session. Health checks read `/ready`; a
 * connection refused is retried on another replica (a request that reached a replica is never sent twice).
 */
export function haproxyConfig(frontendPort: number, backends: Backend[], socketPath: string): string {
  return [
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout check 2s',
    '  retries 3',
    '  option redispatch 1',
    // The replicas trust 127.0.0.1 (trusted_proxies) to name the client in X-Forwarded-For.
    '  option forwardfor',
    'frontend mcp',
    `  bind 127.0.0.1:${frontendPort}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    // With a Host header: a gateway on loopback answers only requests that name a loopback host.
    '  option httpchk',
    '  http-check send meth GET uri /ready ver HTTP/1.1 hdr host localhost',
    '  http-check expect status 200',
    // Three failed checks in a row before a replica is down: one slow answer on a loaded machine is not death.
    // Until then, a refused connection is redispatched to a live replica anyway.
    '  default-server check inter 300ms fall 3 rise 1',
    ...backends.map(({ name }) => `  use-server ${name} if { req.hdr(mcp-session-id) -m beg ${name}. }`),
    ...backends.map(({ name, port }) => `  server ${name} 127.0.0.1:${port}`),
    '',
  ].join('\n');
}

/**
 * Debian's haproxy in the foreground on a free loopback port, with its runtime API on a socket in `dir`. Its
 * servers start out pointing nowhere (port 1, so checked down): `moveServer` gives each its replica's port.
 * Bound before the replicas start, so that its port is known to their config and taken by nothing else.
 */
export async function startHaProxy(dir: TempDir, names: string[]): Promise<HaProxy> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(dir, await freePort(), names);
    } catch (error) {
      // Another process took the port between freePort() and the bind: try another.
      if (attempt === 3 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

async function launch(dir: TempDir, frontendPort: number, names: string[]): Promise<HaProxy> {
  const socketPath = dir.resolve('haproxy.sock');
  const configPath = dir.resolve('haproxy.cfg');
  const backends = names.map((name) => ({ name, port: 1 }));
  await writeFile(configPath, haproxyConfig(frontendPort, backends, socketPath));
  const haproxy = spawnService('haproxy', ['-db', '-f', configPath]);
  const { lines } = haproxy;

  const command = (line: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = createConnection(socketPath);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.end(`${line}\n`);
    });
  const serverStatus = async (name: string) => {
    // `show stat` is CSV: pxname,svname,...; the status column is named in the header.
    const [header, ...rows] = (await command('show stat')).split('\n');
    const status = (header ?? '').replace(/^# /, '').split(',').indexOf('status');
    const row = rows.map((line) => line.split(',')).find((cells) => cells[0] === 'replicas' && cells[1] === name);
    return row?.[status] ?? 'missing';
  };
  await waitFor(async () => haproxy.exited || (await serverStatus(names[0]!)) !== 'missing', {
    message: () => `haproxy's runtime API:\n${lines.join('\n')}`,
  });
  if (haproxy.exited) throw new Error(`haproxy exited:\n${lines.join('\n')}`);
  return {
    url: `http://127.0.0.1:${frontendPort}`,
    serverStatus,
    async moveServer(name, port) {
      const answer = await command(`set server replicas/${name} addr 127.0.0.1 port ${port}`);
      if (!/changed|no need to change/i.test(answer)) throw new Error(`haproxy refused the new address: ${answer}`);
      await waitFor(async () => (await serverStatus(name)) === 'UP', { message: `${name} up in haproxy` });
    },
    stop: () => haproxy.stop(),
  };
}
