import picomatch from 'picomatch';

export interface ToolFilterRules {
  allow?: string[];
  deny?: string[];
}

/** A predicate over tool names from allow/deny globs: allowed when it matches an allow (or none is given) and no deny. */
export function createToolFilter(rules: ToolFilterRules | undefined): (name: string) => boolean {
  const allow = rules?.allow?.length ? picomatch(rules.allow) : undefined;
  const deny = rules?.deny?.length ? picomatch(rules.deny) : undefined;
  if (!allow && !deny) return () => true;
  return function isToolAllowed(name: string) {
    return (allow === undefined || allow(name)) && (deny === undefined || !deny(name));
  };
}

/**
 * The filter of a namespace or credential, which sees tools of many servers: a pattern without "/" matches a
 * tool's own name on any server (`delete_*`), one with "/" matches `<server>/<tool>` (`postgres/drop_*`).
 *
 * @example createServerToolFilter({ deny: ['db/drop_*'] })('db', 'drop_table') // false
 */
export function createServerToolFilter(rules: ToolFilterRules | undefined): (server: string, tool: string) => boolean {
  const allow = matcher(rules?.allow);
  const deny = matcher(rules?.deny);
  if (!allow && !deny) return () => true;
  return function isServerToolAllowed(server: string, tool: string) {
    return (allow === undefined || allow(server, tool)) && (deny === undefined || !deny(server, tool));
  };
}

function matcher(patterns: string[] | undefined): ((server: string, tool: string) => boolean) | undefined {
  if (!patterns?.length) return undefined;
  const plain = patterns.filter((pattern) => !pattern.includes('/'));
  const qualified = patterns.filter((pattern) => pattern.includes('/'));
  const byName = plain.length > 0 ? picomatch(plain) : () => false;
  const byServer = qualified.length > 0 ? picomatch(qualified) : () => false;
  return (server, tool) => byName(tool) || byServer(`${server}/${tool}`);
}
