/**
 * Parses JSON that came out of the sandbox. `JSON.parse` itself never calls the `__proto__` setter, but the
 * resulting own `__proto__` property would reach the prototype of anything it is later merged into with
 * `Object.assign` or a plain loop; dropping the key here keeps guest data inert wherever it travels.
 *
 * @example
 * safeJsonParse('{"__proto__":{"polluted":true},"a":1}'); // { a: 1 }
 */
export function safeJsonParse(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key === '__proto__' ? undefined : value));
}

/** A reply for the guest: `{"ok":true,"value":…}`. */
export function okReply(value: unknown): string {
  return JSON.stringify({ ok: true, value: value === undefined ? null : value });
}

/** A reply the guest turns into a thrown error (a ToolError when `name` is 'ToolError'). */
export function errorReply(error: { name: string; message: string; server?: string; tool?: string; code?: string }) {
  return JSON.stringify({ ok: false, error });
}
