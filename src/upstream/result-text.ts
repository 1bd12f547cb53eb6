/**
 * The text of a response's `result` as the server wrote it, cut from its line, so that a relay passing the result on
 * unchanged can write that text instead of serializing the parsed object again. Only the two layouts servers write
 * are recognised, compact: the TypeScript SDK's `{"result":…,"jsonrpc":"2.0","id":N}` and the Python SDK's
 * `{"jsonrpc":"2.0","id":N,"result":…}`; anything else yields undefined (the result is serialized as usual).
 *
 * What lies between the `result` key and the end is the result's value, followed by nothing or by members that
 * repeat a key (the message, parsed, has no other keys). Written as `{"result":TEXT,"jsonrpc":"2.0","id":…}`,
 * such repeats come before the final `jsonrpc` and `id`, so the text parses (last key wins, as JSON.parse reads
 * it) to the very result that was parsed from the line, under the id written last.
 */
export function resultTextOf(line: string, message: object, id: number): string | undefined {
  if (!hasOnlyResponseKeys(message)) return undefined;
  if (line.startsWith(RESULT_FIRST)) {
    const tail = `${TAIL}${id}}`;
    return line.endsWith(tail) ? line.slice(RESULT_FIRST.length, line.length - tail.length) : undefined;
  }
  const head = `${ID_FIRST}${id}${RESULT_LAST}`;
  if (!line.startsWith(head) || line.charCodeAt(line.length - 1) !== CLOSE_BRACE) return undefined;
  return line.slice(head.length, line.length - 1);
}

const RESULT_FIRST = '{"result":';
const TAIL = ',"jsonrpc":"2.0","id":';
const ID_FIRST = '{"jsonrpc":"2.0","id":';
const RESULT_LAST = ',"result":';
const CLOSE_BRACE = 0x7d;

/** Exactly `jsonrpc`, `id` and `result` (a `__proto__` or any other member makes the text differ from the object). */
function hasOnlyResponseKeys(message: object): boolean {
  let keys = 0;
  for (const key in message) {
    if (key !== 'result' && key !== 'jsonrpc' && key !== 'id') return false;
    keys++;
  }
  return keys === 3;
}
