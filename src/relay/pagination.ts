import { GatewayError } from '../errors.js';

/** Items of one list per page when the config sets none: a catalog this large is rare, and stays whole. */
export const DEFAULT_PAGE_SIZE = 1000;
const MAX_CURSOR_CHARS = 256;

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * One page of a list the gateway answers itself. The cursor is opaque to clients (base64url of the list's
 * kind and the offset) and checked on the way back: a cursor of another list, a forged or a stale one is
 * refused with -32602 rather than silently restarting the list.
 *
 * @example paginate('tools', view.tools(), params.cursor, 500)
 */
export function paginate<T>(kind: string, items: readonly T[], cursor: unknown, pageSize: number): Page<T> {
  const offset = cursor === undefined ? 0 : offsetOf(kind, cursor, items.length);
  const end = offset + pageSize;
  const page: Page<T> = { items: items.slice(offset, end) };
  if (end < items.length) page.nextCursor = Buffer.from(`${kind}:${end}`, 'utf8').toString('base64url');
  return page;
}

function offsetOf(kind: string, cursor: unknown, length: number): number {
  if (typeof cursor !== 'string' || cursor === '' || cursor.length > MAX_CURSOR_CHARS) throw invalidCursor();
  const [cursorKind, rawOffset, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const offset = Number(rawOffset);
  if (rest.length > 0 || cursorKind !== kind || !Number.isSafeInteger(offset) || offset <= 0 || offset >= length) {
    throw invalidCursor();
  }
  return offset;
}

function invalidCursor(): GatewayError {
  return new GatewayError(
    'INVALID_PARAMS',
    'Invalid params: the cursor is not one this list handed out (or the list has changed)',
  );
}
