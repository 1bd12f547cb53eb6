// The backend servers the bench puts behind every gateway, as command lines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { EVERYTHING, FILESYSTEM, MEMORY, SEQUENTIAL, TMP } from './paths.mjs';

/** server-everything over stdio, the backend of every latency and throughput row. */
export const everythingStdio = () => ({ command: process.execPath, args: [EVERYTHING, 'stdio'] });

const fsDir = join(TMP, 'fs-root');
mkdirSync(fsDir, { recursive: true });
writeFileSync(join(fsDir, 'hello.txt'), 'hello\n');

/**
 * `count` servers: server-everything copies only (kind 'everything'), or a mix of the four real servers
 * (kind 'mix': everything, memory, filesystem, sequential-thinking, round-robin). Returns { name: {command,args,env} }.
 */
export function serverSet(count, kind = 'everything') {
  const out = {};
  for (let i = 0; i < count; i++) {
    const which = kind === 'mix' ? ['everything', 'memory', 'filesystem', 'sequential'][i % 4] : 'everything';
    const name = `${which}${i === 0 && which === 'everything' ? '' : i}`;
    if (which === 'everything') out[name] = { command: process.execPath, args: [EVERYTHING, 'stdio'] };
    else if (which === 'memory')
      out[name] = {
        command: process.execPath,
        args: [MEMORY],
        env: { MEMORY_FILE_PATH: join(TMP, `memory-${i}.jsonl`) },
      };
    else if (which === 'filesystem') out[name] = { command: process.execPath, args: [FILESYSTEM, fsDir] };
    else out[name] = { command: process.execPath, args: [SEQUENTIAL] };
  }
  return out;
}
