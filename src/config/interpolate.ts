import type { PathSegment } from './issues.js';

/** A `${VAR}` with no default whose variable is not set, and where it was used. */
export interface MissingVariable {
  variable: string;
  path: PathSegment[];
}

export interface InterpolateResult {
  value: unknown;
  missing: MissingVariable[];
}

// `$${...}` is an escape for a literal `${...}`; `${NAME}` and `${NAME:-default}` are references. Anything
// else that merely looks similar (`${not a name}`) is left alone rather than guessed at.
const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${VAR}` and `${VAR:-default}` in every string value of a parsed config (keys are left as they
 * are). As in a shell, the default applies when the variable is unset or empty. A variable that is unset
 * with no default is never replaced by an empty string: it is reported with the path of the value, and the
 * reference is left in place so that validation can go on and report the file's other problems too.
 *
 * @example interpolate({ env: { KEY: '${TOKEN:-none}' } }, {}).value // { env: { KEY: 'none' } }
 */
export function interpolate(data: unknown, env: Readonly<Record<string, string | undefined>>): InterpolateResult {
  const missing: MissingVariable[] = [];
  const visit = (node: unknown, path: PathSegment[]): unknown => {
    if (typeof node === 'string') return expandString(node, env, (variable) => missing.push({ variable, path }));
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (typeof node === 'object' && node !== null) {
      // fromEntries defines own properties, so a "__proto__" key stays a key and never becomes a prototype.
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, visit(value, [...path, key])]));
    }
    return node;
  };
  return { value: visit(data, []), missing };
}

/** Expands one string; `onMissing` is called once per unset variable without a default. */
export function expandString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  onMissing: (variable: string) => void,
): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match, escape: string, name: string, fallback: string | undefined) => {
    if (escape === '$') return match.slice(1);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    // Set but empty, with no default: the user chose the empty value explicitly.
    if (value === '') return '';
    onMissing(name);
    return match;
  });
}
