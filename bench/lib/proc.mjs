// Process helpers: spawn in its own process group, wait for a log line or an HTTP answer, measure RSS,
// and stop exactly the processes this bench started (by pid / process-group id, never by name).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const started = new Set(); // every handle we spawned, for the emergency cleanup
const trackedPids = new Set(); // processes spawned by SDK stdio clients

/** Remember / forget a pid spawned elsewhere (SDK stdio transport) for the emergency cleanup. */
export const trackPid = (pid) => pid && trackedPids.add(pid);
export const untrackPid = (pid) => trackedPids.delete(pid);

/** A free TCP port picked by the OS (bind port 0, read it, release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of one pid in kB (VmRSS from /proc/<pid>/status), children excluded. */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** All descendants of a pid (scan of /proc/<pid>/stat parent links). */
export function descendants(rootPid) {
  const parentOf = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(d), ppid);
    } catch {
      /* gone */
    }
  }
  const out = [];
  const frontier = [rootPid];
  while (frontier.length) {
    const p = frontier.pop();
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        frontier.push(child);
      }
    }
  }
  return out;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Kill pids we started (and that are still there), TERM then KILL. */
export async function killPids(pids, graceMs = 1500) {
  const live = pids.filter(alive);
  for (const p of live) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(alive)) await sleep(20);
  for (const p of live.filter(alive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Spawn a long-running process in its own process group. Keeps the last lines of stdout+stderr,
 * lets callers wait for a line matching a regex.
 */
export function startProcess(command, args, { env, cwd, name = command } = {}) {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: stop() takes the whole tree with it
  });
  const lines = [];
  const waiters = [];
  let exited = null;
  const onLine = (line) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
    for (const w of [...waiters]) {
      const m = w.re.exec(line);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      if (buf.length > 65536) buf = buf.slice(-65536);
    });
  }
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      for (const w of waiters.splice(0))
        w.reject(
          new Error(`${name} exited (${code ?? signal}) before ${w.re}; last output:\n${lines.slice(-8).join('\n')}`),
        );
      resolve(exited);
    });
    child.on('error', (err) => {
      exited = { code: -1, signal: null, err };
      for (const w of waiters.splice(0)) w.reject(err);
      resolve(exited);
    });
  });
  const handle = {
    name,
    child,
    pid: child.pid,
    lines,
    exitPromise,
    get exited() {
      return exited;
    },
    tail: (n = 8) => lines.slice(-n).join('\n'),
    waitForLine(re, timeoutMs = 15000) {
      for (const l of lines) {
        const m = re.exec(l);
        if (m) return Promise.resolve(m);
      }
      if (exited) return Promise.reject(new Error(`${name} already exited; last output:\n${handle.tail()}`));
      return new Promise((resolve, reject) => {
        const w = { re, resolve, reject };
        waiters.push(w);
        const t = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms; last output:\n${handle.tail()}`));
        }, timeoutMs);
        t.unref();
      });
    },
    async stop(graceMs = 2000) {
      started.delete(handle);
      if (exited) return;
      const kids = descendants(child.pid);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await Promise.race([exitPromise, sleep(graceMs)]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* group empty */
      }
      await killPids(kids, 200); // any descendant that left the group
    },
  };
  started.add(handle);
  return handle;
}

/** Poll a URL until it answers at all (any HTTP status), bounded. */
export async function waitForHttp(url, { timeoutMs = 20000, intervalMs = 25, proc } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (proc?.exited) throw new Error(`${proc.name} exited before ${url} answered; last output:\n${proc.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return res.status;
    } catch (err) {
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${lastErr?.message ?? ''})`);
}

/** Emergency cleanup of everything still running (called on exit/signals by run.mjs). */
export async function stopAll() {
  await Promise.all([...started].map((h) => h.stop(500)));
}
export function stopAllSync() {
  const pids = [...trackedPids];
  for (const p of [...trackedPids]) {
    try {
      pids.push(...descendants(p));
    } catch {
      /* /proc unreadable */
    }
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const h of started) {
    try {
      process.kill(-h.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
