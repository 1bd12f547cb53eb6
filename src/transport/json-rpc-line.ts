/**
 * JSON.parse of one JSON-RPC line, with the envelope read without the parser when the line has the layout the
 * TypeScript SDK writes (`{"method":"…","params":…,"jsonrpc":"2.0","id":N}`, a notification without the id,
 * `{"result":…,"jsonrpc":"2.0","id":N}`) or the Python SDK's response (`{"jsonrpc":"2.0","id":N,"result":…}`):
 * only the params or the result is parsed. The envelope is a large part of a small message's parse (its keys
 * looked up in the string table, the objects built key by key): about 40 % of a relayed call's two parses.
 *
 * The object is the one JSON.parse would give, its members in the line's order. What lies between the fixed
 * ends is taken only when it parses as one JSON value; anything else (another member, a repeated key, an
 * escape in the method, another id) is parsed whole, as before, and a line that is not JSON still throws.
 */
export function parseJsonRpcLine(line: string): unknown {
  return parseEnvelope(line) ?? JSON.parse(line);
}

/**
 * The text of the result of the response line being delivered now, when it is one object with no carriage
 * return (see upstream/result-text.ts): `parseJsonRpcLine` cut it already. Only the line itself (the same
 * text) gets it; `lineDelivered` forgets it, so that no line stays held after its delivery.
 */
export function resultTextOfLine(line: string, id: number): string | undefined {
  return line === current.line && id === current.id ? current.resultText : undefined;
}

/** Called once the line `parseJsonRpcLine` parsed last has been handled. */
export function lineDelivered(): void {
  current.line = undefined;
  current.id = undefined;
  current.resultText = undefined;
}

const current: { line?: string; id?: number; resultText?: string } = {};

const METHOD_FIRST = '{"method":"';
const PARAMS = ',"params":';
/** The pieces of the layouts SDKs write a response in (see upstream/result-text.ts too). */
export const RESULT_FIRST = '{"result":';
export const VERSION_ID = ',"jsonrpc":"2.0","id":';
const VERSION_LAST = ',"jsonrpc":"2.0"}';
export const ID_FIRST = '{"jsonrpc":"2.0","id":';
export const RESULT_LAST = ',"result":';
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;
const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
/** Ids of at most 15 digits: always a safe integer, written by JSON.stringify as they are parsed. */
const MAX_ID_DIGITS = 15;

function parseEnvelope(line: string): object | undefined {
  const first = line.charCodeAt(2);
  if (first === 0x6d /* m */ && line.startsWith(METHOD_FIRST)) return parseRequest(line);
  if (first === 0x72 /* r */ && line.startsWith(RESULT_FIRST)) return parseResult(line);
  if (first === 0x6a /* j */ && line.startsWith(ID_FIRST)) return parseLeadingIdResult(line);
  return undefined;
}

/** `{"method":"M","params":P,"jsonrpc":"2.0","id":N}` or `{"method":"M","params":P,"jsonrpc":"2.0"}`. */
function parseRequest(line: string): object | undefined {
  const methodEnd = endOfPlainString(line, METHOD_FIRST.length);
  if (methodEnd === -1 || !line.startsWith(PARAMS, methodEnd + 1)) return undefined;
  const method = line.slice(METHOD_FIRST.length, methodEnd);
  const paramsStart = methodEnd + 1 + PARAMS.length;
  // A notification ends with the version's quote and brace, a request with its id's last digit and the brace.
  if (line.charCodeAt(line.length - 2) === QUOTE) {
    if (!line.endsWith(VERSION_LAST)) return undefined;
    const params = parseValue(line, paramsStart, line.length - VERSION_LAST.length);
    return params === NOT_ONE_VALUE ? undefined : { method, params, jsonrpc: '2.0' };
  }
  const idStart = trailingIdStart(line);
  if (idStart === -1) return undefined;
  const params = parseValue(line, paramsStart, idStart - VERSION_ID.length);
  if (params === NOT_ONE_VALUE) return undefined;
  return { method, params, jsonrpc: '2.0', id: integerAt(line, idStart, line.length - 1) };
}

/** `{"result":R,"jsonrpc":"2.0","id":N}`. */
function parseResult(line: string): object | undefined {
  const idStart = trailingIdStart(line);
  if (idStart === -1) return undefined;
  const text = line.slice(RESULT_FIRST.length, idStart - VERSION_ID.length);
  const result = parseText(text);
  if (result === NOT_ONE_VALUE) return undefined;
  const id = integerAt(line, idStart, line.length - 1);
  keepResultText(line, id, text);
  return { result, jsonrpc: '2.0', id };
}

/** `{"jsonrpc":"2.0","id":N,"result":R}`. */
function parseLeadingIdResult(line: string): object | undefined {
  const idEnd = endOfId(line, ID_FIRST.length);
  if (idEnd === -1 || !line.startsWith(RESULT_LAST, idEnd) || line.charCodeAt(line.length - 1) !== CLOSE_BRACE) {
    return undefined;
  }
  const text = line.slice(idEnd + RESULT_LAST.length, line.length - 1);
  const result = parseText(text);
  if (result === NOT_ONE_VALUE) return undefined;
  const id = integerAt(line, ID_FIRST.length, idEnd);
  keepResultText(line, id, text);
  return { jsonrpc: '2.0', id, result };
}

const NOT_ONE_VALUE = Symbol('not one JSON value');

/** The text between `start` and `end` parsed, when it is one JSON value. */
function parseValue(line: string, start: number, end: number): unknown {
  return end <= start ? NOT_ONE_VALUE : parseText(line.slice(start, end));
}

function parseText(text: string): unknown {
  if (text === '') return NOT_ONE_VALUE;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_ONE_VALUE;
  }
}

/** Keeps the result's text for `resultTextOfLine` when it is one object (it parsed as one value) with no CR. */
function keepResultText(line: string, id: number, text: string): void {
  if (text.charCodeAt(0) !== OPEN_BRACE || text.charCodeAt(text.length - 1) !== CLOSE_BRACE) return;
  if (text.includes('\r')) return;
  current.line = line;
  current.id = id;
  current.resultText = text;
}

/**
 * Where the id of `…,"jsonrpc":"2.0","id":N}` starts (the line's last characters), or -1. N is a
 * non-negative integer as JSON.stringify writes it.
 */
function trailingIdStart(line: string): number {
  const last = line.length - 1;
  if (line.charCodeAt(last) !== CLOSE_BRACE) return -1;
  let start = last;
  while (start > last - MAX_ID_DIGITS && isDigit(line.charCodeAt(start - 1))) start--;
  if (start === last || (line.charCodeAt(start) === ZERO && start !== last - 1)) return -1;
  return line.startsWith(VERSION_ID, start - VERSION_ID.length) ? start : -1;
}

/** The end of the id starting at `start` (followed by a comma), or -1. */
function endOfId(line: string, start: number): number {
  let end = start;
  while (end < start + MAX_ID_DIGITS && isDigit(line.charCodeAt(end))) end++;
  if (end === start || (line.charCodeAt(start) === ZERO && end !== start + 1)) return -1;
  return line.charCodeAt(end) === COMMA ? end : -1;
}

/** The index of the quote closing a string of plain characters (no escape, no control character), or -1. */
function endOfPlainString(line: string, start: number): number {
  for (let i = start; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < SPACE) return -1;
  }
  return -1;
}

/** The value of the digits from `start` to `end` (at most MAX_ID_DIGITS: exact in a double). */
function integerAt(line: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (line.charCodeAt(i) - ZERO);
  return value;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}
