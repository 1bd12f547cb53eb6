import { GatewayError } from '../errors.js';
import type { JsonRpcPeer } from './json-rpc-peer.js';

const MAX_PAGES = 1_000;

/** Follows `nextCursor` to the end of an upstream list, bounded so a looping server cannot hold us forever. */
export async function fetchAllPages<T>(peer: JsonRpcPeer<unknown>, method: string, key: string, timeoutMs: number) {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await peer.request(method, cursor === undefined ? undefined : { cursor }, {
      timeoutMs,
      describe: method,
    });
    const pageItems = result[key];
    if (Array.isArray(pageItems)) items.push(...(pageItems as T[]));
    const next = result.nextCursor;
    if (typeof next !== 'string' || next === '') return items;
    if (seen.has(next)) throw new GatewayError('UPSTREAM_UNAVAILABLE', `${method} repeated the cursor "${next}"`);
    seen.add(next);
    cursor = next;
  }
  throw new GatewayError('UPSTREAM_UNAVAILABLE', `${method} returned more than ${MAX_PAGES} pages`);
}
