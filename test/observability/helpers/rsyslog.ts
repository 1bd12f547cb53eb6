import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STARTUP_TIMEOUT_MS = 10_000;

/** A private rsyslogd: a unix socket like /dev/log, UDP and TCP inputs on loopback, two output files. */
export interface Rsyslog {
  socketPath: string;
  udpPort: number;
  tcpPort: number;
  /** Lines as rsyslog writes /var/log/syslog (`Feb  5 10:30:45 host mcproxy[12345]: [INFO] …`). */
  traditional(): string;
  /** One line per message with the parsed fields: `input=imudp sev=info fac=daemon app=mcproxy proc=1 msg=…`. */
  fields(): string;
  stop(): Promise<void>;
}

export function findRsyslogd(): string {
  for (const candidate of ['/usr/sbin/rsyslogd', '/sbin/rsyslogd']) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v rsyslogd'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'rsyslogd is not installed, and the syslog tests run against a real one: run scripts/install-ci-deps.sh ' +
        '(apt-get install -y rsyslog)',
    );
  }
}

export async function startRsyslog(): Promise<Rsyslog> {
  const rsyslogd = findRsyslogd();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcproxy-rsyslog-'));
  const socketPath = path.join(dir, 'log.sock');
  const portFile = path.join(dir, 'tcp.port');
  const udpPort = await freeUdpPort();
  const config = `
global(workDirectory="${dir}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="${socketPath}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="${portFile}")
template(name="fields" type="string"
  string="input=%inputname% sev=%syslogseverity-text% fac=%syslogfacility-text% host=%hostname% app=%app-name% proc=%procid% msg=%msg%\\n")
*.* action(type="omfile" file="${dir}/traditional.log" template="RSYSLOG_TraditionalFileFormat")
*.* action(type="omfile" file="${dir}/fields.log" template="fields")
`;
  writeFileSync(path.join(dir, 'rsyslog.conf'), config);
  const child: ChildProcess = spawn(
    rsyslogd,
    ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(existsSync(socketPath) && existsSync(portFile) && readFileSync(portFile, 'utf8').trim())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`rsyslogd did not start (exit ${child.exitCode}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const read = (name: string) => {
    const file = path.join(dir, name);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };
  return {
    socketPath,
    udpPort,
    tcpPort: Number(readFileSync(portFile, 'utf8').trim()),
    traditional: () => read('traditional.log'),
    fields: () => read('fields.log'),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
