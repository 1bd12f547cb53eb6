/**
 * Deepest nesting of JSON that Code Mode parses or hands on: deeper than any real data, and far below where a
 * recursive parser or serialiser overflows its stack (V8's JSON.parse with a reviver at about 2,900 levels,
 * JSON.stringify a little deeper, Python's json at about 1,000).
 */
export const MAX_JSON_DEPTH = 256;

/** Thrown for JSON nested deeper than MAX_JSON_DEPTH; `code` tells it apart from a syntax error. */
class JsonDepthError extends RangeError {
  readonly code = 'JSON_TOO_DEEP';

  constructor() {
    super(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

export function isJsonDepthError(error: unknown): error is JsonDepthError {
  return (error as { code?: unknown } | null)?.code === 'JSON_TOO_DEEP';
}

/**
 * Parses JSON that came out of the sandbox. `JSON.parse` itself never calls the `__proto__` setter, but the
 * resulting own `__proto__` property would reach the prototype of anything it is later merged into with
 * `Object.assign` or a plain loop; dropping the key here keeps guest data inert wherever it travels. Throws a
 * JsonDepthError for JSON nested deeper than MAX_JSON_DEPTH (JSON.parse itself does not recurse; a reviver would).
 *
 * @example
 * safeJsonParse('{"__proto__":{"polluted":true},"a":1}'); // { a: 1 }
 */
export function safeJsonParse(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!walkJson(value, true)) throw new JsonDepthError();
  return value;
}

/**
 * Whether a parsed value (a tool's result) is nested deeper than MAX_JSON_DEPTH: to be refused before anything
 * serialises it again with a recursive JSON.stringify.
 *
 * @example
 * isNestedTooDeep(JSON.parse('[[[]]]')); // false
 */
export function isNestedTooDeep(value: unknown): boolean {
  return !walkJson(value, false);
}

// False when too deep. Iterative, so that the walk itself cannot overflow the stack however deep the value is.
function walkJson(root: unknown, dropProtoKeys: boolean): boolean {
  if (typeof root !== 'object' || root === null) return true;
  const nodes: object[] = [root];
  const depths: number[] = [1];
  for (let node = nodes.pop(), depth = depths.pop() ?? 0; node; node = nodes.pop(), depth = depths.pop() ?? 0) {
    if (depth > MAX_JSON_DEPTH) return false;
    const record = node as Record<string, unknown>;
    if (dropProtoKeys && Object.hasOwn(record, '__proto__')) delete record['__proto__'];
    for (const key in record) {
      const child = record[key];
      if (typeof child === 'object' && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return true;
}

/** A reply for the guest: `{"ok":true,"value":…}`. */
export function okReply(value: unknown): string {
  return JSON.stringify({ ok: true, value: value === undefined ? null : value });
}

/** A reply the guest turns into a thrown error (a ToolError when `name` is 'ToolError'). */
export function errorReply(error: { name: string; message: string; server?: string; tool?: string; code?: string }) {
  return JSON.stringify({ ok: false, error });
}
