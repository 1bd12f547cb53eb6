import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

import type * as Sucrase from 'sucrase';

/*
 * Strips TypeScript types with sucrase, in a thread of its own: loading sucrase takes ~90 ms and a large input
 * a while longer, which must not stall the gateway's event loop. Sucrase keeps line numbers, so errors the
 * guest reports still point at the user's lines.
 */
const port = parentPort;
if (!port) throw new Error('typescript-worker must run in a worker thread');
const { transform } = createRequire(import.meta.url)('sucrase') as typeof Sucrase;

// The code is a function body (top-level `return` and `await`), which no parser accepts as a module.
const PREFIX = 'async function __mcproxy_code__(api) {';

port.on('message', (message: { id: number; code: string }) => {
  try {
    const output = transform(`${PREFIX}${message.code}\n}`, {
      transforms: ['typescript'],
      disableESTransforms: true,
    }).code;
    const start = output.indexOf(PREFIX);
    const end = output.lastIndexOf('}');
    if (start < 0 || end < start) throw new Error('the transpiled code lost its wrapper');
    port.postMessage({ id: message.id, code: output.slice(start + PREFIX.length, end).replace(/\n$/, '') });
  } catch (error) {
    port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
