import {
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type JSONRPCRequest,
  RELATED_TASK_META_KEY,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

import { MAX_NAME_LENGTH } from '../catalog/naming.js';

/**
 * The bounds every client message must keep before the gateway does any work on it, checked once where the
 * message arrives. A message outside them gets a JSON-RPC error (never silence), so that nothing a client sends
 * can hang its exchange or make the gateway spend time in proportion to an attacker's input.
 */

/** The SDK's Streamable HTTP transport allows no more; MCP 2025-06-18 dropped batches altogether. */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_METHOD_LENGTH = 128;
/** String request ids and progress tokens: echoed back on every answer, so kept short. */
export const MAX_ID_LENGTH = 256;
export const MAX_URI_LENGTH = 8 * 1024;
export const MAX_CURSOR_LENGTH = 4 * 1024;
/** Arrays and objects nested deeper than this are refused before parsing: a megabyte of `[` costs far more. */
export const MAX_JSON_DEPTH = 128;

export const INVALID_REQUEST = -32600;
/** The answer to a second `initialize` in one session (the Streamable HTTP transport's wording). */
export const ALREADY_INITIALIZED = 'Invalid Request: Server already initialized';
const INVALID_PARAMS = -32602;
const MEMBERS: Record<'request' | 'notification' | 'result' | 'error', ReadonlySet<string>> = {
  request: new Set(['jsonrpc', 'id', 'method', 'params']),
  notification: new Set(['jsonrpc', 'method', 'params']),
  result: new Set(['jsonrpc', 'id', 'result']),
  error: new Set(['jsonrpc', 'id', 'error']),
};
/** Request methods whose params name a tool, prompt or resource, and the members holding those names. */
const NAMED_PARAMS: Record<string, { name?: true; uri?: true }> = {
  'tools/call': { name: true },
  'prompts/get': { name: true },
  'resources/read': { uri: true },
  'resources/subscribe': { uri: true },
  'resources/unsubscribe': { uri: true },
};

export interface Refusal {
  /** The request's id when it could be read, else null (JSON-RPC's answer to an unreadable request). */
  id: RequestId | null;
  code: number;
  message: string;
  /** `envelope`: not a valid JSON-RPC message at all; `params`: a valid request whose params are out of bounds. */
  kind: 'envelope' | 'params';
}

export type Screened = { ok: true; message: JSONRPCMessage } | { ok: false; refusal: Refusal };

export interface ScreenedBody {
  /** Whether the body was a JSON array (a batch); its answers then form an array too. */
  batch: boolean;
  /** One entry per message, in order; empty when `refusal` refuses the body as a whole. */
  messages: Screened[];
  /** Set when the body itself is refused (an empty or over-long batch). */
  refusal?: Refusal;
}

/**
 * Checks one message: the JSON-RPC 2.0 envelope exactly as the SDK accepts it (so the SDK never drops a message
 * without an answer), then the lengths of what the gateway looks up (names, URIs, cursors).
 *
 * @example screenMessage({ jsonrpc: '2.0', id: 1.5, method: 'tools/list' }) // { ok: false, refusal: { id: null, ... } }
 */
/** Whether the message is an `initialize` request (a session takes one, first). */
export function isInitializeRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && message.method === 'initialize' && 'id' in message;
}

