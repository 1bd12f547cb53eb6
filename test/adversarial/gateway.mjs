// The gateway under test: the real CLI (`dist/main.js`), with probe.mjs preloaded to report its event-loop delay
// and memory over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const ASK_TIMEOUT_MS = 10_000;

/**
 * Starts the gateway on an OS-chosen port and resolves once it listens and its servers are ready.
 * @returns {Promise<{ url: string, pid: number, ask: (type: string) => Promise<object>, stop: () => Promise<void>, log: string[] }>}
 */
export async function startGateway(configPath) {
  const child = fork(MAIN, ['--config', configPath, '--port', '0', '--host', '127.0.0.1', '--log'], {
    cwd: REPO,
    execArgv: ['--expose-gc', '--import', PROBE],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const log = [];
  let onListening;
  const listening = new Promise((resolve) => (onListening = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        if (log.length < 2_000) log.push(line);
        const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (url) onListening(url);
      }
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let nextId = 0;
  const waiting = new Map();
  child.on('message', (message) => {
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const ask = (type) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => reject(new Error(`the gateway did not answer "${type}"`)), ASK_TIMEOUT_MS);
      waiting.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.send({ type, id });
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  let timer;
  const outcome = await Promise.race([
    listening.then((url) => ({ url })),
    exited.then((exit) => ({ exit })),
    new Promise((resolve) => (timer = setTimeout(() => resolve({ timeout: true }), START_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (!outcome.url) {
    await stop();
    throw new Error(`the gateway did not start: ${JSON.stringify(outcome)}\n${log.join('\n')}`);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const health = await fetch(`${outcome.url}/health`)
      .then((r) => r.json())
      .catch(() => undefined);
    if (health && Object.values(health.servers).every((server) => server.state === 'ready')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url: outcome.url, pid: child.pid, ask, stop, log };
}
