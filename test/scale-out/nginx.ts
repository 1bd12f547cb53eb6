import { mkdir, writeFile } from 'node:fs/promises';

import { freePort } from '../helpers/ports.js';
import { spawnService } from '../helpers/processes.js';
import type { TempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

export interface NginxReplica {
  /** The replica id: a session id `<id>.<uuid>` goes to this replica. */
  id: string;
  /** `host:port` of the replica (a per-replica DNS name in a StatefulSet; a loopback port here). */
  address: string;
}

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * The `http` block docs/deployment.md describes, with the replicas' addresses filled in: a legacy session's
 * requests go to the replica its id names; everything else (initialize, 2026-07-28 requests) is balanced; when
 * the session's replica is gone, another replica answers (404: the client starts a new session).
 */
export function nginxHttpBlock(listen: string, replicas: NginxReplica[]): string {
  return `
map $http_mcp_session_id $mcp_replica {
  "~^(?<replica>[A-Za-z0-9-]+)\\." $replica;
  default "";
}
map $mcp_replica $mcp_replica_address {
${replicas.map(({ id, address }) => `  ${id} ${address};`).join('\n')}
  default "";
}
upstream mcproxy {
${replicas.map(({ address }) => `  server ${address};`).join('\n')}
}

server {
  listen ${listen};
  location / {
    proxy_http_version 1.1;
    proxy_buffering off;              # SSE streams
    proxy_read_timeout 1h;
    proxy_set_header Host localhost;  # or a name in allowed_hosts
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_next_upstream error timeout;
    error_page 502 504 = @any;        # the session's replica is gone: another one answers 404
    if ($mcp_replica_address != "") {
      proxy_pass http://$mcp_replica_address;
      break;
    }
    proxy_pass http://mcproxy;
  }
  location @any {
    proxy_http_version 1.1;
    proxy_buffering off;
    proxy_set_header Host localhost;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_pass http://mcproxy;
  }
}
`;
}

/**
 * Debian's nginx in the foreground on a free loopback port, everything it writes kept in `dir` (no root-owned
 * paths: the prefix, pid file and temp paths are the test's own), errors on stderr.
 */
export async function startNginx(dir: TempDir, replicas: NginxReplica[]): Promise<Nginx> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const prefix = dir.resolve('nginx');
    await mkdir(prefix, { recursive: true, mode: 0o777 });
    const configPath = `${prefix}/nginx.conf`;
    await writeFile(
      configPath,
      [
        // As root, the workers would switch to `nobody`, who cannot write the test's temp paths.
        ...(process.getuid?.() === 0 ? ['user root;'] : []),
        'worker_processes 1;',
        'daemon off;',
        'error_log stderr warn;',
        `pid ${prefix}/nginx.pid;`,
        'events { worker_connections 512; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${prefix}/${kind};`),
        nginxHttpBlock(`127.0.0.1:${port}`, replicas),
        '}',
        '',
      ].join('\n'),
    );
    const nginx = spawnService('nginx', ['-p', prefix, '-c', configPath]);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (nginx.exited) return true;
        try {
          await fetch(`${url}/ready`);
          return true;
        } catch {
          return false;
        }
      },
      { message: () => `nginx to listen:\n${nginx.lines.join('\n')}` },
    );
    if (!nginx.exited) return { url, stop: () => nginx.stop() };
    // Another process took the port between freePort() and the bind: try another.
    if (attempt === 3 || !nginx.lines.some((line) => /Address already in use/.test(line)))
      throw new Error(`nginx exited:\n${nginx.lines.join('\n')}`);
  }
}