export function screenMessage(value: unknown): Screened {
  if (!isPlainObject(value)) return refuse(null, 'envelope', 'Invalid Request: a JSON-RPC message must be an object');
  const hasId = 'id' in value;
  const id = hasId ? readId(value.id) : null;
  if (hasId && id === null) {
    return refuse(
      null,
      'envelope',
      `Invalid Request: "id" must be an integer or a string of at most ${MAX_ID_LENGTH} characters`,
    );
  }
  if (value.jsonrpc !== '2.0') return refuse(id, 'envelope', 'Invalid Request: "jsonrpc" must be "2.0"');
  const kind = kindOf(value, hasId);
  if (kind === undefined)
    return refuse(id, 'envelope', 'Invalid Request: a message needs "method", "result" or "error"');
  const allowed = MEMBERS[kind];
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) return refuse(id, 'envelope', `Invalid Request: unexpected member "${clip(key)}"`);
  }
  if (kind === 'request' || kind === 'notification') {
    const { method, params } = value;
    if (typeof method !== 'string' || method === '' || method.length > MAX_METHOD_LENGTH) {
      return refuse(
        id,
        'envelope',
        `Invalid Request: "method" must be a string of 1 to ${MAX_METHOD_LENGTH} characters`,
      );
    }
    if (params !== undefined && !isPlainObject(params)) {
      return refuse(id, kind === 'request' ? 'params' : 'envelope', 'Invalid params: "params" must be an object');
    }
    const outOfBounds = params === undefined ? undefined : paramsProblem(method, params);
    if (outOfBounds !== undefined) return refuse(id, kind === 'request' ? 'params' : 'envelope', outOfBounds);
  }
  // A request that passed the checks above and whose `_meta` is well formed passes the SDK's schema too: the hot
  // path skips the schema parse (the test of this module holds the two to the same verdicts).
  if (kind === 'request' && requestMetaPasses(value.params)) return { ok: true, message: value as JSONRPCMessage };
  // Last, the SDK's own schema: whatever it would drop silently is refused here with an answer.
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at "${clip(issue.path.join('.'))}"` : '';
    return refuse(id, 'envelope', `Invalid Request: not a valid JSON-RPC message${where}`);
  }
  return { ok: true, message: value as JSONRPCMessage };
}

/**
 * Checks a request body: one message or a batch of at most MAX_BATCH_MESSAGES, each screened; a request id used
 * twice in one batch is refused the second time (its answer could not be told apart).
 *
 * @example const { batch, messages, refusal } = screenBody(JSON.parse(text));
 */
export function screenBody(body: unknown): ScreenedBody {
  if (!Array.isArray(body)) return { batch: false, messages: [screenMessage(body)] };
  if (body.length === 0) return { batch: true, messages: [], refusal: envelope('Invalid Request: empty batch') };
  if (body.length > MAX_BATCH_MESSAGES) {
    return {
      batch: true,
      messages: [],
      refusal: envelope(`Invalid Request: a batch may hold at most ${MAX_BATCH_MESSAGES} messages`),
    };
  }
  const seen = new Set<RequestId>();
  const messages = body.map((value): Screened => {
    const screened = screenMessage(value);
    if (!screened.ok || !('method' in screened.message) || !('id' in screened.message)) return screened;
    const { id } = screened.message;
    if (seen.has(id))
      return refuse(id, 'envelope', `Invalid Request: id ${JSON.stringify(id)} is used twice in this batch`);
    seen.add(id);
    return screened;
  });
  return { batch: true, messages };
}

/**
 * Whether JSON text nests arrays and objects deeper than `max`, found by one pass over its bytes (strings skipped)
 * before any parsing, so that a body of a million brackets is refused for the cost of reading it, not of parsing.
 *
 * @example jsonNestsDeeperThan(Buffer.from('[[[]]]'), 2) // true
 */
export function jsonNestsDeeperThan(text: Buffer, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (byte === QUOTE) {
      i = endOfString(text, i);
      if (i === -1) return false; // unterminated: JSON.parse will say so
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) depth--;
  }
  return false;
}

/** The index of the quote that ends the string opened at `start`, found natively: strings are most of a big body. */
function endOfString(text: Buffer, start: number): number {
  let at = text.indexOf(QUOTE, start + 1);
  while (at !== -1) {
    let backslashes = 0;
    while (text[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf(QUOTE, at + 1);
  }
  return -1;
}

const [QUOTE, BACKSLASH, OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d];

/** A refusal as the JSON-RPC error response that answers it. */
export function refusalResponse(refusal: Refusal) {
  return {
    jsonrpc: '2.0' as const,
    id: refusal.id,
    error: { code: refusal.code, message: refusal.message },
  };
}

function paramsProblem(method: string, params: Record<string, unknown>): string | undefined {
  const meta = params._meta;
  if (isPlainObject(meta) && typeof meta.progressToken === 'string' && meta.progressToken.length > MAX_ID_LENGTH) {
    return `Invalid params: "_meta.progressToken" is longer than ${MAX_ID_LENGTH} characters`;
  }
  if (typeof params.cursor === 'string' && params.cursor.length > MAX_CURSOR_LENGTH) {
    return `Invalid params: "cursor" is longer than ${MAX_CURSOR_LENGTH} characters`;
  }
  const named = method === 'completion/complete' && isPlainObject(params.ref) ? params.ref : params;
  const checks = method === 'completion/complete' ? { name: true, uri: true } : NAMED_PARAMS[method];
  if (checks?.name && typeof named.name === 'string' && named.name.length > MAX_NAME_LENGTH) {
    return `Invalid params: "name" is longer than ${MAX_NAME_LENGTH} characters, the protocol's limit`;
  }
  if (checks?.uri && typeof named.uri === 'string' && named.uri.length > MAX_URI_LENGTH) {
    return `Invalid params: "uri" is longer than ${MAX_URI_LENGTH} characters`;
  }
  return undefined;
}

/** Whether a request's `_meta` is absent or holds a progress token and related task of the SDK's types. */
function requestMetaPasses(params: unknown): boolean {
  const meta = (params as Record<string, unknown> | undefined)?._meta;
  if (meta === undefined) return true;
  if (!isPlainObject(meta)) return false;
  const token = meta.progressToken;
  if (token !== undefined && typeof token !== 'string' && !Number.isSafeInteger(token)) return false;
  const task = meta[RELATED_TASK_META_KEY];
  return task === undefined || (isPlainObject(task) && typeof task.taskId === 'string');
}

function kindOf(value: Record<string, unknown>, hasId: boolean): keyof typeof MEMBERS | undefined {
  if ('method' in value) return hasId ? 'request' : 'notification';
  if ('result' in value) return 'result';
  return 'error' in value ? 'error' : undefined;
}

function readId(id: unknown): RequestId | null {
  if (typeof id === 'string') return id.length <= MAX_ID_LENGTH ? id : null;
  return Number.isSafeInteger(id) ? (id as number) : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(id: RequestId | null, kind: Refusal['kind'], message: string): Screened {
  return { ok: false, refusal: { id, kind, code: kind === 'params' ? INVALID_PARAMS : INVALID_REQUEST, message } };
}

function envelope(message: string): Refusal {
  return { id: null, kind: 'envelope', code: INVALID_REQUEST, message };
}

/** Member names and paths are echoed in errors: an attacker's 3 MB key must not be. */
function clip(text: string): string {
  return text.length <= 64 ? text : `${text.slice(0, 64)}…`;
}
