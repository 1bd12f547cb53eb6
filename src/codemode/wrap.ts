import { USER_CODE_FILENAME } from './protocol.js';

/**
 * How user code becomes something the guest can call with `api`. Two accepted shapes:
 * - an async arrow function (`async () => {…}`, `async (api) => …`, `async api => …`) or an anonymous
 *   `async function (api) {…}` expression, which is called with `api`;
 * - anything else is the body of an async function taking `api`.
 * The wrapper prefix sits on the user's first line (so line numbers need no shift) and the suffix on a line
 * of its own (so a trailing `// comment` cannot swallow it); only columns on line 1 need correcting.
 */
export interface WrappedCode {
  source: string;
  /** Characters added before the user's first line. */
  prefixLength: number;
  shape: 'function' | 'body';
}

const FUNCTION_EXPRESSION = /^async\s*(?:\([^)]*\)|[A-Za-z_$][\w$]*)\s*=>|^async\s+function\s*\*?\s*\(/;

/**
 * The ways to compile `code`, most likely first. Compiling only creates a function (nothing runs), so the
 * caller may try the next shape when one is a syntax error, e.g. `async () => {…}; return x` is a body.
 */
export function wrapUserCode(code: string): WrappedCode[] {
  const prefix = '(async function (api) {';
  const body: WrappedCode = { source: `${prefix}${code}\n})`, prefixLength: prefix.length, shape: 'body' };
  // Leading blank lines stay inside the parentheses, so line numbers are unchanged in both shapes.
  if (!FUNCTION_EXPRESSION.test(code.replace(/^[\uFEFF\s]+/, ''))) return [body];
  const fn = code.replace(/[\s;]*$/, '');
  return [{ source: `(${fn}\n)`, prefixLength: 1, shape: 'function' }, body];
}

/** The first `code.js:line:col` frame of a guest stack, mapped back to the user's code. */
export function userPosition(
  stack: string | undefined,
  wrapped: Pick<WrappedCode, 'prefixLength'>,
  codeLineCount: number,
): { line?: number; column?: number } {
  if (!stack) return {};
  const pattern = new RegExp(`${USER_CODE_FILENAME.replace('.', '\\.')}:(\\d+):(\\d+)`, 'g');
  for (const match of stack.matchAll(pattern)) {
    const line = Number(match[1]);
    let column = Number(match[2]);
    if (line === 1) column = Math.max(1, column - wrapped.prefixLength);
    // The closing line belongs to the wrapper: report it as the end of the user's last line.
    return { line: Math.min(line, Math.max(1, codeLineCount)), column };
  }
  return {};
}
