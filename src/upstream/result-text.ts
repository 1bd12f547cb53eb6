import {
  BACKSLASH,
  CLOSE_BRACE,
  ID_FIRST,
  OPEN_BRACE,
  QUOTE,
  RESULT_FIRST,
  RESULT_LAST,
  resultTextOfLine,
  VERSION_ID,
} from '../transport/json-rpc-line.js';

/**
 * The text of a response's `result` as the server wrote it, cut from its line, so that a relay passing the result on
 * unchanged can write that text instead of serializing the parsed object again. Only the two layouts servers write
 * are recognised, compact: the TypeScript SDK's `{"result":…,"jsonrpc":"2.0","id":N}` and the Python SDK's
 * `{"jsonrpc":"2.0","id":N,"result":…}`; anything else yields undefined (the result is serialized as usual).
 *
 * What lies between the `result` key and the end is the result's value, unless the line repeats a key: the text
 * is used only when it is one object and nothing more (see isOneObject), so the answer written with it,
 * `{"result":TEXT,"jsonrpc":"2.0","id":…}`, has each key once, as a serialized answer has.
 */
export function resultTextOf(line: string, message: object, id: number): string | undefined {
  // A stdio server's line: its decoder has cut the result already, when the line has one of these layouts.
  const known = resultTextOfLine(line, id);
  if (known !== undefined) return known;
  if (!hasOnlyResponseKeys(message)) return undefined;
  let text: string | undefined;
  if (line.startsWith(RESULT_FIRST)) {
    const tail = `${VERSION_ID}${id}}`;
    if (line.endsWith(tail)) text = line.slice(RESULT_FIRST.length, line.length - tail.length);
  } else {
    const head = `${ID_FIRST}${id}${RESULT_LAST}`;
    if (line.startsWith(head) && line.charCodeAt(line.length - 1) === CLOSE_BRACE) {
      text = line.slice(head.length, line.length - 1);
    }
  }
  return text !== undefined && isOneObject(text) ? text : undefined;
}

/**
 * Whether `text` is one JSON object and nothing after it, with no carriage return. A line that repeats a key
 * (`"result"`, `"id"`) leaves the repeat in the slice: passed on, a client whose parser keeps the first key or
 * refuses repeats would read another answer, so such a text is serialized afresh. A carriage return (JSON allows
 * one as whitespace) would end the line for a client reading lines, and an SSE `data:` line. The scan runs over
 * the text once; the line has been parsed already, so it is valid JSON and only strings need care.
 */
function isOneObject(text: string): boolean {
  if (text.charCodeAt(0) !== OPEN_BRACE) return false;
  let depth = 0;
  let inString = false;
  const last = text.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = text.charCodeAt(i);
    if (c === CARRIAGE_RETURN) return false;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i === last;
    }
  }
  return false;
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const CARRIAGE_RETURN = 0x0d;

/** Exactly `jsonrpc`, `id` and `result` (a `__proto__` or any other member makes the text differ from the object). */
function hasOnlyResponseKeys(message: object): boolean {
  let keys = 0;
  for (const key in message) {
    if (key !== 'result' && key !== 'jsonrpc' && key !== 'id') return false;
    keys++;
  }
  return keys === 3;
}
